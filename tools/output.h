// SPDX-License-Identifier: LGPL-2.1-or-later
// The transcript persian-transcribe collects and its writers: SRT, WebVTT, JSON, plain text.
#pragma once

#include <gst/gst.h>

#include <optional>
#include <string>
#include <vector>

#include "common.h"

namespace cli {

enum class Format { Srt, Vtt, Json, Txt };

// "srt", "vtt"/"webvtt", "json", "txt"/"text", in any case.
std::optional<Format> format_from_name(const std::string &name);

struct Cue {
  guint64 start = 0;  // ns, stream time
  guint64 end = 0;
  std::string text;  // lines separated by "\n"
};

struct Word {
  std::string text;
  guint64 start = GST_CLOCK_TIME_NONE;  // ns on the media timeline
  guint64 end = GST_CLOCK_TIME_NONE;
  double confidence = -1.0;
  bool uncertain = false;
};

struct Segment {
  gint id = -1;
  std::string text;
  std::string raw_text;
  guint64 start = 0;  // ns on the media timeline
  guint64 end = 0;
  std::vector<Word> words;
};

struct Transcript {
  std::string input_uri;
  std::string backend;
  guint64 media_duration = GST_CLOCK_TIME_NONE;
  gint64 total_words = -1;  // harf-file: the service's word counts for the file
  gint64 known_words = -1;
  std::vector<Cue> cues;
  std::vector<Segment> segments;
};

// The transcript in FORMAT: srt and vtt from its cues, json and txt from its segments.
// rtl_marks: every srt and vtt line between two RIGHT-TO-LEFT MARKs (U+200F),
// so that a player that lays lines out left to right still shows a Persian
// line right to left (its final punctuation on the left, digits in place).
// words: vtt only, a timestamp tag (<00:01:02.345>) before each word of a cue
// whose time the backend gave (nevisa, nevisa-live), for players and editors
// that show the words as they are spoken.
std::string format_transcript(const Transcript &t, Format format, bool rtl_marks = true,
                              bool words = false);

// Whether anything was transcribed: a cue or a final segment.
inline bool has_results(const Transcript &t)
{
  return !t.cues.empty() || !t.segments.empty();
}

// Whether OUTPUT can be written, checked before the transcription starts, with
// the same rules as write_output: a regular file or a new name needs its
// directory to exist and be writable (and an existing file to be writable), a
// device or FIFO must be writable, a directory is a usage error, a dangling
// symbolic link is an error.
std::optional<Failure> check_output(const std::string &path);

// Writes DATA to PATH, never leaving a partial file:
//  - a regular file or a new name: DATA goes to a temporary with a unique
//    random name in the same directory (.NAME.XXXXXX.tmp, created with
//    O_EXCL|O_NOFOLLOW, so no existing path is followed or overwritten), with
//    mode 0666 less the umask or the permission bits of the file it replaces;
//    it is fsync'ed, then renamed over PATH.  On failure it is removed and
//    PATH is unchanged.
//  - a symbolic link: the file it points to is replaced the same way (the
//    temporary is made next to that file); the link itself stays a link.
//  - a character or block device, FIFO or socket: opened and written in place
//    (/dev/null, /dev/stdout, a FIFO a reader waits on), never replaced.
// On failure ERROR is one line naming the path and the reason (errno's text).
bool write_output(const std::string &path, const std::string &data, std::string *error);
bool write_stdout(const std::string &data, std::string *error);

}  // namespace cli
