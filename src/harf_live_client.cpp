// SPDX-License-Identifier: LGPL-2.1-or-later
#include "harf_live_client.h"

#include <gst/gst.h>

#include <algorithm>

#include "harf_reply.h"
#include "http_client.h"
#include "io_thread.h"

GST_DEBUG_CATEGORY_EXTERN(pt_harf_live_debug);
#define GST_CAT_DEFAULT pt_harf_live_debug

namespace pt {

namespace {
/* Back-off between reconnections: 0.5 s doubling up to 10 s, +-20 %. */
constexpr uint64_t kFirstBackoffMs = 500;
constexpr uint64_t kMaxBackoffMs = 10000;
/* The longest Retry-After honoured. */
constexpr unsigned kMaxRetryAfterS = 60;
}  // namespace

/* One async connect; owner is cleared by shutdown() so a callback that
 * arrives after it does nothing but free the op. */
struct HarfLiveClient::ConnectOp {
  HarfLiveClient *owner;
  SoupMessage *msg;
};

HarfLiveClient::HarfLiveClient(const Settings &s, BackendHost *host, IoThread *io,
                               uint64_t time_base)
    : settings_(s),
      host_(host),
      io_(io),
      time_base_(time_base),
      header_(make_streaming_wav_header(static_cast<uint32_t>(s.sample_rate), 1, 16)),
      tracker_(s.partial_results)
{
}

HarfLiveClient::~HarfLiveClient()
{
  shutdown();
}

uint64_t HarfLiveClient::pcm_to_ns(uint64_t bytes) const
{
  return gst_util_uint64_scale(bytes / 2, GST_SECOND, static_cast<guint64>(settings_.sample_rate));
}

uint64_t HarfLiveClient::ns_to_pcm(uint64_t ns) const
{
  return 2 * gst_util_uint64_scale(ns, static_cast<guint64>(settings_.sample_rate), GST_SECOND);
}

void HarfLiveClient::start()
{
  g_return_if_fail(state_ == State::Idle);
  session_ = soup_session_new_with_options("user-agent", "persiantranscribe/" VERSION, nullptr);
  cancel_ = g_cancellable_new();
  connect();
}

void HarfLiveClient::connect()
{
  SoupMessage *msg = soup_message_new("GET", settings_.harf_url.c_str());
  if (!msg) {
    fail(ErrorKind::Settings, "harf-url \"" + settings_.harf_url + "\" is not a valid URL");
    return;
  }
  /* The token goes into this header and nowhere else: never logged. */
  soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization",
                               authorization_value(settings_).c_str());
  GST_INFO_OBJECT(host_->log_object(), "connecting to %s (auth scheme %s)",
                  settings_.harf_url.c_str(),
                  settings_.auth_scheme == AuthScheme::Bearer ? "Bearer" : "Token");
  state_ = State::Connecting;
  connect_op_ = new ConnectOp{this, msg};
  arm_timer(settings_.timeout_s);
  soup_session_websocket_connect_async(session_, msg, nullptr, nullptr, G_PRIORITY_DEFAULT, cancel_,
                                       on_connect_done, connect_op_);
}

void HarfLiveClient::on_connect_done(GObject *source, GAsyncResult *res, gpointer data)
{
  auto *op = static_cast<ConnectOp *>(data);
  GError *err = nullptr;
  SoupWebsocketConnection *ws =
      soup_session_websocket_connect_finish(SOUP_SESSION(source), res, &err);
  HarfLiveClient *self = op->owner;
  if (self) {
    self->connect_op_ = nullptr;
    if (ws)
      self->connected(ws);
    else
      self->connect_failed(op->msg, err);
  } else if (ws) {
    g_object_unref(ws);
  }
  g_clear_error(&err);
  g_object_unref(op->msg);
  delete op;
}

