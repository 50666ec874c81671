// SPDX-License-Identifier: LGPL-2.1-or-later
/* backend=nevisa-live against the emulator's Nevisa live WebSocket: the
 * conversation (INIT, REQ, SOES, audio, EOES), both framings, credentials
 * in the query and never in a log, results with word times and
 * confidences on the input timeline, partials that never shrink, the
 * handshake's timeouts, NO-USAGE-REMAINED, and reconnection through the
 * live Harf backend's session machinery. */
#include <algorithm>
#include <mutex>

#include "engine.h"
#include "test_helpers.h"

using namespace testutil;

namespace {

constexpr const char *kStaticToken = "nevisa-live-token-7c1e";
constexpr const char *kStaticKey = "nevisa-live-key-90ab";

emu::Options live_options()
{
  emu::Options o = batch_options();
  o.nevisa_static_token = kStaticToken;
  o.nevisa_static_key = kStaticKey;
  return o;
}

/* persiantranscribe (or harfsink) on backend nevisa-live, with the static
 * credentials (or a login when login is true). */
GstElement *make_nevisa_live(const char *factory, emu::Emulator &e, GstBus **bus,
                             bool login = false)
{
  GstElement *el = gst_element_factory_make(factory, nullptr);
  fail_unless(el != nullptr);
  gst_util_set_object_arg(G_OBJECT(el), "backend", "nevisa-live");
  g_object_set(el, "nevisa-live-url", e.nevisa_live_url().c_str(), "nevisa-login-url",
               e.nevisa_login_url().c_str(), "timeout", 10u, nullptr);
  if (login)
    g_object_set(el, "nevisa-username", kUser, "nevisa-password", kPassword, nullptr);
  else
    g_object_set(el, "nevisa-auth-token", kStaticToken, "nevisa-api-key", kStaticKey, nullptr);
  *bus = gst_bus_new();
  gst_element_set_bus(el, *bus);
  return el;
}

struct Run {
  std::vector<GstStructure *> results;
  std::vector<GstMessage *> others;
  std::vector<GstBuffer *> buffers;
  std::vector<uint8_t> audio;
  ~Run()
  {
    free_structures(results);
    for (auto *m : others)
      gst_message_unref(m);
    for (auto *b : buffers)
      gst_buffer_unref(b);
  }
};

/* Three sentences (or PATTERN) through persiantranscribe, EOS, everything out. */
void run_three_sentences(emu::Emulator &e, Run &out, void (*extra)(GstElement *) = nullptr,
                         bool login = false, const std::vector<Burst> &pattern = three_sentences())
{
  GstBus *bus;
  GstElement *el = make_nevisa_live("persiantranscribe", e, &bus, login);
  if (extra)
    extra(el);
  GstHarness *h = gst_harness_new_with_element(el, "sink", "src");
  gst_harness_play(h);
  gst_harness_set_src_caps(h, audio_caps(GST_AUDIO_FORMAT_S16LE, 16000, 1));
  out.audio = make_audio(GST_AUDIO_FORMAT_S16LE, 16000, 1, pattern);
  push_audio(h, GST_AUDIO_FORMAT_S16LE, 16000, 1, out.audio, 0);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  auto events = pull_events_until_eos(h);
  free_events(events);
  out.buffers = pull_all_buffers(h);
  out.results = pop_transcriptions(bus, &out.others);
  teardown_element(h, el, bus);
}

/* The first error message among others, or null. */
GstMessage *first_error(const std::vector<GstMessage *> &msgs)
{
  for (auto *m : msgs)
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR)
      return m;
  return nullptr;
}

std::string str(const GstStructure *s, const char *f)
{
  const gchar *v = gst_structure_get_string(s, f);
  return v ? v : "";
}

