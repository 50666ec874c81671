// SPDX-License-Identifier: LGPL-2.1-or-later
/* The fault matrix: one test per way the network or a service can
 * misbehave, each driving a real element (GstHarness) against the
 * in-process emulator on 127.0.0.1 and checking what the user sees: the
 * error's domain and code and that its message names the cause; or a
 * warning while the results still arrive; or a recovery with the results
 * of an undisturbed run.  docs/reliability.md is the table of these rows. */
#include <gio/gio.h>
#include <glib/gstdio.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <optional>
#include <set>
#include <thread>

#include "test_helpers.h"

using namespace testutil;

namespace {

/* An error or warning as posted. */
struct Issue {
  GQuark domain = 0;
  gint code = 0;
  std::string message, debug, reason;
};

Issue parse_issue(GstMessage *m)
{
  GError *err = nullptr;
  gchar *dbg = nullptr;
  const GstStructure *details = nullptr;
  if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
    gst_message_parse_error(m, &err, &dbg);
    gst_message_parse_error_details(m, &details);
  } else {
    gst_message_parse_warning(m, &err, &dbg);
    gst_message_parse_warning_details(m, &details);
  }
  Issue i;
  i.domain = err->domain;
  i.code = err->code;
  i.message = err->message ? err->message : "";
  i.debug = dbg ? dbg : "";
  const gchar *reason = details ? gst_structure_get_string(details, "reason") : nullptr;
  i.reason = reason ? reason : "";
  g_clear_error(&err);
  g_free(dbg);
  return i;
}

/* What one stream gave: everything the element posted, and how it ended. */
struct Outcome {
  std::vector<GstStructure *> results;    /* "transcription", partials too, in order */
  std::vector<GstStructure *> reconnects; /* "transcription-reconnect" */
  std::vector<GstStructure *> progress;   /* "transcription-progress" */
  std::vector<Issue> warnings;
  std::optional<Issue> error;
  bool eos = false;         /* EOS came out of the element */
  gint64 elapsed_us = 0;    /* from the first buffer to EOS or the error */
  std::vector<uint8_t> pcm; /* what was pushed: 16 kHz mono S16 */

  Outcome() = default;
  Outcome(const Outcome &) = delete;
  Outcome &operator=(const Outcome &) = delete;
  ~Outcome()
  {
    free_structures(results);
    free_structures(reconnects);
    free_structures(progress);
  }
  std::vector<const GstStructure *> finals() const
  {
    std::vector<const GstStructure *> out;
    for (auto *s : results) {
      gboolean final = FALSE;
      gst_structure_get_boolean(s, "final", &final);
      if (final)
        out.push_back(s);
    }
    return out;
  }
  std::string describe() const
  {
    std::string d = "eos=" + std::to_string(eos) + " results=" + std::to_string(results.size()) +
                    " reconnects=" + std::to_string(reconnects.size());
    for (auto &w : warnings)
      d += "\n  warning: " + w.message + " [" + w.debug + "]";
    for (auto *r : reconnects)
      d += std::string("\n  reconnect: ") + gst_structure_get_string(r, "reason");
    if (error)
      d += "\n  error: " + error->message + " [" + error->debug + "]";
    return d;
  }
};

using Configure = std::function<void(GstElement *)>;

/* Streams three_sentences() (16 kHz mono S16, 100 ms buffers) through
 * persiantranscribe, then EOS, and collects what is posted until EOS comes
 * out or an error is posted (60 s at most: only a broken build waits that
 * long).  Pushing stops when the element refuses a buffer. */
void run(emu::Emulator &e, Outcome &out, const Configure &configure = nullptr)
{
  GstBus *bus;
  GstElement *el = make_element("persiantranscribe", e, &bus);
  g_object_set(el, "timeout", 3u, nullptr);
  if (configure)
    configure(el);
  GstHarness *h = gst_harness_new_with_element(el, "sink", "src");
  gst_harness_play(h);
  gst_harness_set_src_caps(h, audio_caps(GST_AUDIO_FORMAT_S16LE, 16000, 1));
  out.pcm = make_audio(GST_AUDIO_FORMAT_S16LE, 16000, 1, three_sentences());
  const gint64 t0 = g_get_monotonic_time();
  const size_t chunk = 3200;
  for (size_t off = 0; off < out.pcm.size(); off += chunk) {
    size_t n = MIN(chunk, out.pcm.size() - off);
    GstBuffer *b = gst_buffer_new_memdup(out.pcm.data() + off, n);
    GST_BUFFER_PTS(b) = gst_util_uint64_scale(off / 2, GST_SECOND, 16000);
    GST_BUFFER_DURATION(b) = gst_util_uint64_scale(n / 2, GST_SECOND, 16000);
    if (gst_harness_push(h, b) != GST_FLOW_OK)
      break;
  }
  gst_harness_push_event(h, gst_event_new_eos());

  auto take = [&out](GstMessage *m) {
    const GstStructure *s = gst_message_get_structure(m);
    switch (GST_MESSAGE_TYPE(m)) {
      case GST_MESSAGE_ERROR:
        if (!out.error)
          out.error = parse_issue(m);
        break;
      case GST_MESSAGE_WARNING:
        out.warnings.push_back(parse_issue(m));
        break;
      case GST_MESSAGE_ELEMENT:
        if (s && gst_structure_has_name(s, "transcription"))
          out.results.push_back(gst_structure_copy(s));
        else if (s && gst_structure_has_name(s, "transcription-reconnect"))
          out.reconnects.push_back(gst_structure_copy(s));
        else if (s && gst_structure_has_name(s, "transcription-progress"))
          out.progress.push_back(gst_structure_copy(s));
        break;
      default:
        break;
    }
    gst_message_unref(m);
  };
  const gint64 deadline = t0 + 60 * G_TIME_SPAN_SECOND;
  while (!out.error && !out.eos && g_get_monotonic_time() < deadline) {
    if (GstMessage *m = gst_bus_timed_pop(bus, 20 * GST_MSECOND))
      take(m);
    while (GstEvent *ev = gst_harness_try_pull_event(h)) {
      out.eos = out.eos || GST_EVENT_TYPE(ev) == GST_EVENT_EOS;
      gst_event_unref(ev);
    }
  }
  out.elapsed_us = g_get_monotonic_time() - t0;
  while (GstMessage *m = gst_bus_pop(bus))
    take(m);
  for (GstBuffer *b : pull_all_buffers(h))
    gst_buffer_unref(b);
  teardown_element(h, el, bus);
  fail_unless(out.eos || out.error, "neither EOS nor an error within 60 s");
}

