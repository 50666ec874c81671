// SPDX-License-Identifier: LGPL-2.1-or-later
#include "live_client.h"

#include <gst/gst.h>

#include <algorithm>

#include "http_client.h"
#include "io_thread.h"

/* Every log line goes to the protocol's category. */
#define GST_CAT_DEFAULT cat_

namespace pt {

namespace {
/* Back-off between reconnections: 0.5 s doubling up to 10 s, +-20 %. */
constexpr uint64_t kFirstBackoffMs = 500;
constexpr uint64_t kMaxBackoffMs = 10000;
/* The longest Retry-After honoured. */
constexpr unsigned kMaxRetryAfterS = 60;
}  // namespace

/* One async connect, with its own cancellable.  abandon_connect() (a
 * timeout, a failure, shutdown()) clears owner and cancels it: on the
 * shared I/O context the callback still comes, after the client may be
 * gone, and then does nothing but free the op. */
struct LiveClient::ConnectOp {
  LiveClient *owner;
  SoupMessage *msg;
  GCancellable *cancel;
};

LiveClient::LiveClient(const Settings &s, BackendHost *host, IoThread *io, uint64_t time_base,
                       std::unique_ptr<LiveProtocol> protocol)
    : settings_(s),
      host_(host),
      io_(io),
      time_base_(time_base),
      protocol_(std::move(protocol)),
      cat_(protocol_->category()),
      timer_(*io, on_timeout_cb, this),
      reconnect_timer_(*io, on_reconnect_cb, this)
{
}

LiveClient::~LiveClient()
{
  shutdown();
}

uint64_t LiveClient::pcm_to_ns(uint64_t bytes) const
{
  return gst_util_uint64_scale(bytes / 2, GST_SECOND, static_cast<guint64>(settings_.sample_rate));
}

uint64_t LiveClient::ns_to_pcm(uint64_t ns) const
{
  return 2 * gst_util_uint64_scale(ns, static_cast<guint64>(settings_.sample_rate), GST_SECOND);
}

void LiveClient::start()
{
  g_return_if_fail(state_ == State::Idle);
  /* On the I/O thread, whose context is the thread default: the session
   * and everything it starts belong to that context. */
  session_ = soup_session_new_with_options("user-agent", "persiantranscribe/" VERSION, nullptr);
  state_ = State::Preparing;
  protocol_->prepare([this](const Error *e) {
    if (e) {
      fail(e->kind, e->message, e->debug, e->reason);
      return;
    }
    connect();
  });
}

void LiveClient::connect()
{
  std::string error;
  SoupMessage *msg = protocol_->new_request(&error);
  if (!msg) {
    fail(ErrorKind::Settings, error);
    return;
  }
  GST_INFO_OBJECT(host_->log_object(), "connecting to %s", protocol_->public_url().c_str());
  state_ = State::Connecting;
  abandon_connect();
  connect_op_ = new ConnectOp{this, msg, g_cancellable_new()};
  arm_timer(settings_.timeout_s);
  soup_session_websocket_connect_async(session_, msg, nullptr, nullptr, G_PRIORITY_DEFAULT,
                                       connect_op_->cancel, on_connect_done, connect_op_);
}

void LiveClient::on_connect_done(GObject *source, GAsyncResult *res, gpointer data)
{
  auto *op = static_cast<ConnectOp *>(data);
  GError *err = nullptr;
  SoupWebsocketConnection *ws =
      soup_session_websocket_connect_finish(SOUP_SESSION(source), res, &err);
  LiveClient *self = op->owner;
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
  g_object_unref(op->cancel);
  delete op;
}

void LiveClient::abandon_connect()
{
  if (connect_op_) {
    connect_op_->owner = nullptr;
    g_cancellable_cancel(connect_op_->cancel);
    connect_op_ = nullptr;
  }
}

void LiveClient::connected(SoupWebsocketConnection *ws)
{
  disarm_timer();
  ws_ = ws;
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
  pcm_sent_ = pcm_acked_ = windows_sent_ = 0;
  end_sent_ = false;
  replies_after_end_ = 0;
  last_ws_error_.clear();
  id_offset_ = max_id_ + 1;
  uint64_t replayed = 0;
  for (const Sent &r : replay_)
    replayed += r.data.size();
  GST_INFO_OBJECT(host_->log_object(),
                  "connected to %s (connection %u, %" G_GUINT64_FORMAT " ms to send again)",
                  protocol_->public_url().c_str(), connections_, pcm_to_ns(replayed) / GST_MSECOND);
  if (protocol_->open(ws_)) {
    state_ = State::Open;
    pump();
  } else {
    state_ = State::Handshake;
    arm_timer(settings_.timeout_s);
  }
}

void LiveClient::connect_failed(SoupMessage *msg, GError *err)
{
  if (err && g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED) && state_ != State::Connecting)
    return;
  guint status = soup_message_get_status(msg);
  const std::string url = protocol_->public_url();
  const std::string service = protocol_->service();
  std::string detail = err ? err->message : "unknown error";
  if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN) {
    fail(ErrorKind::NotAuthorized, protocol_->rejected(status),
         "handshake with " + url + ": " + detail);
  } else if (status == 429 || status >= 500) {
    const char *retry_after =
        soup_message_headers_get_one(soup_message_get_response_headers(msg), "Retry-After");
    connection_lost(ErrorKind::OpenReadWrite,
                    service + " at " + url + " answered HTTP " + http_status_text(status) +
                        " instead of opening a WebSocket",
                    detail, retry_after ? HttpClient::retry_after_seconds(retry_after) : 0);
  } else if (status >= 100) {
    fail(ErrorKind::OpenReadWrite,
         service + " at " + url + " answered HTTP " + http_status_text(status) +
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

void LiveClient::on_message_cb(SoupWebsocketConnection *, gint type, GBytes *msg, gpointer data)
{
  auto *self = static_cast<LiveClient *>(data);
  gsize len = 0;
  const char *bytes = static_cast<const char *>(g_bytes_get_data(msg, &len));
  if (type == SOUP_WEBSOCKET_DATA_TEXT)
    self->handle_text(bytes ? bytes : "", len);
  else
    self->handle_binary(len);
}

void LiveClient::on_closed_cb(SoupWebsocketConnection *, gpointer data)
{
  static_cast<LiveClient *>(data)->handle_closed();
}

void LiveClient::on_error_cb(SoupWebsocketConnection *, GError *err, gpointer data)
{
  auto *self = static_cast<LiveClient *>(data);
  self->last_ws_error_ = err ? err->message : "";
  GST_CAT_DEBUG_OBJECT(self->cat_, self->host_->log_object(), "WebSocket error: %s",
                       self->last_ws_error_.c_str());
}

void LiveClient::on_timeout_cb(gpointer data)
{
  static_cast<LiveClient *>(data)->handle_timeout();
}

void LiveClient::on_reconnect_cb(gpointer data)
{
  static_cast<LiveClient *>(data)->connect();
}

void LiveClient::kick()
{
  GST_LOG_OBJECT(host_->log_object(), "kick in state %d", static_cast<int>(state_));
  pump();
}

/* The next window for this connection: the replay first, then the engine's.
 * False when none is ready, or when a skip ends the session (held_). */
bool LiveClient::next_window(Window &w, bool *input_done)
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

void LiveClient::retain(Sent s)
{
  retained_.push_back(std::move(s));
  const uint64_t bound = ns_to_pcm(uint64_t(settings_.replay_ms) * GST_MSECOND);
  while (!retained_.empty() &&
         retained_.back().offset + retained_.back().data.size() - retained_.front().offset > bound)
    retained_.pop_front();
}

void LiveClient::send_end()
{
  GST_DEBUG_OBJECT(host_->log_object(),
                   "ending the session after %" G_GUINT64_FORMAT " windows, %" G_GUINT64_FORMAT
                   " PCM bytes",
                   windows_sent_, pcm_sent_);
  protocol_->send_end(ws_);
  end_sent_ = true;
  state_ = State::Finalizing;
  arm_timer(settings_.timeout_s);
}

void LiveClient::pump()
{
  if (state_ != State::Open)
    return;
  const bool acks = protocol_->acknowledges_windows();
  while (!acks || unacked_.size() < settings_.max_inflight) {
    if (!host_->can_accept_results())
      return;
    Window w;
    bool input_done = false;
    if (!next_window(w, &input_done)) {
      if (held_ || input_done)
        send_end();
      return;
    }
    protocol_->send_audio(ws_, w);
    pcm_sent_ += w.size();
    ++windows_sent_;
    GST_LOG_OBJECT(host_->log_object(),
                   "sent window %" G_GUINT64_FORMAT " (%" G_GSIZE_FORMAT " bytes)", windows_sent_,
                   w.size());
    if (acks) {
      unacked_.push_back(w.size());
      if (!timer_.active())
        arm_timer(settings_.timeout_s);
    } else {
      /* No reply answers a window: what is sent counts as carried. */
      pcm_acked_ = pcm_sent_;
      if (attempts_ > 0 && conn_base_ + pcm_acked_ > fail_point_)
        attempts_ = 0;
    }
  }
}

/* A reply, whatever it holds, answers the oldest window in flight. */
void LiveClient::acknowledge()
{
  disarm_timer();
  if (!unacked_.empty()) {
    pcm_acked_ += unacked_.front();
    unacked_.pop_front();
  } else if (end_sent_) {
    ++replies_after_end_;
  }
  /* Past the point where the last connection failed: a fresh start. */
  if (attempts_ > 0 && conn_base_ + pcm_acked_ > fail_point_)
    attempts_ = 0;
}

/* After a reply: wait for the next, send more. */
void LiveClient::continue_after_reply()
{
  if (state_ != State::Open && state_ != State::Finalizing)
    return;
  if (!unacked_.empty() || end_sent_)
    arm_timer(settings_.timeout_s);
  pump();
}

void LiveClient::handle_binary(size_t len)
{
  if (state_ != State::Open && state_ != State::Finalizing && state_ != State::Handshake)
    return;
  GST_DEBUG_OBJECT(host_->log_object(),
                   "ignoring a %" G_GSIZE_FORMAT "-byte binary message from the server", len);
  if (state_ != State::Handshake)
    acknowledge();
  host_->warn({ErrorKind::Read,
               std::string(protocol_->service()) +
                   " sent a binary message where a text reply belongs; it was ignored",
               std::to_string(len) + " bytes"});
  if (state_ != State::Handshake)
    continue_after_reply();
}

void LiveClient::handle_text(const char *data, size_t len)
{
  if (state_ != State::Open && state_ != State::Finalizing && state_ != State::Handshake)
    return;
  const bool handshake = state_ == State::Handshake;
  if (!handshake) {
    if (protocol_->acknowledges_windows())
      acknowledge();
    else if (end_sent_) {
      disarm_timer();
      ++replies_after_end_;
    }
  }
  LiveProtocol::Reply r = protocol_->on_text(ws_, data, len, pcm_to_ns(pcm_sent_));
  switch (r.kind) {
    case LiveProtocol::Reply::Kind::Ignored:
      break;
    case LiveProtocol::Reply::Kind::Ready:
      if (handshake) {
        disarm_timer();
        state_ = State::Open;
        pump();
        return;
      }
      break;
    case LiveProtocol::Reply::Kind::Malformed:
      GST_WARNING_OBJECT(host_->log_object(), "malformed reply: %s", r.problem.debug.c_str());
      host_->warn(r.problem);
      break;
    case LiveProtocol::Reply::Kind::Results:
      publish(std::move(r.segments), r.late_revision);
      break;
    case LiveProtocol::Reply::Kind::Ended:
      if (state_ == State::Finalizing) {
        session_done();
        return;
      }
      break;
    case LiveProtocol::Reply::Kind::Fatal:
      fail(r.problem.kind, r.problem.message, r.problem.debug, r.problem.reason);
      return;
  }
  if (handshake)
    arm_timer(settings_.timeout_s); /* the next step gets its own timeout */
  else
    continue_after_reply();
}

void LiveClient::publish(std::vector<Segment> segs, bool late)
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
    r.backend = backend_name(protocol_->kind());
    r.late_revision = late && i + 1 == segs.size();
    host_->deliver(std::move(r));
  }
}

