// SPDX-License-Identifier: LGPL-2.1-or-later
#include "bench_util.h"

#include <gst/gst.h>

#include <glib/gstdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace bench {

Summary summarize(std::vector<double> v)
{
  Summary s;
  s.n = v.size();
  if (v.empty())
    return s;
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  const size_t m = v.size() / 2;
  s.median = v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
  return s;
}

double percentile(std::vector<double> v, double p)
{
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  size_t rank = (size_t)std::ceil(p / 100.0 * (double)v.size());
  rank = std::max<size_t>(1, std::min(rank, v.size()));
  return v[rank - 1];
}

std::string fmt(double v, int decimals)
{
  char buf[64];
  if (std::fabs(v) < 0.5 * std::pow(10.0, -decimals))
    v = 0;  // no "-0.000"
  snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

std::string fmt(const Summary &s, int decimals)
{
  if (s.n == 0)
    return "-";
  std::string out = fmt(s.median, decimals);
  if (s.n > 1)
    out += " (" + fmt(s.min, decimals) + "–" + fmt(s.max, decimals) + ")";
  return out;
}

Cpu cpu_now()
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  Cpu c;
  c.user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
  c.sys_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
  c.nvcsw = ru.ru_nvcsw;
  c.nivcsw = ru.ru_nivcsw;
  return c;
}

double monotonic_s()
{
  return (double)g_get_monotonic_time() / 1e6;
}

long proc_status(const char *field)
{
  FILE *f = fopen("/proc/self/status", "r");
  if (!f)
    return -1;
  char line[256];
  const size_t len = strlen(field);
  long value = -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, field, len) == 0 && line[len] == ':') {
      value = strtol(line + len + 1, nullptr, 10);
      break;
    }
  }
  fclose(f);
  return value;
}

int open_fds()
{
  GDir *d = g_dir_open("/proc/self/fd", 0, nullptr);
  if (!d)
    return -1;
  int n = 0;
  while (g_dir_read_name(d))
    ++n;
  g_dir_close(d);
  return n;
}

namespace {

/* Calls f(tid, name) for each thread of this process; false when
 * /proc/self/task cannot be read. */
template <typename F> bool for_each_thread(F f)
{
  GDir *d = g_dir_open("/proc/self/task", 0, nullptr);
  if (!d)
    return false;
  while (const char *tid = g_dir_read_name(d)) {
    g_autofree gchar *path = g_strdup_printf("/proc/self/task/%s/comm", tid);
    g_autofree gchar *comm = nullptr;
    if (g_file_get_contents(path, &comm, nullptr, nullptr))
      f(tid, g_strchomp(comm));
  }
  g_dir_close(d);
  return true;
}

bool is_glib_process_thread(const char *comm)
{
  return g_str_has_prefix(comm, "gmain") || g_str_has_prefix(comm, "dconf worker") ||
         g_str_has_prefix(comm, "pool-");
}

}  // namespace

int threads_named(const char *prefix)
{
  int n = 0;
  const bool read = for_each_thread([&](const char *, const char *comm) {
    n += g_str_has_prefix(comm, prefix);
  });
  return read ? n : -1;
}

int glib_process_threads()
{
  int n = 0;
  for_each_thread([&](const char *, const char *comm) { n += is_glib_process_thread(comm); });
  return n;
}

