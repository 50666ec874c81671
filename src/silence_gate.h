// SPDX-License-Identifier: LGPL-2.1-or-later
/* skip-silence: which windows of converted audio (S16LE mono) are worth
 * sending.  The services bill by audio received, and meetings, lectures and
 * broadcasts hold long pauses.
 *
 * A window is speech when one of its 20 ms frames is louder (RMS) than the
 * threshold.  Speech is never left out, nor what lies next to it: the
 * window before speech (word onsets) and the windows after it up to the
 * hangover (word endings) are sent too.  Only the inside of a pause is
 * skipped, and only when that is at least min_skip long (gap-threshold: a
 * skip costs the live backends a new session, as a GAP does); shorter
 * pauses are held back until speech resumes, then sent.  Every skip is
 * counted, so the time map places the results after it exactly. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "audio_windower.h"

namespace pt {

class SilenceGate {
 public:
  static constexpr unsigned kFrameMs = 20;
  static constexpr unsigned kHangoverMs = 500;

  SilenceGate(int sample_rate, unsigned window_ms, double threshold_dbfs, unsigned min_skip_ms);

  struct Out {
    Window window;
    uint64_t skipped_bytes = 0; /* audio left out just before it */
  };

  /* The next window; what may be sent now is appended to OUT, in order. */
  void push(Window w, std::vector<Out> &out);
  /* End of input: a window held back for an onset that never came is
   * left out.  Returns the bytes left out since the last window sent. */
  uint64_t finish();
  /* Forgets everything (a flush). */
  void reset();

  /* Bytes given and bytes passed on, since construction or reset(). */
  uint64_t bytes_in() const { return bytes_in_; }
  uint64_t bytes_out() const { return bytes_out_; }

  /* Whether PCM (S16LE mono, N bytes) has a frame louder than the threshold. */
  bool is_speech(const uint8_t *pcm, size_t n) const;

 private:
  void emit(Window w, std::vector<Out> &out);

  const size_t frame_samples_;
  const unsigned hangover_windows_;
  const size_t min_skip_windows_;
  double threshold_sum_sq_ = 0; /* per frame: sum of squares above which it is speech */
  /* Silent windows after the hangover, oldest first: sent if speech
   * follows soon; once the pause is long enough to skip, only the last
   * (the onset's) is kept. */
  std::deque<Window> held_;
  bool skipping_ = false; /* in a pause being skipped */
  unsigned hangover_left_ = 0;
  uint64_t skipped_ = 0;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
};

}  // namespace pt
