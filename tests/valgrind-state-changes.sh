#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the state-change test (fewer cycles) under valgrind and fails when a
# definite leak or a memory error has a frame in this project's code
# (the plugin, src/ or gst/). Leaks inside GLib, GStreamer's registry or
# libsoup's own caches are reported by valgrind too, but are not ours.
# Usage: valgrind-state-changes.sh TEST-BINARY
set -euo pipefail
# Under AddressSanitizer (scripts/test-sanitizers): valgrind cannot run an
# ASan build. 77: meson's "skipped".
if [ "${PT_UNDER_ASAN:-}" = 1 ]; then
  echo "SKIP: valgrind does not run under AddressSanitizer (PT_UNDER_ASAN=1)"
  exit 77
fi
bin=$1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
PT_CYCLES=${PT_CYCLES:-12} CK_FORK=no GST_TRACERS=leaks \
  valgrind --leak-check=full --show-leak-kinds=definite --num-callers=40 \
  --log-file="$log" "$bin"
python3 - "$log" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
# valgrind records: a header line followed by "at/by" frames, separated by blank lines
records = re.split(r"\n==\d+== \n", text)
ours = re.compile(r"libgstpersiantranscribe|[(/](src|gst)/[\w_]+\.(cpp|h):|pt::|gst_persian_transcribe|gst_harf_sink")
bad = []
for r in records:
    head = r.strip().splitlines()[0] if r.strip() else ""
    kind = ("definitely lost" in head) or re.search(r"Invalid (read|write|free)|uninitialised|Mismatched", head)
    if kind and ours.search(r):
        bad.append(r.strip())
summary = re.findall(r"definitely lost: [\d,]+ bytes in [\d,]+ blocks", text)
print("valgrind:", summary[-1] if summary else "no definite leaks", "(all code)")
if bad:
    print(f"{len(bad)} leak(s)/error(s) in this project's code:")
    for b in bad:
        print(b, "\n")
    sys.exit(1)
print("no definite leak or memory error in the plugin's code")
PY
