// SPDX-License-Identifier: LGPL-2.1-or-later
#include "transcript.h"

#include <glib.h>

#include <algorithm>
#include <cstring>
#include <iterator>

namespace pt {

namespace {

bool is_space_at(const std::string &s, size_t i, size_t *len)
{
  /* ASCII white space, NBSP (U+00A0) is not a break; U+200C (ZWNJ) is part of words. */
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
    *len = 1;
    return true;
  }
  return false;
}

}  // namespace

void parse_uncertainty(Segment &seg)
{
  seg.words.clear();
  seg.text.clear();
  const std::string &raw = seg.raw_text;
  bool in_bracket = false;
  Word cur;
  bool cur_has_uncertain = false;
  auto flush = [&]() {
    if (!cur.text.empty()) {
      cur.uncertain = cur_has_uncertain;
      if (!seg.text.empty())
        seg.text += ' ';
      seg.text += cur.text;
      seg.words.push_back(cur);
    }
    cur = Word{};
    cur_has_uncertain = false;
  };
  for (size_t i = 0; i < raw.size();) {
    size_t len = 0;
    if (is_space_at(raw, i, &len)) {
      flush();
      i += len;
      continue;
    }
    char c = raw[i];
    if (c == '[') {
      in_bracket = true;
      cur_has_uncertain = true;
      ++i;
      continue;
    }
    if (c == ']') {
      in_bracket = false;
      ++i;
      continue;
    }
    if (in_bracket)
      cur_has_uncertain = true;
    cur.text += c;
    ++i;
  }
  flush();
}

namespace {

bool ends_sentence(const std::string &w)
{
  static const char *marks[] = {".", "!", "?", "\u061F", "\u2026", "\u06D4"};
  for (const char *m : marks) {
    size_t n = strlen(m);
    if (w.size() >= n && w.compare(w.size() - n, n, m) == 0)
      return true;
  }
  return false;
}

}  // namespace

std::optional<Segment> WordGrouper::push(Word w)
{
  w.uncertain = w.confidence >= 0 && w.confidence < min_confidence_;
  std::optional<Segment> closed;
  if (!cur_.words.empty()) {
    const Word &prev = cur_.words.back();
    if ((w.start > prev.end && w.start - prev.end > max_pause_) || ends_sentence(prev.text))
      closed = finish();
  }
  cur_.words.push_back(std::move(w));
  return closed;
}

std::optional<Segment> WordGrouper::finish()
{
  if (cur_.words.empty())
    return std::nullopt;
  Segment seg = std::move(cur_);
  cur_ = Segment();
  seg.id = next_id_++;
  seg.start = seg.words.front().start;
  seg.end = seg.words.back().end;
  for (const Word &w : seg.words) {
    if (!seg.text.empty())
      seg.text += ' ';
    seg.text += w.text;
  }
  seg.raw_text = seg.text;
  seg.final = true;
  return seg;
}

std::vector<Segment> segments_from_words(const std::vector<Word> &words, uint64_t max_pause,
                                         double min_confidence)
{
  std::vector<Segment> out;
  WordGrouper g(max_pause, min_confidence);
  for (const Word &w : words)
    if (std::optional<Segment> seg = g.push(w))
      out.push_back(std::move(*seg));
  if (std::optional<Segment> seg = g.finish())
    out.push_back(std::move(*seg));
  return out;
}

void TimeCuts::add(uint64_t recorded_at, uint64_t skipped)
{
  if (skipped == 0)
    return;
  if (!cuts_.empty() && cuts_.back().first == recorded_at) {
    cuts_.back().second += skipped;
    return;
  }
  cuts_.emplace_back(recorded_at, total() + skipped);
}

uint64_t TimeCuts::to_input(uint64_t t, bool is_end) const
{
  if (t == kNoTime || cuts_.empty())
    return t;
  /* The first cut after t (an end: at or after it): the one before it
   * holds everything skipped before t. */
  auto after = is_end ? std::lower_bound(cuts_.begin(), cuts_.end(), t,
                                         [](const auto &c, uint64_t v) { return c.first < v; })
                      : std::upper_bound(cuts_.begin(), cuts_.end(), t,
                                         [](uint64_t v, const auto &c) { return v < c.first; });
  return after == cuts_.begin() ? t : t + std::prev(after)->second;
}

void TimeCuts::to_input(Word &w) const
{
  w.start = to_input(w.start, false);
  w.end = to_input(w.end, true);
}

void TimeCuts::to_input(std::vector<Word> &words) const
{
  if (cuts_.empty())
    return;
  for (Word &w : words)
    to_input(w);
}

void TimeCuts::to_input(Segment &seg) const
{
  if (cuts_.empty())
    return;
  seg.start = to_input(seg.start, false);
  seg.end = to_input(seg.end, true);
  to_input(seg.words);
}

std::optional<std::string> check_segment_times(Segment &seg, uint64_t audio_ns)
{
  auto clock = [](uint64_t t) {
    char buf[64];
    g_snprintf(buf, sizeof buf, "%" G_GUINT64_FORMAT ".%03u s", t / kSecond,
               static_cast<unsigned>((t % kSecond) / kMsecond));
    return std::string(buf);
  };
  if (seg.end < seg.start)
    return "the segment ends (" + clock(seg.end) + ") before it starts (" + clock(seg.start) + ")";
  uint64_t limit = audio_ns > UINT64_MAX - kTimeSlack ? UINT64_MAX : audio_ns + kTimeSlack;
  if (seg.start > limit)
    return "the segment starts at " + clock(seg.start) + ", after the " + clock(audio_ns) +
           " of audio the service received";
  seg.end = std::min(seg.end, std::max(seg.start, audio_ns));
  for (Word &w : seg.words) {
    if (w.start != kNoTime)
      w.start = std::min(w.start, seg.end);
    if (w.end != kNoTime)
      w.end = std::min(w.end, seg.end);
  }
  return std::nullopt;
}

std::string to_pango_markup(const Segment &seg)
{
  std::string out;
  bool open = false;
  for (size_t i = 0; i < seg.words.size(); ++i) {
    const Word &w = seg.words[i];
    if (w.uncertain && !open) {
      if (i > 0)
        out += ' ';
      out += "<i>";
      open = true;
    } else if (!w.uncertain && open) {
      out += "</i> ";
      open = false;
    } else if (i > 0) {
      out += ' ';
    }
    out += markup_escape(w.text);
  }
  if (open)
    out += "</i>";
  return out;
}

}  // namespace pt
