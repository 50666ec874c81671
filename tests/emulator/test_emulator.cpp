// SPDX-License-Identifier: LGPL-2.1-or-later
// Self-test of the emulator: Harf live and Nevisa live driven by a real libsoup WebSocket
// client, Harf files and Nevisa by a libsoup HTTP client.
// The emulator runs on its own thread; the WebSocket client runs on this thread's
// default GMainContext, HTTP calls are synchronous with a session timeout. Every
// wait is bounded (timeout source, session timeout or wait_rest), never by sleeping.
#include "emulator.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

constexpr unsigned kWaitMs = 5000;
constexpr size_t kWindow = 32000;
const std::vector<std::string> kScript = {"سلام دنیا", "[حکایت] یکی را از حکما شنیدم"};

template <typename T>
struct Unref {
  void operator()(T *p) const
  {
    if (p)
      g_object_unref(p);
  }
};
template <typename T>
using Ptr = std::unique_ptr<T, Unref<T>>;

// Iterates the default context until pred() holds or ms pass.
template <typename Pred>
bool wait_until(Pred pred, unsigned ms)
{
  bool timed_out = false;
  GSource *t = g_timeout_source_new(ms);
  g_source_set_callback(
      t,
      [](gpointer flag) -> gboolean {
        *static_cast<bool *>(flag) = true;
        return G_SOURCE_REMOVE;
      },
      &timed_out, nullptr);
  g_source_attach(t, nullptr);
  while (!pred() && !timed_out)
    g_main_context_iteration(nullptr, TRUE);
  g_source_destroy(t);
  g_source_unref(t);
  return pred();
}

class Client {
 public:
  Client() : session_(soup_session_new()) {}
  ~Client()
  {
    if (conn_)
      g_signal_handlers_disconnect_by_data(conn_.get(), this);
  }

  // Returns true when the WebSocket is open; status() is the handshake's HTTP status either way.
  bool connect(const std::string &url, const char *authorization)
  {
    msg_.reset(soup_message_new("GET", url.c_str()));
    g_assert_nonnull(msg_);
    if (authorization)
      soup_message_headers_replace(soup_message_get_request_headers(msg_.get()), "Authorization",
                                   authorization);
    bool done = false;
    pending_ = &done;
    soup_session_websocket_connect_async(session_.get(), msg_.get(), nullptr, nullptr,
                                         G_PRIORITY_DEFAULT, nullptr, connected_cb, this);
    g_assert_true(wait_until([&] { return done; }, kWaitMs));
    return conn_ != nullptr;
  }
  guint status() const { return soup_message_get_status(msg_.get()); }
  // A header of the handshake's answer ("" when absent).
  std::string response_header(const char *name) const
  {
    const char *v =
        soup_message_headers_get_one(soup_message_get_response_headers(msg_.get()), name);
    return v ? v : "";
  }
  void set_max_payload(guint64 n)
  {
    soup_websocket_connection_set_max_incoming_payload_size(conn_.get(), n);
  }

  void send_binary(const std::vector<uint8_t> &data, size_t off, size_t n)
  {
    soup_websocket_connection_send_binary(conn_.get(), data.data() + off, n);
  }
  void send_text(const char *text) { soup_websocket_connection_send_text(conn_.get(), text); }
  void close()
  {
    soup_websocket_connection_close(conn_.get(), SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr);
  }

  bool wait_texts(size_t n)
  {
    return wait_until([&] { return texts.size() >= n || closed; }, kWaitMs) && texts.size() >= n;
  }
  bool wait_closed()
  {
    return wait_until([&] { return closed; }, kWaitMs);
  }
  bool wait_binaries(size_t n)
  {
    return wait_until([&] { return binaries.size() >= n || closed; }, kWaitMs) &&
           binaries.size() >= n;
  }
  gushort close_code() const { return soup_websocket_connection_get_close_code(conn_.get()); }

  // Sends data in windows, waiting for one reply after each (like Harf's sample client).
  void lockstep(const std::vector<uint8_t> &data, size_t window = kWindow)
  {
    for (size_t off = 0; off < data.size(); off += window) {
      const size_t expected = texts.size() + 1;
      send_binary(data, off, std::min(window, data.size() - off));
      g_assert_true(wait_texts(expected));
    }
  }

  std::vector<std::string> texts;
  std::vector<std::string> binaries;
  bool closed = false;
  bool error = false;  // the connection reported an error (e.g. invalid data received)

 private:
  static void connected_cb(GObject *source, GAsyncResult *res, gpointer self)
  {
    auto *c = static_cast<Client *>(self);
    GError *error = nullptr;
    c->conn_.reset(soup_session_websocket_connect_finish(SOUP_SESSION(source), res, &error));
    g_clear_error(&error);
    if (c->conn_) {
      g_signal_connect(c->conn_.get(), "message", G_CALLBACK(message_cb), c);
      g_signal_connect(c->conn_.get(), "closed", G_CALLBACK(closed_cb), c);
      g_signal_connect(c->conn_.get(), "error", G_CALLBACK(error_cb), c);
    }
    *c->pending_ = true;
  }
  static void message_cb(SoupWebsocketConnection *, gint type, GBytes *message, gpointer self)
  {
    gsize n = 0;
    const char *data = static_cast<const char *>(g_bytes_get_data(message, &n));  // sets n
    if (type == SOUP_WEBSOCKET_DATA_TEXT)
      static_cast<Client *>(self)->texts.emplace_back(data, n);
    else
      static_cast<Client *>(self)->binaries.emplace_back(data, n);
  }
  static void error_cb(SoupWebsocketConnection *, GError *, gpointer self)
  {
    static_cast<Client *>(self)->error = true;
  }
  static void closed_cb(SoupWebsocketConnection *, gpointer self)
  {
    static_cast<Client *>(self)->closed = true;
  }

  Ptr<SoupSession> session_;
  Ptr<SoupMessage> msg_;
  Ptr<SoupWebsocketConnection> conn_;
  bool *pending_ = nullptr;
};

struct Running {
  explicit Running(emu::Options o) : emulator(std::move(o))
  {
    GError *error = nullptr;
    g_assert_true(emulator.start(0, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(emulator.port(), >, 0);
  }
  emu::Emulator emulator;
};

// 16 kHz mono S16LE WAV: header + samples.
std::vector<uint8_t> make_wav(const std::vector<int16_t> &pcm, uint32_t rate = 16000,
                              uint16_t channels = 1)
{
  const uint32_t data = uint32_t(pcm.size() * 2);
  std::vector<uint8_t> out;
  auto put = [&](uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i)
      out.push_back(uint8_t(v >> (8 * i)));
  };
  auto tag = [&](const char *t) { out.insert(out.end(), t, t + 4); };
  tag("RIFF"), put(36 + data, 4), tag("WAVE"), tag("fmt "), put(16, 4), put(1, 2), put(channels, 2),
      put(rate, 4);
  put(rate * channels * 2, 4), put(channels * 2, 2), put(16, 2), tag("data"), put(data, 4);
  for (int16_t s : pcm)
    put(uint16_t(s), 2);
  return out;
}

// Appends seconds of a 440 Hz tone at -10 dBFS RMS (amplitude 0) at 16 kHz.
void append(std::vector<int16_t> &pcm, double seconds, bool tone)
{
  const double amp = 32768.0 * std::pow(10.0, -10.0 / 20.0) * std::sqrt(2.0);
  const size_t n = size_t(seconds * 16000);
  for (size_t i = 0; i < n; ++i)
    pcm.push_back(
        tone ? int16_t(std::lround(amp * std::sin(2 * M_PI * 440.0 * double(i) / 16000.0))) : 0);
}

std::vector<uint8_t> two_bursts()
{
  std::vector<int16_t> pcm;
  append(pcm, 1, true), append(pcm, 1, false), append(pcm, 1, true), append(pcm, 1, false);
  return make_wav(pcm);
}

bool is_json(const std::string &text)
{
  Ptr<JsonParser> parser(json_parser_new());
  return json_parser_load_from_data(parser.get(), text.c_str(), gssize(text.size()), nullptr);
}

void assert_near_ns(uint64_t got, double truth_s)
{
  g_assert_cmpfloat(std::fabs(double(got) / 1e9 - truth_s), <, 0.040);
}

// ---------------------------------------------------------------------------
void check_timedelta(uint64_t ns, const char *expected)
{
  const std::string got = emu::format_timedelta(ns);  // g_assert_cmpstr keeps only the pointer
  g_assert_cmpstr(got.c_str(), ==, expected);
}

void test_timedelta()
{
  check_timedelta(0, "0:00:00");
  check_timedelta(5000000000ull, "0:00:05");
  check_timedelta(1240000000ull, "0:00:01.240000");
  check_timedelta(3723000001000ull, "1:02:03.000001");
  check_timedelta(999999999ull, "0:00:01");  // rounded to microseconds like timedelta
  check_timedelta(86400000000000ull, "1 day, 0:00:00");
  check_timedelta(2 * 86400000000000ull + 36000000000000ull, "2 days, 10:00:00");
}

void test_two_segments()
{
  emu::Options o;
  o.token = "secret";
  o.script = kScript;
  Running r(o);
  Client c;
  g_assert_true(c.connect(r.emulator.harf_live_url(), "Token secret"));
  const auto wav = two_bursts();
  c.lockstep(wav);
  c.send_text("finalize");
  g_assert_true(c.wait_closed());
  g_assert_cmpuint(c.close_code(), ==, SOUP_WEBSOCKET_CLOSE_NORMAL);
  g_assert_true(r.emulator.wait_closed(1, kWaitMs));

  const auto sessions = r.emulator.sessions();
  g_assert_cmpuint(sessions.size(), ==, 1);
  const emu::SessionRecord &s = sessions[0];
  g_assert_cmpstr(s.authorization.c_str(), ==, "Token secret");
  g_assert_true(s.header.valid);
  g_assert_cmpuint(s.header.audio_format, ==, 1);
  g_assert_cmpuint(s.header.channels, ==, 1);
  g_assert_cmpuint(s.header.rate, ==, 16000);
  g_assert_cmpuint(s.header.bits, ==, 16);
  g_assert_cmpuint(s.header.data_size, ==, 128000);
  g_assert_cmpuint(s.header.riff_size, ==, 128036);
  g_assert_cmpuint(s.binary_sizes.size(), ==, 5);
  g_assert_cmpuint(s.binary_sizes[0], ==, kWindow);
  g_assert_cmpuint(s.binary_sizes[4], ==, 44);
  g_assert_cmpuint(s.pcm_bytes, ==, 128000);
  g_assert_cmpint(s.finalize_count, ==, 1);
  g_assert_false(s.binary_after_finalize);
  g_assert_true(s.finished);
  g_assert_true(s.closed);
  g_assert_true(s.replies == c.texts);
  g_assert_cmpuint(c.texts.size(), ==, 5);  // one per window, nothing left for finalize
  for (const auto &t : c.texts)
    g_assert_true(is_json(t));

  g_assert_cmpuint(s.segments.size(), ==, 2);
  const double truth[2][2] = {{0, 1}, {2, 3}};
  for (size_t i = 0; i < 2; ++i) {
    g_assert_cmpint(s.segments[i].id, ==, int64_t(i + 1));
    g_assert_cmpstr(s.segments[i].text.c_str(), ==, kScript[i].c_str());
    g_assert_false(s.segments[i].partial);
    assert_near_ns(s.segments[i].start_ns, truth[i][0]);
    assert_near_ns(s.segments[i].end_ns, truth[i][1]);
  }
  // The wire form, parsed back.
  Ptr<JsonParser> parser(json_parser_new());
  g_assert_true(json_parser_load_from_data(parser.get(), c.texts[1].c_str(), -1, nullptr));
  JsonObject *obj = json_node_get_object(json_parser_get_root(parser.get()));
  g_assert_cmpint(json_object_get_int_member(obj, "segment_id"), ==, 1);
  g_assert_cmpstr(json_object_get_string_member(obj, "text"), ==, kScript[0].c_str());
  g_assert_cmpstr(json_object_get_string_member(obj, "start"), ==, "0:00:00");
  g_assert_cmpstr(json_object_get_string_member(obj, "end"), ==, "0:00:01");
  g_assert_cmpstr(c.texts[0].c_str(), ==, "{\"state\": \"PENDING\"}");
}

void test_auth()
{
  emu::Options o;
  o.token = "secret";
  Running r(o);
  {
    Client c;
    g_assert_false(c.connect(r.emulator.harf_live_url(), "Token wrong"));
    g_assert_cmpuint(c.status(), ==, SOUP_STATUS_UNAUTHORIZED);
  }
  {
    Client c;
    g_assert_false(c.connect(r.emulator.harf_live_url(), nullptr));
    g_assert_cmpuint(c.status(), ==, SOUP_STATUS_UNAUTHORIZED);
  }
  g_assert_cmpint(r.emulator.handshake_count(), ==, 2);
  g_assert_cmpuint(r.emulator.sessions().size(), ==, 0);

  // Bearer on the alternative path is accepted.
  const std::string alt = "ws://127.0.0.1:" + std::to_string(r.emulator.port()) +
                          "/api/ws_api/transcribe_files/wav/sync/";
  {
    Client c;
    g_assert_true(c.connect(alt, "Bearer secret"));
    c.close();
    g_assert_true(c.wait_closed());
  }
  g_assert_true(r.emulator.wait_closed(1, kWaitMs));
  const auto sessions = r.emulator.sessions();
  g_assert_cmpstr(sessions[0].authorization.c_str(), ==, "Bearer secret");

  // The 401 body, seen by a plain HTTP request.
  Ptr<SoupSession> session(soup_session_new());
  std::string http = r.emulator.harf_live_url();
  http.replace(0, 2, "http");
  Ptr<SoupMessage> msg(soup_message_new("GET", http.c_str()));
  soup_message_headers_replace(soup_message_get_request_headers(msg.get()), "Authorization",
                               "Token nope");
  GBytes *body = soup_session_send_and_read(session.get(), msg.get(), nullptr, nullptr);
  g_assert_nonnull(body);
  g_assert_cmpuint(soup_message_get_status(msg.get()), ==, SOUP_STATUS_UNAUTHORIZED);
  gsize n = 0;
  const auto *data = static_cast<const char *>(g_bytes_get_data(body, &n));
  const std::string text(data, n);
  g_bytes_unref(body);
  g_assert_cmpstr(text.c_str(), ==, "{\"detail\":\"Invalid token.\"}");
  g_assert_cmpint(r.emulator.handshake_count(), ==, 3);  // the plain GET is not a handshake
}

void test_reject_token()
{
  emu::Options o;
  o.reject_token = true;
  Running r(o);
  Client c;
  g_assert_false(c.connect(r.emulator.harf_live_url(), "Token anything"));
  g_assert_cmpuint(c.status(), ==, SOUP_STATUS_UNAUTHORIZED);
  g_assert_cmpint(r.emulator.handshake_count(), ==, 1);
}

void test_close_after()
{
  emu::Options o;
  o.close_after = 2;
  Running r(o);
  Client c;
  g_assert_true(c.connect(r.emulator.harf_live_url(), nullptr));
  const auto wav = two_bursts();
  c.send_binary(wav, 0, kWindow);
  g_assert_true(c.wait_texts(1));
  c.send_binary(wav, kWindow, kWindow);
  g_assert_true(c.wait_closed());
  g_assert_cmpuint(c.close_code(), ==, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR);
  g_assert_cmpuint(c.texts.size(), ==, 1);
  g_assert_true(r.emulator.wait_closed(1, kWaitMs));
  const auto s = r.emulator.sessions()[0];
  g_assert_cmpuint(s.binary_sizes.size(), ==, 2);
  g_assert_cmpuint(s.replies.size(), ==, 1);
  g_assert_false(s.finished);
}

void test_malformed()
{
  emu::Options o;
  o.malformed_json = true;
  Running r(o);
  Client c;
  g_assert_true(c.connect(r.emulator.harf_live_url(), nullptr));
  const auto wav = two_bursts();
  c.send_binary(wav, 0, kWindow);
  g_assert_true(c.wait_texts(1));
  c.send_binary(wav, kWindow, kWindow);
  g_assert_true(c.wait_texts(2));
  g_assert_false(is_json(c.texts[0]));
  g_assert_true(is_json(c.texts[1]));
  c.send_text("finalize");
  g_assert_true(c.wait_closed());
}

void test_revisions()
{
  emu::Options o;
  o.revisions = true;
  o.script = {"یک دو سه چهار"};
  Running r(o);
  Client c;
  g_assert_true(c.connect(r.emulator.harf_live_url(), nullptr));
  std::vector<int16_t> pcm;
  append(pcm, 3, true), append(pcm, 1, false);
  c.lockstep(make_wav(pcm));
  c.send_text("finalize");
  g_assert_true(c.wait_closed());
  g_assert_true(r.emulator.wait_closed(1, kWaitMs));
  const auto segs = r.emulator.sessions()[0].segments;
  g_assert_cmpuint(segs.size(), ==, 4);
  const char *expect[] = {"یک", "یک دو", "یک دو سه", "یک دو سه چهار"};
  for (size_t i = 0; i < 4; ++i) {
    g_assert_cmpint(segs[i].id, ==, 1);
    g_assert_cmpstr(segs[i].text.c_str(), ==, expect[i]);
    g_assert_true(segs[i].partial == (i < 3));
    assert_near_ns(segs[i].start_ns, 0);
  }
  assert_near_ns(segs[3].end_ns, 3);
}

// Two clients at once, replies delayed: each gets its own answers, in order.
void test_concurrent_delay()
{
  emu::Options o;
  o.delay_ms = 30;
  o.script = kScript;
  Running r(o);
  Client a, b;
  g_assert_true(a.connect(r.emulator.harf_live_url(), nullptr));
  g_assert_true(b.connect(r.emulator.harf_live_url(), nullptr));
  const auto wav = two_bursts();
  // a sends everything at once (replies queue up behind the delay), b in lock-step.
  for (size_t off = 0; off < wav.size(); off += kWindow)
    a.send_binary(wav, off, std::min(kWindow, wav.size() - off));
  a.send_text("finalize");
  b.lockstep(wav);
  b.send_text("finalize");
  g_assert_true(a.wait_closed());
  g_assert_true(b.wait_closed());
  g_assert_true(r.emulator.wait_closed(2, kWaitMs));
  const auto sessions = r.emulator.sessions();
  g_assert_cmpuint(sessions.size(), ==, 2);
  for (const auto &s : sessions) {
    g_assert_true(s.finished);
    g_assert_cmpuint(s.segments.size(), ==, 2);
    g_assert_cmpstr(s.segments[0].text.c_str(), ==, kScript[0].c_str());
    g_assert_cmpstr(s.segments[1].text.c_str(), ==, kScript[1].c_str());
  }
  g_assert_true(a.texts == sessions[0].replies || a.texts == sessions[1].replies);
  g_assert_true(b.texts == sessions[0].replies || b.texts == sessions[1].replies);
  g_assert_cmpuint(b.texts.size(), ==, 5);
}

void test_garbage()
{
  Running r(emu::Options{});
  Client c;
  g_assert_true(c.connect(r.emulator.harf_live_url(), "whatever"));
  std::vector<uint8_t> junk(32001);
  for (size_t i = 0; i < junk.size(); ++i)
    junk[i] = uint8_t(i * 7919u);
  c.send_binary(junk, 0, 10);  // short header
  g_assert_true(c.wait_texts(1));
  c.send_binary(junk, 0, junk.size());  // odd size, not WAV
  g_assert_true(c.wait_texts(2));
  c.send_text("hello");
  c.send_text("finalize");
  g_assert_true(c.wait_closed());
  g_assert_true(r.emulator.wait_closed(1, kWaitMs));
  const auto s = r.emulator.sessions()[0];
  g_assert_false(s.header.valid);
  g_assert_false(s.header.error.empty());
  g_assert_cmpuint(s.binary_sizes.size(), ==, 2);
  g_assert_cmpuint(s.other_text.size(), ==, 1);
  g_assert_cmpstr(s.other_text[0].c_str(), ==, "hello");
  g_assert_true(s.finished);
  g_assert_cmpuint(c.texts.size(), ==, 2);

  // A non-WAV first message of full size is also refused as a header, without harm.
  Client d;
  g_assert_true(d.connect(r.emulator.harf_live_url(), nullptr));
  d.send_binary(junk, 0, kWindow);
  g_assert_true(d.wait_texts(1));
  d.close();
  g_assert_true(d.wait_closed());
  g_assert_true(r.emulator.wait_closed(2, kWaitMs));
  g_assert_false(r.emulator.sessions()[1].header.valid);
}

void test_never_answer()
{
  emu::Options o;
  o.never_answer = true;
  Running r(o);
  Client c;
  g_assert_true(c.connect(r.emulator.harf_live_url(), nullptr));
  const auto wav = two_bursts();
  c.send_binary(wav, 0, kWindow);
  c.send_binary(wav, kWindow, kWindow);
  c.send_text("finalize");
  c.close();  // after the messages on the same stream, so they are seen first
  g_assert_true(c.wait_closed());
  g_assert_true(r.emulator.wait_closed(1, kWaitMs));
  const auto s = r.emulator.sessions()[0];
  g_assert_cmpuint(s.binary_sizes.size(), ==, 2);
  g_assert_cmpint(s.finalize_count, ==, 1);
  g_assert_cmpuint(s.replies.size(), ==, 0);
  g_assert_cmpuint(c.texts.size(), ==, 0);
  g_assert_false(s.finished);
}

// stop() with a client still connected closes it (1001) and returns.
void test_stop_with_open_client()
{
  Running r(emu::Options{});
  Client c;
  g_assert_true(c.connect(r.emulator.harf_live_url(), nullptr));
  r.emulator.stop();
  g_assert_true(c.wait_closed());
  g_assert_true(r.emulator.wait_closed(1, 0));
  r.emulator.stop();  // idempotent
}

// ---------------------------------------------------------------------------
// g_assert_cmpstr keeps only pointers: hold both strings for the comparison.
#define ASSERT_STR_EQ(a, b)                               \
  do {                                                    \
    const std::string got_ = (a), expected_ = (b);        \
    g_assert_cmpstr(got_.c_str(), ==, expected_.c_str()); \
  } while (0)

// REST endpoints, driven by a libsoup HTTP client (synchronous calls: the
// emulator answers from its own thread; the session's timeout bounds each call).

struct HttpReply {
  guint status = 0;  // 0: no answer (error says why)
  std::string body, content_type, retry_after, error;
};

class Http {
 public:
  Http() : session_(soup_session_new_with_options("timeout", 20u, nullptr)) {}

