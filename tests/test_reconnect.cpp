// SPDX-License-Identifier: LGPL-2.1-or-later
/* harf-live keeps going when the network does not: reconnection with the
 * audio replayed and the times mapped back, Retry-After, giving up with the
 * last reason, 401 never retried, and new sessions at holes in the input.
 * Every test runs against the in-process emulator on 127.0.0.1. */
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <string>
#include <vector>

#include "emulator.h"
#include "test_helpers.h"

using namespace testutil;

namespace {

/* What a stream through persiantranscribe gave: the final transcription
 * structures and the other messages. */
struct Outcome {
  std::vector<GstStructure *> finals;
  std::vector<GstMessage *> others;
  ~Outcome()
  {
    free_structures(finals);
    for (auto *m : others)
      gst_message_unref(m);
  }
  std::vector<const GstStructure *> elements(const char *name) const
  {
    std::vector<const GstStructure *> out;
    for (auto *m : others) {
      const GstStructure *s = gst_message_get_structure(m);
      if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && s && gst_structure_has_name(s, name))
        out.push_back(s);
    }
    return out;
  }
  int count(GstMessageType t) const
  {
    int n = 0;
    for (auto *m : others)
      n += GST_MESSAGE_TYPE(m) == t;
    return n;
  }
};

/* Pushes pieces of audio, each at its own first PTS, then EOS; waits for
 * EOS downstream (or, with failing, for the error: pushing stops when the
 * element refuses) and collects what was posted. */
void run(emu::Emulator &e, const std::vector<std::pair<GstClockTime, std::vector<Burst>>> &parts,
         Outcome &out, void (*configure)(GstElement *) = nullptr, bool failing = false)
{
  GstBus *bus;
  GstElement *el = make_element("persiantranscribe", e, &bus);
  if (configure)
    configure(el);
  GstHarness *h = gst_harness_new_with_element(el, "sink", "src");
  gst_harness_play(h);
  gst_harness_set_src_caps(h, audio_caps(GST_AUDIO_FORMAT_S16LE, 16000, 1));
  bool refused = false;
  for (auto &[pts, pattern] : parts) {
    auto audio = make_audio(GST_AUDIO_FORMAT_S16LE, 16000, 1, pattern);
    for (size_t off = 0; off < audio.size() && !refused; off += 3200) {
      GstBuffer *b = gst_buffer_new_memdup(audio.data() + off, MIN(3200, audio.size() - off));
      GST_BUFFER_PTS(b) = pts + gst_util_uint64_scale(off / 2, GST_SECOND, 16000);
      GST_BUFFER_DURATION(b) =
          gst_util_uint64_scale(MIN(3200, audio.size() - off) / 2, GST_SECOND, 16000);
      GstFlowReturn r = gst_harness_push(h, b);
      refused = r != GST_FLOW_OK;
      if (!failing)
        fail_unless_equals_int(r, GST_FLOW_OK);
    }
  }
  gst_harness_push_event(h, gst_event_new_eos());
  std::vector<GstStructure *> all;
  if (failing) {
    /* everything until the error (timed_pop_filtered would drop the rest) */
    for (;;) {
      GstMessage *m = gst_bus_timed_pop(bus, 60 * GST_SECOND);
      fail_unless(m != nullptr, "no error within 60 s");
      const GstStructure *st = gst_message_get_structure(m);
      bool error = GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR;
      if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && st &&
          gst_structure_has_name(st, "transcription")) {
        all.push_back(gst_structure_copy(st));
        gst_message_unref(m);
      } else {
        out.others.push_back(m);
      }
      if (error)
        break;
    }
  } else {
    auto events = pull_events_until_eos(h);
    free_events(events);
  }
  for (auto *st : pop_transcriptions(bus, &out.others))
    all.push_back(st);
  for (auto *s : all) {
    gboolean final = FALSE;
    gst_structure_get_boolean(s, "final", &final);
    if (final)
      out.finals.push_back(s);
    else
      gst_structure_free(s);
  }
  teardown_element(h, el, bus);
}

guint64 u64(const GstStructure *s, const char *f)
{
  guint64 v = 0;
  fail_unless(gst_structure_get_uint64(s, f, &v), "no %s", f);
  return v;
}

/* The same texts at the same times as an undisturbed run. */
void assert_same_results(const Outcome &got, const Outcome &want)
{
  fail_unless_equals_int(got.finals.size(), want.finals.size());
  for (size_t i = 0; i < want.finals.size(); ++i) {
    fail_unless_equals_string(gst_structure_get_string(got.finals[i], "text"),
                              gst_structure_get_string(want.finals[i], "text"));
    fail_unless_equals_uint64(u64(got.finals[i], "timestamp"), u64(want.finals[i], "timestamp"));
    fail_unless_equals_uint64(u64(got.finals[i], "duration"), u64(want.finals[i], "duration"));
  }
}

