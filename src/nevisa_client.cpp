// SPDX-License-Identifier: LGPL-2.1-or-later
/* Nevisa (PersianSpeech) file API: log in once, upload, poll the
 * celery-progress view, and terminate the task if the pipeline stops. */
#include <gst/gst.h>

#include <algorithm>
#include <optional>

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
    upload_bytes_ = static_cast<uint64_t>(req.multipart->length());
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
    /* The words for hours of audio do not stay in memory: a long answer
     * goes to disk and is read a word at a time as the results go out. */
    answer_to_disk(req, upload_bytes_);
    http_->send(std::move(req), [this](const HttpResponse &r) {
      if (fail_on_http(r, "Nevisa progress", progress_url_))
        return;
      std::shared_ptr<NevisaAnswerFile> file;
      NevisaProgress p;
      if (r.spilled) {
        file = std::make_shared<NevisaAnswerFile>(r.spilled->fd, r.spilled->size,
                                                  settings_.max_answer_bytes);
        p = file->answer();
        GST_DEBUG_OBJECT(host_->log_object(),
                         "Nevisa answered %zu bytes, kept on disk; %zu words read one at a time",
                         r.spilled->size, file->words());
      } else {
        p = parse_nevisa_progress(r.body.data(), r.body.size());
      }
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
        if (file)
          deliver_words([file, spilled = r.spilled](Word *w, std::vector<std::string> *skipped,
                                                    std::string *error) {
            if (file->next(w, skipped))
              return true;
            if (file->failed())
              *error = "Nevisa's answer could not be read back from disk";
            return false;
          });
        else
          deliver_words([held = std::make_shared<HeldItems<Word>>(
                             HeldItems<Word>{std::move(p.words), std::move(p.skipped)})](
                            Word *w, std::vector<std::string> *skipped, std::string *) {
            return held->take(w, skipped);
          });
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

  /* Groups the words into results as the host takes them: words from
   * next() (false after the last, *error set if reading failed; skipped
   * gets why words were left out).  Times move back past the pauses
   * skip-silence left out before grouping, so such a pause ends a
   * sentence. */
  using WordSource =
      std::function<bool(Word *w, std::vector<std::string> *skipped, std::string *error)>;
  void deliver_words(WordSource next)
  {
    auto grouper = std::make_shared<WordGrouper>(600 * kMsecond, settings_.min_confidence);
    deliver_stream(
        [this, next = std::move(next), grouper](Segment *seg, std::string *error) {
          Word w;
          std::vector<std::string> skipped;
          while (true) {
            const bool more = next(&w, &skipped, error);
            for (const std::string &why : skipped)
              GST_WARNING_OBJECT(host_->log_object(), "skipping a word Nevisa sent: %s",
                                 why.c_str());
            skipped.clear();
            if (!more)
              break;
            word_to_input_time(w);
            if (std::optional<Segment> s = grouper->push(std::move(w))) {
              *seg = std::move(*s);
              return true;
            }
          }
          if (!error->empty())
            return false;
          std::optional<Segment> last = grouper->finish();
          if (!last)
            return false;
          *seg = std::move(*last);
          return true;
        },
        true);
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
  uint64_t upload_bytes_ = 0;
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
