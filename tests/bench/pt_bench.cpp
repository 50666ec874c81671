// SPDX-License-Identifier: LGPL-2.1-or-later
/* pt-bench: the benchmark suite of issue 11, one sub-command per benchmark.
 * scripts/bench runs them and prints their rows as one table.
 *
 *   pt-bench throughput  [--runs N] [--quick] [--seconds S]
 *   pt-bench pipelining  [--runs N] [--quick] [--seconds S]
 *   pt-bench latency     [--runs N] [--quick] [--segments K]
 *   pt-bench delay       [--runs N] [--quick] [--seconds S]   (live: at most 2 runs)
 *   pt-bench streams     [--runs N] [--quick] [--min-streams L] [--max-streams M] [--seconds S]
 *   pt-bench batch       [--runs N] [--quick] [--seconds S]
 *   pt-bench silence     [--runs N] [--quick] [--seconds S]
 *   pt-bench command     [--runs N] [--quick]
 *
 * Every figure is measured next to its baseline in the same invocation, runs
 * alternating between the two (and which goes first), and reported as the
 * median with the range. The emulator runs in this process, on its own
 * thread; the pipelines measured run in child processes (`pt-bench child`),
 * so the emulator's CPU, memory and threads are never counted against the
 * element. Only latency and delay run everything here: their two clocks
 * must agree.
 *
 * Each benchmark checks its results (segments arrived, texts identical,
 * every byte uploaded) and exits 1 when they are not right. */
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <libsoup/soup.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.h"
#include "emulator.h"

int child_main(int argc, char **argv);
int latency_main(int runs, bool quick, int segments);
int delay_main(int runs, bool quick, int seconds);
int command_main(int runs, bool quick);

using namespace bench;

