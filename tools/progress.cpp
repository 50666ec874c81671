// SPDX-License-Identifier: LGPL-2.1-or-later
// persian-transcribe's progress line: bar, times, speed, and a batch job's upload and state.
#include "progress.h"

#include <algorithm>
#include <cstdio>

namespace cli {

namespace {

constexpr unsigned kBarWidth = 30;

std::string format_clock(guint64 ns)
{
  guint64 s = ns / GST_SECOND;
  char buf[32];
  if (s >= 3600)
    snprintf(buf, sizeof buf, "%" G_GUINT64_FORMAT ":%02u:%02u", s / 3600, unsigned(s / 60 % 60),
             unsigned(s % 60));
  else
    snprintf(buf, sizeof buf, "%u:%02u", unsigned(s / 60), unsigned(s % 60));
  return buf;
}

// "[####------]" with FILLED of kBarWidth marks filled.
std::string bar(unsigned filled)
{
  filled = std::min(filled, kBarWidth);
  return "[" + std::string(filled, '#') + std::string(kBarWidth - filled, '-') + "]";
}

// "uploading 1.2/3.4 MB", then the service's "<STATE> 40 %" (or the state
// alone when it gives no percentage).
std::string batch_text(const BatchStatus &b)
{
  auto fraction_bar = [](double fraction) {
    return bar(unsigned(std::clamp(fraction, 0.0, 1.0) * kBarWidth)) + "  ";
  };
  char buf[96];
  if (b.state.empty() || b.state == "UPLOADING") {
    if (b.bytes_total == 0)
      return "uploading";
    snprintf(buf, sizeof buf, "uploading %.1f/%.1f MB", double(b.bytes_sent) / 1e6,
             double(b.bytes_total) / 1e6);
    return fraction_bar(double(b.bytes_sent) / double(b.bytes_total)) + buf;
  }
  if (b.percent < 0)
    return b.state;
  snprintf(buf, sizeof buf, "%s %.0f %%", b.state.c_str(), std::min(b.percent, 100.0));
  return fraction_bar(b.percent / 100.0) + buf;
}

}  // namespace

void ProgressBar::draw(guint64 position, guint64 duration, bool done, const BatchStatus *batch)
{
  if (!enabled_)
    return;
  const guint64 elapsed = guint64(g_get_monotonic_time() - start_us_) * GST_USECOND;
  if (batch && batch->active && !done) {
    show(batch_text(*batch) + "  elapsed " + format_clock(elapsed));
    return;
  }
  std::string line;
  if (GST_CLOCK_TIME_IS_VALID(duration) && duration > 0) {
    guint64 pos = GST_CLOCK_TIME_IS_VALID(position) ? std::min(position, duration) : 0;
    if (done)
      pos = duration;
    unsigned percent = unsigned(double(pos) * 100.0 / double(duration));
    if (!done)
      percent = std::min(percent, 99u);
    char pct[16];
    snprintf(pct, sizeof pct, "%3u%%", percent);
    line += bar(percent * kBarWidth / 100) + " " + pct;
    line += "  " + format_clock(pos) + " / " + format_clock(duration);
  } else if (GST_CLOCK_TIME_IS_VALID(position)) {
    line += format_clock(position) + " transcribed";
  } else {
    line += "starting";
  }
  line += "  elapsed " + format_clock(elapsed);
  if (done && GST_CLOCK_TIME_IS_VALID(duration))
    position = duration;
  if (GST_CLOCK_TIME_IS_VALID(position) && elapsed > 0 && (done || elapsed >= GST_SECOND / 2)) {
    char speed[32];
    snprintf(speed, sizeof speed, "  %.1fx real time", double(position) / double(elapsed));
    line += speed;
  }
  if (!done && GST_CLOCK_TIME_IS_VALID(duration) && GST_CLOCK_TIME_IS_VALID(position) &&
      position >= duration)
    line += "  waiting for the last results";
  show(line);
}

// LINE over the previous one: back to its start, then clear what is left.
void ProgressBar::show(std::string line)
{
  line = "\r" + line + "\033[K";
  fputs(line.c_str(), stderr);
  fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish()
{
  if (enabled_ && drawn_) {
    fputc('\n', stderr);
    fflush(stderr);
  }
  drawn_ = false;
}

}  // namespace cli