/* The error posted has that domain and code and its message names the cause. */
void assert_error(const Outcome &o, GQuark domain, gint code, const std::string &must_contain)
{
  fail_unless(o.error.has_value(), "no error: %s", o.describe().c_str());
  fail_unless(o.error->domain == domain && o.error->code == code, "got %s %d: %s",
              g_quark_to_string(o.error->domain), o.error->code, o.error->message.c_str());
  fail_unless(o.error->message.find(must_contain) != std::string::npos,
              "the message does not name \"%s\": %s", must_contain.c_str(),
              o.error->message.c_str());
  fail_if(o.error->message.find(kToken) != std::string::npos ||
          o.error->debug.find(kToken) != std::string::npos);
}

void assert_clean_end(const Outcome &o)
{
  fail_unless(o.eos && !o.error, "%s", o.describe().c_str());
}

guint64 u64(const GstStructure *s, const char *f)
{
  guint64 v = 0;
  fail_unless(gst_structure_get_uint64(s, f, &v), "no %s", f);
  return v;
}

std::string str(const GstStructure *s, const char *f)
{
  const gchar *v = gst_structure_get_string(s, f);
  return v ? v : "";
}

/* The same final texts at the same times as an undisturbed run, each once. */
void assert_same_results(const Outcome &got, const Outcome &want)
{
  auto g = got.finals(), w = want.finals();
  fail_unless_equals_int(g.size(), w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    assert_equals_std_string(str(g[i], "text"), str(w[i], "text"));
    fail_unless_equals_uint64(u64(g[i], "timestamp"), u64(w[i], "timestamp"));
    fail_unless_equals_uint64(u64(g[i], "duration"), u64(w[i], "duration"));
  }
}

/* The script's three lines, each in one final result. */
void assert_script_results(const Outcome &o)
{
  std::vector<std::string> texts;
  for (auto *s : o.finals())
    texts.push_back(str(s, "raw-text"));
  for (const std::string &line : persian_script())
    fail_unless(std::count(texts.begin(), texts.end(), line) == 1, "\"%s\" not once in: %s",
                line.c_str(), o.describe().c_str());
}

void reference(Outcome &out)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  run(e, out);
  assert_clean_end(out);
  fail_unless_equals_int(out.finals().size(), 3);
  fail_unless(out.warnings.empty());
}

bool valid_utf8(const std::string &s)
{
  return g_utf8_validate(s.data(), (gssize)s.size(), nullptr);
}

/* Every text the user gets is valid UTF-8: results (and their words),
 * warnings, the error and reconnection reasons. */
void assert_all_valid_utf8(const Outcome &o)
{
  for (auto *s : o.results) {
    for (const char *f : {"text", "raw-text"})
      fail_unless(valid_utf8(str(s, f)), "%s is not valid UTF-8", f);
    const GValue *words = gst_structure_get_value(s, "words");
    for (guint k = 0; words && k < gst_value_array_get_size(words); ++k) {
      const GstStructure *w = gst_value_get_structure(gst_value_array_get_value(words, k));
      fail_unless(valid_utf8(str(w, "text")), "a word is not valid UTF-8");
    }
  }
  for (auto *r : o.reconnects)
    fail_unless(valid_utf8(str(r, "reason")));
  for (auto &w : o.warnings)
    fail_unless(valid_utf8(w.message) && valid_utf8(w.debug));
  if (o.error)
    fail_unless(valid_utf8(o.error->message) && valid_utf8(o.error->debug));
}

/* Results are never timed past the audio sent (6.5 s) plus the 1 s slack. */
void assert_times_within_audio(const Outcome &o)
{
  const guint64 limit = 7500 * GST_MSECOND;
  for (auto *s : o.results) {
    fail_unless(u64(s, "timestamp") <= limit, "a result at %" GST_TIME_FORMAT,
                GST_TIME_ARGS(u64(s, "timestamp")));
    fail_unless(u64(s, "timestamp") + u64(s, "duration") <= limit);
  }
}

size_t count_warnings(const Outcome &o, const char *in_message)
{
  return (size_t)std::count_if(o.warnings.begin(), o.warnings.end(), [&](const Issue &w) {
    return w.message.find(in_message) != std::string::npos;
  });
}

/* A port that was free a moment ago: nothing listens there. */
guint16 closed_port()
{
  GSocket *sock =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr);
  GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new(lo, 0);
  fail_unless(g_socket_bind(sock, addr, TRUE, nullptr));
  GSocketAddress *bound = g_socket_get_local_address(sock, nullptr);
  guint16 port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_object_unref(bound);
  g_object_unref(addr);
  g_object_unref(lo);
  g_socket_close(sock, nullptr);
  g_object_unref(sock);
  return port;
}

const char *const kLivePath = "/ws_api/transcribe_files/wav/sync/";

