// SPDX-License-Identifier: LGPL-2.1-or-later
/* Reading what the services send, defensively.
 *
 * parse_json_limited() refuses JSON nested deeper than kMaxJsonDepth before
 * json-glib (a recursive parser) sees it, so that a hostile answer cannot
 * overflow the I/O thread's stack.  JsonFields reads an object's members
 * with a type check each: a member of the wrong type is never a crash and
 * never a GLib critical, but an error that names the member.  Text is
 * always valid UTF-8 (invalid bytes are replaced) and bounded in size. */
#pragma once

#include <json-glib/json-glib.h>

#include <cstdint>
#include <optional>
#include <string>

#include "answer_bytes.h"

namespace pt {

constexpr unsigned kMaxJsonDepth = 64;
/* Longest text taken from one field (a segment's text): longer is cut at a
 * character boundary. */
constexpr size_t kMaxTextBytes = 64 * 1024;

struct JsonScan {
  /* Depth of the deepest array or object, strings and comments skipped;
   * counting stops past the limit. */
  unsigned depth = 0;
  /* Why the text is refused before json-glib sees it ("a comment", "a
   * single-quoted string", an invalid escape or an unpaired UTF-16
   * surrogate): where json-glib's scanner reads differently from strict
   * JSON.  The scan stopped there. */
  const char *refused = nullptr;
};

/* Scans data the way json-glib's scanner does, linearly, without
 * recursion and without building anything. */
JsonScan json_scan(const char *data, size_t len, unsigned limit);
/* The same over MemoryBytes or FileBytes (answer_bytes.h) */
template <class Bytes> JsonScan json_scan(const Bytes &d, unsigned limit);
inline unsigned json_depth(const char *data, size_t len, unsigned limit)
{
  return json_scan(data, len, limit).depth;
}

/* Parses data as JSON, refusing it when deeper than kMaxJsonDepth.  The
 * root (owned: json_node_unref), or null with *error for a person ("not
 * JSON", "JSON nested deeper than 64 levels") and the parser's own words in
 * *detail when given. */
JsonNode *parse_json_limited(const char *data, size_t len, std::string *error,
                             std::string *detail = nullptr);

/* The JSON text b built (b is consumed). */
std::string json_builder_text(JsonBuilder *b);

/* Valid UTF-8, at most max_bytes (cut at a character boundary). */
std::string clean_text(const char *text, size_t max_bytes = kMaxTextBytes);

class JsonFields {
 public:
  /* what names the object in errors: "Harf reply", "Nevisa progress" ... */
  JsonFields(JsonNode *node, std::string what);

  bool is_object() const { return object_ != nullptr; }
  bool has(const char *name) const;
  /* Null when absent or JSON null. */
  JsonNode *member(const char *name) const;

  /* Each returns nullopt when the member is absent or null; a member of
   * another type also records an error (see error()). */
  std::optional<std::string> string(const char *name);
  /* A number; a numeric string is accepted too. */
  std::optional<double> number(const char *name);
  /* An integer in int64 range: an integral number or a numeric string. */
  std::optional<int64_t> integer(const char *name);
  std::optional<bool> boolean(const char *name);
  /* A time: a timedelta string ("0:00:05.2") or seconds as a number; ns. */
  std::optional<uint64_t> time(const char *name);
  /* The member as an object or array; null (and an error if present). */
  JsonNode *object(const char *name);
  JsonArray *array(const char *name);

  /* The first type error, naming the member ("Harf reply: \"start\" is a
   * boolean, expected a time"); empty when none. */
  const std::string &error() const { return error_; }
  bool ok() const { return error_.empty(); }

 private:
  void wrong(const char *name, JsonNode *node, const char *expected);

  JsonObject *object_ = nullptr;
  std::string what_;
  std::string error_;
};

/* "a string", "a number", "an array", ... for messages. */
const char *json_type_name(JsonNode *node);

}  // namespace pt
