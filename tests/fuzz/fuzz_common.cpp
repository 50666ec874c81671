// SPDX-License-Identifier: LGPL-2.1-or-later
#include "fuzz_common.h"

#include <dlfcn.h>
#include <json-glib/json-glib.h>
#include <sanitizer/lsan_interface.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

/* Any sanitizer report ends the run, with a stack, also when the target is
 * run by hand without the options scripts/fuzz sets. */
extern "C" const char *__asan_default_options()
{
  return "halt_on_error=1:abort_on_error=1";
}
extern "C" const char *__ubsan_default_options()
{
  return "halt_on_error=1:abort_on_error=1:print_stacktrace=1";
}

/* json-glib 1.6 (Debian 12) takes an answer holding several top-level
 * values ('{"a":1} {"b":2}', '1.5{...}') as valid JSON, keeps the first and
 * leaks the others: a leak inside json-glib, on input a service controls.
 * Every call from src/ comes here (the executable's definition wins), and
 * what json-glib allocates while loading is left out of leak checking.
 * What src/ makes of the result (its json_node_copy() of the root, strings)
 * is allocated outside and still checked. */
extern "C" gboolean json_parser_load_from_data(JsonParser *parser, const gchar *data, gssize length,
                                               GError **error)
{
  using Load = gboolean (*)(JsonParser *, const gchar *, gssize, GError **);
  static const Load real = reinterpret_cast<Load>(dlsym(RTLD_NEXT, "json_parser_load_from_data"));
  __lsan_disable();
  const gboolean ok = real(parser, data, length, error);
  __lsan_enable();
  return ok;
}

void fuzz_fail(const char *file, int line, const char *cond, const std::string &detail)
{
  fprintf(stderr, "\n%s:%d: check failed: %s\n  %s\n", file, line, cond, detail.c_str());
  fflush(stderr);
  abort();
}

std::string fuzz_hex(const std::string &s, size_t max_bytes)
{
  std::string out;
  char buf[4];
  for (size_t i = 0; i < s.size() && i < max_bytes; ++i) {
    snprintf(buf, sizeof buf, "%02x", static_cast<unsigned char>(s[i]));
    out += buf;
  }
  if (s.size() > max_bytes)
    out += "...";
  return out + " (" + std::to_string(s.size()) + " bytes)";
}

namespace {

struct MarkupState {
  std::string text;
  int depth = 0;
};

void on_start(GMarkupParseContext *, const gchar *name, const gchar **, const gchar **,
              gpointer data, GError **error)
{
  auto *st = static_cast<MarkupState *>(data);
  if (st->depth > 0 && strcmp(name, "i") != 0)
    g_set_error(error, G_MARKUP_ERROR, G_MARKUP_ERROR_UNKNOWN_ELEMENT, "unexpected <%s>", name);
  st->depth++;
}

void on_end(GMarkupParseContext *, const gchar *, gpointer data, GError **)
{
  static_cast<MarkupState *>(data)->depth--;
}

void on_text(GMarkupParseContext *, const gchar *text, gsize len, gpointer data, GError **)
{
  static_cast<MarkupState *>(data)->text.append(text, len);
}

}  // namespace

bool fuzz_markup_text_is(const std::string &markup, const std::string &plain, std::string *why)
{
  static const GMarkupParser parser = {on_start, on_end, on_text, nullptr, nullptr};
  MarkupState st;
  std::string doc = "<markup>" + markup + "</markup>";
  GMarkupParseContext *ctx =
      g_markup_parse_context_new(&parser, (GMarkupParseFlags)0, &st, nullptr);
  GError *err = nullptr;
  bool ok = g_markup_parse_context_parse(ctx, doc.data(), static_cast<gssize>(doc.size()), &err) &&
            g_markup_parse_context_end_parse(ctx, &err);
  g_markup_parse_context_free(ctx);
  if (!ok) {
    *why = std::string("not well-formed markup (") + (err ? err->message : "?") + "): " + markup;
    g_clear_error(&err);
    return false;
  }
  if (st.text != plain) {
    *why = "the markup's text \"" + st.text + "\" is not the plain text \"" + plain + "\"";
    return false;
  }
  return true;
}

std::string fuzz_without_spaces(const std::string &s)
{
  std::string out;
  for (char c : s)
    if (!fuzz_is_space(c))
      out += c;
  return out;
}

std::string fuzz_persianish(const std::vector<uint8_t> &bytes)
{
  static const char *const pieces[] = {
      /* letters */
      "ا", "ب", "پ", "ت", "ث", "ج", "چ", "ح", "خ", "د", "ذ", "ر", "ز", "ژ", "س", "ش", "ص", "ض", "ط",
      "ظ", "ع", "غ", "ف", "ق", "ک", "گ", "ل", "م", "ن", "و", "ه", "ی", "آ", "ئ", "ء", "ة",
      /* digits */
      "۰", "۱", "۲", "۹", "0", "7",
      /* Persian and Latin punctuation, standalone or not */
      "،", "؛", "؟", "«", "»", "۔", ".", "!", ":", "?", ",", ";", "(", ")", "…",
      /* uncertainty brackets, markup characters */
      "[", "]", "<", ">", "&", "'", "\"",
      /* zero-width non-joiner, right-to-left mark, NBSP, combining mark */
      "\u200c", "\u200f", "\u00a0", "\u064b",
      /* words */
      "سخن", "خردمند", "سازمان", "بهداشت", "جهانی", "می\u200cگوید", "Harf",
      /* white space */
      " ", " ", " ", " ", " ", "  ", "\t", "\n"};
  constexpr size_t n = sizeof pieces / sizeof pieces[0];
  std::string out;
  for (uint8_t b : bytes)
    out += pieces[b % n];
  return out;
}
