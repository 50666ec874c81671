// SPDX-License-Identifier: LGPL-2.1-or-later
/* pt::AudioWindower fed any bytes in any input format the elements accept
 * (their sink caps: 16 sample formats, 8000..192000 Hz, 1..8 channels,
 * interleaved, positioned or not), with format changes, silence, drains and
 * resets in between.  Checks: every window but a drained last one is
 * exactly window_bytes(); no PCM is lost or made up (produced_bytes() is
 * what came out); the output lasts as long as the input did. */
#include <fuzzer/FuzzedDataProvider.h>
#include <gst/gst.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include "audio_windower.h"
#include "fuzz_common.h"
#include "settings.h"

namespace {

const GstAudioFormat kFormats[] = {
    GST_AUDIO_FORMAT_S8,       GST_AUDIO_FORMAT_U8,    GST_AUDIO_FORMAT_S16LE,
    GST_AUDIO_FORMAT_S16BE,    GST_AUDIO_FORMAT_U16LE, GST_AUDIO_FORMAT_U16BE,
    GST_AUDIO_FORMAT_S24LE,    GST_AUDIO_FORMAT_S24BE, GST_AUDIO_FORMAT_S24_32LE,
    GST_AUDIO_FORMAT_S24_32BE, GST_AUDIO_FORMAT_S32LE, GST_AUDIO_FORMAT_S32BE,
    GST_AUDIO_FORMAT_F32LE,    GST_AUDIO_FORMAT_F32BE, GST_AUDIO_FORMAT_F64LE,
    GST_AUDIO_FORMAT_F64BE,
};

/* How far the output may be from input duration x output rate, in samples,
 * per stretch of input a converter resampled and then drained: the
 * resampler rounds its first and last output frames. */
constexpr double kSlackSamples = 4;

struct Tracker {
  pt::AudioWindower &w;
  uint64_t emitted = 0;   /* bytes in windows since the last reset */
  double expected = 0;    /* samples the input since the last reset is worth */
  unsigned stretches = 0; /* converter runs (format changes, drains) since the reset */
  size_t drained_windows = 0;

  void take(std::vector<pt::Window> &out, bool drained)
  {
    for (size_t i = 0; i < out.size(); ++i) {
      const pt::Window &win = out[i];
      const bool last_of_drain = drained && i + 1 == out.size();
      if (last_of_drain)
        FUZZ_CHECK(!win.empty() && win.size() <= w.window_bytes() && win.size() % 2 == 0,
                   "the drained window has " + std::to_string(win.size()) + " bytes, windows " +
                       std::to_string(w.window_bytes()));
      else
        FUZZ_CHECK(win.size() == w.window_bytes(), "a window of " + std::to_string(win.size()) +
                                                       " bytes, not " +
                                                       std::to_string(w.window_bytes()));
      emitted += win.size();
    }
    out.clear();
    FUZZ_CHECK(emitted <= w.produced_bytes() && w.produced_bytes() - emitted < w.window_bytes(),
               "emitted " + std::to_string(emitted) + " bytes, produced " +
                   std::to_string(w.produced_bytes()) + ", windows " +
                   std::to_string(w.window_bytes()));
  }

