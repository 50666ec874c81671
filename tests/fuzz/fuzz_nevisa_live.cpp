// SPDX-License-Identifier: LGPL-2.1-or-later
/* pt::parse_nevisa_live_message(): one text message of Nevisa's live
 * WebSocket (subjects, partials, final results with Vosk words). */
#include "fuzz_checks.h"
#include "service_answers.h"
#include "time_value.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  using K = pt::NevisaLiveMessage::Kind;
  pt::NevisaLiveMessage m =
      pt::parse_nevisa_live_message(reinterpret_cast<const char *>(data), size);
  FUZZ_CHECK(
      (m.kind == K::Malformed) == !m.error.empty(),
      "kind " + std::to_string(static_cast<int>(m.kind)) + " with error \"" + m.error + "\"");
  FUZZ_CHECK_UTF8(m.error, "error");
  FUZZ_CHECK_UTF8(m.subject, "subject");
  FUZZ_CHECK_UTF8(m.text, "text");
  FUZZ_CHECK(m.subject.size() <= 256, "subject longer than 256 bytes");
  FUZZ_CHECK(m.kind == K::Subject || m.subject.empty(), "a subject on another kind");
  FUZZ_CHECK(m.kind == K::Final || m.words.empty(), "words on a message that is not final");
  for (const pt::Word &w : m.words) {
    FUZZ_CHECK_UTF8(w.text, "word");
    FUZZ_CHECK(!w.text.empty(), "a word without text");
    FUZZ_CHECK(w.start != pt::kNoTime && w.end != pt::kNoTime, "a word without a time");
    FUZZ_CHECK(w.end >= w.start, "a word that ends before it starts");
    FUZZ_CHECK(w.confidence == -1 || (w.confidence >= 0 && w.confidence <= 1),
               "a confidence out of 0..1: " + std::to_string(w.confidence));
  }
  for (const std::string &why : m.skipped)
    FUZZ_CHECK_UTF8(why, "skipped");
  return 0;
}
