#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Tests the persian-transcribe command (tools/persian-transcribe.cpp) against
# the local emulator on tests/fixtures/persian-sample.wav:
#   - every output format (srt, vtt, json, txt), chosen by OUTPUT's extension
#     and by --format, and txt on standard output by default; each is parsed
#     and its text compared with the emulator's script;
#   - the documented exit status of every failure: missing file (3),
#     unplayable file (4), rejected token (5), no token (5), unreachable
#     server (6), bad format (2), unknown backend (2), --help (0);
#   - a failed run leaves neither OUTPUT nor OUTPUT.tmp;
#   - OUTPUT is written safely: a link planted at OUTPUT.tmp is neither
#     followed nor replaced; a new file's mode honours the umask, a replaced
#     one keeps its mode; a symbolic link's target is replaced and the link
#     stays (a dangling link is an error); a FIFO is written in place for its
#     reader; a full device (/dev/full, after a private mknod copy) gives a
#     clear error and stays a device; a missing or read-only directory and a
#     directory as OUTPUT are errors naming the path;
#   - the batch backends: harf-file (wait=true and --no-harf-wait) and nevisa
#     (login from NEVISA_USERNAME/NEVISA_PASSWORD, or a static auth token and
#     API key) in every format; nevisa's JSON words carry times and
#     confidences; which file is uploaded (from the element's log,
#     GST_DEBUG=persiantranscribe-batch:4): the .wav, an .ogg made from it and
#     an upper-case .WAV as they are, an .mkv (and a .wav with --decode) as a
#     temporary persiantranscribe-XXXXXX.wav recording, removed afterwards;
#     their exit statuses: no credentials (5), no Nevisa package (5), HTTP 401
#     (5), service FAILURE/TIMEOUT (1), batch-timeout (6); the upload and
#     polling progress on a terminal;
#   - '-' reads standard input; --format vtt --words tags each word with its
#     time; Ctrl-C writes the cues so far only with --keep-partial; the
#     progress line fits an 80-column terminal;
#   - no GStreamer CRITICAL or assertion on stderr, and neither the token nor
#     the Nevisa password appears in any output or log.
#
#   tests/test-cli.sh BUILDDIR
#
# Needs python3 (to parse SRT, VTT and JSON), gstreamer1.0-plugins-base and
# -good (uridecodebin, wavparse; vorbisenc, oggmux and matroskamux to make the
# .ogg and .mkv inputs, skipped without them).  Prints PASS/FAIL per check;
# exit 0 = all pass.
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
unset GST_DEBUG GST_DEBUG_FILE HARF_TOKEN NEVISA_USERNAME NEVISA_PASSWORD NEVISA_AUTH_TOKEN NEVISA_API_KEY

echo "checking: tool, emulator, fixture, python3"
[ -x "$tool" ] || die "no tool at $tool (build it: ninja -C $build)"
[ -x "$emulator" ] || die "no emulator at $emulator (build the tests)"
[ -f "$wav" ] && [ -f "$script" ] || die "no fixture $wav / $script"
"$python" -c 'import json, re, sys' 2>/dev/null || die "no python3 ($python)"

token="test-cli-secret-$$-$RANDOM"
nevisa_user="test-cli-user"
nevisa_password="test-cli-password-$$-$RANDOM"

