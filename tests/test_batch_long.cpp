// SPDX-License-Identifier: LGPL-2.1-or-later
/* A 30-minute recording through backend=nevisa: the element writes it to
 * disk, not memory, and uploads it streamed from disk.  The emulator runs as
 * its own process here, so that its copy of the upload is not counted in
 * this process's memory.  Three tone bursts at 0:10, 15:00 and 29:50 come
 * back as three segments at those times: the file arrived whole, in order. */
#include <glib/gstdio.h>

#include <csignal>
#include <fstream>

#include "test_helpers.h"

using namespace testutil;

namespace {

guint64 status_kb(const char *field)
{
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field, 0) == 0)
      return std::stoull(line.substr(strlen(field)));
  return 0;
}

struct External {
  GPid pid = 0;
  std::string login_url, api_url;
};

void start_external(External &x)
{
  const gchar *argv[] = {
      PT_EMULATOR_PATH,   "--token", kToken, "--nevisa-user", "u", "--nevisa-password", "p",
      "--progress-steps", "1",       nullptr};
  gint out_fd = -1;
  GError *err = nullptr;
  fail_unless(g_spawn_async_with_pipes(nullptr, (gchar **)argv, nullptr, G_SPAWN_DEFAULT, nullptr,
                                       nullptr, &x.pid, nullptr, &out_fd, nullptr, &err),
              "%s", err ? err->message : "");
  GIOChannel *ch = g_io_channel_unix_new(out_fd);
  g_io_channel_set_close_on_unref(ch, TRUE);
  /* The emulator prints its URLs and flushes; read lines until both came
   * (a blocking read on a pipe, bounded by the test timeout). */
  while (x.login_url.empty() || x.api_url.empty()) {
    gchar *line = nullptr;
    if (g_io_channel_read_line(ch, &line, nullptr, nullptr, nullptr) != G_IO_STATUS_NORMAL)
      break;
    std::string l = g_strstrip(line);
    g_free(line);
    if (l.rfind("NEVISA_LOGIN_URL=", 0) == 0)
      x.login_url = l.substr(17);
    else if (l.rfind("NEVISA_API_URL=", 0) == 0)
      x.api_url = l.substr(15);
  }
  g_io_channel_unref(ch);
  fail_unless(!x.login_url.empty() && !x.api_url.empty(), "the emulator printed no URLs");
}

}  // namespace

GST_START_TEST(test_thirty_minutes_flat_memory)
{
  External x;
  start_external(x);
  GstElement *el = gst_element_factory_make("persiantranscribe", nullptr);
  g_object_set(el, "backend", 2, "nevisa-username", "u", "nevisa-password", "p", "nevisa-login-url",
               x.login_url.c_str(), "nevisa-api-url", x.api_url.c_str(), "poll-interval", 100u,
               "timeout", 120u, nullptr);
  GstBus *bus = gst_bus_new();
  gst_element_set_bus(el, bus);
  GstHarness *h = gst_harness_new_with_element(el, "sink", "src");
  gst_harness_play(h);
  gst_harness_set_src_caps(h, audio_caps(GST_AUDIO_FORMAT_S16LE, 16000, 1));

  const guint64 minutes = 30, buf_ms = 100;
  const size_t frames = 16000 * buf_ms / 1000;
  std::vector<uint8_t> silence(frames * 2, 0);
  std::vector<uint8_t> tone = make_audio(GST_AUDIO_FORMAT_S16LE, 16000, 1, {{0.1, true}});
  const guint64 bursts[] = {10 * GST_SECOND, 15 * 60 * GST_SECOND, (29 * 60 + 50) * GST_SECOND};
  const guint64 total = minutes * 60 * GST_SECOND;
  guint64 hwm_start = 0, uploaded_pcm = 0;
  for (guint64 t = 0; t < total; t += buf_ms * GST_MSECOND) {
    bool loud = false;
    for (guint64 b : bursts)
      loud |= t >= b && t < b + GST_SECOND; /* 1 s of tone */
    const std::vector<uint8_t> &src = loud ? tone : silence;
    GstBuffer *buf = gst_buffer_new_memdup(src.data(), src.size());
    GST_BUFFER_PTS(buf) = t;
    GST_BUFFER_DURATION(buf) = buf_ms * GST_MSECOND;
    fail_unless_equals_int(gst_harness_push(h, buf), GST_FLOW_OK);
    uploaded_pcm += src.size();
    if (t == 60 * GST_SECOND)
      hwm_start = status_kb("VmHWM:"); /* after a minute: everything is set up */
  }
  guint64 hwm_recorded = status_kb("VmHWM:");
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  auto events = pull_events_until_eos(h);
  free_events(events);
  guint64 hwm_end = status_kb("VmHWM:");

  std::vector<GstMessage *> others;
  auto msgs = pop_transcriptions(bus, &others);
  for (auto *m : others) {
    fail_if(GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR, "error during the long run");
    gst_message_unref(m);
  }
  fail_unless_equals_int(msgs.size(), 3);
  for (size_t i = 0; i < 3; ++i) {
    guint64 ts = 0;
    gst_structure_get_uint64(msgs[i], "timestamp", &ts);
    fail_unless(ts + 100 * GST_MSECOND >= bursts[i] && ts <= bursts[i] + 100 * GST_MSECOND,
                "segment %zu at %" GST_TIME_FORMAT ", expected %" GST_TIME_FORMAT, i,
                GST_TIME_ARGS(ts), GST_TIME_ARGS(bursts[i]));
  }
  g_print("30 min recording (%" G_GUINT64_FORMAT " MB of PCM): peak RSS %" G_GUINT64_FORMAT
          " kB after 1 min, %" G_GUINT64_FORMAT " kB after recording, %" G_GUINT64_FORMAT
          " kB after upload and results\n",
          uploaded_pcm / 1000000, hwm_start, hwm_recorded, hwm_end);
  /* flat: a few MB at most over the whole half hour, upload included */
  fail_unless(hwm_end - hwm_start < 12 * 1024, "peak RSS grew by %" G_GUINT64_FORMAT " kB",
              hwm_end - hwm_start);

  free_structures(msgs);
  teardown_element(h, el, bus);
  kill(x.pid, SIGTERM);
  g_spawn_close_pid(x.pid);
}
GST_END_TEST;

static Suite *long_suite(void)
{
  Suite *s = suite_create("batch-long");
  TCase *tc = tcase_create("general");
  tcase_set_timeout(tc, 300);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_thirty_minutes_flat_memory);
  return s;
}

GST_CHECK_MAIN(long);