  HttpReply send(SoupMessage *msg, const char *authorization = nullptr)
  {
    if (authorization)
      soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization",
                                   authorization);
    GError *error = nullptr;
    GBytes *body = soup_session_send_and_read(session_.get(), msg, cancellable, &error);
    if (error && tolerate_errors) {
      HttpReply r;
      r.error = error->message;
      g_error_free(error);
      g_object_unref(msg);
      return r;
    }
    g_assert_no_error(error);
    HttpReply r;
    r.status = soup_message_get_status(msg);
    gsize n = 0;
    const auto *data = static_cast<const char *>(g_bytes_get_data(body, &n));
    r.body.assign(data ? data : "", n);
    g_bytes_unref(body);
    SoupMessageHeaders *h = soup_message_get_response_headers(msg);
    if (const char *t = soup_message_headers_get_one(h, "Content-Type"))
      r.content_type = t;
    if (const char *t = soup_message_headers_get_one(h, "Retry-After"))
      r.retry_after = t;
    g_object_unref(msg);
    return r;
  }

  HttpReply post(const std::string &url, const char *content_type, const std::string &body,
                 const char *authorization = nullptr)
  {
    SoupMessage *msg = soup_message_new("POST", url.c_str());
    g_assert_nonnull(msg);
    GBytes *b = g_bytes_new(body.data(), body.size());
    soup_message_set_request_body_from_bytes(msg, content_type, b);
    g_bytes_unref(b);
    return send(msg, authorization);
  }
  HttpReply post_json(const std::string &url, const std::string &json,
                      const char *authorization = nullptr)
  {
    return post(url, "application/json", json, authorization);
  }
  HttpReply get(const std::string &url)
  {
    SoupMessage *msg = soup_message_new("GET", url.c_str());
    g_assert_nonnull(msg);
    return send(msg);
  }

  GCancellable *cancellable = nullptr;
  bool tolerate_errors = false;  // else any transport error fails the test

 private:
  Ptr<SoupSession> session_;
};

// A multipart/form-data body: text fields and files, in order.
class Form {
 public:
  Form() : m_(soup_multipart_new(SOUP_FORM_MIME_TYPE_MULTIPART)) {}
  ~Form() { soup_multipart_free(m_); }
  Form &field(const char *name, const std::string &value)
  {
    soup_multipart_append_form_string(m_, name, value.c_str());
    return *this;
  }
  Form &file(const char *name, const char *filename, const char *type,
             const std::vector<uint8_t> &data)
  {
    GBytes *b = g_bytes_new(data.data(), data.size());
    soup_multipart_append_form_file(m_, name, filename, type, b);
    g_bytes_unref(b);
    return *this;
  }
  HttpReply post(Http &http, const std::string &url, const char *authorization = nullptr)
  {
    return http.send(soup_message_new_from_multipart(url.c_str(), m_), authorization);
  }

 private:
  SoupMultipart *m_;
};

class Json {
 public:
  explicit Json(const std::string &text) : parser_(json_parser_new())
  {
    GError *error = nullptr;
    if (!json_parser_load_from_data(parser_.get(), text.c_str(), gssize(text.size()), &error))
      g_error("not JSON (%s): %s", error->message, text.c_str());
  }
  JsonNode *root() const { return json_parser_get_root(parser_.get()); }
  JsonObject *obj() const
  {
    g_assert_true(JSON_NODE_HOLDS_OBJECT(root()));
    return json_node_get_object(root());
  }
  JsonArray *array() const
  {
    g_assert_true(JSON_NODE_HOLDS_ARRAY(root()));
    return json_node_get_array(root());
  }

 private:
  Ptr<JsonParser> parser_;
};

std::string str(JsonObject *o, const char *name)
{
  g_assert_true(json_object_has_member(o, name));
  return json_object_get_string_member(o, name);
}

std::string state_of(const HttpReply &r)
{
  g_assert_cmpuint(r.status, ==, SOUP_STATUS_OK);
  return str(Json(r.body).obj(), "state");
}

std::string sha256(const std::vector<uint8_t> &data)
{
  g_autofree char *s = g_compute_checksum_for_data(G_CHECKSUM_SHA256, data.data(), data.size());
  return s;
}

bool contains(const std::string &haystack, const std::string &needle)
{
  return haystack.find(needle) != std::string::npos;
}

const std::string kMp3 =
    std::string("ID3\x03\x00\x00\x00\x00\x00\x00", 10) + std::string(3000, '\xfb');

// A WAV with a LIST chunk before the data, WAVE_FORMAT_EXTENSIBLE and a streaming
// (0xFFFFFFFF) data size: 8 kHz stereo, tone 0.5-1.5 s, silence to 2.5 s.
std::vector<uint8_t> unusual_wav()
{
  std::vector<uint8_t> out;
  auto put = [&](uint32_t v, int n) {
    for (int i = 0; i < n; ++i)
      out.push_back(uint8_t(v >> (8 * i)));
  };
  auto tag = [&](const char *t) { out.insert(out.end(), t, t + 4); };
  const uint32_t rate = 8000, ch = 2;
  tag("RIFF"), put(0xFFFFFFFF, 4), tag("WAVE");
  tag("LIST"), put(5, 4), out.insert(out.end(), {'I', 'N', 'F', 'O', 'x'}),
      out.push_back(0);  // odd size: pad byte
  tag("fmt "), put(40, 4), put(0xFFFE, 2), put(ch, 2), put(rate, 4), put(rate * ch * 2, 4),
      put(ch * 2, 2), put(16, 2);
  put(22, 2), put(16, 2), put(3, 4),
      put(1, 2);  // cbSize, valid bits, channel mask, SubFormat = PCM...
  const uint8_t guid_tail[14] = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80,
                                 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71};
  out.insert(out.end(), guid_tail, guid_tail + 14);
  tag("data"), put(0xFFFFFFFF, 4);
  const double amp = 32768.0 * std::pow(10.0, -10.0 / 20.0) * std::sqrt(2.0);
  for (uint32_t i = 0; i < rate * 5 / 2; ++i) {
    const bool tone = i >= rate / 2 && i < rate * 3 / 2;
    const int16_t v =
        tone ? int16_t(std::lround(amp * std::sin(2 * M_PI * 440.0 * double(i) / rate))) : 0;
    put(uint16_t(v), 2), put(uint16_t(v), 2);
  }
  return out;
}

std::vector<uint8_t> wav_24bit()
{
  std::vector<uint8_t> wav = two_bursts();
  wav[34] = 24;  // bits per sample: not analysed, like an mp3
  return wav;
}

// Checks a Harf result element: segment times and texts.
void check_harf_result(JsonObject *res, const char *media_url, const char *duration,
                       const std::vector<std::array<const char *, 3>> &segments, int64_t words,
                       int64_t known)
{
  ASSERT_STR_EQ(str(res, "media_url"), media_url);
  ASSERT_STR_EQ(str(res, "duration"), duration);
  JsonArray *segs = json_object_get_array_member(res, "segments");
  g_assert_cmpuint(json_array_get_length(segs), ==, segments.size());
  for (guint i = 0; i < segments.size(); ++i) {
    JsonObject *s = json_array_get_object_element(segs, i);
    ASSERT_STR_EQ(str(s, "start"), segments[i][0]);
    ASSERT_STR_EQ(str(s, "end"), segments[i][1]);
    ASSERT_STR_EQ(str(s, "text"), segments[i][2]);
  }
  JsonObject *stats = json_object_get_object_member(res, "stats");
  g_assert_cmpint(json_object_get_int_member(stats, "words"), ==, words);
  g_assert_cmpint(json_object_get_int_member(stats, "known_words"), ==, known);
}