/* Expects the stream to fail: the error's domain, code, text and reason. */
void expect_error(emu::Options o, GQuark domain, gint code, const char *must_contain,
                  const char *reason, void (*extra)(GstElement *) = nullptr)
{
  emu::Emulator e(o);
  start_emulator(e);
  GstBus *bus;
  GstElement *el = make_nevisa_live("persiantranscribe", e, &bus);
  if (extra)
    extra(el);
  GstHarness *h = gst_harness_new_with_element(el, "sink", "src");
  gst_harness_play(h);
  gst_harness_set_src_caps(h, audio_caps(GST_AUDIO_FORMAT_S16LE, 16000, 1));
  auto audio = make_audio(GST_AUDIO_FORMAT_S16LE, 16000, 1, three_sentences());
  /* Pushing may fail once the error is posted: that is expected. */
  size_t frames_per_buf = 1600;
  for (size_t off = 0; off < audio.size() / 2; off += frames_per_buf) {
    size_t n = std::min(frames_per_buf, audio.size() / 2 - off);
    GstBuffer *b = gst_buffer_new_memdup(audio.data() + off * 2, n * 2);
    GST_BUFFER_PTS(b) = gst_util_uint64_scale(off, GST_SECOND, 16000);
    GST_BUFFER_DURATION(b) = gst_util_uint64_scale(n, GST_SECOND, 16000);
    if (gst_harness_push(h, b) != GST_FLOW_OK)
      break;
  }
  gst_harness_push_event(h, gst_event_new_eos());
  GstMessage *m = wait_for(bus, GST_MESSAGE_ERROR, 30 * GST_SECOND);
  fail_unless(m != nullptr, "no error within 30 s");
  GError *err = nullptr;
  gst_message_parse_error(m, &err, nullptr);
  fail_unless(err->domain == domain && err->code == code, "got %s %d: %s",
              g_quark_to_string(err->domain), err->code, err->message);
  fail_unless(strstr(err->message, must_contain) != nullptr, "message: %s", err->message);
  fail_if(strstr(err->message, kStaticToken) || strstr(err->message, kStaticKey),
          "a secret in the message");
  const GstStructure *details = nullptr;
  gst_message_parse_error_details(m, &details);
  if (reason) {
    fail_unless(details != nullptr, "no details");
    assert_equals_std_string(str(details, pt::kErrorReasonField), reason);
  }
  g_error_free(err);
  gst_message_unref(m);
  teardown_element(h, el, bus);
}

}  // namespace

GST_START_TEST(test_nevisa_live_end_to_end)
{
  emu::Emulator e(live_options());
  start_emulator(e);
  Run r;
  run_three_sentences(e, r);
  fail_unless(first_error(r.others) == nullptr, "an error");

  /* the conversation, in order, with the credentials in the query */
  auto sessions = e.nevisa_live_sessions();
  fail_unless_equals_int(sessions.size(), 1);
  const emu::NevisaLiveRecord &s = sessions[0];
  assert_equals_std_string(s.query_authorization, kStaticToken);
  assert_equals_std_string(s.query_api_key, kStaticKey);
  fail_unless(s.subjects_received.size() >= 3);
  assert_equals_std_string(s.subjects_received[0], "REQ");
  assert_equals_std_string(s.subjects_received[1], "SOES");
  assert_equals_std_string(s.subjects_received.back(), "EOES");
  fail_unless_equals_int(s.req_sample_rate, 16000);
  assert_equals_std_string(s.req_mode, "stream-custom-raw");
  fail_if(s.binary_before_soes);
  /* every message a complete WAV of at most 500 ms, and all the audio sent */
  fail_unless(s.wav_messages > 0 && s.raw_messages == 0);
  fail_unless(s.framing_errors.empty(), "%s", s.framing_errors[0].c_str());
  for (size_t n : s.binary_sizes)
    fail_unless(n <= 44 + 16000, "a message of %zu bytes", n);
  fail_unless_equals_uint64(s.pcm_bytes, r.audio.size());

  /* three final results, with word times and confidences, on the input timeline */
  fail_unless_equals_int(r.results.size(), 3);
  auto script = persian_script();
  for (size_t i = 0; i < r.results.size(); ++i) {
    const GstStructure *m = r.results[i];
    assert_equals_std_string(str(m, "backend"), "nevisa-live");
    gboolean final = FALSE;
    gst_structure_get_boolean(m, "final", &final);
    fail_unless(final);
    const GValue *words = gst_structure_get_value(m, "words");
    fail_unless(words && gst_value_array_get_size(words) > 1);
    guint64 start, end, prev = 0;
    gst_structure_get_uint64(m, "start", &start);
    gst_structure_get_uint64(m, "end", &end);
    /* tone i runs from 0.5 + 2i to 1.5 + 2i s */
    fail_unless(start >= (400 + 2000 * i) * GST_MSECOND && end <= (1700 + 2000 * i) * GST_MSECOND,
                "result %zu at %" GST_TIME_FORMAT "-%" GST_TIME_FORMAT, i, GST_TIME_ARGS(start),
                GST_TIME_ARGS(end));
    for (guint k = 0; k < gst_value_array_get_size(words); ++k) {
      const GstStructure *w = gst_value_get_structure(gst_value_array_get_value(words, k));
      guint64 ws, we;
      gdouble conf;
      gboolean uncertain;
      gst_structure_get_uint64(w, "start", &ws);
      gst_structure_get_uint64(w, "end", &we);
      gst_structure_get_double(w, "confidence", &conf);
      gst_structure_get_boolean(w, "uncertain", &uncertain);
      fail_unless(we >= ws && ws >= prev && ws >= start && we <= end);
      if (k == 0)
        fail_unless_equals_uint64(ws, start);
      prev = we;
      fail_unless(conf > 0 && conf <= 1);
      fail_unless_equals_int(uncertain, conf < 0.5);
    }
  }
  /* the text buffers: the low-confidence words in italics */
  bool italics = false;
  for (auto *b : r.buffers)
    italics = italics || buffer_text(b).find("<i>") != std::string::npos;
  fail_unless(italics, "no uncertain word in italics");
}
GST_END_TEST;