namespace {

struct Common {
  int runs = 5;
  bool quick = false;
  int seconds = 0;  // 0: the benchmark's own size (smaller with --quick)
  int max_streams = 0;
  int min_streams = 0;
  int segments = 0;
};


ChildResult must_run(const std::vector<std::string> &args, const char *what)
{
  ChildResult r = run_child(args);
  if (!r.ok)
    fail("%s: %s", what, r.error.c_str());
  return r;
}



/* ---- 1. throughput ---------------------------------------------------- */

int throughput(const Common &c)
{
  const int seconds = c.seconds > 0 ? c.seconds : (c.quick ? 60 : 600);
  if (seconds % 2)
    fail("--seconds must be even (one tone every 2 s)");
  emu::Options eo;
  eo.script = persian_script(seconds / 2 + 16);
  auto e = start_emulator(eo);
  /* 48 kHz stereo F32: 0.6 s of tone every 2 s, in 100 ms buffers */
  auto src = [](long buffers) {
    Ticks t;
    t.rate = 48000;
    t.channels = 2;
    t.format = "F32LE";
    t.samples_per_buffer = 4800;
    t.num_buffers = buffers;
    return ticks_values(t);
  };
  auto element = [&](long buffers) {
    Values v = src(buffers);
    v["url"] = e->harf_live_url();
    return pipeline_args("harf-live", v);
  };
  const auto bare = pipeline_args("bare", src(seconds * 10L));
  note("throughput: %s of 48 kHz stereo F32, %d run(s) of each", minutes(seconds).c_str(), c.runs);
  must_run(element(20), "warm-up");  // the registry, page cache

  std::vector<double> cpu_e, cpu_b, ratio, rt_e, rt_b, cs_e, cs_b;
  const size_t expected = (size_t)seconds / 2;
  paired(
      c.runs,
      [&](int i) {
        const size_t before = e->sessions().size();
        ChildResult r = must_run(element(seconds * 10L), "element run");
        auto sessions = e->sessions();
        if (sessions.size() != before + 1)
          fail("element run %d: %zu connections, expected 1", i + 1, sessions.size() - before);
        const auto &s = sessions.back();
        const double pcm_expected = seconds * 32000.0;
        if (std::fabs((double)s.pcm_bytes - pcm_expected) > pcm_expected * 0.001)
          fail("element run %d: %" G_GUINT64_FORMAT " bytes of audio sent, expected %.0f", i + 1,
               s.pcm_bytes, pcm_expected);
        /* One per tone, and one more for a tone cut by the end */
        if ((size_t)r.num("finals") != s.segments.size() || s.segments.size() < expected ||
            s.segments.size() > expected + 1)
          fail("element run %d: %.0f transcriptions, %zu segments sent, expected %zu", i + 1,
               r.num("finals"), s.segments.size(), expected);
        cpu_e.push_back(r.num("cpu_s"));
        rt_e.push_back(seconds / r.num("wall_s"));
        cs_e.push_back(r.num("nvcsw"));
        note("run %d element: %.2f s CPU, %.2f s wall, %.0f voluntary switches", i + 1,
             cpu_e.back(), r.num("wall_s"), cs_e.back());
      },
      [&](int i) {
        ChildResult r = must_run(bare, "bare run");
        cpu_b.push_back(r.num("cpu_s"));
        rt_b.push_back(seconds / r.num("wall_s"));
        cs_b.push_back(r.num("nvcsw"));
        note("run %d bare:    %.2f s CPU, %.2f s wall, %.0f voluntary switches", i + 1,
             cpu_b.back(), r.num("wall_s"), cs_b.back());
      });
  for (size_t i = 0; i < cpu_e.size(); ++i)
    ratio.push_back(cpu_e[i] / cpu_b[i]);
  const Summary r = summarize(ratio), rt = summarize(rt_e);
  const std::string what = minutes(seconds) + " 48 kHz stereo F32";
  row("throughput", "CPU seconds, " + what, fmt(summarize(cpu_e), 2), fmt(summarize(cpu_b), 2), "",
      "");
  row("throughput", "CPU element / bare (paired)", fmt(r, 2), "1", "≤ 1.2",
      verdict(r.median <= 1.2));
  row("throughput", "× real time (audio s / wall s)", fmt(rt, 0), fmt(summarize(rt_b), 0), "≥ 500",
      verdict(rt.median >= 500));
  row("throughput", "voluntary context switches", fmt(summarize(cs_e), 0), fmt(summarize(cs_b), 0),
      "", "");
  return 0;
}

/* ---- 2. pipelining ---------------------------------------------------- */

int pipelining(const Common &c)
{
  const int seconds = c.seconds > 0 ? c.seconds : (c.quick ? 30 : 300);
  if (seconds % 2)
    fail("--seconds must be even (one tone every 2 s)");
  const std::string file = temp_dir() + "/pipelining-" + std::to_string(seconds) + "s.wav";
  if (!g_file_test(file.c_str(), G_FILE_TEST_EXISTS)) {
    const std::string tmp = file + ".part";
    Ticks t;
    t.num_buffers = seconds * 10L;
    Values v = ticks_values(t);
    v["location"] = tmp;
    must_run(pipeline_args("wav-file", v),
             "making the WAV file");
    if (g_rename(tmp.c_str(), file.c_str()) != 0)
      fail("cannot rename %s", tmp.c_str());
  }
  emu::Options eo;
  eo.script = persian_script(seconds / 2 + 16);
  eo.delay_ms = 20;
  auto e = start_emulator(eo);
  auto line = [&](int inflight) {
    return pipeline_args("pipelining", {{"location", file},
                                        {"url", e->harf_live_url()},
                                        {"max-inflight", std::to_string(inflight)}});
  };
  note("pipelining: a %s file (16 kHz mono), replies delayed 20 ms, %d run(s) of each",
       minutes(seconds).c_str(), c.runs);
  must_run(line(16), "warm-up");

  std::vector<std::string> reference;
  auto check = [&](const ChildResult &r, int inflight, int i) {
    if (r.texts.size() < (size_t)seconds / 2 || r.texts.size() > (size_t)seconds / 2 + 1)
      fail("max-inflight=%d run %d: %zu transcriptions, expected %d", inflight, i + 1,
           r.texts.size(), seconds / 2);
    if (reference.empty())
      reference = r.texts;
    else if (r.texts != reference)
      fail("max-inflight=%d run %d: the transcriptions differ from the first run's", inflight,
           i + 1);
  };
  std::vector<double> wall1, wall16, speedup;
  paired(
      c.runs,
      [&](int i) {
        ChildResult r = must_run(line(1), "max-inflight=1 run");
        check(r, 1, i);
        wall1.push_back(r.num("wall_s"));
        note("run %d max-inflight=1:  %.2f s", i + 1, wall1.back());
      },
      [&](int i) {
        ChildResult r = must_run(line(16), "max-inflight=16 run");
        check(r, 16, i);
        wall16.push_back(r.num("wall_s"));
        note("run %d max-inflight=16: %.2f s", i + 1, wall16.back());
      });
  for (size_t i = 0; i < wall1.size(); ++i)
    speedup.push_back(wall1[i] / wall16[i]);
  row("pipelining", "wall s, " + minutes(seconds) + " file, 20 ms replies: max-inflight=16 vs 1",
      fmt(summarize(wall16), 2), fmt(summarize(wall1), 2), "", "");
  row("pipelining", "speed-up of max-inflight=16 (paired)", fmt(summarize(speedup), 1), "1", "",
      "");
  row("pipelining", "transcriptions identical in every run",
      "yes (" + std::to_string(reference.size()) + " × " + std::to_string(2 * c.runs) + ")", "",
      "identical", "met");
  return 0;
}

/* ---- 4. streams ------------------------------------------------------- */

int streams(const Common &c)
{
  const int max_streams = c.max_streams > 0 ? c.max_streams : (c.quick ? 10 : 100);
  /* --quick: 0.5 s + 2.5 s measured, so that the smoke check stays near a minute */
  const int total_ms = c.seconds > 0 ? c.seconds * 1000 : (c.quick ? 3000 : 20000);
  const int base_warmup_ms = c.quick ? 500 : 2000;
  const int measure_ms = total_ms - base_warmup_ms;
  if (measure_ms < 1000)
    fail("--seconds is too short");
  emu::Options eo;
  eo.script = persian_script(64);
  auto e = start_emulator(eo);
  /* A live 48 kHz mono microphone: 0.6 s of tone every 2 s, 100 ms buffers */
  Ticks t;
  t.rate = 48000;
  t.samples_per_buffer = 4800;
  t.live = true;
  Values v = ticks_values(t);
  const auto bare = pipeline_args("bare", v);
  v["url"] = e->harf_live_url();
  const auto element = pipeline_args("harf-live", v);
  auto warm_up = element;
  warm_up.insert(warm_up.end(), {"--streams", "1", "--warmup-ms", "0", "--measure-ms", "500"});
  must_run(warm_up,
           "warm-up");

  struct Totals {
    int n = 0;
    double cpu_cores = 0, rss_mib = 0, threads = 0, fds = 0;  // element − bare, medians
  } last;
  for (int n : {1, 10, 100, 1000}) {
    if (n > max_streams)
      break;
    if (n < c.min_streams)
      continue;
    /* The starts are spread over 10 ms per stream from 100 streams on: all
     * at once, the emulator's accept queue (10) overflows and refused SYNs
     * come back only after 1, 3, 7, 15, 31 s; with 1000 streams on two
     * busy cores some then miss the 30 s connect timeout. */
    const int ramp_ms = n >= 100 ? 10 * n : 0;
    note(
        "streams: %d live stream(s), started over %.0f s, measured %.0f s once each has a "
        "result, %d run(s) of each",
        n, ramp_ms / 1000.0, measure_ms / 1000.0, c.runs);
    auto args = [&](const std::vector<std::string> &line, bool until_results) {
      std::vector<std::string> a = line;
      a.insert(a.end(), {"--streams", std::to_string(n), "--ramp-ms", std::to_string(ramp_ms),
                         "--warmup-ms", std::to_string(base_warmup_ms), "--measure-ms",
                         std::to_string(measure_ms)});
      if (until_results)
        a.push_back("--until-results");
      return a;
    };
    std::vector<ChildResult> re, rb;
    paired(
        c.runs,
        [&](int i) {
          const int before = e->handshake_count();
          ChildResult r = must_run(args(element, true), "element streams");
          const int connections = e->handshake_count() - before;
          /* A result every 2 s per stream: each must have one in the window */
          if (measure_ms >= 2500 && r.num("streams_idle_while_measured") > 0)
            fail("%d streams, run %d: %.0f stream(s) had no result in the %.0f s measured", n,
                 i + 1, r.num("streams_idle_while_measured"), measure_ms / 1000.0);
          if (connections < n)
            fail("%d streams, run %d: %d connections, expected %d", n, i + 1, connections, n);
          if (connections > n)
            note("run %d: %d reconnection(s)", i + 1, connections - n);
          note(
              "run %d element: %.1f %% CPU, %.1f MiB, %.0f threads, %.0f fds (steady after %.1f s)",
              i + 1, r.num("cpu_pct"), r.num("rss_kb") / 1024, r.num("threads"), r.num("fds"),
              r.num("warmup_s"));
          re.push_back(std::move(r));
        },
        [&](int i) {
          ChildResult r = must_run(args(bare, false), "bare streams");
          note("run %d bare:    %.1f %% CPU, %.1f MiB, %.0f threads, %.0f fds", i + 1,
               r.num("cpu_pct"), r.num("rss_kb") / 1024, r.num("threads"), r.num("fds"));
          rb.push_back(std::move(r));
        });
    std::vector<double> cpu, cpu_per, rss_per, thr_per, own_per, io_threads, glib_threads, fd_per,
        cpu_bare, rss_bare, thr_bare, fd_bare;
    std::map<std::string, std::vector<double>> by_group;  // element − bare, cores
    for (size_t i = 0; i < re.size(); ++i) {
      const double dcpu = re[i].num("cpu_pct") - rb[i].num("cpu_pct");
      cpu.push_back(dcpu / 100.0);
      cpu_per.push_back(dcpu / n);
      rss_per.push_back((re[i].num("rss_kb") - rb[i].num("rss_kb")) / 1024.0 / n);
      thr_per.push_back((re[i].num("threads") - rb[i].num("threads")) / n);
      /* GLib's process threads are left out on both sides: an idle
       * "pool-" thread may be alive in either process when it is counted. */
      own_per.push_back((re[i].num("threads") - re[i].num("io_threads") -
                         re[i].num("glib_threads") -
                         (rb[i].num("threads") - rb[i].num("glib_threads"))) /
                        n);
      io_threads.push_back(re[i].num("io_threads"));
      glib_threads.push_back(re[i].num("glib_threads"));
      for (const char *g : {"source", "task", "io", "glib", "other"}) {
        const std::string k = std::string("cpu_pct_") + g;
        by_group[g].push_back((re[i].num(k) - rb[i].num(k)) / 100.0);
      }
      fd_per.push_back((re[i].num("fds") - rb[i].num("fds")) / n);
      cpu_bare.push_back(rb[i].num("cpu_pct") / 100.0);
      rss_bare.push_back(rb[i].num("rss_kb") / 1024.0);
      thr_bare.push_back(rb[i].num("threads"));
      fd_bare.push_back(rb[i].num("fds"));
    }
    const std::string b = "streams ×" + std::to_string(n);
    /* The goals are for 1000 streams; with fewer, the fixed costs (the
     * I/O threads, libsoup, the plugin) weigh on each stream more. */
    const bool at_goal = n == 1000;
    const Summary s_cpu = summarize(cpu), s_rss = summarize(rss_per), s_thr = summarize(thr_per);
    row(b, "elements' CPU, cores (element − bare)", fmt(s_cpu, 3),
        fmt(summarize(cpu_bare), 3) + " bare", at_goal ? "≤ 0.25" : "",
        at_goal ? verdict(s_cpu.median <= 0.25) : "");
    row(b, "per stream: CPU, % of one core", fmt(summarize(cpu_per), 3), "", "", "");
    /* Where the difference is spent, by thread (element − bare, cores):
     * the streaming threads run the element's chain function. */
    row(b, "elements' CPU by thread: streaming, src task, pt-io, GLib, other",
        fmt(summarize(by_group["source"]), 3) + ", " + fmt(summarize(by_group["task"]), 3) + ", " +
            fmt(summarize(by_group["io"]), 3) + ", " + fmt(summarize(by_group["glib"]), 3) + ", " +
            fmt(summarize(by_group["other"]), 3),
        "", "", "");
    row(b, "per stream: RSS MiB above bare", fmt(s_rss, 3), fmt(summarize(rss_bare), 1) + " bare",
        at_goal ? "< 1" : "", at_goal ? verdict(s_rss.median < 1) : "");
    row(b, "per stream: threads above bare, the shared I/O pool included", fmt(s_thr, 3),
        fmt(summarize(thr_bare), 0) + " bare", "", "");
    /* The pool (pt-io-N) is shared by every stream of the process, one
     * more thread per 16 streams, and GLib starts a few threads once per
     * process: what each stream has alone is the rest. */
    const Summary s_own = summarize(own_per);
    row(b, "per stream: threads of its own, beside " + fmt(summarize(io_threads), 0) +
               " shared pt-io and " + fmt(summarize(glib_threads), 0) + " GLib process threads",
        fmt(s_own, 3), "", at_goal ? "≤ 1" : "", at_goal ? verdict(s_own.median <= 1) : "");
    row(b, "per stream: descriptors above bare", fmt(summarize(fd_per), 2),
        fmt(summarize(fd_bare), 0) + " bare", "", "");
    /* What one more stream costs: the slope between the last two counts,
     * from the medians of the element − bare totals. */
    Totals t{n, s_cpu.median, s_rss.median * n, s_thr.median * n, summarize(fd_per).median * n};
    if (last.n > 0) {
      const double dn = t.n - last.n;
      const std::string m = "streams " + std::to_string(last.n) + "→" + std::to_string(n);
      row(m, "each added stream: CPU % of one core, RSS MiB, threads, fds",
          fmt(100 * (t.cpu_cores - last.cpu_cores) / dn, 3) + " %, " +
              fmt((t.rss_mib - last.rss_mib) / dn, 3) + " MiB, " +
              fmt((t.threads - last.threads) / dn, 3) + ", " + fmt((t.fds - last.fds) / dn, 2),
          "", "", "");
    }
    last = t;
  }
  return 0;
}

/* ---- 5. batch --------------------------------------------------------- */

struct Upload {
  double mb_per_s = 0;
  uint64_t total = 0;
  double max_rss_mib = 0;  // the largest VmRSS read at an upload progress message
};

Upload upload_rate(const ChildResult &r)
{
  /* The UPLOADING messages (one per whole percent): bytes, when they were
   * posted and the process's VmRSS then. */
  struct P {
    double t;
    uint64_t sent, total;
  };
  std::vector<P> up;
  Upload out;
  for (auto &line : r.progress) {
    gchar **f = g_strsplit(line.c_str(), "\t", 5);
    if (g_strv_length(f) == 5 && g_str_equal(f[3], "UPLOADING")) {
      up.push_back({g_ascii_strtod(f[0], nullptr) / 1e6, g_ascii_strtoull(f[1], nullptr, 10),
                    g_ascii_strtoull(f[2], nullptr, 10)});
      out.max_rss_mib = std::max(out.max_rss_mib, g_ascii_strtod(f[4], nullptr) / 1024);
    }
    g_strfreev(f);
  }
  if (up.size() < 3)
    fail("batch: %zu upload progress messages, too few to time the upload", up.size());
  const P &first = up.front(), &last = up.back();
  if (last.sent != last.total || last.total == 0)
    fail("batch: the upload ended at %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes",
         last.sent, last.total);
  if (last.t <= first.t)
    fail("batch: the upload took no measurable time");
  out.mb_per_s = (double)(last.sent - first.sent) / (last.t - first.t) / 1e6;
  out.total = last.total;
  return out;
}

/* The baseline of the upload: the same bytes (the three form fields and a
 * WAV file of the same length and sound) sent to the same endpoint by a bare
 * libsoup client in this process, timed the way the element times its own
 * (bytes written, from the first write to the last). The body is a file
 * made once, read from disk as it is sent, like the element's recording. */
const char *kBoundary = "pt-bench-0f6e2a9c41";

void write_upload_body(const std::string &path, int seconds)
{
  FILE *f = fopen(path.c_str(), "wb");
  if (!f)
    fail("cannot write %s", path.c_str());
  emu::Options defaults;
  auto field = [&](const char *name, const std::string &value) {
    fprintf(f, "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n", kBoundary, name,
            value.c_str());
  };
  field("auth_token", defaults.nevisa_static_token);
  field("api_key", defaults.nevisa_static_key);
  fprintf(f,
          "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench.wav\"\r\n"
          "Content-Type: audio/wav\r\n\r\n",
          kBoundary);
  const uint32_t data = (uint32_t)seconds * 32000;
  auto u32 = [&](uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    fwrite(b, 1, 4, f);
  };
  auto u16 = [&](uint16_t v) {
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    fwrite(b, 1, 2, f);
  };
  fwrite("RIFF", 1, 4, f);
  u32(36 + data);
  fwrite("WAVEfmt ", 1, 8, f);
  u32(16);
  u16(1);
  u16(1);
  u32(16000);
  u32(32000);
  u16(2);
  u16(16);
  fwrite("data", 1, 4, f);
  u32(data);
  /* 2 s periods: 600 ms of a 500 Hz tone at 0.3, then silence */
  std::vector<int16_t> period(32000, 0);
  for (int i = 0; i < 9600; ++i)
    period[i] = (int16_t)lrint(0.3 * 32767 * sin(2 * M_PI * 500.0 * i / 16000.0));
  for (int p = 0; p < seconds / 2; ++p)
    fwrite(period.data(), 2, period.size(), f);
  fprintf(f, "\r\n--%s--\r\n", kBoundary);
  if (fclose(f) != 0)
    fail("cannot write %s", path.c_str());
}

struct Wrote {
  uint64_t bytes = 0, first_chunk = 0;
  gint64 first_us = 0, last_us = 0;
};

void on_wrote_body(SoupMessage *, guint chunk, gpointer data)
{
  auto *w = static_cast<Wrote *>(data);
  const gint64 now = g_get_monotonic_time();
  if (w->bytes == 0) {
    w->first_us = now;
    w->first_chunk = chunk;
  }
  w->bytes += chunk;
  w->last_us = now;
}

double bare_upload(emu::Emulator &e, const std::string &body_path)
{
  GError *error = nullptr;
  GFile *file = g_file_new_for_path(body_path.c_str());
  GFileInfo *info = g_file_query_info(file, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE,
                                      nullptr, &error);
  GFileInputStream *in = info ? g_file_read(file, nullptr, &error) : nullptr;
  if (!in)
    fail("cannot read %s: %s", body_path.c_str(), error ? error->message : "?");
  const goffset size = g_file_info_get_size(info);
  SoupSession *session = soup_session_new_with_options("timeout", 600, nullptr);
  const std::string url = e.nevisa_api_url() + "recognize-file";
  SoupMessage *msg = soup_message_new("POST", url.c_str());
  emu::Options defaults;
  const std::string auth = "Token " + defaults.nevisa_static_token;
  soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization",
                               auth.c_str());
  g_autofree char *type = g_strdup_printf("multipart/form-data; boundary=%s", kBoundary);
  soup_message_set_request_body(msg, type, G_INPUT_STREAM(in), size);
  Wrote w;
  g_signal_connect(msg, "wrote-body-data", G_CALLBACK(on_wrote_body), &w);
  GBytes *answer = soup_session_send_and_read(session, msg, nullptr, &error);
  const guint status = soup_message_get_status(msg);
  if (answer)
    g_bytes_unref(answer);
  g_object_unref(msg);
  g_object_unref(session);
  g_object_unref(in);
  g_object_unref(info);
  g_object_unref(file);
  if (!answer || status != 200)
    fail("the baseline upload failed: %s (HTTP %u)", error ? error->message : "no error", status);
  if ((goffset)w.bytes != size || w.last_us <= w.first_us)
    fail("the baseline upload wrote %" G_GUINT64_FORMAT " of %" G_GINT64_FORMAT " bytes", w.bytes,
         (gint64)size);
  return (double)(w.bytes - w.first_chunk) / ((double)(w.last_us - w.first_us) / 1e6) / 1e6;
}