std::map<std::string, double> cpu_by_thread_group()
{
  const double tick = (double)sysconf(_SC_CLK_TCK);
  std::map<std::string, double> cpu{{"source", 0}, {"task", 0}, {"io", 0}, {"glib", 0}, {"other", 0}};
  for_each_thread([&](const char *tid, const char *comm) {
    g_autofree gchar *path = g_strdup_printf("/proc/self/task/%s/stat", tid);
    g_autofree gchar *stat = nullptr;
    if (!g_file_get_contents(path, &stat, nullptr, nullptr))
      return;
    /* utime and stime are fields 14 and 15, counted after the ")" that
     * closes the name (which may hold spaces). */
    const char *p = strrchr(stat, ')');
    if (!p)
      return;
    g_auto(GStrv) f = g_strsplit(p + 2, " ", 0);
    if (g_strv_length(f) < 13)
      return;
    const double s = (g_ascii_strtod(f[11], nullptr) + g_ascii_strtod(f[12], nullptr)) / tick;
    const char *group = g_str_has_prefix(comm, "audiotestsrc")      ? "source"
                        : g_str_has_prefix(comm, "persiantranscri") ? "task"
                        : g_str_has_prefix(comm, "pt-io")           ? "io"
                        : is_glib_process_thread(comm)              ? "glib"
                                                                    : "other";
    cpu[group] += s;
  });
  return cpu;
}

const char *bench_token()
{
  return "bench-token-0d41";
}

const char *bench_nevisa_user()
{
  return "bench@example.com";
}

const char *bench_nevisa_password()
{
  return "bench-password-7e2c";
}

std::string temp_dir()
{
  return std::string(PT_BENCH_BUILD_DIR) + "/tmp";
}

void setup_environment()
{
  /* The plugin of this build and the base and good plugins (audiotestsrc,
   * audioconvert, wavparse, wavenc), nothing installed elsewhere. */
  std::string path = std::string(PT_BENCH_PLUGIN_DIR) + ":" + PT_BENCH_BASE_PLUGIN_DIR;
  g_setenv("GST_PLUGIN_SYSTEM_PATH_1_0", "", TRUE);
  g_setenv("GST_PLUGIN_PATH_1_0", path.c_str(), TRUE);
  g_setenv("GST_REGISTRY_1_0", (std::string(PT_BENCH_BUILD_DIR) + "/bench.registry").c_str(), TRUE);
  /* Recordings of the batch backend go to the build, not to a shared /tmp. */
  g_mkdir_with_parents(temp_dir().c_str(), 0700);
  g_setenv("TMPDIR", temp_dir().c_str(), TRUE);
  /* The emulator is given this token; a real one in the environment is
   * never sent anywhere by the benchmarks. */
  g_setenv("HARF_TOKEN", bench_token(), TRUE);
  g_unsetenv("NEVISA_USERNAME");
  g_unsetenv("NEVISA_PASSWORD");
  g_unsetenv("NEVISA_AUTH_TOKEN");
  g_unsetenv("NEVISA_API_KEY");
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

double ChildResult::num(const std::string &key) const
{
  auto it = kv.find(key);
  if (it == kv.end())
    fail("the child printed no %s", key.c_str());
  return g_ascii_strtod(it->second.c_str(), nullptr);
}

ChildResult run_child(const std::vector<std::string> &args)
{
  ChildResult r;
  g_autofree char *self = g_file_read_link("/proc/self/exe", nullptr);
  std::vector<char *> argv;
  argv.push_back(self);
  argv.push_back(const_cast<char *>("child"));
  for (auto &a : args)
    argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  g_autofree char *out = nullptr;
  gint status = 0;
  GError *error = nullptr;
  /* The child's stderr goes where ours goes. */
  if (!g_spawn_sync(nullptr, argv.data(), nullptr, G_SPAWN_CHILD_INHERITS_STDERR, nullptr, nullptr,
                    &out, nullptr, &status, &error)) {
    r.error = error->message;
    g_error_free(error);
    return r;
  }
  gchar **lines = g_strsplit(out ? out : "", "\n", -1);
  for (gchar **l = lines; *l; ++l) {
    const char *eq = strchr(*l, '=');
    if (!eq)
      continue;
    std::string key(*l, eq - *l), value(eq + 1);
    if (key == "text")
      r.texts.push_back(value);
    else if (key == "progress")
      r.progress.push_back(value);
    else
      r.kv[key] = value;
  }
  g_strfreev(lines);
  if (!g_spawn_check_wait_status(status, &error)) {
    r.error = error->message;
    g_error_free(error);
    if (r.kv.count("error"))
      r.error += ": " + r.kv["error"];
    return r;
  }
  r.ok = true;
  return r;
}

void row(const std::string &bench, const std::string &figure, const std::string &value,
         const std::string &baseline, const std::string &goal, const std::string &verdict)
{
  printf("ROW\t%s\t%s\t%s\t%s\t%s\t%s\n", bench.c_str(), figure.c_str(), value.c_str(),
         baseline.empty() ? "-" : baseline.c_str(), goal.empty() ? "-" : goal.c_str(),
         verdict.empty() ? "-" : verdict.c_str());
  fflush(stdout);
}

std::string verdict(bool met)
{
  return met ? "met" : "NOT met";
}

void note(const char *format, ...)
{
  va_list ap;
  va_start(ap, format);
  g_autofree char *s = g_strdup_vprintf(format, ap);
  va_end(ap);
  fprintf(stderr, "   %s\n", s);
}

void fail(const char *format, ...)
{
  va_list ap;
  va_start(ap, format);
  g_autofree char *s = g_strdup_vprintf(format, ap);
  va_end(ap);
  fprintf(stderr, "pt-bench: FAILED: %s\n", s);
  fflush(stderr);
  exit(1);
}

std::vector<std::string> persian_script(size_t n)
{
  std::vector<std::string> lines;
  g_autofree char *text = nullptr;
  const std::string path = std::string(PT_FIXTURES_DIR) + "/persian-sample.txt";
  if (!g_file_get_contents(path.c_str(), &text, nullptr, nullptr))
    fail("cannot read %s", path.c_str());
  gchar **split = g_strsplit(text, "\n", -1);
  for (gchar **l = split; *l; ++l)
    if (**l)
      lines.push_back(*l);
  g_strfreev(split);
  if (lines.empty())
    fail("%s has no lines", path.c_str());
  std::vector<std::string> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i)
    out.push_back(lines[i % lines.size()]);
  return out;
}

