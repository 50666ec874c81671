// SPDX-License-Identifier: LGPL-2.1-or-later
// What the WebSocket services (Harf live, Nevisa live) share: the handshake fault and the
// close budget, forced closes (raw close frames), WAV headers, JSON error bodies.
#pragma once

#include <libsoup/soup.h>

#include <cstddef>
#include <cstdint>
#include <string>

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

}  // namespace detail
}  // namespace emu
