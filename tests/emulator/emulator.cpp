// SPDX-License-Identifier: LGPL-2.1-or-later
// Local test double of the Harf (live WebSocket and files REST) and Nevisa services. See
// emulator.h.
//
// Layout:
//   - emulator_internal.h: GLib helpers, the services' paths, detail::Core (the
//     SoupServer on its own thread, the shared records)
//   - speech_detector: energy-based segmentation of received PCM
//   - audio_analyzer: streaming RIFF/WAVE reader (+ detector) for uploads
//   - request_body: streaming multipart reader, one REST request's body
//   - rest_common: JsonWriter, answers, transcripts shared by the REST services
//   - live_common: what the WebSocket endpoints share (handshake faults, forced closes)
//   - harf_live_service: the Harf live WebSocket endpoint and its sessions
//   - nevisa_live_service: the Nevisa live WebSocket endpoint and its sessions
//   - harf_rest_service, nevisa_service: the REST endpoints
//   - faults: the REST fault switches
//   - rest_router: the REST services' shared front (body streaming, faults,
//     records, delayed answers)
//   - this file: detail::Core's thread and lifetime, the public facade
#include "emulator.h"

#include <gio/gio.h>
#include <libsoup/soup.h>

#include <algorithm>
#include <utility>

#include "emulator_internal.h"
#include "harf_live_service.h"
#include "live_common.h"
#include "nevisa_live_service.h"
#include "rest_router.h"

namespace emu {

namespace detail {

namespace {

constexpr guint kStopGraceMs = 1000;

}  // namespace

Core::Core(Options o) : opts(std::move(o))
{
  g_mutex_init(&mu_);
  g_cond_init(&cond_);
}

Core::~Core()
{
  stop();
  g_cond_clear(&cond_);
  g_mutex_clear(&mu_);
}

bool Core::start(uint16_t port, GError **error)
{
  if (thread_.joinable()) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "emulator already running");
    return false;
  }
  ctx_ = g_main_context_new();
  loop_ = g_main_loop_new(ctx_, FALSE);
  {
    Locker l(&mu_);
    ready_ = false;
    stopping_ = false;
  }
  thread_ = std::thread([this, port] { thread_main(port); });
  GError *failure = nullptr;
  {
    Locker l(&mu_);
    while (!ready_)
      g_cond_wait(&cond_, &mu_);
    failure = std::exchange(start_error_, nullptr);
  }
  if (!failure)
    return true;
  g_propagate_error(error, failure);
  thread_.join();  // the thread has already returned
  g_clear_pointer(&loop_, g_main_loop_unref);
  g_clear_pointer(&ctx_, g_main_context_unref);
  return false;
}

void Core::thread_main(uint16_t port)
{
  g_main_context_push_thread_default(ctx_);
  GObjectPtr<SoupServer> server(
      SOUP_SERVER(soup_server_new("server-header", "persiantranscribe-emulator ", nullptr)));
  live_faults_ = std::make_unique<LiveFaults>(opts);
  harf_ = std::make_unique<HarfLiveService>(*this, server.get(), *live_faults_);
  rest_ = std::make_unique<RestRouter>(*this, server.get());
  nevisa_live_ =
      std::make_unique<NevisaLiveService>(*this, server.get(), *live_faults_, rest_->nevisa());

  GError *error = nullptr;
  GObjectPtr<GInetAddress> loopback(g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4));
  GObjectPtr<GSocketAddress> address(g_inet_socket_address_new(loopback.get(), port));
  bool ok = soup_server_listen(server.get(), address.get(), SoupServerListenOptions(0), &error);
  uint16_t bound = 0;
  if (ok) {
    GSList *uris = soup_server_get_uris(server.get());
    if (uris)
      bound = uint16_t(g_uri_get_port(static_cast<GUri *>(uris->data)));
    g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
  }
  {
    Locker l(&mu_);
    port_ = bound;
    start_error_ = error;
    ready_ = true;
    g_cond_broadcast(&cond_);
  }
  if (ok)
    g_main_loop_run(loop_);

  nevisa_live_.reset();
  rest_.reset();
  harf_.reset();
  live_faults_.reset();
  soup_server_disconnect(server.get());
  server.reset();
  stop_timer_.reset();
  // Let closed streams finish their cleanup; bounded in case a source keeps re-arming.
  for (int i = 0; i < 100 && g_main_context_iteration(ctx_, FALSE); ++i) {
  }
  g_main_context_pop_thread_default(ctx_);
  Locker l(&mu_);
  for (auto &r : records_)
    r.closed = true;
  for (auto &r : nevisa_live_records_)
    r.closed = true;
  g_cond_broadcast(&cond_);
}

void Core::stop()
{
  if (!thread_.joinable())
    return;
  SourcePtr idle(g_idle_source_new());
  g_source_set_callback(idle.get(), stop_cb, this, nullptr);
  g_source_attach(idle.get(), ctx_);
  thread_.join();
  idle.reset();
  g_clear_pointer(&loop_, g_main_loop_unref);
  g_clear_pointer(&ctx_, g_main_context_unref);
}

