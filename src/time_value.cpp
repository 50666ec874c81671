// SPDX-License-Identifier: LGPL-2.1-or-later
#include "time_value.h"

#include <cctype>
#include <cmath>
#include <cstdlib>

namespace pt {

namespace {

/* Reads an unsigned decimal integer at text[pos], advancing pos. */
bool read_uint(const std::string &text, size_t &pos, uint64_t &out, size_t max_digits = 12)
{
  size_t start = pos;
  uint64_t v = 0;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
    if (pos - start >= max_digits)
      return false;
    v = v * 10 + static_cast<uint64_t>(text[pos] - '0');
    ++pos;
  }
  out = v;
  return pos > start;
}

void skip_spaces(const std::string &text, size_t &pos)
{
  while (pos < text.size() && std::isspace(static_cast<unsigned char>(text[pos])))
    ++pos;
}

/* A fraction ".ffffff": any number of digits, read to nanoseconds. */
bool read_fraction(const std::string &text, size_t &pos, uint64_t &ns)
{
  ns = 0;
  if (pos >= text.size() || text[pos] != '.')
    return true;
  ++pos;
  uint64_t scale = 100000000ull;
  size_t start = pos;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
    ns += static_cast<uint64_t>(text[pos] - '0') * scale;
    scale /= 10;
    ++pos;
  }
  return pos > start;
}

std::optional<uint64_t> parse_plain_seconds(const std::string &text)
{
  size_t pos = 0;
  skip_spaces(text, pos);
  uint64_t whole = 0, frac = 0;
  size_t before = pos;
  bool have_whole = read_uint(text, pos, whole);
  if (!read_fraction(text, pos, frac))
    return std::nullopt;
  if (!have_whole && pos == before)
    return std::nullopt;
  skip_spaces(text, pos);
  if (pos != text.size())
    return std::nullopt;
  if (whole > 100ull * 365 * 24 * 3600)
    return std::nullopt;
  return whole * kSecond + frac;
}

}  // namespace

std::optional<uint64_t> parse_time_value(const std::string &text)
{
  if (text.find(':') == std::string::npos)
    return parse_plain_seconds(text);

  size_t pos = 0;
  skip_spaces(text, pos);
  uint64_t days = 0;
  uint64_t first = 0;
  if (!read_uint(text, pos, first))
    return std::nullopt;
  skip_spaces(text, pos);
  if (pos < text.size() && text.compare(pos, 3, "day") == 0) {
    days = first;
    pos += 3;
    if (pos < text.size() && text[pos] == 's')
      ++pos;
    if (pos < text.size() && text[pos] == ',')
      ++pos;
    skip_spaces(text, pos);
    if (!read_uint(text, pos, first))
      return std::nullopt;
  }
  uint64_t hours = first, minutes = 0, seconds = 0, frac = 0;
  if (pos >= text.size() || text[pos] != ':')
    return std::nullopt;
  ++pos;
  size_t mstart = pos;
  if (!read_uint(text, pos, minutes) || pos - mstart != 2 || minutes > 59)
    return std::nullopt;
  if (pos >= text.size() || text[pos] != ':')
    return std::nullopt;
  ++pos;
  size_t sstart = pos;
  if (!read_uint(text, pos, seconds) || pos - sstart != 2 || seconds > 59)
    return std::nullopt;
  if (!read_fraction(text, pos, frac))
    return std::nullopt;
  skip_spaces(text, pos);
  if (pos != text.size() || hours > 23 + (days == 0 ? 100000 : 0) || days > 36500)
    return std::nullopt;
  uint64_t total_s = ((days * 24 + hours) * 60 + minutes) * 60 + seconds;
  return total_s * kSecond + frac;
}

std::optional<uint64_t> seconds_to_ns(double seconds)
{
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e9)
    return std::nullopt;
  return static_cast<uint64_t>(std::llround(seconds * 1e9));
}

}  // namespace pt