void test_harf_rest_upload()
{
  emu::Options o;
  o.token = "secret";
  o.script = kScript;
  Running r(o);
  Http http;
  const auto wav = two_bursts();
  const std::string url = r.emulator.harf_api_url();
  ASSERT_STR_EQ(
      url, ("http://127.0.0.1:" + std::to_string(r.emulator.port()) + "/api/transcribe_files/"));

  HttpReply rep = Form()
                      .field("wait", "true")
                      .file("media", "two.wav", "audio/wav", wav)
                      .post(http, url, "Token secret");
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_OK);
  g_assert_true(g_str_has_prefix(rep.content_type.c_str(), "application/json"));
  {
    Json j(rep.body);
    g_assert_cmpuint(json_array_get_length(j.array()), ==, 1);
    check_harf_result(
        json_array_get_object_element(j.array(), 0), "two.wav", "0:00:04",
        {{"0:00:00", "0:00:01", kScript[0].c_str()}, {"0:00:02", "0:00:03", kScript[1].c_str()}}, 8,
        7);
  }
  auto recs = r.emulator.rest_requests();
  g_assert_cmpuint(recs.size(), ==, 1);
  const emu::RestRecord &rec = recs[0];
  ASSERT_STR_EQ(rec.kind, "harf-transcribe");
  ASSERT_STR_EQ(rec.method, "POST");
  ASSERT_STR_EQ(rec.path, "/api/transcribe_files/");
  ASSERT_STR_EQ(rec.authorization, "Token secret");
  g_assert_true(g_str_has_prefix(rec.content_type.c_str(), "multipart/form-data; boundary="));
  g_assert_cmpint(rec.status, ==, 200);
  ASSERT_STR_EQ(rec.fault, "");
  g_assert_true(rec.answer == rep.body);
  g_assert_cmpuint(rec.parts.size(), ==, 2);
  ASSERT_STR_EQ(rec.parts[0].name, "wait");
  ASSERT_STR_EQ(rec.parts[0].text, "true");
  ASSERT_STR_EQ(rec.parts[1].name, "media");
  ASSERT_STR_EQ(rec.parts[1].filename, "two.wav");
  ASSERT_STR_EQ(rec.parts[1].content_type, "audio/wav");
  g_assert_cmpuint(rec.parts[1].size, ==, wav.size());
  ASSERT_STR_EQ(rec.parts[1].sha256, sha256(wav));
  g_assert_true(rec.parts[1].text.empty());
  g_assert_true(rec.parts[1].wav.valid);
  g_assert_cmpuint(rec.parts[1].wav.rate, ==, 16000);
  g_assert_cmpuint(rec.parts[1].wav.channels, ==, 1);
  g_assert_cmpuint(rec.parts[1].wav.data_size, ==, 128000);

  // Bearer, the path without its slash, wait defaulting to true; a third burst
  // exhausts the script (placeholder line); each upload starts at line 0.
  std::vector<int16_t> pcm;
  for (int i = 0; i < 3; ++i)
    append(pcm, 1, true), append(pcm, 1, false);
  rep = Form()
            .file("media", "three.wav", "audio/wav", make_wav(pcm))
            .post(http, url.substr(0, url.size() - 1), "Bearer secret");
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_OK);
  {
    Json j(rep.body);
    JsonArray *segs =
        json_object_get_array_member(json_array_get_object_element(j.array(), 0), "segments");
    g_assert_cmpuint(json_array_get_length(segs), ==, 3);
    ASSERT_STR_EQ(str(json_array_get_object_element(segs, 0), "text"), kScript[0]);
    ASSERT_STR_EQ(str(json_array_get_object_element(segs, 2), "text"), "این یک متن آزمایشی است");
  }

  // Not a PCM WAV: one script line per 3 s.
  rep = Form()
            .field("wait", "True")
            .file("media", "poem.mp3", "audio/mpeg", std::vector<uint8_t>(kMp3.begin(), kMp3.end()))
            .post(http, url, "Token secret");
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_OK);
  check_harf_result(
      json_array_get_object_element(Json(rep.body).array(), 0), "poem.mp3", "0:00:06",
      {{"0:00:00", "0:00:03", kScript[0].c_str()}, {"0:00:03", "0:00:06", kScript[1].c_str()}}, 8,
      7);
  recs = r.emulator.rest_requests();
  g_assert_false(recs.back().parts[1].wav.valid);

  // Refusals.
  rep = Form().file("media", "two.wav", "audio/wav", wav).post(http, url, "Token wrong");
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_UNAUTHORIZED);
  ASSERT_STR_EQ(rep.body, "{\"detail\":\"Invalid token.\"}");
  rep = Form().file("media", "two.wav", "audio/wav", wav).post(http, url);
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_UNAUTHORIZED);
  rep = http.post_json(url,
                       "{\"media_urls\": [\"https://i.ganjoor.net/a2/41417.mp3\"], \"wait\": true}",
                       "Token secret");
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_BAD_REQUEST);
  ASSERT_STR_EQ(rep.body, "{\"media_urls\":[\"unsupported in the emulator\"]}");
  rep = Form().field("wait", "true").post(http, url, "Token secret");
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_BAD_REQUEST);
  g_assert_true(json_object_has_member(Json(rep.body).obj(), "media"));
  rep = Form()
            .field("media", "not a file")
            .post(http, url, "Token secret");  // no filename: not an upload
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_BAD_REQUEST);
  rep = Form()
            .field("wait", "maybe")
            .file("media", "two.wav", "audio/wav", wav)
            .post(http, url, "Token secret");
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_BAD_REQUEST);
  rep = http.post_json(url, "{\"media_urls\": [", "Token secret");
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_BAD_REQUEST);
  rep = http.post(url, "text/plain", "hello", "Token secret");
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE);
  g_assert_cmpuint(r.emulator.rest_count("harf-transcribe"), ==, 11);
  g_assert_cmpuint(r.emulator.sessions().size(), ==, 0);
}

// RIFF chunks walked properly: LIST before fmt, EXTENSIBLE, streaming sizes, stereo 8 kHz; 24-bit
// is not analysed.
void test_harf_rest_wav_variants()
{
  emu::Options o;
  o.script = {"یک", "دو"};
  Running r(o);
  Http http;
  HttpReply rep = Form()
                      .file("media", "odd.wav", "audio/x-wav", unusual_wav())
                      .post(http, r.emulator.harf_api_url());
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_OK);
  check_harf_result(json_array_get_object_element(Json(rep.body).array(), 0), "odd.wav",
                    "0:00:02.500000", {{"0:00:00.500000", "0:00:01.500000", "یک"}}, 1, 1);
  rep = Form()
            .file("media", "deep.wav", "audio/wav", wav_24bit())
            .post(http, r.emulator.harf_api_url());
  check_harf_result(json_array_get_object_element(Json(rep.body).array(), 0), "deep.wav", "0:00:06",
                    {{"0:00:00", "0:00:03", "یک"}, {"0:00:03", "0:00:06", "دو"}}, 2, 2);
  const auto recs = r.emulator.rest_requests();
  g_assert_true(recs[0].parts[0].wav.valid);
  g_assert_cmpuint(recs[0].parts[0].wav.channels, ==, 2);
  g_assert_cmpuint(recs[0].parts[0].wav.rate, ==, 8000);
  g_assert_false(recs[1].parts[0].wav.valid);
  g_assert_true(contains(recs[1].parts[0].wav.error, "24 bits"));
}

void test_harf_rest_poll()
{
  emu::Options o;
  o.token = "secret";
  o.script = kScript;
  Running r(o);
  Http http;
  const std::string url = r.emulator.harf_api_url();
  HttpReply rep = Form()
                      .field("wait", "false")
                      .file("media", "two.wav", "audio/wav", two_bursts())
                      .post(http, url, "Token secret");
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_OK);
  std::string id;
  {
    Json j(rep.body);
    ASSERT_STR_EQ(str(j.obj(), "state"), "PENDING");
    JsonArray *ids = json_object_get_array_member(j.obj(), "task_ids");
    g_assert_cmpuint(json_array_get_length(ids), ==, 1);
    id = json_array_get_string_element(ids, 0);
  }
  g_assert_cmpuint(id.size(), ==, 36);
  const std::string poll = "{\"tasks_ids\": [\"" + id + "\"], \"wait\": false}";
  ASSERT_STR_EQ(state_of(http.post_json(url, poll, "Token secret")), "PENDING");
  ASSERT_STR_EQ(state_of(http.post_json(url, poll, "Token secret")), "PENDING");
  for (const std::string &body : {poll, "{\"task_ids\": [\"" + id + "\"], \"wait\": false}"}) {
    rep = http.post_json(url, body, "Token secret");
    g_assert_cmpuint(rep.status, ==, SOUP_STATUS_OK);
    Json j(rep.body);
    check_harf_result(
        json_array_get_object_element(j.array(), 0), "two.wav", "0:00:04",
        {{"0:00:00", "0:00:01", kScript[0].c_str()}, {"0:00:02", "0:00:03", kScript[1].c_str()}}, 8,
        7);
  }
  // An unknown id stays PENDING (like celery); polls need the token too.
  ASSERT_STR_EQ(
      state_of(http.post_json(url, "{\"tasks_ids\": [\"nope\"], \"wait\": false}", "Token secret")),
      "PENDING");
  g_assert_cmpuint(http.post_json(url, poll).status, ==, SOUP_STATUS_UNAUTHORIZED);

  const auto recs = r.emulator.rest_requests();
  g_assert_cmpuint(recs.size(), ==, 7);
  ASSERT_STR_EQ(recs[0].kind, "harf-transcribe");
  ASSERT_STR_EQ(recs[0].task_id, id);
  for (size_t i = 1; i < 7; ++i)
    ASSERT_STR_EQ(recs[i].kind, "harf-poll");
  ASSERT_STR_EQ(recs[1].task_id, id);
  ASSERT_STR_EQ(recs[1].json_body, poll);
  g_assert_cmpuint(r.emulator.rest_count("harf-poll"), ==, 6);
}

void check_harf_fault(bool failure, const char *state)
{
  emu::Options o;
  o.harf_failure = failure;
  o.harf_timeout = !failure;
  o.poll_pending = 1;
  Running r(o);
  Http http;
  const std::string url = r.emulator.harf_api_url();
  ASSERT_STR_EQ(state_of(Form().file("media", "a.wav", "audio/wav", two_bursts()).post(http, url)),
                state);
  const HttpReply rep =
      Form().field("wait", "0").file("media", "a.wav", "audio/wav", two_bursts()).post(http, url);
  const std::string id = json_array_get_string_element(
      json_object_get_array_member(Json(rep.body).obj(), "task_ids"), 0);
  const std::string poll = "{\"tasks_ids\": [\"" + id + "\"], \"wait\": false}";
  ASSERT_STR_EQ(state_of(http.post_json(url, poll)), "PENDING");
  ASSERT_STR_EQ(state_of(http.post_json(url, poll)), state);
}

void test_harf_rest_failure()
{
  check_harf_fault(true, "FAILURE");
}
void test_harf_rest_timeout()
{
  check_harf_fault(false, "TIMEOUT");
}

// delay_ms holds a wait=true answer back; the record shows status 0 meanwhile.
void test_harf_rest_delay()
{
  emu::Options o;
  o.delay_ms = 300;
  Running r(o);
  const std::string url = r.emulator.harf_api_url();
  HttpReply rep;
  const gint64 t0 = g_get_monotonic_time();
  std::thread client([&] {
    Http http;  // its own session, used on this thread only
    rep = Form().file("media", "a.wav", "audio/wav", two_bursts()).post(http, url);
  });
  const bool held = r.emulator.wait_rest(
      [](const std::vector<emu::RestRecord> &v) { return v.size() == 1 && v[0].status == 0; },
      kWaitMs);
  client.join();
  g_assert_true(held);
  g_assert_cmpint(g_get_monotonic_time() - t0, >=, 300000);
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_OK);
  g_assert_true(r.emulator.wait_rest(
      [](const std::vector<emu::RestRecord> &v) { return v.size() == 1 && v[0].status == 200; },
      kWaitMs));
  g_assert_true(r.emulator.rest_requests()[0].answer == rep.body);
}

// A client that gives up during the delay is recorded as gone (status 0).
void test_harf_rest_delay_client_gone()
{
  emu::Options o;
  o.delay_ms = 60000;
  Running r(o);
  const std::string url = r.emulator.harf_api_url();
  Ptr<GCancellable> cancel(g_cancellable_new());
  HttpReply rep;
  std::thread client([&] {
    Http http;
    http.cancellable = cancel.get();
    http.tolerate_errors = true;
    rep = Form().file("media", "a.wav", "audio/wav", two_bursts()).post(http, url);
  });
  const bool held = r.emulator.wait_rest(
      [](const std::vector<emu::RestRecord> &v) { return v.size() == 1 && v[0].status == 0; },
      kWaitMs);
  g_cancellable_cancel(cancel.get());
  client.join();
  g_assert_true(held);
  g_assert_cmpuint(rep.status, ==, 0);
  g_assert_true(r.emulator.wait_rest(
      [](const std::vector<emu::RestRecord> &v) {
        return v.size() == 1 && v[0].fault == "disconnected";
      },
      kWaitMs));
  g_assert_cmpint(r.emulator.rest_requests()[0].status, ==, 0);
}

// stop() does not wait for a delayed answer; the waiting client sees the connection end.
void test_rest_stop_with_delayed()
{
  emu::Options o;
  o.delay_ms = 60000;
  Running r(o);
  const std::string url = r.emulator.harf_api_url();
  HttpReply rep;
  std::thread client([&] {
    Http http;
    http.tolerate_errors = true;
    rep = Form().file("media", "a.wav", "audio/wav", two_bursts()).post(http, url);
  });
  const bool held = r.emulator.wait_rest(
      [](const std::vector<emu::RestRecord> &v) { return v.size() == 1; }, kWaitMs);
  const gint64 t0 = g_get_monotonic_time();
  r.emulator.stop();
  client.join();
  g_assert_true(held);
  g_assert_cmpint(g_get_monotonic_time() - t0, <, 5000000);
  g_assert_cmpuint(rep.status, ==, 0);
  g_assert_false(rep.error.empty());
}

// ---------------------------------------------------------------------------
struct Login {
  std::string token, key;
};

Login login_ok(const HttpReply &rep)
{
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_OK);
  Json j(rep.body);
  JsonObject *user = json_object_get_object_member(j.obj(), "user");
  Login l;
  l.token = str(user, "token");
  JsonObject *account = json_object_get_object_member(user, "nevisa_service_account");
  JsonNode *record = json_object_get_member(account, "current_service_record");
  if (JSON_NODE_HOLDS_OBJECT(record))
    l.key = str(json_node_get_object(record), "key");
  return l;
}

constexpr char kPassword[] = "pa ss&word=1";

void test_nevisa_login()
{
  emu::Options o;
  o.nevisa_username = "ali@example.com";
  o.nevisa_password = kPassword;
  Running r(o);
  Http http;
  const std::string url = r.emulator.nevisa_login_url();
  ASSERT_STR_EQ(url, ("http://127.0.0.1:" + std::to_string(r.emulator.port()) + "/account/login"));

  const Login a = login_ok(http.post_json(
      url, std::string("{\"username_or_phone_or_email\": \"ali@example.com\", \"password\": \"") +
               kPassword + "\"}"));
  g_autofree char *form = soup_form_encode("username_or_phone_or_email", "ali@example.com",
                                           "password", kPassword, nullptr);
  const Login b = login_ok(http.post(url, SOUP_FORM_MIME_TYPE_URLENCODED, form));
  const Login c = login_ok(Form()
                               .field("username_or_phone_or_email", "ali@example.com")
                               .field("password", kPassword)
                               .post(http, url));
  g_assert_cmpuint(a.token.size(), ==, 40);
  g_assert_true(a.token != b.token && b.token != c.token &&
                a.token != c.token);  // a fresh token per login
  g_assert_false(a.key.empty());
  g_assert_true(a.key == b.key && b.key == c.key);

  // Refusals: wrong password, missing field, unsupported body.
  HttpReply rep = http.post_json(
      url, "{\"username_or_phone_or_email\": \"ali@example.com\", \"password\": \"x\"}");
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_UNAUTHORIZED);
  g_assert_true(json_object_has_member(Json(rep.body).obj(), "detail"));
  rep = http.post_json(url, "{\"username_or_phone_or_email\": \"someone\", \"password\": \"x\"}");
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_UNAUTHORIZED);
  rep = http.post_json(url, "{\"password\": \"x\"}");
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_BAD_REQUEST);
  g_assert_true(json_object_has_member(Json(rep.body).obj(), "username_or_phone_or_email"));
  rep = http.post(url, "text/plain", "ali");
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE);

  const auto recs = r.emulator.rest_requests();
  g_assert_cmpuint(recs.size(), ==, 7);
  const char *types[] = {"application/json", "application/x-www-form-urlencoded",
                         "multipart/form-data"};
  for (size_t i = 0; i < recs.size(); ++i) {
    ASSERT_STR_EQ(recs[i].kind, "nevisa-login");
    if (i < 3) {
      g_assert_true(g_str_has_prefix(recs[i].content_type.c_str(), types[i]));
      ASSERT_STR_EQ(recs[i].username, "ali@example.com");
      g_assert_cmpint(recs[i].status, ==, 200);
    }
    // The password is in no record.
    g_assert_false(contains(recs[i].json_body, "ss&word"));
    for (const auto &p : recs[i].parts)
      g_assert_false(contains(p.text, "ss&word"));
  }
  g_assert_true(contains(recs[0].json_body, "(redacted)"));
  ASSERT_STR_EQ(recs[1].parts[1].name, "password");
  ASSERT_STR_EQ(recs[1].parts[1].text, "(redacted)");
  ASSERT_STR_EQ(recs[2].parts[0].text, "ali@example.com");
  g_assert_cmpuint(r.emulator.rest_count("nevisa-login"), ==, 7);

  // No active package: current_service_record is null, and uploads with that token fail.
  emu::Options np;
  np.nevisa_no_package = true;
  Running r2(np);
  const Login n =
      login_ok(http.post_json(r2.emulator.nevisa_login_url(),
                              "{\"username_or_phone_or_email\": \"u\", \"password\": \"p\"}"));
  g_assert_true(n.key.empty());
  rep = Form()
            .field("auth_token", n.token)
            .field("api_key", "")
            .file("file", "a.wav", "audio/wav", two_bursts())
            .post(http, r2.emulator.nevisa_api_url() + "recognize-file");
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_UNAUTHORIZED);
}

