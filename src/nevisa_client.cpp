// SPDX-License-Identifier: LGPL-2.1-or-later
/* Nevisa (PersianSpeech) file API: log in once, upload, poll the
 * celery-progress view, and terminate the task if the pipeline stops. */
#include <gst/gst.h>

#include "batch_client.h"
#include "harf_reply.h"
#include "io_thread.h"

GST_DEBUG_CATEGORY_EXTERN(pt_batch_debug);
#define GST_CAT_DEFAULT pt_batch_debug

namespace pt {

namespace {

/* How long a terminate-task request may take, after the element is gone. */
constexpr unsigned kTerminateTimeoutS = 10;

/* obj.a.b.c, or null; never asserts on a wrong shape */
JsonNode *member_path(JsonNode *node, std::initializer_list<const char *> path)
{
  for (const char *name : path) {
    if (!node || !JSON_NODE_HOLDS_OBJECT(node))
      return nullptr;
    JsonObject *o = json_node_get_object(node);
    if (!json_object_has_member(o, name))
      return nullptr;
    node = json_object_get_member(o, name);
  }
  return node;
}

std::string string_at(JsonNode *node, std::initializer_list<const char *> path)
{
  JsonNode *n = member_path(node, path);
  if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING)
    return json_node_get_string(n);
  if (n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_INT64)
    return std::to_string(json_node_get_int(n));
  return "";
}

double number_at(JsonNode *node, std::initializer_list<const char *> path, double fallback)
{
  JsonNode *n = member_path(node, path);
  if (n && JSON_NODE_HOLDS_VALUE(n)) {
    GType t = json_node_get_value_type(n);
    if (t == G_TYPE_DOUBLE || t == G_TYPE_INT64)
      return json_node_get_double(n);
    if (t == G_TYPE_STRING) {
      auto v = parse_time_value(json_node_get_string(n));
      if (v)
        return static_cast<double>(*v) / 1e9;
    }
  }
  return fallback;
}

/* The failure text of a FAILURE/REVOKED/RETRY result: a string or an object */
std::string result_text(JsonNode *root)
{
  JsonNode *r = member_path(root, {"result"});
  if (!r)
    return "no details";
  if (JSON_NODE_HOLDS_VALUE(r) && json_node_get_value_type(r) == G_TYPE_STRING)
    return json_node_get_string(r);
  gchar *s = json_to_string(r, FALSE);
  std::string out = s;
  g_free(s);
  return out;
}

class NevisaClient final : public BatchClient {
 public:
  using BatchClient::BatchClient;

 private:
  void run(const std::string &file, const std::string &filename,
           const std::string &content_type) override
  {
    file_ = file;
    filename_ = filename;
    content_type_ = content_type.empty() ? "application/octet-stream" : content_type;
    auth_token_ = settings_.nevisa_auth_token;
    api_key_ = settings_.nevisa_api_key;
    if (!auth_token_.empty() && !api_key_.empty())
      upload();
    else
      login();
  }

  void login()
  {
    HttpRequest req;
    req.method = "POST";
    req.url = settings_.nevisa_login_url;
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "username_or_phone_or_email");
    json_builder_add_string_value(b, settings_.nevisa_username.c_str());
    json_builder_set_member_name(b, "password");
    json_builder_add_string_value(b, settings_.nevisa_password.c_str());
    json_builder_end_object(b);
    set_json_body(req, b);
    GST_INFO_OBJECT(host_->log_object(), "logging in to Nevisa at %s", req.url.c_str());
    http_->send(std::move(req), [this](const HttpResponse &r) {
      if (fail_on_http(r, "Nevisa login", settings_.nevisa_login_url))
        return;
      JsonNode *root = parse_json(r, "Nevisa login");
      if (!root)
        return;
      auth_token_ = string_at(root, {"user", "token"});
      JsonNode *record =
          member_path(root, {"user", "nevisa_service_account", "current_service_record"});
      api_key_ =
          string_at(root, {"user", "nevisa_service_account", "current_service_record", "key"});
      bool no_package = !record || JSON_NODE_HOLDS_NULL(record);
      json_node_unref(root);
      if (auth_token_.empty()) {
        fail(ErrorKind::Failed, "Nevisa login answered without user.token", "");
        return;
      }
      if (no_package || api_key_.empty()) {
        fail(ErrorKind::NotAuthorized,
             "The Nevisa account has no active package (current_service_record is null): "
             "activate a package in your Nevisa account, then try again",
             "", kReasonNoPackage);
        return;
      }
      upload();
    });
  }