# start_emulator VAR ARGS...: starts an emulator and stores its URLs: the
# live WebSocket in VAR, Harf's file API in VAR_api, Nevisa's login in
# VAR_login and Nevisa's API in VAR_nevisa.  It prints PORT=<n>,
# HARF_LIVE_URL=, HARF_API_URL=, NEVISA_LOGIN_URL= and NEVISA_API_URL= once
# it listens; each read is bounded, and EOF (the emulator died) ends the loop.
start_emulator() {
  local _var=$1 _n=${#emu_pids[@]}
  shift
  local _fifo="$tmp/emu$_n.fifo" _url='' _port='' _api='' _login='' _nevisa='' _line _fd
  mkfifo "$_fifo" || die "mkfifo"
  "$emulator" --port 0 "$@" >"$_fifo" 2>"$tmp/emu$_n.err" &
  emu_pids+=($!)
  exec {_fd}<"$_fifo"
  rm -f "$_fifo"
  while IFS= read -r -t 10 -u "$_fd" _line; do
    case $_line in
      PORT=*) _port=${_line#PORT=} ;;
      HARF_LIVE_URL=*) _url=${_line#HARF_LIVE_URL=} ;;
      HARF_API_URL=*) _api=${_line#HARF_API_URL=} ;;
      NEVISA_LOGIN_URL=*) _login=${_line#NEVISA_LOGIN_URL=} ;;
      NEVISA_API_URL=*) _nevisa=${_line#NEVISA_API_URL=} ;;
    esac
    [ -n "$_port" ] && [ -n "$_url" ] && [ -n "$_api" ] && [ -n "$_login" ] && [ -n "$_nevisa" ] && break
  done
  exec {_fd}<&-
  [ -n "$_port" ] && [ -n "$_url" ] && [ -n "$_api" ] && [ -n "$_login" ] && [ -n "$_nevisa" ] || {
    cat "$tmp/emu$_n.err"
    die "the emulator did not print PORT, HARF_LIVE_URL, HARF_API_URL, NEVISA_LOGIN_URL and NEVISA_API_URL"
  }
  printf -v "$_var" '%s' "$_url"
  printf -v "${_var}_api" '%s' "$_api"
  printf -v "${_var}_login" '%s' "$_login"
  printf -v "${_var}_nevisa" '%s' "$_nevisa"
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
# The Nevisa password reaches the emulator through its environment, not its
# command line.
EMULATOR_NEVISA_PASSWORD="$nevisa_password" start_emulator url --token "$token" --script "$script" \
  --nevisa-user "$nevisa_user"
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
    # every text line between two RIGHT-TO-LEFT MARKs (U+200F), unless
    # --no-rtl-marks (a fourth argument "none")
    marks = len(sys.argv) < 5 or sys.argv[4] != "none"
    for l in lines[1:]:
        if marks and not (len(l) > 2 and l[0] == l[-1] == "\u200f"):
            sys.exit("cue %d: line %r is not between two RLMs" % (n, l))
        if not marks and "\u200f" in l:
            sys.exit("cue %d: an RLM in %r with --no-rtl-marks" % (n, l))
    # the element may break a long line in two: compare joined with a space
    cues.append((ms(m, 1), ms(m, 5), " ".join(l.strip("\u200f") for l in lines[1:])))
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
# check_json.py FILE SCRIPT [BACKEND]
#   BACKEND (default harf-live) must be the one named in the JSON; nevisa
#   words must have times inside their segment and confidences; harf-file
#   must give total_words and known_words.
import json, sys
path, script = sys.argv[1:3]
backend = sys.argv[3] if len(sys.argv) > 3 else "harf-live"
raw = open(path, encoding="utf-8").read()
doc = json.loads(raw)
expected = [l.strip() for l in open(script, encoding="utf-8") if l.strip()]
assert "\\u06" not in raw, "Persian is escaped"
assert doc["backend"] == backend, doc["backend"]
assert doc["input"].startswith("file://") and doc["input"].endswith("persian-sample.wav"), doc["input"]
assert isinstance(doc["duration_ns"], int) and doc["duration_ns"] > 0, doc["duration_ns"]
extra = ""
if backend == "harf-file":
    assert isinstance(doc.get("total_words"), int) and isinstance(doc.get("known_words"), int), \
        "no total_words/known_words"
    extra = ", total_words %d, known_words %d" % (doc["total_words"], doc["known_words"])
else:
    assert "total_words" not in doc and "known_words" not in doc, "total_words without harf-file"
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
        if backend == "nevisa":
            c = w["confidence"]
            assert isinstance(c, float) and 0 <= c <= 1, ("confidence", w)
            assert isinstance(w["start_ns"], int) and isinstance(w["end_ns"], int), ("word times", w)
            assert s["start_ns"] <= w["start_ns"] <= w["end_ns"] <= s["end_ns"], ("word outside its segment", w)
if backend == "nevisa":
    extra = ", every word with times and a confidence"
print("%d segments, texts equal the script, times and words present, Persian unescaped%s" % (len(segs), extra))
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

# --- 5. batch backends: harf-file and nevisa ----------------------------------
# Each run uploads the fixture to the emulator and polls it every 100 ms or so.
hf=(--backend harf-file --harf-api-url "$url_api" --poll-interval 100)
nv=(--backend nevisa --nevisa-login-url "$url_login" --nevisa-api-url "$url_nevisa" --poll-interval 100)
# nevisa_run NAME STATUS ARGS...: run with the Nevisa login in the environment.
nevisa_run() { NEVISA_USERNAME="$nevisa_user" NEVISA_PASSWORD="$nevisa_password" run "$@"; }

# check_batch_formats PREFIX BACKEND RUNNER ARGS...: every format by extension,
# each parsed and compared with the script.
check_batch_formats() {
  local prefix=$1 backend=$2 runner=$3 fmt
  shift 3
  for fmt in srt vtt json txt; do
    "$runner" "$prefix-$fmt" 0 "$@" "$wav" -o "$tmp/$prefix.$fmt"
  done
  check_py "$prefix srt" check_subtitles.py srt "$tmp/$prefix.srt" "$script"
  check_py "$prefix vtt" check_subtitles.py vtt "$tmp/$prefix.vtt" "$script"
  check_py "$prefix json" check_json.py "$tmp/$prefix.json" "$script" "$backend"
  if diff -u <(grep -v '^[[:space:]]*$' "$script" | tr -d '\r') "$tmp/$prefix.txt" >"$tmp/$prefix-txt.diff"; then
    pass "$prefix txt: the script lines, byte for byte"
  else
    fail "$prefix txt differs from the script:"; cat "$tmp/$prefix-txt.diff"
  fi
}
check_batch_formats harf-file harf-file run "${hf[@]}"
check_batch_formats harf-nowait harf-file run "${hf[@]}" --no-harf-wait
check_batch_formats nevisa nevisa nevisa_run "${nv[@]}"
# --format on standard output, and the static auth token and API key (no login)
NEVISA_AUTH_TOKEN=nevisa-static-token NEVISA_API_KEY=nevisa-static-key \
  run "nevisa-static-token" 0 "${nv[@]}" --format json "$wav"
check_py "nevisa-static-token json" check_json.py "$tmp/nevisa-static-token.out" "$script" nevisa
stderr_files=()
for f in harf-file harf-nowait nevisa; do
  for fmt in srt vtt json txt; do stderr_files+=("$tmp/$f-$fmt.err"); done
done
if [ -z "$(cat "${stderr_files[@]}" "$tmp/nevisa-static-token.err")" ]; then
  pass "batch: nothing on stderr when it is not a terminal"
else
  fail "batch: something on stderr although it is not a terminal:"; cat "${stderr_files[@]}" | head -5
fi

# Which file is uploaded, from the element's log.  The temporary recording is
# made in TMPDIR, so it must be gone afterwards.
# upload_run NAME RUNNER ARGS...: runs with the batch log in $tmp/NAME.gstlog
# and TMPDIR=$tmp/NAME.tmpdir; prints the path after "uploading ".
upload_run() {
  local name=$1 runner=$2
  shift 2
  mkdir -p "$tmp/$name.tmpdir"
  TMPDIR="$tmp/$name.tmpdir" GST_DEBUG=persiantranscribe-batch:4 GST_DEBUG_NO_COLOR=1 \
    GST_DEBUG_FILE="$tmp/$name.gstlog" "$runner" "$name" 0 "$@"
}
uploaded() { sed -n 's/.* uploading \(.*\) to http.*/\1/p' "$tmp/$1.gstlog" | head -1; }
# expect_as_is NAME PATH / expect_recording NAME
expect_as_is() {
  local got
  got=$(uploaded "$1")
  if [ "$got" = "$2" ]; then
    pass "$1: uploaded $2 as it is"
  else
    fail "$1: uploaded '$got', expected $2 itself"; grep -E 'uploading|recording' "$tmp/$1.gstlog" | head -3
  fi
}
expect_recording() {
  local got
  got=$(uploaded "$1")
  case $got in
    "$tmp/$1.tmpdir"/persiantranscribe-??????.wav) pass "$1: uploaded a recording, $got" ;;
    *) fail "$1: uploaded '$got', expected a recording $tmp/$1.tmpdir/persiantranscribe-XXXXXX.wav"
       grep -E 'uploading|recording' "$tmp/$1.gstlog" | head -3 ;;
  esac
  if [ -z "$(ls -A "$tmp/$1.tmpdir")" ]; then
    pass "$1: the recording was removed"
  else
    fail "$1: left $(ls "$tmp/$1.tmpdir")"
  fi
}