static void raw_framing(GstElement *el)
{
  gst_util_set_object_arg(G_OBJECT(el), "nevisa-live-framing", "raw");
}

GST_START_TEST(test_nevisa_live_raw_framing)
{
  emu::Emulator e(live_options());
  start_emulator(e);
  Run r;
  run_three_sentences(e, r, raw_framing);
  fail_unless(first_error(r.others) == nullptr);
  auto sessions = e.nevisa_live_sessions();
  fail_unless_equals_int(sessions.size(), 1);
  fail_unless(sessions[0].raw_messages > 0 && sessions[0].wav_messages == 0);
  for (size_t n : sessions[0].binary_sizes)
    fail_unless(n <= 16000, "a message of %zu bytes", n);
  fail_unless_equals_uint64(sessions[0].pcm_bytes, r.audio.size());
  fail_unless_equals_int(r.results.size(), 3);
}
GST_END_TEST;

/* With a username and password: one login, then the WebSocket with the
 * token and key the login issued. */
GST_START_TEST(test_nevisa_live_login)
{
  emu::Emulator e(live_options());
  start_emulator(e);
  Run r;
  run_three_sentences(e, r, nullptr, true);
  fail_unless(first_error(r.others) == nullptr);
  fail_unless_equals_int(e.rest_count("nevisa-login"), 1);
  auto sessions = e.nevisa_live_sessions();
  fail_unless_equals_int(sessions.size(), 1);
  fail_if(sessions[0].query_authorization.empty() ||
          sessions[0].query_authorization == kStaticToken);
  fail_if(sessions[0].query_api_key.empty());
  fail_unless_equals_int(r.results.size(), 3);
}
GST_END_TEST;

static void with_partials(GstElement *el)
{
  g_object_set(el, "partial-results", TRUE, nullptr);
}

/* Interim text comes as final=false messages, never shrinking, each
 * result's partials before its final. */
GST_START_TEST(test_nevisa_live_partials)
{
  emu::Emulator e(live_options());
  start_emulator(e);
  Run r;
  run_three_sentences(e, r, with_partials);
  fail_unless(first_error(r.others) == nullptr);
  size_t partials = 0, finals = 0;
  std::string last_partial;
  for (auto *m : r.results) {
    gboolean final = TRUE;
    gst_structure_get_boolean(m, "final", &final);
    std::string text = str(m, "text");
    if (final) {
      ++finals;
      last_partial.clear();
      continue;
    }
    ++partials;
    fail_unless(g_utf8_strlen(text.c_str(), -1) >= g_utf8_strlen(last_partial.c_str(), -1),
                "a partial shrank: '%s' after '%s'", text.c_str(), last_partial.c_str());
    last_partial = text;
  }
  fail_unless_equals_int(finals, 3);
  fail_unless(partials >= 3, "%zu partials", partials);
}
GST_END_TEST;

static void short_timeout(GstElement *el)
{
  g_object_set(el, "timeout", 1u, "max-reconnects", 0u, nullptr);
}

/* A server that never sends INIT, or never answers REQ or SOES: an error
 * within timeout that names the step. */
GST_START_TEST(test_nevisa_live_handshake_timeouts)
{
  emu::Options a = live_options();
  a.nevisa_live_no_init = true;
  expect_error(a, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "did not send INIT", nullptr,
               short_timeout);
  emu::Options b = live_options();
  b.nevisa_live_no_req_response = true;
  expect_error(b, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "REQ-RESPONSE", nullptr,
               short_timeout);
  emu::Options c = live_options();
  c.nevisa_live_no_soes_response = true;
  expect_error(c, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "SOES-RESPONSE", nullptr,
               short_timeout);
}
GST_END_TEST;

