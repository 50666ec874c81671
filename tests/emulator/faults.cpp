// SPDX-License-Identifier: LGPL-2.1-or-later
// The REST fault switches: 401, throttling with Retry-After, HTML error and maintenance pages.
#include "faults.h"

namespace emu {
namespace detail {

namespace {

constexpr char kServerErrorHtml[] =
    "<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Server Error "
    "(500)</title>\n</head>\n<body>\n"
    "  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n";
constexpr char kNotJsonHtml[] =
    "<!doctype html>\n<html lang=\"fa\" dir=\"rtl\">\n<head>\n  <title>در دست "
    "تعمیر</title>\n</head>\n<body>\n"
    "  <h1>سرویس موقتاً در دست تعمیر است</h1>\n  <p>The service is under "
    "maintenance.</p>\n</body>\n</html>\n";

}  // namespace

Answer Faults::check(RestRecord &rec)
{
  const Options &o = opts_;
  if (o.http_401) {
    rec.fault = "http-401";
    return unauthorized("Invalid token.");
  }
  if (throttle_left_ > 0) {
    --throttle_left_;
    rec.fault = "throttle";
    Answer a = detail_answer(kStatusTooManyRequests, "Request was throttled.");
    a.headers.emplace_back("Retry-After", std::to_string(o.retry_after_s));
    return a;
  }
  if (error_500_left_ > 0) {
    --error_500_left_;
    rec.fault = "error-500";
    Answer a;
    a.status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
    a.body = kServerErrorHtml;
    a.content_type = "text/html; charset=utf-8";
    return a;
  }
  return Answer{};
}

void Faults::not_json(Answer &answer, RestRecord &rec) const
{
  if (opts_.not_json && answer.status == SOUP_STATUS_OK) {
    answer.body = kNotJsonHtml;
    answer.content_type = "text/html; charset=utf-8";
    rec.fault = "not-json";
  }
}

}  // namespace detail
}  // namespace emu
