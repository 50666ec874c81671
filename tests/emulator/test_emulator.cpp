// Self-test of the Harf live emulator, driven by a real libsoup WebSocket client.
// The emulator runs on its own thread; the client runs on this thread's default
// GMainContext. Every wait is bounded by a timeout source, never by sleeping.
#include "emulator.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr unsigned kWaitMs = 5000;
constexpr size_t kWindow = 32000;
const std::vector<std::string> kScript = {"سلام دنیا", "[حکایت] یکی را از حکما شنیدم"};

template <typename T>
struct Unref {
  void operator()(T *p) const {
    if (p) g_object_unref(p);
  }
};
template <typename T>
using Ptr = std::unique_ptr<T, Unref<T>>;

// Iterates the default context until pred() holds or ms pass.
template <typename Pred>
bool wait_until(Pred pred, unsigned ms) {
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
  while (!pred() && !timed_out) g_main_context_iteration(nullptr, TRUE);
  g_source_destroy(t);
  g_source_unref(t);
  return pred();
}

class Client {
 public:
  Client() : session_(soup_session_new()) {}
  ~Client() {
    if (conn_) g_signal_handlers_disconnect_by_data(conn_.get(), this);
  }

  // Returns true when the WebSocket is open; status() is the handshake's HTTP status either way.
  bool connect(const std::string &url, const char *authorization) {
    msg_.reset(soup_message_new("GET", url.c_str()));
    g_assert_nonnull(msg_);
    if (authorization)
      soup_message_headers_replace(soup_message_get_request_headers(msg_.get()), "Authorization", authorization);
    bool done = false;
    pending_ = &done;
    soup_session_websocket_connect_async(session_.get(), msg_.get(), nullptr, nullptr, G_PRIORITY_DEFAULT, nullptr,
                                         connected_cb, this);
    g_assert_true(wait_until([&] { return done; }, kWaitMs));
    return conn_ != nullptr;
  }
  guint status() const { return soup_message_get_status(msg_.get()); }

  void send_binary(const std::vector<uint8_t> &data, size_t off, size_t n) {
    soup_websocket_connection_send_binary(conn_.get(), data.data() + off, n);
  }
  void send_text(const char *text) { soup_websocket_connection_send_text(conn_.get(), text); }
  void close() { soup_websocket_connection_close(conn_.get(), SOUP_WEBSOCKET_CLOSE_NORMAL, nullptr); }

  bool wait_texts(size_t n) {
    return wait_until([&] { return texts.size() >= n || closed; }, kWaitMs) && texts.size() >= n;
  }
  bool wait_closed() { return wait_until([&] { return closed; }, kWaitMs); }
  gushort close_code() const { return soup_websocket_connection_get_close_code(conn_.get()); }

  // Sends data in windows, waiting for one reply after each (like Harf's sample client).
  void lockstep(const std::vector<uint8_t> &data, size_t window = kWindow) {
    for (size_t off = 0; off < data.size(); off += window) {
      const size_t expected = texts.size() + 1;
      send_binary(data, off, std::min(window, data.size() - off));
      g_assert_true(wait_texts(expected));
    }
  }

  std::vector<std::string> texts;
  bool closed = false;

 private:
  static void connected_cb(GObject *source, GAsyncResult *res, gpointer self) {
    auto *c = static_cast<Client *>(self);
    GError *error = nullptr;
    c->conn_.reset(soup_session_websocket_connect_finish(SOUP_SESSION(source), res, &error));
    g_clear_error(&error);
    if (c->conn_) {
      g_signal_connect(c->conn_.get(), "message", G_CALLBACK(message_cb), c);
      g_signal_connect(c->conn_.get(), "closed", G_CALLBACK(closed_cb), c);
    }
    *c->pending_ = true;
  }
  static void message_cb(SoupWebsocketConnection *, gint type, GBytes *message, gpointer self) {
    gsize n = 0;
    const char *data = static_cast<const char *>(g_bytes_get_data(message, &n));  // sets n
    if (type == SOUP_WEBSOCKET_DATA_TEXT) static_cast<Client *>(self)->texts.emplace_back(data, n);
  }
  static void closed_cb(SoupWebsocketConnection *, gpointer self) { static_cast<Client *>(self)->closed = true; }

  Ptr<SoupSession> session_;
  Ptr<SoupMessage> msg_;
  Ptr<SoupWebsocketConnection> conn_;
  bool *pending_ = nullptr;
};

