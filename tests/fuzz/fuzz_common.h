// SPDX-License-Identifier: LGPL-2.1-or-later
/* Shared by the libFuzzer targets: a check that fails loudly (libFuzzer
 * then saves the input as a crash-* reproducer), and the properties every
 * piece of text handed to the rest of the program must have. */
#pragma once

#include <glib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

/* Prints what failed and aborts: libFuzzer reports it as a crash. */
[[noreturn]] void fuzz_fail(const char *file, int line, const char *cond,
                            const std::string &detail);

/* detail is evaluated only when cond is false. */
#define FUZZ_CHECK(cond, detail)                      \
  do {                                                \
    if (!(cond))                                      \
      fuzz_fail(__FILE__, __LINE__, #cond, (detail)); \
  } while (0)

/* Valid UTF-8 without NUL bytes (GLib's and GStreamer's text APIs take C
 * strings: a NUL would cut the text short). */
inline bool fuzz_valid_utf8(const std::string &s)
{
  return g_utf8_validate(s.data(), static_cast<gssize>(s.size()), nullptr);
}

#define FUZZ_CHECK_UTF8(s, what) \
  FUZZ_CHECK(fuzz_valid_utf8(s), std::string(what) + " is not valid UTF-8: " + fuzz_hex(s))

/* The first bytes of s in hex, for messages about invalid text. */
std::string fuzz_hex(const std::string &s, size_t max_bytes = 64);

/* Checks that markup (Pango's: escaped text, <i>...</i>) is well-formed and
 * that its text, without the tags, is plain.  False with *why otherwise. */
bool fuzz_markup_text_is(const std::string &markup, const std::string &plain, std::string *why);

/* ASCII white space as the transcript code splits words: space, \t, \n,
 * \v, \f, \r (g_ascii_isspace() leaves out \v). */
inline bool fuzz_is_space(char c)
{
  return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The string with every ASCII white-space character removed. */
std::string fuzz_without_spaces(const std::string &s);

/* Text made of Persian letters, digits, punctuation, ZWNJ, brackets and
 * spaces, one piece per input byte: lets the fuzzer write Persian-ish text
 * without having to find valid multi-byte sequences first. */
std::string fuzz_persianish(const std::vector<uint8_t> &bytes);
