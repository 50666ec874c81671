// SPDX-License-Identifier: LGPL-2.1-or-later
// The transcript persian-transcribe collects and its writers: SRT, WebVTT, JSON, plain text.
#pragma once

#include <gst/gst.h>

#include <optional>
#include <string>
#include <vector>

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
std::string format_transcript(const Transcript &t, Format format);

// Writes DATA to PATH.tmp, then renames it to PATH; on failure nothing is
// left and ERROR says why.
bool write_file_atomically(const std::string &path, const std::string &data, std::string *error);
bool write_stdout(const std::string &data, std::string *error);

}  // namespace cli