uint64_t last_upload_size(emu::Emulator &e)
{
  uint64_t size = 0;
  for (auto &rec : e.rest_requests())
    if (rec.kind == "nevisa-recognize")
      for (auto &p : rec.parts)
        if (p.name == "file")
          size = p.size;
  return size;
}

int batch(const Common &c)
{
  const int seconds = c.seconds > 0 ? c.seconds : (c.quick ? 300 : 7200);
  if (seconds % 2)
    fail("--seconds must be even (one tone every 2 s)");
  emu::Options eo;
  eo.script = persian_script(64);
  eo.nevisa_username = bench_nevisa_user();
  eo.nevisa_password = bench_nevisa_password();
  auto e = start_emulator(eo);
  g_setenv("PT_BENCH_NEVISA_USERNAME", bench_nevisa_user(), TRUE);
  g_setenv("PT_BENCH_NEVISA_PASSWORD", bench_nevisa_password(), TRUE);
  /* 16 kHz mono S16 (what the element records), 1 s buffers */
  auto src = [](long buffers) {
    Ticks t;
    t.samples_per_buffer = 16000;
    t.num_buffers = buffers;
    return ticks_values(t);
  };
  auto element = [&](long buffers) {
    Values v = src(buffers);
    v["login-url"] = e->nevisa_login_url();
    v["api-url"] = e->nevisa_api_url();
    auto args = pipeline_args("nevisa", v);
    args.push_back("--count-only"); /* the child's own memory stays flat */
    return args;
  };
  const auto idle = pipeline_args("idle", src(seconds));
  const uint64_t wav_bytes = 44 + (uint64_t)seconds * 32000;
  const std::string body = temp_dir() + "/batch-upload-" + std::to_string(seconds) + "s.body";
  note("batch: a %s recording through backend=nevisa, %d run(s) of each", minutes(seconds).c_str(),
       c.runs);
  write_upload_body(body, seconds);
  must_run(element(10), "warm-up");

  std::vector<double> hwm_e, hwm_i, above, upload_above, rate, rate_bare;
  for (int i = 0; i < c.runs; ++i) {
    auto with_element = [&] {
      const size_t before = e->rest_count("nevisa-recognize");
      ChildResult r = must_run(element(seconds), "nevisa run");
      if (r.num("finals") < 1)
        fail("nevisa run %d: no transcription", i + 1);
      if (e->rest_count("nevisa-recognize") != before + 1)
        fail("nevisa run %d: %zu uploads, expected 1", i + 1,
             e->rest_count("nevisa-recognize") - before);
      if (last_upload_size(*e) != wav_bytes)
        fail("nevisa run %d: the emulator received a file of %" G_GUINT64_FORMAT
             " bytes, expected %" G_GUINT64_FORMAT,
             i + 1, last_upload_size(*e), wav_bytes);
      const Upload u = upload_rate(r);
      hwm_e.push_back(r.num("vmhwm_kb") / 1024);
      upload_above.push_back(u.max_rss_mib);
      rate.push_back(u.mb_per_s);
      note(
          "run %d nevisa: peak %.1f MiB (%.1f MiB while uploading), upload %.0f MB/s, %.1f s in "
          "all, %.0f segments",
          i + 1, hwm_e.back(), u.max_rss_mib, u.mb_per_s, r.num("wall_s"), r.num("finals"));
    };
    auto baseline = [&] {
      ChildResult r = must_run(idle, "fakesink run");
      hwm_i.push_back(r.num("vmhwm_kb") / 1024);
      const size_t before = e->rest_count("nevisa-recognize");
      rate_bare.push_back(bare_upload(*e, body));
      if (e->rest_count("nevisa-recognize") != before + 1 || last_upload_size(*e) != wav_bytes)
        fail("baseline run %d: the emulator did not receive the %" G_GUINT64_FORMAT " bytes file",
             i + 1, wav_bytes);
      note("run %d baseline: fakesink peak %.1f MiB; bare libsoup upload %.0f MB/s", i + 1,
           hwm_i.back(), rate_bare.back());
    };
    pair_run(i, with_element, baseline);
  }
  g_unlink(body.c_str());
  for (size_t i = 0; i < hwm_e.size(); ++i) {
    above.push_back(hwm_e[i] - hwm_i[i]);
    upload_above[i] -= hwm_i[i];
  }
  const Summary s_above = summarize(above), s_rate = summarize(rate);
  row("batch", "peak RSS (VmHWM) MiB, " + minutes(seconds) + " via nevisa vs fakesink",
      fmt(summarize(hwm_e), 1), fmt(summarize(hwm_i), 1), "", "");
  row("batch", "peak RSS above idle, MiB (paired)", fmt(s_above, 1), "", "< 16",
      verdict(s_above.median < 16));
  row("batch", "RSS while uploading above idle peak, MiB", fmt(summarize(upload_above), 1), "", "",
      "");
  row("batch", "upload MB/s, " + fmt(wav_bytes / 1e6, 0) + " MB WAV (baseline: bare libsoup POST)",
      fmt(s_rate, 0), fmt(summarize(rate_bare), 0), "> 200", verdict(s_rate.median > 200));

  /* However many results come back: a recording four times as long, once
   * (its answer passes max-answer-size's default from about 14 h on, and
   * is then read from disk only). */
  const int long_seconds = 4 * seconds;
  note("batch: the same with a %s recording, once", minutes(long_seconds).c_str());
  const size_t before = e->rest_count("nevisa-recognize");
  ChildResult lr = must_run(element(long_seconds), "long nevisa run");
  if (lr.num("finals") != long_seconds / 2)
    fail("long nevisa run: %.0f results, expected %d", lr.num("finals"), long_seconds / 2);
  if (e->rest_count("nevisa-recognize") != before + 1 ||
      last_upload_size(*e) != 44 + (uint64_t)long_seconds * 32000)
    fail("long nevisa run: the emulator did not receive the whole recording");
  const double long_idle = must_run(pipeline_args("idle", src(long_seconds)), "long fakesink run")
                               .num("vmhwm_kb") /
                           1024;
  const double long_above = lr.num("vmhwm_kb") / 1024 - long_idle;
  note("long run: peak %.1f MiB against %.1f MiB for fakesink, %.0f segments",
       lr.num("vmhwm_kb") / 1024, long_idle, lr.num("finals"));
  row("batch",
      "peak RSS above idle, MiB, " + minutes(long_seconds) + " (" + fmt(lr.num("finals"), 0) +
          " results; 1 run)",
      fmt(long_above, 1), fmt(s_above.median, 1) + " at " + minutes(seconds), "< 16",
      verdict(long_above < 16));
  return 0;
}