void play_to_eos(GstElement *pipeline, GstBus *bus, unsigned timeout_s, const char *what)
{
  if (gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    fail("%s: the pipeline did not start", what);
  GstMessage *m = gst_bus_timed_pop_filtered(bus, (GstClockTime)timeout_s * GST_SECOND,
                                             (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  if (!m)
    fail("%s: no EOS", what);
  if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
    GError *err = nullptr;
    gst_message_parse_error(m, &err, nullptr);
    fail("%s: %s", what, err->message);
  }
  gst_message_unref(m);
}

std::unique_ptr<emu::Emulator> start_emulator(emu::Options o)
{
  o.token = bench_token();
  o.record_audio_max = 0;
  auto e = std::make_unique<emu::Emulator>(std::move(o));
  GError *error = nullptr;
  if (!e->start(0, &error))
    fail("the emulator did not start: %s", error ? error->message : "?");
  return e;
}

std::string minutes(int seconds)
{
  if (seconds % 3600 == 0)
    return std::to_string(seconds / 3600) + " h";
  return seconds % 60 == 0 ? std::to_string(seconds / 60) + " min" : std::to_string(seconds) + " s";
}

Values ticks_values(const Ticks &t)
{
  return {
      {"live", t.live ? "true" : "false"},
      /* 500 Hz: a whole number of periods per millisecond pair at every
       * common rate, so the tone lasts exactly tone_ms. */
      {"tone-periods", std::to_string(t.tone_ms / 2)},
      {"tick-interval", std::to_string((guint64)t.period_ms * 1000000)},
      {"samples-per-buffer", std::to_string(t.samples_per_buffer)},
      {"num-buffers", std::to_string(t.num_buffers)},
      {"format", t.format},
      {"rate", std::to_string(t.rate)},
      {"channels", std::to_string(t.channels)},
  };
}

GstElement *make_pipeline(const std::string &key, const Values &values, GError **error)
{
  std::string missing;
  auto v = [&](const char *name) {
    auto it = values.find(name);
    if (it != values.end())
      return it->second;
    if (missing.empty())
      missing = name;
    return std::string();
  };
  const std::string ticks =
      "audiotestsrc is-live=" + v("live") + " wave=ticks freq=500 sine-periods-per-tick=" +
      v("tone-periods") + " tick-interval=" + v("tick-interval") +
      " volume=0.3 samplesperbuffer=" + v("samples-per-buffer") + " num-buffers=" +
      v("num-buffers") + " ! audio/x-raw,format=" + v("format") + ",rate=" + v("rate") +
      ",channels=" + v("channels") + ",layout=interleaved";
  if (key == "pipelining" || key == "silence" || key == "silence-nevisa")  // no ticks
    missing.clear();
  std::string line;
  if (key == "harf-live")  // throughput and streams: any input, converted by the element's caps
    line = ticks + " ! audioconvert ! audioresample ! persiantranscribe backend=harf-live harf-url=" +
           v("url") + " ! fakesink";
  else if (key == "bare")  // their baseline: the same conversion, no element
    line = ticks +
           " ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=16000,channels=1 ! "
           "fakesink";
  else if (key == "wav-file")
    line = ticks + " ! wavenc ! filesink location=" + v("location");
  else if (key == "mp3-file")  // the command benchmark's input: constant bit rate MP3
    line = ticks + " ! audioconvert ! lamemp3enc target=bitrate cbr=true bitrate=" +
           v("bitrate") + " ! filesink location=" + v("location");
  else if (key == "pipelining")
    line = "filesrc location=" + v("location") + " ! wavparse ! persiantranscribe harf-url=" +
           v("url") + " max-inflight=" + v("max-inflight") + " ! fakesink";
  else if (key == "silence")  // the share of audio sent with and without skip-silence
    line = "filesrc location=" + v("location") + " ! wavparse ! persiantranscribe harf-url=" +
           v("url") + " skip-silence=" + v("skip-silence") + " ! fakesink";
  else if (key == "silence-nevisa")  // the same for a batch backend: what it uploads
    line = "filesrc location=" + v("location") +
           " ! wavparse ! persiantranscribe name=asr backend=nevisa poll-interval=100 "
           "nevisa-login-url=" +
           v("login-url") + " nevisa-api-url=" + v("api-url") + " skip-silence=" +
           v("skip-silence") + " ! fakesink";
  else if (key == "latency")
    line = ticks + " ! persiantranscribe name=asr harf-url=" + v("url") + " window-duration=" +
           v("window-duration") + " partial-results=true ! fakesink";
  else if (key == "live-window")  // delay: live input, the defaults but window-duration
    line = ticks + " ! persiantranscribe name=asr harf-url=" + v("url") + " window-duration=" +
           v("window-duration") + " ! fakesink";
  else if (key == "nevisa")
    line = ticks + " ! persiantranscribe name=asr backend=nevisa poll-interval=100 nevisa-login-url=" +
           v("login-url") + " nevisa-api-url=" + v("api-url") + " ! fakesink";
  else if (key == "idle")  // nevisa's baseline
    line = ticks + " ! fakesink";
  else {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "no pipeline named %s",
                key.c_str());
    return nullptr;
  }
  if (!missing.empty()) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "the pipeline %s needs a value for %s", key.c_str(), missing.c_str());
    return nullptr;
  }
  return gst_parse_launch(line.c_str(), error);
}

std::vector<std::string> pipeline_args(const std::string &key, const Values &values)
{
  std::vector<std::string> a{"--pipeline", key};
  for (const auto &[name, value] : values) {
    a.push_back("--value");
    a.push_back(name + "=" + value);
  }
  return a;
}

}  // namespace bench