void HarfLiveClient::connected(SoupWebsocketConnection *ws)
{
  disarm_timer();
  ws_ = ws;
  state_ = State::Open;
  ever_connected_ = true;
  ++connections_;
  /* A message larger than max-answer-size closes the connection. */
  soup_websocket_connection_set_max_incoming_payload_size(ws_, settings_.max_answer_bytes);
  g_signal_connect(ws_, "message", G_CALLBACK(on_message_cb), this);
  g_signal_connect(ws_, "closed", G_CALLBACK(on_closed_cb), this);
  g_signal_connect(ws_, "error", G_CALLBACK(on_error_cb), this);
  /* A new session: the audio kept is sent again first. */
  replay_ = retained_;
  conn_base_ = retained_.empty() ? stream_bytes_ : retained_.front().offset;
  unacked_.clear();
  header_sent_ = false;
  pcm_sent_ = pcm_acked_ = windows_sent_ = 0;
  finalize_sent_ = false;
  replies_after_finalize_ = 0;
  last_ws_error_.clear();
  id_offset_ = max_id_ + 1;
  tracker_ = SegmentTracker(settings_.partial_results);
  uint64_t replayed = 0;
  for (const Sent &r : replay_)
    replayed += r.data.size();
  GST_INFO_OBJECT(host_->log_object(),
                  "connected to %s (connection %u, %" G_GUINT64_FORMAT " ms to send again)",
                  settings_.harf_url.c_str(), connections_, pcm_to_ns(replayed) / GST_MSECOND);
  pump();
}

void HarfLiveClient::connect_failed(SoupMessage *msg, GError *err)
{
  if (err && g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED) && state_ != State::Connecting)
    return;
  guint status = soup_message_get_status(msg);
  const std::string &url = settings_.harf_url;
  std::string detail = err ? err->message : "unknown error";
  if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN) {
    fail(ErrorKind::NotAuthorized,
         "Harf rejected the token (HTTP " + http_status_text(status) +
             "). Check the \"token\" property or HARF_TOKEN, and \"auth-scheme\".",
         "handshake with " + url + ": " + detail);
  } else if (status == 429 || status >= 500) {
    const char *retry_after =
        soup_message_headers_get_one(soup_message_get_response_headers(msg), "Retry-After");
    connection_lost(ErrorKind::OpenReadWrite,
                    "Harf at " + url + " answered HTTP " + http_status_text(status) +
                        " instead of opening a WebSocket",
                    detail, retry_after ? HttpClient::retry_after_seconds(retry_after) : 0);
  } else if (status >= 100) {
    fail(ErrorKind::OpenReadWrite,
         "Harf at " + url + " answered HTTP " + http_status_text(status) +
             " instead of opening a WebSocket",
         detail);
  } else {
    std::string message = err && err->domain == G_TLS_ERROR
                              ? "TLS handshake with " + url + " failed: " + detail
                              : "Could not connect to " + url + ": " + detail;
    /* A service that has been reached once and now refuses may be
     * restarting: that is worth a reconnection.  Never reached: an error. */
    if (ever_connected_)
      connection_lost(ErrorKind::OpenReadWrite, message, detail);
    else
      fail(ErrorKind::OpenReadWrite, message, detail);
  }
}

void HarfLiveClient::on_message_cb(SoupWebsocketConnection *, gint type, GBytes *msg, gpointer data)
{
  auto *self = static_cast<HarfLiveClient *>(data);
  gsize len = 0;
  const char *bytes = static_cast<const char *>(g_bytes_get_data(msg, &len));
  if (type == SOUP_WEBSOCKET_DATA_TEXT)
    self->handle_text(bytes ? bytes : "", len);
  else
    self->handle_binary(len);
}

void HarfLiveClient::on_closed_cb(SoupWebsocketConnection *, gpointer data)
{
  static_cast<HarfLiveClient *>(data)->handle_closed();
}

void HarfLiveClient::on_error_cb(SoupWebsocketConnection *, GError *err, gpointer data)
{
  auto *self = static_cast<HarfLiveClient *>(data);
  self->last_ws_error_ = err ? err->message : "";
  GST_DEBUG_OBJECT(self->host_->log_object(), "WebSocket error: %s", self->last_ws_error_.c_str());
}

