// SPDX-License-Identifier: LGPL-2.1-or-later
#include "engine.h"

#include <gst/gst.h>

#include "persian_normalize.h"
#include "io_thread.h"

GST_DEBUG_CATEGORY_EXTERN(pt_engine_debug);
#define GST_CAT_DEFAULT pt_engine_debug

namespace pt {

namespace {
/* Holes in input timestamps larger than this are filled with silence so that
 * the service's offsets stay on the input timeline. */
constexpr uint64_t kHoleTolerance = 40 * kMsecond;
/* Audio the queue may hold ahead of the network: enough for a slow
 * handshake on a live input, small enough to bound memory (1 MB at 16 kHz). */
constexpr uint64_t kQueueDuration = 30 * kSecond;
}  // namespace

Engine::Engine(const Settings &s, EngineListener *listener, GObject *log_object,
               BackendFactory factory, std::shared_ptr<IoThread> io)
    : settings_(s),
      listener_(listener),
      log_object_(log_object),
      factory_(std::move(factory)),
      io_(io ? std::move(io) : IoThread::shared_for_engine()),
      audio_needed_(!(is_batch(s.backend) && !s.upload_file.empty())),
      windower_(s.sample_rate, s.window_ms),
      alive_(std::make_shared<bool>(true))
{
  size_t by_time =
      static_cast<size_t>(kQueueDuration / (static_cast<uint64_t>(s.window_ms) * kMsecond));
  capacity_ = std::max<size_t>(by_time, s.max_inflight + 2);
  /* The live backends send windows; a batch backend records them (not
   * when it uploads upload-file instead). */
  if (s.skip_silence && (is_live(s.backend) || audio_needed_))
    gate_.emplace(s.sample_rate, s.window_ms, s.silence_threshold_dbfs, s.gap_threshold_ms);
}

Engine::~Engine()
{
  set_flushing(true);
  /* The I/O thread may be shared: the backend cancels everything it put on
   * the context (Backend::shutdown), and alive_ turns the work this engine
   * posted and that has not run yet into nothing. */
  io_->run_sync([this] {
    *alive_ = false;
    destroy_backend();
  });
  io_.reset(); /* one user less for the pool */
}

bool Engine::set_format(const GstAudioInfo &info, std::string *err)
{
  std::vector<Window> out;
  if (!windower_.set_input(info, out, err))
    return false;
  if (!out.empty()) {
    std::unique_lock<std::mutex> lk(mutex_);
    enqueue(out, lk);
  }
  return true;
}

Engine::Flow Engine::push_audio(uint64_t pts, const uint8_t *data, size_t size)
{
  if (!windower_.has_input()) {
    fail({ErrorKind::Format, "received audio before its format (no caps)", ""});
    return Flow::Error;
  }
  std::vector<Window> out;
  const GstAudioInfo &in = windower_.input();
  if (audio_needed_) {
    if (pts != kNoTime && next_pts_ != kNoTime && pts > next_pts_ + kHoleTolerance) {
      Flow f = fill_hole(pts - next_pts_);
      if (f != Flow::Ok)
        return f;
    }
    windower_.push(data, size, out);
  }
  uint64_t frames = GST_AUDIO_INFO_BPF(&in) ? size / GST_AUDIO_INFO_BPF(&in) : 0;
  uint64_t dur = gst_util_uint64_scale(frames, GST_SECOND, GST_AUDIO_INFO_RATE(&in));
  uint64_t start = pts != kNoTime ? pts : (next_pts_ != kNoTime ? next_pts_ : 0);
  next_pts_ = start + dur;

  std::unique_lock<std::mutex> lk(mutex_);
  if (time_base_ == kNoTime)
    time_base_ = start;
  position_ = next_pts_;
  /* Connect on the first audio, not the first full window: the handshake
   * overlaps the first window's worth of audio. */
  ensure_backend_locked();
  return enqueue(out, lk);
}

Engine::Flow Engine::push_gap(uint64_t pts, uint64_t duration)
{
  {
    std::lock_guard<std::mutex> lk(mutex_);
    if (failed_)
      return Flow::Error;
    /* Before the first audio there is no timeline to keep aligned. */
    if (time_base_ == kNoTime || !windower_.has_input() || duration == kNoTime)
      return Flow::Ok;
  }
  std::vector<Window> out;
  uint64_t start = pts != kNoTime ? pts : next_pts_;
  if (start != kNoTime && next_pts_ != kNoTime && start + duration <= next_pts_)
    return Flow::Ok;
  if (start != kNoTime && next_pts_ != kNoTime && start < next_pts_) {
    duration -= next_pts_ - start;
    start = next_pts_;
  }
  Flow f = audio_needed_ ? fill_hole(duration) : Flow::Ok;
  next_pts_ = start + duration;
  std::lock_guard<std::mutex> lk(mutex_);
  position_ = next_pts_;
  return f;
}

void Engine::finish()
{
  std::vector<Window> out;
  if (audio_needed_)
    windower_.drain(out);
  bool no_backend;
  {
    std::unique_lock<std::mutex> lk(mutex_);
    const Flow f = enqueue(out, lk);
    if (f != Flow::Ok) {
      GST_DEBUG_OBJECT(log_object_, "end of input while %s: nothing more to do",
                       f == Flow::Flushing ? "flushing" : "failed");
      return;
    }
    input_done_ = true;
    if (gate_) {
      gate_->finish(); /* trailing silence: nothing after it to place */
      GST_INFO_OBJECT(
          log_object_, "skip-silence: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " ms sent",
          window_ns(gate_->bytes_out()) / kMsecond, window_ns(gate_->bytes_in()) / kMsecond);
    }
    if (!queue_.empty())
      ensure_backend_locked(); /* audio waits: something must take it */
    no_backend = !backend_requested_;
    GST_DEBUG_OBJECT(log_object_, "end of input: %zu windows queued%s", queue_.size(),
                     no_backend ? ", no backend needed" : "");
  }
  if (no_backend)
    listener_->on_finished();
  else
    kick_backend();
}

uint64_t Engine::window_ns(size_t bytes) const
{
  return gst_util_uint64_scale(bytes / 2, GST_SECOND, static_cast<guint64>(settings_.sample_rate));
}

Engine::Flow Engine::fill_hole(uint64_t duration)
{
  const bool skip =
      is_live(settings_.backend) && duration > uint64_t(settings_.gap_threshold_ms) * kMsecond;
  std::vector<Window> out;
  if (skip) {
    /* The audio before the hole goes out as it is (a short window); the
     * next window carries the skip, and the backend opens a new session. */
    GST_INFO_OBJECT(log_object_, "a %" GST_TIME_FORMAT " hole in the input: new session after it",
                    GST_TIME_ARGS(duration));
    windower_.drain(out);
    std::unique_lock<std::mutex> lk(mutex_);
    Flow f = enqueue(out, lk);
    /* The silence the gate still holds lies before the hole: skipped with it. */
    if (gate_)
      pending_skip_ns_ += window_ns(gate_->finish());
    pending_skip_ns_ += duration;
    return f;
  }
  GST_DEBUG_OBJECT(log_object_, "filling a %" GST_TIME_FORMAT " hole in the input with silence",
                   GST_TIME_ARGS(duration));
  /* Window by window, each waiting for room: never the whole hole at once. */
  const uint64_t step = uint64_t(settings_.window_ms) * kMsecond;
  for (uint64_t done = 0; done < duration; done += step) {
    windower_.push_silence(std::min(step, duration - done), out);
    std::unique_lock<std::mutex> lk(mutex_);
    Flow f = enqueue(out, lk);
    out.clear();
    if (f != Flow::Ok)
      return f;
  }
  return Flow::Ok;
}

void Engine::set_live(bool live)
{
  std::lock_guard<std::mutex> lk(mutex_);
  live_ = live;
}

Engine::Flow Engine::enqueue(std::vector<Window> &in, std::unique_lock<std::mutex> &lk)
{
  /* skip-silence: the windows worth sending, each with the silence left
   * out just before it. */
  std::vector<SilenceGate::Out> windows;
  for (auto &w : in) {
    if (gate_)
      gate_->push(std::move(w), windows);
    else
      windows.push_back({std::move(w), 0});
  }
  in.clear();
  for (auto &[w, skipped_bytes] : windows) {
    pending_skip_ns_ += window_ns(skipped_bytes);
    if (live_ && is_live(settings_.backend)) {
      /* Live input never waits for the network: the oldest audio goes. */
      while (queue_.size() >= capacity_ && !flushing_ && !failed_) {
        Queued &old = queue_.front();
        const uint64_t old_skip = old.skipped_ns; /* already counted when it was dropped */
        uint64_t lost = old_skip + window_ns(old.data.size());
        queue_.pop_front();
        if (queue_.empty())
          pending_skip_ns_ += lost;
        else
          queue_.front().skipped_ns += lost;
        dropped_ns_ += lost - old_skip;
      }
      /* Told at the first second lost, then every 10 s lost. */
      if (dropped_ns_ >= (dropped_warned_ ? 10 * kSecond : kSecond)) {
        uint64_t dropped = dropped_ns_;
        dropped_ns_ = 0;
        dropped_warned_ = true;
        lk.unlock();
        warn({ErrorKind::Read,
              "Live audio was dropped while the service could not take it: " +
                  std::to_string(dropped / kMsecond) + " ms",
              "the queue of " + std::to_string(capacity_) + " windows was full"});
        lk.lock();
      }
    }
    room_.wait(lk, [this] { return flushing_ || failed_ || queue_.size() < capacity_; });
    if (flushing_)
      return Flow::Flushing;
    if (failed_)
      return Flow::Error;
    queue_.push_back({std::move(w), pending_skip_ns_});
    pending_skip_ns_ = 0;
    ensure_backend_locked();
    lk.unlock();
    kick_backend();
    lk.lock();
  }
  if (flushing_)
    return Flow::Flushing;
  return failed_ ? Flow::Error : Flow::Ok;
}

void Engine::ensure_backend_locked()
{
  if (backend_requested_)
    return;
  backend_requested_ = true;
  uint64_t base = time_base_ == kNoTime ? 0 : time_base_;
  std::shared_ptr<bool> alive = alive_;
  io_->post([this, alive, base] {
    if (!*alive || backend_)
      return;
    {
      std::lock_guard<std::mutex> lk(mutex_);
      if (!backend_requested_)
        return;
      if (flushing_) {
        /* Not now; the next window (or the end of the input) asks again.
         * Left requested, a flush that is not followed by a reset (the
         * sink's unlock and unlock_stop around a state change) would leave
         * the audio queued with no backend to take it, and the end of the
         * stream waiting for ever. */
        backend_requested_ = false;
        return;
      }
    }
    GST_DEBUG_OBJECT(log_object_, "creating the %s backend, time base %" GST_TIME_FORMAT,
                     backend_name(settings_.backend), GST_TIME_ARGS(base));
    backend_ = factory_(settings_, this, io_.get(), base);
    backend_->start();
  });
}

void Engine::kick_backend()
{
  {
    std::lock_guard<std::mutex> lk(mutex_);
    if (kick_pending_)
      return;
    kick_pending_ = true;
  }
  std::shared_ptr<bool> alive = alive_;
  io_->post([this, alive] {
    if (!*alive)
      return;
    {
      std::lock_guard<std::mutex> lk(mutex_);
      kick_pending_ = false;
    }
    if (backend_)
      backend_->kick();
  });
}

void Engine::destroy_backend()
{
  if (backend_) {
    backend_->shutdown();
    backend_.reset();
  }
}

void Engine::set_flushing(bool flushing)
{
  std::lock_guard<std::mutex> lk(mutex_);
  flushing_ = flushing;
  room_.notify_all();
}

void Engine::reset()
{
  io_->run_sync([this] { destroy_backend(); });
  windower_.reset();
  if (gate_)
    gate_->reset();
  next_pts_ = kNoTime;
  std::lock_guard<std::mutex> lk(mutex_);
  queue_.clear();
  pending_skip_ns_ = 0;
  dropped_ns_ = 0;
  dropped_warned_ = false;
  input_done_ = false;
  failed_ = false;
  failing_ = false;
  backend_requested_ = false;
  time_base_ = kNoTime;
  position_ = kNoTime;
  room_.notify_all();
}

void Engine::resume_output()
{
  kick_backend();
}

bool Engine::has_failed() const
{
  std::lock_guard<std::mutex> lk(mutex_);
  return failed_;
}

uint64_t Engine::input_position() const
{
  std::lock_guard<std::mutex> lk(mutex_);
  return position_;
}

uint64_t Engine::audio_duration() const
{
  std::lock_guard<std::mutex> lk(mutex_);
  if (time_base_ == kNoTime || position_ == kNoTime || position_ < time_base_)
    return 0;
  return position_ - time_base_;
}

bool Engine::pop_window(Window &w, bool *input_done)
{
  uint64_t skipped = 0;
  return pop_window(w, input_done, &skipped);
}

bool Engine::pop_window(Window &w, bool *input_done, uint64_t *skipped_ns)
{
  std::lock_guard<std::mutex> lk(mutex_);
  if (queue_.empty()) {
    *input_done = input_done_;
    return false;
  }
  w = std::move(queue_.front().data);
  *skipped_ns = queue_.front().skipped_ns;
  queue_.pop_front();
  *input_done = false;
  room_.notify_all();
  return true;
}

void Engine::reconnecting(const ReconnectInfo &info)
{
  listener_->on_reconnect(info);
}

bool Engine::can_accept_results()
{
  return listener_->can_accept_results();
}

void Engine::deliver(Result r)
{
  if (settings_.normalize)
    normalize_segment(r.segment, settings_.digits);
  listener_->on_result(r);
}

void Engine::progress(const Progress &p)
{
  listener_->on_progress(p);
}

void Engine::warn(const Error &e)
{
  listener_->on_warning(e);
}

void Engine::fail(const Error &e)
{
  {
    std::lock_guard<std::mutex> lk(mutex_);
    if (failing_)
      return;
    failing_ = true;
  }
  /* Our error reaches the bus before the streaming thread can return
   * GST_FLOW_ERROR and make upstream post its generic one. */
  listener_->on_error(e);
  std::lock_guard<std::mutex> lk(mutex_);
  failed_ = true;
  room_.notify_all();
}

void Engine::finished()
{
  listener_->on_finished();
}

}  // namespace pt
