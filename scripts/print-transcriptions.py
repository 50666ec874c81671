#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Reads `gst-launch-1.0 -m` output and prints each `transcription` message
as `[start --> end] text`, decoding GStreamer's escaped UTF-8. Passes
errors and warnings through."""
import re
import sys

FIELD = re.compile(r'(\w[\w-]*)=\((\w+)\)("(?:[^"\\]|\\.)*"|[^,;]+)')


ESCAPE = re.compile(r"\\([0-7]{3}|.)")


def unescape(value: str) -> str:
    """GStreamer writes strings with octal escapes for bytes and a backslash
    before spaces and punctuation."""
    if value.startswith('"'):
        value = value[1:-1]
    raw = ESCAPE.sub(lambda m: chr(int(m.group(1), 8)) if len(m.group(1)) == 3 else m.group(1), value)
    return raw.encode("latin-1").decode("utf-8")


def fmt(ns: int) -> str:
    ms = ns // 1_000_000
    return f"{ms // 3600000}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


count = 0
for line in sys.stdin:
    if "(element): transcription," in line:
        fields = {m.group(1): m.group(3) for m in FIELD.finditer(line.split("transcription,", 1)[1])}
        text = unescape(fields.get("text", '""'))
        start = int(fields.get("timestamp", "0"))
        dur = int(fields.get("duration", "0"))
        final = fields.get("final", "true").strip() == "true"
        count += 1
        print(f"[{fmt(start)} --> {fmt(start + dur)}]{'' if final else ' (partial)'} {text}", flush=True)
    elif "ERROR" in line or "WARNING" in line or line.startswith("Got EOS"):
        print(line.rstrip(), flush=True)
print(f"({count} transcription messages)")
