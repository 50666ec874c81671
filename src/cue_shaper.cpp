// SPDX-License-Identifier: LGPL-2.1-or-later
#include "cue_shaper.h"

#include <glib.h>

#include <algorithm>

namespace pt {

namespace {

struct Token {
  std::string text;
  std::string markup;
  size_t chars = 0;
  uint64_t start = 0;
  uint64_t end = 0;
};

/* Punctuation that belongs to the word before it. */
bool is_closing(gunichar c)
{
  switch (c) {
    case 0x060C: /* ، */
    case 0x061B: /* ؛ */
    case 0x061F: /* ؟ */
    case 0x06D4: /* ۔ */
    case 0x00BB: /* » */
    case '.':
    case ',':
    case ';':
    case ':':
    case '!':
    case '?':
    case ')':
    case ']':
    case 0x2026: /* … */
      return true;
    default:
      return false;
  }
}

/* Punctuation that belongs to the word after it. */
bool is_opening(gunichar c)
{
  return c == 0x00AB /* « */ || c == '(' || c == '[';
}

bool all_of_chars(const std::string &s, bool (*pred)(gunichar))
{
  if (s.empty())
    return false;
  for (const char *p = s.c_str(); *p; p = g_utf8_next_char(p))
    if (!pred(g_utf8_get_char(p)))
      return false;
  return true;
}

std::string word_markup(const Word &w)
{
  return w.uncertain ? "<i>" + markup_escape(w.text) + "</i>" : markup_escape(w.text);
}

/* Words -> tokens, with standalone punctuation glued to its neighbour. */
std::vector<Token> make_tokens(const Segment &seg, uint64_t seg_start, uint64_t seg_end)
{
  std::vector<Token> tokens;
  bool pending_open = false;
  for (const Word &w : seg.words) {
    bool timed = w.start != kNoTime && w.end != kNoTime;
    uint64_t ws = timed ? seg_start + (w.start > seg.start ? w.start - seg.start : 0) : 0;
    uint64_t we = timed ? seg_start + (w.end > seg.start ? w.end - seg.start : 0) : 0;
    if (!tokens.empty() && !pending_open && all_of_chars(w.text, is_closing)) {
      Token &t = tokens.back();
      t.text += w.text;
      t.markup += word_markup(w);
      if (timed)
        t.end = std::max(t.end, we);
      continue;
    }
    if (pending_open) {
      Token &t = tokens.back();
      t.text += w.text;
      t.markup += word_markup(w);
      if (timed)
        t.end = std::max(t.end, we);
      pending_open = all_of_chars(w.text, is_opening);
      continue;
    }
    Token t;
    t.text = w.text;
    t.markup = word_markup(w);
    t.start = ws;
    t.end = we;
    tokens.push_back(std::move(t));
    pending_open = all_of_chars(w.text, is_opening);
  }
  for (Token &t : tokens)
    t.chars = utf8_chars(t.text);

  /* Times: the words' own when every word has them, else by characters. */
  bool all_timed =
      !seg.words.empty() && std::all_of(seg.words.begin(), seg.words.end(), [](const Word &w) {
        return w.start != kNoTime && w.end != kNoTime;
      });
  if (!all_timed) {
    uint64_t total = 0;
    for (const Token &t : tokens)
      total += t.chars + 1;
    uint64_t span = seg_end > seg_start ? seg_end - seg_start : 0;
    uint64_t acc = 0;
    for (Token &t : tokens) {
      t.start = seg_start + (total ? span * acc / total : 0);
      acc += t.chars + 1;
      t.end = seg_start + (total ? span * acc / total : 0);
    }
    if (!tokens.empty())
      tokens.back().end = seg_end;
  }
  return tokens;
}

/* Lines of at most width characters, greedily; -1 when a line overflows
 * (a token longer than width stays whole on its own line). */
size_t count_lines(const std::vector<Token> &toks, size_t from, size_t to, size_t width)
{
  size_t lines = 0, len = 0;
  for (size_t i = from; i < to; ++i) {
    size_t add = len == 0 ? toks[i].chars : len + 1 + toks[i].chars;
    if (len > 0 && add > width) {
      ++lines;
      len = toks[i].chars;
    } else {
      len = add;
    }
  }
  return lines + (len > 0 ? 1 : 0);
}

/* The cost of ending a cue after token a, before token b: what
 * subtitlers prefer (Netflix's and the BBC's guides): after a sentence's
 * end, then after ؛ and :, then after a comma, then before a conjunction or
 * a preposition; anywhere else is the last resort. */
double break_cost(const Token &a, const Token &b)
{
  gunichar last =
      g_utf8_get_char(g_utf8_find_prev_char(a.text.c_str(), a.text.c_str() + a.text.size()));
  if (last == '.' || last == '!' || last == '?' || last == 0x061F || last == 0x06D4 ||
      last == 0x2026)
    return 0;
  if (last == 0x061B || last == ';' || last == ':')
    return 50;
  if (last == 0x060C || last == ',')
    return 150;
  static const char *const joiners[] = {
      "و",  "که",  "تا",  "از", "با", "به",   "در",    "برای", "اما", "ولی",
      "یا", "چون", "اگر", "بر", "بی", "زیرا", "ولیکن", "سپس",  "پس",  "هم",
  };
  for (const char *w : joiners)
    if (b.text == w)
      return 300;
  return 1000;
}

}  // namespace

uint64_t reading_end(uint64_t start, uint64_t end, size_t chars, const CueSettings &cs)
{
  uint64_t want = std::max(end, start + cs.min_duration);
  if (cs.max_chars_per_second > 0) {
    /* Reading time, but never past max-cue-duration (fuzzing found it) */
    const uint64_t reading = start + chars * kSecond / cs.max_chars_per_second;
    const uint64_t longest = start + std::max(cs.max_duration, cs.min_duration);
    want = std::max(want, std::min(reading, std::max(longest, end)));
  }
  return want;
}

uint64_t end_before(uint64_t start, uint64_t end, uint64_t next_start)
{
  if (end + kCueGap <= next_start)
    return end;
  /* kCueGap before the next cue where that leaves the cue time of its own */
  return next_start >= start + 2 * kCueGap ? next_start - kCueGap : std::min(end, next_start);
}

size_t utf8_chars(const std::string &s)
{
  return static_cast<size_t>(g_utf8_strlen(s.c_str(), static_cast<gssize>(s.size())));
}

std::string Cue::text(bool markup) const
{
  const auto &src = markup ? markup_lines : lines;
  std::string out;
  for (size_t i = 0; i < src.size(); ++i) {
    if (i)
      out += '\n';
    out += src[i];
  }
  return out;
}

std::vector<Cue> shape_cues(const Segment &seg, uint64_t seg_start, uint64_t seg_end,
                            const CueSettings &cs)
{
  std::vector<Cue> cues;
  std::vector<Token> toks = make_tokens(seg, seg_start, seg_end);
  const size_t width = std::max<unsigned>(cs.max_line_chars, 1);
  const size_t max_lines = std::max<unsigned>(cs.max_lines, 1);

  /* 1. Which tokens go in which cue: the split of least total cost over
   *    every split whose cues fit the lines and the duration (a dynamic
   *    programme over the word boundaries).  A cue costs the square of its
   *    unused room (so cues come out balanced, and as few as fit), plus
   *    the cost of the break after it, plus a heavy cost for a one-word cue
   *    when the segment has more words: never a lone «نیست.» flashed. */
  const size_t n = toks.size();
  const double room = static_cast<double>(width * max_lines);
  std::vector<double> best(n + 1, 0.0);
  std::vector<size_t> next(n + 1, n);
  for (size_t a = n; a-- > 0;) {
    best[a] = -1;
    size_t chars = 0;
    for (size_t b = a + 1; b <= n; ++b) {
      chars += toks[b - 1].chars + (b - 1 > a ? 1 : 0);
      const bool fits =
          count_lines(toks, a, b, width) <= max_lines &&
          (toks[b - 1].end <= toks[a].start || toks[b - 1].end - toks[a].start <= cs.max_duration);
      if (!fits && b > a + 1)
        break; /* longer cues only fit less */
      const double slack = room > chars ? room - static_cast<double>(chars) : 0.0;
      double cost = slack * slack / room;
      if (b < n)
        cost += break_cost(toks[b - 1], toks[b]);
      if (b == a + 1 && n > 1)
        cost += 3000;
      cost += best[b];
      if (best[a] < 0 || cost < best[a]) {
        best[a] = cost;
        next[a] = b;
      }
    }
  }
  size_t i = 0;
  while (i < n) {
    const size_t j = next[i];

    /* 2. Balanced lines: as few lines as the full width needs, then the
     *    narrowest width that still needs no more. */
    const size_t needed = count_lines(toks, i, j, width);
    size_t lo = 1, hi = width;
    for (size_t k = i; k < j; ++k)
      lo = std::max(lo, toks[k].chars);
    lo = std::min(lo, hi);
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (count_lines(toks, i, j, mid) <= needed)
        hi = mid;
      else
        lo = mid + 1;
    }
    /* Two lines: the break of least cost among those that fit, weighing
     * where it falls (as between cues) against the difference in length:
     * after the comma rather than two characters closer to the middle. */
    size_t split = j; /* the first token of the second line; j: by width */
    if (needed == 2) {
      double best_cost = -1;
      size_t first = 0, total = 0;
      for (size_t k = i; k < j; ++k)
        total += toks[k].chars + (k > i ? 1 : 0);
      for (size_t k = i + 1; k < j; ++k) {
        first += toks[k - 1].chars + (k - 1 > i ? 1 : 0);
        const size_t second = total - first - 1;
        if (first > width || second > width)
          continue;
        const double diff = first > second ? double(first - second) : double(second - first);
        const double cost = break_cost(toks[k - 1], toks[k]) / 10.0 + diff * diff / 4.0;
        if (best_cost < 0 || cost < best_cost) {
          best_cost = cost;
          split = k;
        }
      }
    }
    Cue cue;
    std::string line, mline;
    size_t len = 0;
    for (size_t k = i; k < j; ++k) {
      if (len > 0 && (split < j ? k == split : len + 1 + toks[k].chars > lo)) {
        cue.lines.push_back(line);
        cue.markup_lines.push_back(mline);
        line.clear();
        mline.clear();
        len = 0;
      }
      if (len > 0) {
        line += ' ';
        mline += ' ';
        len += 1;
      }
      line += toks[k].text;
      mline += toks[k].markup;
      len += toks[k].chars;
    }
    if (!line.empty()) {
      cue.lines.push_back(line);
      cue.markup_lines.push_back(mline);
    }
    cue.start = toks[i].start;
    cue.end = std::max(toks[j - 1].end, cue.start);
    if (cue.end - cue.start > cs.max_duration)
      cue.end = cue.start + cs.max_duration;
    cues.push_back(std::move(cue));
    i = j;
  }

  /* 3. Time to read: at least min_duration, and at least the time
   *    max-chars-per-second needs, where the next cue leaves room (it may
   *    reach into the silence after the speech, never before it: a cue
   *    starts with its first word); then kCueGap before the next cue,
   *    where the cue keeps time of its own. */
  for (size_t k = 0; k < cues.size(); ++k) {
    const uint64_t want =
        reading_end(cues[k].start, cues[k].end, utf8_chars(cues[k].text(false)), cs);
    const bool last = k + 1 == cues.size();
    if (cues[k].end < want) {
      cues[k].end = last ? want : std::min(want, cues[k + 1].start);
      cues[k].extended = last;
    }
    if (!last)
      cues[k].end = end_before(cues[k].start, cues[k].end, cues[k + 1].start);
  }
  return cues;
}

}  // namespace pt
