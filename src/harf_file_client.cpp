// SPDX-License-Identifier: LGPL-2.1-or-later
/* Harf's file API: upload the recording in the `media` field; with
 * harf-wait the answer holds the result, without it the task ids are
 * polled with {"tasks_ids": [...], "wait": false}. */
#include <gst/gst.h>

#include "batch_client.h"
#include "harf_reply.h"
#include "io_thread.h"

GST_DEBUG_CATEGORY_EXTERN(pt_batch_debug);
#define GST_CAT_DEFAULT pt_batch_debug

namespace pt {

namespace {

class HarfFileClient final : public BatchClient {
 public:
  using BatchClient::BatchClient;

 private:
  std::vector<std::pair<std::string, std::string>> auth() const
  {
    return {{"Authorization", authorization_value(settings_)}};
  }

  void run(const std::string &file, const std::string &filename,
           const std::string &content_type) override
  {
    HttpRequest req;
    req.method = "POST";
    req.url = settings_.harf_api_url;
    req.headers = auth();
    req.multipart = std::make_shared<MultipartBody>(std::vector<MultipartPart>{
        {"media", "", file, filename,
         content_type.empty() ? "application/octet-stream" : content_type},
        {"wait", settings_.harf_wait ? "true" : "false", "", "", ""}});
    req.on_upload_progress = [this](uint64_t sent, uint64_t total) {
      upload_progress(sent, total);
    };
    GST_INFO_OBJECT(host_->log_object(), "uploading %s to %s (wait=%d)", file.c_str(),
                    req.url.c_str(), settings_.harf_wait);
    http_->send(std::move(req), [this](const HttpResponse &r) { answered(r, "Harf upload"); });
  }

  void poll()
  {
    HttpRequest req;
    req.method = "POST";
    req.url = settings_.harf_api_url;
    req.headers = auth();
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "tasks_ids");
    json_builder_begin_array(b);
    json_builder_add_string_value(b, task_id_.c_str());
    json_builder_end_array(b);
    json_builder_set_member_name(b, "wait");
    json_builder_add_boolean_value(b, FALSE);
    json_builder_end_object(b);
    set_json_body(req, b);
    http_->send(std::move(req), [this](const HttpResponse &r) { answered(r, "Harf task state"); });
  }

  /* Either the result array, or {"state": ...} (with task_ids after a
   * wait=false upload). */
  void answered(const HttpResponse &r, const std::string &what)
  {
    if (fail_on_http(r, what, settings_.harf_api_url))
      return;
    JsonNode *root = parse_json(r, what);
    if (!root)
      return;
    if (JSON_NODE_HOLDS_ARRAY(root)) {
      post_progress(task_id_, "SUCCESS", 100);
      result(root);
      json_node_unref(root);
      return;
    }
    JsonObject *o = JSON_NODE_HOLDS_OBJECT(root) ? json_node_get_object(root) : nullptr;
    std::string state = o && json_object_has_member(o, "state") &&
                                JSON_NODE_HOLDS_VALUE(json_object_get_member(o, "state"))
                            ? json_object_get_string_member(o, "state")
                            : "";
    if (o && task_id_.empty()) {
      const char *key = json_object_has_member(o, "task_ids")    ? "task_ids"
                        : json_object_has_member(o, "tasks_ids") ? "tasks_ids"
                                                                 : nullptr;
      JsonNode *ids = key ? json_object_get_member(o, key) : nullptr;
      if (ids && JSON_NODE_HOLDS_ARRAY(ids) &&
          json_array_get_length(json_node_get_array(ids)) > 0) {
        JsonNode *first = json_array_get_element(json_node_get_array(ids), 0);
        if (JSON_NODE_HOLDS_VALUE(first))
          task_id_ = json_node_get_value_type(first) == G_TYPE_STRING
                         ? json_node_get_string(first)
                         : std::to_string(json_node_get_int(first));
      }
    }
    std::string body = quote_excerpt(r.body.data(), r.body.size());
    json_node_unref(root);
    if (state == "FAILURE") {
      fail(ErrorKind::Failed, "Harf could not transcribe the audio (state FAILURE): " + body, body);
    } else if (state == "TIMEOUT") {
      fail(ErrorKind::Failed,
           "Harf gave up: the file took longer than the service allows (state TIMEOUT): " + body,
           body);
    } else if (state == "PENDING" && !task_id_.empty()) {
      post_progress(task_id_, state, -1);
      schedule_poll([this] { poll(); });
    } else {
      fail(ErrorKind::Failed, what + " answered neither a result nor a task state: " + body);
    }
  }

  void result(JsonNode *root)
  {
    JsonArray *a = json_node_get_array(root);
    if (json_array_get_length(a) == 0 || !JSON_NODE_HOLDS_OBJECT(json_array_get_element(a, 0))) {
      fail(ErrorKind::Failed, "Harf answered an empty result");
      return;
    }
    JsonObject *o = json_array_get_object_element(a, 0);
    int64_t words = -1, known = -1;
    if (json_object_has_member(o, "stats") &&
        JSON_NODE_HOLDS_OBJECT(json_object_get_member(o, "stats"))) {
      JsonObject *st = json_object_get_object_member(o, "stats");
      if (json_object_has_member(st, "words"))
        words = json_object_get_int_member(st, "words");
      if (json_object_has_member(st, "known_words"))
        known = json_object_get_int_member(st, "known_words");
    }
    std::vector<Segment> segs;
    if (json_object_has_member(o, "segments") &&
        JSON_NODE_HOLDS_ARRAY(json_object_get_member(o, "segments"))) {
      JsonArray *sa = json_object_get_array_member(o, "segments");
      for (guint i = 0; i < json_array_get_length(sa); ++i) {
        JsonNode *sn = json_array_get_element(sa, i);
        HarfReply rep = parse_harf_reply(sn);
        if (rep.kind != HarfReply::Kind::Segment) {
          GST_WARNING_OBJECT(host_->log_object(), "skipping a segment Harf sent: %s",
                             rep.error.c_str());
          continue;
        }
        rep.segment.id = static_cast<int64_t>(i);
        rep.segment.final = true;
        segs.push_back(std::move(rep.segment));
      }
    }
    deliver_segments(std::move(segs), words, known);
    done();
  }

  std::string task_id_;
};

}  // namespace

std::unique_ptr<Backend> make_harf_file_client(const Settings &s, BackendHost *host, IoThread *io,
                                               uint64_t time_base)
{
  return std::make_unique<HarfFileClient>(s, host, io, time_base);
}

}  // namespace pt
