// SPDX-License-Identifier: LGPL-2.1-or-later
/* harfsink posts the same messages as persiantranscribe. */
#include "test_helpers.h"

using namespace testutil;

namespace {

struct Collected {
  std::vector<GstStructure *> msgs;
  ~Collected() { free_structures(msgs); }
};

void run_persiantranscribe(emu::Emulator &e, GstClockTime first_pts, Collected &out)
{
  GstBus *bus;
  GstElement *el = make_element("persiantranscribe", e, &bus);
  GstHarness *h = gst_harness_new_with_element(el, "sink", "src");
  gst_harness_play(h);
  gst_harness_set_src_caps(h, audio_caps(GST_AUDIO_FORMAT_F32LE, 44100, 2));
  push_audio(h, GST_AUDIO_FORMAT_F32LE, 44100, 2,
             make_audio(GST_AUDIO_FORMAT_F32LE, 44100, 2, three_sentences()), first_pts);
  gst_harness_push_event(h, gst_event_new_eos());
  auto events = pull_events_until_eos(h);
  free_events(events);
  out.msgs = pop_transcriptions(bus);
  teardown_element(h, el, bus);
}

void run_harfsink(emu::Emulator &e, GstClockTime first_pts, Collected &out)
{
  GstBus *bus;
  GstElement *el = make_element("harfsink", e, &bus);
  GstHarness *h = gst_harness_new_with_element(el, "sink", nullptr);
  gst_harness_play(h);
  gst_harness_set_src_caps(h, audio_caps(GST_AUDIO_FORMAT_F32LE, 44100, 2));
  push_audio(h, GST_AUDIO_FORMAT_F32LE, 44100, 2,
             make_audio(GST_AUDIO_FORMAT_F32LE, 44100, 2, three_sentences()), first_pts);
  gst_harness_push_event(h, gst_event_new_eos());
  /* The sink posts EOS only after the last result */
  out.msgs = transcriptions_until_eos(bus);
  teardown_element(h, el, bus);
}

}  // namespace

GST_START_TEST(test_same_messages)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  Collected a, b;
  run_persiantranscribe(e, 2 * GST_SECOND, a);
  run_harfsink(e, 2 * GST_SECOND, b);
  fail_unless_equals_int(a.msgs.size(), 3);
  fail_unless_equals_int(b.msgs.size(), a.msgs.size());
  for (size_t i = 0; i < a.msgs.size(); ++i) {
    gchar *sa = gst_structure_to_string(a.msgs[i]);
    gchar *sb = gst_structure_to_string(b.msgs[i]);
    /* every field, words included, is the same */
    fail_unless(gst_structure_is_equal(a.msgs[i], b.msgs[i]), "\n%s\n%s", sa, sb);
    g_free(sa);
    g_free(sb);
  }
  const gchar *text = gst_structure_get_string(b.msgs[1], "text");
  assert_equals_std_string(text, "سخن را سر از ای خردمند و بن");
  guint64 ts;
  gst_structure_get_uint64(b.msgs[0], "timestamp", &ts);
  fail_unless(ts >= 2 * GST_SECOND + 400 * GST_MSECOND);
  auto s = e.sessions();
  fail_unless_equals_int(s.size(), 2);
  fail_unless_equals_int(s[1].finalize_count, 1);
  fail_unless_equals_int(s[1].header.rate, 16000);
}
GST_END_TEST;

GST_START_TEST(test_harfsink_errors)
{
  /* no text output, so no latency to add */
  GstElement *sink = gst_element_factory_make("harfsink", nullptr);
  fail_unless(g_object_class_find_property(G_OBJECT_GET_CLASS(sink), "latency") == nullptr);
  fail_unless(g_object_class_find_property(G_OBJECT_GET_CLASS(sink), "partial-results"));
  gst_object_unref(sink);

  check_missing_token("harfsink");
  /* rejected token: NOT_AUTHORIZED, and EOS does not hang */
  {
    emu::Options o = default_options();
    o.reject_token = true;
    emu::Emulator e(o);
    start_emulator(e);
    GstBus *bus;
    GstElement *el = make_element("harfsink", e, &bus);
    GstHarness *h = gst_harness_new_with_element(el, "sink", nullptr);
    gst_harness_play(h);
    gst_harness_set_src_caps(h, audio_caps(GST_AUDIO_FORMAT_S16LE, 16000, 1));
    auto audio = make_audio(GST_AUDIO_FORMAT_S16LE, 16000, 1, {{0.5, true}});
    GstBuffer *b = gst_buffer_new_memdup(audio.data(), audio.size());
    GST_BUFFER_PTS(b) = 0;
    gst_harness_push(h, b);
    gst_harness_push_event(h, gst_event_new_eos());
    GstMessage *m = wait_for(bus, GST_MESSAGE_ERROR, 30 * GST_SECOND);
    fail_unless(m != nullptr);
    GError *err = nullptr;
    gst_message_parse_error(m, &err, nullptr);
    fail_unless(g_error_matches(err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED), "%s",
                err->message);
    g_clear_error(&err);
    gst_message_unref(m);
    teardown_element(h, el, bus);
  }
}
GST_END_TEST;

static Suite *harfsink_suite(void)
{
  Suite *s = suite_create("harfsink");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_same_messages);
  tcase_add_test(tc, test_harfsink_errors);
  return s;
}

GST_CHECK_MAIN(harfsink);