/* A self-signed certificate for 127.0.0.1 (EC P-256, valid 2026-2126) and
 * its key, made once with `openssl req -x509 -newkey ec ...`: no tool is
 * needed when the test runs.  Nobody vouches for it, so a client that
 * checks certificates (libsoup does by default) refuses the handshake. */
const char kSelfSignedPem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBxzCCAWygAwIBAgIUAiAtSlPjaQ1+xqrUFqwqeakmaI0wCgYIKoZIzj0EAwIw\n"
    "LzEtMCsGA1UEAwwkcGVyc2lhbnRyYW5zY3JpYmUgdGVzdCAoc2VsZi1zaWduZWQp\n"
    "MCAXDTI2MTEyODExMjkwNVoYDzIxMjYxMTA0MTEyOTA1WjAvMS0wKwYDVQQDDCRw\n"
    "ZXJzaWFudHJhbnNjcmliZSB0ZXN0IChzZWxmLXNpZ25lZCkwWTATBgcqhkjOPQIB\n"
    "BggqhkjOPQMBBwNCAAQzpXjd0D6MFMWyJdEwq1rucs37hoPcdKamiK6DkJkPhjPA\n"
    "jM3zezT8SBFcFf3vsK4fx/YjKHRYJ9LAdMqIoDqHo2QwYjAdBgNVHQ4EFgQUhOZF\n"
    "5Fjk1yPU8FsAjs3oIE3xLeowHwYDVR0jBBgwFoAUhOZF5Fjk1yPU8FsAjs3oIE3x\n"
    "LeowDwYDVR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMC\n"
    "A0kAMEYCIQCEgM2t8nQD6m+5HKGaJN0f8QU3CpUacxtk7uu53I4FlAIhANG6qKG5\n"
    "KwvToBBZYJZ3WLpewEujXfrWoKRhQrOb5VFO\n"
    "-----END CERTIFICATE-----\n"
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg+YkWS9rMTMaXlyE4\n"
    "SbWzoGdV58Kfx5zd+be10j7w7COhRANCAAQzpXjd0D6MFMWyJdEwq1rucs37hoPc\n"
    "dKamiK6DkJkPhjPAjM3zezT8SBFcFf3vsK4fx/YjKHRYJ9LAdMqIoDqH\n"
    "-----END PRIVATE KEY-----\n";

/* A TLS server on 127.0.0.1 with the self-signed certificate: accepts one
 * connection on its own thread and runs the server side of the handshake. */
class SelfSignedTlsServer {
 public:
  SelfSignedTlsServer()
  {
    GError *err = nullptr;
    cert_ = g_tls_certificate_new_from_pem(kSelfSignedPem, -1, &err);
    fail_unless(cert_ != nullptr, "certificate: %s", err ? err->message : "?");
    listener_ = g_socket_listener_new();
    GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
    GSocketAddress *addr = g_inet_socket_address_new(lo, 0);
    GSocketAddress *effective = nullptr;
    fail_unless(g_socket_listener_add_address(listener_, addr, G_SOCKET_TYPE_STREAM,
                                              G_SOCKET_PROTOCOL_TCP, nullptr, &effective, &err),
                "listen: %s", err ? err->message : "?");
    port_ = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(effective));
    g_object_unref(effective);
    g_object_unref(addr);
    g_object_unref(lo);
    cancel_ = g_cancellable_new();
    thread_ = std::thread([this] { serve(); });
  }
  ~SelfSignedTlsServer()
  {
    stop();
    g_object_unref(cancel_);
    g_object_unref(listener_);
    g_object_unref(cert_);
  }
  guint16 port() const { return port_; }
  /* Joins the thread; then accepted(), handshake_ok() and server_error() hold. */
  void stop()
  {
    if (!thread_.joinable())
      return;
    g_cancellable_cancel(cancel_);
    thread_.join();
    g_socket_listener_close(listener_);
  }
  bool accepted() const { return accepted_; }
  bool handshake_ok() const { return handshake_ok_; }
  const std::string &server_error() const { return server_error_; }

 private:
  void serve()
  {
    GSocketConnection *conn = g_socket_listener_accept(listener_, nullptr, cancel_, nullptr);
    if (!conn)
      return;
    accepted_ = true;
    GError *err = nullptr;
    GIOStream *tls = g_tls_server_connection_new(G_IO_STREAM(conn), cert_, &err);
    if (tls) {
      handshake_ok_ = g_tls_connection_handshake(G_TLS_CONNECTION(tls), cancel_, &err);
      g_io_stream_close(tls, nullptr, nullptr);
      g_object_unref(tls);
    }
    server_error_ = err ? err->message : "";
    g_clear_error(&err);
    g_io_stream_close(G_IO_STREAM(conn), nullptr, nullptr);
    g_object_unref(conn);
  }

  GTlsCertificate *cert_ = nullptr;
  GSocketListener *listener_ = nullptr;
  GCancellable *cancel_ = nullptr;
  guint16 port_ = 0;
  std::thread thread_;
  std::atomic<bool> accepted_{false};
  bool handshake_ok_ = false;
  std::string server_error_;
};

/* ---- batch ---- */


Configure nevisa(emu::Emulator &e)
{
  std::string login = e.nevisa_login_url(), api = e.nevisa_api_url();
  return [login, api](GstElement *el) {
    g_object_set(el, "backend", 2, "nevisa-username", kUser, "nevisa-password", kPassword,
                 "nevisa-login-url", login.c_str(), "nevisa-api-url", api.c_str(), "poll-interval",
                 100u, nullptr);
  };
}