std::string resolve(const std::string &base, const std::string &relative)
{
  GError *error = nullptr;
  g_autofree char *url =
      g_uri_resolve_relative(base.c_str(), relative.c_str(), G_URI_FLAGS_NONE, &error);
  g_assert_no_error(error);
  return url;
}

// Uploads, returns (progress URL resolved against the API URL, task id).
std::pair<std::string, std::string> recognize(Http &http, emu::Emulator &e,
                                              const std::string &token, const std::string &key)
{
  const HttpReply rep = Form()
                            .field("auth_token", token)
                            .field("api_key", key)
                            .file("file", "two.wav", "audio/wav", two_bursts())
                            .post(http, e.nevisa_api_url() + "recognize-file");
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_OK);
  Json j(rep.body);
  const std::string id = str(j.obj(), "task_id"), progress = str(j.obj(), "progress_url");
  ASSERT_STR_EQ(progress, ("/nevisa/celery-progress/" + id + "/"));  // relative, like the service
  return {resolve(e.nevisa_api_url(), progress), id};
}

void check_progress(const HttpReply &rep, const char *state, bool complete, int percent)
{
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_OK);
  Json j(rep.body);
  ASSERT_STR_EQ(str(j.obj(), "state"), state);
  g_assert_true(json_object_get_boolean_member(j.obj(), "complete") == complete);
  JsonObject *p = json_object_get_object_member(j.obj(), "progress");
  g_assert_cmpint(json_object_get_int_member(p, "percent"), ==, percent);
  g_assert_cmpint(json_object_get_int_member(p, "current"), ==, percent);
  g_assert_cmpint(json_object_get_int_member(p, "total"), ==, 100);
  g_assert_true(json_object_get_boolean_member(p, "pending") == (g_strcmp0(state, "PENDING") == 0));
  if (!complete)
    g_assert_true(json_object_get_null_member(j.obj(), "success"));
}

void test_nevisa_recognize()
{
  emu::Options o;
  o.script = kScript;
  Running r(o);
  Http http;
  ASSERT_STR_EQ(r.emulator.nevisa_api_url(),
                ("http://127.0.0.1:" + std::to_string(r.emulator.port()) + "/nevisa/"));
  const Login l = login_ok(Form()
                               .field("username_or_phone_or_email", "u")
                               .field("password", "p")
                               .post(http, r.emulator.nevisa_login_url()));
  const auto [progress, id] = recognize(http, r.emulator, l.token, l.key);

  check_progress(http.get(progress), "PENDING", false, 0);
  for (int percent : {25, 50, 75})
    check_progress(http.get(progress), "PROGRESS", false, percent);
  for (int i = 0; i < 2; ++i) {  // SUCCESS, and it stays so
    const HttpReply rep = http.get(progress);
    check_progress(rep, "SUCCESS", true, 100);
    Json j(rep.body);
    g_assert_true(json_object_get_boolean_member(j.obj(), "success"));
    JsonObject *result = json_object_get_object_member(j.obj(), "result");
    g_assert_true(json_object_get_boolean_member(result, "final"));
    JsonObject *tr = json_object_get_object_member(result, "transcription");
    ASSERT_STR_EQ(str(tr, "text"), "سلام دنیا حکایت یکی را از حکما شنیدم");
    JsonArray *words = json_object_get_array_member(tr, "result");
    g_assert_cmpuint(json_array_get_length(words), ==, 8);
    JsonObject *w0 = json_array_get_object_element(words, 0),
               *w1 = json_array_get_object_element(words, 1),
               *w2 = json_array_get_object_element(words, 2),
               *w7 = json_array_get_object_element(words, 7);
    ASSERT_STR_EQ(str(w0, "word"), "سلام");
    g_assert_cmpfloat(json_object_get_double_member(w0, "conf"), ==, 0.9);
    g_assert_cmpfloat(std::fabs(json_object_get_double_member(w0, "start") - 0.0), <, 0.041);
    g_assert_cmpfloat(std::fabs(json_object_get_double_member(w0, "end") - 0.5), <,
                      0.041);  // 4 of 8 characters
    g_assert_cmpfloat(json_object_get_double_member(w0, "end"), ==,
                      json_object_get_double_member(w1, "start"));
    ASSERT_STR_EQ(str(w2, "word"), "حکایت");  // was [حکایت]
    g_assert_cmpfloat(json_object_get_double_member(w2, "conf"), ==, 0.35);
    g_assert_cmpfloat(std::fabs(json_object_get_double_member(w2, "start") - 2.0), <, 0.041);
    g_assert_cmpfloat(std::fabs(json_object_get_double_member(w7, "end") - 3.0), <, 0.041);
    g_assert_true(
        contains(rep.body, "\"conf\":0.9,\"end\":"));  // plain 2-decimal numbers on the wire
  }

  // The static pair works without login; bad pairs and bodies do not.
  recognize(http, r.emulator, "nevisa-static-token", "nevisa-static-key");
  const std::string api = r.emulator.nevisa_api_url() + "recognize-file";
  const auto wav = two_bursts();
  HttpReply rep = Form()
                      .field("auth_token", l.token)
                      .field("api_key", "nevisa-static-key")
                      .file("file", "a.wav", "audio/wav", wav)
                      .post(http, api);
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_UNAUTHORIZED);
  rep = Form()
            .field("auth_token", "forged")
            .field("api_key", l.key)
            .file("file", "a.wav", "audio/wav", wav)
            .post(http, api);
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_UNAUTHORIZED);
  rep = Form()
            .field("auth_token", l.token)
            .field("api_key", l.key)
            .file("media", "a.wav", "audio/wav", wav)
            .post(http, api);
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_BAD_REQUEST);
  g_assert_true(json_object_has_member(Json(rep.body).obj(), "file"));
  rep =
      http.post_json(api, "{\"auth_token\": \"" + l.token + "\", \"api_key\": \"" + l.key + "\"}");
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE);

  // An unknown task id is PENDING forever.
  for (int i = 0; i < 3; ++i)
    check_progress(http.get(r.emulator.nevisa_api_url() + "celery-progress/nope/"), "PENDING",
                   false, 0);

  const auto recs = r.emulator.rest_requests();
  ASSERT_STR_EQ(recs[1].kind, "nevisa-recognize");
  ASSERT_STR_EQ(recs[1].path, "/nevisa/recognize-file");
  ASSERT_STR_EQ(recs[1].task_id, id);
  g_assert_cmpuint(recs[1].parts.size(), ==, 3);
  ASSERT_STR_EQ(recs[1].parts[0].name, "auth_token");
  ASSERT_STR_EQ(recs[1].parts[0].text, l.token);
  ASSERT_STR_EQ(recs[1].parts[1].text, l.key);
  ASSERT_STR_EQ(recs[1].parts[2].name, "file");
  ASSERT_STR_EQ(recs[1].parts[2].sha256, sha256(wav));
  ASSERT_STR_EQ(recs[2].kind, "nevisa-progress");
  ASSERT_STR_EQ(recs[2].method, "GET");
  ASSERT_STR_EQ(recs[2].task_id, id);
  g_assert_cmpuint(r.emulator.rest_count("nevisa-progress"), ==, 9);
  g_assert_cmpuint(r.emulator.rest_count("nevisa-recognize"), ==, 6);
}

void test_nevisa_progress_options()
{
  {
    emu::Options o;
    o.progress_steps = 1;
    o.nevisa_failure = true;
    Running r(o);
    Http http;
    const std::string progress =
        recognize(http, r.emulator, "nevisa-static-token", "nevisa-static-key").first;
    check_progress(http.get(progress), "PENDING", false, 0);
    check_progress(http.get(progress), "PROGRESS", false, 50);
    const HttpReply rep = http.get(progress);
    check_progress(rep, "FAILURE", true, 100);
    Json j(rep.body);
    g_assert_false(json_object_get_boolean_member(j.obj(), "success"));
    g_assert_true(contains(str(j.obj(), "result"), "audio decode failed"));
    g_assert_true(contains(str(j.obj(), "result"), "خطا"));
  }
  {
    emu::Options o;
    o.nevisa_pending_forever = true;
    o.nevisa_static_token = "st";
    o.nevisa_static_key = "sk";
    Running r(o);
    Http http;
    const std::string progress = recognize(http, r.emulator, "st", "sk").first;
    for (int i = 0; i < 8; ++i)
      check_progress(http.get(progress), "PENDING", false, 0);
  }
}

void test_nevisa_terminate()
{
  Running r(emu::Options{});
  Http http;
  const Login l =
      login_ok(http.post_json(r.emulator.nevisa_login_url(),
                              "{\"username_or_phone_or_email\": \"u\", \"password\": \"p\"}"));
  const auto [progress, id] = recognize(http, r.emulator, l.token, l.key);
  const auto [other_progress, other_id] =
      recognize(http, r.emulator, "nevisa-static-token", "nevisa-static-key");
  check_progress(http.get(progress), "PENDING", false, 0);
  const std::string url = r.emulator.nevisa_api_url() + "file/terminate-task";
  const std::string header = "Token " + l.token;
  auto terminate = [&](const std::string &task, const char *auth, const std::string &token) {
    return Form()
        .field("auth_token", token)
        .field("api_key", l.key)
        .field("task_id", task)
        .post(http, url, auth);
  };
  g_assert_cmpuint(terminate(id, nullptr, l.token).status, ==,
                   SOUP_STATUS_UNAUTHORIZED);  // no header
  g_assert_cmpuint(terminate(id, "Token other", l.token).status, ==, SOUP_STATUS_UNAUTHORIZED);
  g_assert_cmpuint(terminate(id, "Token forged", "forged").status, ==, SOUP_STATUS_UNAUTHORIZED);
  g_assert_cmpuint(terminate("nope", header.c_str(), l.token).status, ==, SOUP_STATUS_UNAUTHORIZED);
  g_assert_cmpuint(terminate(other_id, header.c_str(), l.token).status, ==,
                   SOUP_STATUS_UNAUTHORIZED);  // not ours
  check_progress(http.get(progress), "PROGRESS", false, 25);
  const HttpReply rep = terminate(id, header.c_str(), l.token);
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_OK);
  ASSERT_STR_EQ(rep.body, "{\"detail\":\"terminated\"}");
  for (int i = 0; i < 2; ++i) {
    const HttpReply p = http.get(progress);
    check_progress(p, "REVOKED", true, 100);
    Json j(p.body);
    g_assert_false(json_object_get_boolean_member(j.obj(), "success"));
    ASSERT_STR_EQ(str(j.obj(), "result"), "terminated");
  }
  check_progress(http.get(other_progress), "PENDING", false, 0);  // the other task goes on

  const auto recs = r.emulator.rest_requests();
  std::vector<emu::RestRecord> terminations;
  for (const auto &rec : recs)
    if (rec.kind == "nevisa-terminate")
      terminations.push_back(rec);
  g_assert_cmpuint(terminations.size(), ==, 6);
  const emu::RestRecord &ok = terminations.back();
  ASSERT_STR_EQ(ok.path, "/nevisa/file/terminate-task");
  ASSERT_STR_EQ(ok.authorization, header);
  g_assert_cmpint(ok.status, ==, 200);
  ASSERT_STR_EQ(ok.task_id, id);
  g_assert_cmpuint(ok.parts.size(), ==, 3);
  ASSERT_STR_EQ(ok.parts[2].name, "task_id");
  ASSERT_STR_EQ(ok.parts[2].text, id);
  ASSERT_STR_EQ(terminations[0].authorization, "");
  g_assert_cmpint(terminations[0].status, ==, 401);
}

// ---------------------------------------------------------------------------
const char *kLoginJson = "{\"username_or_phone_or_email\": \"u\", \"password\": \"p\"}";

void test_fault_http_401()
{
  emu::Options o;
  o.http_401 = true;
  Running r(o);
  Http http;
  HttpReply rep = http.post_json(r.emulator.nevisa_login_url(), kLoginJson);
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_UNAUTHORIZED);
  g_assert_true(json_object_has_member(Json(rep.body).obj(), "detail"));
  g_assert_cmpuint(Form()
                       .file("media", "a.wav", "audio/wav", two_bursts())
                       .post(http, r.emulator.harf_api_url())
                       .status,
                   ==, SOUP_STATUS_UNAUTHORIZED);
  g_assert_cmpuint(http.get(r.emulator.nevisa_api_url() + "celery-progress/x/").status, ==,
                   SOUP_STATUS_UNAUTHORIZED);
  const auto recs = r.emulator.rest_requests();
  g_assert_cmpuint(recs.size(), ==, 3);
  for (const auto &rec : recs) {
    ASSERT_STR_EQ(rec.fault, "http-401");
    g_assert_cmpint(rec.status, ==, 401);
  }
  ASSERT_STR_EQ(recs[0].kind, "nevisa-login");
  ASSERT_STR_EQ(recs[1].kind, "harf-transcribe");
  ASSERT_STR_EQ(recs[2].kind, "nevisa-progress");
}

// throttle 2 then error-500 1, across endpoints; unknown paths use up nothing.
void test_fault_throttle_500()
{
  emu::Options o;
  o.throttle_count = 2;
  o.retry_after_s = 7;
  o.error_500_count = 1;
  Running r(o);
  Http http;
  const std::string base = "http://127.0.0.1:" + std::to_string(r.emulator.port());
  g_assert_cmpuint(http.get(base + "/nowhere").status, ==, SOUP_STATUS_NOT_FOUND);
  HttpReply rep = http.post_json(r.emulator.nevisa_login_url(), kLoginJson);
  g_assert_cmpuint(rep.status, ==, 429);
  ASSERT_STR_EQ(rep.retry_after, "7");
  ASSERT_STR_EQ(rep.body, "{\"detail\":\"Request was throttled.\"}");
  rep = Form()
            .file("media", "a.wav", "audio/wav", two_bursts())
            .post(http, r.emulator.harf_api_url());
  g_assert_cmpuint(rep.status, ==, 429);
  rep = http.post_json(r.emulator.nevisa_login_url(), kLoginJson);
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_INTERNAL_SERVER_ERROR);
  g_assert_true(g_str_has_prefix(rep.content_type.c_str(), "text/html"));
  g_assert_true(contains(rep.body, "<html"));
  g_assert_false(is_json(rep.body));
  login_ok(http.post_json(r.emulator.nevisa_login_url(), kLoginJson));
  g_assert_cmpuint(Form()
                       .file("media", "a.wav", "audio/wav", two_bursts())
                       .post(http, r.emulator.harf_api_url())
                       .status,
                   ==, SOUP_STATUS_OK);

  const auto recs = r.emulator.rest_requests();
  g_assert_cmpuint(recs.size(), ==, 6);
  const char *faults[] = {"", "throttle", "throttle", "error-500", "", ""};
  const int statuses[] = {404, 429, 429, 500, 200, 200};
  const char *kinds[] = {"unknown",      "nevisa-login", "harf-transcribe",
                         "nevisa-login", "nevisa-login", "harf-transcribe"};
  for (size_t i = 0; i < 6; ++i) {
    ASSERT_STR_EQ(recs[i].fault, faults[i]);
    g_assert_cmpint(recs[i].status, ==, statuses[i]);
    ASSERT_STR_EQ(recs[i].kind, kinds[i]);
  }
  g_assert_cmpuint(r.emulator.rest_count("nevisa-login"), ==, 3);
  g_assert_cmpuint(r.emulator.rest_count("harf-transcribe"), ==, 2);
  g_assert_cmpuint(r.emulator.rest_count("unknown"), ==, 1);
}