void LiveClient::handle_closed()
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
  const std::string service = protocol_->service();
  if (end_sent_) {
    const bool normal = code == SOUP_WEBSOCKET_CLOSE_NORMAL;
    /* Harf: replies still due for windows sent, or none since finalize.
     * A protocol without acknowledgements owes results until it ends the
     * session itself (Ended), which never comes to this point. */
    const bool owed =
        protocol_->acknowledges_windows() ? !unacked_.empty() || replies_after_end_ == 0 : true;
    if (!normal && owed && !retried_end_ && settings_.max_reconnects > 0) {
      /* Results may still be owed: one more try, with the audio kept. */
      retried_end_ = true;
      connection_lost(ErrorKind::Read,
                      service + " closed the connection abnormally after the end of the audio",
                      debug);
      return;
    }
    if (!normal)
      host_->warn({ErrorKind::Read,
                   service +
                       " closed the connection abnormally after the end of the audio; the last "
                       "results may be missing",
                   debug});
    session_done();
    return;
  }
  /* libsoup closes the connection itself for a message over its limits or
   * invalid UTF-8: say so, not that the service hung up. */
  std::string msg = last_ws_error_.empty()
                        ? service + " closed the connection in the middle of the stream, after " +
                              std::to_string(windows_sent_) + " windows (" +
                              std::to_string(pcm_to_ns(pcm_acked_) / GST_MSECOND) + " ms " +
                              (protocol_->acknowledges_windows() ? "acknowledged)" : "sent)")
                        : "The connection to " + service +
                              " broke in the middle of the stream: " + last_ws_error_;
  connection_lost(ErrorKind::Read, msg, debug);
}

