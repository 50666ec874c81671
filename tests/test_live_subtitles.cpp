// SPDX-License-Identifier: LGPL-2.1-or-later
/* A live minute: live audio and live video, persiantranscribe feeding
 * textoverlay.  No stall, no late video drops, no lost cue, each cue at
 * textoverlay before its time plus the latency, GAPs through long silences.
 * PT_LIVE_SECONDS shortens it (default 60). */
#include "test_helpers.h"

using namespace testutil;

namespace {

struct Seen {
  GMutex lock;
  GstElement *pipe = nullptr;
  std::vector<std::pair<guint64, guint64>> cues; /* text PTS, clock running time on arrival */
  guint gaps = 0;
  guint video_frames = 0;
};

guint64 running_now(GstElement *pipe)
{
  GstClock *clock = gst_element_get_clock(pipe);
  if (!clock)
    return GST_CLOCK_TIME_NONE;
  guint64 now = gst_clock_get_time(clock) - gst_element_get_base_time(pipe);
  gst_object_unref(clock);
  return now;
}

GstPadProbeReturn on_text(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *s = static_cast<Seen *>(data);
  g_mutex_lock(&s->lock);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    s->cues.emplace_back(GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info)), running_now(s->pipe));
  else if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_GAP)
    s->gaps++;
  g_mutex_unlock(&s->lock);
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn on_video(GstPad *, GstPadProbeInfo *, gpointer data)
{
  auto *s = static_cast<Seen *>(data);
  g_mutex_lock(&s->lock);
  s->video_frames++;
  g_mutex_unlock(&s->lock);
  return GST_PAD_PROBE_OK;
}

}  // namespace