/* ---- 6. silence (skip-silence) --------------------------------------- */

/* The PCM (S16LE mono) and rate of a WAV file; fails unless it is that. */
std::vector<int16_t> read_wav(const std::string &path, int *rate)
{
  gchar *data = nullptr;
  gsize len = 0;
  if (!g_file_get_contents(path.c_str(), &data, &len, nullptr) || len < 12 ||
      memcmp(data, "RIFF", 4) != 0 || memcmp(data + 8, "WAVE", 4) != 0)
    fail("%s: not a WAV file", path.c_str());
  auto u32 = [&](size_t at) {
    return (uint32_t)(uint8_t)data[at] | (uint32_t)(uint8_t)data[at + 1] << 8 |
           (uint32_t)(uint8_t)data[at + 2] << 16 | (uint32_t)(uint8_t)data[at + 3] << 24;
  };
  std::vector<int16_t> pcm;
  bool mono16 = false;
  for (size_t at = 12; at + 8 <= len;) {
    const uint32_t size = u32(at + 4);
    if (memcmp(data + at, "fmt ", 4) == 0 && at + 24 <= len) {
      *rate = (int)u32(at + 12);
      mono16 = (uint8_t)data[at + 8] == 1 && (uint8_t)data[at + 10] == 1 &&
               (uint8_t)data[at + 22] == 16;
    } else if (memcmp(data + at, "data", 4) == 0) {
      const size_t n = std::min<size_t>(size, len - at - 8) / 2;
      pcm.resize(n);
      memcpy(pcm.data(), data + at + 8, n * 2);
      break;
    }
    at += 8 + size + (size & 1);
  }
  g_free(data);
  if (!mono16 || pcm.empty())
    fail("%s: expected 16-bit mono PCM", path.c_str());
  return pcm;
}

