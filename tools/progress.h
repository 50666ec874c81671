// SPDX-License-Identifier: LGPL-2.1-or-later
// persian-transcribe's progress line on stderr: audio read, then a batch job's upload and state.
#pragma once

#include <gst/gst.h>

#include <string>

namespace cli {

// Where a batch job (harf-file, nevisa) is, from the element's
// "transcription-progress" messages.
struct BatchStatus {
  bool active = false;  // the audio has been consumed: uploading or polling
  // UPLOADING, PENDING, STARTED, PROGRESS, SUCCESS...; "" before the first message
  std::string state;
  double percent = -1;  // the service's, -1 when it does not say
  guint64 bytes_sent = 0;
  guint64 bytes_total = 0;
};

// A one-line progress bar on stderr, redrawn with \r.
class ProgressBar {
 public:
  static constexpr guint kIntervalMs = 200;  // how often the line is redrawn

  explicit ProgressBar(bool enabled) : enabled_(enabled) {}
  ProgressBar(const ProgressBar &) = delete;
  ProgressBar &operator=(const ProgressBar &) = delete;

  bool enabled() const { return enabled_; }

  void start() { start_us_ = g_get_monotonic_time(); }

  // POSITION: audio handed to the transcriber.  It can run ahead of the
  // service (the element queues some audio), so 100 % is only shown when
  // DONE; before that, the last results are awaited.  With a batch backend,
  // once the audio is consumed, BATCH says how the upload and the job go.
  void draw(guint64 position, guint64 duration, bool done, const BatchStatus *batch = nullptr);

  // Ends the line (once).
  void finish();

 private:
  void show(std::string line);

  bool enabled_;
  bool drawn_ = false;
  gint64 start_us_ = 0;
};

}  // namespace cli
