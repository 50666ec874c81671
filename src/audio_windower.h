// SPDX-License-Identifier: LGPL-2.1-or-later
/* Converts any raw interleaved audio to the service format (S16LE, mono,
 * one rate) and cuts it into fixed windows.  Two GstAudioConverters do it,
 * as `audioconvert ! audioresample` would: the first mixes to S16LE mono at
 * the input rate, the second resamples in S16 (GstAudioConverter's
 * resample-only path, what audioresample runs).  One converter doing both
 * resamples in F32, at about twice the cost.  A stage the input does not
 * need is left out: service-format input is only copied into the window. */
#pragma once

#include <gst/audio/audio.h>

#include <cstdint>
#include <string>
#include <vector>

namespace pt {

using Window = std::vector<uint8_t>;

class AudioWindower {
 public:
  AudioWindower(int out_rate, unsigned window_ms);
  ~AudioWindower();
  AudioWindower(const AudioWindower &) = delete;
  AudioWindower &operator=(const AudioWindower &) = delete;

  /* Sets (or changes) the input format.  On a change the old converter's
   * tail is drained into the stream first.  False with *err on a format
   * GstAudioConverter cannot take. */
  bool set_input(const GstAudioInfo &in, std::vector<Window> &out, std::string *err);
  bool has_input() const { return configured_; }
  const GstAudioInfo &input() const { return in_; }

  /* Converts whole frames of input; full windows are appended to out. */
  void push(const uint8_t *data, size_t bytes, std::vector<Window> &out);
  /* Inserts silence (for GAP events and timestamp holes). */
  void push_silence(uint64_t duration_ns, std::vector<Window> &out);
  /* At the end: the resampler's tail and the last partial window. */
  void drain(std::vector<Window> &out);
  /* Forgets everything (after a flush); keeps the input format. */
  void reset();

  size_t window_bytes() const { return window_bytes_; }
  int out_rate() const { return out_rate_; }
  /* PCM bytes produced so far, windows emitted or pending. */
  uint64_t produced_bytes() const { return produced_; }

 private:
  void append(const uint8_t *pcm, size_t bytes, std::vector<Window> &out);
  /* Whole frames of input, at most kChunkFrames: through both stages. */
  void feed(const uint8_t *data, size_t frames, std::vector<Window> &out);
  /* S16LE mono frames at the input rate: resampled into windows. */
  void resample(const uint8_t *pcm, size_t frames, std::vector<Window> &out);
  void run_resampler(const uint8_t *pcm, size_t frames, std::vector<Window> &out);
  /* Gives out what the resampler holds back, and resets both stages. */
  void flush_converter(std::vector<Window> &out);
  void free_stages();

  int out_rate_;
  size_t window_bytes_;
  GstAudioInfo in_{};
  GstAudioInfo out_info_{};
  bool configured_ = false;
  GstAudioConverter *mixer_ = nullptr;     /* null when the input is S16LE mono */
  GstAudioConverter *resampler_ = nullptr; /* null when the input rate is the service's */
  Window pending_;
  std::vector<uint8_t> mixed_;   /* the mixer's output */
  std::vector<uint8_t> scratch_; /* the resampler's output */
  /* GStreamer 1.22's GstAudioConverter reads a NULL buffer when its first
   * call resamples float input into zero output frames (fuzzing found it,
   * K3 in tests/fuzz/README.md; kept for the S16 resampler too).  Until the
   * resampler has given output,
   * input too short to give any (shorter than the resampler's delay) is
   * held here and handed over with the next. */
  std::vector<uint8_t> carry_;
  bool primed_ = false; /* the resampler has given output since its reset */
  uint64_t produced_ = 0;
  bool converter_fed_ = false; /* input reached the resampler since its reset */
};

}  // namespace pt