void write_wav(const std::string &path, const std::vector<int16_t> &pcm, int rate)
{
  const uint32_t bytes = (uint32_t)pcm.size() * 2;
  std::string out("RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\0\0\0\0\0\0\0\0\x02\0\x10\0data\0\0\0\0",
                  44);
  auto put = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i)
      out[at + i] = (char)(v >> (8 * i) & 0xff);
  };
  put(4, 36 + bytes);
  put(24, (uint32_t)rate);
  put(28, (uint32_t)rate * 2);
  put(40, bytes);
  out.append(reinterpret_cast<const char *>(pcm.data()), bytes);
  const std::string tmp = path + ".part";
  if (!g_file_set_contents(tmp.c_str(), out.data(), (gssize)out.size(), nullptr) ||
      g_rename(tmp.c_str(), path.c_str()) != 0)
    fail("cannot write %s", path.c_str());
}

/* A meeting-like recording: the Persian fixture (17.6 s of speech with its
 * own short pauses) again and again, separated by pauses of 3 to 20 s in
 * which a quiet room's noise (about -60 dBFS, far below the -50 dBFS
 * threshold) goes on, cut at `seconds`. */
void make_meeting(const std::string &fixture, const std::string &path, int seconds)
{
  int rate = 0;
  const std::vector<int16_t> speech = read_wav(fixture, &rate);
  const size_t total = (size_t)seconds * (size_t)rate;
  const int pauses_s[] = {3, 8, 2, 12, 5, 20, 4, 9};
  std::vector<int16_t> pcm;
  pcm.reserve(total);
  guint32 noise = 12345;  // a fixed LCG: the same file on every run
  for (size_t i = 0; pcm.size() < total; ++i) {
    pcm.insert(pcm.end(), speech.begin(), speech.end());
    const size_t pause = (size_t)pauses_s[i % G_N_ELEMENTS(pauses_s)] * (size_t)rate;
    for (size_t k = 0; k < pause; ++k) {
      noise = noise * 1664525u + 1013904223u;
      pcm.push_back((int16_t)((int)(noise >> 16 & 0x7f) - 64));  // ±64: RMS about 37, -59 dBFS
    }
  }
  pcm.resize(total);
  write_wav(path, pcm, rate);
}