void LiveClient::session_done()
{
  publish(protocol_->on_end(), false);
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

void LiveClient::drop_connection()
{
  disarm_timer();
  if (ws_) {
    close_socket(SOUP_WEBSOCKET_CLOSE_NORMAL);
    g_clear_object(&ws_);
  }
  unacked_.clear();
  replay_.clear();
}

void LiveClient::connection_lost(ErrorKind kind, const std::string &message,
                                 const std::string &debug, unsigned retry_after_s)
{
  /* Failing at the same place again does not reset the count. */
  fail_point_ = std::max(fail_point_, conn_base_ + pcm_acked_);
  if (attempts_ >= settings_.max_reconnects) {
    std::string why = message;
    if (settings_.max_reconnects > 0)
      why += " (gave up after " + std::to_string(attempts_) + " reconnection attempts)";
    publish(protocol_->on_end(), false);
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
  reconnect_timer_.start(static_cast<unsigned>(delay_ms));
}

void LiveClient::handle_timeout()
{
  const std::string secs = std::to_string(settings_.timeout_s);
  const std::string url = protocol_->public_url();
  const std::string service = protocol_->service();
  switch (state_) {
    case State::Connecting: {
      std::string message = "Could not connect to " + url + " within " + secs + " s (timeout)";
      abandon_connect();
      if (ever_connected_)
        connection_lost(ErrorKind::OpenReadWrite, message, "");
      else
        fail(ErrorKind::OpenReadWrite, message);
      break;
    }
    case State::Handshake:
      fail(ErrorKind::Read, service + " at " + url + " did not send " + protocol_->awaited() +
                                " within " + secs + " s (timeout)");
      break;
    case State::Open:
      fail(ErrorKind::Read, service + " at " + url + " sent no reply within " + secs +
                                " s (timeout); " + std::to_string(unacked_.size()) +
                                " window(s) unanswered");
      break;
    case State::Finalizing:
      GST_INFO_OBJECT(host_->log_object(),
                      "the session did not end within %s s after the end of the audio; ending it",
                      secs.c_str());
      session_done();
      break;
    default:
      break;
  }
}

void LiveClient::arm_timer(unsigned seconds)
{
  timer_.start(seconds * 1000u);
}

void LiveClient::disarm_timer()
{
  timer_.stop();
}

void LiveClient::disarm_reconnect_timer()
{
  reconnect_timer_.stop();
}

void LiveClient::close_socket(gushort code)
{
  if (!ws_)
    return;
  g_signal_handlers_disconnect_by_data(ws_, this);
  if (soup_websocket_connection_get_state(ws_) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close(ws_, code, nullptr);
}

void LiveClient::fail(ErrorKind kind, const std::string &message, const std::string &debug,
                      const char *reason)
{
  GST_WARNING_OBJECT(host_->log_object(), "%s (%s)", message.c_str(), debug.c_str());
  state_ = State::Done;
  disarm_timer();
  disarm_reconnect_timer();
  abandon_connect();
  close_socket(SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
  if (!reason && kind == ErrorKind::NotAuthorized)
    reason = kReasonCredentialsRejected;
  host_->fail({kind, message, debug, reason});
}

/* Everything this client put on the I/O context, which other engines
 * share and which outlives it: the login (protocol), both timers, the
 * connect in flight, the socket's signal handlers, then the session's
 * requests.  Callbacks already queued find their op without an owner. */
void LiveClient::shutdown()
{
  protocol_->shutdown();
  disarm_timer();
  disarm_reconnect_timer();
  abandon_connect();
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
