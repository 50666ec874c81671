// SPDX-License-Identifier: LGPL-2.1-or-later
// Nevisa live: the WebSocket endpoint /onlineASR6 (credentials in the query, one session per
// connection).
#pragma once

#include <libsoup/soup.h>

#include <memory>
#include <string>
#include <vector>

#include "emulator_internal.h"

namespace emu {
namespace detail {

class LiveFaults;
class NevisaLiveSession;
class NevisaService;

// Nevisa live: the endpoint (handshake and credential check, sessions).
class NevisaLiveService {
 public:
  // accounts: the Nevisa file API, whose logins issue the tokens accepted here too.
  NevisaLiveService(Core &core, SoupServer *server, LiveFaults &faults,
                    const NevisaService &accounts);
  ~NevisaLiveService();
  NevisaLiveService(const NevisaLiveService &) = delete;
  NevisaLiveService &operator=(const NevisaLiveService &) = delete;

  void close_all(gushort code, const char *reason);
  size_t open_count() const;
  void session_closed() { core_.connection_closed(); }
  LiveFaults &faults() { return faults_; }

 private:
  static void http_cb(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
                      gpointer self);
  static void websocket_cb(SoupServer *, SoupServerMessage *msg, const char *path,
                           SoupWebsocketConnection *conn, gpointer self);

  // Runs before libsoup's WebSocket handshake; setting a status here stops the upgrade.
  void on_http(SoupServerMessage *msg, const char *path);
  void on_websocket(SoupServerMessage *msg, SoupWebsocketConnection *conn);

  Core &core_;
  SoupServer *server_;
  LiveFaults &faults_;
  const NevisaService &accounts_;
  std::vector<std::unique_ptr<NevisaLiveSession>> sessions_;
};

}  // namespace detail
}  // namespace emu
