// SPDX-License-Identifier: LGPL-2.1-or-later
// persian-transcribe's progress line on stderr: audio transcribed, then a batch job's upload and
// state.
#pragma once

#include <gst/gst.h>

#include <deque>
#include <string>
#include <utility>

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

// A one-line progress bar on stderr, redrawn with \r.  The line never
// reaches the terminal's last column (a line that fills it wraps on some
// terminals, and \r then redraws only its second half): the bar shrinks,
// then the least useful parts go, to fit.
class ProgressBar {
 public:
  static constexpr guint kIntervalMs = 200;  // how often the line is redrawn
  // The ETA is shown once this much progress history gives a steady rate.
  static constexpr gint64 kRateWindowUs = 6 * G_USEC_PER_SEC;

  explicit ProgressBar(bool enabled) : enabled_(enabled) {}
  ProgressBar(const ProgressBar &) = delete;
  ProgressBar &operator=(const ProgressBar &) = delete;

  bool enabled() const { return enabled_; }

  void start(gint64 now_us = g_get_monotonic_time()) { start_us_ = now_us; }

  // The terminal's width in columns; 0 (the default) asks stderr's terminal
  // each time (TIOCGWINSZ), else $COLUMNS, else 80.
  void set_columns(unsigned columns) { columns_ = columns; }

  // Whether all of the input has been handed to the transcriber: the line
  // then says that the last results are awaited.
  void set_input_read(bool read) { input_read_ = read; }

  // POSITION: the audio transcribed so far (the caller does not count audio
  // the element only queued).  100 % is only shown when DONE.  With a
  // batch backend, once the audio is consumed, BATCH says how the upload
  // and the job go.  NOW_US: the monotonic time (tests pass their own).
  void draw(guint64 position, guint64 duration, bool done, const BatchStatus *batch = nullptr,
            gint64 now_us = g_get_monotonic_time());

  // The line draw() would print, without "\r" and the clear-to-end; it also
  // records POSITION for the rate.  For draw() and the tests.
  std::string line(guint64 position, guint64 duration, bool done, const BatchStatus *batch,
                   gint64 now_us);

  // Ends the line (once).
  void finish();

 private:
  void show(const std::string &line);
  unsigned columns() const;
  // Media time per wall-clock time over the recent history; 0 while it is
  // too short or the progress too uneven to predict from.
  double steady_rate();

  bool enabled_;
  bool drawn_ = false;
  unsigned columns_ = 0;
  gint64 start_us_ = 0;
  bool input_read_ = false;
  bool eta_steady_ = false;  // the rate was steady once: the ETA stays
  // (monotonic µs, position ns), oldest first, spanning kRateWindowUs
  std::deque<std::pair<gint64, guint64>> history_;
};

}  // namespace cli
