// SPDX-License-Identifier: LGPL-2.1-or-later
/* skip-silence: speech windows, the window before them and a hangover after
 * them are sent; the inside of a pause is left out and counted. */
#include "silence_gate.h"

#include <algorithm>
#include <cmath>

namespace pt {

namespace {

unsigned windows_for(unsigned ms, unsigned window_ms)
{
  window_ms = std::max(1u, window_ms);
  return std::max(1u, (ms + window_ms - 1) / window_ms);
}

}  // namespace

SilenceGate::SilenceGate(int sample_rate, unsigned window_ms, double threshold_dbfs,
                         unsigned min_skip_ms)
    : frame_samples_(std::max<size_t>(1, size_t(sample_rate) * kFrameMs / 1000)),
      hangover_windows_(windows_for(kHangoverMs, window_ms)),
      min_skip_windows_(windows_for(min_skip_ms, window_ms))
{
  /* RMS > 32768 * 10^(dB/20)  <=>  sum of squares > n * (32768 * 10^(dB/20))^2 */
  const double amplitude = 32768.0 * std::pow(10.0, threshold_dbfs / 20.0);
  threshold_sum_sq_ = double(frame_samples_) * amplitude * amplitude;
}

bool SilenceGate::is_speech(const uint8_t *pcm, size_t n) const
{
  const size_t samples = n / 2;
  for (size_t start = 0; start < samples; start += frame_samples_) {
    const size_t end = std::min(samples, start + frame_samples_);
    double sum = 0;
    for (size_t i = start; i < end; ++i) {
      const auto v = int16_t(uint16_t(pcm[2 * i]) | uint16_t(pcm[2 * i + 1]) << 8);
      sum += double(v) * double(v);
    }
    /* A short last frame is judged by its own length. */
    if (sum * double(frame_samples_) > threshold_sum_sq_ * double(end - start))
      return true;
  }
  return false;
}

void SilenceGate::emit(Window w, std::vector<Out> &out)
{
  bytes_out_ += w.size();
  out.push_back({std::move(w), skipped_});
  skipped_ = 0;
}

void SilenceGate::push(Window w, std::vector<Out> &out)
{
  bytes_in_ += w.size();
  if (is_speech(w.data(), w.size())) {
    for (Window &h : held_)
      emit(std::move(h), out);
    held_.clear();
    skipping_ = false;
    emit(std::move(w), out);
    hangover_left_ = hangover_windows_;
    return;
  }
  if (hangover_left_ > 0) {
    --hangover_left_;
    emit(std::move(w), out);
    return;
  }
  held_.push_back(std::move(w));
  /* More than min_skip before the onset's window: a pause worth skipping,
   * to its end. */
  if (held_.size() > min_skip_windows_ + 1)
    skipping_ = true;
  while (skipping_ && held_.size() > 1) {
    skipped_ += held_.front().size();
    held_.pop_front();
  }
}

uint64_t SilenceGate::finish()
{
  for (const Window &h : held_)
    skipped_ += h.size();
  held_.clear();
  skipping_ = false;
  const uint64_t s = skipped_;
  skipped_ = 0;
  return s;
}

void SilenceGate::reset()
{
  held_.clear();
  skipping_ = false;
  hangover_left_ = 0;
  skipped_ = 0;
  bytes_in_ = bytes_out_ = 0;
}

}  // namespace pt