gboolean HarfLiveClient::on_timeout_cb(gpointer data)
{
  auto *self = static_cast<HarfLiveClient *>(data);
  g_source_unref(self->timer_);
  self->timer_ = nullptr;
  self->handle_timeout();
  return G_SOURCE_REMOVE;
}

gboolean HarfLiveClient::on_reconnect_cb(gpointer data)
{
  auto *self = static_cast<HarfLiveClient *>(data);
  g_source_unref(self->reconnect_timer_);
  self->reconnect_timer_ = nullptr;
  self->connect();
  return G_SOURCE_REMOVE;
}

void HarfLiveClient::kick()
{
  pump();
}

/* The next window for this connection: the replay first, then the engine's.
 * False when none is ready, or when a skip ends the session (held_). */
bool HarfLiveClient::next_window(Window &w, bool *input_done)
{
  *input_done = false;
  if (!replay_.empty()) {
    w = replay_.front().data;
    replay_.pop_front();
    return true;
  }
  if (held_)
    return false;
  uint64_t skipped = 0;
  if (!host_->pop_window(w, input_done, &skipped))
    return false;
  if (skipped > 0) {
    uint64_t skip = ns_to_pcm(skipped);
    if (pcm_sent_ == 0) {
      /* Nothing sent on this connection yet: it simply starts later. */
      stream_bytes_ += skip;
      conn_base_ = stream_bytes_;
      retained_.clear();
    } else {
      GST_INFO_OBJECT(host_->log_object(),
                      "%" G_GUINT64_FORMAT " ms of input skipped: a new session after this one",
                      skipped / GST_MSECOND);
      held_ = Sent{stream_bytes_ + skip, std::move(w)};
      stream_bytes_ += skip + held_->data.size();
      return false;
    }
  }
  retain({stream_bytes_, w});
  stream_bytes_ += w.size();
  return true;
}

void HarfLiveClient::retain(Sent s)
{
  retained_.push_back(std::move(s));
  const uint64_t bound = ns_to_pcm(uint64_t(settings_.replay_ms) * GST_MSECOND);
  while (!retained_.empty() &&
         retained_.back().offset + retained_.back().data.size() - retained_.front().offset > bound)
    retained_.pop_front();
}

void HarfLiveClient::send_finalize()
{
  GST_DEBUG_OBJECT(host_->log_object(),
                   "sending finalize after %" G_GUINT64_FORMAT " windows, %" G_GUINT64_FORMAT
                   " PCM bytes",
                   windows_sent_, pcm_sent_);
  soup_websocket_connection_send_text(ws_, "finalize");
  finalize_sent_ = true;
  state_ = State::Finalizing;
  arm_timer(settings_.timeout_s);
}

void HarfLiveClient::pump()
{
  if (state_ != State::Open)
    return;
  while (unacked_.size() < settings_.max_inflight) {
    if (!host_->can_accept_results())
      return;
    Window w;
    bool input_done = false;
    if (!next_window(w, &input_done)) {
      if (held_ || input_done)
        send_finalize();
      return;
    }
    if (!header_sent_) {
      std::vector<uint8_t> first(header_.begin(), header_.end());
      first.insert(first.end(), w.begin(), w.end());
      soup_websocket_connection_send_binary(ws_, first.data(), first.size());
      header_sent_ = true;
    } else {
      soup_websocket_connection_send_binary(ws_, w.data(), w.size());
    }
    pcm_sent_ += w.size();
    ++windows_sent_;
    GST_LOG_OBJECT(host_->log_object(),
                   "sent window %" G_GUINT64_FORMAT " (%" G_GSIZE_FORMAT " bytes)", windows_sent_,
                   w.size());
    unacked_.push_back(w.size());
    if (!timer_)
      arm_timer(settings_.timeout_s);
  }
}

