// SPDX-License-Identifier: LGPL-2.1-or-later
// Energy-based speech segmentation of 16-bit PCM. Positions are in samples per channel.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace emu {
namespace detail {

class SpeechDetector {
 public:
  struct Segment {
    uint64_t index = 0;  // ordinal among confirmed segments (segment_id - 1)
    uint64_t start = 0, end = 0, speech = 0;
    bool confirmed = false;
  };

  SpeechDetector(unsigned rate, unsigned channels, unsigned silence_ms, double threshold_dbfs)
      : rate_(rate),
        channels_(channels),
        frame_samples_(std::max(1u, rate / 50)),
        silence_limit_(std::max<uint64_t>(1, uint64_t(rate) * silence_ms / 1000)),
        min_speech_(rate / 10),
        threshold_(threshold_dbfs)
  {
  }

  void feed(const uint8_t *data, size_t n);
  // End of audio: analyse the partial frame left over, close the open segment.
  void flush();

  bool has_completed() const { return !completed_.empty(); }
  Segment pop_completed();
  const Segment *open_confirmed() const { return open_ && cur_.confirmed ? &cur_ : nullptr; }
  uint64_t to_ns(uint64_t samples) const { return samples * 1000000000ull / rate_; }

 private:
  void process_frame(const uint8_t *p, size_t samples);
  void close_open();

  const unsigned rate_, channels_;
  const size_t frame_samples_;
  const uint64_t silence_limit_, min_speech_;
  const double threshold_;
  std::vector<uint8_t> pending_;
  uint64_t position_ = 0, silence_run_ = 0, confirmed_count_ = 0;
  bool open_ = false;
  Segment cur_;
  std::deque<Segment> completed_;
};

}  // namespace detail
}  // namespace emu
