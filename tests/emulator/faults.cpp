// SPDX-License-Identifier: LGPL-2.1-or-later
// The REST fault switches: 401, throttling with Retry-After, HTML error and maintenance pages,
// celery-progress failures, deep and huge answers.
#include "faults.h"

#include <climits>

namespace emu {
namespace detail {

namespace {

constexpr char kNotJsonHtml[] =
    "<!doctype html>\n<html lang=\"fa\" dir=\"rtl\">\n<head>\n  <title>در دست "
    "تعمیر</title>\n</head>\n<body>\n"
    "  <h1>سرویس موقتاً در دست تعمیر است</h1>\n  <p>The service is under "
    "maintenance.</p>\n</body>\n</html>\n";

// Target names and the record kinds they stand for.
struct TargetName {
  const char *name, *kind;
};
constexpr TargetName kTargets[] = {
    {"harf-upload", "harf-transcribe"},
    {"harf-transcribe", "harf-transcribe"},
    {"harf-poll", "harf-poll"},
    {"nevisa-login", "nevisa-login"},
    {"nevisa-upload", "nevisa-recognize"},
    {"nevisa-recognize", "nevisa-recognize"},
    {"nevisa-progress", "nevisa-progress"},
    {"nevisa-terminate", "nevisa-terminate"},
};

Answer server_error()
{
  Answer a;
  a.status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
  a.body = kServerErrorHtml;
  a.content_type = "text/html; charset=utf-8";
  return a;
}

}  // namespace

bool target_matches(const std::string &target, const std::string &kind)
{
  for (const TargetName &t : kTargets)
    if (target == t.name)
      return kind == t.kind;
  return false;
}

Answer Faults::check(RestRecord &rec)
{
  const Options &o = opts_;
  const bool targeted =
      o.rest_fault_target.empty() || target_matches(o.rest_fault_target, rec.kind);
  if (o.http_401 && targeted) {
    rec.fault = "http-401";
    return unauthorized("Invalid token.");
  }
  if (throttle_left_ > 0 && targeted) {
    --throttle_left_;
    rec.fault = "throttle";
    Answer a = detail_answer(kStatusTooManyRequests, "Request was throttled.");
    if (!o.throttle_no_retry_after)
      a.headers.emplace_back(
          "Retry-After", o.retry_after.empty() ? std::to_string(o.retry_after_s) : o.retry_after);
    return a;
  }
  if (error_500_left_ > 0 && targeted) {
    --error_500_left_;
    rec.fault = "error-500";
    return server_error();
  }
  if (rec.kind == "nevisa-progress") {
    if (o.nevisa_progress_fail == "500") {
      rec.fault = "progress-500";
      return server_error();
    }
    if (o.nevisa_progress_fail == "hang") {
      rec.fault = "progress-hang";
      Answer a = detail_answer(SOUP_STATUS_SERVICE_UNAVAILABLE, "never answered");
      a.delay_ms = UINT_MAX;  // about 50 days; the client leaving or stop() ends it
      return a;
    }
  }
  return Answer{};
}

void Faults::not_json(Answer &answer, RestRecord &rec) const
{
  if (answer.status != SOUP_STATUS_OK)
    return;
  if (opts_.not_json) {
    rec.fault = "not-json";
  } else if (rec.kind == "nevisa-progress" && opts_.nevisa_progress_fail == "not-json") {
    rec.fault = "progress-not-json";
  } else {
    return;
  }
  answer.body = kNotJsonHtml;
  answer.content_type = "text/html; charset=utf-8";
}

void Faults::shape(Answer &answer, RestRecord &rec) const
{
  if (answer.status != SOUP_STATUS_OK || !rec.fault.empty())
    return;
  const Options &o = opts_;
  if (o.http_deep_json_depth > 0 && target_matches(o.http_deep_target, rec.kind)) {
    answer.body = nested_arrays(size_t(o.http_deep_json_depth));
    answer.content_type = "application/json";
    rec.fault = "deep-json";
  }
  if (o.http_huge_body_bytes > 0 && target_matches(o.http_huge_target, rec.kind)) {
    answer.stream_bytes = o.http_huge_body_bytes;
    rec.fault = "huge-body";
  }
}

}  // namespace detail

bool valid_rest_target(const std::string &name)
{
  for (const detail::TargetName &t : detail::kTargets)
    if (name == t.name)
      return true;
  return false;
}

}  // namespace emu
