// SPDX-License-Identifier: LGPL-2.1-or-later
/* The batch backends: record the audio to a temporary WAV file (16 kHz
 * mono S16, never in memory), upload it at the end, poll until the service
 * is done, hand back the results, remove the file.
 *
 * BatchClient holds what both services share: the recording, the HTTP
 * client with its retries, polling with back-off and jitter bounded by
 * batch-timeout, error reporting.  NevisaClient and HarfFileClient speak
 * their protocol on top.  All of it runs on the I/O thread. */
#pragma once

#include <json-glib/json-glib.h>

#include <deque>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "backend.h"
#include "http_client.h"

namespace pt {

class BatchClient : public Backend {
 public:
  BatchClient(const Settings &s, BackendHost *host, IoThread *io, uint64_t time_base);
  ~BatchClient() override;

  void start() override;
  void kick() override;
  void shutdown() override;

  const std::string &recording_path() const { return path_; }

 protected:
  /* The recording (or upload-file) is complete: do the job. */
  virtual void run(const std::string &file, const std::string &filename,
                   const std::string &content_type) = 0;
  /* Called by shutdown() before anything is cancelled, while a job runs. */
  virtual void abort_job() {}

  /* Helpers for the protocols. */
  /* The results: next() puts the service's next segment in *seg (true),
   * or says there is none left (false; with *error set if reading them
   * failed, which fails the job).  It is called only as the host takes
   * results, so that however many there are, a few are held at once.
   * done() then waits for the last.  The segments are in the time of the
   * audio the service received; with skip-silence that is placed back in
   * the input (cuts_), unless input_times says it was already. */
  using SegmentSource = std::function<bool(Segment *seg, std::string *error)>;
  void deliver_stream(SegmentSource next, bool input_times, int64_t total_words = -1,
                      int64_t known_words = -1);
  /* How a batch backend asks for its answers: one longer than a quarter of
   * max-answer-size (at most 256 KiB) goes to disk, and may be up to four
   * times the upload (a transcript is far smaller than its audio), so that
   * a hostile server cannot fill the disk either.  upload_bytes: what was
   * uploaded, 0 if unknown. */
  void answer_to_disk(HttpRequest &req, uint64_t upload_bytes) const;
  /* Words from the service's time to the input's (skip-silence), before
   * they are grouped: a pause left out still separates sentences. */
  void word_to_input_time(Word &w) const { cuts_.to_input(w); }
  void post_progress(const std::string &task, const std::string &state, double percent);
  void upload_progress(uint64_t sent, uint64_t total);
  /* A job step failed: report it, stop. */
  /* reason: kReasonCredentialsRejected by default for NotAuthorized. */
  void fail(ErrorKind kind, const std::string &message, const std::string &debug = "",
            const char *reason = nullptr);
  /* The job is done: remove the file, then tell the host (once the
   * results handed to deliver_stream() have all gone out). */
  void done();
  /* Maps an HTTP answer that is not a success to an error; true if it was
   * one (and was reported). what: "Nevisa login", "Harf upload", ... */
  bool fail_on_http(const HttpResponse &r, const std::string &what, const std::string &url);
  /* Runs fn after the next poll delay: poll-interval, growing 1.5x per poll up
   * to 10 s, +-20 % jitter.  Fails the job (and aborts it at the service) once
   * batch-timeout has passed since the first poll, i.e. the end of the upload. */
  void schedule_poll(std::function<void()> fn);
  std::string resolve(const std::string &base, const std::string &ref) const;
  /* Makes req a JSON POST of what b built (b is consumed). */
  static void set_json_body(HttpRequest &req, JsonBuilder *b);

  const Settings settings_;
  BackendHost *host_;
  IoThread *io_;
  const uint64_t time_base_;
  std::unique_ptr<HttpClient> http_;
  bool finished_ = false; /* done() or fail() happened */

 private:
  static gboolean on_poll_timer(gpointer data);
  void finish_recording();
  void remove_file();
  /* Destroys the poll timer, if armed. */
  void stop_polling();
  /* Hands the results out while the host takes them (can_accept_results);
   * kick() goes on.  Then, if done() came, finishes. */
  void drain_results();
  /* Checks a segment's times, and queues it as a result */
  void queue_result(Segment s, int64_t total_words, int64_t known_words, bool input_times);
  void finish();

  /* Results not handed out yet: an answer with thousands of segments goes
   * out as the element's output takes them, not all at once. */
  std::deque<Result> pending_;
  SegmentSource source_; /* more results, pulled as pending_ empties */
  bool source_input_times_ = false;
  int64_t source_total_words_ = -1, source_known_words_ = -1;
  bool done_pending_ = false; /* done() came while results were pending */
  FILE *file_ = nullptr;
  std::string path_;
  uint64_t data_bytes_ = 0;
  TimeCuts cuts_; /* skip-silence: the pauses left out of the recording */
  bool started_job_ = false;
  GSource *poll_timer_ = nullptr;
  std::function<void()> poll_fn_;
  unsigned polls_ = 0;
  gint64 deadline_us_ = 0;
  int last_upload_percent_ = -2;
};

std::unique_ptr<Backend> make_nevisa_client(const Settings &s, BackendHost *host, IoThread *io,
                                            uint64_t time_base);
std::unique_ptr<Backend> make_harf_file_client(const Settings &s, BackendHost *host, IoThread *io,
                                               uint64_t time_base);

}  // namespace pt