void reference(Outcome &out)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  run(e, {{0, three_sentences()}}, out);
  fail_unless_equals_int(out.finals.size(), 3);
}

void no_reconnect(GstElement *el)
{
  g_object_set(el, "max-reconnects", 0u, nullptr);
}

void two_reconnects(GstElement *el)
{
  g_object_set(el, "max-reconnects", 2u, "timeout", 3u, nullptr);
}

}  // namespace

/* The server closes (1011) on the third window of the first connection:
 * the element reconnects, sends the audio again, and the results are those
 * of an undisturbed run, at the same times, each once. */
GST_START_TEST(test_close_mid_stream_recovered)
{
  Outcome want;
  reference(want);
  emu::Options o = default_options();
  o.close_after = 3;
  o.close_count = 1;
  emu::Emulator e(o);
  start_emulator(e);
  Outcome got;
  run(e, {{0, three_sentences()}}, got);
  fail_unless_equals_int(got.count(GST_MESSAGE_ERROR), 0);
  assert_same_results(got, want);
  auto sessions = e.sessions();
  fail_unless_equals_int(sessions.size(), 2);
  fail_unless_equals_string(sessions[0].fault.c_str(), "close-after");
  /* the second connection starts with a WAV header, and got the whole
   * stream: nothing had been finished on the first one */
  fail_unless(sessions[1].header.valid);
  fail_unless_equals_uint64(sessions[1].pcm_bytes, 6.5 * 32000);
  auto rec = got.elements("transcription-reconnect");
  fail_unless_equals_int(rec.size(), 1);
  guint attempt = 0;
  fail_unless(gst_structure_get_uint(rec[0], "attempt", &attempt));
  fail_unless_equals_int(attempt, 1);
  fail_unless_equals_uint64(u64(rec[0], "replayed-duration"), 3 * GST_SECOND);
  fail_unless(strstr(gst_structure_get_string(rec[0], "reason"), "closed the connection"));
}
GST_END_TEST;

/* 429 with Retry-After at the handshake: the element waits at least that
 * long, then connects, and nothing is lost. */
GST_START_TEST(test_handshake_429_retry_after)
{
  Outcome want;
  reference(want);
  emu::Options o = default_options();
  o.handshake_status = 429;
  o.retry_after = "1";
  o.handshake_fail_count = 1;
  emu::Emulator e(o);
  start_emulator(e);
  Outcome got;
  run(e, {{0, three_sentences()}}, got);
  fail_unless_equals_int(got.count(GST_MESSAGE_ERROR), 0);
  assert_same_results(got, want);
  fail_unless_equals_int(e.handshake_count(), 2);
  auto rec = got.elements("transcription-reconnect");
  fail_unless_equals_int(rec.size(), 1);
  fail_unless(u64(rec[0], "delay") >= GST_SECOND, "delay %" G_GUINT64_FORMAT, u64(rec[0], "delay"));
  fail_unless(strstr(gst_structure_get_string(rec[0], "reason"), "429 Too Many Requests"));
}
GST_END_TEST;

/* A server that always fails at the same place cannot cause endless
 * reconnects: after max-reconnects the error carries the last reason. */
GST_START_TEST(test_gives_up_with_the_last_reason)
{
  emu::Options o = default_options();
  o.close_after = 2;
  emu::Emulator e(o);
  start_emulator(e);
  Outcome got;
  run(e, {{0, three_sentences()}}, got, two_reconnects, true);
  fail_unless_equals_int(got.count(GST_MESSAGE_ERROR), 1);
  for (auto *m : got.others) {
    if (GST_MESSAGE_TYPE(m) != GST_MESSAGE_ERROR)
      continue;
    GError *err = nullptr;
    gst_message_parse_error(m, &err, nullptr);
    fail_unless(g_error_matches(err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ));
    fail_unless(strstr(err->message, "closed the connection"), "%s", err->message);
    fail_unless(strstr(err->message, "gave up after 2 reconnection attempts"), "%s", err->message);
    g_error_free(err);
  }
  fail_unless_equals_int(got.elements("transcription-reconnect").size(), 2);
  fail_unless_equals_int(e.handshake_count(), 3);
}
GST_END_TEST;

/* max-reconnects=0: the first close is the error, as before reconnection. */
GST_START_TEST(test_reconnection_off)
{
  emu::Options o = default_options();
  o.close_after = 3;
  o.close_count = 1;
  emu::Emulator e(o);
  start_emulator(e);
  Outcome got;
  run(e, {{0, three_sentences()}}, got, no_reconnect, true);
  fail_unless_equals_int(got.count(GST_MESSAGE_ERROR), 1);
  fail_unless_equals_int(e.handshake_count(), 1);
  fail_unless_equals_int(got.elements("transcription-reconnect").size(), 0);
}
GST_END_TEST;