/* A reply, whatever it holds, answers the oldest window in flight. */
void HarfLiveClient::acknowledge()
{
  disarm_timer();
  if (!unacked_.empty()) {
    pcm_acked_ += unacked_.front();
    unacked_.pop_front();
  } else if (finalize_sent_) {
    ++replies_after_finalize_;
  }
  /* Past the point where the last connection failed: a fresh start. */
  if (attempts_ > 0 && conn_base_ + pcm_acked_ > fail_point_)
    attempts_ = 0;
}

/* After a reply: wait for the next, send more. */
void HarfLiveClient::continue_after_reply()
{
  if (state_ != State::Open && state_ != State::Finalizing)
    return;
  if (!unacked_.empty() || finalize_sent_)
    arm_timer(settings_.timeout_s);
  pump();
}

void HarfLiveClient::handle_binary(size_t len)
{
  if (state_ != State::Open && state_ != State::Finalizing)
    return;
  GST_DEBUG_OBJECT(host_->log_object(),
                   "ignoring a %" G_GSIZE_FORMAT "-byte binary message from the server", len);
  acknowledge();
  host_->warn({ErrorKind::Read,
               "Harf sent a binary message where a text reply belongs; it was ignored",
               std::to_string(len) + " bytes"});
  continue_after_reply();
}

void HarfLiveClient::handle_text(const char *data, size_t len)
{
  if (state_ != State::Open && state_ != State::Finalizing)
    return;
  acknowledge();
  HarfReply r = parse_harf_reply(data, len);
  switch (r.kind) {
    case HarfReply::Kind::Malformed:
      GST_WARNING_OBJECT(host_->log_object(), "malformed reply: %s", r.error.c_str());
      host_->warn({ErrorKind::Read, "Harf sent a malformed reply; it was skipped", r.error});
      break;
    case HarfReply::Kind::Pending:
      GST_LOG_OBJECT(host_->log_object(), "reply without text (state %s)", r.state.c_str());
      publish(tracker_.on_other_reply(), false);
      break;
    case HarfReply::Kind::Segment: {
      if (auto bad = check_segment_times(r.segment, pcm_to_ns(pcm_sent_))) {
        GST_WARNING_OBJECT(host_->log_object(), "dropping a segment: %s", bad->c_str());
        host_->warn(
            {ErrorKind::Read, "Harf sent a segment with impossible times; it was left out", *bad});
        break;
      }
      GST_DEBUG_OBJECT(host_->log_object(),
                       "segment %" G_GINT64_FORMAT " %" GST_TIME_FORMAT "-%" GST_TIME_FORMAT ": %s",
                       r.segment.id, GST_TIME_ARGS(r.segment.start), GST_TIME_ARGS(r.segment.end),
                       r.segment.raw_text.c_str());
      auto out = tracker_.on_segment(std::move(r.segment));
      publish(std::move(out), tracker_.last_was_late_revision());
      break;
    }
  }
  continue_after_reply();
}

void HarfLiveClient::publish(std::vector<Segment> segs, bool late)
{
  const uint64_t base = time_base_ + pcm_to_ns(conn_base_);
  for (size_t i = 0; i < segs.size(); ++i) {
    Result r;
    r.segment = std::move(segs[i]);
    r.pts = base + r.segment.start;
    r.duration = r.segment.end - r.segment.start;
    if (r.segment.final) {
      /* A replay transcribes again what the last connection had finished:
       * publish that once. */
      if (connections_ > 1 && r.pts + r.duration <= published_end_ && r.pts < published_end_) {
        GST_DEBUG_OBJECT(host_->log_object(),
                         "segment at %" GST_TIME_FORMAT
                         " was already published before the reconnection",
                         GST_TIME_ARGS(r.pts));
        continue;
      }
      published_end_ = std::max(published_end_, r.pts + r.duration);
      /* The audio up to its end will not be needed again. */
      const uint64_t done = conn_base_ + ns_to_pcm(r.segment.end);
      while (!retained_.empty() && retained_.front().offset + retained_.front().data.size() <= done)
        retained_.pop_front();
    }
    if (r.segment.id >= 0) {
      r.segment.id += id_offset_;
      max_id_ = std::max(max_id_, r.segment.id);
    }
    r.backend = backend_name(BackendKind::HarfLive);
    r.late_revision = late && i + 1 == segs.size();
    host_->deliver(std::move(r));
  }
}