Configure harf_file(emu::Emulator &e, bool wait)
{
  std::string api = e.harf_api_url();
  return [api, wait](GstElement *el) {
    g_object_set(el, "backend", 1, "harf-api-url", api.c_str(), "poll-interval", 100u, "harf-wait",
                 (gboolean)wait, nullptr);
  };
}

std::set<std::string> temp_recordings()
{
  std::set<std::string> out;
  GDir *d = g_dir_open(g_get_tmp_dir(), 0, nullptr);
  if (!d)
    return out;
  while (const gchar *n = g_dir_read_name(d))
    if (g_str_has_prefix(n, "persiantranscribe-") && g_str_has_suffix(n, ".wav"))
      out.insert(n);
  g_dir_close(d);
  return out;
}

/* A batch run that must end in that error; no recording is left behind. */
void expect_batch_error(const emu::Options &o, bool use_nevisa, bool harf_wait, GQuark domain,
                        gint code, const std::string &must_contain)
{
  auto before = temp_recordings();
  emu::Emulator e(o);
  start_emulator(e);
  Outcome out;
  run(e, out, use_nevisa ? nevisa(e) : harf_file(e, harf_wait));
  assert_error(out, domain, code, must_contain);
  fail_if(out.error->message.find(kPassword) != std::string::npos);
  fail_unless(temp_recordings() == before, "the temporary recording was left behind");
}

/* kB from /proc/self/status ("VmRSS", "VmHWM"), or -1. */
long status_kb(const char *field)
{
  FILE *f = fopen("/proc/self/status", "r");
  if (!f)
    return -1;
  char line[256];
  long kb = -1;
  size_t n = strlen(field);
  while (fgets(line, sizeof line, f))
    if (strncmp(line, field, n) == 0 && line[n] == ':')
      kb = strtol(line + n + 1, nullptr, 10);
  fclose(f);
  return kb;
}

/* Makes VmHWM (peak RSS) start again from the current RSS (Linux >= 4.0). */
bool reset_peak_rss()
{
  FILE *f = fopen("/proc/self/clear_refs", "w");
  if (!f)
    return false;
  bool ok = fputs("5", f) >= 0;
  ok = fclose(f) == 0 && ok;
  return ok;
}

bool terminate_reached(const std::vector<emu::RestRecord> &r)
{
  return std::any_of(r.begin(), r.end(), [](const emu::RestRecord &x) {
    return x.kind == "nevisa-terminate" && x.status != 0;
  });
}

}  // namespace

/* ================= harf-live: connecting ================= */

/* Nothing listens on the port: an error at once, naming the URL, and no
 * retry (a service never reached is a setup problem, not an outage). */
GST_START_TEST(test_live_refused_connection)
{
  emu::Emulator e(default_options()); /* not connected to: the URL points elsewhere */
  start_emulator(e);
  std::string url = "ws://127.0.0.1:" + std::to_string(closed_port()) + kLivePath;
  Outcome o;
  run(e, o, [&url](GstElement *el) { g_object_set(el, "harf-url", url.c_str(), nullptr); });
  assert_error(o, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE, url);
  fail_unless(o.error->message.find("Could not connect") != std::string::npos, "%s",
              o.error->message.c_str());
  fail_unless(o.reconnects.empty());
  fail_unless_equals_int(e.handshake_count(), 0);
}
GST_END_TEST;

/* A host name that never resolves (.invalid is reserved for that). */
GST_START_TEST(test_live_dns_failure)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  std::string url = std::string("ws://nonexistent.invalid") + kLivePath;
  Outcome o;
  run(e, o, [&url](GstElement *el) { g_object_set(el, "harf-url", url.c_str(), nullptr); });
  assert_error(o, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE, url);
  fail_unless(o.reconnects.empty());
  fail_unless_equals_int(e.handshake_count(), 0);
}
GST_END_TEST;

/* wss:// to a local TLS server whose certificate is self-signed: the
 * handshake is refused (certificates are checked by default). */
GST_START_TEST(test_live_tls_self_signed_rejected)
{
  fail_unless(g_tls_backend_supports_tls(g_tls_backend_get_default()), "no TLS backend");
  SelfSignedTlsServer tls;
  emu::Emulator e(default_options());
  start_emulator(e);
  std::string url = "wss://127.0.0.1:" + std::to_string(tls.port()) + kLivePath;
  Outcome o;
  run(e, o, [&url](GstElement *el) { g_object_set(el, "harf-url", url.c_str(), nullptr); });
  tls.stop();
  assert_error(o, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE, url);
  fail_unless(o.error->message.find("TLS") != std::string::npos, "%s", o.error->message.c_str());
  fail_unless(tls.accepted(), "the client never reached the TLS server");
  fail_if(tls.handshake_ok(), "the handshake succeeded");
  GST_INFO("server side of the handshake: %s", tls.server_error().c_str());
  fail_unless(o.reconnects.empty());
}
GST_END_TEST;

/* 401 and 403 at the handshake: NOT_AUTHORIZED at once, never retried. */
GST_START_TEST(test_live_handshake_rejected_not_retried)
{
  const int status = __i__ == 0 ? 401 : 403;
  emu::Options opts = default_options();
  opts.handshake_status = status;
  emu::Emulator e(opts);
  start_emulator(e);
  Outcome o;
  run(e, o);
  assert_error(o, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED, std::to_string(status));
  fail_unless(o.error->message.find("token") != std::string::npos, "%s", o.error->message.c_str());
  assert_equals_std_string(o.error->reason, "credentials-rejected");
  fail_unless_equals_int(e.handshake_count(), 1);
  fail_unless(o.reconnects.empty());
}
GST_END_TEST;

/* 429 with Retry-After, and 500, at the first handshake: the element waits
 * and connects again, and the results are those of an undisturbed run. */