  /* After a drain nothing is held back: the output lasts as long as the
   * input (within the resampler's rounding). */
  void check_duration()
  {
    FUZZ_CHECK(emitted == w.produced_bytes(), "PCM left after a drain");
    const double got = static_cast<double>(w.produced_bytes() / 2);
    const double slack = kSlackSamples * (stretches + 1);
    FUZZ_CHECK(got >= expected - slack && got <= expected + slack,
               "produced " + std::to_string(got) + " samples for input worth " +
                   std::to_string(expected) + " at " + std::to_string(w.out_rate()) + " Hz (" +
                   std::to_string(stretches) + " stretches)");
  }
};

bool make_info(FuzzedDataProvider &fdp, GstAudioInfo *info)
{
  const GstAudioFormat format = fdp.PickValueInArray(kFormats);
  /* Mostly the common rates; sometimes any rate the caps allow. */
  static const int kRates[] = {8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000, 192000};
  const int rate = fdp.ConsumeBool() ? fdp.PickValueInArray(kRates)
                                     : fdp.ConsumeIntegralInRange<int>(8000, 192000);
  const int channels = fdp.ConsumeIntegralInRange<int>(1, 8);
  gst_audio_info_init(info);
  if (channels > 2 && fdp.ConsumeBool()) {
    /* positioned: the default layout (what caps with a channel-mask give) */
    GstAudioChannelPosition pos[8];
    if (!gst_audio_channel_positions_from_mask(channels,
                                               gst_audio_channel_get_fallback_mask(channels), pos))
      return false;
    gst_audio_info_set_format(info, format, rate, channels, pos);
  } else {
    /* mono, stereo, or unpositioned (channel-mask=0) */
    gst_audio_info_set_format(info, format, rate, channels, nullptr);
  }
  return true;
}

/* PT_FUZZ_TRACE=1: print the operations (to read a reproducer). */
bool trace = false;

void say(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
void say(const char *fmt, ...)
{
  if (!trace)
    return;
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
  /* GstAudioConverter needs GStreamer's types, not its plugins. */
  g_setenv("GST_REGISTRY_DISABLE", "yes", TRUE);
  trace = g_getenv("PT_FUZZ_TRACE") != nullptr;
  gst_init(nullptr, nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  FuzzedDataProvider fdp(data, size);
  const int out_rate =
      fdp.ConsumeIntegralInRange<int>(pt::kSampleRateRange.min, pt::kSampleRateRange.max);
  /* Mostly short windows (fast); sometimes any the settings allow. */
  const unsigned window_ms =
      fdp.ConsumeIntegralInRange<uint8_t>(0, 15) == 0
          ? fdp.ConsumeIntegralInRange<unsigned>(pt::kWindowRange.min, pt::kWindowRange.max)
          : fdp.ConsumeIntegralInRange<unsigned>(pt::kWindowRange.min, 2000);
  pt::AudioWindower w(out_rate, window_ms);
  say("AudioWindower(%d Hz, %u ms)", out_rate, window_ms);
  size_t want = static_cast<size_t>(out_rate) * 2 * window_ms / 1000;
  want = want < 2 ? 2 : want & ~static_cast<size_t>(1);
  FUZZ_CHECK(w.window_bytes() == want, "window_bytes() " + std::to_string(w.window_bytes()) +
                                           " for " + std::to_string(window_ms) + " ms at " +
                                           std::to_string(out_rate) + " Hz");
  FUZZ_CHECK(w.out_rate() == out_rate, "out_rate()");

  Tracker t{w};
  std::vector<pt::Window> out;
  bool fed = false; /* input reached the current converter since the last drain */
  for (int op = 0; op < 24 && fdp.remaining_bytes() > 0; ++op) {
    switch (fdp.ConsumeIntegralInRange<int>(0, 9)) {
      case 0:
      case 1: { /* a (new) input format */
        GstAudioInfo info;
        if (!make_info(fdp, &info))
          break;
        const bool same = w.has_input() && gst_audio_info_is_equal(&info, &w.input());
        std::string err;
        say("set_input(%s, %d Hz, %d channels%s)", GST_AUDIO_INFO_NAME(&info),
            GST_AUDIO_INFO_RATE(&info), GST_AUDIO_INFO_CHANNELS(&info),
            GST_AUDIO_INFO_IS_UNPOSITIONED(&info) ? ", unpositioned" : "");
        const bool ok = w.set_input(info, out, &err);
        /* A change drains the old converter first, whether or not the new
         * format works. */
        if (!same && fed)
          ++t.stretches;
        if (!same)
          fed = false;
        t.take(out, false);
        if (!ok) {
          FUZZ_CHECK(!err.empty(), "set_input() failed without a message");
          FUZZ_CHECK_UTF8(err, "set_input()'s message");
          FUZZ_CHECK(!w.has_input(), "has_input() after a failed set_input()");
          break;
        }
        FUZZ_CHECK(err.empty(), "an error from a set_input() that worked: " + err);
        FUZZ_CHECK(w.has_input() && gst_audio_info_is_equal(&info, &w.input()),
                   "input() is not the format set");
        break;
      }
      case 2:
      case 3:
      case 4:
      case 5: { /* audio: any bytes, a partial frame at the end is dropped */
        const size_t n = fdp.ConsumeIntegralInRange<size_t>(0, 4096);
        std::vector<uint8_t> bytes = fdp.ConsumeBytes<uint8_t>(n);
        say("push(%zu bytes)", bytes.size());
        w.push(bytes.data(), bytes.size(), out);
        if (w.has_input()) {
          const GstAudioInfo &in = w.input();
          const size_t frames = bytes.size() / GST_AUDIO_INFO_BPF(&in);
          t.expected += static_cast<double>(frames) * out_rate / GST_AUDIO_INFO_RATE(&in);
          fed = fed || frames > 0;
        }
        t.take(out, false);
        break;
      }
      case 6: { /* a hole or GAP: exact silence */
        const uint64_t ns = fdp.ConsumeIntegralInRange<uint64_t>(0, 3 * GST_SECOND);
        const uint64_t before = w.produced_bytes();
        say("push_silence(%" G_GUINT64_FORMAT " ns)", ns);
        w.push_silence(ns, out);
        const uint64_t samples = gst_util_uint64_scale(ns, out_rate, GST_SECOND);
        FUZZ_CHECK(w.produced_bytes() - before == samples * 2,
                   "silence of " + std::to_string(ns) + " ns made " +
                       std::to_string(w.produced_bytes() - before) + " bytes");
        t.expected += static_cast<double>(samples);
        t.take(out, false);
        break;
      }
      case 7:
      case 8: /* end of stream, or a hole that starts a new session */
        say("drain()");
        w.drain(out);
        t.take(out, true);
        if (fed)
          ++t.stretches;
        fed = false;
        t.check_duration();
        break;
      case 9: /* flush */
        say("reset()");
        w.reset();
        FUZZ_CHECK(w.produced_bytes() == 0, "produced_bytes() after reset()");
        t.emitted = 0;
        t.expected = 0;
        t.stretches = 0;
        fed = false;
        break;
    }
  }
  say("drain() at the end");
  w.drain(out);
  t.take(out, true);
  if (fed)
    ++t.stretches;
  t.check_duration();
  return 0;
}
