#!/usr/bin/env bash
# Tests the persian-transcribe command (tools/persian-transcribe.cpp) against
# the local emulator on tests/fixtures/persian-sample.wav:
#   - every output format (srt, vtt, json, txt), chosen by OUTPUT's extension
#     and by --format, and txt on standard output by default; each is parsed
#     and its text compared with the emulator's script;
#   - the documented exit status of every failure: missing file (3),
#     unplayable file (4), rejected token (5), no token (5), unreachable
#     server (6), bad format (2), backend not available (2), --help (0);
#   - a failed run leaves neither OUTPUT nor OUTPUT.tmp;
#   - no GStreamer CRITICAL or assertion on stderr, and the token appears in
#     no output.
#
#   tests/test-cli.sh BUILDDIR
#
# Needs python3 (to parse SRT, VTT and JSON), gstreamer1.0-plugins-base and
# -good (uridecodebin, wavparse).  Prints PASS/FAIL per check; exit 0 = all pass.
set -u

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
  echo "usage: $0 BUILDDIR" >&2
  exit 2
fi
build=$(cd "$1" && pwd)
srcdir=$(cd "$(dirname "$0")/.." && pwd)

tool="$build/tools/persian-transcribe"
emulator="$build/tests/emulator/persiantranscribe-emulator"
wav="$srcdir/tests/fixtures/persian-sample.wav"
script="$srcdir/tests/fixtures/persian-sample.txt"
python=${PYTHON:-python3}