/* 401 and 403 are never retried. */
GST_START_TEST(test_rejected_token_not_retried)
{
  for (int status : {401, 403}) {
    emu::Options o = default_options();
    o.handshake_status = status;
    emu::Emulator e(o);
    start_emulator(e);
    Outcome got;
    run(e, {{0, three_sentences()}}, got, nullptr, true);
    fail_unless_equals_int(got.count(GST_MESSAGE_ERROR), 1);
    fail_unless_equals_int(e.handshake_count(), 1);
    fail_unless_equals_int(got.elements("transcription-reconnect").size(), 0);
  }
}
GST_END_TEST;

/* A one-hour jump in the timestamps is not sent as an hour of silence: the
 * session ends before it and a new one starts after it, and the results
 * after the jump are timed on the input timeline. */
GST_START_TEST(test_hole_starts_a_new_session)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  const GstClockTime jump = 3600 * GST_SECOND;
  Outcome got;
  run(e, {{0, three_sentences()}, {jump, three_sentences()}}, got);
  fail_unless_equals_int(got.count(GST_MESSAGE_ERROR), 0);
  auto sessions = e.sessions();
  fail_unless_equals_int(sessions.size(), 2);
  uint64_t sent = 0;
  for (auto &s : sessions) {
    fail_unless(s.header.valid);
    fail_unless_equals_int(s.finalize_count, 1);
    sent += s.pcm_bytes;
  }
  /* 13 s of audio, not an hour: within a window of it */
  fail_unless(sent <= 13 * 32000 + 32000, "%" G_GUINT64_FORMAT " bytes sent", sent);
  fail_unless_equals_int(got.finals.size(), 6);
  Outcome want;
  reference(want);
  for (size_t i = 0; i < 3; ++i) {
    fail_unless_equals_uint64(u64(got.finals[i], "timestamp"), u64(want.finals[i], "timestamp"));
    fail_unless_equals_uint64(u64(got.finals[i + 3], "timestamp"),
                              jump + u64(want.finals[i], "timestamp"));
  }
}
GST_END_TEST;

/* A short hole (under gap-threshold) is still sent as silence: one session. */
GST_START_TEST(test_short_hole_is_silence)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  Outcome got;
  run(e, {{0, three_sentences()}, {7500 * GST_MSECOND, three_sentences()}}, got);
  fail_unless_equals_int(got.count(GST_MESSAGE_ERROR), 0);
  auto sessions = e.sessions();
  fail_unless_equals_int(sessions.size(), 1);
  /* 6.5 s + 1 s of silence + 6.5 s */
  fail_unless(sessions[0].pcm_bytes >= 14 * 32000 - 3200, "%" G_GUINT64_FORMAT,
              sessions[0].pcm_bytes);
  fail_unless_equals_int(got.finals.size(), 6);
}
GST_END_TEST;

/* skip-silence: a meeting with long pauses.  The inside of the two long
 * pauses is not sent (two skips: three sessions), the short pause is; every
 * sentence is transcribed, at the same time and with the same duration as
 * when everything is sent. */
static void skip_silence(GstElement *el)
{
  g_object_set(el, "skip-silence", TRUE, nullptr);
}

GST_START_TEST(test_skip_silence_keeps_speech_and_times)
{
  Outcome all, skipped;
  uint64_t all_bytes = 0, skipped_bytes = 0;
  size_t skipped_sessions = 0;
  {
    emu::Emulator e(default_options());
    start_emulator(e);
    run(e, {{0, meeting()}}, all);
    for (auto &s : e.sessions())
      all_bytes += s.pcm_bytes;
    fail_unless_equals_int(e.sessions().size(), 1);
  }
  {
    emu::Emulator e(default_options());
    start_emulator(e);
    run(e, {{0, meeting()}}, skipped, skip_silence);
    for (auto &s : e.sessions()) {
      fail_unless_equals_int(s.finalize_count, 1);
      skipped_bytes += s.pcm_bytes;
    }
    skipped_sessions = e.sessions().size();
  }
  fail_unless_equals_int(all.count(GST_MESSAGE_ERROR), 0);
  fail_unless_equals_int(skipped.count(GST_MESSAGE_ERROR), 0);
  /* The same sentences at the same times (the emulator's script starts
   * again with each session, so the texts are not compared). */
  fail_unless_equals_int(all.finals.size(), 4);
  fail_unless_equals_int(skipped.finals.size(), 4);
  for (size_t i = 0; i < 4; ++i) {
    fail_unless_equals_uint64(u64(skipped.finals[i], "timestamp"), u64(all.finals[i], "timestamp"));
    fail_unless_equals_uint64(u64(skipped.finals[i], "duration"), u64(all.finals[i], "duration"));
  }
  fail_unless_equals_int(skipped_sessions, 3);
  /* 20.5 s in all, in 1 s windows.  The 6 s pause: one hangover window,
   * then 4 silent windows, the last kept for the onset: 3 s skipped.  The
   * 8 s pause: 6 silent windows after the hangover, 5 s skipped. */
  const uint64_t bytes_per_s = 32000;
  fail_unless(all_bytes >= 20 * bytes_per_s, "%" G_GUINT64_FORMAT, all_bytes);
  fail_unless_equals_uint64(skipped_bytes, all_bytes - 8 * bytes_per_s);
  GST_INFO("skip-silence sent %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes (%.0f %%)",
           skipped_bytes, all_bytes, 100.0 * double(skipped_bytes) / double(all_bytes));
}
GST_END_TEST;

