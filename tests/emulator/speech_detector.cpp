// SPDX-License-Identifier: LGPL-2.1-or-later
// Energy-based speech segmentation: 20 ms frames, RMS against a threshold, silence ends a segment.
#include "speech_detector.h"

#include <cmath>

#include "emulator_internal.h"

namespace emu {
namespace detail {

void SpeechDetector::feed(const uint8_t *data, size_t n)
{
  pending_.insert(pending_.end(), data, data + n);
  const size_t frame_bytes = frame_samples_ * channels_ * 2;
  size_t off = 0;
  for (; pending_.size() - off >= frame_bytes; off += frame_bytes)
    process_frame(pending_.data() + off, frame_samples_);
  pending_.erase(pending_.begin(), pending_.begin() + off);
}

void SpeechDetector::flush()
{
  const size_t samples = pending_.size() / (channels_ * 2);
  if (samples)
    process_frame(pending_.data(), samples);
  pending_.clear();
  if (open_)
    close_open();
}

SpeechDetector::Segment SpeechDetector::pop_completed()
{
  Segment s = completed_.front();
  completed_.pop_front();
  return s;
}

void SpeechDetector::process_frame(const uint8_t *p, size_t samples)
{
  const size_t count = samples * channels_;
  double sum = 0;
  for (size_t i = 0; i < count; ++i) {
    const double v = int16_t(le16(p + 2 * i));
    sum += v * v;
  }
  const double rms = std::sqrt(sum / double(count));
  const bool speech = rms > 0 && 20.0 * std::log10(rms / 32768.0) > threshold_;
  const uint64_t start = position_, end = position_ + samples;
  position_ = end;
  if (speech) {
    if (!open_) {
      open_ = true;
      cur_ = Segment{};
      cur_.start = start;
    }
    cur_.end = end;
    cur_.speech += samples;
    silence_run_ = 0;
    if (!cur_.confirmed && cur_.speech >= min_speech_) {
      cur_.confirmed = true;
      cur_.index = confirmed_count_++;
    }
  } else if (open_) {
    silence_run_ += samples;
    if (silence_run_ >= silence_limit_)
      close_open();
  }
}

void SpeechDetector::close_open()
{
  if (cur_.confirmed)
    completed_.push_back(cur_);  // shorter than 100 ms of speech: dropped
  open_ = false;
  silence_run_ = 0;
}

}  // namespace detail
}  // namespace emu
