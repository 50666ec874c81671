// SPDX-License-Identifier: LGPL-2.1-or-later
#include "harf_reply.h"

#include "json_fields.h"

#include <json-glib/json-glib.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>

namespace pt {

std::string quote_excerpt(const char *data, size_t len, size_t max_bytes)
{
  size_t n = len < max_bytes ? len : max_bytes;
  /* Cut back to a character boundary and replace invalid bytes. */
  gchar *valid = g_utf8_make_valid(data, static_cast<gssize>(n));
  /* Replacement characters are longer than the bytes they replace: cut
   * again, at a character boundary, so the bound holds. */
  std::string out = clean_text(valid, max_bytes);
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
  JsonFields f(root, "Harf reply");
  if (!f.is_object()) {
    r.error = "JSON reply is not an object: " + excerpt();
    return r;
  }
  auto malformed = [&](const std::string &why) {
    r.kind = HarfReply::Kind::Malformed;
    r.error = why + ": " + excerpt();
    return r;
  };
  if (auto state = f.string("state"))
    r.state = *state;
  std::optional<std::string> text = f.string("text");
  if (!f.ok())
    return malformed(f.error());
  if (!text) {
    r.kind = HarfReply::Kind::Pending;
    return r;
  }
  Segment &seg = r.segment;
  seg.raw_text = *text;
  seg.start = f.time("start").value_or(0);
  std::optional<uint64_t> end = f.time("end");
  std::optional<int64_t> id = f.integer("segment_id");
  if (!f.ok())
    return malformed(f.error());
  seg.end = end.value_or(seg.start);
  if (seg.end < seg.start)
    return malformed("Harf reply: the segment ends before it starts");
  seg.id = id.value_or(-1);
  parse_uncertainty(seg);
  r.kind = HarfReply::Kind::Segment;
  return r;
}

}  // namespace

HarfReply parse_harf_reply(const char *data, size_t len)
{
  std::string error, detail;
  JsonNode *root = parse_json_limited(data, len, &error, &detail);
  if (!root) {
    HarfReply r;
    r.error = error + (detail.empty() ? "" : " (" + detail + ")") + ": " + quote_excerpt(data, len);
    return r;
  }
  HarfReply r = reply_from_node(root, [data, len] { return quote_excerpt(data, len); });
  json_node_unref(root);
  return r;
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