upload_run "upload-wav-nevisa" nevisa_run "${nv[@]}" "$wav" -o "$tmp/upload-wav-nevisa.txt"
expect_as_is "upload-wav-nevisa" "$wav"
upload_run "upload-wav-harf" run "${hf[@]}" "$wav" -o "$tmp/upload-wav-harf.txt"
expect_as_is "upload-wav-harf" "$wav"
cp "$wav" "$tmp/UPPER.WAV"
upload_run "upload-upper-case" run "${hf[@]}" "$tmp/UPPER.WAV" -o "$tmp/upload-upper-case.txt"
expect_as_is "upload-upper-case" "$tmp/UPPER.WAV"
upload_run "upload-decode" nevisa_run "${nv[@]}" --decode "$wav" -o "$tmp/upload-decode.txt"
expect_recording "upload-decode"
if cmp -s "$tmp/nevisa.txt" "$tmp/upload-decode.txt"; then
  pass "upload-decode: the same text as the .wav uploaded as it is"
else
  fail "upload-decode: the text differs from the .wav uploaded as it is"
fi
# --skip-silence: the .wav is decoded and recorded without the inside of its
# long pause (not uploaded as it is), and the subtitles are the same, times
# included, as when all of it is uploaded.
recorded() { sed -n 's/.* recorded \([0-9]*\) bytes of PCM.*/\1/p' "$tmp/$1.gstlog" | head -1; }
upload_run "upload-decode-srt" nevisa_run "${nv[@]}" --decode "$wav" -o "$tmp/upload-decode-srt.srt"
upload_run "upload-skip-silence" nevisa_run "${nv[@]}" --skip-silence "$wav" -o "$tmp/upload-skip-silence.srt"
expect_recording "upload-skip-silence"
all_pcm=$(recorded upload-decode-srt)
kept_pcm=$(recorded upload-skip-silence)
if [ -n "$all_pcm" ] && [ -n "$kept_pcm" ] && [ "$kept_pcm" -lt "$all_pcm" ]; then
  pass "upload-skip-silence: recorded $kept_pcm of $all_pcm bytes"
else
  fail "upload-skip-silence: recorded '$kept_pcm' bytes, expected fewer than '$all_pcm'"
fi
if [ -s "$tmp/upload-skip-silence.srt" ] && cmp -s "$tmp/upload-decode-srt.srt" "$tmp/upload-skip-silence.srt"; then
  pass "upload-skip-silence: the same subtitles, at the same times"
else
  fail "upload-skip-silence: the subtitles differ from uploading all the audio"
  diff "$tmp/upload-decode-srt.srt" "$tmp/upload-skip-silence.srt" | head -10
fi

# encode NAME MUXER: the fixture as Vorbis in MUXER, in $tmp/NAME
encode() {
  timeout 30 gst-launch-1.0 -q filesrc location="$wav" ! wavparse ! audioconvert ! vorbisenc ! "$2" \
    ! filesink location="$tmp/$1" >/dev/null 2>&1 && [ -s "$tmp/$1" ]
}
if command -v gst-launch-1.0 >/dev/null 2>&1 && encode sample.ogg oggmux; then
  upload_run "upload-ogg" nevisa_run "${nv[@]}" "$tmp/sample.ogg" -o "$tmp/upload-ogg.txt"
  expect_as_is "upload-ogg" "$tmp/sample.ogg"
else
  echo "SKIP: upload of an .ogg (no gst-launch-1.0, vorbisenc or oggmux)"
fi
if command -v gst-launch-1.0 >/dev/null 2>&1 && encode sample.mkv matroskamux; then
  upload_run "upload-mkv" nevisa_run "${nv[@]}" "$tmp/sample.mkv" -o "$tmp/upload-mkv.srt"
  expect_recording "upload-mkv"
  check_py "upload-mkv srt" check_subtitles.py srt "$tmp/upload-mkv.srt" "$script"
else
  echo "SKIP: upload of an .mkv (no gst-launch-1.0, vorbisenc or matroskamux)"
fi