int silence(const Common &c)
{
  const int seconds = c.seconds > 0 ? c.seconds : (c.quick ? 120 : 600);
  emu::Options eo;
  eo.script = persian_script(64);
  eo.nevisa_username = bench_nevisa_user();
  eo.nevisa_password = bench_nevisa_password();
  auto e = start_emulator(eo);
  g_setenv("PT_BENCH_NEVISA_USERNAME", bench_nevisa_user(), TRUE);
  g_setenv("PT_BENCH_NEVISA_PASSWORD", bench_nevisa_password(), TRUE);
  const std::string fixture = std::string(PT_FIXTURES_DIR) + "/persian-sample.wav";
  const std::string meeting = temp_dir() + "/meeting-" + std::to_string(seconds) + "s.wav";
  if (!g_file_test(meeting.c_str(), G_FILE_TEST_EXISTS))
    make_meeting(fixture, meeting, seconds);
  note("silence: the Persian fixture and a %s meeting-like recording, skip-silence on and off, %d "
       "run(s) of each",
       minutes(seconds).c_str(), c.runs);
  struct Input {
    std::string name, path;
    bool batch; /* nevisa: the bytes of the WAV uploaded, less its header */
  };
  for (const Input &in :
       {Input{"the Persian fixture (17.6 s)", fixture, false},
        Input{"a " + minutes(seconds) + " meeting-like recording", meeting, false},
        Input{"a " + minutes(seconds) + " meeting-like recording, nevisa (uploaded)", meeting, true}}) {
    /* One run: the PCM bytes the emulator received and each result's
     * timestamp and duration. */
    auto run = [&](bool skip, uint64_t *sent, std::vector<std::string> *times) {
      const size_t before = e->sessions().size();
      const size_t rest_before = e->rest_requests().size();
      const std::string flag = skip ? "true" : "false";
      ChildResult r = must_run(
          in.batch ? pipeline_args("silence-nevisa", {{"location", in.path},
                                                      {"login-url", e->nevisa_login_url()},
                                                      {"api-url", e->nevisa_api_url()},
                                                      {"skip-silence", flag}})
                   : pipeline_args("silence", {{"location", in.path},
                                               {"url", e->harf_live_url()},
                                               {"skip-silence", flag}}),
          skip ? "skip-silence run" : "run without skip-silence");
      const auto sessions = e->sessions();
      *sent = 0;
      for (size_t i = before; i < sessions.size(); ++i)
        *sent += sessions[i].pcm_bytes;
      const auto rest = e->rest_requests();
      for (size_t i = rest_before; i < rest.size(); ++i)
        for (const auto &part : rest[i].parts)
          if (part.name == "file" && part.size >= 44)
            *sent += part.size - 44;
      times->clear();
      for (const auto &t : r.texts) {
        gchar **f = g_strsplit(t.c_str(), "\t", 4);
        if (g_strv_length(f) >= 3)
          times->push_back(std::string(f[1]) + "+" + f[2]);
        g_strfreev(f);
      }
      return sessions.size() - before;
    };
    std::vector<double> share;
    uint64_t all = 0, kept = 0;
    size_t results = 0, sessions = 0;
    /* Each run is a pair: without, then with skip-silence */
    for (int i = 0; i < c.runs; ++i) {
          std::vector<std::string> t_all, t_skip;
          run(false, &all, &t_all);
          sessions = run(true, &kept, &t_skip);
          if (t_all.empty())
            fail("silence, %s, run %d: no result", in.name.c_str(), i + 1);
          if (t_skip != t_all)
            fail("silence, %s, run %d: %zu results with skip-silence, %zu without, or other times",
                 in.name.c_str(), i + 1, t_skip.size(), t_all.size());
          results = t_all.size();
          share.push_back(100.0 * (double)kept / (double)all);
          note("run %d, %s: %.1f of %.1f s sent (%.1f %%), %zu results at the same times, %zu "
               "connections",
               i + 1, in.name.c_str(), kept / 32000.0, all / 32000.0, share.back(), results,
               sessions);
    }
    row("silence",
        "audio sent with skip-silence, " + in.name + " (" + std::to_string(results) +
            " results, same times)",
        fmt(summarize(share), 1) + " % (" + fmt(kept / 32000.0, 1) + " s)",
        "100 % (" + fmt(all / 32000.0, 1) + " s)", "speech kept", "met");
  }
  return 0;
}