/* skip-silence with nothing but silence: nothing is sent, no result, no
 * error, and EOS still comes. */
GST_START_TEST(test_skip_silence_all_silent)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  Outcome got;
  run(e, {{0, {{12.0, false}}}}, got, skip_silence);
  fail_unless_equals_int(got.count(GST_MESSAGE_ERROR), 0);
  fail_unless_equals_int(got.finals.size(), 0);
  uint64_t sent = 0;
  for (auto &s : e.sessions())
    sent += s.pcm_bytes;
  fail_unless(sent <= 2 * 32000, "%" G_GUINT64_FORMAT " bytes of silence sent", sent);
}
GST_END_TEST;

/* Live input never waits for the network: with a service that never
 * answers, 45 s of live audio are all taken at once (a blocked push would
 * hang this test), the oldest audio is dropped, and a warning says how much. */
GST_START_TEST(test_live_queue_drops_oldest)
{
  emu::Options o = default_options();
  o.never_answer = true;
  emu::Emulator e(o);
  start_emulator(e);
  GstBus *bus;
  GstElement *el = make_element("persiantranscribe", e, &bus);
  g_object_set(el, "timeout", 60u, nullptr);
  GstHarness *h = gst_harness_new_with_element(el, "sink", "src");
  gst_harness_set_live(h, TRUE);
  gst_harness_play(h);
  gst_harness_set_src_caps(h, audio_caps(GST_AUDIO_FORMAT_S16LE, 16000, 1));
  std::vector<Burst> speech(45, Burst{1.0, true});
  push_audio(h, GST_AUDIO_FORMAT_S16LE, 16000, 1,
             make_audio(GST_AUDIO_FORMAT_S16LE, 16000, 1, speech), 0);
  std::vector<GstMessage *> others;
  auto msgs = pop_transcriptions(bus, &others);
  free_structures(msgs);
  uint64_t dropped_ms = 0;
  for (auto *m : others) {
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_WARNING) {
      GError *err = nullptr;
      gst_message_parse_warning(m, &err, nullptr);
      const char *at = strstr(err->message, "dropped");
      fail_unless(at != nullptr, "%s", err->message);
      const char *colon = strrchr(err->message, ':');
      dropped_ms += g_ascii_strtoull(colon + 1, nullptr, 10);
      g_error_free(err);
    }
    gst_message_unref(m);
  }
  /* 45 s in, a 30 s queue and one window on the wire: about 14 s dropped,
   * reported as at least the first second */
  fail_unless(dropped_ms >= 1000, "%" G_GUINT64_FORMAT " ms reported dropped", dropped_ms);
  fail_unless(dropped_ms <= 15000, "%" G_GUINT64_FORMAT " ms reported dropped", dropped_ms);
  teardown_element(h, el, bus);
}
GST_END_TEST;

static Suite *reconnect_suite()
{
  Suite *s = suite_create("reconnect");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_close_mid_stream_recovered);
  tcase_add_test(tc, test_handshake_429_retry_after);
  tcase_add_test(tc, test_gives_up_with_the_last_reason);
  tcase_add_test(tc, test_reconnection_off);
  tcase_add_test(tc, test_rejected_token_not_retried);
  tcase_add_test(tc, test_hole_starts_a_new_session);
  tcase_add_test(tc, test_short_hole_is_silence);
  tcase_add_test(tc, test_skip_silence_keeps_speech_and_times);
  tcase_add_test(tc, test_skip_silence_all_silent);
  tcase_add_test(tc, test_live_queue_drops_oldest);
  return s;
}

GST_CHECK_MAIN(reconnect);
