// SPDX-License-Identifier: LGPL-2.1-or-later
// persian-transcribe's progress line: bar, times, ETA, speed, and a batch job's upload and state.
#include "progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace cli {

namespace {

constexpr unsigned kMaxBarWidth = 30;
constexpr unsigned kMinBarWidth = 10;  // narrower than this, no bar at all
constexpr unsigned kDefaultColumns = 80;
constexpr unsigned kMinColumns = 20;

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

// "[####------]": WIDTH columns in all, FRACTION of the inside filled.
std::string bar(double fraction, unsigned width)
{
  const unsigned inside = width - 2;
  const unsigned filled = unsigned(std::clamp(fraction, 0.0, 1.0) * inside);
  return "[" + std::string(filled, '#') + std::string(inside - filled, '-') + "]";
}

// A service's state as it may be shown on a terminal: printable ASCII only
// (no escape sequences from a hostile answer), at most 24 characters.
std::string printable_state(const std::string &state)
{
  std::string out;
  for (char c : state) {
    if (out.size() == 24)
      break;
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  }
  return out;
}

// The parts of one line: an optional bar, then texts.  A text with a
// higher rank goes first when the line does not fit; rank 0 always stays.
struct Layout {
  bool has_bar = false;
  double fraction = 0;
  struct Part {
    std::string text;
    int rank;
  };
  std::vector<Part> parts;

  void add(std::string text, int rank) { parts.push_back({std::move(text), rank}); }

  // The line in at most LIMIT columns (all of it is ASCII).
  std::string fit(size_t limit)
  {
    auto texts_width = [this] {
      size_t n = 0;
      for (const auto &p : parts)
        n += p.text.size();
      return n;
    };
    // The bar's minimum counts until the texts alone do not fit either.
    while (texts_width() + (has_bar ? kMinBarWidth : 0) > limit) {
      auto worst = std::max_element(parts.begin(), parts.end(),
                                    [](const Part &a, const Part &b) { return a.rank < b.rank; });
      if (worst == parts.end() || worst->rank == 0)
        break;
      parts.erase(worst);
    }
    std::string line;
    const size_t texts = texts_width();
    if (has_bar && texts + kMinBarWidth <= limit)
      line = bar(fraction, unsigned(std::min<size_t>(kMaxBarWidth, limit - texts)));
    for (const auto &p : parts)
      line += p.text;
    if (!line.empty() && line[0] == ' ')
      line.erase(0, line.find_first_not_of(' '));
    if (line.size() > limit)
      line.resize(limit);
    return line;
  }
};

enum Rank { kKeep = 0, kWaiting = 1, kEta = 2, kTimes = 3, kSpeed = 4, kElapsed = 5 };

}  // namespace

unsigned ProgressBar::columns() const
{
  unsigned n = columns_;
  if (n == 0) {
    struct winsize ws = {};
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
      n = ws.ws_col;
  }
  if (n == 0) {
    const char *env = g_getenv("COLUMNS");
    guint64 v = 0;
    if (env && g_ascii_string_to_unsigned(env, 10, 1, 10000, &v, nullptr))
      n = unsigned(v);
  }
  if (n == 0)
    n = kDefaultColumns;
  return std::max(n, kMinColumns);
}

double ProgressBar::steady_rate()
{
  if (history_.size() < 3)
    return 0;
  const auto &first = history_.front();
  const auto &last = history_.back();
  const gint64 span = last.first - first.first;
  if (span < kRateWindowUs / 2 || last.second <= first.second)
    return 0;
  // The two halves of the history must agree within a factor of two.
  const gint64 middle_us = first.first + span / 2;
  auto mid = std::find_if(history_.begin(), history_.end(),
                          [&](const auto &h) { return h.first >= middle_us; });
  auto rate = [](const std::pair<gint64, guint64> &a, const std::pair<gint64, guint64> &b) {
    return b.first > a.first && b.second >= a.second
               ? double(b.second - a.second) / double(b.first - a.first)
               : 0.0;
  };
  // Once steady, the ETA stays (from the whole history's rate) rather than
  // blinking when one half runs faster.
  const double early = rate(first, *mid), late = rate(*mid, last);
  if (!eta_steady_ && (early <= 0 || late <= 0 || early > 2 * late || late > 2 * early))
    return 0;
  eta_steady_ = true;
  return rate(first, last);  // ns of media per µs
}