GST_START_TEST(test_live_minute_with_textoverlay)
{
  const guint seconds = g_getenv("PT_LIVE_SECONDS") ? atoi(g_getenv("PT_LIVE_SECONDS")) : 60;
  const guint latency_ms = 5000;
  emu::Emulator e(default_options());
  start_emulator(e);
  /* A 200 ms "word" every 7.5 s: long silences in between, longer than the
   * latency, so only GAP events can keep the video moving. */
  std::string desc =
      "audiotestsrc is-live=true wave=ticks freq=50 sine-periods-per-tick=10 "
      "tick-interval=7500000000 samplesperbuffer=800 ! audio/x-raw,rate=16000,channels=1 ! "
      "persiantranscribe name=t latency=" +
      std::to_string(latency_ms) + " token=" + kToken + " harf-url=" + e.harf_live_url() +
      " ! ov.text_sink "
      "videotestsrc is-live=true pattern=black ! video/x-raw,width=320,height=180,framerate=10/1 ! "
      "textoverlay name=ov font-desc=\"Noto Sans Arabic 12\" ! "
      "fakesink name=vs sync=true qos=true max-lateness=20000000";
  GError *err = nullptr;
  GstElement *pipe = gst_parse_launch(desc.c_str(), &err);
  fail_unless(pipe != nullptr, "%s", err ? err->message : "");
  Seen seen;
  g_mutex_init(&seen.lock);
  seen.pipe = pipe;
  GstElement *ov = gst_bin_get_by_name(GST_BIN(pipe), "ov");
  GstPad *text_pad = gst_element_get_static_pad(ov, "text_sink");
  gst_pad_add_probe(
      text_pad, (GstPadProbeType)(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      on_text, &seen, nullptr);
  GstElement *vs = gst_bin_get_by_name(GST_BIN(pipe), "vs");
  GstPad *video_pad = gst_element_get_static_pad(vs, "sink");
  gst_pad_add_probe(video_pad, GST_PAD_PROBE_TYPE_BUFFER, on_video, &seen, nullptr);

  GstBus *bus = gst_element_get_bus(pipe);
  fail_unless(gst_element_set_state(pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  /* Run for the whole time, watching for trouble (this wait is the test's
   * length, not a synchronisation) */
  guint qos = 0, warnings = 0;
  std::vector<GstStructure *> results;
  gint64 end = g_get_monotonic_time() + seconds * G_TIME_SPAN_SECOND;
  for (gint64 left; (left = end - g_get_monotonic_time()) > 0;) {
    GstMessage *m = gst_bus_timed_pop_filtered(
        bus, left * GST_USECOND,
        (GstMessageType)(GST_MESSAGE_ERROR | GST_MESSAGE_WARNING | GST_MESSAGE_QOS |
                         GST_MESSAGE_ELEMENT | GST_MESSAGE_EOS));
    if (!m)
      break;
    switch (GST_MESSAGE_TYPE(m)) {
      case GST_MESSAGE_ERROR: {
        GError *e2 = nullptr;
        gst_message_parse_error(m, &e2, nullptr);
        fail_unless(FALSE, "error: %s", e2->message);
        break;
      }
      case GST_MESSAGE_EOS:
        fail_unless(FALSE, "unexpected EOS");
        break;
      case GST_MESSAGE_QOS:
        qos++;
        break;
      case GST_MESSAGE_WARNING:
        warnings++;
        break;
      default: {
        const GstStructure *s = gst_message_get_structure(m);
        if (s && gst_structure_has_name(s, "transcription"))
          results.push_back(gst_structure_copy(s));
      }
    }
    gst_message_unref(m);
  }
  guint max_delay = 0;
  GstElement *t = gst_bin_get_by_name(GST_BIN(pipe), "t");
  g_object_get(t, "max-observed-delay", &max_delay, nullptr);
  gst_object_unref(t);
  fail_unless_equals_int(gst_element_set_state(pipe, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);

  g_mutex_lock(&seen.lock);
  GST_INFO("%u s: %zu results, %zu cues, %u gaps, %u video frames, max delay %u ms", seconds,
           results.size(), seen.cues.size(), seen.gaps, seen.video_frames, max_delay);
  /* no stall: the video kept its rate (10 fps; the sink renders each frame
   * `latency` after its time, and starting up takes a moment) */
  fail_unless(seen.video_frames >= (seconds - latency_ms / 1000 - 2) * 10, "only %u frames in %u s",
              seen.video_frames, seconds);
  /* no late-buffer drops of video, no late-result warnings */
  fail_unless_equals_int(qos, 0);
  fail_unless_equals_int(warnings, 0);
  /* silence was bridged by GAP events */
  fail_unless(seen.gaps >= seconds, "only %u GAP events", seen.gaps);
  /* every result became a cue, at the time it was spoken, in time */
  fail_unless(results.size() >= seconds / 8, "only %zu results", results.size());
  fail_unless(seen.cues.size() >= results.size() - 1); /* the last may still be held */
  for (size_t i = 0; i < seen.cues.size(); ++i) {
    guint64 ts = 0;
    gst_structure_get_uint64(results[i], "running-time", &ts);
    fail_unless_equals_uint64(seen.cues[i].first, ts);
    fail_unless(seen.cues[i].second <= ts + latency_ms * GST_MSECOND,
                "cue %zu for %" GST_TIME_FORMAT " reached textoverlay at %" GST_TIME_FORMAT, i,
                GST_TIME_ARGS(ts), GST_TIME_ARGS(seen.cues[i].second));
  }
  fail_unless(max_delay > 0 && max_delay < latency_ms, "max-observed-delay %u ms", max_delay);
  g_mutex_unlock(&seen.lock);

  for (auto *s : results)
    gst_structure_free(s);
  gst_object_unref(bus);
  gst_object_unref(video_pad);
  gst_object_unref(vs);
  gst_object_unref(text_pad);
  gst_object_unref(ov);
  gst_object_unref(pipe);
  g_mutex_clear(&seen.lock);
}
GST_END_TEST;

static Suite *live_suite(void)
{
  Suite *s = suite_create("live-subtitles");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 180);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_live_minute_with_textoverlay);
  return s;
}

GST_CHECK_MAIN(live);
