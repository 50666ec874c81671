// SPDX-License-Identifier: LGPL-2.1-or-later
/* The batch backends (nevisa, harf-file) against the emulator's REST API. */
/* Before gstcheck.h (in test_helpers.h), whose fail() would rename Engine::fail */
#include "engine_listener.h"

#include <glib/gstdio.h>

#include <set>

#include "test_helpers.h"
#include "wav_header.h"

using namespace testutil;

namespace {

std::set<std::string> temp_recordings()
{
  std::set<std::string> out;
  GDir *d = g_dir_open(g_get_tmp_dir(), 0, nullptr);
  if (!d)
    return out;
  while (const gchar *n = g_dir_read_name(d))
    if (g_str_has_prefix(n, "persiantranscribe-")) /* recordings, answers kept on disk */
      out.insert(n);
  g_dir_close(d);
  return out;
}

struct Batch {
  std::vector<GstStructure *> results;
  std::vector<GstStructure *> progress;
  std::vector<GstBuffer *> buffers;
  GError *error = nullptr;
  std::vector<uint8_t> audio; /* what was pushed: 16 kHz mono S16 */
  ~Batch()
  {
    free_structures(results);
    free_structures(progress);
    for (auto *b : buffers)
      gst_buffer_unref(b);
    g_clear_error(&error);
  }
};

void configure_nevisa(GstElement *el, emu::Emulator &e)
{
  g_object_set(el, "backend", 2, "nevisa-username", kUser, "nevisa-password", kPassword,
               "nevisa-login-url", e.nevisa_login_url().c_str(), "nevisa-api-url",
               e.nevisa_api_url().c_str(), "poll-interval", 100u, nullptr);
}

void configure_harf_file(GstElement *el, emu::Emulator &e)
{
  g_object_set(el, "backend", 1, "harf-api-url", e.harf_api_url().c_str(), "poll-interval", 100u,
               nullptr);
}

/* Streams three tone bursts (16 kHz mono S16) and collects what comes out:
 * until EOS, or until an ERROR when expect_error. */
void run_batch(emu::Emulator &e, void (*configure)(GstElement *, emu::Emulator &),
               void (*extra)(GstElement *), Batch &out, bool expect_error = false,
               const std::vector<Burst> &pattern = three_sentences())
{
  GstBus *bus;
  GstElement *el = make_element("persiantranscribe", e, &bus);
  configure(el, e);
  if (extra)
    extra(el);
  GstHarness *h = gst_harness_new_with_element(el, "sink", "src");
  gst_harness_play(h);
  gst_harness_set_src_caps(h, audio_caps(GST_AUDIO_FORMAT_S16LE, 16000, 1));
  out.audio = make_audio(GST_AUDIO_FORMAT_S16LE, 16000, 1, pattern);
  push_audio(h, GST_AUDIO_FORMAT_S16LE, 16000, 1, out.audio, 0);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  GstMessageType types = (GstMessageType)(GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);
  if (expect_error) {
    for (;;) {
      GstMessage *m = gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND, types);
      fail_unless(m != nullptr, "no error within 60 s");
      if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
        gst_message_parse_error(m, &out.error, nullptr);
        gst_message_unref(m);
        break;
      }
      gst_message_unref(m);
    }
  } else {
    auto events = pull_events_until_eos(h);
    free_events(events);
    out.buffers = pull_all_buffers(h);
  }
  std::vector<GstMessage *> others;
  out.results = pop_transcriptions(bus, &others);
  for (auto *m : others) {
    const GstStructure *s = gst_message_get_structure(m);
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && s &&
        gst_structure_has_name(s, "transcription-progress"))
      out.progress.push_back(gst_structure_copy(s));
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR && !out.error && !expect_error)
      gst_message_parse_error(m, &out.error, nullptr);
    gst_message_unref(m);
  }
  teardown_element(h, el, bus);
}

std::string sha256(const std::vector<uint8_t> &pcm, uint32_t rate)
{
  auto header = pt::make_wav_header(rate, 1, 16, (uint32_t)pcm.size());
  GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(c, header.data(), header.size());
  g_checksum_update(c, pcm.data(), pcm.size());
  std::string out = g_checksum_get_string(c);
  g_checksum_free(c);
  return out;
}

const emu::FormPart *part(const emu::RestRecord &r, const char *name)
{
  for (auto &p : r.parts)
    if (p.name == name)
      return &p;
  return nullptr;
}

std::vector<emu::RestRecord> requests_to(emu::Emulator &e, const char *path_part)
{
  std::vector<emu::RestRecord> out;
  for (auto &r : e.rest_requests())
    if (r.path.find(path_part) != std::string::npos)
      out.push_back(r);
  return out;
}

std::string str(const GstStructure *s, const char *f)
{
  const gchar *v = gst_structure_get_string(s, f);
  return v ? v : "";
}

}  // namespace

