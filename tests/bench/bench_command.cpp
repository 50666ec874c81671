// SPDX-License-Identifier: LGPL-2.1-or-later
/* `pt-bench command`: the command-line tool on a long MP3 with
 * --backend harf-file, the file uploaded as it is (the default for a local
 * .mp3) against --decode (16-bit mono WAV at 16 kHz, recorded by the
 * element): the bytes the emulator received, the wall time and the CPU time
 * of the command.
 *
 * The command is the built persian-transcribe, run as a child process the
 * way a user runs it; its CPU time is what getrusage(RUSAGE_CHILDREN) gains
 * over the run (the emulator runs in this process and is not counted). Each
 * run checks what was uploaded (the MP3's very bytes; a WAV of the decoded
 * length), that an SRT came out with as many cues as the emulator gave
 * segments (one per tone for the WAV) and that both ways gave the same cue
 * texts. */
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench_util.h"
#include "emulator.h"

using namespace bench;

namespace {



/* The input: audiotestsrc's ticks at 44.1 kHz mono (a tone of 600 ms every
 * 2 s, 100 ms buffers), encoded at a constant 64 kbit/s. Made once and kept
 * in the build's temporary directory; written under another name first, so
 * that an interrupted run leaves no truncated file to be taken for a whole
 * one. */
std::string make_mp3(int seconds)
{
  const std::string file = temp_dir() + "/command-" + std::to_string(seconds) + "s.mp3";
  if (g_file_test(file.c_str(), G_FILE_TEST_EXISTS))
    return file;
  const std::string tmp = file + ".part";
  Ticks t;
  t.rate = 44100;
  t.samples_per_buffer = 4410;
  t.num_buffers = seconds * 10L;
  Values v = ticks_values(t);
  v["bitrate"] = "64";
  v["location"] = tmp;
  const double t0 = monotonic_s();
  ChildResult r = run_child(pipeline_args("mp3-file", v));
  if (!r.ok)
    fail("making the MP3 file: %s", r.error.c_str());
  if (g_rename(tmp.c_str(), file.c_str()) != 0)
    fail("cannot rename %s", tmp.c_str());
  note("made %s in %.1f s", file.c_str(), monotonic_s() - t0);
  return file;
}

/* The command of this build: pt-bench is in <build>/tests/bench. */
std::string tool_path()
{
  g_autofree char *canonical =
      g_canonicalize_filename(PT_BENCH_BUILD_DIR "/../../tools/persian-transcribe", nullptr);
  const std::string path = canonical;
  if (!g_file_test(path.c_str(), G_FILE_TEST_IS_EXECUTABLE))
    fail("%s is missing: build it (ninja -C <build> tools/persian-transcribe)", path.c_str());
  return path;
}

std::string file_sha256(const std::string &path, uint64_t *size)
{
  gchar *data = nullptr;
  gsize len = 0;
  if (!g_file_get_contents(path.c_str(), &data, &len, nullptr))
    fail("cannot read %s", path.c_str());
  gchar *hex = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)data, len);
  std::string out = hex;
  g_free(hex);
  g_free(data);
  *size = len;
  return out;
}

/* The "media" part of the last Harf file upload the emulator received. */
emu::FormPart last_harf_upload(const emu::Emulator &e)
{
  emu::FormPart media;
  for (auto &rec : e.rest_requests())
    if (rec.kind == "harf-transcribe")
      for (auto &p : rec.parts)
        if (p.name == "media")
          media = p;
  return media;
}