std::string ProgressBar::line(guint64 position, guint64 duration, bool done,
                              const BatchStatus *batch, gint64 now_us)
{
  const guint64 elapsed = guint64(std::max<gint64>(0, now_us - start_us_)) * GST_USECOND;
  const size_t limit = columns() - 1;
  Layout l;
  if (batch && batch->active && !done) {
    char buf[96];
    if (batch->state.empty() || batch->state == "UPLOADING") {
      if (batch->bytes_total == 0) {
        l.add("uploading", kKeep);
      } else {
        l.has_bar = true;
        l.fraction = double(batch->bytes_sent) / double(batch->bytes_total);
        snprintf(buf, sizeof buf, "  uploading %.1f/%.1f MB", double(batch->bytes_sent) / 1e6,
                 double(batch->bytes_total) / 1e6);
        l.add(buf, kKeep);
      }
    } else if (batch->percent < 0) {
      l.add(printable_state(batch->state), kKeep);
    } else {
      l.has_bar = true;
      l.fraction = batch->percent / 100.0;
      snprintf(buf, sizeof buf, "  %s %.0f %%", printable_state(batch->state).c_str(),
               std::clamp(batch->percent, 0.0, 100.0));
      l.add(buf, kKeep);
    }
    l.add("  elapsed " + format_clock(elapsed), kElapsed);
    return l.fit(limit);
  }

  const bool known = GST_CLOCK_TIME_IS_VALID(duration) && duration > 0;
  if (done && known)
    position = duration;
  if (GST_CLOCK_TIME_IS_VALID(position)) {
    history_.emplace_back(now_us, position);
    while (history_.size() > 2 && history_[1].first <= now_us - kRateWindowUs)
      history_.pop_front();
  }
  if (known) {
    guint64 pos = GST_CLOCK_TIME_IS_VALID(position) ? std::min(position, duration) : 0;
    unsigned percent = unsigned(double(pos) * 100.0 / double(duration));
    if (!done)
      percent = std::min(percent, 99u);
    char pct[16];
    snprintf(pct, sizeof pct, " %3u%%", percent);
    l.has_bar = true;
    l.fraction = percent / 100.0;
    l.add(pct, kKeep);
    l.add("  " + format_clock(pos) + " / " + format_clock(duration), kTimes);
    const double rate = done ? 0 : steady_rate();
    if (rate > 0 && pos < duration) {
      l.add("  ETA " + format_clock(guint64(double(duration - pos) / rate * 1000.0)), kEta);
    }
  } else if (GST_CLOCK_TIME_IS_VALID(position)) {
    l.add(format_clock(position) + " transcribed", kKeep);
  } else {
    l.add("starting", kKeep);
  }
  l.add("  elapsed " + format_clock(elapsed), kElapsed);
  if (GST_CLOCK_TIME_IS_VALID(position) && elapsed > 0 && (done || elapsed >= GST_SECOND / 2)) {
    char speed[32];
    snprintf(speed, sizeof speed, "  %.1fx real time", double(position) / double(elapsed));
    l.add(speed, kSpeed);
  }
  if (!done && input_read_)
    l.add("  waiting for the last results", kWaiting);
  return l.fit(limit);
}

void ProgressBar::draw(guint64 position, guint64 duration, bool done, const BatchStatus *batch,
                       gint64 now_us)
{
  if (!enabled_)
    return;
  show(line(position, duration, done, batch, now_us));
}

// LINE over the previous one: back to its start, then clear what is left.
void ProgressBar::show(const std::string &line)
{
  const std::string out = "\r" + line + "\033[K";
  fputs(out.c_str(), stderr);
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
