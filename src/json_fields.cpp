// SPDX-License-Identifier: LGPL-2.1-or-later
#include "json_fields.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "time_value.h"

namespace pt {

namespace {

template <class Bytes> int hex4(const Bytes &d, size_t i, size_t n)
{
  if (i > n || n - i < 4)
    return -1;
  int v = 0;
  for (size_t k = 0; k < 4; ++k) {
    const int x = g_ascii_xdigit_value(d[i + k]);
    if (x < 0)
      return -1;
    v = v * 16 + x;
  }
  return v;
}

/* At d[i], just after a backslash inside a double-quoted string: how many
 * characters the escape takes after the backslash, or 0 for one that is not
 * strict JSON: a character other than " \ / b f n r t u, a \u without four
 * hex digits, or a \u escape of a UTF-16 surrogate that is not a high one
 * followed by a \u low one.  json-glib 1.6 reads such escapes leniently and
 * swallows what follows them, closing quote included: the rest of the text
 * would no longer be what this scanner sees. */
template <class Bytes> size_t escape_length(const Bytes &d, size_t i, size_t n)
{
  if (i >= n || d[i] == '\0' || !strchr("\"\\/bfnrtu", d[i]))
    return 0;
  if (d[i] != 'u')
    return 1;
  const int unit = hex4(d, i + 1, n);
  if (unit < 0)
    return 0;
  if (unit < 0xD800 || unit > 0xDFFF)
    return 5;
  if (unit > 0xDBFF)
    return 0; /* a low surrogate first */
  if (n - i < 11 || d[i + 5] != '\\' || d[i + 6] != 'u')
    return 0;
  const int low = hex4(d, i + 7, n);
  return low >= 0xDC00 && low <= 0xDFFF ? 11 : 0;
}

}  // namespace

template <class Bytes> JsonScan json_scan(const Bytes &d, unsigned limit)
{
  /* Strict JSON only, where json-glib's scanner could see the text
   * differently: it also takes single-quoted strings (without escapes) and
   * C comments (ended, in 1.6, by the first slash), and it reads on past a
   * lone surrogate escape.  None of them is JSON, and a quote hidden in
   * one could hide the brackets after it from this scan: the answer is
   * refused instead.  Brackets inside strings are not counted. */
  JsonScan scan;
  const size_t n = d.size();
  unsigned depth = 0;
  for (size_t i = 0; i < n; ++i) {
    switch (d[i]) {
      case '"':
        for (++i; i < n && d[i] != '"'; ++i) {
          if (d[i] == '\\') {
            const size_t k = escape_length(d, i + 1, n);
            if (k == 0) {
              scan.refused = "an escape that is not JSON, or an unpaired UTF-16 surrogate";
              return scan;
            }
            i += k;
          }
        }
        if (i >= n)
          return scan; /* unterminated: json-glib refuses it */
        break;
      case '\'':
        scan.refused = "a single-quoted string";
        return scan;
      case '/':
        scan.refused = "a comment";
        return scan;
      case '[':
      case '{':
        if (++depth > scan.depth) {
          scan.depth = depth;
          if (depth > limit)
            return scan;
        }
        break;
      case ']':
      case '}':
        if (depth > 0)
          --depth;
        break;
      default:
        break;
    }
  }
  return scan;
}
template JsonScan json_scan(const MemoryBytes &, unsigned);
template JsonScan json_scan(const FileBytes &, unsigned);

JsonScan json_scan(const char *data, size_t len, unsigned limit)
{
  return json_scan(MemoryBytes(data, len), limit);
}

std::string json_builder_text(JsonBuilder *b)
{
  JsonNode *root = json_builder_get_root(b);
  gchar *text = json_to_string(root, FALSE);
  std::string out = text;
  g_free(text);
  json_node_unref(root);
  g_object_unref(b);
  return out;
}

std::string clean_text(const char *text, size_t max_bytes)
{
  if (!text)
    return "";
  size_t len = strlen(text);
  gchar *valid = g_utf8_make_valid(text, static_cast<gssize>(len));
  std::string out(valid);
  g_free(valid);
  if (out.size() > max_bytes) {
    const char *end = g_utf8_find_prev_char(out.c_str(), out.c_str() + max_bytes + 1);
    out.resize(end ? static_cast<size_t>(end - out.c_str()) : 0);
  }
  return out;
}

JsonNode *parse_json_limited(const char *data, size_t len, std::string *error, std::string *detail)
{
  const JsonScan scan = json_scan(data, len, kMaxJsonDepth);
  if (scan.depth > kMaxJsonDepth) {
    *error = "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    return nullptr;
  }
  if (scan.refused) {
    *error = std::string("not JSON: ") + scan.refused;
    return nullptr;
  }
  std::unique_ptr<JsonParser, decltype(&g_object_unref)> parser(json_parser_new(), g_object_unref);
  GError *err = nullptr;
  if (!json_parser_load_from_data(parser.get(), data, static_cast<gssize>(len), &err)) {
    *error = "not JSON";
    if (detail)
      *detail = err ? clean_text(err->message, 1024) : ""; /* it may quote the bad bytes */
    g_clear_error(&err);
    return nullptr;
  }
  JsonNode *root = json_parser_get_root(parser.get());
  if (!root) {
    *error = "empty";
    return nullptr;
  }
  return json_node_copy(root);
}

const char *json_type_name(JsonNode *node)
{
  if (!node || JSON_NODE_HOLDS_NULL(node))
    return "null";
  if (JSON_NODE_HOLDS_OBJECT(node))
    return "an object";
  if (JSON_NODE_HOLDS_ARRAY(node))
    return "an array";
  GType t = json_node_get_value_type(node);
  if (t == G_TYPE_STRING)
    return "a string";
  if (t == G_TYPE_BOOLEAN)
    return "a boolean";
  if (t == G_TYPE_INT64 || t == G_TYPE_DOUBLE)
    return "a number";
  return "a value of an unknown type";
}

JsonFields::JsonFields(JsonNode *node, std::string what) : what_(std::move(what))
{
  if (node && JSON_NODE_HOLDS_OBJECT(node))
    object_ = json_node_get_object(node);
}

bool JsonFields::has(const char *name) const
{
  return object_ && json_object_has_member(object_, name);
}

JsonNode *JsonFields::member(const char *name) const
{
  if (!has(name))
    return nullptr;
  JsonNode *n = json_object_get_member(object_, name);
  return n && !JSON_NODE_HOLDS_NULL(n) ? n : nullptr;
}

void JsonFields::wrong(const char *name, JsonNode *node, const char *expected)
{
  if (error_.empty())
    error_ = what_ + ": \"" + name + "\" is " + json_type_name(node) + ", expected " + expected;
}

namespace {

bool holds(JsonNode *n, GType t)
{
  return JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == t;
}

std::optional<double> numeric_string(const char *s)
{
  if (!s || !*s)
    return std::nullopt;
  char *end = nullptr;
  errno = 0;
  double v = g_ascii_strtod(s, &end);
  if (end == s || *end != '\0' || errno == ERANGE || !std::isfinite(v))
    return std::nullopt;
  return v;
}

}  // namespace

std::optional<std::string> JsonFields::string(const char *name)
{
  JsonNode *n = member(name);
  if (!n)
    return std::nullopt;
  if (!holds(n, G_TYPE_STRING)) {
    wrong(name, n, "a string");
    return std::nullopt;
  }
  return clean_text(json_node_get_string(n));
}

std::optional<double> JsonFields::number(const char *name)
{
  JsonNode *n = member(name);
  if (!n)
    return std::nullopt;
  if (holds(n, G_TYPE_INT64))
    return static_cast<double>(json_node_get_int(n));
  if (holds(n, G_TYPE_DOUBLE) && std::isfinite(json_node_get_double(n)))
    return json_node_get_double(n);
  if (holds(n, G_TYPE_STRING))
    if (auto v = numeric_string(json_node_get_string(n)))
      return v;
  wrong(name, n, "a number");
  return std::nullopt;
}

std::optional<int64_t> JsonFields::integer(const char *name)
{
  JsonNode *n = member(name);
  if (!n)
    return std::nullopt;
  if (holds(n, G_TYPE_INT64))
    return json_node_get_int(n);
  std::optional<double> v;
  if (holds(n, G_TYPE_DOUBLE))
    v = json_node_get_double(n);
  else if (holds(n, G_TYPE_STRING))
    v = numeric_string(json_node_get_string(n));
  /* 2^63 is the first double out of range */
  if (v && std::isfinite(*v) && std::trunc(*v) == *v && *v >= -9.2233720368547758e18 &&
      *v < 9.2233720368547758e18)
    return static_cast<int64_t>(*v);
  wrong(name, n, "an integer");
  return std::nullopt;
}

std::optional<bool> JsonFields::boolean(const char *name)
{
  JsonNode *n = member(name);
  if (!n)
    return std::nullopt;
  if (holds(n, G_TYPE_BOOLEAN))
    return json_node_get_boolean(n) != FALSE;
  wrong(name, n, "a boolean");
  return std::nullopt;
}

std::optional<uint64_t> JsonFields::time(const char *name)
{
  JsonNode *n = member(name);
  if (!n)
    return std::nullopt;
  std::optional<uint64_t> v;
  if (holds(n, G_TYPE_STRING))
    v = parse_time_value(json_node_get_string(n));
  else if (holds(n, G_TYPE_INT64))
    v = seconds_to_ns(static_cast<double>(json_node_get_int(n)));
  else if (holds(n, G_TYPE_DOUBLE))
    v = seconds_to_ns(json_node_get_double(n));
  if (!v)
    wrong(name, n, "a time (H:MM:SS or seconds)");
  return v;
}

JsonNode *JsonFields::object(const char *name)
{
  JsonNode *n = member(name);
  if (n && !JSON_NODE_HOLDS_OBJECT(n)) {
    wrong(name, n, "an object");
    return nullptr;
  }
  return n;
}

JsonArray *JsonFields::array(const char *name)
{
  JsonNode *n = member(name);
  if (!n)
    return nullptr;
  if (!JSON_NODE_HOLDS_ARRAY(n)) {
    wrong(name, n, "an array");
    return nullptr;
  }
  return json_node_get_array(n);
}

}  // namespace pt
