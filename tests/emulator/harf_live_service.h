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
class LiveFaults;

// Harf live: the endpoint (handshake check, sessions).
class HarfLiveService {
 public:
  HarfLiveService(Core &core, SoupServer *server, LiveFaults &faults);
  ~HarfLiveService();
  HarfLiveService(const HarfLiveService &) = delete;
  HarfLiveService &operator=(const HarfLiveService &) = delete;

  void close_all(gushort code, const char *reason);
  size_t open_count() const;
  void session_closed() { core_.connection_closed(); }
  // close_count: may one more connection be dropped on purpose? Counts it when yes.
  bool take_forced_close();

 private:
  static void http_cb(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
                      gpointer self);
  static void websocket_cb(SoupServer *, SoupServerMessage *msg, const char *path,
                           SoupWebsocketConnection *conn, gpointer self);

  // Runs before libsoup's WebSocket handshake; setting a status here stops the upgrade.
  void on_http(SoupServerMessage *msg, const char *path);
  void on_websocket(SoupServerMessage *msg, const char *path, SoupWebsocketConnection *conn);

  Core &core_;
  SoupServer *server_;
  LiveFaults &faults_;  // handshake_status and close_count, shared with Nevisa live
  std::vector<std::unique_ptr<HarfLiveSession>> sessions_;
};

}  // namespace detail
}  // namespace emu
