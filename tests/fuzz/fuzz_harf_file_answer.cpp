// SPDX-License-Identifier: LGPL-2.1-or-later
/* pt::parse_harf_file_answer(): Harf's REST answers, results and task states. */
#include "fuzz_checks.h"
#include "service_answers.h"

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
  return 0;
}
