// SPDX-License-Identifier: LGPL-2.1-or-later
/* `pt-bench child`: one measured run in a process of its own, so that its CPU
 * time, peak memory, threads and descriptors are the pipeline's alone (the
 * emulator runs in the parent). Two kinds of run:
 *
 *   --pipeline KEY --value NAME=VALUE ...
 *                               one pipeline of the catalogue (make_pipeline
 *                               in bench_util.cpp), PLAYING until EOS: CPU time and
 *                               context switches from PLAYING to EOS, wall
 *                               time, VmHWM, the transcriptions and the
 *                               transcription-progress messages with times
 *   ... --streams N             N copies of the (live) pipeline, started over
 *                               --ramp-ms, PLAYING for --warmup-ms (and with
 *                               --until-results until each has had a result),
 *                               then measured for --measure-ms: CPU, VmRSS,
 *                               threads and descriptors
 *
 * It prints key=value lines on stdout (text= and progress= repeat) and exits
 * non-zero on an ERROR message, a missing EOS or a state change that fails. */
#include <gst/gst.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bench_util.h"

using namespace bench;

namespace {

struct Collected {
  std::mutex lock;
  /* false (--count-only): finals are counted, their texts not kept, so
   * that the harness's own memory does not grow with the results */
  bool keep_texts = true;
  long transcriptions = 0, finals = 0, warnings = 0;
  std::vector<std::string> texts;     // finals: "id<TAB>timestamp<TAB>duration<TAB>text"
  std::vector<std::string> progress;  // "t_us<TAB>bytes-sent<TAB>bytes-total<TAB>state<TAB>VmRSS"
};

/* Runs on the posting thread (the element's I/O thread for results), so the
 * times are when the messages were posted. */
GstBusSyncReply on_message(GstBus *, GstMessage *m, gpointer data)
{
  auto *c = static_cast<Collected *>(data);
  const GstStructure *s = gst_message_get_structure(m);
  switch (GST_MESSAGE_TYPE(m)) {
    case GST_MESSAGE_EOS:
    case GST_MESSAGE_ERROR:
      return GST_BUS_PASS;
    case GST_MESSAGE_WARNING: {
      std::lock_guard<std::mutex> lk(c->lock);
      ++c->warnings;
      return drop(m);
    }
    case GST_MESSAGE_ELEMENT:
      break;
    default:
      return drop(m);
  }
  if (s && gst_structure_has_name(s, "transcription")) {
    gboolean final = FALSE;
    gint id = -1;
    guint64 ts = 0, dur = 0;
    gst_structure_get_boolean(s, "final", &final);
    gst_structure_get_int(s, "segment-id", &id);
    gst_structure_get_uint64(s, "timestamp", &ts);
    gst_structure_get_uint64(s, "duration", &dur);
    const gchar *text = gst_structure_get_string(s, "text");
    std::lock_guard<std::mutex> lk(c->lock);
    ++c->transcriptions;
    if (final && !c->keep_texts) {
      ++c->finals;
    } else if (final) {
      ++c->finals;
      g_autofree char *line = g_strdup_printf(
          "%d\t%" G_GUINT64_FORMAT "\t%" G_GUINT64_FORMAT "\t%s", id, ts, dur, text ? text : "");
      c->texts.push_back(line);
    }
  } else if (s && gst_structure_has_name(s, "transcription-progress")) {
    const gint64 now = g_get_monotonic_time();
    guint64 sent = 0, total = 0;
    gst_structure_get_uint64(s, "bytes-sent", &sent);
    gst_structure_get_uint64(s, "bytes-total", &total);
    const gchar *state = gst_structure_get_string(s, "state");
    const long rss_kb = proc_status("VmRSS");
    g_autofree char *line = g_strdup_printf("%" G_GINT64_FORMAT "\t%" G_GUINT64_FORMAT
                                            "\t%" G_GUINT64_FORMAT "\t%s\t%ld",
                                            now, sent, total, state ? state : "", rss_kb);
    std::lock_guard<std::mutex> lk(c->lock);
    c->progress.push_back(line);
  }
  return drop(m);
}

/* The Nevisa account goes to the element named "asr" from the parent's
 * variables, never through a command line. */
void set_nevisa_account(GstElement *pipeline)
{
  GstElement *asr = gst_bin_get_by_name(GST_BIN(pipeline), "asr");
  if (!asr)
    return;
  const char *user = g_getenv("PT_BENCH_NEVISA_USERNAME");
  const char *password = g_getenv("PT_BENCH_NEVISA_PASSWORD");
  if (user && password)
    g_object_set(asr, "nevisa-username", user, "nevisa-password", password, nullptr);
  gst_object_unref(asr);
}

GstElement *parse(const std::string &key, const Values &values)
{
  GError *error = nullptr;
  GstElement *p = make_pipeline(key, values, &error);
  if (!p || error) {
    printf("error=cannot make the pipeline %s: %s\n", key.c_str(), error ? error->message : "?");
    exit(1);
  }
  set_nevisa_account(p);
  return p;
}

int run_until_eos(const std::string &key, const Values &values, int timeout_s, bool keep_texts)
{
  Collected c;
  c.keep_texts = keep_texts;
  GstElement *pipeline = parse(key, values);
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_bus_set_sync_handler(bus, on_message, &c, nullptr);

  const Cpu cpu0 = cpu_now();
  const double t0 = monotonic_s();
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    printf("error=the pipeline did not start\n");
    return 1;
  }
  GstMessage *m = gst_bus_timed_pop_filtered(bus, (GstClockTime)timeout_s * GST_SECOND,
                                             (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  const double t1 = monotonic_s();
  const Cpu cpu1 = cpu_now();
  int status = 0;
  if (!m) {
    printf("error=no EOS within %d s\n", timeout_s);
    status = 1;
  } else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
    GError *err = nullptr;
    gst_message_parse_error(m, &err, nullptr);
    printf("error=%s: %s\n", GST_OBJECT_NAME(GST_MESSAGE_SRC(m)), err->message);
    g_error_free(err);
    status = 1;
  }
  if (m)
    gst_message_unref(m);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_bus_set_sync_handler(bus, nullptr, nullptr, nullptr);
  gst_object_unref(bus);
  gst_object_unref(pipeline);

  printf("wall_s=%.6f\ncpu_user_s=%.6f\ncpu_sys_s=%.6f\ncpu_s=%.6f\n", t1 - t0,
         cpu1.user_s - cpu0.user_s, cpu1.sys_s - cpu0.sys_s, cpu1.total() - cpu0.total());
  printf("nvcsw=%ld\nnivcsw=%ld\n", cpu1.nvcsw - cpu0.nvcsw, cpu1.nivcsw - cpu0.nivcsw);
  printf("vmhwm_kb=%ld\nvmrss_kb=%ld\n", proc_status("VmHWM"), proc_status("VmRSS"));
  std::lock_guard<std::mutex> lk(c.lock);
  printf("transcriptions=%ld\nfinals=%ld\nwarnings=%ld\n", c.transcriptions, c.finals, c.warnings);
  for (auto &t : c.texts)
    printf("text=%s\n", t.c_str());
  for (auto &p : c.progress)
    printf("progress=%s\n", p.c_str());
  fflush(stdout);
  return status;
}

struct Stream {
  std::atomic<long> finals{0};
  std::atomic<long> errors{0};
};

std::mutex first_error_lock;
std::string first_error;

/* Streams with at least one result (or an error): the warm-up waits for all. */
std::mutex ready_lock;
std::condition_variable ready_cond;
int ready = 0;

void mark_ready()
{
  std::lock_guard<std::mutex> lk(ready_lock);
  ++ready;
  ready_cond.notify_all();
}

GstBusSyncReply on_stream_message(GstBus *, GstMessage *m, gpointer data)
{
  auto *st = static_cast<Stream *>(data);
  if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
    if (st->errors++ == 0 && st->finals.load() == 0)
      mark_ready();
    GError *err = nullptr;
    gst_message_parse_error(m, &err, nullptr);
    std::lock_guard<std::mutex> lk(first_error_lock);
    if (first_error.empty())
      first_error = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(m))) + ": " + err->message;
    g_error_free(err);
  } else if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT) {
    const GstStructure *s = gst_message_get_structure(m);
    gboolean final = FALSE;
    if (s && gst_structure_has_name(s, "transcription") &&
        gst_structure_get_boolean(s, "final", &final) && final && st->finals++ == 0 &&
        st->errors.load() == 0)
      mark_ready();
  }
  /* Nobody pops these buses: keep nothing. */
  return drop(m);
}

