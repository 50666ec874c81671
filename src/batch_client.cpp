// SPDX-License-Identifier: LGPL-2.1-or-later
#include "batch_client.h"
#include "json_fields.h"

#include <optional>

#include <glib/gstdio.h>
#include <gst/gst.h>

#include <algorithm>
#include <cmath>

#include "harf_reply.h"
#include "io_thread.h"
#include "upload_formats.h"
#include "wav_header.h"

GST_DEBUG_CATEGORY_EXTERN(pt_batch_debug);
#define GST_CAT_DEFAULT pt_batch_debug

namespace pt {

BatchClient::BatchClient(const Settings &s, BackendHost *host, IoThread *io, uint64_t time_base)
    : settings_(s), host_(host), io_(io), time_base_(time_base)
{
}

BatchClient::~BatchClient()
{
  shutdown();
}

void BatchClient::start()
{
  http_ = std::make_unique<HttpClient>(io_, settings_.timeout_s, host_->log_object(),
                                       settings_.max_answer_bytes);
  deadline_us_ = 0;
  if (!settings_.upload_file.empty())
    return; /* the file given is uploaded; the audio is only drained */
  GError *err = nullptr;
  gchar *path = nullptr;
  int fd = g_file_open_tmp("persiantranscribe-XXXXXX.wav", &path, &err);
  if (fd < 0) {
    fail(ErrorKind::Write, "Cannot create a temporary file for the recording",
         err ? err->message : "");
    g_clear_error(&err);
    return;
  }
  path_ = path;
  g_free(path);
  file_ = fdopen(fd, "wb");
  auto header = make_wav_header(static_cast<uint32_t>(settings_.sample_rate), 1, 16, 0);
  if (!file_ || fwrite(header.data(), 1, header.size(), file_) != header.size())
    fail(ErrorKind::Write, "Cannot write the recording to " + path_, g_strerror(errno));
  GST_INFO_OBJECT(host_->log_object(), "recording to %s", path_.c_str());
}

void BatchClient::kick()
{
  if (!pending_.empty() || source_) {
    drain_results();
    return;
  }
  if (finished_ || started_job_)
    return;
  Window w;
  bool input_done = false;
  uint64_t skipped_ns = 0;
  while (host_->pop_window(w, &input_done, &skipped_ns)) {
    if (!file_)
      continue;
    /* skip-silence left a pause out just before this window: the recording
     * goes on without it, and the results after it move by as much. */
    if (skipped_ns > 0)
      cuts_.add(gst_util_uint64_scale(data_bytes_ / 2, GST_SECOND,
                                      static_cast<guint64>(settings_.sample_rate)),
                skipped_ns);
    if (fwrite(w.data(), 1, w.size(), file_) != w.size()) {
      fail(ErrorKind::Write, "Cannot write the recording to " + path_ + " (disk full?)",
           g_strerror(errno));
      return;
    }
    data_bytes_ += w.size();
  }
  if (!input_done)
    return;
  started_job_ = true;
  if (!settings_.upload_file.empty()) {
    gchar *base = g_path_get_basename(settings_.upload_file.c_str());
    std::string name = base;
    g_free(base);
    run(settings_.upload_file, name, upload_content_type(name));
    return;
  }
  finish_recording();
  if (!finished_)
    run(path_, "recording.wav", "audio/wav");
}

void BatchClient::finish_recording()
{
  if (!file_)
    return;
  auto header =
      make_wav_header(static_cast<uint32_t>(settings_.sample_rate), 1, 16,
                      static_cast<uint32_t>(std::min<uint64_t>(data_bytes_, 0xFFFFFFDBu)));
  bool ok = fseek(file_, 0, SEEK_SET) == 0 &&
            fwrite(header.data(), 1, header.size(), file_) == header.size();
  ok = (fclose(file_) == 0) && ok;
  file_ = nullptr;
  if (!ok)
    fail(ErrorKind::Write, "Cannot finish the recording " + path_, g_strerror(errno));
  GST_INFO_OBJECT(host_->log_object(), "recorded %" G_GUINT64_FORMAT " bytes of PCM to %s",
                  data_bytes_, path_.c_str());
}

void BatchClient::remove_file()
{
  if (file_) {
    fclose(file_);
    file_ = nullptr;
  }
  if (!path_.empty()) {
    g_unlink(path_.c_str());
    path_.clear();
  }
}

/* The I/O context is shared and outlives this client: the poll timer and
 * every request (with its retry timer) go before it does. */
void BatchClient::shutdown()
{
  /* A job whose results are still going out is complete at the service. */
  if (started_job_ && !finished_ && !done_pending_)
    abort_job();
  finished_ = true;
  pending_.clear();
  source_ = nullptr;
  stop_polling();
  if (http_)
    http_->cancel_all();
  http_.reset();
  remove_file();
}

void BatchClient::stop_polling()
{
  if (poll_timer_) {
    g_source_destroy(poll_timer_);
    g_source_unref(poll_timer_);
    poll_timer_ = nullptr;
  }
  poll_fn_ = nullptr;
}

void BatchClient::deliver_stream(SegmentSource next, bool input_times, int64_t total_words,
                                 int64_t known_words)
{
  source_ = std::move(next);
  source_input_times_ = input_times;
  source_total_words_ = total_words;
  source_known_words_ = known_words;
  drain_results();
}

void BatchClient::answer_to_disk(HttpRequest &req, uint64_t upload_bytes) const
{
  req.spill_above =
      std::max<size_t>(1024, std::min<size_t>(256 * 1024, settings_.max_answer_bytes / 4));
  if (4 * upload_bytes > settings_.max_answer_bytes) {
    req.max_body = static_cast<size_t>(4 * upload_bytes);
    req.max_body_name = "four times the audio uploaded";
  }
}

void BatchClient::queue_result(Segment s, int64_t total_words, int64_t known_words,
                               bool input_times)
{
  if (!input_times)
    cuts_.to_input(s);
  if (auto bad = check_segment_times(s, host_->audio_duration())) {
    GST_WARNING_OBJECT(host_->log_object(), "dropping a segment: %s", bad->c_str());
    host_->warn({ErrorKind::Read,
                 std::string(backend_name(settings_.backend)) +
                     " sent a segment with impossible times; it was left out",
                 *bad});
    return;
  }
  Result r;
  r.segment = std::move(s);
  r.pts = time_base_ + r.segment.start;
  r.duration = r.segment.end > r.segment.start ? r.segment.end - r.segment.start : 0;
  r.backend = backend_name(settings_.backend);
  r.total_words = total_words;
  r.known_words = known_words;
  pending_.push_back(std::move(r));
}

void BatchClient::drain_results()
{
  while (!finished_ && host_->can_accept_results()) {
    if (pending_.empty()) {
      if (!source_)
        break;
      Segment seg;
      std::string error;
      if (!source_(&seg, &error)) {
        source_ = nullptr;
        if (!error.empty()) {
          done_pending_ = false;
          fail(ErrorKind::Read, error);
          return;
        }
        break;
      }
      queue_result(std::move(seg), source_total_words_, source_known_words_, source_input_times_);
      continue;
    }
    Result r = std::move(pending_.front());
    pending_.pop_front();
    host_->deliver(std::move(r));
  }
  if (pending_.empty() && !source_ && done_pending_) {
    done_pending_ = false;
    finish();
  }
}

void BatchClient::post_progress(const std::string &task, const std::string &state, double percent)
{
  Progress p;
  p.backend = backend_name(settings_.backend);
  p.task_id = task;
  p.state = state;
  p.percent = percent;
  host_->progress(p);
}

void BatchClient::upload_progress(uint64_t sent, uint64_t total)
{
  /* One message per whole percent (and the last), not one per chunk */
  int percent = total ? static_cast<int>(100 * sent / total) : -1;
  if (percent == last_upload_percent_ && sent != total)
    return;
  last_upload_percent_ = percent;
  Progress p;
  p.backend = backend_name(settings_.backend);
  p.state = "UPLOADING";
  p.bytes_sent = sent;
  p.bytes_total = total;
  p.percent = total ? 100.0 * static_cast<double>(sent) / static_cast<double>(total) : -1;
  host_->progress(p);
}

void BatchClient::fail(ErrorKind kind, const std::string &message, const std::string &debug,
                       const char *reason)
{
  if (finished_ || done_pending_)
    return;
  GST_WARNING_OBJECT(host_->log_object(), "%s (%s)", message.c_str(), debug.c_str());
  /* A job that fails on our side (polls that fail, an answer we cannot
   * read) may still run at the service: stop it there too. */
  if (started_job_)
    abort_job();
  finished_ = true;
  stop_polling();
  remove_file();
  if (!reason && kind == ErrorKind::NotAuthorized)
    reason = kReasonCredentialsRejected;
  host_->fail({kind, message, debug, reason});
}

void BatchClient::done()
{
  if (finished_)
    return;
  if (!pending_.empty() || source_) {
    done_pending_ = true; /* finish() once they are out */
    stop_polling();
    return;
  }
  finish();
}

void BatchClient::finish()
{
  if (finished_)
    return;
  finished_ = true;
  stop_polling();
  remove_file();
  host_->finished();
}

bool BatchClient::fail_on_http(const HttpResponse &r, const std::string &what,
                               const std::string &url)
{
  std::optional<Error> e = http_failure(r, what, url, settings_);
  if (!e)
    return false;
  fail(e->kind, e->message, e->debug, e->reason);
  return true;
}

void BatchClient::schedule_poll(std::function<void()> fn)
{
  if (finished_)
    return;
  /* batch-timeout counts from the end of the upload: the first poll */
  if (!deadline_us_)
    deadline_us_ = g_get_monotonic_time() + gint64(settings_.batch_timeout_s) * G_TIME_SPAN_SECOND;
  if (g_get_monotonic_time() > deadline_us_) {
    fail(ErrorKind::Read, std::string(backend_name(settings_.backend)) +
                              ": the service did not finish within batch-timeout (" +
                              std::to_string(settings_.batch_timeout_s) + " s)");
    return;
  }
  double ms = settings_.poll_interval_ms * std::pow(1.5, std::min(polls_, 20u));
  ms = std::min(ms, 10000.0);
  ms *= g_random_double_range(0.8, 1.2);
  polls_++;
  stop_polling(); /* one poll pending at a time */
  poll_fn_ = std::move(fn);
  poll_timer_ = g_timeout_source_new(static_cast<guint>(ms));
  g_source_set_callback(poll_timer_, on_poll_timer, this, nullptr);
  g_source_attach(poll_timer_, io_->context());
}

gboolean BatchClient::on_poll_timer(gpointer data)
{
  auto *self = static_cast<BatchClient *>(data);
  g_source_unref(self->poll_timer_);
  self->poll_timer_ = nullptr;
  auto fn = std::move(self->poll_fn_);
  fn();
  return G_SOURCE_REMOVE;
}

void BatchClient::set_json_body(HttpRequest &req, JsonBuilder *b)
{
  req.method = "POST";
  req.body = json_builder_text(b);
  req.content_type = "application/json";
}

std::string BatchClient::resolve(const std::string &base, const std::string &ref) const
{
  /* "https://host/api" means the folder api/, as "https://host/api/" does */
  std::string dir = base.empty() || base.back() == '/' ? base : base + "/";
  gchar *abs = g_uri_resolve_relative(dir.c_str(), ref.c_str(), G_URI_FLAGS_NONE, nullptr);
  std::string out = abs ? abs : ref;
  g_free(abs);
  return out;
}

}  // namespace pt
