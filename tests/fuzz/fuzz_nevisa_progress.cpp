// SPDX-License-Identifier: LGPL-2.1-or-later
/* pt::parse_nevisa_progress(): Nevisa's celery-progress answers.  Every
 * input goes both ways: with its word list read one word at a time (what
 * long answers get) and parsed whole; the two must agree in everything. */
#include "fuzz_checks.h"
#include "service_answers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *text = reinterpret_cast<const char *>(data);
  pt::NevisaProgress p = pt::parse_nevisa_progress(text, size, 0);
  const pt::NevisaProgress whole = pt::parse_nevisa_progress_whole(text, size);
  FUZZ_CHECK(p.ok == whole.ok && p.state == whole.state && p.percent == whole.percent &&
                 p.failure == whole.failure && p.error == whole.error &&
                 p.skipped == whole.skipped && p.words.size() == whole.words.size(),
             "one word at a time and whole disagree: ok " + std::to_string(p.ok) + "/" +
                 std::to_string(whole.ok) + ", " + std::to_string(p.words.size()) + "/" +
                 std::to_string(whole.words.size()) + " words, error \"" + p.error + "\"/\"" +
                 whole.error + "\"");
  for (size_t i = 0; i < p.words.size(); ++i)
    FUZZ_CHECK(p.words[i].text == whole.words[i].text && p.words[i].start == whole.words[i].start &&
                   p.words[i].end == whole.words[i].end &&
                   p.words[i].confidence == whole.words[i].confidence,
               "word " + std::to_string(i) + " differs: \"" + p.words[i].text + "\"/\"" +
                   whole.words[i].text + "\"");
  FUZZ_CHECK(p.ok == p.error.empty(),
             "ok " + std::to_string(p.ok) + " with error \"" + p.error + "\"");
  FUZZ_CHECK_UTF8(p.error, "error");
  FUZZ_CHECK_UTF8(p.state, "state");
  FUZZ_CHECK_UTF8(p.failure, "failure");
  /* 2000 bytes of the answer, each invalid byte (or piece of a character
   * cut at the end) as U+FFFD, then "…" */
  FUZZ_CHECK(p.failure.size() <= 3 * 2000 + 3,
             "failure longer than 2000 bytes: " + std::to_string(p.failure.size()));
  FUZZ_CHECK(p.percent == -1 || (p.percent >= 0 && p.percent <= 100),
             "percent out of range: " + std::to_string(p.percent));
  if (p.ok && p.state == "SUCCESS")
    FUZZ_CHECK(p.percent == 100, "SUCCESS below 100 %");
  if (!p.ok || p.state != "SUCCESS")
    FUZZ_CHECK(p.words.empty(), "words without SUCCESS");
  for (const pt::Word &w : p.words) {
    FUZZ_CHECK(!w.text.empty(), "a word without text");
    FUZZ_CHECK_UTF8(w.text, "a word");
    FUZZ_CHECK(w.start != pt::kNoTime && w.end != pt::kNoTime, "a word without a time");
    FUZZ_CHECK(w.end >= w.start, "a word ends before it starts");
    FUZZ_CHECK(w.confidence == -1 || (w.confidence >= 0 && w.confidence <= 1),
               "confidence out of range: " + std::to_string(w.confidence));
    FUZZ_CHECK(!w.uncertain, "a parsed word marked uncertain");
  }
  for (const std::string &s : p.skipped)
    FUZZ_CHECK_UTF8(s, "a skipped word's reason");
  return 0;
}
