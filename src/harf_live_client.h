// SPDX-License-Identifier: LGPL-2.1-or-later
/* Harf's live WebSocket protocol: one connection, on the I/O thread.
 *
 * Wire: the first binary message is a streaming RIFF/WAVE header followed by
 * the first window of PCM (S16LE, mono, sample-rate); every later binary
 * message is one window; the trailing partial window is sent too; then the
 * text "finalize".  With max-inflight N, at most N windows (or finalize)
 * wait for a reply at a time; N=1 is the documented lock-step.  Replies are
 * read until the server closes or `timeout` passes after finalize.
 *
 * The connection state that reconnection will need lives here together:
 * the WAV header, PCM bytes sent and acknowledged, the windows not yet
 * acknowledged, and the time base that maps service offsets onto the input
 * timeline. */
#pragma once

#include <libsoup/soup.h>

#include <array>
#include <deque>
#include <memory>
#include <string>

#include "backend.h"
#include "segment_tracker.h"
#include "wav_header.h"

namespace pt {

class HarfLiveClient : public Backend {
 public:
  HarfLiveClient(const Settings &s, BackendHost *host, IoThread *io, uint64_t time_base);
  ~HarfLiveClient() override;

  void start() override;
  void kick() override;
  void shutdown() override;

  /* Connection state, for logs and tests */
  uint64_t pcm_bytes_sent() const { return pcm_sent_; }
  uint64_t pcm_bytes_acked() const { return pcm_acked_; }

 private:
  enum class State { Idle, Connecting, Open, Finalizing, Done };
  struct ConnectOp;

  static void on_connect_done(GObject *source, GAsyncResult *res, gpointer data);
  static void on_message_cb(SoupWebsocketConnection *ws, gint type, GBytes *msg, gpointer data);
  static void on_closed_cb(SoupWebsocketConnection *ws, gpointer data);
  static void on_error_cb(SoupWebsocketConnection *ws, GError *err, gpointer data);
  static gboolean on_timeout_cb(gpointer data);

  void connected(SoupWebsocketConnection *ws);
  void connect_failed(SoupMessage *msg, GError *err);
  void handle_text(const char *data, size_t len);
  void handle_closed();
  void handle_timeout();
  void pump();
  void publish(std::vector<Segment> segs, bool late);
  void arm_timer(unsigned seconds);
  void disarm_timer();
  void fail(ErrorKind kind, const std::string &message, const std::string &debug = "");
  void close_socket(gushort code);
  uint64_t pcm_to_ns(uint64_t bytes) const;

  const Settings settings_;
  BackendHost *host_;
  IoThread *io_;
  const uint64_t time_base_;
  const std::array<uint8_t, kWavHeaderSize> header_;

  State state_ = State::Idle;
  SoupSession *session_ = nullptr;
  SoupWebsocketConnection *ws_ = nullptr;
  GCancellable *cancel_ = nullptr;
  ConnectOp *connect_op_ = nullptr;
  GSource *timer_ = nullptr;

  bool header_sent_ = false;
  uint64_t pcm_sent_ = 0;
  uint64_t pcm_acked_ = 0;
  uint64_t windows_sent_ = 0;
  std::deque<Window> unacked_; /* sent, no reply yet: what a reconnection would replay */
  bool finalize_sent_ = false;
  unsigned finalize_inflight_ = 0;
  std::string last_ws_error_;
  SegmentTracker tracker_;
};

}  // namespace pt
