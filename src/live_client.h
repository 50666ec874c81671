// SPDX-License-Identifier: LGPL-2.1-or-later
/* The live WebSocket backends (harf-live, nevisa-live), on the I/O thread.
 *
 * LiveClient holds everything the live services share: connecting,
 * sessions, reconnection, replay, the mapping of service times onto the
 * input timeline, and publishing.  A LiveProtocol holds what differs: the
 * URL and its credentials, the handshake after the socket opens, the audio
 * framing, what a text message means and how a session ends.
 *
 * Sessions.  A session is a connection plus its time base: conn_base_, the
 * stream offset (bytes of the 16-bit mono stream since time_base) of its
 * first byte.  Service offsets map onto the input timeline as
 * time_base + conn_base + offset.
 *  - Reconnection: when a connection closes or fails without our end of
 *    session (or the upgrade gets 429/5xx), a new one is opened after a
 *    back-off (0.5 s doubling to 10 s, +-20 % jitter, Retry-After honoured):
 *    a new socket, the protocol's handshake, then the audio kept since the
 *    last final segment (at most replay-duration) sent again first.  At
 *    most max-reconnects attempts in a row; the count resets once a
 *    connection carries the stream past the point where the previous one
 *    failed.  401/403 never reconnect.
 *  - Session breaks: a window that comes after skipped input time (a hole
 *    longer than gap-threshold, or live audio dropped) ends the session:
 *    end it, collect its results, then a new connection at the new base.
 * Segment ids are made unique across connections; a final segment that a
 * replay transcribes again is published once. */
#pragma once

#include <gst/gst.h>
#include <libsoup/soup.h>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "backend.h"
#include "io_thread.h"

namespace pt {

/* One live service's wire protocol: what LiveClient asks of it.  Called on
 * the I/O thread only. */
class LiveProtocol {
 public:
  /* What a text message from the service was. */
  struct Reply {
    enum class Kind {
      Ignored,   /* nothing for the client: a handshake step, an unknown subject */
      Ready,     /* the handshake is over: audio may flow */
      Results,   /* segments (none: a reply without text) */
      Malformed, /* skipped, with a warning (problem) */
      Ended,     /* the service ended the session normally */
      Fatal,     /* ends the stream with problem */
    };
    Kind kind = Kind::Ignored;
    std::vector<Segment> segments; /* service times */
    bool late_revision = false;    /* the last segment revises one published as final */
    Error problem;
  };

  virtual ~LiveProtocol() = default;
  virtual BackendKind kind() const = 0;
  virtual const char *service() const = 0; /* "Harf", "Nevisa": names it in messages */
  virtual GstDebugCategory *category() const = 0;
  /* Before the first connection (a login); done(nullptr) when ready, or
   * the error that ends the stream.  Never called back after shutdown(). */
  virtual void prepare(std::function<void(const Error *)> done) { done(nullptr); }
  virtual void shutdown() {}
  /* The upgrade request: URL, credentials, headers.  Null and *error when
   * the URL is not valid. */
  virtual SoupMessage *new_request(std::string *error) = 0;
  /* The URL for logs and messages: never a secret in it. */
  virtual std::string public_url() const = 0;
  /* The message for a person when the upgrade is refused with 401/403. */
  virtual std::string rejected(guint status) const = 0;
  /* A new connection is open: everything per session starts over.  True
   * when audio may flow at once; false: a Ready reply comes first. */
  virtual bool open(SoupWebsocketConnection *ws) = 0;
  /* During the handshake, what is awaited ("INIT", "REQ-RESPONSE"), for the
   * timeout's message. */
  virtual std::string awaited() const { return "the handshake"; }
  /* True: every reply answers the oldest window in flight (max-inflight
   * applies, and no reply within timeout is an error).  False: audio flows
   * without waiting, and replies come when the service has something. */
  virtual bool acknowledges_windows() const = 0;
  virtual void send_audio(SoupWebsocketConnection *ws, const Window &w) = 0;
  /* The end of this session's audio ("finalize", EOES). */
  virtual void send_end(SoupWebsocketConnection *ws) = 0;
  /* audio_ns: the audio sent on this connection (impossible times are
   * checked against it). */
  virtual Reply on_text(SoupWebsocketConnection *ws, const char *data, size_t len,
                        uint64_t audio_ns) = 0;
  /* The session is over (closed, Ended, or given up): what it still held. */
  virtual std::vector<Segment> on_end() = 0;
};

class LiveClient : public Backend {
 public:
  LiveClient(const Settings &s, BackendHost *host, IoThread *io, uint64_t time_base,
             std::unique_ptr<LiveProtocol> protocol);
  ~LiveClient() override;

  void start() override;
  void kick() override;
  void shutdown() override;

 private:
  enum class State { Idle, Preparing, Connecting, Handshake, Open, Finalizing, Waiting, Done };
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
  static void on_timeout_cb(gpointer data);
  static void on_reconnect_cb(gpointer data);

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
  void send_end();
  void retain(Sent s);
  void publish(std::vector<Segment> segs, bool late);
  /* The connection ended without our end of session: reconnect, or fail
   * once max-reconnects attempts in a row are used up. */
  void connection_lost(ErrorKind kind, const std::string &message, const std::string &debug,
                       unsigned retry_after_s = 0);
  /* The session ended normally: open the next one (after a skip), or finish. */
  void session_done();
  void drop_connection();
  void arm_timer(unsigned seconds);
  void disarm_timer();
  void disarm_reconnect_timer();
  /* The connect in flight, if any, is cancelled and its callback will
   * only free it. */
  void abandon_connect();
  void fail(ErrorKind kind, const std::string &message, const std::string &debug = "",
            const char *reason = nullptr);
  void close_socket(gushort code);
  uint64_t pcm_to_ns(uint64_t bytes) const;
  uint64_t ns_to_pcm(uint64_t ns) const;

  const Settings settings_;
  BackendHost *host_;
  IoThread *io_;
  const uint64_t time_base_;
  std::unique_ptr<LiveProtocol> protocol_;
  GstDebugCategory *cat_;

  State state_ = State::Idle;
  SoupSession *session_ = nullptr;
  SoupWebsocketConnection *ws_ = nullptr;
  ConnectOp *connect_op_ = nullptr;
  IoTimer timer_;           /* the step in hand's timeout (IoTimer: re-armed per reply) */
  IoTimer reconnect_timer_; /* the wait before connecting again */

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
  uint64_t pcm_sent_ = 0;
  uint64_t pcm_acked_ = 0;
  uint64_t windows_sent_ = 0;
  bool end_sent_ = false;
  unsigned replies_after_end_ = 0;
  bool retried_end_ = false;
  int64_t id_offset_ = 0;
  std::string last_ws_error_;
};

/* The Harf live protocol (harf_live_protocol.cpp). */
std::unique_ptr<LiveProtocol> make_harf_live_protocol(const Settings &s, BackendHost *host);
/* The Nevisa live protocol (nevisa_live_protocol.cpp). */
std::unique_ptr<LiveProtocol> make_nevisa_live_protocol(const Settings &s, BackendHost *host,
                                                        IoThread *io);

}  // namespace pt