# Exit statuses of the batch backends.
fault_401='' no_package='' failing='' slow=''
start_emulator fault_401 --token "$token" --http-401
start_emulator no_package --token "$token" --nevisa-no-package
start_emulator failing --token "$token" --nevisa-failure --harf-failure
start_emulator slow --token "$token" --nevisa-pending-forever --harf-timeout
# expect_message NAME TEXT: the error line contains TEXT
expect_message() {
  if grep -qF -- "$2" "$tmp/$1.err"; then
    pass "$1: the message says '$2'"
  else
    fail "$1: the message does not say '$2': $(cat "$tmp/$1.err")"
  fi
}
run "nevisa-no-credentials" 5 "${nv[@]}" "$wav" -o "$tmp/fail.srt"
expect_message "nevisa-no-credentials" "NEVISA_USERNAME and NEVISA_PASSWORD"
expect_message "nevisa-no-credentials" "NEVISA_AUTH_TOKEN and NEVISA_API_KEY"
NEVISA_USERNAME="$nevisa_user" run "nevisa-no-password" 5 "${nv[@]}" "$wav" -o "$tmp/fail.srt"
HARF_TOKEN='' run "harf-file-no-token" 5 "${hf[@]}" "$wav" -o "$tmp/fail.srt"
expect_message "harf-file-no-token" "HARF_TOKEN"
nevisa_run "nevisa-wrong-password" 5 "${nv[@]}" --nevisa-password "not-$nevisa_password" "$wav" -o "$tmp/fail.srt"
nevisa_run "nevisa-no-package" 5 --backend nevisa --nevisa-login-url "$no_package_login" \
  --nevisa-api-url "$no_package_nevisa" "$wav" -o "$tmp/fail.srt"
expect_message "nevisa-no-package" "package"
nevisa_run "nevisa-http-401" 5 --backend nevisa --nevisa-login-url "$fault_401_login" \
  --nevisa-api-url "$fault_401_nevisa" "$wav" -o "$tmp/fail.srt"
run "harf-file-http-401" 5 --backend harf-file --harf-api-url "$fault_401_api" "$wav" -o "$tmp/fail.srt"
nevisa_run "nevisa-failure" 1 --backend nevisa --nevisa-login-url "$failing_login" \
  --nevisa-api-url "$failing_nevisa" --poll-interval 100 "$wav" -o "$tmp/fail.srt"
expect_message "nevisa-failure" "FAILURE"
run "harf-file-failure" 1 --backend harf-file --harf-api-url "$failing_api" "$wav" -o "$tmp/fail.srt"
expect_message "harf-file-failure" "FAILURE"
run "harf-file-timeout" 1 --backend harf-file --harf-api-url "$slow_api" --no-harf-wait --poll-interval 100 \
  "$wav" -o "$tmp/fail.srt"
expect_message "harf-file-timeout" "TIMEOUT"
nevisa_run "nevisa-batch-timeout" 6 --backend nevisa --nevisa-login-url "$slow_login" \
  --nevisa-api-url "$slow_nevisa" --poll-interval 100 --batch-timeout 1 "$wav" -o "$tmp/fail.srt"
expect_message "nevisa-batch-timeout" "batch-timeout"
if [ -e "$tmp/fail.srt" ] || [ -e "$tmp/fail.srt.tmp" ]; then
  fail "batch failures: a failed run left $tmp/fail.srt or its .tmp"
else
  pass "batch failures: no output file left"
fi

# Progress on a terminal: the upload in MB, then the service's states.
if command -v script >/dev/null 2>&1 && script -qec true /dev/null >/dev/null 2>&1; then
  printf -v nv_cmd '%q ' "$tool" "${nv[@]}" "$wav" -o "$tmp/tty-nevisa.srt"
  NEVISA_USERNAME="$nevisa_user" NEVISA_PASSWORD="$nevisa_password" timeout 60 script -qec "$nv_cmd" \
    "$tmp/tty-nevisa.log" >/dev/null 2>&1
  if grep -qE $'\r''(\[[#-]*\]  )?uploading [0-9]+\.[0-9]/[0-9]+\.[0-9] MB' "$tmp/tty-nevisa.log" &&
     grep -qE $'\r''\[[#-]*\]  PROGRESS [0-9]+ %' "$tmp/tty-nevisa.log" &&
     grep -q $'\r\\[#*\\] 100%' "$tmp/tty-nevisa.log"; then
    pass "progress: nevisa shows 'uploading N.N/M.M MB', then 'PROGRESS P %', then 100% on a terminal"
  else
    fail "progress: nevisa on a terminal:"; tr '\r' '\n' <"$tmp/tty-nevisa.log" | cat -v | head -20
  fi
  printf -v nv_cmd '%q ' "$tool" --quiet "${nv[@]}" "$wav" -o "$tmp/tty-nevisa-quiet.srt"
  NEVISA_USERNAME="$nevisa_user" NEVISA_PASSWORD="$nevisa_password" timeout 60 script -qec "$nv_cmd" \
    "$tmp/tty-nevisa-quiet.log" >/dev/null 2>&1
  if grep -qE '%|uploading' "$tmp/tty-nevisa-quiet.log"; then
    fail "progress: --quiet still drew the nevisa progress"
  else
    pass "progress: --quiet draws no nevisa progress"
  fi
else
  echo "SKIP: batch progress on a terminal (no script(1))"
fi

# --- 6. OUTPUT: never follow, clobber or replace what is not a regular file ---
# A regular OUTPUT is replaced through a temporary with a random name in its
# directory (.NAME.XXXXXX.tmp, created O_EXCL|O_NOFOLLOW); a symbolic link's
# target is replaced, the link stays; a device or FIFO is written in place.
# expect_mode NAME FILE MODE: FILE's permission bits are MODE (octal)
expect_mode() {
  local got
  got=$(stat -c %a "$2")
  if [ "$got" = "$3" ]; then
    pass "$1: $2 has mode $3"
  else
    fail "$1: $2 has mode $got, expected $3"
  fi
}
# no_temporaries NAME DIR: no .*.tmp left in DIR
no_temporaries() {
  local left
  left=$(find "$2" -maxdepth 1 -name '.*.tmp')
  if [ -z "$left" ]; then
    pass "$1: no temporary left in $2"
  else
    fail "$1: temporaries left: $left"
  fi
}