failures=0
checks=0
pass() { checks=$((checks + 1)); echo "PASS: $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }
die() { echo "FAIL: $*"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test-cli.XXXXXX") || die "mktemp"
emu_pids=()
cleanup() {
  local p
  for p in "${emu_pids[@]}"; do
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export GST_PLUGIN_PATH="$build/gst"
export GST_REGISTRY="$tmp/registry.bin"
unset GST_DEBUG HARF_TOKEN

echo "checking: tool, emulator, fixture, python3"
[ -x "$tool" ] || die "no tool at $tool (build it: ninja -C $build)"
[ -x "$emulator" ] || die "no emulator at $emulator (build the tests)"
[ -f "$wav" ] && [ -f "$script" ] || die "no fixture $wav / $script"
"$python" -c 'import json, re, sys' 2>/dev/null || die "no python3 ($python)"

token="test-cli-secret-$$-$RANDOM"

# start_emulator VAR ARGS...: starts an emulator, stores its URL in VAR.
# It prints PORT=<n> then HARF_LIVE_URL=<url> once it listens; each read is
# bounded, and EOF (the emulator died) ends the loop at once.
start_emulator() {
  local _var=$1 _n=${#emu_pids[@]}
  shift
  local _fifo="$tmp/emu$_n.fifo" _url='' _port='' _line _fd
  mkfifo "$_fifo" || die "mkfifo"
  "$emulator" --port 0 "$@" >"$_fifo" 2>"$tmp/emu$_n.err" &
  emu_pids+=($!)
  exec {_fd}<"$_fifo"
  rm -f "$_fifo"
  while IFS= read -r -t 10 -u "$_fd" _line; do
    case $_line in
      PORT=*) _port=${_line#PORT=} ;;
      HARF_LIVE_URL=*) _url=${_line#HARF_LIVE_URL=}; break ;;
    esac
  done
  exec {_fd}<&-
  [ -n "$_port" ] && [ -n "$_url" ] || { cat "$tmp/emu$_n.err"; die "the emulator did not print PORT and HARF_LIVE_URL"; }
  printf -v "$_var" '%s' "$_url"
  echo "emulator (pid ${emu_pids[-1]}) listening on port $_port"
}

# run NAME EXPECTED_STATUS ARGS...: runs the tool (HARF_TOKEN=$token unless
# the caller's environment says otherwise) with stdout in $tmp/NAME.out and
# stderr in $tmp/NAME.err, and checks the exit status.
run() {
  local name=$1 expected=$2
  shift 2
  timeout 60 "$tool" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
  local rc=$?
  if [ "$rc" -eq "$expected" ]; then
    pass "$name: exit status $rc"
  else
    fail "$name: exit status $rc, expected $expected"
    sed 's/^/    stderr: /' "$tmp/$name.err"
  fi
  if [ "$expected" -ne 0 ]; then
    # one clear line on stderr
    local lines
    lines=$(grep -c '' "$tmp/$name.err")
    if [ "$lines" -eq 1 ] && grep -q '^persian-transcribe: error: ' "$tmp/$name.err"; then
      pass "$name: one error line: $(cat "$tmp/$name.err")"
    else
      fail "$name: expected one 'persian-transcribe: error:' line on stderr, got:"
      sed 's/^/    stderr: /' "$tmp/$name.err"
    fi
  fi
}

url='' reject_url=''
start_emulator url --token "$token" --script "$script"
start_emulator reject_url --token "$token" --reject-token

# A port nothing listens on: bind one, then close it.
closed_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
dead_url="ws://127.0.0.1:$closed_port/ws_api/transcribe_files/wav/sync/"

export HARF_TOKEN="$token"

# --- 1. every format, by extension and by --format ---------------------------
for fmt in srt vtt json txt; do
  run "ext-$fmt" 0 --harf-url "$url" "$wav" -o "$tmp/out.$fmt"
  if [ -s "$tmp/out.$fmt" ] && [ ! -e "$tmp/out.$fmt.tmp" ]; then
    pass "ext-$fmt: wrote $tmp/out.$fmt (and no .tmp left)"
  else
    fail "ext-$fmt: no $tmp/out.$fmt, or a .tmp left"
  fi
  [ -s "$tmp/ext-$fmt.out" ] && fail "ext-$fmt: wrote to stdout with -o"
  run "flag-$fmt" 0 --harf-url "$url" --format "$fmt" "$wav"
  if cmp -s "$tmp/out.$fmt" "$tmp/flag-$fmt.out"; then
    pass "flag-$fmt: --format $fmt on stdout equals the .$fmt file"
  else
    fail "flag-$fmt: --format $fmt on stdout differs from the .$fmt file"
    diff -u "$tmp/out.$fmt" "$tmp/flag-$fmt.out" | head -20
  fi
done
# --format wins over the extension
run "flag-over-ext" 0 --harf-url "$url" --format srt -q "$wav" -o "$tmp/forced.txt"
cmp -s "$tmp/out.srt" "$tmp/forced.txt" && pass "flag-over-ext: --format srt -o x.txt writes SRT" ||
  fail "flag-over-ext: --format srt -o x.txt did not write SRT"
# txt on stdout by default
run "default-txt" 0 --harf-url "$url" "$wav"
cmp -s "$tmp/out.txt" "$tmp/default-txt.out" && pass "default-txt: no -o and no --format prints txt" ||
  fail "default-txt: the default output is not the txt format"

# --- 2. parse and compare with the script --------------------------------------
# check_py NAME CHECKER ARGS...: runs a checker below; it prints a summary or
# exits non-zero with the problem.
check_py() {
  local name=$1 checker=$2 out
  shift 2
  if out=$("$python" "$tmp/$checker" "$@" 2>&1); then
    pass "$name: $out"
  else
    fail "$name:"; echo "$out" | sed 's/^/    /'
  fi
}

cat >"$tmp/check_subtitles.py" <<'PY'
# check_subtitles.py srt|vtt FILE SCRIPT
import re, sys
kind, path, script = sys.argv[1:4]
expected = [l.strip() for l in open(script, encoding="utf-8") if l.strip()]
data = open(path, encoding="utf-8").read()
sep = "," if kind == "srt" else "."
t = r"(\d\d):(\d\d):(\d\d)" + re.escape(sep) + r"(\d\d\d)"
if kind == "vtt":
    if not data.startswith("WEBVTT"):
        sys.exit("does not start with WEBVTT")
    data = data.split("\n", 1)[1]
blocks = [b for b in re.split(r"\n[ \t]*\n", data.strip("\n")) if b.strip()]
def ms(m, i):
    h, mi, s, f = (int(m.group(i + k)) for k in range(4))
    return ((h * 60 + mi) * 60 + s) * 1000 + f
cues = []
for n, b in enumerate(blocks, 1):
    lines = b.split("\n")
    if kind == "srt":
        if lines[0] != str(n):
            sys.exit("cue %d: index line %r" % (n, lines[0]))
        lines = lines[1:]
    m = re.fullmatch(t + " --> " + t, lines[0])
    if not m:
        sys.exit("cue %d: bad time line %r" % (n, lines[0]))
    if len(lines) < 2 or not all(l.strip() for l in lines[1:]):
        sys.exit("cue %d: no text" % n)
    # the element may break a long line in two: compare joined with a space
    cues.append((ms(m, 1), ms(m, 5), " ".join(lines[1:])))
if [c[2] for c in cues] != expected:
    sys.exit("texts %r != script %r" % ([c[2] for c in cues], expected))
last_end = -1
for s, e, _ in cues:
    if not s < e:
        sys.exit("cue %d..%d ms: start not before end" % (s, e))
    if s < last_end:
        sys.exit("cue at %d ms overlaps the previous one (ends at %d ms)" % (s, last_end))
    last_end = e
print("%d cues, texts equal the script, times increase without overlap" % len(cues))
PY

cat >"$tmp/check_json.py" <<'PY'
# check_json.py FILE SCRIPT
import json, sys
path, script = sys.argv[1:3]
raw = open(path, encoding="utf-8").read()
doc = json.loads(raw)
expected = [l.strip() for l in open(script, encoding="utf-8") if l.strip()]
assert "\\u06" not in raw, "Persian is escaped"
assert doc["backend"] == "harf-live", doc["backend"]
assert doc["input"].startswith("file://") and doc["input"].endswith("persian-sample.wav"), doc["input"]
segs = doc["segments"]
assert [s["text"] for s in segs] == expected, [s["text"] for s in segs]
last = -1
for s in segs:
    for k in ("start", "end"):
        assert isinstance(s[k], float) and isinstance(s[k + "_ns"], int), (k, s[k])
        assert abs(s[k] - s[k + "_ns"] / 1e9) < 1e-6, k
    assert s["start"] < s["end"] and s["start"] >= last, (s["start"], s["end"])
    last = s["end"]
    assert s["words"], "no words"
    assert " ".join(w["text"] for w in s["words"]) == s["text"], "words do not make the text"
    for w in s["words"]:
        for k in ("start", "end", "start_ns", "end_ns", "confidence", "uncertain"):
            assert k in w, "word without " + k
        assert isinstance(w["uncertain"], bool)
print("%d segments, texts equal the script, times and words present, Persian unescaped" % len(segs))
PY

check_py "srt parses" check_subtitles.py srt "$tmp/out.srt" "$script"
check_py "vtt parses" check_subtitles.py vtt "$tmp/out.vtt" "$script"
check_py "json parses" check_json.py "$tmp/out.json" "$script"

if diff -u <(grep -v '^[[:space:]]*$' "$script" | tr -d '\r') "$tmp/out.txt" >"$tmp/txt.diff"; then
  pass "txt: the 3 script lines, byte for byte"
else
  fail "txt differs from the script:"; cat "$tmp/txt.diff"
fi

# --- 3. exit status of each failure --------------------------------------------
echo "not audio at all" >"$tmp/text-renamed.wav"
run "missing-file" 3 --harf-url "$url" "$tmp/no-such-file.wav" -o "$tmp/missing.srt"
run "unplayable-file" 4 --harf-url "$url" "$tmp/text-renamed.wav" -o "$tmp/unplayable.srt"
run "rejected-token" 5 --harf-url "$reject_url" "$wav" -o "$tmp/rejected.srt"
run "unreachable-server" 6 --harf-url "$dead_url" "$wav" -o "$tmp/unreachable.srt"
HARF_TOKEN='' run "no-token" 5 --harf-url "$url" "$wav" -o "$tmp/notoken.srt"
run "bad-format" 2 --harf-url "$url" --format xml "$wav"
run "bad-extension" 2 --harf-url "$url" "$wav" -o "$tmp/out.xml"
run "unknown-backend" 2 --harf-url "$url" --backend whisper "$wav"
if grep -q "unknown backend" "$tmp/unknown-backend.err"; then
  pass "unknown-backend: names the backends there are"
else
  fail "unknown-backend: message does not say so"
fi
run "bad-option" 2 --no-such-option "$wav"
run "out-of-range" 2 --harf-url "$url" --window-duration 1 "$wav"
run "help" 0 --help
grep -q "Exit status" "$tmp/help.out" && pass "help: lists the exit status" || fail "help: no exit status in --help"

for f in missing unplayable rejected unreachable notoken; do
  if [ -e "$tmp/$f.srt" ] || [ -e "$tmp/$f.srt.tmp" ]; then
    fail "$f: a failed run left $tmp/$f.srt or its .tmp"
  else
    pass "$f: a failed run left no output file"
  fi
done

# --- 4. progress: only on a terminal -------------------------------------------
if [ -s "$tmp/ext-srt.err" ] || [ -s "$tmp/default-txt.err" ]; then
  fail "progress: something on stderr although it is not a terminal:"; cat "$tmp/ext-srt.err"
else
  pass "progress: nothing on stderr when it is not a terminal"
fi
# script(1) gives the tool a terminal; bounded by timeout like every run.
if command -v script >/dev/null 2>&1 && script -qec true /dev/null >/dev/null 2>&1; then
  HARF_TOKEN="$token" timeout 60 script -qec \
    "'$tool' --harf-url '$url' '$wav' -o '$tmp/tty.srt'" "$tmp/tty.log" >/dev/null 2>&1
  if grep -q $'\r\\[#*\\] 100%' "$tmp/tty.log" && tr -d '\r' <"$tmp/tty.log" | grep -q 'real time'; then
    pass "progress: a bar redrawn with \\r, 100% at the end, speed shown, on a terminal"
  else
    fail "progress: no bar on a terminal:"; cat -v "$tmp/tty.log" | head -5
  fi
  HARF_TOKEN="$token" timeout 60 script -qec \
    "'$tool' --quiet --harf-url '$url' '$wav' -o '$tmp/tty-quiet.srt'" "$tmp/tty-quiet.log" >/dev/null 2>&1
  if grep -q '%' "$tmp/tty-quiet.log"; then
    fail "progress: --quiet still drew the bar"
  else
    pass "progress: --quiet draws no bar"
  fi
else
  echo "SKIP: progress on a terminal (no script(1))"
fi

# --- 5. nothing GStreamer-internal on stderr, and no token anywhere -----------
if grep -lE 'CRITICAL|assertion' "$tmp"/*.err; then
  fail "CRITICAL or assertion on stderr (files above)"
else
  pass "no CRITICAL or assertion on any stderr"
fi
if grep -rlF --exclude='emu*.err' -- "$token" "$tmp"; then
  fail "the token appears in the files above"
else
  pass "the token appears in no output or message"
fi

echo
if [ "$failures" -eq 0 ]; then
  echo "all $checks checks passed"
  exit 0
fi
echo "$failures of $checks checks failed"
exit 1
