// SPDX-License-Identifier: LGPL-2.1-or-later
/* Converts any raw interleaved audio to the service format (S16LE, mono,
 * one rate) with GstAudioConverter, and cuts it into fixed windows. */
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
  bool has_input() const { return converter_ != nullptr; }
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
  void convert(const uint8_t *data, size_t frames, std::vector<Window> &out);
  /* Gives out what the converter holds back, and resets it. */
  void flush_converter(std::vector<Window> &out);

  int out_rate_;
  size_t window_bytes_;
  GstAudioInfo in_{};
  GstAudioInfo out_info_{};
  GstAudioConverter *converter_ = nullptr;
  Window pending_;
  std::vector<uint8_t> scratch_;
  /* GStreamer 1.22's GstAudioConverter reads a NULL buffer when its first
   * call resamples float input into zero output frames (fuzzing found it,
   * K3 in tests/fuzz/README.md).  Until the converter has given output,
   * input too short to give any (shorter than the resampler's delay) is
   * held here and handed over with the next. */
  std::vector<uint8_t> carry_;
  bool primed_ = false; /* the converter has given output since its reset */
  uint64_t produced_ = 0;
  bool converter_fed_ = false; /* input reached the converter since its reset */
};

}  // namespace pt
