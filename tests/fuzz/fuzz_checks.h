// SPDX-License-Identifier: LGPL-2.1-or-later
/* Checks of the transcript model shared by several targets: what every
 * parser promises about the segments and words it hands out. */
#pragma once

#include "fuzz_common.h"
#include "json_fields.h"
#include "transcript.h"

/* A segment made by parse_uncertainty() from seg.raw_text: words without
 * white space or brackets, text = the words joined by one space, nothing
 * but white space and brackets left out, all valid UTF-8. */
inline void fuzz_check_uncertainty(const pt::Segment &seg, bool raw_is_valid)
{
  std::string joined, all;
  for (const pt::Word &w : seg.words) {
    FUZZ_CHECK(!w.text.empty(), "an empty word");
    for (char c : w.text)
      FUZZ_CHECK(c != '[' && c != ']' && !fuzz_is_space(c),
                 "a word holds a bracket or white space: \"" + w.text + "\"");
    if (!joined.empty())
      joined += ' ';
    joined += w.text;
    all += w.text;
    if (raw_is_valid)
      FUZZ_CHECK_UTF8(w.text, "a word");
  }
  FUZZ_CHECK(seg.text == joined, "text \"" + seg.text + "\" is not the words joined: " + joined);
  std::string kept;
  for (char c : seg.raw_text)
    if (c != '[' && c != ']' && !fuzz_is_space(c))
      kept += c;
  FUZZ_CHECK(all == kept, "the words lost or gained characters: raw " +
                              fuzz_hex(seg.raw_text, 400) + ", words " + fuzz_hex(all, 400));
  std::string why;
  if (raw_is_valid)
    FUZZ_CHECK(fuzz_markup_text_is(pt::to_pango_markup(seg), seg.text, &why), why);
}

/* A segment as a parser of service answers hands it out. */
inline void fuzz_check_parsed_segment(const pt::Segment &seg)
{
  FUZZ_CHECK(seg.end >= seg.start, "the segment ends (" + std::to_string(seg.end) +
                                       ") before it starts (" + std::to_string(seg.start) + ")");
  FUZZ_CHECK(seg.start != pt::kNoTime && seg.end != pt::kNoTime, "a segment time is unknown");
  FUZZ_CHECK_UTF8(seg.raw_text, "raw_text");
  FUZZ_CHECK(seg.raw_text.size() <= pt::kMaxTextBytes,
             "raw_text is longer than kMaxTextBytes: " + std::to_string(seg.raw_text.size()));
  fuzz_check_uncertainty(seg, true);
}
