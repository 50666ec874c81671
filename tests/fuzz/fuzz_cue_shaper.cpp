// SPDX-License-Identifier: LGPL-2.1-or-later
/* pt::shape_cues() on Persian-ish segments as both backends deliver them:
 * Harf's (text with [uncertain] words, no word times) and Nevisa's (timed
 * words grouped by segments_from_words(), checked by check_segment_times()),
 * with any cue settings.  Checks: no text lost or added; lines within
 * max-line-chars unless one word is longer; at most max-lines lines; markup
 * well-formed with the same text; cues in order, never overlapping, never
 * ending before they start. */
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>

#include "cue_shaper.h"
#include "fuzz_checks.h"

namespace {

std::string describe(const std::vector<pt::Cue> &cues)
{
  std::string s;
  for (const pt::Cue &c : cues)
    s += "\n    [" + std::to_string(c.start) + ", " + std::to_string(c.end) + "] " + c.text(false);
  return s;
}

/* For messages: how the segment was made. */
std::string how;
/* Words out of order (a misbehaving service) give cues out of order: the
 * element copes (a cue that ends before it starts lasts 0, one behind the
 * text stream is shown late, with a warning), so only their text is checked. */
bool words_in_order = true;

void check_cues(const pt::Segment &seg, uint64_t seg_start, uint64_t seg_end,
                const pt::CueSettings &cs)
{
  const std::vector<pt::Cue> cues = pt::shape_cues(seg, seg_start, seg_end, cs);
  const size_t width = std::max(cs.max_line_chars, 1u);
  const size_t max_lines = std::max(cs.max_lines, 1u);
  std::string words;
  for (const pt::Word &w : seg.words)
    words += "\n    word " + (w.start == pt::kNoTime ? std::string("-") : std::to_string(w.start)) +
             ".." + (w.end == pt::kNoTime ? std::string("-") : std::to_string(w.end)) + " " +
             w.text;
  const std::string where = " (" + how + ", service times " + std::to_string(seg.start) + ".." +
                            std::to_string(seg.end) + words + "\n  segment " +
                            std::to_string(seg_start) + ".." + std::to_string(seg_end) +
                            ", width " + std::to_string(width) + ", lines " +
                            std::to_string(max_lines) + "):" + describe(cues);
  std::string all_words, all_lines, why;
  for (const pt::Word &w : seg.words)
    all_words += w.text;
  FUZZ_CHECK(cues.empty() == seg.words.empty(), "cues without words or words without cues");
  for (size_t k = 0; k < cues.size(); ++k) {
    const pt::Cue &c = cues[k];
    FUZZ_CHECK(!c.lines.empty() && c.lines.size() <= max_lines,
               std::to_string(c.lines.size()) + " lines in cue " + std::to_string(k) + where);
    FUZZ_CHECK(c.lines.size() == c.markup_lines.size(), "as many markup lines as lines");
    for (size_t i = 0; i < c.lines.size(); ++i) {
      const std::string &line = c.lines[i];
      FUZZ_CHECK(!line.empty(), "an empty line" + where);
      FUZZ_CHECK_UTF8(line, "a line");
      FUZZ_CHECK(pt::utf8_chars(line) <= width || line.find(' ') == std::string::npos,
                 "line \"" + line + "\" is longer than " + std::to_string(width) + where);
      FUZZ_CHECK(fuzz_markup_text_is(c.markup_lines[i], line, &why), why);
      all_lines += line;
    }
    FUZZ_CHECK(c.text(false).size() + 1 >= c.lines.size(), "text()");
    if (!words_in_order)
      continue;
    FUZZ_CHECK(c.start <= c.end, "cue " + std::to_string(k) + " ends before it starts" + where);
    FUZZ_CHECK(c.start >= seg_start,
               "cue " + std::to_string(k) + " starts before the segment" + where);
    FUZZ_CHECK(c.end - c.start <= std::max(cs.max_duration, cs.min_duration),
               "cue " + std::to_string(k) + " lasts too long" + where);
    FUZZ_CHECK(!c.extended || k + 1 == cues.size(), "an extended cue that is not the last" + where);
    if (k + 1 < cues.size())
      FUZZ_CHECK(c.end <= cues[k + 1].start,
                 "cue " + std::to_string(k) + " overlaps the next" + where);
  }
  FUZZ_CHECK(fuzz_without_spaces(all_lines) == fuzz_without_spaces(all_words),
             "the cues' text is not the words'" + where);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  FuzzedDataProvider fdp(data, size);
  /* The parameters come from the end of the input, the text from its start. */
  pt::CueSettings cs;
  if (fdp.ConsumeBool()) { /* the element's ranges (8..200, 1..10, ...) and a little beyond */
    cs.max_line_chars = fdp.ConsumeIntegralInRange<unsigned>(0, 210);
    cs.max_lines = fdp.ConsumeIntegralInRange<unsigned>(0, 11);
    cs.max_duration = fdp.ConsumeIntegralInRange<uint64_t>(0, 60000) * pt::kMsecond;
    cs.min_duration = fdp.ConsumeIntegralInRange<uint64_t>(0, 10000) * pt::kMsecond;
  }
  const bool mapped = fdp.ConsumeBool();
  const bool timed = fdp.ConsumeBool();
  const bool in_order = fdp.ConsumeBool();
  const uint64_t pts = fdp.ConsumeIntegralInRange<uint64_t>(0, 24 * 3600 * pt::kSecond);
  const uint64_t service_start = fdp.ConsumeIntegralInRange<uint64_t>(0, 3600 * pt::kSecond);
  const uint64_t service_len = fdp.ConsumeIntegralInRange<uint64_t>(0, 120 * pt::kSecond);
  const uint64_t audio_ns = fdp.ConsumeIntegralInRange<uint64_t>(0, 4000 * pt::kSecond);
  const size_t n_times = fdp.ConsumeIntegralInRange<size_t>(1, 64);
  std::vector<uint64_t> times;
  std::vector<double> confs;
  for (size_t i = 0; i < n_times; ++i) {
    times.push_back(service_start +
                    fdp.ConsumeIntegralInRange<uint64_t>(0, service_len + pt::kSecond));
    confs.push_back(fdp.ConsumeBool() ? -1.0 : fdp.ConsumeProbability<double>());
  }
  /* Vosk sends its words in order; a misbehaving service might not. */
  if (in_order)
    std::sort(times.begin(), times.end());
  std::string text = fdp.ConsumeRemainingBytesAsString();
  if (mapped)
    text = fuzz_persianish(std::vector<uint8_t>(text.begin(), text.end()));

  pt::Segment seg;
  seg.raw_text = pt::clean_text(text.c_str());
  pt::parse_uncertainty(seg);

  words_in_order = !timed || in_order;
  how = !timed     ? "Harf: no word times"
        : in_order ? "Nevisa: words in order"
                   : "Nevisa: words out of order";
  if (!timed) {
    /* Harf: the segment's own times, words without. */
    seg.start = service_start;
    seg.end = service_start + service_len;
    if (pt::check_segment_times(seg, audio_ns))
      return 0;
    check_cues(seg, pts + seg.start, pts + seg.end, cs);
    return 0;
  }
  /* Nevisa: words with times (end >= start), grouped into segments; each placed as batch_client
   * does. */
  for (size_t i = 0; i < seg.words.size(); ++i) {
    pt::Word &w = seg.words[i];
    /* in order: the words past the last time all end there */
    const size_t n = times.size();
    const uint64_t a = in_order ? times[std::min(i, n - 1)] : times[i % n];
    const uint64_t b = in_order ? times[std::min(i + 1, n - 1)] : times[(i + 1) % n];
    w.start = std::min(a, b);
    w.end = std::max(a, b);
    w.confidence = confs[i % confs.size()];
  }
  for (pt::Segment &s : pt::segments_from_words(seg.words, 600 * pt::kMsecond, 0.5)) {
    if (pt::check_segment_times(s, audio_ns))
      continue;
    const uint64_t start = pts + s.start;
    check_cues(s, start, start + (s.end > s.start ? s.end - s.start : 0), cs);
  }
  return 0;
}
