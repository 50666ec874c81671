// SPDX-License-Identifier: LGPL-2.1-or-later
// Request bodies: the streaming multipart/form-data reader and the body's parts and fields.
#include "request_body.h"

#include <algorithm>
#include <functional>
#include <utility>

namespace emu {
namespace detail {

namespace {

constexpr size_t kMaxSmallBody = 1u << 20;   // non-multipart bodies kept for parsing
constexpr size_t kMaxFieldText = 64u << 10;  // text kept per non-file part
constexpr size_t kMaxPartHeaders = 16u << 10;

}  // namespace

// Streaming multipart/form-data reader (RFC 7578): part data is handed over as
// it arrives; only a delimiter's length of bytes is ever held back.
class MultipartReader {
 public:
  struct Callbacks {
    std::function<void(SoupMessageHeaders *)> begin;
    std::function<void(const uint8_t *, size_t)> data;
    std::function<void()> end;
  };

  MultipartReader(const std::string &boundary, Callbacks cb)
      : delim_("\r\n--" + boundary), buf_("\r\n"), cb_(std::move(cb))
  {
  }  // "\r\n": the first boundary has none

  void feed(const uint8_t *p, size_t n)
  {
    if (state_ == State::Epilogue || state_ == State::Failed)
      return;
    buf_.append(reinterpret_cast<const char *>(p), n);
    while (step()) {
    }
  }

  // After the last chunk: false (see error()) unless the closing boundary was seen.
  bool finish()
  {
    if (state_ == State::Body)
      cb_.end();
    if (state_ != State::Epilogue && state_ != State::Failed)
      fail("the body ended before the closing boundary");
    return state_ == State::Epilogue;
  }
  const std::string &error() const { return error_; }

 private:
  enum class State { Preamble, AfterBoundary, Headers, Body, Epilogue, Failed };

  bool fail(const char *why)
  {
    if (error_.empty())
      error_ = why;
    state_ = State::Failed;
    buf_.clear();
    return false;
  }
  void drop(size_t n) { buf_.erase(0, n); }
  size_t keep_back() const { return std::min(buf_.size(), delim_.size() - 1); }

  // One state transition; false when more input is needed.
  bool step()
  {
    switch (state_) {
      case State::Preamble: {
        const size_t pos = buf_.find(delim_);
        if (pos == std::string::npos) {
          drop(buf_.size() - keep_back());
          return false;
        }
        drop(pos + delim_.size());
        state_ = State::AfterBoundary;
        return true;
      }
      case State::AfterBoundary: {
        if (buf_.size() < 2)
          return false;
        if (buf_.compare(0, 2, "--") == 0) {
          state_ = State::Epilogue;
          buf_.clear();
          return false;
        }
        const size_t eol = buf_.find("\r\n");
        if (eol == std::string::npos)
          return buf_.size() > 256 ? fail("garbage after a boundary") : false;
        if (buf_.find_first_not_of(" \t") < eol)
          return fail("garbage after a boundary");
        drop(eol + 2);
        state_ = State::Headers;
        return true;
      }
      case State::Headers: {
        if (buf_.size() < 2)
          return false;
        size_t end = 0, skip = 2;  // a part without headers: just the empty line
        if (buf_.compare(0, 2, "\r\n") != 0) {
          end = buf_.find("\r\n\r\n");
          if (end == std::string::npos)
            return buf_.size() > kMaxPartHeaders ? fail("part headers too long") : false;
          skip = end + 4;
        }
        SoupMessageHeaders *h = soup_message_headers_new(SOUP_MESSAGE_HEADERS_MULTIPART);
        bool ok = true;
        for (size_t at = 0; at < end && ok;) {
          size_t eol = buf_.find("\r\n", at);
          if (eol == std::string::npos || eol > end)
            eol = end;
          const std::string line = buf_.substr(at, eol - at);
          const size_t colon = line.find(':');
          if (colon == std::string::npos || colon == 0) {
            ok = false;
          } else {
            g_autofree char *name = g_strstrip(g_strndup(line.c_str(), colon));
            g_autofree char *value = g_strstrip(g_strdup(line.c_str() + colon + 1));
            soup_message_headers_append(h, name, value);
          }
          at = eol + 2;
        }
        if (!ok) {
          soup_message_headers_unref(h);
          return fail("bad part header line");
        }
        drop(skip);
        state_ = State::Body;
        cb_.begin(h);
        soup_message_headers_unref(h);
        return true;
      }
      case State::Body: {
        const size_t pos = buf_.find(delim_);
        if (pos == std::string::npos) {
          const size_t n = buf_.size() - keep_back();
          if (n)
            cb_.data(reinterpret_cast<const uint8_t *>(buf_.data()), n);
          drop(n);
          return false;
        }
        if (pos)
          cb_.data(reinterpret_cast<const uint8_t *>(buf_.data()), pos);
        cb_.end();
        drop(pos + delim_.size());
        state_ = State::AfterBoundary;
        return true;
      }
      case State::Epilogue:
      case State::Failed:
        buf_.clear();
        return false;
    }
    return false;
  }

