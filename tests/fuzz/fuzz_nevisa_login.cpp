// SPDX-License-Identifier: LGPL-2.1-or-later
/* pt::parse_nevisa_login(): Nevisa's login answer. */
#include "fuzz_checks.h"
#include "service_answers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  pt::NevisaLogin l = pt::parse_nevisa_login(reinterpret_cast<const char *>(data), size);
  FUZZ_CHECK(l.ok == l.error.empty(),
             "ok " + std::to_string(l.ok) + " with error \"" + l.error + "\"");
  FUZZ_CHECK_UTF8(l.error, "error");
  FUZZ_CHECK_UTF8(l.auth_token, "auth_token");
  FUZZ_CHECK_UTF8(l.api_key, "api_key");
  FUZZ_CHECK(l.auth_token.size() <= pt::kMaxTextBytes && l.api_key.size() <= pt::kMaxTextBytes,
             "a credential longer than kMaxTextBytes");
  if (l.ok) {
    FUZZ_CHECK(!l.auth_token.empty(), "ok without a token");
    FUZZ_CHECK(l.no_package == l.api_key.empty(), "no_package does not match the API key");
  }
  return 0;
}
