// SPDX-License-Identifier: LGPL-2.1-or-later
// Harf files (REST): upload checks, task polling and the finished-result body with word stats.
#include "harf_rest_service.h"

#include <utility>

namespace emu {
namespace detail {

namespace {

// DRF's BooleanField spellings.
bool parse_bool(std::string s, bool *out)
{
  for (auto &c : s)
    c = g_ascii_tolower(c);
  if (s == "true" || s == "1" || s == "yes" || s == "on") {
    *out = true;
    return true;
  }
  if (s == "false" || s == "0" || s == "no" || s == "off") {
    *out = false;
    return true;
  }
  return false;
}

}  // namespace

const char *HarfRestService::kind(const RequestBody &b)
{
  return poll_ids(b) ? "harf-poll" : "harf-transcribe";
}

Answer HarfRestService::handle(RestRequest &r)
{
  if (!token_authorized(opts_.token, r.authorization))
    return unauthorized("Invalid token.");
  if (r.method != "POST")
    return method_not_allowed(r.method);
  Answer error;
  if (body_error(r.body, &error))
    return error;
  if (r.body.is_json()) {
    if (JsonArray *ids = poll_ids(r.body)) {
      if (opts_.harf_poll_needs_media)
        return field_error("media_urls", "This field is required.");
      return poll(r, ids);
    }
    if (json_object_has_member(r.body.json_object(), "media_urls"))
      return field_error("media_urls", "unsupported in the emulator");
    return field_error("media_urls", "This field is required.");
  }
  if (r.body.is_multipart() || r.body.media_type() == "application/x-www-form-urlencoded")
    return upload(r);
  return unsupported_media(r.body.media_type());
}

JsonArray *HarfRestService::poll_ids(const RequestBody &b)
{
  JsonObject *obj = b.json_object();
  if (!obj)
    return nullptr;
  for (const char *name : {"tasks_ids", "task_ids"}) {
    JsonNode *node = json_object_get_member(obj, name);
    if (node && JSON_NODE_HOLDS_ARRAY(node))
      return json_node_get_array(node);
  }
  return nullptr;
}

Answer HarfRestService::upload(RestRequest &r)
{
  const ReceivedPart *media = r.body.file("media");
  if (!media)
    return field_error("media", "No file was submitted. Check the encoding type on the form.");
  bool wait = true;
  std::string text;
  if (r.body.field("wait", &text) && !parse_bool(text, &wait))
    return field_error("wait", "Must be a valid boolean.");
  Transcript t = make_transcript(media->audio.result(), media->info.filename, opts_);
  g_info("harf upload %s: %" G_GUINT64_FORMAT " bytes, %s, %zu segment(s), wait=%s",
         media->info.filename.c_str(), media->info.size,
         media->audio.result().pcm ? "PCM WAV" : "not a PCM WAV (script lines)", t.segments.size(),
         wait ? "true" : "false");
  if (wait) {
    Answer a = json_answer(SOUP_STATUS_OK, finished_body({&t}));
    a.delay_ms = opts_.delay_ms;
    return a;
  }
  const std::string id = new_task_id();
  tasks_[id] = Task{std::move(t), 0};
  r.record.task_id = id;
  JsonWriter w;
  w.begin_object().key("state");
  state_value(w, "PENDING");
  w.key("task_ids").begin_array().string(id).end_array().end_object();
  return json_answer(SOUP_STATUS_OK, w.str());
}

void HarfRestService::state_value(JsonWriter &w, const char *state) const
{
  if (opts_.harf_state_type.empty())
    w.string(state);
  else
    w.raw(opts_.harf_state_type);
}

std::string HarfRestService::state_body(const char *state) const
{
  JsonWriter w;
  w.begin_object().key("state");
  state_value(w, state);
  return w.end_object().str();
}

Answer HarfRestService::poll(RestRequest &r, JsonArray *ids)
{
  const guint n = json_array_get_length(ids);
  if (n == 0)
    return field_error("tasks_ids", "This list may not be empty.");
  bool pending = false;
  std::vector<const Transcript *> done;
  for (guint i = 0; i < n; ++i) {
    JsonNode *node = json_array_get_element(ids, i);
    if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING)
      return field_error("tasks_ids", "Not a valid string.");
    const std::string id = json_node_get_string(node);
    r.record.task_id += (i ? "," : "") + id;
    auto it = tasks_.find(id);
    if (it == tasks_.end() || ++it->second.polls <= opts_.poll_pending)
      pending = true;
    else
      done.push_back(&it->second.transcript);
  }
  return json_answer(SOUP_STATUS_OK, pending ? state_body("PENDING") : finished_body(done));
}

std::string HarfRestService::finished_body(const std::vector<const Transcript *> &ts) const
{
  if (opts_.harf_failure)
    return state_body("FAILURE");
  if (opts_.harf_timeout)
    return state_body("TIMEOUT");
  JsonWriter w;
  w.begin_array();
  for (const Transcript *t : ts) {
    int64_t words = 0, known = 0;
    w.begin_object()
        .key("media_url")
        .string(t->media_url)
        .key("duration")
        .string(format_timedelta(t->duration_ns));
    JsonWriter segments;
    segments.begin_array();
    for (const auto &s : t->segments) {
      segments.begin_object()
          .key("start")
          .string(format_timedelta(s.start_ns))
          .key("end")
          .string(format_timedelta(s.end_ns))
          .key("text");
      if (&s == &t->segments.front())  // invalid_utf8, lone_surrogate: the first text
        segments.raw(faulty_json_string(s.text, opts_));
      else
        segments.string(s.text);
      segments.end_object();
      for (const Word &word : split_words(s.text))
        ++words, known += word.uncertain ? 0 : 1;
    }
    segments.end_array();
    w.key("segments")
        .raw(opts_.harf_segments_value.empty() ? segments.str() : opts_.harf_segments_value);
    w.key("stats")
        .begin_object()
        .key("words")
        .integer(words)
        .key("known_words")
        .integer(known)
        .end_object();
    w.end_object();
  }
  w.end_array();
  return w.str();
}

}  // namespace detail
}  // namespace emu
