// SPDX-License-Identifier: LGPL-2.1-or-later
#include "harf_live_client.h"

#include <gst/gst.h>

#include "harf_reply.h"
#include "io_thread.h"

GST_DEBUG_CATEGORY_EXTERN(pt_harf_live_debug);
#define GST_CAT_DEFAULT pt_harf_live_debug

namespace pt {

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

void HarfLiveClient::start()
{
  g_return_if_fail(state_ == State::Idle);
  session_ = soup_session_new_with_options("user-agent", "persiantranscribe/" VERSION, nullptr);
  cancel_ = g_cancellable_new();
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
  g_signal_connect(ws_, "message", G_CALLBACK(on_message_cb), this);
  g_signal_connect(ws_, "closed", G_CALLBACK(on_closed_cb), this);
  g_signal_connect(ws_, "error", G_CALLBACK(on_error_cb), this);
  GST_INFO_OBJECT(host_->log_object(), "connected to %s", settings_.harf_url.c_str());
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
         "Harf rejected the token (HTTP " + std::to_string(status) + " " +
             soup_status_get_phrase(status) +
             "). Check the \"token\" property or HARF_TOKEN, and \"auth-scheme\".",
         "handshake with " + url + ": " + detail);
  } else if (status >= 100) {
    fail(ErrorKind::OpenReadWrite,
         "Harf at " + url + " answered HTTP " + std::to_string(status) + " " +
             soup_status_get_phrase(status) + " instead of opening a WebSocket",
         detail);
  } else if (err && err->domain == G_TLS_ERROR) {
    fail(ErrorKind::OpenReadWrite, "TLS failure connecting to " + url + ": " + detail, detail);
  } else {
    fail(ErrorKind::OpenReadWrite, "Could not connect to " + url + ": " + detail, detail);
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
    GST_DEBUG_OBJECT(self->host_->log_object(),
                     "ignoring a %" G_GSIZE_FORMAT "-byte binary message from the server", len);
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

void HarfLiveClient::kick()
{
  pump();
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
    if (!host_->pop_window(w, &input_done)) {
      if (input_done) {
        GST_DEBUG_OBJECT(host_->log_object(),
                         "sending finalize after %" G_GUINT64_FORMAT " windows, %" G_GUINT64_FORMAT
                         " PCM bytes",
                         windows_sent_, pcm_sent_);
        soup_websocket_connection_send_text(ws_, "finalize");
        finalize_sent_ = true;
        state_ = State::Finalizing;
        arm_timer(settings_.timeout_s);
      }
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
    unacked_.push_back(std::move(w));
    if (!timer_)
      arm_timer(settings_.timeout_s);
  }
}

void HarfLiveClient::handle_text(const char *data, size_t len)
{
  if (state_ != State::Open && state_ != State::Finalizing)
    return;
  disarm_timer();
  if (!unacked_.empty()) {
    pcm_acked_ += unacked_.front().size();
    unacked_.pop_front();
  }
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
        host_->warn({ErrorKind::Read, "Harf sent a segment with impossible times; it was left out",
                     *bad});
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
  if (state_ != State::Open && state_ != State::Finalizing)
    return;
  if (!unacked_.empty() || finalize_sent_)
    arm_timer(settings_.timeout_s);
  pump();
}

void HarfLiveClient::publish(std::vector<Segment> segs, bool late)
{
  for (size_t i = 0; i < segs.size(); ++i) {
    Result r;
    r.segment = std::move(segs[i]);
    r.pts = time_base_ + r.segment.start;
    r.duration = r.segment.end - r.segment.start;
    r.backend = backend_name(BackendKind::HarfLive);
    r.late_revision = late && i + 1 == segs.size();
    host_->deliver(std::move(r));
  }
}

void HarfLiveClient::handle_closed()
{
  if (state_ == State::Done)
    return;
  bool finalized = finalize_sent_;
  gushort code = soup_websocket_connection_get_close_code(ws_);
  const char *reason = soup_websocket_connection_get_close_data(ws_);
  GST_INFO_OBJECT(host_->log_object(),
                  "server closed the connection (code %u%s%s) after %" G_GUINT64_FORMAT " windows",
                  code, reason && *reason ? ", " : "", reason ? reason : "", windows_sent_);
  disarm_timer();
  publish(tracker_.on_end(), false);
  if (finalized) {
    state_ = State::Done;
    host_->finished();
    return;
  }
  std::string msg = "Harf closed the connection in the middle of the stream, after " +
                    std::to_string(windows_sent_) + " windows (" +
                    std::to_string(pcm_to_ns(pcm_acked_) / GST_MSECOND) + " ms acknowledged)";
  std::string debug = "close code " + std::to_string(code);
  if (reason && *reason)
    debug += std::string(", reason: ") + reason;
  if (!last_ws_error_.empty())
    debug += ", error: " + last_ws_error_;
  fail(ErrorKind::Read, msg, debug);
}

void HarfLiveClient::handle_timeout()
{
  const std::string secs = std::to_string(settings_.timeout_s);
  switch (state_) {
    case State::Connecting:
      fail(ErrorKind::OpenReadWrite,
           "Could not connect to " + settings_.harf_url + " within " + secs + " s (timeout)");
      break;
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
      publish(tracker_.on_end(), false);
      state_ = State::Done;
      close_socket(SOUP_WEBSOCKET_CLOSE_NORMAL);
      host_->finished();
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