// Server thread: close every connection, quit when all are closed or after a grace period.
gboolean Core::stop_cb(gpointer self)
{
  auto *core = static_cast<Core *>(self);
  core->stopping_ = true;
  guarded("emulator stop", [&] {
    core->harf_->close_all(SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "emulator stopping");
    core->nevisa_live_->close_all(SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "emulator stopping");
  });
  if (core->open_connections() == 0) {
    g_main_loop_quit(core->loop_);
  } else if (!core->stop_timer_) {
    core->stop_timer_.reset(g_timeout_source_new(kStopGraceMs));
    g_source_set_callback(core->stop_timer_.get(), quit_cb, core, nullptr);
    g_source_attach(core->stop_timer_.get(), core->ctx_);
  }
  return G_SOURCE_REMOVE;
}

gboolean Core::quit_cb(gpointer self)
{
  g_main_loop_quit(static_cast<Core *>(self)->loop_);
  return G_SOURCE_REMOVE;
}

void Core::connection_closed()
{
  if (stopping_ && open_connections() == 0)
    g_main_loop_quit(loop_);
}

size_t Core::open_connections() const
{
  return (harf_ ? harf_->open_count() : 0) + (nevisa_live_ ? nevisa_live_->open_count() : 0);
}

}  // namespace detail

Emulator::Emulator(Options opts) : core_(std::make_unique<detail::Core>(std::move(opts))) {}
Emulator::~Emulator()
{
  stop();
}
bool Emulator::start(uint16_t port, GError **error)
{
  return core_->start(port, error);
}
void Emulator::stop()
{
  core_->stop();
}
uint16_t Emulator::port() const
{
  return core_->port();
}
std::string Emulator::harf_live_url() const
{
  return "ws://127.0.0.1:" + std::to_string(port()) + detail::kHarfLivePaths[0];
}
int Emulator::handshake_count() const
{
  return core_->handshakes();
}
std::vector<SessionRecord> Emulator::sessions() const
{
  return core_->records();
}
bool Emulator::wait_closed(size_t n_sessions, unsigned timeout_ms) const
{
  return core_->wait_until(
      [n_sessions](const std::vector<SessionRecord> &records) {
        return records.size() >= n_sessions &&
               std::all_of(records.begin(), records.end(),
                           [](const SessionRecord &r) { return r.closed; });
      },
      timeout_ms);
}
bool Emulator::wait_until(const std::function<bool(const std::vector<SessionRecord> &)> &pred,
                          unsigned timeout_ms) const
{
  return core_->wait_until(pred, timeout_ms);
}

std::string Emulator::harf_api_url() const
{
  return "http://127.0.0.1:" + std::to_string(port()) + detail::kHarfRestPaths[0];
}
std::string Emulator::nevisa_login_url() const
{
  return "http://127.0.0.1:" + std::to_string(port()) + detail::kNevisaLoginPaths[0];
}
std::string Emulator::nevisa_api_url() const
{
  return "http://127.0.0.1:" + std::to_string(port()) + detail::kNevisaPrefix + "/";
}
std::vector<RestRecord> Emulator::rest_requests() const
{
  return core_->rest_records();
}
size_t Emulator::rest_count(const std::string &kind) const
{
  const auto records = core_->rest_records();
  return size_t(std::count_if(records.begin(), records.end(),
                              [&](const RestRecord &r) { return r.kind == kind; }));
}
bool Emulator::wait_rest(const std::function<bool(const std::vector<RestRecord> &)> &pred,
                         unsigned timeout_ms) const
{
  return core_->wait_rest(pred, timeout_ms);
}

std::string Emulator::nevisa_live_url() const
{
  return "ws://127.0.0.1:" + std::to_string(port()) + detail::kNevisaLivePath;
}
std::vector<NevisaLiveRecord> Emulator::nevisa_live_sessions() const
{
  return core_->nevisa_live_records();
}
bool Emulator::wait_nevisa_live(
    const std::function<bool(const std::vector<NevisaLiveRecord> &)> &pred,
    unsigned timeout_ms) const
{
  return core_->wait_nevisa_live(pred, timeout_ms);
}

std::string format_timedelta(uint64_t ns)
{
  uint64_t us = (ns + 500) / 1000;
  const uint64_t days = us / 86400000000ull;
  us %= 86400000000ull;
  const unsigned h = unsigned(us / 3600000000ull), m = unsigned(us / 60000000ull % 60),
                 s = unsigned(us / 1000000ull % 60), frac = unsigned(us % 1000000ull);
  char buf[96];
  int len = 0;
  if (days)
    len = g_snprintf(buf, sizeof buf, "%" G_GUINT64_FORMAT " day%s, ", days, days == 1 ? "" : "s");
  len += g_snprintf(buf + len, sizeof buf - len, "%u:%02u:%02u", h, m, s);
  if (frac)
    g_snprintf(buf + len, sizeof buf - len, ".%06u", frac);
  return buf;
}

}  // namespace emu
