// SPDX-License-Identifier: LGPL-2.1-or-later
/* Shapes a transcript segment into subtitle cues a viewer can read.
 *
 * A cue holds at most max_lines lines of at most max_line_chars characters
 * (Unicode characters, not bytes), lasts at most max_duration and, when the
 * next cue leaves room, at least min_duration.  Long segments are split at
 * word boundaries.  Word times are used when the service gives them;
 * otherwise the segment's time is shared out by character count.
 *
 * Right-to-left text needs no reordering here: lines keep the logical order
 * of the words, and the renderer (Pango) applies the bidi algorithm.  No
 * bidi control characters are inserted.  Persian punctuation that the
 * service wrote as a separate token (، ؛ ؟ « » . ! :) is glued to its word,
 * so a line never starts with a closing mark or ends with an opening one.
 * Zero-width non-joiners (U+200C) are part of words and never break them. */
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "transcript.h"

namespace pt {

struct CueSettings {
  unsigned max_line_chars = 42;
  unsigned max_lines = 2;
  uint64_t max_duration = 7 * kSecond;
  uint64_t min_duration = 1 * kSecond;
  /* Reading speed: a cue denser than this stays on screen longer, into
   * the silence after it (Netflix: 17 characters a second for adults). */
  unsigned max_chars_per_second = 17;
};

/* The least time between two cues: two frames at 25 frames a second. */
constexpr uint64_t kCueGap = 80 * kMsecond;

/* How long a cue of text (chars characters, the line breaks counted as
 * spaces) covering speech from start to end wants to stay: the speech, at
 * least min_duration, and at least what max_chars_per_second needs, but
 * for reading never longer than max_duration. */
uint64_t reading_end(uint64_t start, uint64_t end, size_t chars, const CueSettings &cs);
/* Where a cue ending at end stops before the next cue starts: kCueGap
 * before it where the cue keeps at least kCueGap of its own. */
uint64_t end_before(uint64_t start, uint64_t end, uint64_t next_start);

struct Cue {
  uint64_t start = 0; /* input timeline, ns */
  uint64_t end = 0;
  std::vector<std::string> lines;        /* plain text */
  std::vector<std::string> markup_lines; /* pango markup: escaped, uncertain in <i> */
  bool extended = false;                 /* lengthened to min_duration past its speech; the next
                                          * segment's first cue may need to cut it short */

  std::string text(bool markup) const; /* lines joined with '\n' */
};

/* seg_start/seg_end: the segment's place on the input timeline (ns).  Word
 * times (seg.words[i].start/end) are service offsets; seg.start is the
 * service offset that maps to seg_start. */
std::vector<Cue> shape_cues(const Segment &seg, uint64_t seg_start, uint64_t seg_end,
                            const CueSettings &cs);

/* Characters (code points) in a UTF-8 string. */
size_t utf8_chars(const std::string &s);

}  // namespace pt