GST_START_TEST(test_nevisa_end_to_end)
{
  auto before = temp_recordings();
  emu::Emulator e(batch_options());
  start_emulator(e);
  Batch b;
  run_batch(e, configure_nevisa, nullptr, b);
  fail_unless(b.error == nullptr, "%s", b.error ? b.error->message : "");

  /* one login, as JSON, then the upload with the three fields */
  auto logins = requests_to(e, "/account/login");
  fail_unless_equals_int(logins.size(), 1);
  fail_unless(logins[0].content_type.find("application/json") == 0);
  auto uploads = requests_to(e, "recognize-file");
  fail_unless_equals_int(uploads.size(), 1);
  const emu::RestRecord &up = uploads[0];
  fail_unless(up.content_type.find("multipart/form-data") == 0);
  fail_unless(part(up, "auth_token") && !part(up, "auth_token")->text.empty());
  fail_unless(part(up, "api_key") && !part(up, "api_key")->text.empty());
  /* and the token in the Authorization header too, on the upload and on
   * every poll (PROTOCOLS.md: the PHP samples send both) */
  const std::string header = "Token " + part(up, "auth_token")->text;
  assert_equals_std_string(up.authorization, header);
  const emu::FormPart *file = part(up, "file");
  fail_unless(file != nullptr);
  /* the file that arrived is exactly the input as a 16 kHz mono WAV */
  fail_unless_equals_uint64(file->size, 44 + b.audio.size());
  assert_equals_std_string(file->sha256, sha256(b.audio, 16000));

  /* polled until SUCCESS; a progress message for every poll */
  auto polls = requests_to(e, "celery-progress");
  fail_unless(polls.size() >= 5, "%zu polls", polls.size());
  for (auto &p : polls)
    fail_unless(p.authorization == header, "a poll without the Authorization header");
  std::vector<std::string> states;
  double last_percent = -1;
  for (auto *p : b.progress) {
    std::string st = str(p, "state");
    assert_equals_std_string(str(p, "backend"), "nevisa");
    if (st == "UPLOADING")
      continue;
    fail_if(str(p, "task-id").empty());
    gdouble pc = -1;
    gst_structure_get_double(p, "percent", &pc);
    if (st == "PROGRESS" || st == "SUCCESS") {
      fail_unless(pc >= last_percent, "percent went back: %f after %f", pc, last_percent);
      last_percent = pc;
    }
    states.push_back(st);
  }
  fail_unless(states.size() >= polls.size());
  assert_equals_std_string(states.back(), "SUCCESS");
  fail_unless(std::count(states.begin(), states.end(), "PROGRESS") >= 3);
  fail_unless(last_percent == 100.0);

  /* three segments (pauses of 1 s), every word timed, with a confidence */
  fail_unless_equals_int(b.results.size(), 3);
  auto script = persian_script();
  for (size_t i = 0; i < 3; ++i) {
    const GstStructure *m = b.results[i];
    assert_equals_std_string(str(m, "backend"), "nevisa");
    const GValue *words = gst_structure_get_value(m, "words");
    fail_unless(words && gst_value_array_get_size(words) > 0);
    guint64 seg_start, prev_end = 0;
    gst_structure_get_uint64(m, "start", &seg_start);
    fail_unless(seg_start >= (500 + 2000 * i - 100) * GST_MSECOND);
    for (guint k = 0; k < gst_value_array_get_size(words); ++k) {
      const GstStructure *w = gst_value_get_structure(gst_value_array_get_value(words, k));
      guint64 ws, we;
      gdouble conf;
      gboolean uncertain;
      gst_structure_get_uint64(w, "start", &ws);
      gst_structure_get_uint64(w, "end", &we);
      gst_structure_get_double(w, "confidence", &conf);
      gst_structure_get_boolean(w, "uncertain", &uncertain);
      fail_unless(ws != GST_CLOCK_TIME_NONE && we >= ws && ws >= prev_end);
      prev_end = we;
      fail_unless(conf > 0 && conf <= 1);
      fail_unless_equals_int(uncertain, conf < 0.5);
    }
  }
  /* the bracketed word of the second line has a low confidence: in italics */
  std::string second;
  for (auto *buf : b.buffers) {
    std::string t = buffer_text(buf);
    if (t.find("<i>") != std::string::npos)
      second = t;
  }
  fail_unless(second.find("<i>ای</i>") != std::string::npos, "no italics in the cues");
  /* the recording is gone */
  fail_unless(temp_recordings() == before, "the temporary recording was left behind");
}
GST_END_TEST;

static void static_token(GstElement *el)
{
  g_object_set(el, "nevisa-username", nullptr, "nevisa-password", nullptr, "nevisa-auth-token",
               "nevisa-static-token", "nevisa-api-key", "nevisa-static-key", nullptr);
}