  void upload()
  {
    HttpRequest req;
    req.method = "POST";
    req.url = resolve(settings_.nevisa_api_url, "recognize-file");
    req.multipart = std::make_shared<MultipartBody>(
        std::vector<MultipartPart>{{"auth_token", auth_token_, "", "", ""},
                                   {"api_key", api_key_, "", "", ""},
                                   {"file", "", file_, filename_, content_type_}});
    req.on_upload_progress = [this](uint64_t sent, uint64_t total) {
      upload_progress(sent, total);
    };
    upload_url_ = req.url;
    GST_INFO_OBJECT(host_->log_object(), "uploading %s to %s", file_.c_str(), req.url.c_str());
    http_->send(std::move(req), [this](const HttpResponse &r) {
      if (fail_on_http(r, "Nevisa upload", upload_url_))
        return;
      JsonNode *root = parse_json(r, "Nevisa upload");
      if (!root)
        return;
      task_id_ = string_at(root, {"task_id"});
      std::string progress = string_at(root, {"progress_url"});
      json_node_unref(root);
      if (task_id_.empty() && progress.empty()) {
        fail(ErrorKind::Failed, "Nevisa upload answered without task_id or progress_url: " +
                                    quote_excerpt(r.body.data(), r.body.size()));
        return;
      }
      if (progress.empty())
        progress = "celery-progress/" + task_id_ + "/";
      /* progress_url is relative to the API URL */
      progress_url_ = resolve(settings_.nevisa_api_url, progress);
      GST_INFO_OBJECT(host_->log_object(), "Nevisa task %s, polling %s", task_id_.c_str(),
                      progress_url_.c_str());
      post_progress(task_id_, "PENDING", -1);
      schedule_poll([this] { poll(); });
    });
  }

  void poll()
  {
    HttpRequest req;
    req.url = progress_url_;
    http_->send(std::move(req), [this](const HttpResponse &r) {
      if (fail_on_http(r, "Nevisa progress", progress_url_))
        return;
      JsonNode *root = parse_json(r, "Nevisa progress");
      if (!root)
        return;
      std::string state = string_at(root, {"state"});
      double percent = number_at(root, {"progress", "percent"}, -1);
      if (state == "SUCCESS")
        percent = 100;
      post_progress(task_id_, state.empty() ? "UNKNOWN" : state, percent);
      if (state == "SUCCESS") {
        complete_ = true;
        std::vector<Word> words;
        JsonNode *list = member_path(root, {"result", "transcription", "result"});
        if (list && JSON_NODE_HOLDS_ARRAY(list)) {
          JsonArray *a = json_node_get_array(list);
          for (guint i = 0; i < json_array_get_length(a); ++i) {
            JsonNode *w = json_array_get_element(a, i);
            Word word;
            word.text = string_at(w, {"word"});
            if (word.text.empty())
              continue;
            double start = number_at(w, {"start"}, -1), end = number_at(w, {"end"}, -1);
            auto s = seconds_to_ns(start), e = seconds_to_ns(end);
            word.start = s ? *s : kNoTime;
            word.end = e ? std::max(*e, word.start) : word.start;
            word.confidence = number_at(w, {"conf"}, -1);
            words.push_back(std::move(word));
          }
        }
        json_node_unref(root);
        deliver_segments(segments_from_words(words, 600 * kMsecond, settings_.min_confidence));
        done();
        return;
      }
      if (state == "FAILURE" || state == "REVOKED" || state == "RETRY") {
        complete_ = true;
        std::string why = result_text(root);
        json_node_unref(root);
        fail(ErrorKind::Failed, "Nevisa could not transcribe the audio (" + state + "): " + why);
        return;
      }
      json_node_unref(root);
      /* PENDING (also an unknown task), STARTED, PROGRESS: not finished */
      schedule_poll([this] { poll(); });
    });
  }

  /* The pipeline stops (or batch-timeout passes) while the task runs: tell
   * Nevisa, and do not wait for the answer. */
  void abort_job() override
  {
    if (task_id_.empty() || complete_)
      return;
    HttpRequest req;
    req.method = "POST";
    req.url = resolve(settings_.nevisa_api_url, "file/terminate-task");
    req.headers.push_back({"Authorization", "Token " + auth_token_});
    req.multipart = std::make_shared<MultipartBody>(
        std::vector<MultipartPart>{{"auth_token", auth_token_, "", "", ""},
                                   {"api_key", api_key_, "", "", ""},
                                   {"task_id", task_id_, "", "", ""}});
    req.max_attempts = 1;
    GST_INFO_OBJECT(host_->log_object(), "terminating Nevisa task %s", task_id_.c_str());
    gchar *name = GST_IS_OBJECT(host_->log_object())
                      ? gst_object_get_name(GST_OBJECT(host_->log_object()))
                      : nullptr;
    std::string label = std::string(name ? name : "persiantranscribe") +
                        ": terminate-task for Nevisa task " + task_id_;
    g_free(name);
    send_detached(std::move(req), kTerminateTimeoutS, std::move(label));
    complete_ = true;
  }

  std::string file_, filename_, content_type_;
  std::string auth_token_, api_key_; /* secrets */
  std::string upload_url_, progress_url_, task_id_;
  bool complete_ = false;
};

}  // namespace

std::unique_ptr<Backend> make_nevisa_client(const Settings &s, BackendHost *host, IoThread *io,
                                            uint64_t time_base)
{
  return std::make_unique<NevisaClient>(s, host, io, time_base);
}

}  // namespace pt
