// SPDX-License-Identifier: LGPL-2.1-or-later
// What the WebSocket services (Harf live, Nevisa live) share: the handshake fault and the
// close budget, forced closes (raw close frames), WAV headers, JSON error bodies, the queue of
// delayed replies.
#pragma once

#include <libsoup/soup.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <utility>

#include "emulator_internal.h"

namespace emu {
namespace detail {

constexpr size_t kWavHeaderSize = 44;

// The WebSocket fault switches every live path honours (server thread only). The counts are
// shared: handshake_fail_count is the first N upgrade requests whatever their path, close_count
// the first N connections a close switch drops, Harf's and Nevisa's together.
class LiveFaults {
 public:
  explicit LiveFaults(const Options &o) : opts_(o) {}
  LiveFaults(const LiveFaults &) = delete;
  LiveFaults &operator=(const LiveFaults &) = delete;

  // handshake_status: answers an upgrade request with that status (retry_after, a JSON or
  // HTML body); false when it does not apply.
  bool handshake_fault(SoupServerMessage *msg, const char *path);
  // close_count: may one more connection be dropped on purpose? Counts it when yes.
  bool take_forced_close();

 private:
  const Options &opts_;
  int failed_handshakes_ = 0;  // handshake_status answers sent
  int forced_closes_ = 0;      // connections dropped by close_after / *_on_finalize
};

// A session's outgoing items (server thread only). They leave in the order they were pushed,
// each delay_ms after it was pushed, from a GSource timer on the thread-default main context;
// with no delay and nothing waiting, at once. The owner supplies the delivery and the "closed"
// check: once closed, the timer delivers nothing more.
template <typename T>
class DelayedQueue {
 public:
  // where: the timer's label in messages (an exception in it is logged there, not thrown).
  DelayedQueue(const char *where, unsigned delay_ms, std::function<void(const T &)> deliver,
               std::function<bool()> closed)
      : where_(where), delay_ms_(delay_ms), deliver_(std::move(deliver)), closed_(std::move(closed))
  {
  }
  DelayedQueue(const DelayedQueue &) = delete;
  DelayedQueue &operator=(const DelayedQueue &) = delete;

  void push(T item)
  {
    if (delay_ms_ == 0 && queue_.empty()) {
      deliver_(item);
      return;
    }
    queue_.push_back(Entry{g_get_monotonic_time() + gint64(delay_ms_) * 1000, std::move(item)});
    arm_timer();
  }
  // Drops what waits and destroys the timer (the session closed).
  void clear()
  {
    queue_.clear();
    timer_.reset();
  }

 private:
  struct Entry {
    gint64 due_us;
    T item;
  };

  void arm_timer()
  {
    if (timer_ || queue_.empty())
      return;
    const gint64 wait_us = std::max<gint64>(0, queue_.front().due_us - g_get_monotonic_time());
    timer_.reset(g_timeout_source_new(guint((wait_us + 999) / 1000)));
    g_source_set_callback(timer_.get(), timer_cb, this, nullptr);
    g_source_attach(timer_.get(), g_main_context_get_thread_default());
  }

  static gboolean timer_cb(gpointer self)
  {
    auto *q = static_cast<DelayedQueue *>(self);
    guarded(q->where_, [&] {
      g_source_unref(q->timer_.release());               // returning G_SOURCE_REMOVE destroys it
      const gint64 now = g_get_monotonic_time() + 1000;  // 1 ms early is on time
      while (!q->queue_.empty() && q->queue_.front().due_us <= now && !q->closed_()) {
        T item = std::move(q->queue_.front().item);
        q->queue_.pop_front();
        q->deliver_(item);
      }
      q->arm_timer();
    });
    return G_SOURCE_REMOVE;
  }

  const char *const where_;
  const unsigned delay_ms_;
  const std::function<void(const T &)> deliver_;
  const std::function<bool()> closed_;
  std::deque<Entry> queue_;
  SourcePtr timer_;
};

// {"detail": "..."} (compact).
std::string detail_json(const char *detail);
// Answers msg with status and a {"detail": ...} JSON body (stops a WebSocket upgrade).
void respond_detail(SoupServerMessage *msg, guint status, const char *detail);

// Close codes libsoup sends (others it refuses, or turns into a 1002 protocol error).
bool libsoup_sends_close_code(int code);
// One unmasked, final server frame.
std::string ws_frame(uint8_t opcode, const std::string &payload);
// The socket under a server-side WebSocket connection; may be null.
GSocket *websocket_socket(SoupServerMessage *msg, SoupWebsocketConnection *conn);
// Writes bytes on the connection's stream, past libsoup (only safe while libsoup has nothing
// queued). False when nothing was written (error set); true when all, or part, of them were:
// a partial frame is on the wire, do not send another.
bool write_raw(SoupWebsocketConnection *conn, const std::string &bytes, GError **error);
// Closes with code: through libsoup when it sends that code (or socket is null), else a raw close
// frame and a shutdown of the socket (libsoup reads EOF and closes). True in the second case: the
// socket was shut down under libsoup.
bool forced_close(SoupWebsocketConnection *conn, GSocket *socket, gushort code);

// The canonical 44-byte header: RIFF/WAVE, a 16-byte "fmt " chunk, then "data". 16-bit PCM only.
WavHeader parse_wav_header(const uint8_t *p, size_t n);

// The first k words (split on spaces and tabs) of line; line itself when it has no words.
std::string first_words(const std::string &line, unsigned k);

// Connects a live session's WebSocket signals: a binary message goes to
// S::on_binary(), a text one to S::on_text(), the close to S::on_closed(),
// each under guarded(); errors are logged with S::kName and the session's
// serial_.  S (HarfLiveSession, NevisaLiveSession) befriends SessionSignals<S>
// and disconnects them (g_signal_handlers_disconnect_by_data) when it goes.
template <class S>
struct SessionSignals {
  static void connect(SoupWebsocketConnection *conn, S *session)
  {
    g_signal_connect(conn, "message", G_CALLBACK(message_cb), session);
    g_signal_connect(conn, "closed", G_CALLBACK(closed_cb), session);
    g_signal_connect(conn, "error", G_CALLBACK(error_cb), session);
  }

 private:
  static void message_cb(SoupWebsocketConnection *, gint type, GBytes *message, gpointer self)
  {
    guarded(S::kName, [&] {
      auto *s = static_cast<S *>(self);
      gsize n = 0;
      const auto *data = static_cast<const uint8_t *>(g_bytes_get_data(message, &n));
      if (type == SOUP_WEBSOCKET_DATA_BINARY)
        s->on_binary(data, n);
      else
        s->on_text(std::string(reinterpret_cast<const char *>(data), n));
    });
  }
  static void closed_cb(SoupWebsocketConnection *, gpointer self)
  {
    guarded(S::kName, [&] { static_cast<S *>(self)->on_closed(); });
  }
  static void error_cb(SoupWebsocketConnection *, GError *error, gpointer self)
  {
    g_info("%s %u: WebSocket error: %s", S::kName, static_cast<S *>(self)->serial_, error->message);
  }
};

}  // namespace detail
}  // namespace emu
