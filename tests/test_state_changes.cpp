// SPDX-License-Identifier: LGPL-2.1-or-later
/* PLAYING -> NULL at any moment returns and leaks nothing.
 *
 * Runs with GST_TRACERS=leaks (set in meson): the leaks tracer's
 * "get-live-objects" action counts every live GstObject and GstMiniObject
 * before and after 50 cycles, of persiantranscribe and of harfsink. */
#include "test_helpers.h"

using namespace testutil;

namespace {

struct Progress {
  GMutex lock;
  GCond cond;
  int buffers = 0;
  bool eos = false;
  Progress()
  {
    g_mutex_init(&lock);
    g_cond_init(&cond);
  }
  ~Progress()
  {
    g_mutex_clear(&lock);
    g_cond_clear(&cond);
  }
};

GstPadProbeReturn count_data(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *p = static_cast<Progress *>(data);
  g_mutex_lock(&p->lock);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    p->buffers++;
  else if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS)
    p->eos = true;
  g_cond_broadcast(&p->cond);
  g_mutex_unlock(&p->lock);
  return GST_PAD_PROBE_OK;
}

/* One cycle: PLAYING, wait for a stage, NULL. stage 0: at once (connecting),
 * 1: streaming (the emulator has received audio of this cycle), 2: after EOS
 * reached the element (the rest of the windows still going out), 3: after
 * the emulator received finalize (its replies are delayed, so the element
 * is waiting for the last results). */
void cycle(emu::Emulator &e, int stage, bool sink)
{
  size_t sessions_before = e.sessions().size();
  std::string element = sink ? "harfsink" : "persiantranscribe";
  std::string desc =
      "audiotestsrc num-buffers=60 samplesperbuffer=1600 ! "
      "audio/x-raw,rate=16000,channels=1 ! " +
      element + " name=t token=" + std::string(kToken) +
      " timeout=10 harf-url=" + e.harf_live_url() + (sink ? "" : " ! fakesink");
  GError *err = nullptr;
  GstElement *pipe = gst_parse_launch(desc.c_str(), &err);
  fail_unless(pipe != nullptr, "%s", err ? err->message : "");
  GstElement *t = gst_bin_get_by_name(GST_BIN(pipe), "t");
  GstPad *pad = gst_element_get_static_pad(t, "sink");
  Progress progress;
  gst_pad_add_probe(
      pad, (GstPadProbeType)(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      count_data, &progress, nullptr);
  fail_unless(gst_element_set_state(pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  if (stage == 1) {
    fail_unless(e.wait_until(
                    [sessions_before](const std::vector<emu::SessionRecord> &r) {
                      return r.size() > sessions_before && !r.back().binary_sizes.empty();
                    },
                    20000),
                "no audio reached the emulator");
  } else if (stage == 3) {
    fail_unless(e.wait_until(
                    [sessions_before](const std::vector<emu::SessionRecord> &r) {
                      return r.size() > sessions_before && r.back().finalize_count > 0;
                    },
                    20000),
                "finalize never reached the emulator");
  } else if (stage == 2) {
    gint64 deadline = g_get_monotonic_time() + 20 * G_TIME_SPAN_SECOND;
    g_mutex_lock(&progress.lock);
    while (!progress.eos)
      if (!g_cond_wait_until(&progress.cond, &progress.lock, deadline))
        break;
    g_mutex_unlock(&progress.lock);
  }
  fail_unless_equals_int(gst_element_set_state(pipe, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gst_object_unref(pad);
  gst_object_unref(t);
  gst_object_unref(pipe);
}

}  // namespace

GST_START_TEST(test_fifty_cycles_no_leaks)
{
  GstTracer *tracer = leaks_tracer();
  fail_unless(tracer != nullptr, "run with GST_TRACERS=leaks");

  /* Replies are slowed down so that every stage really is in progress */
  emu::Options o = default_options();
  o.delay_ms = 100;
  emu::Emulator e(o);
  start_emulator(e);

  cycle(e, 1, false); /* warm-up: types, pad templates and caches are created once */
  cycle(e, 1, true);
  guint before = live_objects(tracer);
  /* PT_CYCLES lowers the count for the valgrind run */
  int cycles = g_getenv("PT_CYCLES") ? atoi(g_getenv("PT_CYCLES")) : 50;
  for (int i = 0; i < cycles; ++i)
    cycle(e, i % 4, (i / 4) % 2 == 1); /* harfsink in every other group of four */
  std::string names;
  guint after = live_objects(tracer, &names);
  fail_unless(after == before, "%u objects alive before, %u after:\n%s", before, after,
              names.c_str());

  /* the emulator saw the streams, and all of them ended */
  fail_unless(e.handshake_count() >= cycles / 2, "%d handshakes", e.handshake_count());
  auto sessions = e.sessions();
  size_t finalized = 0;
  for (auto &r : sessions)
    finalized += r.finalize_count > 0;
  fail_unless((int)finalized >= cycles / 4, "only %zu sessions reached finalize", finalized);
  fail_unless(e.wait_closed(1, 20000));
  gst_object_unref(tracer);
}
GST_END_TEST;

static Suite *state_suite(void)
{
  Suite *s = suite_create("state-changes");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_fifty_cycles_no_leaks);
  return s;
}

GST_CHECK_MAIN(state);