// not_json: 200 answers are HTML (state still advances); error answers stay JSON.
void test_fault_not_json()
{
  emu::Options o;
  o.not_json = true;
  o.token = "secret";
  Running r(o);
  Http http;
  HttpReply rep = http.post_json(r.emulator.nevisa_login_url(), kLoginJson);
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_OK);
  g_assert_true(g_str_has_prefix(rep.content_type.c_str(), "text/html"));
  g_assert_false(is_json(rep.body));
  rep = Form()
            .file("media", "a.wav", "audio/wav", two_bursts())
            .post(http, r.emulator.harf_api_url(), "Token wrong");
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_UNAUTHORIZED);
  g_assert_true(is_json(rep.body));
  const auto progress = http.get(r.emulator.nevisa_api_url() + "celery-progress/x/");
  g_assert_cmpuint(progress.status, ==, SOUP_STATUS_OK);
  g_assert_false(is_json(progress.body));
  const auto recs = r.emulator.rest_requests();
  ASSERT_STR_EQ(recs[0].fault, "not-json");
  ASSERT_STR_EQ(recs[1].fault, "");
  ASSERT_STR_EQ(recs[2].fault, "not-json");
  g_assert_true(contains(recs[0].answer, "<html"));
}

// A 30-minute 16 kHz mono WAV (57.6 MB): streamed, hashed and analysed.
void test_rest_large_upload()
{
  emu::Options o;
  o.script = {"آغاز"};
  Running r(o);
  const uint32_t rate = 16000, seconds = 1800;
  std::vector<int16_t> pcm;
  pcm.reserve(size_t(rate) * seconds);
  for (uint32_t s = 0; s < seconds; ++s)
    append(pcm, 1, s % 600 == 0);  // 1 s of tone every 10 minutes
  const std::vector<uint8_t> wav = make_wav(pcm);
  pcm = {};
  g_assert_cmpuint(wav.size(), ==, 57600044);
  Http http;
  const HttpReply rep =
      Form().file("media", "long.wav", "audio/wav", wav).post(http, r.emulator.harf_api_url());
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_OK);
  check_harf_result(json_array_get_object_element(Json(rep.body).array(), 0), "long.wav", "0:30:00",
                    {{"0:00:00", "0:00:01", "آغاز"},
                     {"0:10:00", "0:10:01", "این یک متن آزمایشی است"},
                     {"0:20:00", "0:20:01", "این یک متن آزمایشی است"}},
                    11, 11);
  const auto rec = r.emulator.rest_requests().at(0);
  g_assert_cmpuint(rec.body_size, >, wav.size());
  g_assert_cmpuint(rec.parts.at(0).size, ==, wav.size());
  ASSERT_STR_EQ(rec.parts[0].sha256, sha256(wav));
}

// ---------------------------------------------------------------------------
// Fault switches for a client test matrix: one test each, showing the emulator does it.

std::string bytes_of(const std::vector<uint8_t> &v, size_t off = 0, size_t n = std::string::npos)
{
  const size_t end = n == std::string::npos ? v.size() : std::min(v.size(), off + n);
  return std::string(v.begin() + long(off), v.begin() + long(end));
}

std::string sha256_of(const std::string &s)
{
  g_autofree char *h = g_compute_checksum_for_data(
      G_CHECKSUM_SHA256, reinterpret_cast<const guchar *>(s.data()), s.size());
  return h;
}

// 1 s of tone, 1 s of silence, 1.5 s of tone: the second segment is only complete at finalize.
std::vector<uint8_t> ends_in_speech()
{
  std::vector<int16_t> pcm;
  append(pcm, 1, true), append(pcm, 1, false), append(pcm, 1.5, true);
  return make_wav(pcm);
}

// handshake_status with retry_after and handshake_fail_count; then every handshake failing.
void test_fault_handshake_status()
{
  emu::Options o;
  o.token = "secret";
  o.handshake_status = 429;
  o.retry_after = "3";
  o.handshake_fail_count = 2;
  o.script = kScript;
  Running r(o);
  for (int i = 0; i < 2; ++i) {
    Client c;
    g_assert_false(c.connect(r.emulator.harf_live_url(), "Token secret"));
    g_assert_cmpuint(c.status(), ==, 429);
    ASSERT_STR_EQ(c.response_header("Retry-After"), "3");
  }
  Client c;  // the third attempt succeeds and works normally
  g_assert_true(c.connect(r.emulator.harf_live_url(), "Token secret"));
  c.lockstep(two_bursts());
  c.send_text("finalize");
  g_assert_true(c.wait_closed());
  g_assert_cmpuint(c.close_code(), ==, SOUP_WEBSOCKET_CLOSE_NORMAL);
  g_assert_true(r.emulator.wait_closed(1, kWaitMs));
  g_assert_cmpint(r.emulator.handshake_count(), ==, 3);
  g_assert_cmpuint(r.emulator.sessions().size(), ==, 1);
  g_assert_cmpuint(r.emulator.sessions()[0].segments.size(), ==, 2);

  // 500 on every handshake (fail count 0), no Retry-After, an HTML page; checked before the token.
  emu::Options all;
  all.token = "secret";
  all.handshake_status = 500;
  Running r2(all);
  for (int i = 0; i < 3; ++i) {
    Client d;
    g_assert_false(d.connect(r2.emulator.harf_live_url(), "Token wrong"));
    g_assert_cmpuint(d.status(), ==, SOUP_STATUS_INTERNAL_SERVER_ERROR);
    ASSERT_STR_EQ(d.response_header("Retry-After"), "");
    g_assert_true(g_str_has_prefix(d.response_header("Content-Type").c_str(), "text/html"));
  }
  g_assert_cmpint(r2.emulator.handshake_count(), ==, 3);
  g_assert_cmpuint(r2.emulator.sessions().size(), ==, 0);
}

// close_after with close_code and close_count: the first connection is closed with 4001, the
// reconnection works; each session records the audio bytes it received.
void test_fault_close_code_count()
{
  emu::Options o;
  o.close_after = 2;
  o.close_code = 4001;
  o.close_count = 1;
  o.script = kScript;
  Running r(o);
  const auto wav = two_bursts();
  Client a;
  g_assert_true(a.connect(r.emulator.harf_live_url(), nullptr));
  a.send_binary(wav, 0, kWindow);
  g_assert_true(a.wait_texts(1));
  a.send_binary(wav, kWindow, kWindow);
  g_assert_true(a.wait_closed());
  g_assert_cmpuint(a.close_code(), ==, 4001);
  g_assert_cmpuint(a.texts.size(), ==, 1);

  Client b;  // the replay: all of it, from the start
  g_assert_true(b.connect(r.emulator.harf_live_url(), nullptr));
  b.lockstep(wav);
  b.send_text("finalize");
  g_assert_true(b.wait_closed());
  g_assert_cmpuint(b.close_code(), ==, SOUP_WEBSOCKET_CLOSE_NORMAL);
  g_assert_true(r.emulator.wait_closed(2, kWaitMs));

  const auto s = r.emulator.sessions();
  ASSERT_STR_EQ(s[0].fault, "close-after");
  g_assert_false(s[0].finished);
  g_assert_cmpuint(s[0].audio_bytes, ==, 2 * kWindow);
  g_assert_true(s[0].audio == bytes_of(wav, 0, 2 * kWindow));
  ASSERT_STR_EQ(s[0].audio_sha256, sha256_of(bytes_of(wav, 0, 2 * kWindow)));
  ASSERT_STR_EQ(s[1].fault, "");
  g_assert_true(s[1].finished);
  g_assert_cmpuint(s[1].segments.size(), ==, 2);
  g_assert_cmpuint(s[1].audio_bytes, ==, wav.size());
  g_assert_true(s[1].audio == bytes_of(wav));
  ASSERT_STR_EQ(s[1].audio_sha256, sha256(wav));

  // A code libsoup will not send (1013, try again later) goes out as a raw close frame;
  // record_audio_max caps the recorded bytes, not the hash.
  emu::Options raw;
  raw.close_after = 2;
  raw.close_code = 1013;
  raw.record_audio_max = 100;
  Running r2(raw);
  for (int i = 0; i < 2; ++i) {  // close_count 0: every connection
    Client c;
    g_assert_true(c.connect(r2.emulator.harf_live_url(), nullptr));
    c.send_binary(wav, 0, kWindow);
    g_assert_true(c.wait_texts(1));
    c.send_binary(wav, kWindow, kWindow);
    g_assert_true(c.wait_closed());
    g_assert_cmpuint(c.close_code(), ==, 1013);
  }
  g_assert_true(r2.emulator.wait_closed(2, kWaitMs));
  for (const auto &rec : r2.emulator.sessions()) {
    ASSERT_STR_EQ(rec.fault, "close-after");
    g_assert_true(rec.audio == bytes_of(wav, 0, 100));
    ASSERT_STR_EQ(rec.audio_sha256, sha256_of(bytes_of(wav, 0, 2 * kWindow)));
  }
}

// close_on_finalize: closed (close_code) at finalize, the last segment never sent.
void test_fault_close_on_finalize()
{
  emu::Options o;
  o.close_on_finalize = true;
  o.close_code = 1011;
  o.script = kScript;
  Running r(o);
  Client c;
  g_assert_true(c.connect(r.emulator.harf_live_url(), nullptr));
  c.lockstep(ends_in_speech());
  c.send_text("finalize");
  g_assert_true(c.wait_closed());
  g_assert_cmpuint(c.close_code(), ==, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR);
  g_assert_true(r.emulator.wait_closed(1, kWaitMs));
  const auto s = r.emulator.sessions()[0];
  ASSERT_STR_EQ(s.fault, "close-on-finalize");
  g_assert_false(s.finished);
  g_assert_cmpuint(s.segments.size(), ==, 1);  // the second one was due at finalize
  g_assert_true(c.texts == s.replies);
}

// reset_on_finalize: the TCP connection is aborted (no close frame); close_count 1 lets the
// reconnection finish normally.
void test_fault_reset_on_finalize()
{
  emu::Options o;
  o.reset_on_finalize = true;
  o.close_count = 1;
  o.script = kScript;
  Running r(o);
  const auto wav = ends_in_speech();
  Client a;
  g_assert_true(a.connect(r.emulator.harf_live_url(), nullptr));
  a.lockstep(wav);
  a.send_text("finalize");
  g_assert_true(a.wait_closed());
  g_assert_cmpuint(a.close_code(), ==, 0);  // no close frame came
  g_assert_true(a.error);                   // the read failed (reset)
  Client b;
  g_assert_true(b.connect(r.emulator.harf_live_url(), nullptr));
  b.lockstep(wav);
  b.send_text("finalize");
  g_assert_true(b.wait_closed());
  g_assert_cmpuint(b.close_code(), ==, SOUP_WEBSOCKET_CLOSE_NORMAL);
  g_assert_true(r.emulator.wait_closed(2, kWaitMs));
  const auto s = r.emulator.sessions();
  ASSERT_STR_EQ(s[0].fault, "reset-on-finalize");
  g_assert_false(s[0].finished);
  g_assert_cmpuint(s[0].segments.size(), ==, 1);
  ASSERT_STR_EQ(s[1].fault, "");
  g_assert_true(s[1].finished);
  g_assert_cmpuint(s[1].segments.size(), ==, 2);
}

// binary_reply: the first window's reply is a binary frame; no segment is lost.
void test_fault_binary_reply()
{
  emu::Options o;
  o.binary_reply = true;
  o.script = kScript;
  Running r(o);
  Client c;
  g_assert_true(c.connect(r.emulator.harf_live_url(), nullptr));
  const auto wav = two_bursts();
  c.send_binary(wav, 0, kWindow);
  g_assert_true(c.wait_binaries(1));
  ASSERT_STR_EQ(c.binaries[0], "{\"state\": \"PENDING\"}");
  g_assert_cmpuint(c.texts.size(), ==, 0);
  for (size_t off = kWindow; off < wav.size(); off += kWindow) {
    const size_t expected = c.texts.size() + 1;
    c.send_binary(wav, off, std::min(kWindow, wav.size() - off));
    g_assert_true(c.wait_texts(expected));
  }
  c.send_text("finalize");
  g_assert_true(c.wait_closed());
  g_assert_true(r.emulator.wait_closed(1, kWaitMs));
  const auto s = r.emulator.sessions()[0];
  g_assert_cmpint(s.binary_replies, ==, 1);
  g_assert_cmpuint(s.segments.size(), ==, 2);
  g_assert_true(s.replies == c.texts);
}

// huge_reply_bytes: one text message of exactly that size, a valid segment.
void test_fault_huge_reply()
{
  emu::Options o;
  o.huge_reply_bytes = 1u << 20;
  Running r(o);
  const auto wav = two_bursts();
  Client c;
  g_assert_true(c.connect(r.emulator.harf_live_url(), nullptr));
  c.set_max_payload(4u << 20);
  c.send_binary(wav, 0, kWindow);
  g_assert_true(c.wait_texts(1));
  g_assert_cmpuint(c.texts[0].size(), ==, 1u << 20);
  {
    Json j(c.texts[0]);
    g_assert_cmpint(json_object_get_int_member(j.obj(), "segment_id"), ==, 904);
    g_assert_cmpuint(str(j.obj(), "text").size(), >, 1000000);
  }
  c.close();
  g_assert_true(c.wait_closed());
  // A client with libsoup's default limit (128 KiB) fails the connection.
  Client d;
  g_assert_true(d.connect(r.emulator.harf_live_url(), nullptr));
  d.send_binary(wav, 0, kWindow);
  g_assert_true(d.wait_closed());
  g_assert_cmpuint(d.texts.size(), ==, 0);
  g_assert_true(r.emulator.wait_closed(2, kWaitMs));
  const auto s = r.emulator.sessions()[0];
  g_assert_cmpuint(s.reply_sizes.at(0), ==, 1u << 20);
  g_assert_cmpuint(s.replies.at(0).size(), ==, 64u << 10);  // recorded cut
  g_assert_cmpuint(s.segments.size(), ==, 0);
}