GST_START_TEST(test_nevisa_token_skips_login)
{
  emu::Emulator e(batch_options());
  start_emulator(e);
  Batch b;
  run_batch(e, configure_nevisa, static_token, b);
  fail_unless(b.error == nullptr, "%s", b.error ? b.error->message : "");
  fail_unless_equals_int(requests_to(e, "/account/login").size(), 0);
  fail_unless_equals_int(b.results.size(), 3);
}
GST_END_TEST;

static void expect_batch_error(emu::Options o, void (*configure)(GstElement *, emu::Emulator &),
                               void (*extra)(GstElement *), GQuark domain, gint code,
                               const char *must_contain)
{
  auto before = temp_recordings();
  emu::Emulator e(o);
  start_emulator(e);
  Batch b;
  run_batch(e, configure, extra, b, true);
  fail_unless(b.error != nullptr);
  fail_unless(b.error->domain == domain && b.error->code == code, "got %s %d: %s",
              g_quark_to_string(b.error->domain), b.error->code, b.error->message);
  if (must_contain)
    fail_unless(strstr(b.error->message, must_contain) != nullptr, "message: %s", b.error->message);
  fail_if(strstr(b.error->message, kPassword) || strstr(b.error->message, kToken));
  fail_unless(temp_recordings() == before, "the temporary recording was left behind");
}

GST_START_TEST(test_nevisa_no_package)
{
  emu::Options o = batch_options();
  o.nevisa_no_package = true;
  expect_batch_error(o, configure_nevisa, nullptr, GST_RESOURCE_ERROR,
                     GST_RESOURCE_ERROR_NOT_AUTHORIZED, "package");
}
GST_END_TEST;

GST_START_TEST(test_nevisa_failure_text)
{
  emu::Options o = batch_options();
  o.nevisa_failure = true;
  expect_batch_error(o, configure_nevisa, nullptr, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED,
                     "audio decode failed");
}
GST_END_TEST;

GST_START_TEST(test_http_401)
{
  emu::Options o = batch_options();
  o.http_401 = true;
  expect_batch_error(o, configure_nevisa, nullptr, GST_RESOURCE_ERROR,
                     GST_RESOURCE_ERROR_NOT_AUTHORIZED, "401");
  expect_batch_error(o, configure_harf_file, nullptr, GST_RESOURCE_ERROR,
                     GST_RESOURCE_ERROR_NOT_AUTHORIZED, "401");
}
GST_END_TEST;

GST_START_TEST(test_not_json)
{
  emu::Options o = batch_options();
  o.not_json = true;
  auto before = temp_recordings();
  emu::Emulator e(o);
  start_emulator(e);
  Batch b;
  run_batch(e, configure_harf_file, nullptr, b, true);
  fail_unless(b.error != nullptr);
  fail_unless(strstr(b.error->message, "not JSON") != nullptr, "%s", b.error->message);
  /* the quote is bounded: the message, the quote of at most 200 bytes and "…" */
  fail_unless(strlen(b.error->message) < 200 + 120, "%zu bytes", strlen(b.error->message));
  fail_unless(temp_recordings() == before);
}
GST_END_TEST;

GST_START_TEST(test_retries_429_and_500)
{
  emu::Options o = batch_options();
  o.throttle_count = 2;
  o.retry_after_s = 1;
  emu::Emulator e(o);
  start_emulator(e);
  Batch b;
  run_batch(e, configure_harf_file, nullptr, b);
  fail_unless(b.error == nullptr, "%s", b.error ? b.error->message : "");
  fail_unless_equals_int(b.results.size(), 3);
  size_t throttled = 0;
  for (auto &r : e.rest_requests())
    throttled += r.status == 429;
  fail_unless_equals_int(throttled, 2);

  emu::Options o5 = batch_options();
  o5.error_500_count = 2;
  emu::Emulator e5(o5);
  start_emulator(e5);
  Batch b5;
  run_batch(e5, configure_nevisa, nullptr, b5);
  fail_unless(b5.error == nullptr, "%s", b5.error ? b5.error->message : "");
  fail_unless_equals_int(b5.results.size(), 3);
  size_t errors = 0;
  for (auto &r : e5.rest_requests())
    errors += r.status == 500;
  fail_unless_equals_int(errors, 2);
}
GST_END_TEST;

GST_START_TEST(test_retries_are_bounded)
{
  emu::Options o = batch_options();
  o.error_500_count = 100;
  expect_batch_error(o, configure_harf_file, nullptr, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
                     "500");
}
GST_END_TEST;

/* ---- Harf files ---- */