GST_START_TEST(test_live_handshake_429_500_recovered)
{
  Outcome want;
  reference(want);
  const int status = __i__ == 0 ? 429 : 500;
  emu::Options opts = default_options();
  opts.handshake_status = status;
  opts.handshake_fail_count = 1;
  if (status == 429)
    opts.retry_after = "1";
  emu::Emulator e(opts);
  start_emulator(e);
  Outcome o;
  run(e, o);
  assert_clean_end(o);
  assert_same_results(o, want);
  fail_unless(o.warnings.empty(), "%s", o.describe().c_str());
  fail_unless_equals_int(e.handshake_count(), 2);
  fail_unless_equals_int(o.reconnects.size(), 1);
  fail_unless(str(o.reconnects[0], "reason").find(std::to_string(status)) != std::string::npos,
              "%s", str(o.reconnects[0], "reason").c_str());
  if (status == 429)
    fail_unless(u64(o.reconnects[0], "delay") >= GST_SECOND, "Retry-After not honoured");
}
GST_END_TEST;

/* ================= harf-live: the connection drops ================= */

/* Closed (1011) on the third window: reconnected, the audio sent again,
 * nothing lost, nothing twice, the times on the input timeline. */
GST_START_TEST(test_live_close_mid_stream_recovered)
{
  Outcome want;
  reference(want);
  emu::Options opts = default_options();
  opts.close_after = 3;
  opts.close_count = 1;
  emu::Emulator e(opts);
  start_emulator(e);
  Outcome o;
  run(e, o, [](GstElement *el) { g_object_set(el, "max-reconnects", 2u, nullptr); });
  assert_clean_end(o);
  assert_same_results(o, want);
  fail_unless_equals_int(o.reconnects.size(), 1);
  fail_unless(str(o.reconnects[0], "reason").find("closed the connection") != std::string::npos);
  fail_unless_equals_int(e.sessions().size(), 2);
}
GST_END_TEST;

/* Closed (1011) at finalize, results possibly owed: tried once more.
 * Loop 0: only the first connection is closed: the retry gets everything,
 * the user sees a transcription-reconnect message and no warning.
 * Loop 1: every connection is closed: after the one retry, a warning that
 * the last results may be missing, then EOS, the results sent before
 * finalize all there. */
GST_START_TEST(test_live_close_on_finalize)
{
  Outcome want;
  reference(want);
  emu::Options opts = default_options();
  opts.close_on_finalize = true;
  opts.close_count = __i__ == 0 ? 1 : 0;
  emu::Emulator e(opts);
  start_emulator(e);
  Outcome o;
  run(e, o, [](GstElement *el) { g_object_set(el, "max-reconnects", 2u, nullptr); });
  assert_clean_end(o);
  assert_same_results(o, want);
  fail_unless_equals_int(o.reconnects.size(), 1);
  fail_unless(
      str(o.reconnects[0], "reason").find("after the end of the audio") != std::string::npos, "%s",
      str(o.reconnects[0], "reason").c_str());
  fail_unless_equals_int(e.sessions().size(), 2);
  if (__i__ == 0) {
    fail_unless(o.warnings.empty(), "%s", o.describe().c_str());
  } else {
    fail_unless_equals_int(o.warnings.size(), 1);
    fail_unless_equals_int(count_warnings(o, "may be missing"), 1);
    fail_unless(o.warnings[0].debug.find("1011") != std::string::npos, "%s",
                o.warnings[0].debug.c_str());
  }
}
GST_END_TEST;

/* The TCP connection is reset (no close frame) at finalize, on every
 * connection: one retry, then a warning and EOS; no hang. */
GST_START_TEST(test_live_reset_on_finalize)
{
  Outcome want;
  reference(want);
  emu::Options opts = default_options();
  opts.reset_on_finalize = true;
  emu::Emulator e(opts);
  start_emulator(e);
  Outcome o;
  run(e, o, [](GstElement *el) { g_object_set(el, "max-reconnects", 2u, nullptr); });
  assert_clean_end(o);
  fail_unless(o.elapsed_us < 10 * G_TIME_SPAN_SECOND, "EOS after %" G_GINT64_FORMAT " us",
              o.elapsed_us);
  assert_same_results(o, want);
  fail_unless_equals_int(count_warnings(o, "after the end of the audio"), 1);
  fail_unless_equals_int(o.warnings.size(), 1);
  fail_unless_equals_int(o.reconnects.size(), 1);
  auto sessions = e.sessions();
  fail_unless_equals_int(sessions.size(), 2);
  for (auto &s : sessions)
    assert_equals_std_string(s.fault, "reset-on-finalize");
}
GST_END_TEST;

/* A server that accepts and never answers: RESOURCE READ once `timeout`
 * (2 s here) has passed without a reply. */
GST_START_TEST(test_live_never_answers)
{
  emu::Options opts = default_options();
  opts.never_answer = true;
  emu::Emulator e(opts);
  start_emulator(e);
  Outcome o;
  run(e, o, [](GstElement *el) { g_object_set(el, "timeout", 2u, nullptr); });
  assert_error(o, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "no reply within 2 s");
  fail_unless(o.elapsed_us >= 2 * G_TIME_SPAN_SECOND && o.elapsed_us < 6 * G_TIME_SPAN_SECOND,
              "the error came after %" G_GINT64_FORMAT " us", o.elapsed_us);
  fail_unless(o.results.empty());
}
GST_END_TEST;

/* ================= harf-live: replies ================= */