struct Running {
  explicit Running(emu::Options o) : emulator(std::move(o)) {
    GError *error = nullptr;
    g_assert_true(emulator.start(0, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(emulator.port(), >, 0);
  }
  emu::Emulator emulator;
};

// 16 kHz mono S16LE WAV: header + samples.
std::vector<uint8_t> make_wav(const std::vector<int16_t> &pcm, uint32_t rate = 16000, uint16_t channels = 1) {
  const uint32_t data = uint32_t(pcm.size() * 2);
  std::vector<uint8_t> out;
  auto put = [&](uint32_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(uint8_t(v >> (8 * i)));
  };
  auto tag = [&](const char *t) { out.insert(out.end(), t, t + 4); };
  tag("RIFF"), put(36 + data, 4), tag("WAVE"), tag("fmt "), put(16, 4), put(1, 2), put(channels, 2), put(rate, 4);
  put(rate * channels * 2, 4), put(channels * 2, 2), put(16, 2), tag("data"), put(data, 4);
  for (int16_t s : pcm) put(uint16_t(s), 2);
  return out;
}

// Appends seconds of a 440 Hz tone at -10 dBFS RMS (amplitude 0) at 16 kHz.
void append(std::vector<int16_t> &pcm, double seconds, bool tone) {
  const double amp = 32768.0 * std::pow(10.0, -10.0 / 20.0) * std::sqrt(2.0);
  const size_t n = size_t(seconds * 16000);
  for (size_t i = 0; i < n; ++i)
    pcm.push_back(tone ? int16_t(std::lround(amp * std::sin(2 * M_PI * 440.0 * double(i) / 16000.0))) : 0);
}

std::vector<uint8_t> two_bursts() {
  std::vector<int16_t> pcm;
  append(pcm, 1, true), append(pcm, 1, false), append(pcm, 1, true), append(pcm, 1, false);
  return make_wav(pcm);
}

bool is_json(const std::string &text) {
  Ptr<JsonParser> parser(json_parser_new());
  return json_parser_load_from_data(parser.get(), text.c_str(), gssize(text.size()), nullptr);
}

void assert_near_ns(uint64_t got, double truth_s) {
  g_assert_cmpfloat(std::fabs(double(got) / 1e9 - truth_s), <, 0.040);
}

// ---------------------------------------------------------------------------
void check_timedelta(uint64_t ns, const char *expected) {
  const std::string got = emu::format_timedelta(ns);  // g_assert_cmpstr keeps only the pointer
  g_assert_cmpstr(got.c_str(), ==, expected);
}

void test_timedelta() {
  check_timedelta(0, "0:00:00");
  check_timedelta(5000000000ull, "0:00:05");
  check_timedelta(1240000000ull, "0:00:01.240000");
  check_timedelta(3723000001000ull, "1:02:03.000001");
  check_timedelta(999999999ull, "0:00:01");  // rounded to microseconds like timedelta
  check_timedelta(86400000000000ull, "1 day, 0:00:00");
  check_timedelta(2 * 86400000000000ull + 36000000000000ull, "2 days, 10:00:00");
}

void test_two_segments() {
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
  for (const auto &t : c.texts) g_assert_true(is_json(t));

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

void test_auth() {
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
  const std::string alt = "ws://127.0.0.1:" + std::to_string(r.emulator.port()) + "/api/ws_api/transcribe_files/wav/sync/";
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
  soup_message_headers_replace(soup_message_get_request_headers(msg.get()), "Authorization", "Token nope");
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

void test_reject_token() {
  emu::Options o;
  o.reject_token = true;
  Running r(o);
  Client c;
  g_assert_false(c.connect(r.emulator.harf_live_url(), "Token anything"));
  g_assert_cmpuint(c.status(), ==, SOUP_STATUS_UNAUTHORIZED);
  g_assert_cmpint(r.emulator.handshake_count(), ==, 1);
}

void test_close_after() {
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

void test_malformed() {
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

void test_revisions() {
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
void test_concurrent_delay() {
  emu::Options o;
  o.delay_ms = 30;
  o.script = kScript;
  Running r(o);
  Client a, b;
  g_assert_true(a.connect(r.emulator.harf_live_url(), nullptr));
  g_assert_true(b.connect(r.emulator.harf_live_url(), nullptr));
  const auto wav = two_bursts();
  // a sends everything at once (replies queue up behind the delay), b in lock-step.
  for (size_t off = 0; off < wav.size(); off += kWindow) a.send_binary(wav, off, std::min(kWindow, wav.size() - off));
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

void test_garbage() {
  Running r(emu::Options{});
  Client c;
  g_assert_true(c.connect(r.emulator.harf_live_url(), "whatever"));
  std::vector<uint8_t> junk(32001);
  for (size_t i = 0; i < junk.size(); ++i) junk[i] = uint8_t(i * 7919u);
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

void test_never_answer() {
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
void test_stop_with_open_client() {
  Running r(emu::Options{});
  Client c;
  g_assert_true(c.connect(r.emulator.harf_live_url(), nullptr));
  r.emulator.stop();
  g_assert_true(c.wait_closed());
  g_assert_true(r.emulator.wait_closed(1, 0));
  r.emulator.stop();  // idempotent
}

}  // namespace

int main(int argc, char **argv) {
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
  return g_test_run();
}
