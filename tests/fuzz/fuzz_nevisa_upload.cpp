// SPDX-License-Identifier: LGPL-2.1-or-later
/* pt::parse_nevisa_upload(): Nevisa's answer to recognize-file. */
#include "fuzz_checks.h"
#include "service_answers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  pt::NevisaUpload u = pt::parse_nevisa_upload(reinterpret_cast<const char *>(data), size);
  FUZZ_CHECK(u.ok == u.error.empty(),
             "ok " + std::to_string(u.ok) + " with error \"" + u.error + "\"");
  FUZZ_CHECK_UTF8(u.error, "error");
  FUZZ_CHECK_UTF8(u.task_id, "task_id");
  FUZZ_CHECK_UTF8(u.progress_url, "progress_url");
  if (u.ok)
    FUZZ_CHECK(!u.progress_url.empty(), "ok without a progress URL");
  return 0;
}