/* A reply that is not JSON: one warning, the other replies still read. */
GST_START_TEST(test_live_malformed_json)
{
  emu::Options opts = default_options();
  opts.malformed_json = true;
  emu::Emulator e(opts);
  start_emulator(e);
  Outcome o;
  run(e, o);
  assert_clean_end(o);
  fail_unless_equals_int(o.warnings.size(), 1);
  fail_unless(o.warnings[0].message.find("malformed") != std::string::npos);
  fail_unless(o.warnings[0].debug.find("not JSON") != std::string::npos);
  assert_script_results(o);
}
GST_END_TEST;

/* A binary frame where a text reply belongs: a warning, results arrive. */
GST_START_TEST(test_live_binary_reply)
{
  emu::Options opts = default_options();
  opts.binary_reply = true;
  emu::Emulator e(opts);
  start_emulator(e);
  Outcome o;
  run(e, o);
  assert_clean_end(o);
  fail_unless_equals_int(count_warnings(o, "binary message"), 1);
  fail_unless_equals_int(o.warnings.size(), 1);
  assert_script_results(o);
}
GST_END_TEST;

/* A 10 MB text message, over the 8 MB max-answer-size: libsoup closes the
 * connection without keeping it; the element reconnects (max-reconnects=1)
 * and, the service sending it again, gives up with the reason, which names
 * the limit.  (No RSS check here: the in-process emulator itself holds the
 * 10 MB message about three times while sending it.) */
GST_START_TEST(test_live_huge_reply)
{
  emu::Options opts = default_options();
  opts.huge_reply_bytes = 10u << 20;
  emu::Emulator e(opts);
  start_emulator(e);
  Outcome o;
  run(e, o, [](GstElement *el) { g_object_set(el, "max-reconnects", 1u, nullptr); });
  assert_error(o, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "max-incoming-payload-size");
  fail_unless(o.error->message.find("gave up after 1 reconnection") != std::string::npos, "%s",
              o.error->message.c_str());
  fail_unless_equals_int(o.reconnects.size(), 1);
  fail_unless(str(o.reconnects[0], "reason").find("larger than") != std::string::npos, "%s",
              str(o.reconnects[0], "reason").c_str());
  fail_unless(o.results.empty(), "%s", o.describe().c_str());
  fail_unless_equals_int(e.handshake_count(), 2);
}
GST_END_TEST;

/* Segments at 27 h, and one that ends before it starts: each a warning,
 * neither in the results, every result within the audio; EOS comes. */
GST_START_TEST(test_live_impossible_times)
{
  emu::Options opts = default_options();
  opts.impossible_times = true;
  emu::Emulator e(opts);
  start_emulator(e);
  Outcome o;
  run(e, o);
  assert_clean_end(o);
  fail_unless_equals_int(o.warnings.size(), 2);
  fail_unless_equals_int(count_warnings(o, "impossible times"), 1);
  bool ends_before = false;
  for (auto &w : o.warnings)
    ends_before = ends_before || w.debug.find("ends before it starts") != std::string::npos;
  fail_unless(ends_before, "%s", o.describe().c_str());
  assert_times_within_audio(o);
  for (auto *s : o.results)
    fail_if(str(s, "raw-text") == "زمان ناممکن");
  assert_script_results(o);
}
GST_END_TEST;

/* Raw bytes 0xFF 0xFE in a text frame: libsoup fails the connection (a
 * text frame must be UTF-8); the service does it again on the next
 * connection, so the element gives up.  Whatever reached the user is valid
 * UTF-8, and nothing crashed. */
GST_START_TEST(test_live_invalid_utf8)
{
  emu::Options opts = default_options();
  opts.invalid_utf8 = true;
  emu::Emulator e(opts);
  start_emulator(e);
  Outcome o;
  run(e, o, [](GstElement *el) { g_object_set(el, "max-reconnects", 1u, nullptr); });
  assert_all_valid_utf8(o);
  assert_error(o, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "invalid WebSocket data");
  fail_unless_equals_int(o.reconnects.size(), 1);
  fail_unless(o.results.empty(), "%s", o.describe().c_str());
}
GST_END_TEST;

/* A lone surrogate (\udcff) in a JSON string: the text is made valid
 * UTF-8, the stream goes on. */
GST_START_TEST(test_live_lone_surrogate)
{
  emu::Options opts = default_options();
  opts.lone_surrogate = true;
  emu::Emulator e(opts);
  start_emulator(e);
  Outcome o;
  run(e, o);
  assert_clean_end(o);
  assert_all_valid_utf8(o);
  assert_script_results(o);
  assert_times_within_audio(o);
}
GST_END_TEST;

/* Fields of the wrong types ({"segment_id": 1e30, "text": 5, "start":
 * true}, then {"segment_id": "abc", "end": [1]}): a warning each that names
 * the field, no GLib critical (gst-check makes them fatal), the results
 * after them still arrive. */
GST_START_TEST(test_live_wrong_types)
{
  emu::Options opts = default_options();
  opts.wrong_types = true;
  emu::Emulator e(opts);
  start_emulator(e);
  Outcome o;
  run(e, o);
  assert_clean_end(o);
  fail_unless_equals_int(o.warnings.size(), 2);
  const std::vector<std::vector<const char *>> fields = {
      {"\"segment_id\"", "\"text\"", "\"start\""}, {"\"segment_id\"", "\"end\""}};
  for (size_t i = 0; i < 2; ++i) {
    const Issue &w = o.warnings[i];
    fail_unless(w.message.find("malformed") != std::string::npos, "%s", w.message.c_str());
    bool named = std::any_of(fields[i].begin(), fields[i].end(), [&](const char *f) {
      return (w.message + w.debug).find(f) != std::string::npos;
    });
    fail_unless(named, "warning %zu names no field: %s [%s]", i, w.message.c_str(),
                w.debug.c_str());
  }
  assert_script_results(o);
}
GST_END_TEST;

