// SPDX-License-Identifier: LGPL-2.1-or-later
// Harf live: the WebSocket endpoint (handshake check, one session per connection).
#pragma once

#include <libsoup/soup.h>

#include <memory>
#include <vector>

#include "emulator_internal.h"

namespace emu {
namespace detail {

class HarfLiveSession;

// Harf live: the endpoint (handshake check, sessions).
class HarfLiveService {
 public:
  HarfLiveService(Core &core, SoupServer *server);
  ~HarfLiveService();
  HarfLiveService(const HarfLiveService &) = delete;
  HarfLiveService &operator=(const HarfLiveService &) = delete;

  void close_all(gushort code, const char *reason);
  size_t open_count() const;
  void session_closed() { core_.connection_closed(); }
  // close_count: may one more connection be dropped on purpose? Counts it when yes.
  bool take_forced_close()
  {
    if (core_.opts.close_count > 0 && forced_closes_ >= core_.opts.close_count)
      return false;
    ++forced_closes_;
    return true;
  }

 private:
  static void http_cb(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
                      gpointer self);
  static void websocket_cb(SoupServer *, SoupServerMessage *msg, const char *path,
                           SoupWebsocketConnection *conn, gpointer self);

  // Runs before libsoup's WebSocket handshake; setting a status here stops the upgrade.
  void on_http(SoupServerMessage *msg, const char *path);
  void on_websocket(SoupServerMessage *msg, const char *path, SoupWebsocketConnection *conn);
  static void respond_error(SoupServerMessage *msg, guint status, const char *detail);
  // handshake_status: answers an upgrade request with that status; false when it does not apply.
  bool handshake_fault(SoupServerMessage *msg, const char *path);

  Core &core_;
  SoupServer *server_;
  std::vector<std::unique_ptr<HarfLiveSession>> sessions_;
  int failed_handshakes_ = 0;  // handshake_status answers sent
  int forced_closes_ = 0;      // connections dropped by close_after / *_on_finalize
};

}  // namespace detail
}  // namespace emu
