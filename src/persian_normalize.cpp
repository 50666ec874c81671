// SPDX-License-Identifier: LGPL-2.1-or-later
#include "persian_normalize.h"

#include <glib.h>

#include <algorithm>

namespace pt {

namespace {

constexpr gunichar kZwnj = 0x200C;

bool is_persian_letter(gunichar c)
{
  return c >= 0x0600 && c <= 0x06FF && g_unichar_isalpha(c);
}

/* Characters a space never comes before (closing punctuation), and after
 * which one space comes before a letter. */
bool is_closing(gunichar c)
{
  switch (c) {
    case '.':
    case ',':
    case 0x060C: /* ، */
    case ';':
    case 0x061B: /* ؛ */
    case ':':
    case '!':
    case '?':
    case 0x061F: /* ؟ */
    case ')':
    case ']':
    case 0x00BB: /* » */
      return true;
    default:
      return false;
  }
}

/* Characters a space never comes after. */
bool is_opening(gunichar c)
{
  return c == '(' || c == '[' || c == 0x00AB; /* « */
}

void append(std::string &out, gunichar c)
{
  char buf[6];
  out.append(buf, static_cast<size_t>(g_unichar_to_utf8(c, buf)));
}

/* Letters and digits mapped, diacritics dropped, white space made spaces. */
std::u32string map_characters(const std::string &text, DigitStyle digits)
{
  std::u32string out;
  const char *p = text.c_str();
  const char *end = p + text.size();
  while (p < end) {
    gunichar c = g_utf8_get_char_validated(p, end - p);
    if (c == static_cast<gunichar>(-1) || c == static_cast<gunichar>(-2)) {
      c = 0xFFFD; /* text reaching here is valid; never read past a bad byte */
      ++p;
    } else {
      p = g_utf8_next_char(p);
    }
    if (c == 0x0643) /* Arabic kaf */
      c = 0x06A9;
    else if (c == 0x064A || c == 0x0649) /* Arabic yeh, alef maksura */
      c = 0x06CC;
    else if ((c >= 0x064B && c <= 0x0652) || c == 0x0640) /* harakat, tatweel */
      continue;
    else if (g_unichar_isspace(c) && c != kZwnj)
      c = ' ';
    int digit = -1;
    if (c >= '0' && c <= '9')
      digit = static_cast<int>(c - '0');
    else if (c >= 0x0660 && c <= 0x0669)
      digit = static_cast<int>(c - 0x0660);
    else if (c >= 0x06F0 && c <= 0x06F9)
      digit = static_cast<int>(c - 0x06F0);
    if (digit >= 0 && digits == DigitStyle::Persian)
      c = 0x06F0 + static_cast<gunichar>(digit);
    else if (digit >= 0 && digits == DigitStyle::Latin)
      c = '0' + static_cast<gunichar>(digit);
    out.push_back(c);
  }
  /* A number inside a Latin word (MP3, H264) stays in Latin digits. */
  auto is_latin = [](char32_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
  auto digit_of = [](char32_t c) {
    return c >= '0' && c <= '9' ? int(c - '0') : c >= 0x06F0 && c <= 0x06F9 ? int(c - 0x06F0) : -1;
  };
  for (size_t i = 0; digits != DigitStyle::AsReceived && i < out.size();) {
    if (digit_of(out[i]) < 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < out.size() && digit_of(out[j]) >= 0)
      ++j;
    if ((i > 0 && is_latin(out[i - 1])) || (j < out.size() && is_latin(out[j])))
      for (size_t k = i; k < j; ++k)
        out[k] = U'0' + static_cast<char32_t>(digit_of(out[k]));
    i = j;
  }
  return out;
}

bool is_prefix(const std::u32string &w)
{
  return w == U"\u0645\u06CC" || w == U"\u0646\u0645\u06CC"; /* می، نمی */
}

bool is_suffix(const std::u32string &w)
{
  static const std::u32string suffixes[] = {
      U"\u0647\u0627",             /* ها */
      U"\u0647\u0627\u06CC",       /* های */
      U"\u0647\u0627\u06CC\u06CC", /* هایی */
      U"\u062A\u0631",             /* تر */
      U"\u062A\u0631\u06CC\u0646", /* ترین */
  };
  return std::find(std::begin(suffixes), std::end(suffixes), w) != std::end(suffixes);
}

/* Whether token b is joined to token a with a ZWNJ. */
bool joins(const std::u32string &a, const std::u32string &b)
{
  if (a.empty() || b.empty())
    return false;
  return (is_prefix(a) && is_persian_letter(b.front())) ||
         (is_suffix(b) && is_persian_letter(a.back()));
}

std::vector<std::u32string> split_spaces(const std::u32string &s)
{
  std::vector<std::u32string> tokens;
  std::u32string cur;
  for (char32_t c : s) {
    if (c == ' ') {
      if (!cur.empty())
        tokens.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty())
    tokens.push_back(std::move(cur));
  return tokens;
}

std::string to_utf8(const std::u32string &s)
{
  std::string out;
  for (char32_t c : s)
    append(out, static_cast<gunichar>(c));
  return out;
}

/* ZWNJs: none at a word's ends, none doubled. */
std::u32string clean_zwnj(const std::u32string &w)
{
  std::u32string out;
  for (char32_t c : w) {
    if (c == kZwnj && (out.empty() || out.back() == kZwnj))
      continue;
    out.push_back(c);
  }
  while (!out.empty() && out.back() == kZwnj)
    out.pop_back();
  return out;
}

}  // namespace

std::string normalize_persian(const std::string &text, DigitStyle digits)
{
  std::vector<std::u32string> tokens = split_spaces(map_characters(text, digits));
  for (auto &t : tokens)
    t = clean_zwnj(t);
  tokens.erase(std::remove(tokens.begin(), tokens.end(), std::u32string()), tokens.end());
  /* Prefixes and suffixes joined with a ZWNJ. */
  std::vector<std::u32string> words;
  for (auto &t : tokens) {
    if (!words.empty() && joins(words.back(), t)) {
      words.back().push_back(kZwnj);
      words.back() += t;
    } else {
      words.push_back(std::move(t));
    }
  }
  /* Spaces around punctuation. */
  std::u32string out;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::u32string &w = words[i];
    if (!out.empty() && !is_closing(w.front()) && !is_opening(out.back()))
      out.push_back(' ');
    for (size_t k = 0; k < w.size(); ++k) {
      out.push_back(w[k]);
      /* "سلام،دنیا" -> "سلام، دنیا"; never inside a number ("۳.۵") */
      const bool next_letter = k + 1 < w.size() && g_unichar_isalpha(w[k + 1]);
      if (is_closing(w[k]) && next_letter && w[k] != '.' && w[k] != ':')
        out.push_back(' ');
    }
  }
  return to_utf8(out);
}

void normalize_segment(Segment &seg, DigitStyle digits)
{
  seg.text = normalize_persian(seg.text, digits);
  std::vector<Word> words;
  for (Word &w : seg.words) {
    w.text = normalize_persian(w.text, digits);
    if (w.text.empty())
      continue;
    if (!words.empty()) {
      Word &prev = words.back();
      gunichar *a = g_utf8_to_ucs4_fast(prev.text.c_str(), -1, nullptr);
      gunichar *b = g_utf8_to_ucs4_fast(w.text.c_str(), -1, nullptr);
      const bool join = joins(std::u32string(a, a + g_utf8_strlen(prev.text.c_str(), -1)),
                              std::u32string(b, b + g_utf8_strlen(w.text.c_str(), -1)));
      g_free(a);
      g_free(b);
      if (join) {
        prev.text += "\u200C" + w.text;
        prev.end = w.end;
        if (prev.confidence >= 0 && w.confidence >= 0)
          prev.confidence = std::min(prev.confidence, w.confidence);
        else
          prev.confidence = -1;
        prev.uncertain = prev.uncertain || w.uncertain;
        continue;
      }
    }
    words.push_back(std::move(w));
  }
  seg.words = std::move(words);
}

}  // namespace pt
