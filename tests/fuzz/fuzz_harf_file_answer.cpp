// SPDX-License-Identifier: LGPL-2.1-or-later
/* pt::parse_harf_file_answer(): Harf's REST answers, results and task
 * states.  Every input is also read from a file a segment at a time
 * (pt::HarfAnswerFile, what answers too long to hold get, through 5-byte
 * blocks), held whole if need be and held to half its size: it must give
 * the same answer, or (held to half) an error naming max-answer-size. */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_checks.h"
#include "service_answers.h"

namespace {

pt::HarfFileAnswer from_file(const char *text, size_t size, size_t max_held,
                             const std::string &what, size_t *usable, std::string *first_skipped)
{
  static const int fd = memfd_create("harf-answer", 0);
  FUZZ_CHECK(fd >= 0, "memfd_create failed");
  FUZZ_CHECK(ftruncate(fd, 0) == 0 && pwrite(fd, text, size, 0) == static_cast<ssize_t>(size),
             "cannot write the answer");
  pt::HarfAnswerFile f(fd, size, max_held, what, 5);
  pt::HarfFileAnswer a = f.answer();
  FUZZ_CHECK(a.segments.empty() && a.skipped.empty(), "segments in the answer without its list");
  *usable = f.usable();
  *first_skipped = f.first_skipped();
  pt::Segment seg;
  while (f.next(&seg, &a.skipped))
    a.segments.push_back(seg);
  FUZZ_CHECK(!f.failed(), "a file that did not change read as changed");
  return a;
}

void check_same(const pt::HarfFileAnswer &a, const pt::HarfFileAnswer &b, const char *way)
{
  FUZZ_CHECK(a.kind == b.kind && a.state == b.state && a.task_id == b.task_id &&
                 a.total_words == b.total_words && a.known_words == b.known_words &&
                 a.error == b.error && a.skipped == b.skipped &&
                 a.segments.size() == b.segments.size(),
             std::string(way) + " and whole disagree: kind " +
                 std::to_string(static_cast<int>(a.kind)) + "/" +
                 std::to_string(static_cast<int>(b.kind)) + ", " +
                 std::to_string(a.segments.size()) + "/" + std::to_string(b.segments.size()) +
                 " segments, error \"" + a.error + "\"/\"" + b.error + "\"");
  for (size_t i = 0; i < a.segments.size(); ++i) {
    const pt::Segment &x = a.segments[i], &y = b.segments[i];
    FUZZ_CHECK(x.id == y.id && x.raw_text == y.raw_text && x.text == y.text &&
                   x.start == y.start && x.end == y.end && x.words.size() == y.words.size(),
               std::string(way) + ": segment " + std::to_string(i) + " differs");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* Both names the client uses; which one does not change the parsing. */
  const std::string what = size % 2 ? "Harf upload" : "Harf task state";
  pt::HarfFileAnswer a =
      pt::parse_harf_file_answer(reinterpret_cast<const char *>(data), size, what);
  using Kind = pt::HarfFileAnswer::Kind;
  FUZZ_CHECK(
      (a.kind == Kind::Invalid) == !a.error.empty(),
      "kind " + std::to_string(static_cast<int>(a.kind)) + " with error \"" + a.error + "\"");
  FUZZ_CHECK_UTF8(a.error, "error");
  FUZZ_CHECK_UTF8(a.state, "state");
  FUZZ_CHECK_UTF8(a.task_id, "task_id");
  FUZZ_CHECK(a.task_id.size() <= 256, "task_id longer than 256 bytes");
  if (a.kind != Kind::Result)
    FUZZ_CHECK(a.segments.empty() && a.skipped.empty(), "segments in an answer that is no result");
  if (a.kind == Kind::Result)
    FUZZ_CHECK(a.state.empty() && a.task_id.empty(), "a task state in a result");
  int64_t last_id = -1;
  for (const pt::Segment &s : a.segments) {
    FUZZ_CHECK(s.id > last_id, "segment ids not increasing: " + std::to_string(s.id));
    last_id = s.id;
    FUZZ_CHECK(s.final, "a result segment that is not final");
    fuzz_check_parsed_segment(s);
  }
  for (const std::string &s : a.skipped)
    FUZZ_CHECK_UTF8(s, "a skipped segment's reason");

  const char *text = reinterpret_cast<const char *>(data);
  size_t usable = 0;
  std::string first_skipped;
  check_same(from_file(text, size, size, what, &usable, &first_skipped), a, "from a file");
  if (a.kind == Kind::Result) {
    FUZZ_CHECK(usable == a.segments.size(), "usable segments counted wrong");
    FUZZ_CHECK(first_skipped == (a.skipped.empty() ? "" : a.skipped[0]),
               "first skipped reason differs");
  }
  const pt::HarfFileAnswer half = from_file(text, size, size / 2, what, &usable, &first_skipped);
  if (half.kind == Kind::Invalid && a.kind != Kind::Invalid)
    FUZZ_CHECK(half.error.find("max-answer-size") != std::string::npos,
               "held to half its size: \"" + half.error + "\"");
  else if (half.kind == Kind::Result)
    check_same(half, a, "from a file, held to half its size");
  else
    FUZZ_CHECK(half.kind == a.kind, "held to half its size: another kind of answer");
  return 0;
}