int usage()
{
  fprintf(stderr,
          "usage: pt-bench throughput|pipelining|latency|delay|streams|batch|silence|command\n"
          "                [--runs N] [--quick] [--seconds S] [--min-streams L] [--max-streams M]\n"
          "                [--segments K]\n");
  return 2;
}

}  // namespace

int main(int argc, char **argv)
{
  setup_environment();
  if (argc < 2)
    return usage();
  const std::string cmd = argv[1];
  if (cmd == "child")
    return child_main(argc - 1, argv + 1);

  Common c;
  gboolean quick = FALSE;
  const GOptionEntry entries[] = {
      {"runs", 'n', 0, G_OPTION_ARG_INT, &c.runs, "Runs of each side (default 5)", "N"},
      {"quick", 'q', 0, G_OPTION_ARG_NONE, &quick, "Small sizes, for a smoke check", nullptr},
      {"seconds", 0, 0, G_OPTION_ARG_INT, &c.seconds,
       "Audio (or run) length instead of the default", "S"},
      {"max-streams", 0, 0, G_OPTION_ARG_INT, &c.max_streams,
       "streams: the largest N of 1, 10, 100, 1000 (default 100; --quick 10)", "M"},
      {"min-streams", 0, 0, G_OPTION_ARG_INT, &c.min_streams,
       "streams: leave out the sizes below L (more runs of 1000 alone)", "L"},
      {"segments", 0, 0, G_OPTION_ARG_INT, &c.segments,
       "latency: segments per run (default 1000; --quick 50)", "K"},
      {nullptr},
  };
  GOptionContext *ctx = g_option_context_new("BENCHMARK - issue 11's benchmarks");
  g_option_context_add_main_entries(ctx, entries, nullptr);
  GError *error = nullptr;
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "pt-bench: %s\n", error->message);
    return 2;
  }
  g_option_context_free(ctx);
  c.quick = quick;
  if (c.runs < 1)
    return usage();
  gst_init(nullptr, nullptr);
  if (cmd == "throughput")
    return throughput(c);
  if (cmd == "pipelining")
    return pipelining(c);
  if (cmd == "latency")
    return latency_main(c.runs, c.quick, c.segments);
  if (cmd == "delay")
    return delay_main(c.runs, c.quick, c.seconds);
  if (cmd == "streams")
    return streams(c);
  if (cmd == "batch")
    return batch(c);
  if (cmd == "silence")
    return silence(c);
  if (cmd == "command")
    return command_main(c.runs, c.quick);
  return usage();
}