# A link planted where the old OUTPUT.tmp was: neither followed nor replaced.
echo "the victim, unchanged" >"$tmp/victim"
cp "$tmp/victim" "$tmp/victim.orig"
ln -s victim "$tmp/planted.srt.tmp"
run "planted-tmp-link" 0 --harf-url "$url" "$wav" -o "$tmp/planted.srt"
if cmp -s "$tmp/victim" "$tmp/victim.orig" && [ -L "$tmp/planted.srt.tmp" ]; then
  pass "planted-tmp-link: the victim behind planted.srt.tmp is unchanged, the link still there"
else
  fail "planted-tmp-link: the write followed or replaced the planted planted.srt.tmp link"
fi
if [ -f "$tmp/planted.srt" ] && [ ! -L "$tmp/planted.srt" ] && cmp -s "$tmp/planted.srt" "$tmp/out.srt"; then
  pass "planted-tmp-link: planted.srt is a regular file with the subtitles"
else
  fail "planted-tmp-link: planted.srt is not a regular file equal to out.srt"
fi
no_temporaries "planted-tmp-link" "$tmp"

# Modes: a new file gets 0666 less the umask, a replaced one keeps its bits.
saved_umask=$(umask)
umask 027
run "umask-new" 0 --harf-url "$url" "$wav" -o "$tmp/umask-new.srt"
umask "$saved_umask"
expect_mode "umask-new" "$tmp/umask-new.srt" 640
echo "old" >"$tmp/kept-mode.srt"
chmod 604 "$tmp/kept-mode.srt"
run "kept-mode" 0 --harf-url "$url" "$wav" -o "$tmp/kept-mode.srt"
expect_mode "kept-mode" "$tmp/kept-mode.srt" 604
cmp -s "$tmp/kept-mode.srt" "$tmp/out.srt" && pass "kept-mode: the file was replaced" ||
  fail "kept-mode: the file does not hold the subtitles"

# A link to a file in another directory: the target is replaced (its
# temporary made next to it), the link stays a link.
mkdir "$tmp/linked"
echo "old" >"$tmp/linked/target.srt"
ln -s linked/target.srt "$tmp/link.srt"
run "symlink-output" 0 --harf-url "$url" "$wav" -o "$tmp/link.srt"
if [ -L "$tmp/link.srt" ] && [ "$(readlink "$tmp/link.srt")" = linked/target.srt ]; then
  pass "symlink-output: link.srt is still a link to linked/target.srt"
else
  fail "symlink-output: link.srt was replaced: $(ls -l "$tmp/link.srt")"
fi
cmp -s "$tmp/linked/target.srt" "$tmp/out.srt" && pass "symlink-output: the target holds the subtitles" ||
  fail "symlink-output: the target does not hold the subtitles"
no_temporaries "symlink-output" "$tmp/linked"
# A dangling link: an error; neither the link nor its target is created.
ln -s nowhere.srt "$tmp/dangling.srt"
run "dangling-symlink" 1 --harf-url "$url" "$wav" -o "$tmp/dangling.srt"
expect_message "dangling-symlink" "$tmp/dangling.srt"
if [ -L "$tmp/dangling.srt" ] && [ ! -e "$tmp/nowhere.srt" ]; then
  pass "dangling-symlink: the link stays, nothing created through it"
else
  fail "dangling-symlink: the link was replaced or its target created"
fi

# A FIFO: written in place for a reader, still a FIFO afterwards.
mkfifo "$tmp/fifo.srt"
timeout 60 cat "$tmp/fifo.srt" >"$tmp/fifo-received.srt" &
reader=$!
run "fifo-output" 0 --harf-url "$url" "$wav" -o "$tmp/fifo.srt"
for _ in 1 2 3 4 5 6 7 8 9 10; do
  kill -0 "$reader" 2>/dev/null || break
  sleep 0.5
done
kill "$reader" 2>/dev/null
wait "$reader" 2>/dev/null
[ -p "$tmp/fifo.srt" ] && pass "fifo-output: fifo.srt is still a FIFO" ||
  fail "fifo-output: fifo.srt was replaced: $(ls -l "$tmp/fifo.srt")"
cmp -s "$tmp/fifo-received.srt" "$tmp/out.srt" && pass "fifo-output: the reader received the subtitles" ||
  fail "fifo-output: the reader did not receive the subtitles"

# A device that is full: a clear error, and the device stays a device.  As
# root a broken build could replace the node, so first a private copy of
# /dev/full (mknod c 1 7); the real one only if that copy survived (or when
# not root: /dev is then not writable anyway).
# dev_full NAME NODE: writes to NODE, expects the ENOSPC error
dev_full() {
  run "$1" 1 --harf-url "$url" "$wav" --format srt -o "$2"
  expect_message "$1" "cannot write $2"
  expect_message "$1" "No space left on device"
  [ -c "$2" ] && pass "$1: $2 is still a character device" ||
    fail "$1: $2 is no longer a character device: $(ls -l "$2")"
}
real_full_ok=no
if [ "$(id -u)" -ne 0 ]; then
  real_full_ok=yes
elif mknod -m 666 "$tmp/full" c 1 7 2>/dev/null && ! echo x 2>/dev/null >"$tmp/full"; then
  dev_full "dev-full-copy" "$tmp/full"
  [ -c "$tmp/full" ] && real_full_ok=yes
