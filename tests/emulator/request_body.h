// SPDX-License-Identifier: LGPL-2.1-or-later
// One REST request's body, streamed: multipart parts hashed and analysed, small bodies parsed.
#pragma once

#include "emulator.h"

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <memory>
#include <string>
#include <vector>

#include "audio_analyzer.h"
#include "emulator_internal.h"

namespace emu {
namespace detail {

// One REST request's body, read chunk by chunk (from the server's got-chunk
// signal). Multipart parts are hashed, analysed as audio and (text parts) kept
// short; other bodies are kept whole up to kMaxSmallBody and parsed at the end.
struct ReceivedPart {
  explicit ReceivedPart(const Options &o) : audio(o), checksum(g_checksum_new(G_CHECKSUM_SHA256)) {}
  ~ReceivedPart()
  {
    if (checksum)
      g_checksum_free(checksum);
  }
  ReceivedPart(const ReceivedPart &) = delete;
  ReceivedPart &operator=(const ReceivedPart &) = delete;
  bool is_file() const { return has_filename; }

  FormPart info;
  bool has_filename = false;
  AudioAnalyzer audio;
  GChecksum *checksum;  // until the part ends
};

class MultipartReader;

class RequestBody {
 public:
  RequestBody(SoupMessageHeaders *headers, const Options &opts);
  ~RequestBody();

  void feed(const uint8_t *p, size_t n);
  // After the last chunk: closes the multipart stream, parses JSON or urlencoded bodies.
  void finish();

  const std::string &media_type() const { return media_type_; }
  bool is_multipart() const { return media_type_ == "multipart/form-data"; }
  bool is_json() const { return media_type_ == "application/json"; }
  bool too_large() const { return too_large_; }
  uint64_t size() const { return size_; }
  const std::string &raw() const { return raw_; }
  const std::string &multipart_error() const { return multipart_error_; }
  const std::string &json_error() const { return json_error_; }
  JsonObject *json_object() const
  {
    return json_ && json_error_.empty() ? json_node_get_object(json_parser_get_root(json_.get()))
                                        : nullptr;
  }
  const std::vector<std::unique_ptr<ReceivedPart>> &parts() const { return parts_; }
  const std::vector<FormPart> &form_fields() const { return form_fields_; }

  // The first uploaded file (a multipart part with a filename) named `name`.
  const ReceivedPart *file(const char *name) const;
  // A text field: a JSON member (strings, numbers and booleans as text), an
  // urlencoded field or a multipart part without a filename.
  bool field(const char *name, std::string *value) const;

 private:
  void begin_part(SoupMessageHeaders *h);
  void part_data(const uint8_t *p, size_t n);
  void end_part();
  void parse_urlencoded();

  const Options &opts_;
  std::string media_type_;
  std::unique_ptr<MultipartReader> reader_;
  std::vector<std::unique_ptr<ReceivedPart>> parts_;
  std::vector<FormPart> form_fields_;
  std::string raw_, multipart_error_, json_error_;
  GObjectPtr<JsonParser> json_;
  uint64_t size_ = 0;
  bool too_large_ = false, finished_ = false;
};

}  // namespace detail
}  // namespace emu
