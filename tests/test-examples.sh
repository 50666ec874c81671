#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs examples/transcribe.c (built as BUILDDIR/examples/transcribe-example)
# and examples/transcribe.py against the local emulator on
# tests/fixtures/persian-sample.wav, and checks that each prints the script's
# Persian lines, exactly, with times; then does the same with a script that
# has [uncertain] words, and checks the "uncertain:" lines.
#
#   tests/test-examples.sh BUILDDIR
#
# Needs python3-gi and gir1.2-gstreamer-1.0 (python3-gst-1.0 recommended),
# gstreamer1.0-plugins-base (decodebin, audioconvert) and
# gstreamer1.0-plugins-good (wavparse).  Exit 0 = pass.
set -u

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  echo "usage: $0 BUILDDIR" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
srcdir=$(cd "$(dirname "$0")/.." && pwd)

emulator="$build/tests/emulator/persiantranscribe-emulator"
c_example="$build/examples/transcribe-example"
py_example="$srcdir/examples/transcribe.py"
wav="$srcdir/tests/fixtures/persian-sample.wav"
script="$srcdir/tests/fixtures/persian-sample.txt"

failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
die() { echo "FAIL: $*"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-examples.XXXXXX") || die "mktemp"
emu_pid=
stop_emulator() {
  if [ -n "$emu_pid" ]; then
    kill "$emu_pid" 2>/dev/null
    wait "$emu_pid" 2>/dev/null
    emu_pid=
  fi
  exec 3<&- 2>/dev/null
}
trap 'stop_emulator; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

export GST_PLUGIN_PATH="$build/gst"
export GST_REGISTRY="$tmp/registry.bin"
unset GST_DEBUG

# --- what the test needs -------------------------------------------------
echo "checking: emulator, C example, Python with GObject introspection"
[ -x "$emulator" ] || die "no emulator at $emulator (build the tests)"
[ -x "$c_example" ] || die "no C example at $c_example (examples/meson.build: subdir('examples') in meson.build, then ninja)"
[ -f "$py_example" ] || die "no $py_example"

# The first interpreter that has gi and the GStreamer typelib (a pyenv or
# venv python3 on PATH usually has neither; /usr/bin/python3 has them once
# python3-gi is installed).
python=
for p in ${PYTHON:-} python3 /usr/bin/python3; do
  if "$p" -c 'import gi; gi.require_version("Gst", "1.0"); from gi.repository import Gst' 2>/dev/null; then
    python=$p
    break
  fi
done
[ -n "$python" ] || die "no python3 with PyGObject and GStreamer 1.0 introspection: apt-get install python3-gi gir1.2-gstreamer-1.0 python3-gst-1.0"
if "$python" -c '
import gi; gi.require_version("Gst", "1.0"); from gi.repository import Gst; Gst.init(None)
s = Gst.Structure.from_string("t, a=(int)<1>")[0]
s.get_value("a")' 2>/dev/null; then
  echo "using $python (with the python3-gst-1.0 overrides)"
else
  echo "using $python (without python3-gst-1.0: the example reads words with get_array)"
fi

# --- emulator ----------------------------------------------------------------
token="test-examples-$$-$RANDOM"
url=
start_emulator() {  # $1: script file
  stop_emulator
  url=
  mkfifo "$tmp/emu.fifo" || die "mkfifo"
  EMULATOR_TOKEN="$token" "$emulator" --port 0 --script "$1" >"$tmp/emu.fifo" 2>"$tmp/emu.err" &
  emu_pid=$!
  exec 3<"$tmp/emu.fifo"
  rm -f "$tmp/emu.fifo"
  # It prints PORT=<n> and HARF_LIVE_URL=<url> once it listens.  Each read is
  # bounded; EOF (the emulator died) ends the loop at once.
  local line
  while IFS= read -r -t 10 -u 3 line; do
    case $line in
      HARF_LIVE_URL=*) url=${line#HARF_LIVE_URL=}; break ;;
    esac
  done
  [ -n "$url" ] || { cat "$tmp/emu.err"; die "the emulator did not print HARF_LIVE_URL"; }
  echo "emulator (pid $emu_pid) at $url"
}

# --- checks ------------------------------------------------------------------
time_re='[0-9]+:[0-5][0-9]:[0-5][0-9]\.[0-9]{3}'

# check_output NAME OUTFILE EXPECTED_TEXT_FILE [EXPECTED_UNCERTAIN_FILE]
check_output() {
  local name=$1 out=$2 expected=$3 uncertain=${4:-}
  # every transcript line is "[H:MM:SS.mmm -> H:MM:SS.mmm] text"
  grep -E "^\[$time_re -> $time_re\] " "$out" | sed -E "s/^\[$time_re -> $time_re\] //" >"$out.text"
  if diff -u "$expected" "$out.text" >"$out.diff"; then
    pass "$name printed the $(wc -l <"$expected") expected lines, byte for byte"
  else
    fail "$name text differs from $expected:"; cat "$out.diff"
  fi
  # times: start < end, and starts increase
  if grep -E "^\[$time_re -> $time_re\] " "$out" | sed -E 's/^\[([0-9:.]+) -> ([0-9:.]+)\].*/\1 \2/' |
      awk 'function ms(t, a) { split(t, a, /[:.]/); return ((a[1] * 60 + a[2]) * 60 + a[3]) * 1000 + a[4] }
           { s = ms($1); e = ms($2); if (!(s < e) || s < last) bad = 1; last = s; n++ }
           END { exit (bad || n == 0) }'; then
    pass "$name times are in order (start < end, rising starts)"
  else
    fail "$name times are out of order:"; cat "$out"
  fi
  if [ -n "$uncertain" ]; then
    grep -E '^  uncertain: ' "$out" | sed -E 's/^  uncertain: //' >"$out.unc"
    if diff -u "$uncertain" "$out.unc" >"$out.diff"; then
      pass "$name listed the uncertain words"
    else
      fail "$name uncertain words differ:"; cat "$out.diff"
    fi
  fi
}

# run_example NAME OUTFILE COMMAND...: exit status 0, no error or warning
# message (other stderr output, e.g. from a registry scan, is only shown)
run_example() {
  local name=$1 out=$2; shift 2
  echo "running: $name"
  HARF_TOKEN="$token" timeout 60 "$@" "$wav" "$url" >"$out" 2>"$out.err"
  local rc=$?
  if [ $rc -eq 0 ]; then
    pass "$name exited with 0"
  else
    fail "$name exited with $rc"; cat "$out" "$out.err"
  fi
  if grep -qE '^(error|warning) from ' "$out.err"; then
    fail "$name reported:"; cat "$out.err"
  elif [ -s "$out.err" ]; then
    echo "note: $name wrote to stderr:"; cat "$out.err"
  fi
}

# 1. The fixture and its script.
grep -v '^[[:space:]]*$' "$script" | tr -d '\r' >"$tmp/expected.txt"
start_emulator "$script"
run_example "C example" "$tmp/c.out" "$c_example"
check_output "C example" "$tmp/c.out" "$tmp/expected.txt"
run_example "Python example" "$tmp/py.out" "$python" "$py_example"
check_output "Python example" "$tmp/py.out" "$tmp/expected.txt"
if cmp -s "$tmp/c.out" "$tmp/py.out"; then
  pass "the C and Python examples printed the same output"
else
  fail "the C and Python outputs differ:"; diff -u "$tmp/c.out" "$tmp/py.out"
fi

# 2. Uncertain words: Harf puts them in [brackets]; the text loses the
#    brackets and the words array marks them.
cat >"$tmp/uncertain-script.txt" <<'EOF'
سخن را سر از [ای] خردمند و بن
خداوند تدبیر و فرهنگ و [روش] نگوید سخن
[تا نبیند] خموش
EOF
cat >"$tmp/uncertain-text.txt" <<'EOF'
سخن را سر از ای خردمند و بن
خداوند تدبیر و فرهنگ و روش نگوید سخن
تا نبیند خموش
EOF
cat >"$tmp/uncertain-words.txt" <<'EOF'
ای
روش
تا نبیند
EOF
start_emulator "$tmp/uncertain-script.txt"
run_example "C example (uncertain words)" "$tmp/c2.out" "$c_example"
check_output "C example (uncertain words)" "$tmp/c2.out" "$tmp/uncertain-text.txt" "$tmp/uncertain-words.txt"
run_example "Python example (uncertain words)" "$tmp/py2.out" "$python" "$py_example"
check_output "Python example (uncertain words)" "$tmp/py2.out" "$tmp/uncertain-text.txt" "$tmp/uncertain-words.txt"

# 3. A rejected token: exit status 1 and the element's message.
echo "running: C and Python examples with a wrong token"
for ex in "$c_example" "$python $py_example"; do
  # shellcheck disable=SC2086
  HARF_TOKEN=wrong timeout 60 $ex "$wav" "$url" >"$tmp/bad.out" 2>"$tmp/bad.err"
  rc=$?
  if [ $rc -eq 1 ] && grep -q 'rejected the token' "$tmp/bad.err" &&
      grep -q 'gst-resource-error-quark 15' "$tmp/bad.err"; then
    pass "$ex: wrong token gives exit 1 and RESOURCE NOT_AUTHORIZED"
  else
    fail "$ex: wrong token gave exit $rc:"; cat "$tmp/bad.out" "$tmp/bad.err"
  fi
done

stop_emulator
if [ $failures -ne 0 ]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "all checks passed"
exit 0