else
  echo "SKIP: a private copy of /dev/full (mknod failed or it is not full here)"
fi
if [ "$real_full_ok" = yes ] && [ -c /dev/full ]; then
  dev_full "dev-full" /dev/full
  if [ -f /dev/full ] && [ "$(id -u)" -eq 0 ]; then
    # Repair what a broken build did.
    rm -f /dev/full && mknod -m 666 /dev/full c 1 7
  fi
else
  echo "SKIP: -o /dev/full (no /dev/full, or the private copy was damaged)"
fi

# Where nothing can be written: a missing directory, a read-only one, a
# directory as OUTPUT.
run "missing-dir" 1 --harf-url "$url" "$wav" -o "$tmp/no-such-dir/out.srt"
expect_message "missing-dir" "$tmp/no-such-dir/out.srt"
expect_message "missing-dir" "does not exist"
run "output-is-dir" 2 --harf-url "$url" "$wav" --format srt -o "$tmp/linked"
expect_message "output-is-dir" "$tmp/linked is a directory"
mkdir "$tmp/read-only"
chmod 555 "$tmp/read-only"
# Root ignores the mode: drop CAP_DAC_OVERRIDE (setpriv) so it applies.
drop=()
if [ "$(id -u)" -eq 0 ]; then
  drop=(setpriv --inh-caps=-dac_override,-dac_read_search --bounding-set=-dac_override,-dac_read_search --)
  "${drop[@]}" true 2>/dev/null || drop=()
fi
if "${drop[@]}" sh -c ': >"$1/probe"' sh "$tmp/read-only" 2>/dev/null; then
  rm -f "$tmp/read-only/probe"
  echo "SKIP: a read-only directory (writable anyway: root without setpriv)"
else
  printf '#!/bin/sh\nexec %s "$@"\n' "$(printf '%q ' "${drop[@]}" "$tool")" >"$tmp/tool-unprivileged"
  chmod +x "$tmp/tool-unprivileged"
  real_tool=$tool
  tool="$tmp/tool-unprivileged"
  run "read-only-dir" 1 --harf-url "$url" "$wav" -o "$tmp/read-only/out.srt"
  tool=$real_tool
  expect_message "read-only-dir" "$tmp/read-only/out.srt"
  expect_message "read-only-dir" "Permission denied"
  [ -z "$(ls -A "$tmp/read-only")" ] && pass "read-only-dir: nothing created" ||
    fail "read-only-dir: left $(ls -A "$tmp/read-only")"
fi
chmod 755 "$tmp/read-only"

# --- 6b. Persian text normalised, as asked ------------------------------------
# The service's text in Arabic letters, Latin digits and spaced prefixes:
# normalised by default, Latin digits with --digits latin, untouched with
# --no-normalize; raw_text is the service's text every time.
printf '%s\n' 'او مي گفت كه 3 روز ماند' 'كتاب هاي ١٤٠٢' 'درس ها تمام شد' >"$tmp/arabic-script.txt"
start_emulator arabic --token "$token" --script "$tmp/arabic-script.txt"
cat >"$tmp/normalized.py" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1], encoding="utf-8"))
segs = doc["segments"]
want = sys.argv[2].split("|")
raw = ["او مي گفت كه 3 روز ماند", "كتاب هاي ١٤٠٢", "درس ها تمام شد"]
got = [s["text"] for s in segs]
assert got[:3] == want, f"text {got} != {want}"
assert [s["raw_text"] for s in segs][:3] == raw, "raw_text changed"
print("text " + " / ".join(got[:3]))
PY
run "normalize-default" 0 --harf-url "$arabic" -f json "$wav" -o "$tmp/normalized.json"
check_py "normalize-default" normalized.py "$tmp/normalized.json" \
  'او می‌گفت که ۳ روز ماند|کتاب‌های ۱۴۰۲|درس‌ها تمام شد'
run "normalize-latin" 0 --harf-url "$arabic" -f json --digits latin "$wav" -o "$tmp/latin.json"
check_py "normalize-latin" normalized.py "$tmp/latin.json" \
  'او می‌گفت که 3 روز ماند|کتاب‌های 1402|درس‌ها تمام شد'
run "no-normalize" 0 --harf-url "$arabic" -f json --no-normalize "$wav" -o "$tmp/raw.json"
check_py "no-normalize" normalized.py "$tmp/raw.json" \
  'او مي گفت كه 3 روز ماند|كتاب هاي ١٤٠٢|درس ها تمام شد'
run "digits-unknown" 2 --harf-url "$arabic" --digits roman "$wav" -o "$tmp/fail.srt"
expect_message "digits-unknown" "digits"