GST_START_TEST(test_nevisa_live_no_usage_remained)
{
  emu::Options o = live_options();
  o.nevisa_live_no_usage_after = 2;
  expect_error(o, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED, "credit is used up",
               pt::kReasonNoCredit);
}
GST_END_TEST;

static void wrong_key(GstElement *el)
{
  g_object_set(el, "nevisa-api-key", "not-the-key", nullptr);
}

GST_START_TEST(test_nevisa_live_rejected)
{
  expect_error(live_options(), GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
               "Nevisa rejected the credentials", pt::kReasonCredentialsRejected, wrong_key);
}
GST_END_TEST;

/* An unknown subject is ignored: the stream ends normally. */
GST_START_TEST(test_nevisa_live_unknown_subject)
{
  emu::Options o = live_options();
  o.nevisa_live_unknown_subject = true;
  emu::Emulator e(o);
  start_emulator(e);
  Run r;
  run_three_sentences(e, r);
  fail_unless(first_error(r.others) == nullptr);
  fail_unless_equals_int(r.results.size(), 3);
}
GST_END_TEST;

/* The server closes on the 4th audio message: a transcription-reconnect
 * message, a second session (INIT, REQ, SOES, the replayed audio), and
 * every result once, at the right time. */
GST_START_TEST(test_nevisa_live_reconnects)
{
  emu::Options o = live_options();
  o.close_after = 4;
  o.close_count = 1;
  emu::Emulator e(o);
  start_emulator(e);
  Run r;
  run_three_sentences(e, r);
  fail_unless(first_error(r.others) == nullptr, "an error");
  bool reconnect = false;
  for (auto *m : r.others) {
    const GstStructure *s = gst_message_get_structure(m);
    reconnect = reconnect || (s && gst_structure_has_name(s, "transcription-reconnect"));
  }
  fail_unless(reconnect, "no transcription-reconnect message");
  auto sessions = e.nevisa_live_sessions();
  fail_unless_equals_int(sessions.size(), 2);
  assert_equals_std_string(sessions[1].subjects_received[0], "REQ");
  assert_equals_std_string(sessions[1].subjects_received[1], "SOES");
  fail_unless_equals_int(r.results.size(), 3);
  for (size_t i = 0; i < r.results.size(); ++i) {
    guint64 start;
    gst_structure_get_uint64(r.results[i], "start", &start);
    fail_unless(start >= (400 + 2000 * i) * GST_MSECOND && start <= (1500 + 2000 * i) * GST_MSECOND,
                "result %zu at %" GST_TIME_FORMAT, i, GST_TIME_ARGS(start));
  }
}
GST_END_TEST;

/* skip-silence on nevisa-live: the inside of a 6 s pause (3 s of it) is not
 * sent, the new session after it starts with REQ and SOES again, and both
 * sentences come at the same times as when everything is sent. */
static void skip_silence(GstElement *el)
{
  g_object_set(el, "skip-silence", TRUE, nullptr);
}

GST_START_TEST(test_nevisa_live_skip_silence)
{
  const std::vector<Burst> pauses = {
      {0.5, false}, {1.0, true}, {6.0, false}, {1.0, true}, {1.0, false}};
  uint64_t all_bytes = 0, skipped_bytes = 0;
  Run all, skipped;
  {
    emu::Emulator e(live_options());
    start_emulator(e);
    run_three_sentences(e, all, nullptr, false, pauses);
    for (auto &s : e.nevisa_live_sessions())
      all_bytes += s.pcm_bytes;
  }
  {
    emu::Emulator e(live_options());
    start_emulator(e);
    run_three_sentences(e, skipped, skip_silence, false, pauses);
    for (auto &s : e.nevisa_live_sessions())
      skipped_bytes += s.pcm_bytes;
    auto sessions = e.nevisa_live_sessions();
    fail_unless(sessions.size() >= 1);
    size_t soes = 0;
    for (auto &s : sessions)
      for (auto &subject : s.subjects_received)
        soes += subject == "SOES";
    fail_unless_equals_int(soes, 2);
  }
  fail_unless(first_error(all.others) == nullptr, "an error");
  fail_unless(first_error(skipped.others) == nullptr, "an error with skip-silence");
  fail_unless_equals_int(all.results.size(), 2);
  fail_unless_equals_int(skipped.results.size(), 2);
  for (size_t i = 0; i < 2; ++i) {
    guint64 a = 0, b = 0;
    fail_unless(gst_structure_get_uint64(all.results[i], "timestamp", &a));
    fail_unless(gst_structure_get_uint64(skipped.results[i], "timestamp", &b));
    fail_unless_equals_uint64(b, a);
  }
  fail_unless_equals_uint64(skipped_bytes, all_bytes - 3 * 32000);
}
GST_END_TEST;