  const std::string delim_;
  std::string buf_;
  Callbacks cb_;
  State state_ = State::Preamble;
  std::string error_;
};

RequestBody::RequestBody(SoupMessageHeaders *headers, const Options &opts) : opts_(opts)
{
  GHashTable *params = nullptr;
  const char *type = soup_message_headers_get_content_type(headers, &params);
  media_type_ = type ? type : "";
  for (auto &c : media_type_)
    c = g_ascii_tolower(c);
  if (media_type_ == "multipart/form-data") {
    const char *boundary =
        params ? static_cast<const char *>(g_hash_table_lookup(params, "boundary")) : nullptr;
    if (boundary && *boundary)
      reader_ = std::make_unique<MultipartReader>(
          boundary,
          MultipartReader::Callbacks{[this](SoupMessageHeaders *h) { begin_part(h); },
                                     [this](const uint8_t *p, size_t n) { part_data(p, n); },
                                     [this] { end_part(); }});
    else
      multipart_error_ = "no boundary in the Content-Type";
  }
  if (params)
    g_hash_table_destroy(params);
}

RequestBody::~RequestBody() = default;

void RequestBody::feed(const uint8_t *p, size_t n)
{
  size_ += n;
  if (reader_) {
    reader_->feed(p, n);
  } else if (!too_large_) {
    if (raw_.size() + n > kMaxSmallBody) {
      too_large_ = true;
      raw_.clear();
      raw_.shrink_to_fit();
    } else {
      raw_.append(reinterpret_cast<const char *>(p), n);
    }
  }
}

void RequestBody::finish()
{
  if (finished_)
    return;
  finished_ = true;
  if (reader_ && !reader_->finish())
    multipart_error_ = reader_->error();
  if (too_large_ || reader_)
    return;
  if (media_type_ == "application/json") {
    json_.reset(json_parser_new());
    GError *error = nullptr;
    if (!json_parser_load_from_data(json_.get(), raw_.data(), gssize(raw_.size()), &error)) {
      json_error_ = error ? error->message : "empty body";
      g_clear_error(&error);
    } else if (!JSON_NODE_HOLDS_OBJECT(json_parser_get_root(json_.get()))) {
      json_error_ = "expected a JSON object";
    }
  } else if (media_type_ == "application/x-www-form-urlencoded") {
    parse_urlencoded();
  }
}

const ReceivedPart *RequestBody::file(const char *name) const
{
  for (const auto &p : parts_)
    if (p->is_file() && p->info.name == name)
      return p.get();
  return nullptr;
}

bool RequestBody::field(const char *name, std::string *value) const
{
  if (JsonObject *obj = json_object()) {
    JsonNode *node = json_object_get_member(obj, name);
    if (!node || !JSON_NODE_HOLDS_VALUE(node))
      return false;
    switch (json_node_get_value_type(node)) {
      case G_TYPE_STRING:
        *value = json_node_get_string(node);
        return true;
      case G_TYPE_BOOLEAN:
        *value = json_node_get_boolean(node) ? "true" : "false";
        return true;
      case G_TYPE_INT64:
        *value = std::to_string(json_node_get_int(node));
        return true;
      default:
        return false;
    }
  }
  for (const auto &f : form_fields_)
    if (f.name == name) {
      *value = f.text;
      return true;
    }
  for (const auto &p : parts_)
    if (!p->is_file() && p->info.name == name) {
      *value = p->info.text;
      return true;
    }
  return false;
}

void RequestBody::begin_part(SoupMessageHeaders *h)
{
  auto part = std::make_unique<ReceivedPart>(opts_);
  char *disposition = nullptr;
  GHashTable *params = nullptr;
  if (soup_message_headers_get_content_disposition(h, &disposition, &params)) {
    if (const auto *name = static_cast<const char *>(g_hash_table_lookup(params, "name")))
      part->info.name = name;
    gpointer filename = nullptr;
    if (g_hash_table_lookup_extended(params, "filename", nullptr, &filename)) {
      part->has_filename = true;
      part->info.filename = filename ? static_cast<const char *>(filename) : "";
    }
    g_free(disposition);
    g_hash_table_destroy(params);
  }
  if (const char *type = soup_message_headers_get_one(h, "Content-Type"))
    part->info.content_type = type;
  parts_.push_back(std::move(part));
}

void RequestBody::part_data(const uint8_t *p, size_t n)
{
  ReceivedPart &part = *parts_.back();
  part.info.size += n;
  g_checksum_update(part.checksum, p, gssize(n));
  part.audio.feed(p, n);
  if (!part.is_file() && part.info.text.size() < kMaxFieldText)
    part.info.text.append(reinterpret_cast<const char *>(p),
                          std::min(n, kMaxFieldText - part.info.text.size()));
}

void RequestBody::end_part()
{
  ReceivedPart &part = *parts_.back();
  part.info.sha256 = g_checksum_get_string(part.checksum);
  g_checksum_free(std::exchange(part.checksum, nullptr));
  part.audio.finish();
  if (part.audio.is_riff())
    part.info.wav = part.audio.header();
}

void RequestBody::parse_urlencoded()
{
  g_auto(GStrv) pairs = g_strsplit(raw_.c_str(), "&", -1);
  for (char **p = pairs; *p; ++p) {
    if (!**p)
      continue;
    std::string pair = *p;
    std::replace(pair.begin(), pair.end(), '+', ' ');
    const size_t eq = pair.find('=');
    g_autofree char *name = g_uri_unescape_string(pair.substr(0, eq).c_str(), nullptr);
    g_autofree char *value =
        g_uri_unescape_string(eq == std::string::npos ? "" : pair.substr(eq + 1).c_str(), nullptr);
    FormPart f;
    f.name = name ? name : pair.substr(0, eq);
    f.text = value ? value : "";
    f.size = f.text.size();
    g_autofree char *sha =
        g_compute_checksum_for_string(G_CHECKSUM_SHA256, f.text.data(), gssize(f.text.size()));
    f.sha256 = sha;
    form_fields_.push_back(std::move(f));
  }
}

}  // namespace detail
}  // namespace emu
