// SPDX-License-Identifier: LGPL-2.1-or-later
// Nevisa: login tokens, uploads as celery tasks, progress answers, termination.
#include "nevisa_service.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace emu {
namespace detail {

namespace {

constexpr char kNevisaFailure[] = "خطا در پردازش: audio decode failed";

std::string random_hex(size_t n)
{
  std::string s;
  while (s.size() < n) {
    g_autofree char *uuid = g_uuid_string_random();
    for (const char *c = uuid; *c; ++c)
      if (*c != '-')
        s += *c;
  }
  s.resize(n);
  return s;
}

}  // namespace

NevisaService::NevisaService(const Options &o) : opts_(o), account_key_(random_hex(32)) {}

Answer NevisaService::login(RestRequest &r)
{
  if (r.method != "POST")
    return method_not_allowed(r.method);
  Answer error;
  if (body_error(r.body, &error))
    return error;
  const std::string &type = r.body.media_type();
  if (!r.body.is_json() && !r.body.is_multipart() && type != "application/x-www-form-urlencoded")
    return unsupported_media(type);
  std::string user, password;
  if (!r.body.field("username_or_phone_or_email", &user) || user.empty())
    return field_error("username_or_phone_or_email", "This field is required.");
  if (!r.body.field("password", &password) || password.empty())
    return field_error("password", "This field is required.");
  if (!opts_.nevisa_username.empty() &&
      (user != opts_.nevisa_username || password != opts_.nevisa_password)) {
    g_info("nevisa login as %s (%s): wrong username or password", user.c_str(), type.c_str());
    return detail_answer(SOUP_STATUS_UNAUTHORIZED, "Unable to log in with provided credentials.");
  }
  const std::string token = random_hex(40);  // a new token at every login, like the service
  tokens_.insert(token);
  g_info("nevisa login as %s (%s): token issued%s", user.c_str(), type.c_str(),
         opts_.nevisa_no_package ? ", no active package" : "");
  JsonWriter w;
  w.begin_object().key("message").string("Successfully logged in.").key("user").begin_object();
  w.key("id").string(new_task_id()).key("token").string(token).key("username").string(user);
  w.key("nevisa_service_account").begin_object().key("current_service_record");
  if (opts_.nevisa_no_package)
    w.null();
  else
    w.begin_object().key("key").string(account_key_).end_object();
  w.end_object().end_object().end_object();
  return json_answer(SOUP_STATUS_OK, w.str());
}

Answer NevisaService::recognize(RestRequest &r)
{
  if (r.method != "POST")
    return method_not_allowed(r.method);
  Answer error;
  if (body_error(r.body, &error))
    return error;
  if (!r.body.is_multipart())
    return unsupported_media(r.body.media_type());
  std::string token, key;
  if (!credentials(r.body, &token, &key))
    return unauthorized("Invalid auth_token or api_key.");
  const ReceivedPart *file = r.body.file("file");
  if (!file)
    return field_error("file", "No file was submitted. Check the encoding type on the form.");
  const std::string id = new_task_id();
  Task &t = tasks_[id];
  t.api_key = key;
  t.transcript = make_transcript(file->audio.result(), file->info.filename, opts_);
  r.record.task_id = id;
  g_info("nevisa upload %s: %" G_GUINT64_FORMAT " bytes, %s, %zu segment(s)",
         file->info.filename.c_str(), file->info.size,
         file->audio.result().pcm ? "PCM WAV" : "not a PCM WAV (script lines)",
         t.transcript.segments.size());
  std::string progress_url = std::string(kNevisaPrefix) + "/celery-progress/" + id + "/";
  if (opts_.nevisa_progress_fail == "bad-url") {
    progress_url = "http://[::1";
    r.record.fault = "bad-progress-url";
  }
  return json_answer(SOUP_STATUS_OK, JsonWriter()
                                         .begin_object()
                                         .key("progress_url")
                                         .string(progress_url)
                                         .key("task_id")
                                         .string(id)
                                         .end_object()
                                         .str());
}

Answer NevisaService::progress(RestRequest &r, const std::string &id)
{
  if (r.method != "GET" && r.method != "HEAD")
    return method_not_allowed(r.method);
  r.record.task_id = id;
  auto it = tasks_.find(id);
  if (it == tasks_.end())
    return json_answer(SOUP_STATUS_OK, pending_body());  // unknown: PENDING forever
  Task &t = it->second;
  const unsigned poll = t.polls++;
  const unsigned steps = opts_.progress_steps;
  if (t.revoked)
    return json_answer(SOUP_STATUS_OK, failed_body("REVOKED", "terminated"));
  if (opts_.nevisa_pending_forever)
    return json_answer(SOUP_STATUS_OK, pending_body());
  const auto &sequence = opts_.nevisa_percent_sequence;
  if (!sequence.empty() && poll < sequence.size())
    return json_answer(SOUP_STATUS_OK, progress_body(sequence[poll]));
  if (sequence.empty() && poll == 0)
    return json_answer(SOUP_STATUS_OK, pending_body());
  if (sequence.empty() && poll <= steps) {
    const int64_t percent = int64_t(poll) * 100 / (steps + 1);
    JsonWriter w;
    w.begin_object()
        .key("state")
        .string("PROGRESS")
        .key("complete")
        .boolean(false)
        .key("success")
        .null();
    progress_object(w, false, percent);
    return json_answer(SOUP_STATUS_OK, w.end_object().str());
  }
  if (opts_.nevisa_failure)
    return json_answer(SOUP_STATUS_OK, failed_body("FAILURE", kNevisaFailure));
  return json_answer(SOUP_STATUS_OK, success_body(t.transcript));
}

Answer NevisaService::terminate(RestRequest &r)
{
  if (r.method != "POST")
    return method_not_allowed(r.method);
  Answer error;
  if (body_error(r.body, &error))
    return error;
  if (!r.body.is_multipart())
    return unsupported_media(r.body.media_type());
  std::string token, key, id;
  if (!credentials(r.body, &token, &key) || !r.body.field("task_id", &id))
    return unauthorized("Invalid auth_token or api_key.");
  r.record.task_id = id;
  g_auto(GStrv) header = g_strsplit_set(r.authorization ? r.authorization : "", " \t", -1);
  std::vector<const char *> words;
  for (char **w = header; *w; ++w)
    if (**w)
      words.push_back(*w);
  if (words.size() != 2 || g_ascii_strcasecmp(words[0], "Token") != 0 || token != words[1])
    return unauthorized("Authorization header does not match auth_token.");
  auto it = tasks_.find(id);
  if (it == tasks_.end() || it->second.api_key != key)
    return unauthorized("Not your task.");
  it->second.revoked = true;
  g_info("nevisa task %s terminated", id.c_str());
  Answer a = detail_answer(SOUP_STATUS_OK, "terminated");
  a.delay_ms = opts_.terminate_delay_ms;
  return a;
}

bool NevisaService::credentials(const RequestBody &b, std::string *token, std::string *key) const
{
  return b.field("auth_token", token) && b.field("api_key", key) && accepts(*token, *key);
}

bool NevisaService::accepts(const std::string &token, const std::string &key) const
{
  if (!opts_.nevisa_static_token.empty() && token == opts_.nevisa_static_token &&
      key == opts_.nevisa_static_key)
    return true;
  return !opts_.nevisa_no_package && tokens_.count(token) && key == account_key_;
}

void NevisaService::progress_object(JsonWriter &w, bool pending, int64_t percent)
{
  w.key("progress")
      .begin_object()
      .key("pending")
      .boolean(pending)
      .key("current")
      .integer(percent)
      .key("total")
      .integer(100)
      .key("percent")
      .integer(percent)
      .end_object();
}

void NevisaService::progress_object(JsonWriter &w, double percent)
{
  w.key("progress")
      .begin_object()
      .key("pending")
      .boolean(false)
      .key("current")
      .number(percent)
      .key("total")
      .integer(100)
      .key("percent")
      .number(percent)
      .end_object();
}

std::string NevisaService::progress_body(double percent)
{
  JsonWriter w;
  w.begin_object().key("state").string("PROGRESS").key("complete").boolean(false).key("success");
  w.null();
  progress_object(w, percent);
  return w.end_object().str();
}

std::string NevisaService::pending_body()
{
  JsonWriter w;
  w.begin_object()
      .key("state")
      .string("PENDING")
      .key("complete")
      .boolean(false)
      .key("success")
      .null();
  progress_object(w, true, 0);
  return w.end_object().str();
}

std::string NevisaService::failed_body(const char *state, const char *result)
{
  JsonWriter w;
  w.begin_object()
      .key("state")
      .string(state)
      .key("complete")
      .boolean(true)
      .key("success")
      .boolean(false);
  progress_object(w, false, 100);
  return w.key("result").string(result).end_object().str();
}

std::string NevisaService::success_body(const Transcript &t) const
{
  JsonWriter w;
  w.begin_object()
      .key("state")
      .string("SUCCESS")
      .key("complete")
      .boolean(true)
      .key("success")
      .boolean(true);
  progress_object(w, false, 100);
  w.key("result").begin_object().key("transcription").begin_object().key("result").begin_array();
  std::string text;
  for (const auto &s : t.segments) {
    const auto words = split_words(s.text);
    std::vector<glong> chars;
    glong total = 0;
    for (const Word &word : words)
      total += chars.emplace_back(std::max<glong>(1, g_utf8_strlen(word.text.c_str(), -1)));
    const double start = double(s.start_ns) / 1e9, span = double(s.end_ns - s.start_ns) / 1e9;
    glong before = 0;
    for (size_t i = 0; i < words.size(); ++i) {
      const double a = start + span * double(before) / double(total);
      before += chars[i];
      const double b = start + span * double(before) / double(total);
      const bool first = text.empty();
      w.begin_object()
          .key("conf")
          .number(words[i].uncertain ? 0.35 : 0.9)
          .key("end")
          .number(std::round(b * 100) / 100);
      if (!(first && opts_.nevisa_first_word_no_start))
        w.key("start").number(std::round(a * 100) / 100);
      w.key("word");
      if (first)  // invalid_utf8, lone_surrogate: the first word
        w.raw(faulty_json_string(words[i].text, opts_));
      else
        w.string(words[i].text);
      w.end_object();
      text += (text.empty() ? "" : " ") + words[i].text;
    }
  }
  w.end_array().key("text").raw(faulty_json_string(text, opts_));
  w.end_object().key("final").boolean(true).end_object();
  return w.end_object().str();
}

}  // namespace detail
}  // namespace emu