int run_streams(const std::string &key, const Values &values, int n, int ramp_ms, int warmup_ms, bool until_results,
                int measure_ms)
{
  std::vector<GstElement *> pipelines;
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < n; ++i) {
    streams.push_back(std::make_unique<Stream>());
    GstElement *p = parse(key, values);
    GstBus *bus = gst_element_get_bus(p);
    gst_bus_set_sync_handler(bus, on_stream_message, streams.back().get(), nullptr);
    gst_object_unref(bus);
    pipelines.push_back(p);
  }
  /* The streams start ramp_ms / n apart (a load shape: n connections in the
   * same millisecond overflow the emulator's accept queue), ... */
  const double start = monotonic_s();
  for (int i = 0; i < n; ++i) {
    const double due = start + (double)ramp_ms / 1000.0 * i / n;
    const double now = monotonic_s();
    if (due > now)
      g_usleep((gulong)((due - now) * 1e6));
    if (gst_element_set_state(pipelines[i], GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      printf("error=a pipeline did not start\n");
      return 1;
    }
  }
  /* ... then a fixed time for the bare chain, and for the element until
   * every stream has had a result (bounded), before a fixed time measured. */
  g_usleep((gulong)warmup_ms * 1000);
  if (until_results) {
    std::unique_lock<std::mutex> lk(ready_lock);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    if (!ready_cond.wait_until(lk, deadline, [&] { return ready >= n; })) {
      printf("error=%d of %d streams had no result within 60 s of starting\n", n - ready, n);
      return 1;
    }
  }
  const double warm = monotonic_s() - start;
  std::vector<long> finals_before;
  for (auto &st : streams)
    finals_before.push_back(st->finals.load());
  const Cpu cpu0 = cpu_now();
  const auto groups0 = cpu_by_thread_group();
  const double t0 = monotonic_s();
  g_usleep((gulong)measure_ms * 1000);
  const double t1 = monotonic_s();
  const Cpu cpu1 = cpu_now();
  const auto groups1 = cpu_by_thread_group();
  const long rss = proc_status("VmRSS");
  const long threads = proc_status("Threads");
  const int fds = open_fds();
  const int io_threads = threads_named("pt-io");
  const int glib_threads = glib_process_threads();
  long idle_in_window = 0;
  for (size_t i = 0; i < streams.size(); ++i)
    idle_in_window += streams[i]->finals.load() == finals_before[i];

  for (auto *p : pipelines)
    gst_element_set_state(p, GST_STATE_NULL);
  long min_finals = -1, without = 0, errors = 0, total_finals = 0;
  for (auto &st : streams) {
    const long f = st->finals.load();
    total_finals += f;
    min_finals = min_finals < 0 ? f : std::min(min_finals, f);
    without += f == 0;
    errors += st->errors.load();
  }
  for (auto *p : pipelines) {
    GstBus *bus = gst_element_get_bus(p);
    gst_bus_set_sync_handler(bus, nullptr, nullptr, nullptr);
    gst_object_unref(bus);
    gst_object_unref(p);
  }
  printf("streams=%d\nwall_s=%.6f\ncpu_s=%.6f\ncpu_pct=%.4f\n", n, t1 - t0,
         cpu1.total() - cpu0.total(), 100.0 * (cpu1.total() - cpu0.total()) / (t1 - t0));
  printf("nvcsw=%ld\nrss_kb=%ld\nthreads=%ld\nio_threads=%d\nglib_threads=%d\nfds=%d\n",
         cpu1.nvcsw - cpu0.nvcsw, rss, threads, io_threads, glib_threads, fds);
  for (const auto &g : groups1)
    printf("cpu_pct_%s=%.4f\n", g.first.c_str(),
           100.0 * (g.second - groups0.at(g.first)) / (t1 - t0));
  printf("finals=%ld\nmin_finals=%ld\nstreams_without_results=%ld\nerrors=%ld\n", total_finals,
         min_finals, without, errors);
  printf("warmup_s=%.3f\nstreams_idle_while_measured=%ld\n", warm, idle_in_window);
  int status = 0;
  if (errors) {
    std::lock_guard<std::mutex> lk(first_error_lock);
    printf("error=%ld error message(s), the first: %s\n", errors, first_error.c_str());
    status = 1;
  }
  fflush(stdout);
  return status;
}

}  // namespace