GST_START_TEST(test_harf_file_wait)
{
  emu::Emulator e(batch_options());
  start_emulator(e);
  Batch b;
  run_batch(e, configure_harf_file, nullptr, b);
  fail_unless(b.error == nullptr, "%s", b.error ? b.error->message : "");
  auto ups = requests_to(e, "/api/transcribe_files");
  fail_unless_equals_int(ups.size(), 1);
  assert_equals_std_string(ups[0].authorization, std::string("Token ") + kToken);
  const emu::FormPart *media = part(ups[0], "media");
  fail_unless(media != nullptr);
  assert_equals_std_string(media->sha256, sha256(b.audio, 16000));
  fail_unless(part(ups[0], "wait") && part(ups[0], "wait")->text == "true");
  fail_unless_equals_int(b.results.size(), 3);
  auto script = persian_script();
  for (size_t i = 0; i < 3; ++i) {
    assert_equals_std_string(str(b.results[i], "raw-text"), script[i]);
    assert_equals_std_string(str(b.results[i], "backend"), "harf-file");
    gint64 words = -1, known = -1;
    fail_unless(gst_structure_get_int64(b.results[i], "total-words", &words));
    fail_unless(gst_structure_get_int64(b.results[i], "known-words", &known));
    fail_unless(words > known && known > 0); /* one bracketed word */
  }
  fail_unless_equals_int(b.buffers.size(), 3);
}
GST_END_TEST;

static void no_wait(GstElement *el)
{
  g_object_set(el, "harf-wait", FALSE, nullptr);
}

GST_START_TEST(test_harf_file_polling)
{
  emu::Emulator e(batch_options());
  start_emulator(e);
  Batch b;
  run_batch(e, configure_harf_file, no_wait, b);
  fail_unless(b.error == nullptr, "%s", b.error ? b.error->message : "");
  auto reqs = requests_to(e, "/api/transcribe_files");
  fail_unless(reqs.size() >= 4, "%zu requests", reqs.size()); /* upload + 2 PENDING + result */
  fail_unless(part(reqs[0], "wait") && part(reqs[0], "wait")->text == "false");
  for (size_t i = 1; i < reqs.size(); ++i)
    fail_unless(reqs[i].json_body.find("\"tasks_ids\"") != std::string::npos, "%s",
                reqs[i].json_body.c_str());
  fail_unless_equals_int(b.results.size(), 3);
  size_t pending = 0;
  for (auto *p : b.progress)
    pending += str(p, "state") == "PENDING";
  fail_unless(pending >= 2);
}
GST_END_TEST;

/* A newer Harf API answers 400 to a poll by tasks_ids alone, and a poll
 * with media_urls would start a second, paid job: an error that says to
 * use harf-wait=true, and the job is sent once only. */
GST_START_TEST(test_harf_file_poll_400)
{
  emu::Options o = batch_options();
  o.harf_poll_needs_media = true;
  emu::Emulator e(o);
  start_emulator(e);
  Batch b;
  run_batch(e, configure_harf_file, no_wait, b, true);
  fail_unless(g_error_matches(b.error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED), "%s",
              b.error->message);
  fail_unless(strstr(b.error->message, "HTTP 400") && strstr(b.error->message, "harf-wait=true"),
              "%s", b.error->message);
  auto reqs = requests_to(e, "/api/transcribe_files");
  fail_unless_equals_int(reqs.size(), 2); /* the upload, one poll, nothing sent again */
  fail_unless(reqs[1].json_body.find("media_urls") == std::string::npos);
}
GST_END_TEST;

GST_START_TEST(test_harf_file_failure_and_timeout)
{
  emu::Options o = batch_options();
  o.harf_failure = true;
  expect_batch_error(o, configure_harf_file, no_wait, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED,
                     "FAILURE");
  emu::Options t = batch_options();
  t.harf_timeout = true;
  expect_batch_error(t, configure_harf_file, no_wait, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED,
                     "TIMEOUT");
}
GST_END_TEST;

static void short_batch_timeout(GstElement *el)
{
  g_object_set(el, "batch-timeout", 2u, nullptr);
}

GST_START_TEST(test_batch_timeout)
{
  emu::Options o = batch_options();
  o.nevisa_pending_forever = true;
  expect_batch_error(o, configure_nevisa, short_batch_timeout, GST_RESOURCE_ERROR,
                     GST_RESOURCE_ERROR_READ, "batch-timeout");
}
GST_END_TEST;

/* ---- stopping while Nevisa works: terminate-task ---- */

/* A persiantranscribe with the Nevisa backend whose task the emulator is
 * being polled for (the emulator keeps it PENDING): the moment to stop. */
static GstHarness *start_polled_nevisa_task(emu::Emulator &e, GstElement **el, GstBus **bus)
{
  *el = make_element("persiantranscribe", e, bus);
  configure_nevisa(*el, e);
  GstHarness *h = gst_harness_new_with_element(*el, "sink", "src");
  gst_harness_play(h);
  gst_harness_set_src_caps(h, audio_caps(GST_AUDIO_FORMAT_S16LE, 16000, 1));
  push_audio(h, GST_AUDIO_FORMAT_S16LE, 16000, 1,
             make_audio(GST_AUDIO_FORMAT_S16LE, 16000, 1, three_sentences()), 0);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  fail_unless(e.wait_rest(
      [](const std::vector<emu::RestRecord> &r) {
        return std::any_of(r.begin(), r.end(), [](const emu::RestRecord &x) {
          return x.path.find("celery-progress") != std::string::npos;
        });
      },
      20000));
  return h;
}

