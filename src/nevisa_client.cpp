// SPDX-License-Identifier: LGPL-2.1-or-later
/* Nevisa (PersianSpeech) file API: log in once, upload, poll the
 * celery-progress view, and terminate the task if the pipeline stops. */
#include <gst/gst.h>

#include "batch_client.h"
#include "harf_reply.h"
#include "io_thread.h"
#include "nevisa_login.h"
#include "service_answers.h"

GST_DEBUG_CATEGORY_EXTERN(pt_batch_debug);
#define GST_CAT_DEFAULT pt_batch_debug

namespace pt {

namespace {

/* How long a terminate-task request may take, after the element is gone. */
constexpr unsigned kTerminateTimeoutS = 10;

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
    nevisa_credentials(*http_, settings_, host_->log_object(),
                       [this](const NevisaCredentials *c, const Error *e) {
                         if (e) {
                           fail(e->kind, e->message, e->debug, e->reason);
                           return;
                         }
                         auth_token_ = c->auth_token;
                         api_key_ = c->api_key;
                         upload();
                       });
  }

  void upload()
  {
    HttpRequest req;
    req.method = "POST";
    req.url = resolve(settings_.nevisa_api_url, "recognize-file");
    /* The header as well as the form fields: the document requires it and
     * the service's PHP samples send it (its Python sample does not). */
    req.headers.push_back({"Authorization", "Token " + auth_token_});
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
      NevisaUpload up = parse_nevisa_upload(r.body.data(), r.body.size());
      if (!up.ok) {
        fail(ErrorKind::Failed, up.error);
        return;
      }
      task_id_ = up.task_id;
      /* progress_url is relative to the API URL */
      progress_url_ = resolve(settings_.nevisa_api_url, up.progress_url);
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
    req.headers.push_back({"Authorization", "Token " + auth_token_});
    http_->send(std::move(req), [this](const HttpResponse &r) {
      if (fail_on_http(r, "Nevisa progress", progress_url_))
        return;
      NevisaProgress p = parse_nevisa_progress(r.body.data(), r.body.size());
      if (!p.ok) {
        fail(ErrorKind::Failed, p.error);
        return;
      }
      /* Progress only moves forward, and only within 0..100 */
      if (p.percent >= 0)
        percent_ = std::max(percent_, p.percent);
      post_progress(task_id_, p.state.empty() ? "UNKNOWN" : p.state, percent_);
      if (p.state == "SUCCESS") {
        complete_ = true;
        for (const std::string &why : p.skipped)
          GST_WARNING_OBJECT(host_->log_object(), "skipping a word Nevisa sent: %s", why.c_str());
        words_to_input_times(p.words);
        deliver_segments(segments_from_words(p.words, 600 * kMsecond, settings_.min_confidence),
                         -1, -1, true);
        done();
        return;
      }
      if (p.state == "FAILURE" || p.state == "REVOKED" || p.state == "RETRY") {
        complete_ = true;
        fail(ErrorKind::Failed,
             "Nevisa could not transcribe the audio (" + p.state + "): " + p.failure);
        return;
      }
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
  double percent_ = -1; /* the highest reported so far */
};

}  // namespace

std::unique_ptr<Backend> make_nevisa_client(const Settings &s, BackendHost *host, IoThread *io,
                                            uint64_t time_base)
{
  return std::make_unique<NevisaClient>(s, host, io, time_base);
}

}  // namespace pt
