// SPDX-License-Identifier: LGPL-2.1-or-later
/* Harf's live WebSocket protocol, on the I/O thread.
 *
 * Wire: the first binary message of a connection is a streaming RIFF/WAVE
 * header followed by the first window of PCM (S16LE, mono, sample-rate);
 * every later binary message is one window; the trailing partial window is
 * sent too; then the text "finalize".  With max-inflight N, at most N
 * windows (or finalize) wait for a reply at a time; N=1 is the documented
 * lock-step.  Replies are read until the server closes or `timeout` passes
 * after finalize.
 *
 * Sessions.  A session is a connection plus its time base: conn_base_, the
 * stream offset (bytes of the 16-bit mono stream since time_base) of its
 * first byte.  Service offsets map onto the input timeline as
 * time_base + conn_base + offset.
 *  - Reconnection: when a connection closes or fails without our finalize
 *    (or the handshake gets 429/5xx), a new one is opened after a back-off
 *    (0.5 s doubling to 10 s, +-20 % jitter, Retry-After honoured), and the
 *    audio kept since the last final segment (at most replay-duration) is
 *    sent again first.  At most max-reconnects attempts in a row; the count
 *    resets once a connection carries the stream past the point where the
 *    previous one failed.  401/403 never reconnect.
 *  - Session breaks: a window that comes after skipped input time (a hole
 *    longer than gap-threshold, or live audio dropped) ends the session:
 *    finalize, collect its results, then a new connection at the new base.
 * Segment ids are made unique across connections; a final segment that a
 * replay transcribes again is published once. */
#pragma once

#include <libsoup/soup.h>

#include <array>
#include <deque>
#include <memory>
#include <optional>
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

 private:
  enum class State { Idle, Connecting, Open, Finalizing, Waiting, Done };
  struct ConnectOp;
  /* A window taken from the engine, with its stream offset (bytes). */
  struct Sent {
    uint64_t offset;
    Window data;
  };

  static void on_connect_done(GObject *source, GAsyncResult *res, gpointer data);
  static void on_message_cb(SoupWebsocketConnection *ws, gint type, GBytes *msg, gpointer data);
  static void on_closed_cb(SoupWebsocketConnection *ws, gpointer data);
  static void on_error_cb(SoupWebsocketConnection *ws, GError *err, gpointer data);
  static gboolean on_timeout_cb(gpointer data);
  static gboolean on_reconnect_cb(gpointer data);

  void connect();
  void connected(SoupWebsocketConnection *ws);
  void connect_failed(SoupMessage *msg, GError *err);
  void handle_text(const char *data, size_t len);
  void handle_binary(size_t len);
  void acknowledge();
  void continue_after_reply();
  void handle_closed();
  void handle_timeout();
  void pump();
  bool next_window(Window &w, bool *input_done);
  void send_finalize();
  void retain(Sent s);
  void publish(std::vector<Segment> segs, bool late);
  /* The connection ended without our finalize: reconnect, or fail once
   * max-reconnects attempts in a row are used up. */
  void connection_lost(ErrorKind kind, const std::string &message, const std::string &debug,
                       unsigned retry_after_s = 0);
  /* The session ended normally: open the next one (after a skip), or finish. */
  void session_done();
  void drop_connection();
  void arm_timer(unsigned seconds);
  void disarm_timer();
  void fail(ErrorKind kind, const std::string &message, const std::string &debug = "");
  void close_socket(gushort code);
  uint64_t pcm_to_ns(uint64_t bytes) const;
  uint64_t ns_to_pcm(uint64_t ns) const;

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
  GSource *reconnect_timer_ = nullptr;

  /* The stream, across connections */
  uint64_t stream_bytes_ = 0;  /* offset after the last window taken (skips included) */
  std::deque<Sent> retained_;  /* sent since the last final segment: replayed */
  std::optional<Sent> held_;   /* the first window after a skip: the next session's */
  uint64_t published_end_ = 0; /* input time where the last final segment ended */
  int64_t max_id_ = -1;        /* largest segment id published */
  bool ever_connected_ = false;
  unsigned attempts_ = 0;   /* reconnections in a row */
  uint64_t fail_point_ = 0; /* stream offset acknowledged when a connection failed */
  unsigned connections_ = 0;

  /* This connection */
  uint64_t conn_base_ = 0;     /* stream offset of its first byte */
  std::deque<Sent> replay_;    /* to send again before new audio */
  std::deque<size_t> unacked_; /* sizes of windows sent, no reply yet */
  bool header_sent_ = false;
  uint64_t pcm_sent_ = 0;
  uint64_t pcm_acked_ = 0;
  uint64_t windows_sent_ = 0;
  bool finalize_sent_ = false;
  unsigned replies_after_finalize_ = 0;
  bool retried_finalize_ = false;
  int64_t id_offset_ = 0;
  std::string last_ws_error_;
  SegmentTracker tracker_;
};

}  // namespace pt
