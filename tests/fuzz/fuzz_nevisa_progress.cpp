// SPDX-License-Identifier: LGPL-2.1-or-later
/* pt::parse_nevisa_progress(): Nevisa's celery-progress answers.  Every
 * input goes three ways: with its word list read one word at a time (what
 * long answers get), parsed whole, and read from a file a word at a time
 * (pt::NevisaAnswerFile, what answers too long to hold get, through 5-byte
 * blocks so that every token is cut somewhere); all must agree in
 * everything. */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_checks.h"
#include "service_answers.h"

namespace {

/* The answer as NevisaAnswerFile reads it from disk */
pt::NevisaProgress from_file(const char *text, size_t size, size_t max_held)
{
  static const int fd = memfd_create("nevisa-answer", 0);
  FUZZ_CHECK(fd >= 0, "memfd_create failed");
  FUZZ_CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, text, size, 0) == static_cast<ssize_t>(size),
             "cannot write the answer");
  pt::NevisaAnswerFile f(fd, size, max_held, 5);
  pt::NevisaProgress p = f.answer();
  FUZZ_CHECK(p.words.empty() && p.skipped.empty(), "words in the answer without its list");
  pt::Word w;
  std::vector<std::string> skipped;
  while (f.next(&w, &skipped))
    p.words.push_back(w);
  p.skipped = skipped;
  FUZZ_CHECK(!f.failed(), "a file that did not change read as changed");
  FUZZ_CHECK(f.words() == 0 || f.answer().word_by_word, "words counted but parsed whole");
  return p;
}

void check_same(const pt::NevisaProgress &p, const pt::NevisaProgress &whole, const char *way)
{
  FUZZ_CHECK(p.ok == whole.ok && p.state == whole.state && p.percent == whole.percent &&
                 p.failure == whole.failure && p.error == whole.error &&
                 p.skipped == whole.skipped && p.words.size() == whole.words.size(),
             std::string(way) + " and whole disagree: ok " + std::to_string(p.ok) + "/" +
                 std::to_string(whole.ok) + ", " + std::to_string(p.words.size()) + "/" +
                 std::to_string(whole.words.size()) + " words, error \"" + p.error + "\"/\"" +
                 whole.error + "\"");
  for (size_t i = 0; i < p.words.size(); ++i)
    FUZZ_CHECK(p.words[i].text == whole.words[i].text && p.words[i].start == whole.words[i].start &&
                   p.words[i].end == whole.words[i].end &&
                   p.words[i].confidence == whole.words[i].confidence,
               std::string(way) + ": word " + std::to_string(i) + " differs: \"" +
                   p.words[i].text + "\"/\"" + whole.words[i].text + "\"");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *text = reinterpret_cast<const char *>(data);
  pt::NevisaProgress p = pt::parse_nevisa_progress(text, size, 0);
  const pt::NevisaProgress whole = pt::parse_nevisa_progress_whole(text, size);
  check_same(p, whole, "one word at a time");
  check_same(from_file(text, size, size), whole, "from a file");
  /* Held to half its size: the same, or an error naming the limit */
  const pt::NevisaProgress half = from_file(text, size, size / 2);
  if (!(half.ok == whole.ok && half.state == whole.state))
    FUZZ_CHECK(!half.ok && half.words.empty() &&
                   half.error.find("max-answer-size") != std::string::npos,
               "held to half its size: \"" + half.error + "\"");
  else if (half.ok && half.state == "SUCCESS")
    check_same(half, whole, "from a file, held to half its size");
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
