// SPDX-License-Identifier: LGPL-2.1-or-later
// Internals shared by the emulator's files: GLib helpers, the services' paths, the server core.
#pragma once

#include "emulator.h"

#include <gio/gio.h>
#include <libsoup/soup.h>

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace emu {
namespace detail {

template <typename T>
struct GObjectDeleter {
  void operator()(T *p) const
  {
    if (p)
      g_object_unref(p);
  }
};
template <typename T>
using GObjectPtr = std::unique_ptr<T, GObjectDeleter<T>>;

struct SourceDeleter {
  void operator()(GSource *s) const
  {
    if (s) {
      g_source_destroy(s);
      g_source_unref(s);
    }
  }
};
using SourcePtr = std::unique_ptr<GSource, SourceDeleter>;

class Locker {
 public:
  explicit Locker(GMutex *m) : m_(m) { g_mutex_lock(m_); }
  ~Locker() { g_mutex_unlock(m_); }
  Locker(const Locker &) = delete;
  Locker &operator=(const Locker &) = delete;

 private:
  GMutex *m_;
};

// Runs f, never letting an exception escape into a C callback.
template <typename F>
void guarded(const char *where, F &&f) noexcept
{
  try {
    f();
  } catch (const std::exception &e) {
    g_message("%s: internal error: %s", where, e.what());
  } catch (...) {
    g_message("%s: internal error", where);
  }
}

constexpr char kPlaceholder[] = "این یک متن آزمایشی است";
constexpr const char *kHarfLivePaths[] = {"/ws_api/transcribe_files/wav/sync/",
                                          "/api/ws_api/transcribe_files/wav/sync/"};
constexpr const char *kHarfRestPaths[] = {"/api/transcribe_files/", "/api/transcribe_files"};
constexpr const char *kNevisaLoginPaths[] = {"/account/login", "/account/login/"};
constexpr char kNevisaPrefix[] = "/nevisa";  // the Nevisa API base is <server>/nevisa/
constexpr char kNevisaLivePath[] = "/onlineASR6";

// Django's plain 500 page (DEBUG off).
inline constexpr char kServerErrorHtml[] =
    "<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Server Error "
    "(500)</title>\n</head>\n<body>\n"
    "  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n";

// A reason phrase for statuses libsoup does not name (it would say "Unknown Error"); else null.
inline const char *reason_phrase(guint status)
{
  switch (status) {
    case 429:
      return "Too Many Requests";
    case 425:
      return "Too Early";
    case 451:
      return "Unavailable For Legal Reasons";
    default:
      return nullptr;
  }
}

// "[[[...]]]" nested depth deep.
inline std::string nested_arrays(size_t depth)
{
  return std::string(depth, '[') + std::string(depth, ']');
}

inline uint16_t le16(const uint8_t *p)
{
  return uint16_t(p[0] | (p[1] << 8));
}
inline uint32_t le32(const uint8_t *p)
{
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

// DRF's TokenAuthentication (and a Bearer variant): "<keyword> <key>", keyword
// case-insensitive. An empty expected token accepts anything.
inline bool token_authorized(const std::string &token, const char *header)
{
  if (token.empty())
    return true;
  if (!header)
    return false;
  g_auto(GStrv) parts = g_strsplit_set(header, " \t", -1);
  std::vector<const char *> words;
  for (char **p = parts; *p; ++p)
    if (**p)
      words.push_back(*p);
  return words.size() == 2 &&
         (g_ascii_strcasecmp(words[0], "Token") == 0 ||
          g_ascii_strcasecmp(words[0], "Bearer") == 0) &&
         token == words[1];
}

class HarfLiveService;
class LiveFaults;
class NevisaLiveService;
class RestRouter;

// The SoupServer, its thread and main context, and the records shared with
// other threads (guarded by mu_, changes signalled on cond_).
class Core {
 public:
  explicit Core(Options o);
  ~Core();

  bool start(uint16_t port, GError **error);
  void stop();

  // Records (any thread). Each kind has its list; all share mu_ and cond_.
  size_t add_record(SessionRecord r) { return add_to(records_, std::move(r)); }
  template <typename F>
  void update_record(size_t i, F &&f)
  {
    update_in(records_, i, std::forward<F>(f));
  }
  std::vector<SessionRecord> records() const { return copy_of(records_); }
  // Waits (on cond_) until pred(records) holds; false on timeout.
  bool wait_until(const std::function<bool(const std::vector<SessionRecord> &)> &pred,
                  unsigned timeout_ms) const
  {
    return wait_for(pred, records_, timeout_ms);
  }
  void count_handshake()
  {
    Locker l(&mu_);
    ++handshakes_;
  }
  uint16_t port() const
  {
    Locker l(&mu_);
    return port_;
  }
  int handshakes() const
  {
    Locker l(&mu_);
    return handshakes_;
  }

  // REST records (any thread).
  size_t add_rest(RestRecord r) { return add_to(rest_records_, std::move(r)); }
  template <typename F>
  void update_rest(size_t i, F &&f)
  {
    update_in(rest_records_, i, std::forward<F>(f));
  }
  std::vector<RestRecord> rest_records() const { return copy_of(rest_records_); }
  bool wait_rest(const std::function<bool(const std::vector<RestRecord> &)> &pred,
                 unsigned timeout_ms) const
  {
    return wait_for(pred, rest_records_, timeout_ms);
  }

  // Nevisa live records (any thread).
  size_t add_nevisa_live(NevisaLiveRecord r) { return add_to(nevisa_live_records_, std::move(r)); }
  template <typename F>
  void update_nevisa_live(size_t i, F &&f)
  {
    update_in(nevisa_live_records_, i, std::forward<F>(f));
  }
  std::vector<NevisaLiveRecord> nevisa_live_records() const
  {
    return copy_of(nevisa_live_records_);
  }
  bool wait_nevisa_live(const std::function<bool(const std::vector<NevisaLiveRecord> &)> &pred,
                        unsigned timeout_ms) const
  {
    return wait_for(pred, nevisa_live_records_, timeout_ms);
  }

  // Server thread: a connection went away.
  void connection_closed();

  const Options opts;

 private:
  // One list of records, under mu_: appends r (returns its index), changes one in place (f
  // gets it by reference), or copies them all. Changes are signalled on cond_.
  template <typename Record>
  size_t add_to(std::vector<Record> &records, Record r)
  {
    Locker l(&mu_);
    records.push_back(std::move(r));
    g_cond_broadcast(&cond_);
    return records.size() - 1;
  }
  template <typename Record, typename F>
  void update_in(std::vector<Record> &records, size_t i, F &&f)
  {
    Locker l(&mu_);
    f(records.at(i));
    g_cond_broadcast(&cond_);
  }
  template <typename Record>
  std::vector<Record> copy_of(const std::vector<Record> &records) const
  {
    Locker l(&mu_);
    return records;
  }
  template <typename Pred, typename Records>
  bool wait_for(const Pred &pred, const Records &records, unsigned timeout_ms) const
  {
    const gint64 deadline = g_get_monotonic_time() + gint64(timeout_ms) * 1000;
    Locker l(&mu_);
    while (!pred(records))
      if (!g_cond_wait_until(&cond_, &mu_, deadline))
        return pred(records);
    return true;
  }
  void thread_main(uint16_t port);
  static gboolean stop_cb(gpointer self);
  static gboolean quit_cb(gpointer self);
  size_t open_connections() const;  // server thread: WebSocket connections still open

  mutable GMutex mu_;
  mutable GCond cond_;
  std::vector<SessionRecord> records_;
  std::vector<RestRecord> rest_records_;
  std::vector<NevisaLiveRecord> nevisa_live_records_;
  int handshakes_ = 0;
  uint16_t port_ = 0;
  bool ready_ = false;
  GError *start_error_ = nullptr;

  std::thread thread_;
  GMainContext *ctx_ = nullptr;
  GMainLoop *loop_ = nullptr;
  // Server thread only:
  bool stopping_ = false;
  SourcePtr stop_timer_;
  std::unique_ptr<LiveFaults> live_faults_;
  std::unique_ptr<HarfLiveService> harf_;
  std::unique_ptr<RestRouter> rest_;
  std::unique_ptr<NevisaLiveService> nevisa_live_;
};

}  // namespace detail
}  // namespace emu
