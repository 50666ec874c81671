// SPDX-License-Identifier: LGPL-2.1-or-later
// The REST front: body streaming, faults, dispatch to Harf files and Nevisa, records, delays.
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include <list>
#include <memory>
#include <string>

#include "emulator_internal.h"
#include "faults.h"
#include "harf_rest_service.h"
#include "nevisa_service.h"
#include "rest_common.h"

namespace emu {
namespace detail {

// REST front: streams request bodies, applies the fault switches, dispatches to
// the services, records every request, and sends (possibly delayed) answers.
class RestRouter {
 public:
  RestRouter(Core &core, SoupServer *server);
  ~RestRouter();
  RestRouter(const RestRouter &) = delete;
  RestRouter &operator=(const RestRouter &) = delete;

  const NevisaService &nevisa() const { return nevisa_; }  // its logins' tokens (Nevisa live)

 private:
  enum class Endpoint {
    HarfFiles,
    NevisaLogin,
    NevisaRecognize,
    NevisaProgress,
    NevisaTerminate,
    Unknown
  };

  // An answer held back by delay_ms: the message stays paused until the timer fires.
  // libsoup does not read a paused message's socket, so `watch` looks for the
  // client leaving meanwhile.
  struct Delayed {
    RestRouter *router = nullptr;
    GObjectPtr<SoupServerMessage> msg;
    Answer answer;
    size_t record = 0;
    gulong disconnected_id = 0;
    SourcePtr timer, watch;
    ~Delayed()
    {
      if (disconnected_id)
        g_signal_handler_disconnect(msg.get(), disconnected_id);
    }
  };

  static void early_cb(SoupServer *, SoupServerMessage *msg, const char *, GHashTable *,
                       gpointer self);
  static void handler_cb(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
                         gpointer self);
  static void got_chunk_cb(SoupServerMessage *, GBytes *chunk, gpointer body);
  static gboolean delayed_cb(gpointer d);
  static gboolean socket_cb(GSocket *socket, GIOCondition condition, gpointer d);
  static void disconnected_cb(SoupServerMessage *, gpointer d);

  void on_headers(SoupServerMessage *msg);
  void on_request(SoupServerMessage *msg, const char *path);
  static Endpoint endpoint(const std::string &path, std::string *task_id);
  Answer dispatch(Endpoint e, RestRequest &r, const std::string &task_id);
  static void send(SoupServerMessage *msg, const Answer &a);
  // http_huge_body_bytes: sends the body chunked, one piece after the other is written.
  static void send_streamed(SoupServerMessage *msg, const Answer &a);
  static void wrote_chunk_cb(SoupServerMessage *msg, gpointer stream);
  // What the record shows of an answer: the body (or a huge body's start), truncated.
  static std::string recorded_answer(const Answer &a, uint64_t *size);
  void finish_delayed(Delayed *d, bool sent);
  void client_gone(Delayed *d);

  Core &core_;
  SoupServer *server_;
  HarfRestService harf_;
  NevisaService nevisa_;
  Faults faults_;
  std::list<std::unique_ptr<Delayed>> delayed_;
};

}  // namespace detail
}  // namespace emu
