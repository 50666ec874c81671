// SPDX-License-Identifier: LGPL-2.1-or-later
#include "harf_reply.h"

#include <json-glib/json-glib.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>

namespace pt {

namespace {

struct GObjectUnref {
  void operator()(gpointer p) const { g_object_unref(p); }
};

/* A JSON time value: string (timedelta or seconds) or number (seconds). */
bool read_time(JsonObject *obj, const char *name, uint64_t *out, std::string *err)
{
  if (!json_object_has_member(obj, name))
    return false;
  JsonNode *node = json_object_get_member(obj, name);
  if (JSON_NODE_HOLDS_VALUE(node)) {
    GType t = json_node_get_value_type(node);
    if (t == G_TYPE_STRING) {
      auto v = parse_time_value(json_node_get_string(node));
      if (v) {
        *out = *v;
        return true;
      }
    } else if (t == G_TYPE_INT64 || t == G_TYPE_DOUBLE) {
      auto v = seconds_to_ns(json_node_get_double(node));
      if (v) {
        *out = *v;
        return true;
      }
    }
  }
  *err = std::string("unreadable time in \"") + name + "\"";
  return false;
}

bool read_id(JsonObject *obj, int64_t *out)
{
  if (!json_object_has_member(obj, "segment_id"))
    return false;
  JsonNode *node = json_object_get_member(obj, "segment_id");
  if (!JSON_NODE_HOLDS_VALUE(node))
    return false;
  GType t = json_node_get_value_type(node);
  if (t == G_TYPE_INT64) {
    *out = json_node_get_int(node);
    return true;
  }
  if (t == G_TYPE_DOUBLE) {
    *out = static_cast<int64_t>(json_node_get_double(node));
    return true;
  }
  if (t == G_TYPE_STRING) {
    const char *s = json_node_get_string(node);
    char *end = nullptr;
    long long v = std::strtoll(s, &end, 10);
    if (end != s && *end == '\0') {
      *out = v;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string quote_excerpt(const char *data, size_t len, size_t max_bytes)
{
  size_t n = len < max_bytes ? len : max_bytes;
  /* Cut back to a character boundary and replace invalid bytes. */
  gchar *valid = g_utf8_make_valid(data, static_cast<gssize>(n));
  std::string out(valid);
  g_free(valid);
  if (len > max_bytes)
    out += "…";
  return out;
}

namespace {

/* excerpt: the reply as text, for error messages; made only when needed. */
HarfReply reply_from_node(JsonNode *root, const std::function<std::string()> &excerpt)
{
  HarfReply r;
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
    r.error = "JSON reply is not an object: " + excerpt();
    return r;
  }
  JsonObject *obj = json_node_get_object(root);
  if (json_object_has_member(obj, "state")) {
    JsonNode *s = json_object_get_member(obj, "state");
    if (JSON_NODE_HOLDS_VALUE(s) && json_node_get_value_type(s) == G_TYPE_STRING)
      r.state = json_node_get_string(s);
  }
  if (!json_object_has_member(obj, "text")) {
    r.kind = HarfReply::Kind::Pending;
    return r;
  }
  JsonNode *text = json_object_get_member(obj, "text");
  if (JSON_NODE_HOLDS_NULL(text)) {
    r.kind = HarfReply::Kind::Pending;
    return r;
  }
  if (!JSON_NODE_HOLDS_VALUE(text) || json_node_get_value_type(text) != G_TYPE_STRING) {
    r.error = "\"text\" is not a string: " + excerpt();
    return r;
  }
  const char *t = json_node_get_string(text);
  if (!g_utf8_validate(t, -1, nullptr)) {
    r.error = "\"text\" is not valid UTF-8";
    return r;
  }
  Segment &seg = r.segment;
  seg.raw_text = t;
  std::string terr;
  uint64_t v = 0;
  if (read_time(obj, "start", &v, &terr))
    seg.start = v;
  else if (!terr.empty()) {
    r.error = terr + ": " + excerpt();
    return r;
  }
  seg.end = seg.start;
  if (read_time(obj, "end", &v, &terr))
    seg.end = v < seg.start ? seg.start : v;
  else if (!terr.empty()) {
    r.error = terr + ": " + excerpt();
    return r;
  }
  read_id(obj, &seg.id);
  parse_uncertainty(seg);
  r.kind = HarfReply::Kind::Segment;
  return r;
}

}  // namespace

HarfReply parse_harf_reply(const char *data, size_t len)
{
  std::unique_ptr<JsonParser, GObjectUnref> parser(json_parser_new());
  GError *err = nullptr;
  if (!json_parser_load_from_data(parser.get(), data, static_cast<gssize>(len), &err)) {
    HarfReply r;
    r.error =
        std::string("not JSON (") + (err ? err->message : "?") + "): " + quote_excerpt(data, len);
    g_clear_error(&err);
    return r;
  }
  return reply_from_node(json_parser_get_root(parser.get()),
                         [data, len] { return quote_excerpt(data, len); });
}

HarfReply parse_harf_reply(JsonNode *node)
{
  return reply_from_node(node, [node] {
    gchar *s = json_to_string(node, FALSE);
    std::string out = quote_excerpt(s, strlen(s));
    g_free(s);
    return out;
  });
}

}  // namespace pt
