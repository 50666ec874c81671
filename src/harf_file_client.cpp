// SPDX-License-Identifier: LGPL-2.1-or-later
/* Harf's file API: upload the recording in the `media` field; with
 * harf-wait the answer holds the result, without it the task ids are
 * polled with {"tasks_ids": [...], "wait": false}. */
#include <gst/gst.h>

#include "batch_client.h"
#include "harf_reply.h"
#include "io_thread.h"
#include "service_answers.h"

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
    /* With harf-wait the answer is the result: for hours of audio it goes
     * to disk and is read a segment at a time as the results go out. */
    upload_bytes_ = static_cast<uint64_t>(req.multipart->length());
    answer_to_disk(req, upload_bytes_);
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
    answer_to_disk(req, upload_bytes_);
    http_->send(std::move(req), [this](const HttpResponse &r) {
      if (r.status == 400) {
        /* A newer Harf API wants media_urls with every poll, and a request
         * with them starts a new, paid job: the job is never sent twice. */
        fail(ErrorKind::Failed,
             "Harf refused to be polled for task " + task_id_ +
                 " (HTTP 400): this Harf API does not answer polls by task id; use "
                 "harf-wait=true (the job was not sent again: that would start a second, paid "
                 "job)",
             quote_excerpt(r.body.data(), r.body.size()));
        return;
      }
      answered(r, "Harf task state");
    });
  }

  /* Either the result array, or {"state": ...} (with task_ids after a
   * wait=false upload). */
  void answered(const HttpResponse &r, const std::string &what)
  {
    if (fail_on_http(r, what, settings_.harf_api_url))
      return;
    std::shared_ptr<HarfAnswerFile> file;
    HarfFileAnswer a;
    if (r.spilled) {
      file = std::make_shared<HarfAnswerFile>(r.spilled->fd, r.spilled->size,
                                              settings_.max_answer_bytes, what);
      a = file->answer();
      GST_DEBUG_OBJECT(host_->log_object(), "%s: %zu bytes, kept on disk", what.c_str(),
                       r.spilled->size);
    } else {
      a = parse_harf_file_answer(r.body.data(), r.body.size(), what);
    }
    std::string body = quote_excerpt(r.body.data(), r.body.size());
    switch (a.kind) {
      case HarfFileAnswer::Kind::Invalid:
        fail(ErrorKind::Failed, a.error, body);
        return;
      case HarfFileAnswer::Kind::Result: {
        const size_t usable = file ? file->usable() : a.segments.size();
        const std::string first_skipped =
            file ? file->first_skipped() : (a.skipped.empty() ? "" : a.skipped[0]);
        if (!first_skipped.empty() && usable == 0) {
          for (const std::string &why : a.skipped)
            GST_WARNING_OBJECT(host_->log_object(), "skipping a segment Harf sent: %s",
                               why.c_str());
          fail(ErrorKind::Failed, "Harf's result has no usable segment (" + first_skipped + ")",
               body);
          return;
        }
        post_progress(task_id_, "SUCCESS", 100);
        /* Handed out as the element takes them, from disk or from memory */
        auto held = std::make_shared<HeldItems<Segment>>(
            HeldItems<Segment>{std::move(a.segments), std::move(a.skipped)});
        deliver_stream(
            [this, file, spilled = r.spilled, held](Segment *seg, std::string *error) {
              std::vector<std::string> skipped;
              const bool more = file ? file->next(seg, &skipped) : held->take(seg, &skipped);
              if (!more && file && file->failed())
                *error = "Harf's answer could not be read back from disk";
              for (const std::string &why : skipped)
                GST_WARNING_OBJECT(host_->log_object(), "skipping a segment Harf sent: %s",
                                   why.c_str());
              return more;
            },
            false, a.total_words, a.known_words);
        done();
        return;
      }
      case HarfFileAnswer::Kind::State:
        break;
    }
    if (task_id_.empty())
      task_id_ = a.task_id;
    if (a.state == "FAILURE") {
      fail(ErrorKind::Failed, "Harf could not transcribe the audio (state FAILURE): " + body, body);
    } else if (a.state == "TIMEOUT") {
      fail(ErrorKind::Failed,
           "Harf gave up: the file took longer than the service allows (state TIMEOUT): " + body,
           body);
    } else if (a.state == "PENDING" && !task_id_.empty()) {
      post_progress(task_id_, a.state, -1);
      schedule_poll([this] { poll(); });
    } else {
      fail(ErrorKind::Failed, what + " answered neither a result nor a task state: " + body);
    }
  }

  std::string task_id_;
  uint64_t upload_bytes_ = 0;
};

}  // namespace

std::unique_ptr<Backend> make_harf_file_client(const Settings &s, BackendHost *host, IoThread *io,
                                               uint64_t time_base)
{
  return std::make_unique<HarfFileClient>(s, host, io, time_base);
}

}  // namespace pt