# --- 6c. right-to-left lines in SRT and WebVTT ----------------------------------
# Each line between two RLMs renders right to left even where the paragraph is
# laid out left to right (as a player without bidi detection does): laid out
# with Pango, LTR base direction, a line's final punctuation is at its left
# end, its first letter at its right end, and its digits stay inside.  Without
# the marks (--no-rtl-marks) the final punctuation goes to the right end.
printf '%s\n' 'جلسه ۳ ساعت و ۱۵ دقیقه طول کشید.' 'آیا فردا ساعت ۸ می‌آیی؟' 'بله، حتما!' >"$tmp/rtl-script.txt"
start_emulator rtl --token "$token" --script "$tmp/rtl-script.txt"
cat >"$tmp/check_rtl.py" <<'PY'
# check_rtl.py FILE marks|none
import re, sys
import gi
gi.require_version("Pango", "1.0")
gi.require_version("PangoCairo", "1.0")
from gi.repository import Pango, PangoCairo
path, mode = sys.argv[1:3]
text = open(path, encoding="utf-8").read()
lines = [l for l in text.split("\n") if l.strip() and not re.match(r"^(\d+|WEBVTT|\d\d:.*-->.*)$", l)]
ctx = PangoCairo.FontMap.get_default().create_context()
ctx.set_base_dir(Pango.Direction.LTR)
checked = 0
for line in lines:
    layout = Pango.Layout.new(ctx)
    layout.set_auto_dir(False)
    layout.set_text(line, -1)
    raw = line.encode("utf-8")
    def x(char_index):
        # the centre of the character's box (an RTL box has a negative width)
        r = layout.index_to_pos(len(line[:char_index].encode("utf-8")))
        return r.x + r.width / 2
    body = line.strip("\u200f")
    first = line.index(body[0])                # the first letter, logically
    last = line.rindex(body[-1])               # the final character
    width = layout.get_size()[0]
    if mode == "marks" and body[-1] in ".؟!":
        checked += 1
        assert x(last) < x(first), "%r: the final %r is not left of the first letter" % (body, body[-1])
    elif body[-1] in ".!":
        # the failure the marks prevent ("؟" is an Arabic letter to the
        # bidi algorithm: it lands right either way)
        checked += 1
        assert x(last) > x(first), "%r: without marks the final %r should be on the right" % (body, body[-1])
    digits = [i for i, c in enumerate(line) if "\u06f0" <= c <= "\u06f9"]
    if mode == "marks" and digits:
        assert x(last) < x(digits[0]) < x(first), "%r: the digits moved out of the line" % body
print("%d lines with final punctuation laid out %s" % (checked, "right to left" if mode == "marks" else "left to right (no marks)"))
assert checked >= (3 if mode == "marks" else 2), checked
PY
# The first interpreter with PyGObject and Pango's typelibs (a pyenv or venv
# python3 on PATH usually has no gi; /usr/bin/python3 has it).
gi_python=
for p in ${PYTHON:-} python3 /usr/bin/python3; do
  if "$p" -c 'import gi; gi.require_version("PangoCairo", "1.0")' 2>/dev/null; then
    gi_python=$p
    break
  fi
done
[ -n "$gi_python" ] || die "no python3 with PyGObject and Pango: apt-get install python3-gi gir1.2-pango-1.0"
for fmt in srt vtt; do
  run "rtl-$fmt" 0 --harf-url "$rtl" "$wav" -o "$tmp/rtl.$fmt"
  python=$gi_python check_py "rtl-$fmt renders right to left" check_rtl.py "$tmp/rtl.$fmt" marks
  check_py "rtl-$fmt marks" check_subtitles.py "$fmt" "$tmp/rtl.$fmt" "$tmp/rtl-script.txt"
  run "no-rtl-marks-$fmt" 0 --harf-url "$rtl" --no-rtl-marks "$wav" -o "$tmp/no-rtl.$fmt"
  python=$gi_python check_py "no-rtl-marks-$fmt" check_rtl.py "$tmp/no-rtl.$fmt" none
  check_py "no-rtl-marks-$fmt plain" check_subtitles.py "$fmt" "$tmp/no-rtl.$fmt" "$tmp/rtl-script.txt" none
done

# --- 6d. standard input, word-level WebVTT, Ctrl-C with --keep-partial ---------
# '-' reads standard input (a pipe: no duration, no seeking); the result is
# the same as from the file.
run "stdin" 0 --harf-url "$url" - -o "$tmp/stdin.srt" < <(cat "$wav")
cmp -s "$tmp/stdin.srt" "$tmp/out.srt" && pass "stdin: '-' gives the same SRT as the file" ||
  fail "stdin: '-' gives another SRT: $(diff "$tmp/stdin.srt" "$tmp/out.srt" | head -5)"
run "stdin-to-stdout" 0 --harf-url "$url" - -o - -f txt < <(cat "$wav")
cmp -s "$tmp/stdin-to-stdout.out" "$tmp/out.txt" && pass "stdin-to-stdout: '- -o -' prints the text" ||
  fail "stdin-to-stdout: '- -o -' printed something else"

# --words: a timestamp tag before each word whose time nevisa gives.
nevisa_run "vtt-words" 0 "${nv[@]}" --format vtt --words "$wav" -o "$tmp/words.vtt"
run "words-not-srt" 2 --harf-url "$url" --words "$wav" -o "$tmp/fail.srt"
expect_message "words-not-srt" "--words is for vtt"
cat >"$tmp/check_words.py" <<'PY'
# check_words.py WORDS.vtt PLAIN.vtt NEVISA.json: WORDS.vtt without its tags
# is PLAIN.vtt; inside each cue the tags increase strictly and lie strictly
# between its start and end; each tag is the start (in ms) of the JSON word
# that follows it.
import json, re, sys
words_vtt, plain_vtt, js = (open(p, encoding="utf-8").read() for p in sys.argv[1:4])
tag = re.compile(r"<(\d\d):(\d\d):(\d\d)\.(\d\d\d)>")
ms = lambda h, m, s, f: ((int(h) * 60 + int(m)) * 60 + int(s)) * 1000 + int(f)
assert tag.sub("", words_vtt) == plain_vtt, "the text without tags differs from the plain vtt"
starts = {}
for seg in json.loads(js)["segments"]:
    for w in seg["words"]:
        starts.setdefault(w["text"], set()).add(round(w["start_ns"] / 1e6))