// impossible_times: 27:00:00-27:00:05 first, then a segment ending before it starts.
void test_fault_impossible_times()
{
  emu::Options o;
  o.impossible_times = true;
  o.script = kScript;
  Running r(o);
  Client c;
  g_assert_true(c.connect(r.emulator.harf_live_url(), nullptr));
  c.lockstep(two_bursts());
  c.send_text("finalize");
  g_assert_true(c.wait_closed());
  {
    Json j(c.texts.at(0));
    ASSERT_STR_EQ(str(j.obj(), "start"), "27:00:00");
    ASSERT_STR_EQ(str(j.obj(), "end"), "27:00:05");
    g_assert_cmpint(json_object_get_int_member(j.obj(), "segment_id"), ==, 901);
  }
  {
    Json j(c.texts.at(1));
    ASSERT_STR_EQ(str(j.obj(), "start"), "0:00:05");
    ASSERT_STR_EQ(str(j.obj(), "end"), "0:00:02");
  }
  g_assert_true(r.emulator.wait_closed(1, kWaitMs));
  const auto s = r.emulator.sessions()[0];
  g_assert_cmpuint(s.segments.size(), ==, 2);  // the real ones, ids 1 and 2
  g_assert_cmpint(s.segments[0].id, ==, 1);
  g_assert_cmpint(s.segments[1].id, ==, 2);
}

// invalid_utf8: raw 0xFF 0xFE in the first text frame; libsoup's client refuses it (1007).
// lone_surrogate: the escape \udcff, which passes libsoup.
void test_fault_invalid_utf8_live()
{
  emu::Options o;
  o.invalid_utf8 = true;
  Running r(o);
  Client c;
  g_assert_true(c.connect(r.emulator.harf_live_url(), nullptr));
  c.send_binary(two_bursts(), 0, kWindow);
  g_assert_true(c.wait_closed());
  g_assert_true(c.error);
  g_assert_cmpuint(c.texts.size(), ==, 0);
  g_assert_true(r.emulator.wait_closed(1, kWaitMs));
  const auto s = r.emulator.sessions()[0];
  g_assert_cmpuint(s.replies.size(), ==, 1);
  g_assert_true(contains(s.replies[0], "\xFF\xFE"));
  g_assert_false(g_utf8_validate(s.replies[0].data(), gssize(s.replies[0].size()), nullptr));

  emu::Options l;
  l.lone_surrogate = true;
  Running r2(l);
  Client d;
  g_assert_true(d.connect(r2.emulator.harf_live_url(), nullptr));
  d.send_binary(two_bursts(), 0, kWindow);
  g_assert_true(d.wait_texts(1));
  g_assert_true(contains(d.texts[0], "\\udcff"));
  g_assert_true(g_utf8_validate(d.texts[0].data(), gssize(d.texts[0].size()), nullptr));
  g_assert_false(d.error);
}

// invalid_utf8 and lone_surrogate in REST bodies: Harf's first segment text, Nevisa's first word.
void test_fault_invalid_utf8_rest()
{
  for (bool raw : {true, false}) {
    emu::Options o;
    o.invalid_utf8 = raw;
    o.lone_surrogate = !raw;
    o.script = kScript;
    o.progress_steps = 0;
    Running r(o);
    Http http;
    const char *needle = raw ? "\xFF\xFE" : "\\udcff";
    HttpReply rep = Form()
                        .file("media", "a.wav", "audio/wav", two_bursts())
                        .post(http, r.emulator.harf_api_url());
    g_assert_cmpuint(rep.status, ==, SOUP_STATUS_OK);
    g_assert_true(contains(rep.body, kScript[0] + " " + needle));
    g_assert_true(contains(rep.body, "\"text\":\"" + kScript[1] + "\""));  // only the first
    g_assert_true(g_utf8_validate(rep.body.data(), gssize(rep.body.size()), nullptr) == !raw);
    const std::string progress =
        recognize(http, r.emulator, "nevisa-static-token", "nevisa-static-key").first;
    check_progress(http.get(progress), "PENDING", false, 0);
    rep = http.get(progress);
    g_assert_true(contains(rep.body, "\"word\":\"سلام " + std::string(needle) + "\""));
    g_assert_true(g_utf8_validate(rep.body.data(), gssize(rep.body.size()), nullptr) == !raw);
  }
}

// wrong_types: numbers, booleans, strings and arrays where other types belong.
void test_fault_wrong_types()
{
  emu::Options o;
  o.wrong_types = true;
  o.script = kScript;
  Running r(o);
  Client c;
  g_assert_true(c.connect(r.emulator.harf_live_url(), nullptr));
  c.lockstep(two_bursts());
  c.send_text("finalize");
  g_assert_true(c.wait_closed());
  {
    Json j(c.texts.at(0));
    JsonNode *id = json_object_get_member(j.obj(), "segment_id");
    g_assert_cmpint(json_node_get_value_type(id), ==, G_TYPE_DOUBLE);
    g_assert_cmpfloat(json_node_get_double(id), ==, 1e30);
    g_assert_cmpint(json_node_get_value_type(json_object_get_member(j.obj(), "text")), ==,
                    G_TYPE_INT64);
    g_assert_cmpint(json_node_get_value_type(json_object_get_member(j.obj(), "start")), ==,
                    G_TYPE_BOOLEAN);
  }
  {
    Json j(c.texts.at(1));
    ASSERT_STR_EQ(str(j.obj(), "segment_id"), "abc");
    g_assert_true(JSON_NODE_HOLDS_ARRAY(json_object_get_member(j.obj(), "end")));
  }
  g_assert_true(r.emulator.wait_closed(1, kWaitMs));
  g_assert_cmpuint(r.emulator.sessions()[0].segments.size(), ==, 2);
}

// deep_json_depth: the first reply is arrays nested that deep.
void test_fault_deep_json_live()
{
  emu::Options o;
  o.deep_json_depth = 100000;
  Running r(o);
  Client c;
  g_assert_true(c.connect(r.emulator.harf_live_url(), nullptr));
  c.set_max_payload(1u << 20);  // libsoup's default is 128 KiB
  c.send_binary(two_bursts(), 0, kWindow);
  g_assert_true(c.wait_texts(1));
  g_assert_true(c.texts[0] == std::string(100000, '[') + std::string(100000, ']'));
}

// harf_state_type: "state" is raw JSON in the wait=false answer and in polls.
void test_fault_harf_state_type()
{
  emu::Options o;
  o.harf_state_type = "5";
  Running r(o);
  Http http;
  const std::string url = r.emulator.harf_api_url();
  HttpReply rep = Form()
                      .field("wait", "false")
                      .file("media", "a.wav", "audio/wav", two_bursts())
                      .post(http, url);
  std::string id;
  {
    Json j(rep.body);
    g_assert_cmpint(json_object_get_int_member(j.obj(), "state"), ==, 5);
    id = json_array_get_string_element(json_object_get_array_member(j.obj(), "task_ids"), 0);
  }
  rep = http.post_json(url, "{\"tasks_ids\": [\"" + id + "\"], \"wait\": false}");
  ASSERT_STR_EQ(rep.body, "{\"state\":5}");
}

// harf_segments_value: "segments" of a finished result is raw JSON.
void test_fault_harf_segments_value()
{
  emu::Options o;
  o.harf_segments_value = "\"nope\"";
  Running r(o);
  Http http;
  const HttpReply rep = Form()
                            .file("media", "a.wav", "audio/wav", two_bursts())
                            .post(http, r.emulator.harf_api_url());
  Json j(rep.body);
  JsonObject *res = json_array_get_object_element(j.array(), 0);
  ASSERT_STR_EQ(str(res, "segments"), "nope");
  ASSERT_STR_EQ(str(res, "duration"), "0:00:04");
}

// http_deep_json_depth on one target; other endpoints answer as usual.
void test_fault_http_deep_json()
{
  emu::Options o;
  o.http_deep_json_depth = 5000;
  o.http_deep_target = "harf-poll";
  Running r(o);
  Http http;
  const std::string url = r.emulator.harf_api_url();
  HttpReply rep = Form()
                      .field("wait", "false")
                      .file("media", "a.wav", "audio/wav", two_bursts())
                      .post(http, url);
  const std::string id = json_array_get_string_element(
      json_object_get_array_member(Json(rep.body).obj(), "task_ids"), 0);
  rep = http.post_json(url, "{\"tasks_ids\": [\"" + id + "\"], \"wait\": false}");
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_OK);
  g_assert_true(rep.body == std::string(5000, '[') + std::string(5000, ']'));
  const auto recs = r.emulator.rest_requests();
  ASSERT_STR_EQ(recs[0].fault, "");
  ASSERT_STR_EQ(recs[1].fault, "deep-json");

  emu::Options n;
  n.http_deep_json_depth = 3;
  n.http_deep_target = "nevisa-upload";
  Running r2(n);
  rep = Form()
            .field("auth_token", "nevisa-static-token")
            .field("api_key", "nevisa-static-key")
            .file("file", "a.wav", "audio/wav", two_bursts())
            .post(http, r2.emulator.nevisa_api_url() + "recognize-file");
  ASSERT_STR_EQ(rep.body, "[[[]]]");
  login_ok(http.post_json(r2.emulator.nevisa_login_url(), kLoginJson));
}

// VmRSS of this process, in kB.
long rss_kb()
{
  g_autofree char *status = nullptr;
  if (!g_file_get_contents("/proc/self/status", &status, nullptr, nullptr))
    return 0;
  const char *line = strstr(status, "VmRSS:");
  return line ? strtol(line + 6, nullptr, 10) : 0;
}

// http_huge_body_bytes: valid JSON of the exact size; 400 MB streamed without the emulator
// holding them (the client here discards what it reads, so this process must stay small).
void test_fault_http_huge_body()
{
  {
    emu::Options o;
    o.http_huge_body_bytes = 1u << 20;
    o.http_huge_target = "nevisa-login";
    Running r(o);
    Http http;
    const HttpReply rep = http.post_json(r.emulator.nevisa_login_url(), kLoginJson);
    g_assert_cmpuint(rep.body.size(), ==, 1u << 20);
    login_ok(rep);  // still the login answer
    g_assert_cmpuint(str(Json(rep.body).obj(), "padding").size(), >, 1000000);
    const auto rec = r.emulator.rest_requests()[0];
    ASSERT_STR_EQ(rec.fault, "huge-body");
    g_assert_cmpuint(rec.answer_size, ==, 1u << 20);
    g_assert_true(g_str_has_prefix(rec.answer.c_str(), "{\"padding\":\"xxx"));
  }
  const uint64_t total = 400ull << 20;
  emu::Options o;
  o.http_huge_body_bytes = total;
  o.http_huge_target = "nevisa-progress";
  Running r(o);
  Ptr<SoupSession> session(soup_session_new_with_options("timeout", 20u, nullptr));
  const std::string url = r.emulator.nevisa_api_url() + "celery-progress/x/";
  Ptr<SoupMessage> msg(soup_message_new("GET", url.c_str()));
  const long rss0 = rss_kb();
  long rss_max = rss0;
  GError *error = nullptr;
  Ptr<GInputStream> in(soup_session_send(session.get(), msg.get(), nullptr, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(soup_message_get_status(msg.get()), ==, SOUP_STATUS_OK);
  g_assert_cmpint(soup_message_headers_get_encoding(soup_message_get_response_headers(msg.get())),
                  ==, SOUP_ENCODING_CHUNKED);
  std::vector<char> buf(1u << 20);
  uint64_t got = 0;
  std::string start, end;
  for (int i = 0;; ++i) {
    const gssize n = g_input_stream_read(in.get(), buf.data(), buf.size(), nullptr, &error);
    g_assert_no_error(error);
    if (n <= 0)
      break;
    if (start.size() < 64)
      start.append(buf.data(), size_t(std::min<gssize>(n, 64)));
    end = (end + std::string(buf.data(), size_t(n)));
    if (end.size() > 256)
      end.erase(0, end.size() - 256);
    got += uint64_t(n);
    if (i % 64 == 0)
      rss_max = std::max(rss_max, rss_kb());
  }
  rss_max = std::max(rss_max, rss_kb());
  g_assert_cmpuint(got, ==, total);
  g_assert_true(g_str_has_prefix(start.c_str(), "{\"padding\":\"xxxx"));
  g_assert_true(g_str_has_suffix(end.c_str(), "}}"));  // ...the PENDING answer's end
  g_assert_true(contains(end, "\"state\":\"PENDING\""));
  /* Under AddressSanitizer (scripts/test-sanitizers sets PT_UNDER_ASAN)
   * RSS measures its shadow memory and quarantine, not the emulator: the
   * bound is left out there, as for the suite's other RSS checks. */
  if (!g_getenv("PT_UNDER_ASAN"))
    g_assert_cmpint(rss_max - rss0, <, 64 * 1024);
  g_test_message("400 MB streamed; RSS grew by %ld kB", rss_max - rss0);
}

void check_percent(const HttpReply &rep, double percent)
{
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_OK);
  Json j(rep.body);
  ASSERT_STR_EQ(str(j.obj(), "state"), "PROGRESS");
  JsonObject *p = json_object_get_object_member(j.obj(), "progress");
  g_assert_cmpfloat(json_object_get_double_member(p, "percent"), ==, percent);
}

// nevisa_percent_sequence: the percents of successive polls, then SUCCESS.
void test_fault_nevisa_percent_sequence()
{
  emu::Options o;
  o.nevisa_percent_sequence = {80, 40, 10, -50, 1e9};
  Running r(o);
  Http http;
  const std::string progress =
      recognize(http, r.emulator, "nevisa-static-token", "nevisa-static-key").first;
  for (double p : o.nevisa_percent_sequence)
    check_percent(http.get(progress), p);
  check_progress(http.get(progress), "SUCCESS", true, 100);
}

// nevisa_first_word_no_start: the first word has no "start"; the others do.
void test_fault_nevisa_first_word_no_start()
{
  emu::Options o;
  o.nevisa_first_word_no_start = true;
  o.progress_steps = 0;
  o.script = kScript;
  Running r(o);
  Http http;
  const std::string progress =
      recognize(http, r.emulator, "nevisa-static-token", "nevisa-static-key").first;
  check_progress(http.get(progress), "PENDING", false, 0);
  const HttpReply rep = http.get(progress);
  check_progress(rep, "SUCCESS", true, 100);
  Json j(rep.body);
  JsonArray *words = json_object_get_array_member(
      json_object_get_object_member(json_object_get_object_member(j.obj(), "result"),
                                    "transcription"),
      "result");
  g_assert_false(json_object_has_member(json_array_get_object_element(words, 0), "start"));
  g_assert_true(json_object_has_member(json_array_get_object_element(words, 0), "end"));
  g_assert_true(json_object_has_member(json_array_get_object_element(words, 1), "start"));
}

// nevisa_progress_fail: 500, not-json, hang and bad-url.
void test_fault_nevisa_progress_fail()
{
  {
    emu::Options o;
    o.nevisa_progress_fail = "500";
    Running r(o);
    Http http;
    const std::string progress =
        recognize(http, r.emulator, "nevisa-static-token", "nevisa-static-key").first;
    for (int i = 0; i < 3; ++i) {
      const HttpReply rep = http.get(progress);
      g_assert_cmpuint(rep.status, ==, SOUP_STATUS_INTERNAL_SERVER_ERROR);
      g_assert_true(contains(rep.body, "<html"));
    }
    ASSERT_STR_EQ(r.emulator.rest_requests().back().fault, "progress-500");
  }
  {
    emu::Options o;
    o.nevisa_progress_fail = "not-json";
    Running r(o);
    Http http;
    const std::string progress =
        recognize(http, r.emulator, "nevisa-static-token", "nevisa-static-key").first;
    const HttpReply rep = http.get(progress);
    g_assert_cmpuint(rep.status, ==, SOUP_STATUS_OK);
    g_assert_false(is_json(rep.body));
    ASSERT_STR_EQ(r.emulator.rest_requests().back().fault, "progress-not-json");
  }
  {
    emu::Options o;
    o.nevisa_progress_fail = "bad-url";
    Running r(o);
    Http http;
    const HttpReply rep = Form()
                              .field("auth_token", "nevisa-static-token")
                              .field("api_key", "nevisa-static-key")
                              .file("file", "a.wav", "audio/wav", two_bursts())
                              .post(http, r.emulator.nevisa_api_url() + "recognize-file");
    const std::string url = str(Json(rep.body).obj(), "progress_url");
    ASSERT_STR_EQ(url, "http://[::1");
    g_assert_null(g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, nullptr));
    ASSERT_STR_EQ(r.emulator.rest_requests().back().fault, "bad-progress-url");
  }
  {
    emu::Options o;
    o.nevisa_progress_fail = "hang";
    Running r(o);
    Http setup;
    const std::string progress =
        recognize(setup, r.emulator, "nevisa-static-token", "nevisa-static-key").first;
    Ptr<GCancellable> cancel(g_cancellable_new());
    HttpReply rep;
    std::thread client([&] {
      Http http;
      http.cancellable = cancel.get();
      http.tolerate_errors = true;
      rep = http.get(progress);
    });
    const bool held = r.emulator.wait_rest(
        [](const std::vector<emu::RestRecord> &v) {
          return v.size() == 2 && v[1].status == 0 && v[1].fault == "progress-hang";
        },
        kWaitMs);
    g_cancellable_cancel(cancel.get());
    client.join();
    g_assert_true(held);
    g_assert_cmpuint(rep.status, ==, 0);
    g_assert_true(r.emulator.wait_rest(
        [](const std::vector<emu::RestRecord> &v) { return v[1].fault == "disconnected"; },
        kWaitMs));
  }
}