void HarfLiveClient::handle_closed()
{
  if (state_ == State::Done || state_ == State::Waiting)
    return;
  gushort code = soup_websocket_connection_get_close_code(ws_);
  const char *reason = soup_websocket_connection_get_close_data(ws_);
  GST_INFO_OBJECT(host_->log_object(),
                  "server closed the connection (code %u%s%s) after %" G_GUINT64_FORMAT " windows",
                  code, reason && *reason ? ", " : "", reason ? reason : "", windows_sent_);
  disarm_timer();
  std::string debug = "close code " + std::to_string(code);
  if (reason && *reason)
    debug += std::string(", reason: ") + reason;
  if (!last_ws_error_.empty())
    debug += ", error: " + last_ws_error_;
  if (finalize_sent_) {
    const bool normal = code == SOUP_WEBSOCKET_CLOSE_NORMAL;
    const bool owed = !unacked_.empty() || replies_after_finalize_ == 0;
    if (!normal && owed && !retried_finalize_ && settings_.max_reconnects > 0) {
      /* Results may still be owed: one more try, with the audio kept. */
      retried_finalize_ = true;
      connection_lost(ErrorKind::Read,
                      "Harf closed the connection abnormally after the end of the audio", debug);
      return;
    }
    if (!normal)
      host_->warn({ErrorKind::Read,
                   "Harf closed the connection abnormally after the end of the audio; the last "
                   "results may be missing",
                   debug});
    session_done();
    return;
  }
  /* libsoup closes the connection itself for a message over its limits or
   * invalid UTF-8: say so, not that Harf hung up. */
  std::string msg =
      last_ws_error_.empty()
          ? "Harf closed the connection in the middle of the stream, after " +
                std::to_string(windows_sent_) + " windows (" +
                std::to_string(pcm_to_ns(pcm_acked_) / GST_MSECOND) + " ms acknowledged)"
          : "The connection to Harf broke in the middle of the stream: " + last_ws_error_;
  connection_lost(ErrorKind::Read, msg, debug);
}

void HarfLiveClient::session_done()
{
  publish(tracker_.on_end(), false);
  drop_connection();
  if (held_) {
    /* The next session starts at the window after the skip. */
    retained_.clear();
    retained_.push_back(std::move(*held_));
    held_.reset();
    GST_INFO_OBJECT(host_->log_object(), "a new session after skipped input");
    connect();
    return;
  }
  state_ = State::Done;
  host_->finished();
}

void HarfLiveClient::drop_connection()
{
  disarm_timer();
  if (ws_) {
    close_socket(SOUP_WEBSOCKET_CLOSE_NORMAL);
    g_clear_object(&ws_);
  }
  unacked_.clear();
  replay_.clear();
}