int child_main(int argc, char **argv)
{
  gchar *key = nullptr;
  gchar **value_args = nullptr;
  gint streams = 0, ramp_ms = 0, warmup_ms = 2000, measure_ms = 10000, timeout_s = 1800;
  gboolean until_results = FALSE, count_only = FALSE;
  const GOptionEntry entries[] = {
      {"pipeline", 0, 0, G_OPTION_ARG_STRING, &key, "Which pipeline (make_pipeline)", "KEY"},
      {"value", 0, 0, G_OPTION_ARG_STRING_ARRAY, &value_args, "A value of the pipeline (repeat)",
       "NAME=VALUE"},
      {"streams", 0, 0, G_OPTION_ARG_INT, &streams, "Run N copies (live) for a fixed time", "N"},
      {"ramp-ms", 0, 0, G_OPTION_ARG_INT, &ramp_ms, "Spread the starts over this time", "MS"},
      {"warmup-ms", 0, 0, G_OPTION_ARG_INT, &warmup_ms, "Time before measuring", "MS"},
      {"until-results", 0, 0, G_OPTION_ARG_NONE, &until_results,
       "After --warmup-ms, wait until every stream has had a result", nullptr},
      {"measure-ms", 0, 0, G_OPTION_ARG_INT, &measure_ms, "Time measured", "MS"},
      {"timeout-s", 0, 0, G_OPTION_ARG_INT, &timeout_s, "Longest wait for EOS", "S"},
      {"count-only", 0, 0, G_OPTION_ARG_NONE, &count_only,
       "Count the finals, keep no texts (for memory measured over hours of results)", nullptr},
      {nullptr},
  };
  GOptionContext *ctx = g_option_context_new("- one measured run (used by pt-bench itself)");
  g_option_context_add_main_entries(ctx, entries, nullptr);
  GError *error = nullptr;
  if (!g_option_context_parse(ctx, &argc, &argv, &error) || !key) {
    printf("error=%s\n", error ? error->message : "--pipeline is required");
    return 2;
  }
  g_option_context_free(ctx);
  Values values;
  for (gchar **a = value_args; a && *a; ++a) {
    const char *eq = strchr(*a, '=');
    if (!eq) {
      printf("error=--value %s: expected NAME=VALUE\n", *a);
      return 2;
    }
    values[std::string(*a, eq - *a)] = eq + 1;
  }
  g_strfreev(value_args);
  gst_init(nullptr, nullptr);
  const int status = streams > 0 ? run_streams(key, values, streams, ramp_ms, warmup_ms,
                                               until_results != FALSE, measure_ms)
                                 : run_until_eos(key, values, timeout_s, !count_only);
  g_free(key);
  return status;
}