// 429 with Retry-After: retry_after as an HTTP date, no header at all, one endpoint only.
void test_fault_throttle_variants()
{
  emu::Options o;
  o.throttle_count = 1;
  o.retry_after = "Wed, 21 Oct 2015 07:28:00 GMT";
  o.rest_fault_target = "nevisa-progress";
  Running r(o);
  Http http;
  login_ok(http.post_json(r.emulator.nevisa_login_url(), kLoginJson));  // not the target
  const std::string progress =
      recognize(http, r.emulator, "nevisa-static-token", "nevisa-static-key").first;
  HttpReply rep = http.get(progress);
  g_assert_cmpuint(rep.status, ==, 429);
  ASSERT_STR_EQ(rep.retry_after, "Wed, 21 Oct 2015 07:28:00 GMT");
  check_progress(http.get(progress), "PENDING", false, 0);  // throttled polls change nothing

  emu::Options n;
  n.throttle_count = 2;
  n.throttle_no_retry_after = true;
  Running r2(n);
  rep = http.post_json(r2.emulator.nevisa_login_url(), kLoginJson);
  g_assert_cmpuint(rep.status, ==, 429);
  ASSERT_STR_EQ(rep.retry_after, "");
}

// ---------------------------------------------------------------------------
// Nevisa live (/onlineASR6), driven by the same libsoup WebSocket client. Credentials go in the
// query; the server speaks first (INIT); subjects REQ, SOES, EOES; audio as binary messages.

constexpr char kReq[] =
    "{\"subject\":\"REQ\",\"mode\":\"stream-custom-raw\",\"guid\":\"\",\"engine\":\"1\","
    "\"decoding-info\":{\"sample-rate\":16000,\"ref-text\":\"\"}}";
constexpr char kSoes[] = "{\"subject\":\"SOES\"}";
constexpr char kEoes[] = "{\"subject\":\"EOES\"}";
constexpr char kInit[] = "{\"subject\":\"INIT\"}";
constexpr char kReqResponse[] = "{\"subject\":\"REQ-RESPONSE\",\"status\":\"OK\"}";
constexpr char kSoesResponse[] = "{\"subject\":\"SOES-RESPONSE\",\"status\":\"OK\"}";
constexpr char kEoesResponse[] = "{\"subject\":\"EOES-RESPONSE\",\"status\":\"OK\"}";
const std::vector<std::string> kNevisaScript = {"سلام به همه دوستان عزیز من", "امروز هوا خوب است"};
constexpr size_t kMessageSamples = 8000;  // 500 ms at 16 kHz

std::string nevisa_live_url(const emu::Emulator &e, const std::string &token,
                            const std::string &key)
{
  g_autofree char *t = g_uri_escape_string(token.c_str(), nullptr, FALSE);
  g_autofree char *k = g_uri_escape_string(key.c_str(), nullptr, FALSE);
  return e.nevisa_live_url() + "?Authorization=" + t + "&api-key=" + k;
}

// The URL with Options' default static pair.
std::string static_url(const emu::Emulator &e)
{
  const emu::Options defaults;
  return nevisa_live_url(e, defaults.nevisa_static_token, defaults.nevisa_static_key);
}

std::vector<uint8_t> raw_pcm(const std::vector<int16_t> &pcm)
{
  std::vector<uint8_t> out;
  for (int16_t s : pcm)
    out.push_back(uint8_t(uint16_t(s) & 0xFF)), out.push_back(uint8_t(uint16_t(s) >> 8));
  return out;
}

// pcm cut in 500 ms messages, each a complete WAV file (wav) or raw PCM.
std::vector<std::vector<uint8_t>> audio_messages(const std::vector<int16_t> &pcm, bool wav)
{
  std::vector<std::vector<uint8_t>> out;
  for (size_t off = 0; off < pcm.size(); off += kMessageSamples) {
    const std::vector<int16_t> chunk(
        pcm.begin() + long(off), pcm.begin() + long(std::min(pcm.size(), off + kMessageSamples)));
    out.push_back(wav ? make_wav(chunk) : raw_pcm(chunk));
  }
  return out;
}

void send_all(Client &c, const std::vector<std::vector<uint8_t>> &messages)
{
  for (const auto &m : messages)
    c.send_binary(m, 0, m.size());
}

// Waits until a text equal to `text` arrives after the first `from` texts; its index.
size_t wait_text(Client &c, const char *text, size_t from = 0)
{
  size_t found = SIZE_MAX;
  auto seen = [&] {
    for (size_t i = from; i < c.texts.size(); ++i)
      if (c.texts[i] == text) {
        found = i;
        return true;
      }
    return c.closed;
  };
  g_assert_true(wait_until(seen, kWaitMs));
  g_assert_cmpuint(found, !=, SIZE_MAX);
  return found;
}

// INIT (unless no_init), REQ -> REQ-RESPONSE, SOES -> SOES-RESPONSE: the texts so far.
void open_session(Client &c, size_t from = 0)
{
  c.send_text(kReq);
  from = wait_text(c, kReqResponse, from) + 1;
  c.send_text(kSoes);
  wait_text(c, kSoesResponse, from);
}

// One final's words, parsed: times are JSON numbers in seconds.
struct ParsedWord {
  std::string word;
  double conf, start, end;
};
struct ParsedFinal {
  std::string text;
  std::vector<ParsedWord> words;
};

double number_member(JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member(o, name);
  g_assert_nonnull(n);
  g_assert_true(JSON_NODE_HOLDS_VALUE(n));
  const GType t = json_node_get_value_type(n);
  g_assert_true(t == G_TYPE_DOUBLE || t == G_TYPE_INT64);
  return json_node_get_double(n);
}

// Is text a final ({"transcription":{"result":[...],"text":...}})? Then parsed into f.
bool parse_final(const std::string &text, ParsedFinal *f)
{
  Json j(text);
  JsonObject *t = json_object_get_object_member(j.obj(), "transcription");
  if (!t || !json_object_has_member(t, "result"))
    return false;
  f->text = str(t, "text");
  JsonArray *words = json_object_get_array_member(t, "result");
  for (guint i = 0; i < json_array_get_length(words); ++i) {
    JsonObject *w = json_array_get_object_element(words, i);
    f->words.push_back(ParsedWord{str(w, "word"), number_member(w, "conf"),
                                  number_member(w, "start"), number_member(w, "end")});
  }
  return true;
}

// Is text a partial ({"transcription":{"partial":...}})? Then its text in p.
bool parse_partial(const std::string &text, std::string *p)
{
  Json j(text);
  JsonObject *t = json_object_get_object_member(j.obj(), "transcription");
  if (!t || !json_object_has_member(t, "partial"))
    return false;
  *p = str(t, "partial");
  return true;
}

// A final's words: the line split on spaces, times within [lo, hi] seconds, in order, spread
// over [first, last] (about), every third word with conf 0.4.
void check_final(const ParsedFinal &f, const std::string &line, double first, double last,
                 double audio_s)
{
  ASSERT_STR_EQ(f.text, line);
  g_auto(GStrv) words = g_strsplit(line.c_str(), " ", -1);
  g_assert_cmpuint(f.words.size(), ==, g_strv_length(words));
  double prev_end = 0;
  for (size_t i = 0; i < f.words.size(); ++i) {
    const ParsedWord &w = f.words[i];
    ASSERT_STR_EQ(w.word, words[i]);
    g_assert_cmpfloat(w.conf, ==, i % 3 == 2 ? 0.4 : 0.9);
    g_assert_cmpfloat(w.start, >=, 0);
    g_assert_cmpfloat(w.start, <, w.end);
    g_assert_cmpfloat(w.end, <=, audio_s);
    g_assert_cmpfloat(w.start, >=, prev_end - 1e-9);
    prev_end = w.end;
  }
  g_assert_cmpfloat(std::fabs(f.words.front().start - first), <, 0.05);
  g_assert_cmpfloat(std::fabs(f.words.back().end - last), <, 0.05);
}

bool is_word_prefix(const std::string &prefix, const std::string &line)
{
  return g_str_has_prefix(line.c_str(), prefix.c_str()) &&
         (prefix.size() == line.size() || line[prefix.size()] == ' ');
}

// The whole conversation with one WAV file per message; then a second session on the same
// connection (times and script from the start again).
void test_nevisa_live_conversation()
{
  emu::Options o;
  o.script = kNevisaScript;
  Running r(o);
  ASSERT_STR_EQ(r.emulator.nevisa_live_url(),
                ("ws://127.0.0.1:" + std::to_string(r.emulator.port()) + "/onlineASR6"));
  Client c;
  g_assert_true(c.connect(static_url(r.emulator), nullptr));
  g_assert_true(c.wait_texts(1));
  ASSERT_STR_EQ(c.texts[0], kInit);  // the server speaks first
  c.send_text(kReq);
  g_assert_true(c.wait_texts(2));
  ASSERT_STR_EQ(c.texts[1], kReqResponse);
  c.send_text(kSoes);
  g_assert_true(c.wait_texts(3));
  ASSERT_STR_EQ(c.texts[2], kSoesResponse);

  // 1.5 s of speech, 1 s of silence, 1 s of speech: the second segment ends with EOES.
  std::vector<int16_t> pcm;
  append(pcm, 1.5, true), append(pcm, 1, false), append(pcm, 1, true);
  const auto messages = audio_messages(pcm, true);
  g_assert_cmpuint(messages.size(), ==, 7);
  send_all(c, messages);
  c.send_text(kEoes);
  const size_t eoes = wait_text(c, kEoesResponse, 3);
  g_assert_cmpuint(eoes, ==, c.texts.size() - 1);

  std::vector<ParsedFinal> finals;
  std::vector<std::vector<std::string>> partials(1);  // partials before each final
  for (size_t i = 3; i < eoes; ++i) {
    ParsedFinal f;
    std::string p;
    if (parse_final(c.texts[i], &f)) {
      finals.push_back(f);
      partials.emplace_back();
    } else {
      g_assert_true(parse_partial(c.texts[i], &p));
      partials.back().push_back(p);
    }
  }
  g_assert_cmpuint(finals.size(), ==, 2);
  check_final(finals[0], kNevisaScript[0], 0, 1.5, 3.5);
  check_final(finals[1], kNevisaScript[1], 2.5, 3.5, 3.5);
  // The first segment's partials grow by whole words and never shrink; each is a prefix of the
  // final's text.
  g_assert_cmpuint(partials[0].size(), >=, 2);
  for (size_t i = 0; i < partials[0].size(); ++i) {
    g_assert_true(is_word_prefix(partials[0][i], kNevisaScript[0]));
    if (i)
      g_assert_true(is_word_prefix(partials[0][i - 1], partials[0][i]));
  }
  g_assert_cmpuint(partials[0].back().size(), >, partials[0].front().size());
  for (const auto &p : partials[1])
    g_assert_true(is_word_prefix(p, kNevisaScript[1]));

  // A second session on the same connection: times and script lines start again.
  const size_t before = c.texts.size();
  open_session(c, before);
  std::vector<int16_t> again;
  append(again, 0.6, true), append(again, 0.6, false);
  send_all(c, audio_messages(again, true));
  c.send_text(kEoes);
  const size_t eoes2 = wait_text(c, kEoesResponse, before);
  ParsedFinal f2;
  g_assert_true(parse_final(c.texts[eoes2 - 1], &f2));
  check_final(f2, kNevisaScript[0], 0, 0.6, 1.2);

  c.close();
  g_assert_true(c.wait_closed());
  g_assert_true(r.emulator.wait_nevisa_live(
      [](const std::vector<emu::NevisaLiveRecord> &v) { return v.size() == 1 && v[0].closed; },
      kWaitMs));
  const emu::NevisaLiveRecord s = r.emulator.nevisa_live_sessions().at(0);
  ASSERT_STR_EQ(s.query_authorization, emu::Options().nevisa_static_token);
  ASSERT_STR_EQ(s.query_api_key, emu::Options().nevisa_static_key);
  g_assert_true(s.subjects_received ==
                std::vector<std::string>({"REQ", "SOES", "EOES", "REQ", "SOES", "EOES"}));
  g_assert_cmpint(s.req_sample_rate, ==, 16000);
  ASSERT_STR_EQ(s.req_mode, "stream-custom-raw");
  g_assert_cmpint(s.wav_messages, ==, 7 + 3);
  g_assert_cmpint(s.raw_messages, ==, 0);
  g_assert_cmpuint(s.framing_errors.size(), ==, 0);
  g_assert_false(s.binary_before_soes);
  g_assert_cmpuint(s.binary_sizes.size(), ==, 10);
  g_assert_cmpuint(s.binary_sizes[0], ==, 44 + 2 * kMessageSamples);
  g_assert_cmpuint(s.pcm_bytes, ==, 2 * (pcm.size() + again.size()));
  g_assert_true(s.sent == c.texts);
  g_assert_cmpuint(s.finals.size(), ==, 3);
  ASSERT_STR_EQ(s.finals[1].text, kNevisaScript[1]);
  assert_near_ns(s.finals[0].start_ns, 0), assert_near_ns(s.finals[0].end_ns, 1.5);
  assert_near_ns(s.finals[1].start_ns, 2.5), assert_near_ns(s.finals[1].end_ns, 3.5);
  assert_near_ns(s.finals[2].start_ns, 0), assert_near_ns(s.finals[2].end_ns, 0.6);
  g_assert_cmpint(s.eoes_count, ==, 2);
  g_assert_true(s.closed);
  g_assert_cmpint(s.close_code, ==, SOUP_WEBSOCKET_CLOSE_NORMAL);
  ASSERT_STR_EQ(s.fault, "");
}

