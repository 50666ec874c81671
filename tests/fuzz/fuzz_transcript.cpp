// SPDX-License-Identifier: LGPL-2.1-or-later
/* The transcript model (src/transcript.h) on Persian-ish text and any times:
 *   - pt::parse_uncertainty(): words and [uncertain] words of a Harf text;
 *   - pt::segments_from_words(): Nevisa's timed words grouped into segments;
 *   - pt::check_segment_times(): impossible times refused, late ends clamped. */
#include <fuzzer/FuzzedDataProvider.h>

#include "fuzz_checks.h"

namespace {

/* ns, mostly within a few hours (where real times are), sometimes anything. */
uint64_t fuzz_time(FuzzedDataProvider &fdp)
{
  switch (fdp.ConsumeIntegralInRange<int>(0, 7)) {
    case 0:
      return pt::kNoTime;
    case 1:
      return fdp.ConsumeIntegral<uint64_t>();
    default:
      return fdp.ConsumeIntegralInRange<uint64_t>(0, 4 * 3600 * pt::kSecond);
  }
}

bool ends_sentence(const std::string &w)
{
  for (const char *m : {".", "!", "?", "\u061F", "\u2026", "\u06D4"}) {
    const size_t n = strlen(m);
    if (w.size() >= n && w.compare(w.size() - n, n, m) == 0)
      return true;
  }
  return false;
}

void check_grouping(const std::vector<pt::Word> &words, uint64_t max_pause, double min_conf)
{
  std::vector<pt::Segment> segs = pt::segments_from_words(words, max_pause, min_conf);
  size_t k = 0;
  for (size_t i = 0; i < segs.size(); ++i) {
    const pt::Segment &s = segs[i];
    FUZZ_CHECK(s.id == static_cast<int64_t>(i), "segment ids are not 0, 1, ...");
    FUZZ_CHECK(!s.words.empty(), "an empty segment");
    FUZZ_CHECK(s.final, "a segment from words that is not final");
    FUZZ_CHECK(s.start == s.words.front().start && s.end == s.words.back().end,
               "the segment's times are not its first and last words'");
    std::string text;
    for (size_t j = 0; j < s.words.size(); ++j, ++k) {
      const pt::Word &w = s.words[j];
      FUZZ_CHECK(k < words.size(), "more words out than in");
      const pt::Word &in = words[k];
      FUZZ_CHECK(w.text == in.text && w.start == in.start && w.end == in.end &&
                     w.confidence == in.confidence,
                 "word " + std::to_string(k) + " changed or moved");
      FUZZ_CHECK(w.uncertain == (in.confidence >= 0 && in.confidence < min_conf),
                 "word " + std::to_string(k) + "'s uncertainty");
      if (j > 0) {
        const pt::Word &prev = s.words[j - 1];
        FUZZ_CHECK(
            !(w.start > prev.end && w.start - prev.end > max_pause) && !ends_sentence(prev.text),
            "a pause or a sentence end inside a segment, before word " + std::to_string(k));
      }
      if (!text.empty())
        text += ' ';
      text += w.text;
    }
    FUZZ_CHECK(s.text == text && s.raw_text == text, "the segment's text is not its words'");
    if (i + 1 < segs.size()) {
      const pt::Word &last = s.words.back(), &next = segs[i + 1].words.front();
      FUZZ_CHECK(
          (next.start > last.end && next.start - last.end > max_pause) || ends_sentence(last.text),
          "a segment split without a pause or a sentence end, before word " + std::to_string(k));
    }
  }
  FUZZ_CHECK(k == words.size(),
             "words lost: " + std::to_string(k) + " of " + std::to_string(words.size()));
}

void check_times(pt::Segment seg, uint64_t audio_ns)
{
  const pt::Segment before = seg;
  std::optional<std::string> bad = pt::check_segment_times(seg, audio_ns);
  const uint64_t limit =
      audio_ns > UINT64_MAX - pt::kTimeSlack ? UINT64_MAX : audio_ns + pt::kTimeSlack;
  const bool impossible = before.end < before.start || before.start > limit;
  FUZZ_CHECK(bad.has_value() == impossible, "check_segment_times(" + std::to_string(before.start) +
                                                ".." + std::to_string(before.end) + ", audio " +
                                                std::to_string(audio_ns) +
                                                "): " + bad.value_or("usable"));
  if (bad) {
    FUZZ_CHECK(!bad->empty(), "an empty reason");
    FUZZ_CHECK_UTF8(*bad, "the reason");
    FUZZ_CHECK(seg.start == before.start && seg.end == before.end, "a refused segment was changed");
    return;
  }
  FUZZ_CHECK(seg.start == before.start, "the start was changed");
  FUZZ_CHECK(
      seg.end >= seg.start && seg.end <= before.end && seg.end <= std::max(seg.start, audio_ns),
      "end " + std::to_string(seg.end) + " for " + std::to_string(before.start) + ".." +
          std::to_string(before.end) + ", audio " + std::to_string(audio_ns));
  for (size_t i = 0; i < seg.words.size(); ++i) {
    const pt::Word &w = seg.words[i], &was = before.words[i];
    FUZZ_CHECK(w.start == (was.start == pt::kNoTime ? pt::kNoTime : std::min(was.start, seg.end)) &&
                   w.end == (was.end == pt::kNoTime ? pt::kNoTime : std::min(was.end, seg.end)),
               "word " + std::to_string(i) + "'s times were not clamped to the segment's end");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  FuzzedDataProvider fdp(data, size);
  /* The parameters come from the end of the input, the text from its start:
   * a plain text file is a useful seed. */
  const bool mapped = fdp.ConsumeBool();
  const uint64_t max_pause = fdp.ConsumeIntegralInRange<uint64_t>(0, 5 * pt::kSecond);
  const double min_conf = fdp.ConsumeProbability<double>();
  const uint64_t audio_ns = fuzz_time(fdp);
  const uint64_t seg_start = fuzz_time(fdp), seg_end = fuzz_time(fdp);
  const size_t n_times = fdp.ConsumeIntegralInRange<size_t>(0, 64);
  std::vector<uint64_t> times;
  std::vector<double> confs;
  for (size_t i = 0; i < n_times; ++i) {
    times.push_back(fuzz_time(fdp));
    confs.push_back(fdp.ConsumeBool() ? -1.0 : fdp.ConsumeFloatingPointInRange<double>(-0.5, 1.5));
  }
  std::string text = fdp.ConsumeRemainingBytesAsString();
  if (mapped)
    text = fuzz_persianish(std::vector<uint8_t>(text.begin(), text.end()));

  /* 1. Harf: the raw text as it arrives, and as the parsers clean it. */
  pt::Segment seg;
  seg.raw_text = text;
  pt::parse_uncertainty(seg);
  fuzz_check_uncertainty(seg, fuzz_valid_utf8(text));
  seg.raw_text = pt::clean_text(text.c_str());
  pt::parse_uncertainty(seg);
  fuzz_check_uncertainty(seg, true);

  /* 2. Nevisa: those words with times and confidences (a word's end is
   * never before its start: the parser sees to that). */
  std::vector<pt::Word> words = seg.words;
  for (size_t i = 0; i < words.size(); ++i) {
    pt::Word &w = words[i];
    w.uncertain = false;
    if (!times.empty()) {
      const uint64_t a = times[i % times.size()], b = times[(i + 1) % times.size()];
      w.start = std::min(a, b);
      w.end = std::max(a, b);
      w.confidence = confs[i % confs.size()];
    }
  }
  check_grouping(words, max_pause, min_conf);

  /* 3. Times against the audio received, for segments as either backend
   * makes them. */
  seg.start = seg_start;
  seg.end = seg_end;
  check_times(seg, audio_ns);
  for (pt::Segment &s : pt::segments_from_words(words, max_pause, min_conf))
    check_times(s, audio_ns);
  return 0;
}
