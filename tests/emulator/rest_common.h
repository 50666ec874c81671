// SPDX-License-Identifier: LGPL-2.1-or-later
// What the REST services share: a JSON writer, answers, the request, transcripts of uploads.
#pragma once

#include "emulator.h"

#include <libsoup/soup.h>

#include <string>
#include <utility>
#include <vector>

#include "audio_analyzer.h"
#include "request_body.h"

namespace emu {
namespace detail {

constexpr guint kStatusTooManyRequests = 429;  // not in libsoup's enum

// Compact JSON like Django REST Framework's renderer (UTF-8 kept as is). json-glib
// would print 0.9 as 0.90000000000000002; numbers here keep at most 2 decimals.
class JsonWriter {
 public:
  JsonWriter &begin_object() { return open('{'); }
  JsonWriter &end_object() { return close('}'); }
  JsonWriter &begin_array() { return open('['); }
  JsonWriter &end_array() { return close(']'); }
  JsonWriter &key(const char *k)
  {
    separate();
    append_string(k);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  JsonWriter &string(const std::string &s)
  {
    value();
    append_string(s);
    return *this;
  }
  JsonWriter &integer(int64_t v)
  {
    value();
    out_ += std::to_string(v);
    return *this;
  }
  JsonWriter &number(double v);  // 2 decimals, trailing zeros dropped: 1.0, 0.9, 1.71
  JsonWriter &boolean(bool b)
  {
    value();
    out_ += b ? "true" : "false";
    return *this;
  }
  JsonWriter &null()
  {
    value();
    out_ += "null";
    return *this;
  }
  JsonWriter &raw(const std::string &json)  // a value written as is (fault switches)
  {
    value();
    out_ += json;
    return *this;
  }
  const std::string &str() const { return out_; }

 private:
  JsonWriter &open(char c)
  {
    value();
    out_ += c;
    first_.push_back(true);
    return *this;
  }
  JsonWriter &close(char c)
  {
    out_ += c;
    first_.pop_back();
    return *this;
  }
  void separate()
  {
    if (first_.empty())
      return;
    if (!first_.back())
      out_ += ',';
    first_.back() = false;
  }
  void value()
  {
    if (after_key_)
      after_key_ = false;
    else
      separate();
  }
  void append_string(const std::string &s);

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

std::string detail_body(const char *detail);
std::string field_error_body(const char *field, const std::string &message);
std::string state_body(const char *state);

std::string new_task_id();

// Faults in texts (invalid_utf8, lone_surrogate): the JSON string of text with raw 0xFF 0xFE
// bytes, or with the escape \udcff, appended.
std::string faulty_json_string(const std::string &text, const Options &o);

// A transcript line's words. Harf wraps uncertain words in [brackets] (a bracket
// may span several words); the words come back without the brackets.
struct Word {
  std::string text;
  bool uncertain = false;
};

std::vector<Word> split_words(const std::string &line);

// What the services make of an upload: segments with script lines.
struct TranscriptSegment {
  uint64_t start_ns = 0, end_ns = 0;
  std::string text;
};
struct Transcript {
  std::string media_url;
  uint64_t duration_ns = 0;
  std::vector<TranscriptSegment> segments;
};

// A 16-bit PCM WAV: the detected speech segments. Anything else: one segment per
// script line (at least one) of 3 s each. Texts: script lines from line 0.
Transcript make_transcript(const AudioAnalyzer::Result &audio, const std::string &name,
                           const Options &o);

// REST: what a service answers, and the request it answers.
struct Answer {
  guint status = SOUP_STATUS_OK;
  std::string body;
  const char *content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  unsigned delay_ms = 0;  // hold the answer back this long
  // > 0 (http_huge_body_bytes): the body sent is this long: `body` with a long string
  // inserted first, streamed in chunks (see huge_body_parts).
  uint64_t stream_bytes = 0;
};

// A huge body of n bytes (at least body's size) made from a JSON body: head, then `filler`
// bytes of 'x', then tail. {"a":1} becomes {"padding":"xxx...","a":1}; [1] becomes ["xxx...",1];
// anything else gets trailing spaces.
struct HugeBody {
  std::string head, tail;
  uint64_t filler = 0;
  char fill = 'x';
  uint64_t size() const { return head.size() + filler + tail.size(); }
};
HugeBody huge_body_parts(const std::string &body, uint64_t n);

Answer json_answer(guint status, std::string body);
Answer detail_answer(guint status, const char *detail);
Answer field_error(const char *field, const std::string &message);
Answer unauthorized(const char *detail);
Answer method_not_allowed(const std::string &method);
Answer unsupported_media(const std::string &type);
// Errors every endpoint reports the same way: a body too large or not parseable.
bool body_error(const RequestBody &b, Answer *a);

struct RestRequest {
  std::string method, path;
  const char *authorization = nullptr;  // header, may be null
  const RequestBody &body;
  RestRecord &record;  // services add task_id
};

}  // namespace detail
}  // namespace emu
