// SPDX-License-Identifier: LGPL-2.1-or-later
/* The engine: one stream of audio in, transcript results out, whatever the
 * backend.  It is what both elements drive.
 *
 * Threads:
 *  - the streaming thread calls set_format / push_audio / push_gap / finish;
 *    it converts and windows audio and waits only when the bounded window
 *    queue is full (woken by set_flushing(true), an error, or room);
 *  - the I/O thread (IoThread) runs the backend and calls the listener; by
 *    default one of the process's pool (IoThread::shared_for_engine()),
 *    shared with other engines, so nothing run there may block;
 *  - any thread may call set_flushing, reset (not the I/O thread), resume_output.
 */
#pragma once

#include <condition_variable>
#include <cstdint>
#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <mutex>
#include <string>

#include "audio_windower.h"
#include "silence_gate.h"
#include "backend.h"
#include "settings.h"

namespace pt {

class IoThread;

class EngineListener {
 public:
  virtual ~EngineListener() = default;
  /* All on the I/O thread (on_finished also on the streaming thread when no
   * audio was ever sent).  They must not block on the streaming thread. */
  virtual void on_result(const Result &r) = 0;
  virtual void on_warning(const Error &e) = 0;
  virtual void on_error(const Error &e) = 0;
  virtual void on_finished() = 0;
  virtual void on_progress(const Progress &) {}
  /* Output back-pressure: false pauses the backend until resume_output(). */
  virtual bool can_accept_results() { return true; }
  virtual void on_reconnect(const ReconnectInfo &) {}
};

class Engine : private BackendHost {
 public:
  enum class Flow { Ok, Flushing, Error };

  /* log_object: the element that log lines name (borrowed; it outlives the
   * engine).  factory makes the backend on the I/O thread.  io: the thread
   * to run on; null takes the least loaded thread of IoPool::global().
   * Destroying the engine waits for the I/O thread (not to be done from a
   * callback of this engine). */
  Engine(const Settings &s, EngineListener *listener, GObject *log_object = nullptr,
         BackendFactory factory = make_backend, std::shared_ptr<IoThread> io = nullptr);
  ~Engine() override;
  Engine(const Engine &) = delete;
  Engine &operator=(const Engine &) = delete;

  const Settings &settings() const { return settings_; }

  bool set_format(const GstAudioInfo &info, std::string *err);
  /* pts: the buffer's PTS (kNoTime if none). */
  Flow push_audio(uint64_t pts, const uint8_t *data, size_t size);
  Flow push_gap(uint64_t pts, uint64_t duration);
  /* End of input: the rest is sent, the backend finishes, on_finished follows. */
  void finish();

  void set_flushing(bool flushing);
  /* Live input: a full queue drops its oldest audio (live backends) instead of
   * blocking the streaming thread. */
  void set_live(bool live);
  /* Drops the backend, the queued audio and the time base (after a flush). */
  void reset();
  void resume_output();

  bool has_failed() const;
  /* Input time (ns) of the end of the audio received so far, or kNoTime. */
  uint64_t input_position() const;
  size_t queue_capacity() const { return capacity_; }

 private:
  /* BackendHost, on the I/O thread */
  bool pop_window(Window &w, bool *input_done) override;
  bool pop_window(Window &w, bool *input_done, uint64_t *skipped_ns) override;
  void reconnecting(const ReconnectInfo &info) override;
  bool can_accept_results() override;
  void deliver(Result r) override;
  void progress(const Progress &p) override;
  void warn(const Error &e) override;
  void fail(const Error &e) override;
  void finished() override;
  GObject *log_object() const override { return log_object_; }
  uint64_t audio_duration() const override;

  Flow enqueue(std::vector<Window> &windows, std::unique_lock<std::mutex> &lk);
  /* Input time from..from+duration has no audio: silence (batch, or up to
   * gap-threshold) made window by window under the queue's bound, or a skip
   * that starts a new session (live backends). */
  Flow fill_hole(uint64_t duration);
  uint64_t window_ns(size_t bytes) const;
  void ensure_backend_locked();
  void kick_backend();
  void destroy_backend();

  const Settings settings_;
  EngineListener *listener_;
  GObject *const log_object_;
  const BackendFactory factory_;
  std::shared_ptr<IoThread> io_;

  /* False when a batch backend uploads upload-file: the audio that flows
   * in is then only timed, never converted or queued. */
  const bool audio_needed_;

  /* Streaming thread only */
  AudioWindower windower_;
  std::optional<SilenceGate> gate_; /* skip-silence, live backends */
  uint64_t next_pts_ = UINT64_MAX;  /* expected PTS of the next buffer */

  /* Protected by mutex_ */
  mutable std::mutex mutex_;
  std::condition_variable room_; /* signalled when the queue has room or on wake */
  struct Queued {
    Window data;
    uint64_t skipped_ns = 0; /* input time left out just before it */
  };
  std::deque<Queued> queue_;
  uint64_t pending_skip_ns_ = 0; /* for the next window queued */
  bool live_ = false;
  uint64_t dropped_ns_ = 0; /* live audio dropped, not yet warned about */
  bool dropped_warned_ = false;
  size_t capacity_;
  bool flushing_ = false;
  bool failing_ = false; /* an error is being reported */
  bool failed_ = false;  /* reported: the streaming thread gets Flow::Error */
  bool input_done_ = false;
  bool finished_ = false;
  bool kick_pending_ = false;
  bool backend_requested_ = false;
  uint64_t time_base_ = UINT64_MAX; /* input PTS of the first byte sent */
  uint64_t position_ = UINT64_MAX;

  /* Owned here, but created, used and destroyed on the I/O thread.  alive_
   * is read and cleared on the I/O thread only, so work posted there never
   * touches a destroyed engine on the shared IoThread: each posted closure
   * holds a copy and checks it first. */
  std::unique_ptr<Backend> backend_;
  std::shared_ptr<bool> alive_;
};

}  // namespace pt
