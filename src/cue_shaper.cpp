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

}  // namespace

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

  /* 1. Which tokens go in which cue: as many as fit the lines and the
   *    duration. */
  size_t i = 0;
  while (i < toks.size()) {
    size_t j = i + 1;
    while (j < toks.size() && count_lines(toks, i, j + 1, width) <= max_lines &&
           (toks[j].end <= toks[i].start || toks[j].end - toks[i].start <= cs.max_duration))
      ++j;

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
    Cue cue;
    std::string line, mline;
    size_t len = 0;
    for (size_t k = i; k < j; ++k) {
      if (len > 0 && len + 1 + toks[k].chars > lo) {
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

  /* 3. At least min_duration where the next cue leaves room; never overlap. */
  for (size_t k = 0; k < cues.size(); ++k) {
    uint64_t want = cues[k].start + cs.min_duration;
    if (cues[k].end < want) {
      cues[k].end = k + 1 < cues.size() ? std::min(want, cues[k + 1].start) : want;
      cues[k].extended = k + 1 == cues.size();
    }
    if (k + 1 < cues.size() && cues[k].end > cues[k + 1].start)
      cues[k].end = cues[k + 1].start;
  }
  return cues;
}

}  // namespace pt