/* A reply nested 80,000 levels deep: refused before parsing, a warning. */
GST_START_TEST(test_live_deep_json)
{
  emu::Options opts = default_options();
  opts.deep_json_depth = 80000;
  emu::Emulator e(opts);
  start_emulator(e);
  Outcome o;
  run(e, o);
  assert_clean_end(o);
  fail_unless_equals_int(o.warnings.size(), 1);
  fail_unless(o.warnings[0].debug.find("deeper than 64") != std::string::npos, "%s",
              o.warnings[0].debug.c_str());
  assert_script_results(o);
}
GST_END_TEST;

/* ================= batch: harf-file and nevisa ================= */

/* "state" of the wrong type (5, true): an error naming "state", not an
 * abort of the process.  Loops 0-1: the upload's answer (harf-wait=true,
 * the task fails: {"state": <x>}); loops 2-3: harf-wait=false, where the
 * upload's answer is the first to carry a state. */
GST_START_TEST(test_harf_file_state_wrong_type)
{
  emu::Options o = batch_options();
  o.harf_state_type = __i__ % 2 == 0 ? "5" : "true";
  const bool wait = __i__ < 2;
  o.harf_failure = wait;
  expect_batch_error(o, false, wait, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED, "\"state\"");
}
GST_END_TEST;

/* "segments" that is not an array: an error naming it (it used to be an
 * empty success). */
GST_START_TEST(test_harf_file_segments_wrong_type)
{
  emu::Options o = batch_options();
  o.harf_segments_value = "\"nope\"";
  expect_batch_error(o, false, true, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED, "\"segments\"");
}
GST_END_TEST;

/* Raw bytes 0xFF 0xFE (loops 0, 2) or a lone surrogate \udcff (loops 1, 3)
 * in the first segment's text of a Harf file result (0, 1) or in Nevisa's
 * first word (2, 3): no crash, and whatever reaches the user is valid
 * UTF-8.  Today json-glib refuses the whole answer, so the stream fails
 * with RESOURCE/FAILED naming "not JSON"; results made valid would pass
 * too (three of them). */
GST_START_TEST(test_batch_invalid_text)
{
  const bool use_nevisa = __i__ >= 2;
  emu::Options opts = batch_options();
  (__i__ % 2 == 0 ? opts.invalid_utf8 : opts.lone_surrogate) = true;
  auto before = temp_recordings();
  emu::Emulator e(opts);
  start_emulator(e);
  Outcome o;
  run(e, o, use_nevisa ? nevisa(e) : harf_file(e, true));
  assert_all_valid_utf8(o);
  if (o.error) {
    GST_INFO("the whole answer was refused: %s", o.error->message.c_str());
    assert_error(o, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED, "not JSON");
  } else {
    assert_clean_end(o);
    fail_unless_equals_int(o.finals().size(), 3);
  }
  fail_unless(temp_recordings() == before, "the temporary recording was left behind");
}
GST_END_TEST;

static const char *const kDeepTargets[] = {"harf-upload", "harf-poll", "nevisa-login",
                                           "nevisa-upload", "nevisa-progress"};

/* An answer nested 80,000 levels deep, from each endpoint: an error saying
 * "deeper than 64", never a stack overflow. */
GST_START_TEST(test_batch_deep_json)
{
  const std::string target = kDeepTargets[__i__];
  emu::Options o = batch_options();
  o.http_deep_json_depth = 80000;
  o.http_deep_target = target;
  const bool use_nevisa = target.rfind("nevisa", 0) == 0;
  expect_batch_error(o, use_nevisa, target != "harf-poll", GST_RESOURCE_ERROR,
                     GST_RESOURCE_ERROR_FAILED, "deeper than 64");
}
GST_END_TEST;

/* A 50 MB answer (loop 0: to the Harf upload; 1: to a Nevisa progress
 * poll): READ naming max-answer-size, and the process's peak RSS grows by
 * far less than 50 MB (the answer is read up to the 8 MB cap, then cut).
 * Loop 2: Nevisa with max-answer-size 1024, where a long answer goes to
 * disk: READ naming the bound on disk (four times the audio uploaded, far
 * below 50 MB), and memory grows as little. */
GST_START_TEST(test_batch_huge_body)
{
  const bool use_nevisa = __i__ >= 1, small = __i__ == 2;
  emu::Options o = batch_options();
  o.http_huge_body_bytes = 50ull << 20;
  o.http_huge_target = use_nevisa ? "nevisa-progress" : "harf-upload";
  emu::Emulator e(o);
  start_emulator(e);
  const long before = status_kb("VmRSS");
  const bool peak = reset_peak_rss();
  Outcome out;
  Configure configure = use_nevisa ? nevisa(e) : harf_file(e, true);
  if (small)
    configure = [configure](GstElement *el) {
      configure(el);
      g_object_set(el, "max-answer-size", 1024u, nullptr);
    };
  run(e, out, configure);
  const long after = peak ? status_kb("VmHWM") : status_kb("VmRSS");
  assert_error(out, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
               small ? "four times the audio uploaded" : "max-answer-size");
  fail_unless(before > 0 && after > 0, "no VmRSS");
  GST_INFO("RSS %ld kB before, %s %ld kB: +%ld kB", before, peak ? "peak" : "after", after,
           after - before);
  fail_unless(after - before < 20 * 1024, "RSS grew by %ld kB (%s)", after - before,
              peak ? "peak" : "after");
}
GST_END_TEST;

/* Percents 80, 40, 10, -50, 1e9 from the progress polls: the progress
 * messages' percents never go back and stay within 0..100 (or -1). */