/* terminate-task is sent without holding up the state change: waits for
 * the emulator to have answered it. */
static bool wait_terminate_answered(emu::Emulator &e)
{
  return e.wait_rest(
      [](const std::vector<emu::RestRecord> &r) {
        return std::any_of(r.begin(), r.end(), [](const emu::RestRecord &x) {
          return x.path.find("terminate-task") != std::string::npos && x.status != 0;
        });
      },
      20000);
}

GST_START_TEST(test_nevisa_terminate_on_stop)
{
  auto before = temp_recordings();
  emu::Options o = batch_options();
  o.nevisa_pending_forever = true;
  emu::Emulator e(o);
  start_emulator(e);
  GstBus *bus;
  GstElement *el;
  GstHarness *h = start_polled_nevisa_task(e, &el, &bus);
  fail_unless_equals_int(gst_element_set_state(el, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);

  fail_unless(wait_terminate_answered(e));
  auto terms = requests_to(e, "terminate-task");
  fail_unless_equals_int(terms.size(), 1);
  auto logins = requests_to(e, "recognize-file");
  const emu::FormPart *tok = part(logins[0], "auth_token");
  fail_unless(tok != nullptr);
  assert_equals_std_string(terms[0].authorization, "Token " + tok->text);
  fail_unless(part(terms[0], "auth_token") && part(terms[0], "auth_token")->text == tok->text);
  fail_unless(part(terms[0], "api_key") && !part(terms[0], "api_key")->text.empty());
  fail_unless(part(terms[0], "task_id") && !part(terms[0], "task_id")->text.empty());
  fail_unless_equals_int(terms[0].status, 200);
  fail_unless(temp_recordings() == before, "the temporary recording was left behind");
  teardown_element(h, el, bus);
}
GST_END_TEST;

/* Stopping does not wait for terminate-task: a pipeline stopped while
 * Nevisa works reaches NULL while the answer is still held back, and the
 * request still reaches the service and is answered. */
GST_START_TEST(test_nevisa_stop_does_not_wait_for_terminate)
{
  emu::Options o = batch_options();
  o.nevisa_pending_forever = true;
  o.terminate_delay_ms = 3000;
  emu::Emulator e(o);
  start_emulator(e);
  GstBus *bus;
  GstElement *el;
  GstHarness *h = start_polled_nevisa_task(e, &el, &bus);
  gint64 t0 = g_get_monotonic_time();
  fail_unless_equals_int(gst_element_set_state(el, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gint64 stop_us = g_get_monotonic_time() - t0;
  /* The answer is held back 3 s: none can have come yet */
  for (const auto &t : requests_to(e, "terminate-task"))
    fail_unless_equals_int(t.status, 0);
  GST_INFO("PLAYING -> NULL took %" G_GINT64_FORMAT " us with terminate-task unanswered", stop_us);
  /* The requirement is 0.5 s; measured here: about 1.5 ms.  (The old code
   * ran the I/O loop for up to 3 s waiting for the answer.) */
  fail_unless(stop_us < 500 * G_TIME_SPAN_MILLISECOND, "stopping took %" G_GINT64_FORMAT " us",
              stop_us);
  fail_unless(wait_terminate_answered(e));
  assert_equals_int(requests_to(e, "terminate-task").at(0).status, 200);
  fail_unless_equals_int(requests_to(e, "terminate-task").size(), 1);
  teardown_element(h, el, bus);
}
GST_END_TEST;

GST_START_TEST(test_harfsink_nevisa)
{
  /* the sink runs the same batch engine and posts the same messages */
  emu::Emulator e(batch_options());
  start_emulator(e);
  GstBus *bus;
  GstElement *el = make_element("harfsink", e, &bus);
  configure_nevisa(el, e);
  GstHarness *h = gst_harness_new_with_element(el, "sink", nullptr);
  gst_harness_play(h);
  gst_harness_set_src_caps(h, audio_caps(GST_AUDIO_FORMAT_S16LE, 16000, 1));
  push_audio(h, GST_AUDIO_FORMAT_S16LE, 16000, 1,
             make_audio(GST_AUDIO_FORMAT_S16LE, 16000, 1, three_sentences()), 0);
  gst_harness_push_event(h, gst_event_new_eos());
  auto results = transcriptions_until_eos(bus);
  fail_unless_equals_int(results.size(), 3);
  free_structures(results);
  teardown_element(h, el, bus);
}
GST_END_TEST;

/* ---- secrets: password, tokens and API keys never reach a log line ---- */

static GMutex log_lock;
static std::string *log_text;

static void keep_log(GstDebugCategory *, GstDebugLevel, const gchar *, const gchar *, gint,
                     GObject *, GstDebugMessage *message, gpointer)
{
  const gchar *text = gst_debug_message_get(message);
  g_mutex_lock(&log_lock);
  if (text && log_text)
    (*log_text += text) += '\n';
  g_mutex_unlock(&log_lock);
}

GST_START_TEST(test_secrets_never_logged)
{
  std::string all;
  log_text = &all;
  gst_debug_set_active(TRUE);
  gst_debug_add_log_function(keep_log, nullptr, nullptr);
  gst_debug_set_threshold_for_name("persiantranscribe*", GST_LEVEL_MEMDUMP);
  gst_debug_set_default_threshold(GST_LEVEL_LOG);
  emu::Emulator e(batch_options());
  start_emulator(e);
  {
    Batch b;
    run_batch(e, configure_nevisa, nullptr, b);
    fail_unless_equals_int(b.results.size(), 3);
  }
  {
    Batch b;
    run_batch(e, configure_harf_file, nullptr, b);
    fail_unless_equals_int(b.results.size(), 3);
  }
  gst_debug_set_default_threshold(GST_LEVEL_NONE);
  gst_debug_remove_log_function(keep_log);
  g_mutex_lock(&log_lock);
  log_text = nullptr;
  g_mutex_unlock(&log_lock);

  auto up = requests_to(e, "recognize-file");
  std::string session_token = part(up[0], "auth_token")->text;
  std::string api_key = part(up[0], "api_key")->text;
  fail_unless(all.size() > 100000, "only %zu bytes of log", all.size());
  for (const std::string &secret :
       {std::string(kPassword), session_token, api_key, std::string(kToken)})
    fail_unless(all.find(secret) == std::string::npos, "a secret is in the log");
}
GST_END_TEST;

/* An answer with many segments goes out as the output takes them: the
 * backend never hands a result to a listener that said it has no room, and
 * the end comes only after the last result. */
namespace {
struct Throttled final : public testutil::RecordingListener {
  void on_result(const pt::Result &) override
  {
    std::lock_guard<std::mutex> lk(m);
    overflow = overflow || results >= allowed;
    results++;
    cv.notify_all();
  }
  void on_finished() override
  {
    {
      std::lock_guard<std::mutex> lk(m);
      finished_after = results;
    }
    RecordingListener::on_finished();
  }
  bool can_accept_results() override
  {
    std::lock_guard<std::mutex> lk(m);
    return results < allowed;
  }
  size_t allowed = 2, results = 0, finished_after = 0;
  bool overflow = false;
};
}  // namespace

static void skip_silence(GstElement *el)
{
  g_object_set(el, "skip-silence", TRUE, nullptr);
}

/* b gave the same sentences as a, at the same times, word times included */
static void assert_same_results(const Batch &a_run, const Batch &b_run, const char *name)
{
  fail_unless_equals_int(b_run.results.size(), a_run.results.size());
  for (size_t i = 0; i < a_run.results.size(); ++i) {
    const GstStructure *a = a_run.results[i], *s = b_run.results[i];
    assert_equals_std_string(str(s, "text"), str(a, "text"));
    for (const char *f : {"timestamp", "duration", "start", "end"}) {
      guint64 va = 0, vs = 0;
      fail_unless(gst_structure_get_uint64(a, f, &va) && gst_structure_get_uint64(s, f, &vs));
      fail_unless(va == vs, "%s: result %zu: %s %" G_GUINT64_FORMAT " instead of %" G_GUINT64_FORMAT,
                  name, i, f, vs, va);
    }
    const GValue *wa = gst_structure_get_value(a, "words"), *ws = gst_structure_get_value(s, "words");
    fail_unless(wa && ws);
    fail_unless_equals_int(gst_value_array_get_size(ws), gst_value_array_get_size(wa));
    for (guint k = 0; k < gst_value_array_get_size(wa); ++k) {
      const GstStructure *x = gst_value_get_structure(gst_value_array_get_value(wa, k));
      const GstStructure *y = gst_value_get_structure(gst_value_array_get_value(ws, k));
      assert_equals_std_string(str(y, "text"), str(x, "text"));
      for (const char *f : {"start", "end"}) {
        guint64 vx = 1, vy = 2;
        const bool hx = gst_structure_get_uint64(x, f, &vx), hy = gst_structure_get_uint64(y, f, &vy);
        fail_unless(hx == hy && (!hx || vx == vy), "%s: result %zu word %u: %s differs", name, i,
                    k, f);
      }
    }
  }
}

/* skip-silence on the batch backends: the inside of the long pauses is
 * left out of the recording (8 of 20.5 s, as on the live backends), and
 * the results, placed back in the input's time, are the same sentences at
 * the same times, word times included, as when everything is uploaded. */
static void check_batch_skip_silence(void (*configure)(GstElement *, emu::Emulator &),
                                     const char *name, const char *file_part)
{
  Batch all, skipped;
  uint64_t all_bytes = 0, skipped_bytes = 0;
  for (Batch *b : {&all, &skipped}) {
    emu::Emulator e(batch_options());
    start_emulator(e);
    run_batch(e, configure, b == &skipped ? skip_silence : nullptr, *b, false, meeting());
    fail_unless(b->error == nullptr, "%s: %s", name, b->error ? b->error->message : "");
    uint64_t uploaded = 0;
    for (auto &r : e.rest_requests())
      for (auto &p : r.parts)
        if (p.name == file_part)
          uploaded += p.size;
    if (b == &all)
      all_bytes = uploaded;
    else
      skipped_bytes = uploaded;
  }
  const uint64_t bytes_per_s = 32000;
  fail_unless_equals_uint64(all_bytes, 44 + all.audio.size());
  fail_unless_equals_uint64(skipped_bytes, all_bytes - 8 * bytes_per_s);
  fail_unless_equals_int(all.results.size(), 4);
  assert_same_results(all, skipped, name);
  GST_INFO("%s: skip-silence uploaded %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes", name,
           skipped_bytes, all_bytes);
}

GST_START_TEST(test_batch_skip_silence_keeps_times)
{
  check_batch_skip_silence(configure_nevisa, "nevisa", "file");
  check_batch_skip_silence(configure_harf_file, "harf-file", "media");
}
GST_END_TEST;

static void small_answers(GstElement *el)
{
  g_object_set(el, "max-answer-size", 1024u, nullptr);
}

static void small_answers_skip_silence(GstElement *el)
{
  small_answers(el);
  skip_silence(el);
}

/* The size of the last answer of that kind (the result) */
static uint64_t last_answer(emu::Emulator &e, const char *kind)
{
  uint64_t size = 0;
  for (auto &r : e.rest_requests())
    if (r.kind == kind)
      size = r.answer_size;
  return size;
}

static void small_answers_no_wait(GstElement *el)
{
  small_answers(el);
  no_wait(el);
}

/* An answer larger than a quarter of max-answer-size is kept on disk and
 * read a piece at a time: with max-answer-size at its least (1024 bytes),
 * the meeting's result (larger than that) still gives the same results,
 * word times included, with and without skip-silence; nothing is left in
 * the temporary directory.  result_kind: the request whose answer is the
 * result. */
static void check_answer_on_disk(void (*configure)(GstElement *, emu::Emulator &),
                                 void (*disk)(GstElement *), void (*disk_skip)(GstElement *),
                                 const char *result_kind, const char *name, int meetings)
{
  const auto before = temp_recordings();
  std::vector<Burst> pattern;
  for (int i = 0; i < meetings; ++i)
    for (const Burst &b : meeting())
      pattern.push_back(b);
  Batch held, on_disk, on_disk_skipped, held_skipped;
  struct Run {
    Batch *b;
    void (*extra)(GstElement *);
  };
  for (const Run &r : {Run{&held, nullptr}, Run{&on_disk, disk}, Run{&held_skipped, skip_silence},
                       Run{&on_disk_skipped, disk_skip}}) {
    emu::Emulator e(batch_options());
    start_emulator(e);
    run_batch(e, configure, r.extra, *r.b, false, pattern);
    fail_unless(r.b->error == nullptr, "%s: %s", name, r.b->error ? r.b->error->message : "");
    /* larger than max-answer-size: it could not have been held */
    if (r.extra == disk || r.extra == disk_skip)
      fail_unless(last_answer(e, result_kind) > 1024,
                  "%s: the answer was only %" G_GUINT64_FORMAT " bytes", name,
                  last_answer(e, result_kind));
  }
  fail_unless_equals_int(held.results.size(), 4 * meetings);
  assert_same_results(held, on_disk, name);
  assert_same_results(held, held_skipped, name);
  assert_same_results(held, on_disk_skipped, name);
  fail_unless(temp_recordings() == before, "%s: a temporary file was left behind", name);
}

GST_START_TEST(test_batch_answer_on_disk)
{
  check_answer_on_disk(configure_nevisa, small_answers, small_answers_skip_silence,
                       "nevisa-progress", "nevisa", 1);
  /* harf-wait: the upload's own answer is the result; polled: a poll's.
   * Harf's segments carry no word list: three meetings make an answer
   * larger than 1024 bytes. */
  check_answer_on_disk(configure_harf_file, small_answers, small_answers_skip_silence,
                       "harf-transcribe", "harf-file", 3);
  check_answer_on_disk(configure_harf_file, small_answers_no_wait, small_answers_no_wait,
                       "harf-poll", "harf-file polled", 3);
}
GST_END_TEST;

static void upload_fixture_small_answers(GstElement *el)
{
  const std::string wav = std::string(PT_FIXTURES_DIR) + "/persian-sample.wav";
  g_object_set(el, "upload-file", wav.c_str(), "max-answer-size", 1024u, nullptr);
}

/* The temporary directory cannot take a long answer (it does not exist):
 * WRITE, saying the answer could not be kept, and nothing else goes
 * wrong.  The fixture is uploaded as it is, so that nothing is recorded
 * there; GLib reads TMPDIR once per process, and this test's process
 * (check forks one per test) reads it here first. */
GST_START_TEST(test_answer_cannot_be_kept)
{
  const char *missing = "/nonexistent/persiantranscribe-test";
  g_setenv("TMPDIR", missing, TRUE);
  fail_unless(g_strcmp0(g_get_tmp_dir(), missing) == 0,
              "TMPDIR was read before this test (%s): run it in its own process (CK_FORK)",
              g_get_tmp_dir());
  expect_batch_error(batch_options(), configure_nevisa, upload_fixture_small_answers,
                     GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_WRITE, "could not be kept");
}
GST_END_TEST;

/* Loop 1: the answer kept on disk (max-answer-size 1024), its words read
 * only as results are taken. */
GST_START_TEST(test_batch_results_follow_the_output)
{
  const bool on_disk = __i__ == 1;
  emu::Emulator e(batch_options());
  start_emulator(e);
  pt::Settings s;
  s.backend = pt::BackendKind::Nevisa;
  s.nevisa_login_url = e.nevisa_login_url();
  s.nevisa_api_url = e.nevisa_api_url();
  s.nevisa_username = kUser;
  s.nevisa_password = kPassword;
  s.poll_interval_ms = 100;
  if (on_disk)
    s.max_answer_bytes = 1024;
  Throttled l;
  {
    pt::Engine engine(s, &l);
    GstAudioInfo in;
    gst_audio_info_set_format(&in, GST_AUDIO_FORMAT_S16LE, 16000, 1, nullptr);
    std::string err;
    fail_unless(engine.set_format(in, &err), "%s", err.c_str());
    std::vector<Burst> six;
    for (int i = 0; i < 6; ++i) {
      six.push_back({1.0, false});
      six.push_back({1.0, true});
    }
    six.push_back({1.0, false});
    auto audio = make_audio(GST_AUDIO_FORMAT_S16LE, 16000, 1, six);
    fail_unless(engine.push_audio(0, audio.data(), audio.size()) == pt::Engine::Flow::Ok);
    engine.finish();
    std::unique_lock<std::mutex> lk(l.m);
    fail_unless(l.cv.wait_for(lk, std::chrono::seconds(60),
                              [&] { return l.results >= 2 || !l.errors.empty(); }),
                "no results within 60 s");
    fail_unless(l.errors.empty(), "%s", l.errors.empty() ? "" : l.errors[0].c_str());
    fail_if(l.finished, "finished with results still to come");
    l.allowed = 1000;
    lk.unlock();
    engine.resume_output();
    lk.lock();
    fail_unless(l.cv.wait_for(lk, std::chrono::seconds(60), [&] { return l.finished > 0; }),
                "not finished within 60 s");
  }
  fail_if(l.overflow, "a result was handed to a listener without room");
  fail_unless_equals_int(l.results, 6);
  fail_unless_equals_int(l.finished_after, 6);
  /* the job was complete: no terminate-task for it */
  fail_unless_equals_int(e.rest_count("nevisa-terminate"), 0);
  if (on_disk)
    fail_unless(last_answer(e, "nevisa-progress") > 1024);
}
GST_END_TEST;

static Suite *batch_suite(void)
{
  Suite *s = suite_create("batch");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_nevisa_end_to_end);
  tcase_add_test(tc, test_nevisa_token_skips_login);
  tcase_add_test(tc, test_nevisa_no_package);
  tcase_add_test(tc, test_nevisa_failure_text);
  tcase_add_test(tc, test_http_401);
  tcase_add_test(tc, test_not_json);
  tcase_add_test(tc, test_retries_429_and_500);
  tcase_add_test(tc, test_retries_are_bounded);
  tcase_add_test(tc, test_harf_file_wait);
  tcase_add_test(tc, test_harf_file_polling);
  tcase_add_test(tc, test_harf_file_poll_400);
  tcase_add_test(tc, test_harf_file_failure_and_timeout);
  tcase_add_test(tc, test_batch_timeout);
  tcase_add_test(tc, test_nevisa_terminate_on_stop);
  tcase_add_test(tc, test_nevisa_stop_does_not_wait_for_terminate);
  tcase_add_test(tc, test_harfsink_nevisa);
  tcase_add_test(tc, test_secrets_never_logged);
  tcase_add_loop_test(tc, test_batch_results_follow_the_output, 0, 2);
  tcase_add_test(tc, test_batch_skip_silence_keeps_times);
  tcase_add_test(tc, test_batch_answer_on_disk);
  tcase_add_test(tc, test_answer_cannot_be_kept);
  return s;
}

GST_CHECK_MAIN(batch);