// Raw PCM messages; a binary message before SOES; WAV messages that do not match the session.
void test_nevisa_live_raw_framing()
{
  emu::Options o;
  o.script = kNevisaScript;
  Running r(o);
  Client c;
  g_assert_true(c.connect(static_url(r.emulator), nullptr));
  g_assert_true(c.wait_texts(1));
  const std::vector<uint8_t> early(3200, 0);
  c.send_binary(early, 0, early.size());  // before REQ and SOES: ignored
  open_session(c);
  std::vector<int16_t> pcm;
  append(pcm, 1, true), append(pcm, 1, false);
  const auto raw = audio_messages(pcm, false);
  g_assert_cmpuint(raw.size(), ==, 4);
  send_all(c, raw);
  std::vector<int16_t> quiet;
  append(quiet, 0.5, false);
  auto wrong_rate = make_wav(quiet, 8000);  // the REQ said 16000
  auto wrong_size = make_wav(quiet);
  wrong_size[40] ^= 0x02;  // the data size no longer matches the message
  c.send_binary(wrong_rate, 0, wrong_rate.size());
  c.send_binary(wrong_size, 0, wrong_size.size());
  c.send_text(kEoes);
  const size_t eoes = wait_text(c, kEoesResponse);
  ParsedFinal f;
  g_assert_true(parse_final(c.texts[eoes - 1], &f));
  check_final(f, kNevisaScript[0], 0, 1, 3);

  c.close();
  g_assert_true(c.wait_closed());
  g_assert_true(r.emulator.wait_nevisa_live(
      [](const std::vector<emu::NevisaLiveRecord> &v) { return v.size() == 1 && v[0].closed; },
      kWaitMs));
  const emu::NevisaLiveRecord s = r.emulator.nevisa_live_sessions().at(0);
  g_assert_true(s.binary_before_soes);
  g_assert_cmpint(s.raw_messages, ==, 4);
  g_assert_cmpint(s.wav_messages, ==, 2);
  g_assert_cmpuint(s.binary_sizes.size(), ==, 7);
  g_assert_cmpuint(s.binary_sizes[0], ==, 3200);
  g_assert_cmpuint(s.pcm_bytes, ==, 2 * pcm.size() + 2 * 2 * quiet.size());
  g_assert_cmpuint(s.framing_errors.size(), ==, 2);
  g_assert_true(g_str_has_prefix(s.framing_errors[0].c_str(), "message 6: "));
  g_assert_true(contains(s.framing_errors[0], "rate 8000"));
  g_assert_true(g_str_has_prefix(s.framing_errors[1].c_str(), "message 7: "));
  g_assert_true(contains(s.framing_errors[1], "data size"));
  g_assert_cmpuint(s.finals.size(), ==, 1);
}

// Credentials: the static pair, a login's token and key; anything else is 401 (no WebSocket).
// handshake_status applies to this path too.
void test_nevisa_live_credentials()
{
  Running r(emu::Options{});
  const emu::Options defaults;
  Http http;
  const Login login =
      login_ok(http.post_json(r.emulator.nevisa_login_url(),
                              "{\"username_or_phone_or_email\": \"u\", \"password\": \"p\"}"));
  const std::string base = r.emulator.nevisa_live_url();
  for (const std::string &url :
       {nevisa_live_url(r.emulator, "wrong", defaults.nevisa_static_key),
        nevisa_live_url(r.emulator, defaults.nevisa_static_token, "wrong"),
        nevisa_live_url(r.emulator, login.token, defaults.nevisa_static_key),
        nevisa_live_url(r.emulator, "", ""), base, base + "?api-key=" + login.key}) {
    Client c;
    g_assert_false(c.connect(url, nullptr));
    g_assert_cmpuint(c.status(), ==, SOUP_STATUS_UNAUTHORIZED);
  }
  // The same answer to a plain GET, where the body can be read: {"detail": ...}.
  const HttpReply rep = http.get(
      "http" + nevisa_live_url(r.emulator, "wrong", "wrong").substr(2));  // ws:// -> http://
  g_assert_cmpuint(rep.status, ==, SOUP_STATUS_UNAUTHORIZED);
  g_assert_true(json_object_has_member(Json(rep.body).obj(), "detail"));
  g_assert_cmpuint(r.emulator.nevisa_live_sessions().size(), ==, 0);

  Client a, b;
  g_assert_true(a.connect(static_url(r.emulator), nullptr));
  g_assert_true(b.connect(nevisa_live_url(r.emulator, login.token, login.key), nullptr));
  g_assert_true(a.wait_texts(1) && b.wait_texts(1));
  ASSERT_STR_EQ(b.texts[0], kInit);
  g_assert_cmpint(r.emulator.handshake_count(), ==, 8);
  const auto records = r.emulator.nevisa_live_sessions();
  g_assert_cmpuint(records.size(), ==, 2);
  ASSERT_STR_EQ(records[1].query_authorization, login.token);
  ASSERT_STR_EQ(records[1].query_api_key, login.key);

  emu::Options busy;
  busy.handshake_status = 429;
  busy.handshake_fail_count = 1;
  busy.retry_after = "7";
  Running r2(busy);
  Client d;
  g_assert_false(d.connect(static_url(r2.emulator), nullptr));
  g_assert_cmpuint(d.status(), ==, 429);
  ASSERT_STR_EQ(d.response_header("Retry-After"), "7");
  Client e;
  g_assert_true(e.connect(static_url(r2.emulator), nullptr));
  g_assert_true(e.wait_texts(1));
}

// nevisa_live_no_usage_after: NO-USAGE-REMAINED after the first binary message, then 1000.
void test_nevisa_live_no_usage()
{
  emu::Options o;
  o.nevisa_live_no_usage_after = 1;
  Running r(o);
  Client c;
  g_assert_true(c.connect(static_url(r.emulator), nullptr));
  open_session(c);
  std::vector<int16_t> pcm;
  append(pcm, 0.5, true);
  send_all(c, audio_messages(pcm, true));
  g_assert_true(c.wait_closed());
  g_assert_cmpuint(c.close_code(), ==, SOUP_WEBSOCKET_CLOSE_NORMAL);
  ASSERT_STR_EQ(c.texts.back(), "{\"subject\":\"NO-USAGE-REMAINED\"}");
  g_assert_true(r.emulator.wait_nevisa_live(
      [](const std::vector<emu::NevisaLiveRecord> &v) { return v.size() == 1 && v[0].closed; },
      kWaitMs));
  const emu::NevisaLiveRecord s = r.emulator.nevisa_live_sessions().at(0);
  ASSERT_STR_EQ(s.fault, "no-usage");
  g_assert_cmpint(s.close_code, ==, SOUP_WEBSOCKET_CLOSE_NORMAL);
  g_assert_cmpuint(s.binary_sizes.size(), ==, 1);
}

// nevisa_live_no_init: nothing comes first; the conversation works otherwise.
void test_nevisa_live_no_init()
{
  emu::Options o;
  o.nevisa_live_no_init = true;
  Running r(o);
  Client c;
  g_assert_true(c.connect(static_url(r.emulator), nullptr));
  g_assert_false(wait_until([&] { return !c.texts.empty() || c.closed; }, 500));
  c.send_text(kReq);
  g_assert_true(c.wait_texts(1));
  ASSERT_STR_EQ(c.texts[0], kReqResponse);
  c.send_text("not json");
  c.send_text("{\"subject\":\"PING\"}");
  c.close();
  g_assert_true(c.wait_closed());
  g_assert_true(r.emulator.wait_nevisa_live(
      [](const std::vector<emu::NevisaLiveRecord> &v) { return v.size() == 1 && v[0].closed; },
      kWaitMs));
  const emu::NevisaLiveRecord s = r.emulator.nevisa_live_sessions().at(0);
  g_assert_true(s.subjects_received == std::vector<std::string>({"REQ", "?", "PING"}));
  g_assert_true(s.sent == std::vector<std::string>({kReqResponse}));
}

// The other switches: unknown_subject, no_eoes_response, delay_ms, close_after (with close_code
// and close_count), no_req_response, no_soes_response.
void test_nevisa_live_switches()
{
  emu::Options o;
  o.script = kNevisaScript;
  o.nevisa_live_unknown_subject = true;
  o.nevisa_live_no_eoes_response = true;
  o.delay_ms = 30;
  o.close_after = 3;
  o.close_code = 4003;
  o.close_count = 1;
  Running r(o);
  std::vector<int16_t> pcm;
  append(pcm, 1, true), append(pcm, 1, false);
  const auto messages = audio_messages(pcm, true);
  Client a;  // closed on its third binary message
  g_assert_true(a.connect(static_url(r.emulator), nullptr));
  open_session(a);
  g_assert_true(a.wait_texts(4));
  Json notice(a.texts[3]);
  ASSERT_STR_EQ(str(notice.obj(), "subject"), "SERVER-NOTICE");
  ASSERT_STR_EQ(str(notice.obj(), "text"), "سرور به‌زودی به‌روز می‌شود");
  send_all(a, messages);
  g_assert_true(a.wait_closed());
  g_assert_cmpuint(a.close_code(), ==, 4003);

  Client b;  // close_count 1: this one goes through; finals but no EOES-RESPONSE
  g_assert_true(b.connect(static_url(r.emulator), nullptr));
  open_session(b);
  send_all(b, messages);
  b.send_text(kEoes);
  g_assert_true(r.emulator.wait_nevisa_live(
      [](const std::vector<emu::NevisaLiveRecord> &v) {
        return v.size() == 2 && v[1].eoes_count == 1 && v[1].finals.size() == 1;
      },
      kWaitMs));
  g_assert_false(wait_until(
      [&] {
        return std::find(b.texts.begin(), b.texts.end(), kEoesResponse) != b.texts.end() ||
               b.closed;
      },
      300));
  ParsedFinal f;
  g_assert_true(parse_final(b.texts.back(), &f));
  check_final(f, kNevisaScript[0], 0, 1, 2);
  b.close();
  g_assert_true(b.wait_closed());
  g_assert_true(r.emulator.wait_nevisa_live(
      [](const std::vector<emu::NevisaLiveRecord> &v) {
        return v.size() == 2 && v[0].closed && v[1].closed;
      },
      kWaitMs));
  const auto s = r.emulator.nevisa_live_sessions();
  ASSERT_STR_EQ(s[0].fault, "close-after");
  g_assert_cmpint(s[0].close_code, ==, 4003);
  g_assert_cmpuint(s[0].binary_sizes.size(), >=, 3);  // the close waits delay_ms too
  ASSERT_STR_EQ(s[1].fault, "");
  g_assert_true(s[1].sent == b.texts);

  emu::Options silent;
  silent.nevisa_live_no_req_response = true;
  silent.nevisa_live_no_soes_response = true;
  Running r2(silent);
  Client c;
  g_assert_true(c.connect(static_url(r2.emulator), nullptr));
  g_assert_true(c.wait_texts(1));
  c.send_text(kReq);
  c.send_text(kSoes);
  g_assert_false(wait_until([&] { return c.texts.size() > 1 || c.closed; }, 300));
  send_all(c, messages);  // still analysed
  c.send_text(kEoes);
  const size_t eoes = wait_text(c, kEoesResponse);
  ParsedFinal g;
  g_assert_true(parse_final(c.texts[eoes - 1], &g));
  ASSERT_STR_EQ(g.text, "این یک متن آزمایشی است");  // no script: the placeholder
}

// stop() with a Nevisa live client still connected closes it (1001) and returns.
void test_nevisa_live_stop_with_open_client()
{
  Running r(emu::Options{});
  Client c;
  g_assert_true(c.connect(static_url(r.emulator), nullptr));
  open_session(c);
  r.emulator.stop();
  g_assert_true(c.wait_closed());
  const auto s = r.emulator.nevisa_live_sessions();
  g_assert_cmpuint(s.size(), ==, 1);
  g_assert_true(s[0].closed);
  g_assert_cmpint(s[0].close_code, ==, SOUP_WEBSOCKET_CLOSE_GOING_AWAY);
}

}  // namespace

int main(int argc, char **argv)
{
  g_test_init(&argc, &argv, nullptr);
  g_test_add_func("/emulator/timedelta", test_timedelta);
  g_test_add_func("/emulator/two-segments", test_two_segments);
  g_test_add_func("/emulator/auth", test_auth);
  g_test_add_func("/emulator/reject-token", test_reject_token);
  g_test_add_func("/emulator/close-after", test_close_after);
  g_test_add_func("/emulator/malformed-json", test_malformed);
  g_test_add_func("/emulator/revisions", test_revisions);
  g_test_add_func("/emulator/concurrent-delay", test_concurrent_delay);
  g_test_add_func("/emulator/garbage", test_garbage);
  g_test_add_func("/emulator/never-answer", test_never_answer);
  g_test_add_func("/emulator/stop-with-open-client", test_stop_with_open_client);
  g_test_add_func("/emulator/harf-rest/upload", test_harf_rest_upload);
  g_test_add_func("/emulator/harf-rest/wav-variants", test_harf_rest_wav_variants);
  g_test_add_func("/emulator/harf-rest/poll", test_harf_rest_poll);
  g_test_add_func("/emulator/harf-rest/failure", test_harf_rest_failure);
  g_test_add_func("/emulator/harf-rest/timeout", test_harf_rest_timeout);
  g_test_add_func("/emulator/harf-rest/delay", test_harf_rest_delay);
  g_test_add_func("/emulator/harf-rest/delay-client-gone", test_harf_rest_delay_client_gone);
  g_test_add_func("/emulator/rest/stop-with-delayed", test_rest_stop_with_delayed);
  g_test_add_func("/emulator/nevisa/login", test_nevisa_login);
  g_test_add_func("/emulator/nevisa/recognize", test_nevisa_recognize);
  g_test_add_func("/emulator/nevisa/progress-options", test_nevisa_progress_options);
  g_test_add_func("/emulator/nevisa/terminate", test_nevisa_terminate);
  g_test_add_func("/emulator/faults/http-401", test_fault_http_401);
  g_test_add_func("/emulator/faults/throttle-500", test_fault_throttle_500);
  g_test_add_func("/emulator/faults/not-json", test_fault_not_json);
  g_test_add_func("/emulator/rest/large-upload", test_rest_large_upload);
  g_test_add_func("/emulator/faults/handshake-status", test_fault_handshake_status);
  g_test_add_func("/emulator/faults/close-code-count", test_fault_close_code_count);
  g_test_add_func("/emulator/faults/close-on-finalize", test_fault_close_on_finalize);
  g_test_add_func("/emulator/faults/reset-on-finalize", test_fault_reset_on_finalize);
  g_test_add_func("/emulator/faults/binary-reply", test_fault_binary_reply);
  g_test_add_func("/emulator/faults/huge-reply", test_fault_huge_reply);
  g_test_add_func("/emulator/faults/impossible-times", test_fault_impossible_times);
  g_test_add_func("/emulator/faults/invalid-utf8-live", test_fault_invalid_utf8_live);
  g_test_add_func("/emulator/faults/invalid-utf8-rest", test_fault_invalid_utf8_rest);
  g_test_add_func("/emulator/faults/wrong-types", test_fault_wrong_types);
  g_test_add_func("/emulator/faults/deep-json-live", test_fault_deep_json_live);
  g_test_add_func("/emulator/faults/harf-state-type", test_fault_harf_state_type);
  g_test_add_func("/emulator/faults/harf-segments-value", test_fault_harf_segments_value);
  g_test_add_func("/emulator/faults/http-deep-json", test_fault_http_deep_json);
  g_test_add_func("/emulator/faults/http-huge-body", test_fault_http_huge_body);
  g_test_add_func("/emulator/faults/nevisa-percent-sequence", test_fault_nevisa_percent_sequence);
  g_test_add_func("/emulator/faults/nevisa-first-word-no-start",
                  test_fault_nevisa_first_word_no_start);
  g_test_add_func("/emulator/faults/nevisa-progress-fail", test_fault_nevisa_progress_fail);
  g_test_add_func("/emulator/faults/throttle-variants", test_fault_throttle_variants);
  g_test_add_func("/emulator/nevisa-live/conversation", test_nevisa_live_conversation);
  g_test_add_func("/emulator/nevisa-live/raw-framing", test_nevisa_live_raw_framing);
  g_test_add_func("/emulator/nevisa-live/credentials", test_nevisa_live_credentials);
  g_test_add_func("/emulator/nevisa-live/no-usage", test_nevisa_live_no_usage);
  g_test_add_func("/emulator/nevisa-live/no-init", test_nevisa_live_no_init);
  g_test_add_func("/emulator/nevisa-live/switches", test_nevisa_live_switches);
  g_test_add_func("/emulator/nevisa-live/stop-with-open-client",
                  test_nevisa_live_stop_with_open_client);
  return g_test_run();
}