GST_START_TEST(test_nevisa_percent_sequence)
{
  emu::Options opts = batch_options();
  opts.nevisa_percent_sequence = {80, 40, 10, -50, 1e9};
  emu::Emulator e(opts);
  start_emulator(e);
  Outcome o;
  run(e, o, nevisa(e));
  assert_clean_end(o);
  fail_unless_equals_int(o.finals().size(), 3);
  double last_upload = -1, last_task = -1;
  size_t polled = 0;
  for (auto *p : o.progress) {
    gdouble pc = -2;
    fail_unless(gst_structure_get_double(p, "percent", &pc));
    fail_unless(pc == -1 || (pc >= 0 && pc <= 100), "percent %f", pc);
    double &last = str(p, "state") == "UPLOADING" ? last_upload : last_task;
    fail_unless(pc >= last, "percent went back: %f after %f (%s)", pc, last,
                str(p, "state").c_str());
    last = pc;
    polled += str(p, "state") == "PROGRESS";
  }
  fail_unless(polled >= 5, "%zu PROGRESS messages", polled);
  fail_unless(last_task == 100);
}
GST_END_TEST;

/* The result's first word has no "start": every message still has a time. */
GST_START_TEST(test_nevisa_first_word_no_start)
{
  emu::Options opts = batch_options();
  opts.nevisa_first_word_no_start = true;
  emu::Emulator e(opts);
  start_emulator(e);
  Outcome o;
  run(e, o, nevisa(e));
  assert_clean_end(o);
  fail_unless_equals_int(o.finals().size(), 3);
  for (auto *s : o.results) {
    fail_unless(GST_CLOCK_TIME_IS_VALID(u64(s, "timestamp")));
    fail_unless(GST_CLOCK_TIME_IS_VALID(u64(s, "start")));
    const GValue *words = gst_structure_get_value(s, "words");
    for (guint k = 0; words && k < gst_value_array_get_size(words); ++k) {
      const GstStructure *w = gst_value_get_structure(gst_value_array_get_value(words, k));
      fail_unless(GST_CLOCK_TIME_IS_VALID(u64(w, "start")), "word %u has no start", k);
    }
  }
  assert_times_within_audio(o);
}
GST_END_TEST;

static const char *const kProgressFaults[] = {"500", "not-json", "hang", "bad-url"};

/* celery-progress fails (500 on every poll, an HTML page, no answer at all,
 * a progress_url that is not a URL): an error naming the cause, and the
 * task is terminated at Nevisa (file/terminate-task reaches it, sent
 * without blocking). */
GST_START_TEST(test_nevisa_progress_fail_terminates)
{
  const std::string how = kProgressFaults[__i__];
  emu::Options opts = batch_options();
  opts.nevisa_progress_fail = how;
  emu::Emulator e(opts);
  start_emulator(e);
  Outcome o;
  Configure base = nevisa(e);
  run(e, o, [&base](GstElement *el) {
    base(el);
    g_object_set(el, "timeout", 2u, nullptr);
  });
  if (how == "500")
    assert_error(o, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "HTTP 500");
  else if (how == "not-json")
    assert_error(o, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED, "not JSON");
  else if (how == "hang")
    assert_error(o, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "within 2 s");
  else
    assert_error(o, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE, "http://[::1");
  fail_unless(e.wait_rest(terminate_reached, 10000), "no terminate-task reached the emulator");
  size_t terminated = 0;
  for (auto &r : e.rest_requests())
    if (r.kind == "nevisa-terminate") {
      ++terminated;
      fail_unless_equals_int(r.status, 200);
    }
  fail_unless_equals_int(terminated, 1);
}
GST_END_TEST;

static Suite *faults_suite()
{
  Suite *s = suite_create("faults");
  TCase *live = tcase_create("harf-live");
  tcase_set_timeout(live, 60);
  suite_add_tcase(s, live);
  tcase_add_test(live, test_live_refused_connection);
  tcase_add_test(live, test_live_dns_failure);
  tcase_add_test(live, test_live_tls_self_signed_rejected);
  tcase_add_loop_test(live, test_live_handshake_rejected_not_retried, 0, 2);
  tcase_add_loop_test(live, test_live_handshake_429_500_recovered, 0, 2);
  tcase_add_test(live, test_live_close_mid_stream_recovered);
  tcase_add_loop_test(live, test_live_close_on_finalize, 0, 2);
  tcase_add_test(live, test_live_reset_on_finalize);
  tcase_add_test(live, test_live_never_answers);
  tcase_add_test(live, test_live_malformed_json);
  tcase_add_test(live, test_live_binary_reply);
  tcase_add_test(live, test_live_huge_reply);
  tcase_add_test(live, test_live_impossible_times);
  tcase_add_test(live, test_live_invalid_utf8);
  tcase_add_test(live, test_live_lone_surrogate);
  tcase_add_test(live, test_live_wrong_types);
  tcase_add_test(live, test_live_deep_json);

  TCase *batch = tcase_create("batch");
  tcase_set_timeout(batch, 60);
  suite_add_tcase(s, batch);
  tcase_add_loop_test(batch, test_harf_file_state_wrong_type, 0, 4);
  tcase_add_test(batch, test_harf_file_segments_wrong_type);
  tcase_add_loop_test(batch, test_batch_invalid_text, 0, 4);
  tcase_add_loop_test(batch, test_batch_deep_json, 0, G_N_ELEMENTS(kDeepTargets));
  tcase_add_loop_test(batch, test_batch_huge_body, 0, 3);
  tcase_add_test(batch, test_nevisa_percent_sequence);
  tcase_add_test(batch, test_nevisa_first_word_no_start);
  tcase_add_loop_test(batch, test_nevisa_progress_fail_terminates, 0,
                      G_N_ELEMENTS(kProgressFaults));
  return s;
}

GST_CHECK_MAIN(faults);
