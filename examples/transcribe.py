#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""transcribe.py: print the Persian transcript of an audio file.

    HARF_TOKEN=... python3 transcribe.py FILE [HARF_URL]

Builds   filesrc ! decodebin ! audioconvert ! persiantranscribe ! fakesink
and prints one line per "transcription" element message:

    [0:00:01.200 -> 0:00:05.500] text
      uncertain: word word

The token is not a command-line argument: persiantranscribe reads the
HARF_TOKEN environment variable itself when its "token" property is unset.
HARF_URL (for example the emulator's ws://127.0.0.1:<port>/...) replaces the
default wss://harf.roshan-ai.ir/ws_api/transcribe_files/wav/sync/.

Needs python3-gi and gir1.2-gstreamer-1.0; python3-gst-1.0 is recommended
(see word_structures()).  Exit status: 0 at end of stream, 1 on an error
message, 2 on bad usage.  Ctrl-C sends EOS, so the results for the audio
already sent still arrive; a second Ctrl-C stops at once (exit status 130).
"""
import signal
import sys
import warnings

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

CLOCK_TIME_NONE = Gst.CLOCK_TIME_NONE


def format_time(t):
    """H:MM:SS.mmm"""
    if t == CLOCK_TIME_NONE:
        return "?:??:??.???"
    ms = t // Gst.MSECOND
    return "%d:%02d:%02d.%03d" % (ms // 3600000, ms // 60000 % 60, ms // 1000 % 60, ms % 1000)


def word_structures(s):
    """The "words" field: a GstValueArray of "word" structures, as a list.

    With python3-gst-1.0 (the GStreamer overrides for PyGObject),
    s.get_value("words") returns a Gst.ValueArray, which iterates over
    Gst.Structure objects.  Without the overrides PyGObject cannot convert a
    GstValueArray ("TypeError: unknown type GstValueArray"); then
    Gst.Structure.get_array() copies it into a GObject.ValueArray, read here
    with its (deprecated) get_nth().  The structures get_nth() returns belong
    to that array, so they are copied before it is freed.
    """
    if not s.has_field("words"):
        return []
    try:
        return list(s.get_value("words"))
    except TypeError:
        ok, arr = s.get_array("words")
        if not ok:
            return []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return [arr.get_nth(i).copy() for i in range(arr.n_values)]


def print_transcription(s):
    _, timestamp = s.get_uint64("timestamp")
    _, duration = s.get_uint64("duration")
    ok, final = s.get_boolean("final")
    end = timestamp if timestamp == CLOCK_TIME_NONE else timestamp + duration
    # final is False only for revisions posted with partial-results=true
    print("[%s -> %s]%s %s" % (format_time(timestamp), format_time(end),
                               "" if (final or not ok) else " (partial)",
                               s.get_string("text")))
    uncertain = []
    for w in word_structures(s):
        ok, is_uncertain = w.get_boolean("uncertain")
        if ok and is_uncertain:
            uncertain.append(w.get_string("text"))
    if uncertain:
        print("  uncertain: " + " ".join(uncertain))
    sys.stdout.flush()


def main(argv):
    Gst.init(None)
    if len(argv) not in (2, 3):
        print("usage: HARF_TOKEN=... %s FILE [HARF_URL]" % argv[0], file=sys.stderr)
        return 2
    # The transcript is Persian: write UTF-8 whatever the locale says.
    sys.stdout.reconfigure(encoding="utf-8")

    try:
        pipeline = Gst.parse_launch("filesrc name=src ! decodebin ! audioconvert "
                                    "! persiantranscribe name=asr ! fakesink")
    except GLib.Error as e:
        print("cannot build the pipeline: %s" % e.message, file=sys.stderr)
        return 1
    pipeline.get_by_name("src").set_property("location", argv[1])
    if len(argv) == 3:
        pipeline.get_by_name("asr").set_property("harf-url", argv[2])

    loop = GLib.MainLoop()
    status = 0

    def on_message(bus, msg):
        nonlocal status
        t = msg.type
        if t == Gst.MessageType.ELEMENT:
            if msg.has_name("transcription"):
                print_transcription(msg.get_structure())
        elif t in (Gst.MessageType.ERROR, Gst.MessageType.WARNING):
            is_error = t == Gst.MessageType.ERROR
            err, debug = msg.parse_error() if is_error else msg.parse_warning()
            # domain and code tell the cases apart, e.g. gst-resource-error-quark 15
            # (Gst.ResourceError.NOT_AUTHORIZED) for a rejected token
            print("%s from %s: %s (%s %d)" % ("error" if is_error else "warning",
                                             msg.src.get_name(), err.message,
                                             err.domain, err.code), file=sys.stderr)
            if debug:
                print("  debug: %s" % debug, file=sys.stderr)
            if is_error:
                status = 1
                loop.quit()
        elif t == Gst.MessageType.EOS:
            loop.quit()

    interrupted = False

    def on_sigint():
        # The first Ctrl-C ends the stream cleanly; a second one stops at once.
        nonlocal status, interrupted
        if interrupted:
            status = 130
            loop.quit()
            return GLib.SOURCE_CONTINUE
        interrupted = True
        print("interrupted: finishing the stream (Ctrl-C again to stop now)", file=sys.stderr)
        pipeline.send_event(Gst.Event.new_eos())
        return GLib.SOURCE_CONTINUE

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, on_sigint)

    # A failure here (no token, bad URL) has already posted an ERROR message,
    # which the loop picks up.
    pipeline.set_state(Gst.State.PLAYING)
    loop.run()

    pipeline.set_state(Gst.State.NULL)
    bus.remove_signal_watch()
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