/* The CPU time of the children waited for so far (user + system). */
double children_cpu_s()
{
  struct rusage ru;
  getrusage(RUSAGE_CHILDREN, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
         (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* The texts of an SRT file's cues, in order (a cue's lines joined by \n). */
std::vector<std::string> srt_texts(const std::string &path)
{
  gchar *data = nullptr;
  if (!g_file_get_contents(path.c_str(), &data, nullptr, nullptr))
    fail("cannot read %s", path.c_str());
  std::vector<std::string> cues;
  gchar **lines = g_strsplit(data, "\n", -1);
  g_free(data);
  /* index, times, text lines, a blank line */
  int line_in_cue = 0, cue = 0;
  std::string text;
  for (gchar **l = lines;; ++l) {
    std::string s = *l ? *l : "";
    if (!s.empty() && s.back() == '\r')
      s.pop_back();
    if (!*l || s.empty()) {
      if (line_in_cue >= 3)
        cues.push_back(text);
      else if (line_in_cue > 0)
        fail("%s: cue %d has no text", path.c_str(), cue + 1);
      if (line_in_cue > 0)
        ++cue;
      line_in_cue = 0;
      text.clear();
      if (!*l)
        break;
      continue;
    }
    if (line_in_cue == 1 && s.find(" --> ") == std::string::npos)
      fail("%s: not SRT (\"%s\" where the times should be)", path.c_str(), s.c_str());
    if (line_in_cue >= 2)
      text += (line_in_cue > 2 ? "\n" : "") + s;
    ++line_in_cue;
  }
  g_strfreev(lines);
  return cues;
}

struct Run {
  double wall_s = 0, cpu_s = 0;
  emu::FormPart upload;
  std::vector<std::string> cues;
};

/* One run of the command: `persian-transcribe --backend harf-file
 * --harf-api-url URL [--decode] MP3 -o SRT`. The token goes in HARF_TOKEN,
 * never on the command line. */
Run run_command(emu::Emulator &e, const std::string &tool, const std::string &mp3, bool decode,
                const char *what)
{
  const std::string srt = temp_dir() + "/command-" + (decode ? "decoded" : "as-is") + ".srt";
  g_unlink(srt.c_str());
  const std::string url = e.harf_api_url();
  std::vector<const char *> argv{tool.c_str(), "--backend", "harf-file", "--harf-api-url",
                                 url.c_str(),
                                 /* For each request, the upload and the wait=true answer
                                  * included: the 30 s default is tight for the 115 MB WAV of
                                  * an hour on a busy machine, and a retry would be measured. */
                                 "--timeout", "600", "--quiet", mp3.c_str(), "-o", srt.c_str()};
  if (decode)
    argv.push_back("--decode");
  argv.push_back(nullptr);
  gchar **envp = g_environ_setenv(g_get_environ(), "HARF_TOKEN", bench_token(), TRUE);
  const size_t before = e.rest_count("harf-transcribe");
  GError *error = nullptr;
  gint status = 0;
  Run r;
  const double cpu0 = children_cpu_s(), t0 = monotonic_s();
  /* Its error messages, if any, go where ours go. */
  const gboolean spawned =
      g_spawn_sync(nullptr, const_cast<gchar **>(argv.data()), envp,
                   (GSpawnFlags)(G_SPAWN_CHILD_INHERITS_STDERR | G_SPAWN_STDOUT_TO_DEV_NULL),
                   nullptr, nullptr, nullptr, nullptr, &status, &error);
  r.wall_s = monotonic_s() - t0;
  r.cpu_s = children_cpu_s() - cpu0;
  g_strfreev(envp);
  if (!spawned)
    fail("%s: cannot run %s: %s", what, tool.c_str(), error->message);
  if (!g_spawn_check_wait_status(status, &error))
    fail("%s: persian-transcribe failed: %s", what, error->message);
  if (e.rest_count("harf-transcribe") != before + 1)
    fail("%s: %zu uploads, expected 1", what, e.rest_count("harf-transcribe") - before);
  r.upload = last_harf_upload(e);
  r.cues = srt_texts(srt);  // the file stays, to be looked at, until the next run
  return r;
}

}  // namespace

int command_main(int runs, bool quick)
{
  const int seconds = quick ? 300 : 3600;
  const std::string tool = tool_path();
  const std::string mp3 = make_mp3(seconds);
  uint64_t mp3_size = 0;
  const std::string mp3_sha256 = file_sha256(mp3, &mp3_size);
  /* seconds / 2 + 1 tones: at this rate and buffer size audiotestsrc puts
   * its second tick at 1.9 s and the others 2 s apart, so that a last one
   * starts 0.1 s before the end and is cut by it. The emulator hears them
   * only in a WAV: it answers one with a script line per tone, at the
   * tone's time, but any other upload (this MP3) with every line of its
   * script, 3 s each from 0, of which the command keeps those that start
   * within the file. With one line per tone, the decoded run's cues are
   * every line and the as-is run's the first seconds / 3 + 1 of them: the
   * same texts, in the same order, at other times. */
  const size_t tones = (size_t)seconds / 2 + 1, as_is_cues = (size_t)seconds / 3 + 1;
  emu::Options eo;
  eo.script = persian_script(tones);
  auto e = start_emulator(eo);
  /* The WAV --decode uploads: 16-bit mono at 16 kHz (the tool's default
   * --sample-rate), 44 bytes of header. The MP3 decodes to a little more
   * than `seconds` (0.04 s): the encoder's delay and its last frame's
   * padding, which the file has no Xing/LAME header to tell the decoder. */
  const uint64_t wav_min = 44 + (uint64_t)seconds * 32000, wav_max = wav_min + 3200;
  note(
      "command: persian-transcribe --backend harf-file on a %s MP3 (44.1 kHz mono, 64 kbit/s, "
      "%.1f MB), as it is and with --decode, %d run(s) of each",
      minutes(seconds).c_str(), mp3_size / 1e6, runs);

  /* The binary, the plugins and the registry into the page cache; a short
   * file of the same kind, so that the first measured run is not the one
   * that pays for it. */
  run_command(*e, tool, make_mp3(10), false, "warm-up");

  std::vector<double> wall_a, wall_d, cpu_a, cpu_d;
  uint64_t wav_bytes = 0;
  /* The cue texts of each way's first run; later runs must give the same. */
  std::vector<std::string> ref_a, ref_d;
  auto check_cues = [&](const Run &r, std::vector<std::string> &ref, size_t expected,
                        const char *what, int i) {
    if (r.cues.size() + 1 < expected || r.cues.size() > expected + 1)
      fail("%s run %d: %zu cues in the SRT, expected %zu", what, i + 1, r.cues.size(), expected);
    if (ref.empty())
      ref = r.cues;
    else if (r.cues != ref)
      fail("%s run %d: the cue texts differ from the first run's", what, i + 1);
  };
  auto as_is = [&](int i) {
    Run r = run_command(*e, tool, mp3, false, "as-is run");
    if (r.upload.size != mp3_size || r.upload.sha256 != mp3_sha256)
      fail("as-is run %d: the emulator received %" G_GUINT64_FORMAT
           " bytes, not the MP3 file's %" G_GUINT64_FORMAT " bytes as they are",
           i + 1, r.upload.size, mp3_size);
    check_cues(r, ref_a, as_is_cues, "as-is", i);
    wall_a.push_back(r.wall_s);
    cpu_a.push_back(r.cpu_s);
    note("run %d as it is: %.2f MB uploaded, %.2f s wall, %.2f s CPU, %zu cues", i + 1,
         r.upload.size / 1e6, r.wall_s, r.cpu_s, r.cues.size());
  };
  auto decoded = [&](int i) {
    Run r = run_command(*e, tool, mp3, true, "--decode run");
    const emu::WavHeader &h = r.upload.wav;
    if (!h.valid || h.audio_format != 1 || h.channels != 1 || h.bits != 16 || h.rate != 16000)
      fail("--decode run %d: the upload is not a 16-bit mono 16 kHz PCM WAV (%s)", i + 1,
           h.error.empty() ? "another format" : h.error.c_str());
    if (r.upload.size != 44 + (uint64_t)h.data_size || r.upload.size < wav_min ||
        r.upload.size > wav_max)
      fail("--decode run %d: the emulator received a WAV of %" G_GUINT64_FORMAT
           " bytes (%u of PCM), expected 44 bytes of header and %" G_GUINT64_FORMAT
           " to %" G_GUINT64_FORMAT " of PCM",
           i + 1, r.upload.size, h.data_size, wav_min - 44, wav_max - 44);
    if (wav_bytes && r.upload.size != wav_bytes)
      fail("--decode run %d: %" G_GUINT64_FORMAT " bytes uploaded, %" G_GUINT64_FORMAT
           " in an earlier run",
           i + 1, r.upload.size, wav_bytes);
    wav_bytes = r.upload.size;
    check_cues(r, ref_d, tones, "--decode", i);
    wall_d.push_back(r.wall_s);
    cpu_d.push_back(r.cpu_s);
    note("run %d --decode: %.2f MB uploaded, %.2f s wall, %.2f s CPU, %zu cues", i + 1,
         r.upload.size / 1e6, r.wall_s, r.cpu_s, r.cues.size());
  };
  /* As it is first on even runs, --decode first on odd ones */
  paired(runs, as_is, decoded);

  /* Whichever ran first, the script lines must have become the same cues */
  if (ref_a.size() > ref_d.size() || !std::equal(ref_a.begin(), ref_a.end(), ref_d.begin()))
    fail("the as-is run's %zu cue texts are not the first %zu of the --decode run's", ref_a.size(),
         ref_a.size());

  const std::string what = minutes(seconds) + " MP3, harf-file: as it is vs --decode";
  row("command", "MB uploaded, " + what, fmt(mp3_size / 1e6, 1), fmt(wav_bytes / 1e6, 1), "", "");
  row("command", "bytes uploaded, --decode / as it is", fmt((double)wav_bytes / mp3_size, 2), "",
      "", "");
  row("command", "wall s, " + what, fmt(summarize(wall_a), 2), fmt(summarize(wall_d), 2), "", "");
  row("command", "CPU s of the command, " + what, fmt(summarize(cpu_a), 2),
      fmt(summarize(cpu_d), 2), "", "");
  row("command", "SRT cues (same texts; the emulator times an MP3's lines 3 s apart)",
      std::to_string(ref_a.size()), std::to_string(ref_d.size()) + " (one per tone)", "", "");
  return 0;
}