tags = 0
for block in words_vtt.split("\n\n")[1:]:
    if not block.strip():
        continue
    lines = block.split("\n")
    m = re.fullmatch(r"(\d\d):(\d\d):(\d\d)\.(\d\d\d) --> (\d\d):(\d\d):(\d\d)\.(\d\d\d)", lines[0])
    start, end = ms(*m.groups()[:4]), ms(*m.groups()[4:])
    last = start
    for line in lines[1:]:
        for t in tag.finditer(line):
            at = ms(*t.groups())
            assert start < at < end and at > last, "tag %d ms in cue %d..%d (after %d)" % (at, start, end, last)
            last = at
            word = line[t.end():].split(" ")[0].strip("\u200f")
            assert at in starts.get(word, ()), "tag %d ms before %r: not its start %r" % (at, word, starts.get(word))
            tags += 1
assert tags >= 15, "only %d tags" % tags
print("%d word tags, each its word's start, increasing inside its cue; the text is the plain vtt's" % tags)
PY
check_py "vtt-words" check_words.py "$tmp/words.vtt" "$tmp/nevisa.vtt" "$tmp/nevisa.json"

# Ctrl-C: the audio comes from a pipe that stays open, so the run is still
# going when the first cues are out (the element's log says when); SIGINT
# then.  With --keep-partial the cues so far are written and the status is
# 130; without it nothing is written.
# interrupt NAME ARGS...: runs the tool on a FIFO held open, interrupts it
# after the first cue, and checks that it exits with 130.
interrupt() {
  local name=$1 pid i w rc fifo="$tmp/$1.fifo"
  shift
  mkfifo "$fifo"
  GST_DEBUG=persiantranscribe:5 GST_DEBUG_NO_COLOR=1 GST_DEBUG_FILE="$tmp/$name.gstlog" \
    "$tool" --harf-url "$url" "$@" - <"$fifo" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pid=$!
  exec {w}>"$fifo"
  cat "$wav" >&"$w" 2>/dev/null
  for i in $(seq 300); do
    grep -q 'pushing final cue' "$tmp/$name.gstlog" 2>/dev/null && break
    sleep 0.1
  done
  if grep -q 'pushing final cue' "$tmp/$name.gstlog"; then
    kill -INT "$pid"
  else
    fail "$name: no cue within 30 s"
    kill "$pid"
  fi
  for i in $(seq 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid"
  rc=$?
  exec {w}>&-
  rm -f "$fifo"
  [ "$rc" -eq 130 ] && pass "$name: Ctrl-C: exit status 130" || fail "$name: Ctrl-C: exit status $rc"
}
interrupt "keep-partial" --keep-partial -o "$tmp/keep-partial.srt"
if [ -s "$tmp/keep-partial.srt" ] && head -4 "$tmp/out.srt" | cmp -s - <(head -4 "$tmp/keep-partial.srt"); then
  pass "keep-partial: Ctrl-C wrote the cues so far ($(grep -c -- '-->' "$tmp/keep-partial.srt") of 3)"
else
  fail "keep-partial: no partial SRT after Ctrl-C"; cat "$tmp/keep-partial.err"
fi
expect_message "keep-partial" "interrupted; what was transcribed before it is in $tmp/keep-partial.srt"
interrupt "no-keep-partial" -o "$tmp/no-keep-partial.srt"
if [ ! -e "$tmp/no-keep-partial.srt" ] && [ -z "$(find "$tmp" -maxdepth 1 -name '.no-keep-partial*')" ]; then
  pass "no-keep-partial: Ctrl-C without --keep-partial writes nothing"
else
  fail "no-keep-partial: something was written"
fi
expect_message "no-keep-partial" "error: interrupted"

# The progress line fits an 80-column terminal, and '-' refuses a terminal
# as standard input.
if command -v script >/dev/null 2>&1 && script -qec true /dev/null >/dev/null 2>&1; then
  HARF_TOKEN="$token" timeout 60 script -qec \
    "stty cols 80; '$tool' --harf-url '$url' '$wav' -o '$tmp/tty80.srt'" "$tmp/tty80.log" >/dev/null 2>&1
  longest=$(grep -av '^Script ' "$tmp/tty80.log" | tr '\r' '\n' | sed 's/\x1b\[K//g' | awk '{ if (length($0) > n) n = length($0) } END { print n + 0 }')
  if [ "$longest" -gt 40 ] && [ "$longest" -le 79 ] && grep -q $'\r\\[#*\\] 100%' "$tmp/tty80.log"; then
    pass "progress: at 80 columns the longest line is $longest characters, 100% at the end"
  else
    fail "progress: at 80 columns the longest line is $longest characters:"; cat -v "$tmp/tty80.log" | head -5
  fi
  timeout 60 script -qec "'$tool' --harf-url '$url' -" "$tmp/tty-stdin.log" >/dev/null 2>&1
  if grep -q 'standard input is a terminal' "$tmp/tty-stdin.log" && grep -q 'COMMAND_EXIT_CODE="2"' "$tmp/tty-stdin.log"; then
    pass "stdin: '-' with a terminal as standard input is refused (status 2)"
  else
    fail "stdin: '-' with a terminal:"; cat -v "$tmp/tty-stdin.log" | head -5
  fi
else
  echo "SKIP: progress at 80 columns (no script(1))"
fi

# --- 7. nothing GStreamer-internal on stderr, and no secret anywhere ----------
if grep -lE 'CRITICAL|assertion' "$tmp"/*.err; then
  fail "CRITICAL or assertion on stderr (files above)"
else
  pass "no CRITICAL or assertion on any stderr"
fi
if grep -rlF --exclude='emu*.err' -e "$token" -e "$nevisa_password" "$tmp"; then
  fail "the token or the Nevisa password appears in the files above"
else
  pass "neither the token nor the Nevisa password appears in any output, message or log"
fi

echo
if [ "$failures" -eq 0 ]; then
  echo "all $checks checks passed"
  exit 0
fi
echo "$failures of $checks checks failed"
exit 1