void HarfLiveClient::connection_lost(ErrorKind kind, const std::string &message,
                                     const std::string &debug, unsigned retry_after_s)
{
  /* Failing at the same place again does not reset the count. */
  fail_point_ = std::max(fail_point_, conn_base_ + pcm_acked_);
  if (attempts_ >= settings_.max_reconnects) {
    std::string why = message;
    if (settings_.max_reconnects > 0)
      why += " (gave up after " + std::to_string(attempts_) + " reconnection attempts)";
    publish(tracker_.on_end(), false);
    fail(kind, why, debug);
    return;
  }
  drop_connection();
  ++attempts_;
  uint64_t delay_ms = std::min(kMaxBackoffMs, kFirstBackoffMs << std::min(attempts_ - 1, 5u));
  delay_ms = static_cast<uint64_t>(static_cast<double>(delay_ms) * g_random_double_range(0.8, 1.2));
  delay_ms = std::max<uint64_t>(delay_ms, std::min(retry_after_s, kMaxRetryAfterS) * 1000ull);
  uint64_t kept = 0;
  for (const Sent &s : retained_)
    kept += s.data.size();
  GST_INFO_OBJECT(host_->log_object(), "reconnecting in %" G_GUINT64_FORMAT " ms (attempt %u): %s",
                  delay_ms, attempts_, message.c_str());
  host_->reconnecting({attempts_, message, pcm_to_ns(kept), delay_ms * GST_MSECOND});
  state_ = State::Waiting;
  reconnect_timer_ = g_timeout_source_new(static_cast<guint>(delay_ms));
  g_source_set_callback(reconnect_timer_, on_reconnect_cb, this, nullptr);
  g_source_attach(reconnect_timer_, io_->context());
}

void HarfLiveClient::handle_timeout()
{
  const std::string secs = std::to_string(settings_.timeout_s);
  switch (state_) {
    case State::Connecting: {
      std::string message =
          "Could not connect to " + settings_.harf_url + " within " + secs + " s (timeout)";
      if (connect_op_) {
        connect_op_->owner = nullptr;
        connect_op_ = nullptr;
      }
      if (ever_connected_)
        connection_lost(ErrorKind::OpenReadWrite, message, "");
      else
        fail(ErrorKind::OpenReadWrite, message);
      break;
    }
    case State::Open:
      fail(ErrorKind::Read, "Harf at " + settings_.harf_url + " sent no reply within " + secs +
                                " s (timeout); " + std::to_string(unacked_.size()) +
                                " window(s) unanswered");
      break;
    case State::Finalizing:
      GST_WARNING_OBJECT(
          host_->log_object(),
          "the server did not close the connection within %s s after finalize; ending",
          secs.c_str());
      session_done();
      break;
    default:
      break;
  }
}

void HarfLiveClient::arm_timer(unsigned seconds)
{
  disarm_timer();
  timer_ = g_timeout_source_new(seconds * 1000u);
  g_source_set_callback(timer_, on_timeout_cb, this, nullptr);
  g_source_attach(timer_, io_->context());
}

void HarfLiveClient::disarm_timer()
{
  if (timer_) {
    g_source_destroy(timer_);
    g_source_unref(timer_);
    timer_ = nullptr;
  }
}

void HarfLiveClient::close_socket(gushort code)
{
  if (!ws_)
    return;
  g_signal_handlers_disconnect_by_data(ws_, this);
  if (soup_websocket_connection_get_state(ws_) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close(ws_, code, nullptr);
}

void HarfLiveClient::fail(ErrorKind kind, const std::string &message, const std::string &debug)
{
  GST_WARNING_OBJECT(host_->log_object(), "%s (%s)", message.c_str(), debug.c_str());
  state_ = State::Done;
  disarm_timer();
  if (connect_op_) {
    connect_op_->owner = nullptr;
    connect_op_ = nullptr;
  }
  if (cancel_)
    g_cancellable_cancel(cancel_);
  close_socket(SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  host_->fail({kind, message, debug,
               kind == ErrorKind::NotAuthorized ? kReasonCredentialsRejected : nullptr});
}

void HarfLiveClient::shutdown()
{
  disarm_timer();
  if (reconnect_timer_) {
    g_source_destroy(reconnect_timer_);
    g_source_unref(reconnect_timer_);
    reconnect_timer_ = nullptr;
  }
  if (connect_op_) {
    connect_op_->owner = nullptr;
    connect_op_ = nullptr;
  }
  if (cancel_) {
    g_cancellable_cancel(cancel_);
    g_clear_object(&cancel_);
  }
  if (ws_) {
    close_socket(SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
    g_clear_object(&ws_);
  }
  if (session_) {
    soup_session_abort(session_);
    g_clear_object(&session_);
  }
  state_ = State::Done;
}

}  // namespace pt
