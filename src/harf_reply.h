// SPDX-License-Identifier: LGPL-2.1-or-later
/* One text message from Harf's live WebSocket, or one segment of a Harf
 * file result, parsed. */
#pragma once

#include <json-glib/json-glib.h>

#include <string>

#include "transcript.h"

namespace pt {

struct HarfReply {
  enum class Kind {
    Pending,   /* {"state":"PENDING"} or any JSON object without text */
    Segment,   /* any JSON object with "text" */
    Malformed, /* not JSON, or JSON that is not an object, or bad field types */
  };
  Kind kind = Kind::Malformed;
  Segment segment;   /* for Kind::Segment: id, raw_text, text, words, start, end */
  std::string state; /* "state" when present */
  std::string error; /* for Kind::Malformed: what was wrong, for a person */
};

/* Tolerant reader: times may be timedelta strings or numbers; a missing
 * start/end is 0 / start; segment_id may be a number or a numeric string. */
HarfReply parse_harf_reply(const char *data, size_t len);
/* The same for JSON already parsed: one segment of a Harf file result. */
HarfReply parse_harf_reply(JsonNode *node);

/* At most max_bytes of text, valid UTF-8, for quoting a bad body in a message. */
std::string quote_excerpt(const char *data, size_t len, size_t max_bytes = 200);

}  // namespace pt
