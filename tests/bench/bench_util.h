// SPDX-License-Identifier: LGPL-2.1-or-later
/* What the benchmarks share: statistics over repeated runs, readings of this
 * process (CPU time, /proc/self/status, open descriptors), the child runs
 * that do the measuring, and the rows that scripts/bench puts in its table. */
#pragma once

#include <gst/gst.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "emulator.h"

namespace bench {

/* A bus sync handler that answers GST_BUS_DROP owns the message and must
 * unref it (GstBusSyncHandler's contract); one that answers GST_BUS_PASS
 * must not.  Every handler of the suite ends through these two. */
inline GstBusSyncReply drop(GstMessage *m)
{
  gst_message_unref(m);
  return GST_BUS_DROP;
}
/* EOS and ERROR stay on the bus for the waiting thread; the rest go */
inline GstBusSyncReply keep_end_drop_rest(GstMessage *m)
{
  return GST_MESSAGE_TYPE(m) & (GST_MESSAGE_EOS | GST_MESSAGE_ERROR) ? GST_BUS_PASS : drop(m);
}

/* Run i of a pair of measurements: a then b on even runs, b then a on odd
 * ones, so that neither side always runs first. */
template <typename A, typename B>
void pair_run(int i, A &&a, B &&b)
{
  if (i % 2 == 0) {
    a();
    b();
  } else {
    b();
    a();
  }
}
/* `runs` runs of a pair; a and b take the run's index. */
template <typename A, typename B>
void paired(int runs, A &&a, B &&b)
{
  for (int i = 0; i < runs; ++i)
    pair_run(i, [&] { a(i); }, [&] { b(i); });
}

/* Sets the pipeline PLAYING and waits for EOS on its bus (whose sync
 * handler, if any, must pass EOS and ERROR on); fails, naming `what`, when
 * it does not start, posts an ERROR or has no EOS within timeout_s. */
void play_to_eos(GstElement *pipeline, GstBus *bus, unsigned timeout_s, const char *what);

/* An emulator on a port the OS picks, with the bench token and no audio
 * kept (1000 sessions must not keep 8 MB each); fails if it cannot start. */
std::unique_ptr<emu::Emulator> start_emulator(emu::Options o);
/* "10 min", "2 h", "90 s" */
std::string minutes(int seconds);

/* Median and range of repeated runs. */
struct Summary {
  double median = 0, min = 0, max = 0;
  size_t n = 0;
};
Summary summarize(std::vector<double> v);
/* Nearest-rank percentile (p in 0..100) of v; 0 when v is empty. */
double percentile(std::vector<double> v, double p);

std::string fmt(double v, int decimals);
/* "1.23 (1.10–1.40)": the median and, with more than one run, the range. */
std::string fmt(const Summary &s, int decimals);

/* This process's CPU time and context switches (getrusage RUSAGE_SELF). */
struct Cpu {
  double user_s = 0, sys_s = 0;
  long nvcsw = 0, nivcsw = 0;
  double total() const { return user_s + sys_s; }
};
Cpu cpu_now();
double monotonic_s();

/* A field of /proc/self/status, as a number (VmRSS and VmHWM are in kB,
 * Threads is a count); -1 when missing. */
long proc_status(const char *field);
/* Entries of /proc/self/fd (the descriptor reading it included). */
int open_fds();
/* Threads of this process whose name starts with prefix ("pt-io") */
int threads_named(const char *prefix);
/* The threads GLib starts once per process, whatever the number of
 * streams (its worker context, a GTask pool, dconf's worker: libsoup's
 * proxy lookup starts them). */
int glib_process_threads();
/* CPU seconds (user + system) of this process's live threads, summed by
 * the group of their name: "source" (audiotestsrc's streaming threads, where
 * the element's chain function runs), "task" (persiantranscribe's src task),
 * "io" (pt-io), "glib" (glib_process_threads) and "other". Threads that
 * exited are missing: take two readings around a steady period. */
std::map<std::string, double> cpu_by_thread_group();

/* The environment every run needs: the plugin from this build (and the
 * system's base and good plugins) in a registry of its own, a temporary
 * directory in the build, a dummy Harf token for the emulator, and as many
 * descriptors as the hard limit allows (1000 streams). Called first in
 * main(), before any thread exists; children inherit it. */
void setup_environment();
/* The dummy token and Nevisa account the emulator is given (never printed). */
const char *bench_token();
const char *bench_nevisa_user();
const char *bench_nevisa_password();
std::string temp_dir();

/* One measured run in a fresh process: `pt-bench child ARGS...`. Its stdout
 * is lines of key=value; text= and progress= may repeat. */
struct ChildResult {
  bool ok = false;
  std::string error;  // why not ok (exit status, the child's error= line)
  std::map<std::string, std::string> kv;
  std::vector<std::string> texts;
  std::vector<std::string> progress;
  double num(const std::string &key) const;
};
ChildResult run_child(const std::vector<std::string> &args);

/* A row of the table scripts/bench prints: on stdout, tab-separated, after
 * "ROW". value and baseline are already formatted; verdict is "met",
 * "NOT met" or "" (no goal). */
void row(const std::string &bench, const std::string &figure, const std::string &value,
         const std::string &baseline, const std::string &goal, const std::string &verdict);
/* "met" or "NOT met" */
std::string verdict(bool met);
/* Progress for a person, on stderr. */
void note(const char *format, ...) G_GNUC_PRINTF(1, 2);
/* A result that is not valid (or a run that failed): says why on stderr and
 * exits 1, so that scripts/bench reports the benchmark as failed. */
[[noreturn]] void fail(const char *format, ...) G_GNUC_PRINTF(1, 2);

/* Lines of the Persian sample script, repeated to n lines. */
std::vector<std::string> persian_script(size_t n);

/* Audio that the emulator takes for speech: audiotestsrc's ticks, a tone of
 * tone_ms every period_ms, then silence. */
struct Ticks {
  int rate = 16000, channels = 1;
  const char *format = "S16LE";
  unsigned tone_ms = 600, period_ms = 2000, samples_per_buffer = 1600;
  long num_buffers = -1;
  bool live = false;
};

/* The pipelines the benchmarks run, by name; only property values vary.
 * Each launch line is written out whole in make_pipeline() (so that
 * tests/check-packages.py can read which elements the suite needs), and a
 * run names it with a key and the values it fills in ("url", "location",
 * "max-inflight", "login-url", "api-url", "window-duration", "bitrate", and the
 * source's, from Ticks). */
using Values = std::map<std::string, std::string>;
Values ticks_values(const Ticks &t);
/* The pipeline KEY with VALUES; nullptr and *error set when KEY is unknown,
 * a value is missing or the line does not parse. */
GstElement *make_pipeline(const std::string &key, const Values &values, GError **error);
/* The arguments of `pt-bench child` that name that pipeline. */
std::vector<std::string> pipeline_args(const std::string &key, const Values &values);

}  // namespace bench
