// SPDX-License-Identifier: LGPL-2.1-or-later
/* pt::parse_harf_reply(): one text message from Harf's live WebSocket. */
#include "fuzz_checks.h"
#include "harf_reply.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  pt::HarfReply r = pt::parse_harf_reply(reinterpret_cast<const char *>(data), size);
  using Kind = pt::HarfReply::Kind;
  FUZZ_CHECK(r.kind == Kind::Pending || r.kind == Kind::Segment || r.kind == Kind::Malformed,
             "unknown kind " + std::to_string(static_cast<int>(r.kind)));
  FUZZ_CHECK(
      (r.kind == Kind::Malformed) == !r.error.empty(),
      "kind " + std::to_string(static_cast<int>(r.kind)) + " with error \"" + r.error + "\"");
  FUZZ_CHECK_UTF8(r.error, "error");
  FUZZ_CHECK_UTF8(r.state, "state");
  FUZZ_CHECK(r.state.size() <= pt::kMaxTextBytes, "state is longer than kMaxTextBytes");
  if (r.kind == Kind::Segment)
    fuzz_check_parsed_segment(r.segment);
  return 0;
}
