// SPDX-License-Identifier: LGPL-2.1-or-later
/* The defensive reading of service answers (src/json_fields.h):
 *   - pt::json_depth() agrees with itself at every limit, and
 *     pt::parse_json_limited() never hands out a tree deeper than
 *     kMaxJsonDepth (the guard that keeps json-glib's recursive parser off
 *     hostile nesting: json-glib must never see more than json_depth says);
 *   - pt::clean_text() and pt::quote_excerpt(): valid UTF-8, within bounds,
 *     cut at a character boundary;
 *   - JsonFields' typed accessors on every member of any object. */
#include <json-glib/json-glib.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstring>
#include <vector>

#include "fuzz_common.h"
#include "harf_reply.h"
#include "json_fields.h"

namespace {

/* The depth of a parsed tree, without recursion. */
unsigned tree_depth(JsonNode *root)
{
  unsigned deepest = 0;
  std::vector<std::pair<JsonNode *, unsigned>> todo{{root, 0}};
  while (!todo.empty()) {
    auto [node, depth] = todo.back();
    todo.pop_back();
    if (JSON_NODE_HOLDS_ARRAY(node)) {
      deepest = std::max(deepest, depth + 1);
      JsonArray *a = json_node_get_array(node);
      for (guint i = 0; i < json_array_get_length(a); ++i)
        todo.emplace_back(json_array_get_element(a, i), depth + 1);
    } else if (JSON_NODE_HOLDS_OBJECT(node)) {
      deepest = std::max(deepest, depth + 1);
      JsonObjectIter it;
      JsonNode *member;
      json_object_iter_init(&it, json_node_get_object(node));
      while (json_object_iter_next(&it, nullptr, &member))
        todo.emplace_back(member, depth + 1);
    }
  }
  return deepest;
}

void check_depth(const char *data, size_t size)
{
  const unsigned full = pt::json_depth(data, size, UINT_MAX);
  for (unsigned limit : {0u, 1u, 2u, pt::kMaxJsonDepth, static_cast<unsigned>(size % 97)}) {
    const unsigned d = pt::json_depth(data, size, limit);
    FUZZ_CHECK(d == (full <= limit ? full : limit + 1),
               "json_depth(limit " + std::to_string(limit) + ") = " + std::to_string(d) +
                   ", without a limit " + std::to_string(full));
  }
  std::string error, detail;
  JsonNode *root = pt::parse_json_limited(data, size, &error, &detail);
  if (!root) {
    FUZZ_CHECK(!error.empty(), "parse_json_limited() failed without an error");
    FUZZ_CHECK_UTF8(error, "parse_json_limited()'s error");
    FUZZ_CHECK_UTF8(detail, "parse_json_limited()'s detail");
    return;
  }
  const unsigned real = tree_depth(root);
  FUZZ_CHECK((real <= pt::kMaxJsonDepth && real <= full),
             "json-glib parsed a tree " + std::to_string(real) + " deep where json_depth() saw " +
                 std::to_string(full) + " (limit " + std::to_string(pt::kMaxJsonDepth) +
                 "): " + fuzz_hex(std::string(data, size), 200));

  /* Every typed accessor on every member of an object. */
  if (JSON_NODE_HOLDS_OBJECT(root)) {
    GList *names = json_object_get_members(json_node_get_object(root));
    int n = 0;
    for (GList *l = names; l && n < 16; l = l->next, ++n) {
      const char *name = static_cast<const char *>(l->data);
      pt::JsonFields f(root, "Fuzz answer");
      JsonNode *node = f.member(name);
      const bool is_string =
          node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING;
      const bool is_bool =
          node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_BOOLEAN;
      if (auto s = f.string(name)) {
        FUZZ_CHECK(is_string, "string() of a member that is not one");
        FUZZ_CHECK_UTF8(*s, "string()");
        FUZZ_CHECK(s->size() <= pt::kMaxTextBytes, "string() longer than kMaxTextBytes");
      }
      FUZZ_CHECK(f.ok() == (!node || is_string), "string()'s error: " + f.error());
      pt::JsonFields g(root, "Fuzz answer");
      if (auto b = g.boolean(name))
        FUZZ_CHECK(is_bool, "boolean() of a member that is not one");
      FUZZ_CHECK(g.ok() == (!node || is_bool), "boolean()'s error: " + g.error());
      pt::JsonFields h(root, "Fuzz answer");
      if (auto v = h.number(name))
        FUZZ_CHECK(std::isfinite(*v), "number() not finite");
      if (auto v = h.integer(name))
        (void)v;
      if (auto v = h.time(name))
        FUZZ_CHECK(*v != pt::kNoTime, "time() is kNoTime");
      (void)h.object(name);
      (void)h.array(name);
      /* The errors quote the member's name: the code reads names it knows,
       * but here they come from the input, where json-glib lets a lone
       * surrogate (\ud800) through as invalid UTF-8. */
      if (g_utf8_validate(name, -1, nullptr))
        FUZZ_CHECK_UTF8(h.error(), "an accessor's error");
      FUZZ_CHECK(f.error().find(name) != std::string::npos || f.ok(),
                 "the error does not name the member: " + f.error());
    }
    g_list_free(names);
  }
  json_node_unref(root);
}

void check_text(const uint8_t *data, size_t size)
{
  /* clean_text() takes C strings: the input up to its first NUL. */
  const std::string c_string(reinterpret_cast<const char *>(data),
                             strnlen(reinterpret_cast<const char *>(data), size));
  gchar *valid = g_utf8_make_valid(c_string.c_str(), static_cast<gssize>(c_string.size()));
  const std::string whole(valid);
  g_free(valid);
  for (size_t max : {pt::kMaxTextBytes, size / 2, size % 13, size_t(0), size_t(1)}) {
    const std::string out = pt::clean_text(c_string.c_str(), max);
    FUZZ_CHECK_UTF8(out, "clean_text()");
    FUZZ_CHECK(out.size() <= max, "clean_text() longer than " + std::to_string(max));
    FUZZ_CHECK(whole.compare(0, out.size(), out) == 0, "clean_text() is not a prefix of the text");
    if (whole.size() <= max) {
      FUZZ_CHECK(out == whole, "clean_text() cut a text that fits");
    } else {
      /* cut at the last character boundary at or before max */
      const char *next = g_utf8_next_char(whole.c_str() + out.size());
      FUZZ_CHECK(static_cast<size_t>(next - whole.c_str()) > max,
                 "clean_text() cut more than it had to: " + std::to_string(out.size()) + " of " +
                     std::to_string(max));
    }
  }
  FUZZ_CHECK(pt::clean_text(nullptr).empty(), "clean_text(nullptr)");

  for (size_t max : {size_t(200), size / 3, size_t(0)}) {
    const std::string q = pt::quote_excerpt(reinterpret_cast<const char *>(data), size, max);
    FUZZ_CHECK_UTF8(q, "quote_excerpt()");
    /* each byte kept may become U+FFFD (3 bytes), then "…" */
    FUZZ_CHECK(
        q.size() <= 3 * std::min(size, max) + 3,
        "quote_excerpt() of " + std::to_string(max) + " bytes is " + std::to_string(q.size()));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  check_depth(reinterpret_cast<const char *>(data), size);
  check_text(data, size);
  return 0;
}