/* The credentials are in the URL's query: no log line at any level, no
 * message, shows them. */
namespace {
std::mutex log_lock;
std::string log_text;
void capture_log(GstDebugCategory *, GstDebugLevel, const gchar *, const gchar *, gint, GObject *,
                 GstDebugMessage *message, gpointer)
{
  std::lock_guard<std::mutex> lk(log_lock);
  if (const gchar *t = gst_debug_message_get(message))
    log_text += std::string(t) + "\n";
}
}  // namespace

GST_START_TEST(test_nevisa_live_secrets_never_logged)
{
  gst_debug_set_threshold_for_name("persiantranscribe*", GST_LEVEL_MEMDUMP);
  gst_debug_set_threshold_for_name("GST_ELEMENT_FACTORY", GST_LEVEL_NONE);
  gst_debug_add_log_function(capture_log, nullptr, nullptr);
  {
    emu::Emulator e(live_options());
    start_emulator(e);
    Run r;
    run_three_sentences(e, r);
    fail_unless_equals_int(r.results.size(), 3);
    Run l;
    run_three_sentences(e, l, nullptr, true);
    fail_unless_equals_int(l.results.size(), 3);
  }
  gst_debug_remove_log_function(capture_log);
  gst_debug_set_threshold_for_name("persiantranscribe*", GST_LEVEL_NONE);
  std::lock_guard<std::mutex> lk(log_lock);
  fail_unless(log_text.find("Authorization=***&api-key=***") != std::string::npos,
              "the masked URL is not in the log");
  for (const char *secret : {kStaticToken, kStaticKey, kPassword})
    fail_unless(log_text.find(secret) == std::string::npos, "a secret in the log");
  /* the token the login issued: never after "Authorization=" */
  fail_unless(log_text.find("Authorization=") == log_text.find("Authorization=***"));
}
GST_END_TEST;

/* harfsink drives the same backend. */
GST_START_TEST(test_nevisa_live_harfsink)
{
  emu::Emulator e(live_options());
  start_emulator(e);
  GstBus *bus;
  GstElement *el = make_nevisa_live("harfsink", e, &bus);
  GstHarness *h = gst_harness_new_with_element(el, "sink", nullptr);
  gst_harness_play(h);
  gst_harness_set_src_caps(h, audio_caps(GST_AUDIO_FORMAT_S16LE, 16000, 1));
  auto audio = make_audio(GST_AUDIO_FORMAT_S16LE, 16000, 1, three_sentences());
  push_audio(h, GST_AUDIO_FORMAT_S16LE, 16000, 1, audio, 0);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  auto results = transcriptions_until_eos(bus);
  fail_unless_equals_int(results.size(), 3);
  for (auto *m : results)
    assert_equals_std_string(str(m, "backend"), "nevisa-live");
  free_structures(results);
  teardown_element(h, el, bus);
}
GST_END_TEST;

static Suite *nevisa_live_suite()
{
  Suite *s = suite_create("nevisa-live");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_nevisa_live_end_to_end);
  tcase_add_test(tc, test_nevisa_live_raw_framing);
  tcase_add_test(tc, test_nevisa_live_login);
  tcase_add_test(tc, test_nevisa_live_partials);
  tcase_add_test(tc, test_nevisa_live_handshake_timeouts);
  tcase_add_test(tc, test_nevisa_live_no_usage_remained);
  tcase_add_test(tc, test_nevisa_live_rejected);
  tcase_add_test(tc, test_nevisa_live_unknown_subject);
  tcase_add_test(tc, test_nevisa_live_reconnects);
  tcase_add_test(tc, test_nevisa_live_skip_silence);
  tcase_add_test(tc, test_nevisa_live_secrets_never_logged);
  tcase_add_test(tc, test_nevisa_live_harfsink);
  return s;
}

GST_CHECK_MAIN(nevisa_live);
