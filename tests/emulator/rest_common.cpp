// SPDX-License-Identifier: LGPL-2.1-or-later
// What the REST services share: JSON writing, answers, transcript words and segments.
#include "rest_common.h"

namespace emu {
namespace detail {

namespace {

constexpr uint64_t kNonWavSegmentNs = 3000000000ull;  // non-WAV uploads: one script line per 3 s

std::string script_line(const Options &o, size_t i)
{
  const std::string &line = i < o.script.size() ? o.script[i] : std::string(kPlaceholder);
  g_autofree char *valid = g_utf8_make_valid(line.c_str(), -1);
  return valid;
}

}  // namespace

JsonWriter &JsonWriter::number(double v)
{
  value();
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  std::string s = g_ascii_formatd(buf, sizeof buf, "%.2f", v);
  while (s.size() > 3 && s.back() == '0' && s[s.size() - 2] != '.')
    s.pop_back();
  out_ += s;
  return *this;
}

void JsonWriter::append_string(const std::string &s)
{
  out_ += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\r':
        out_ += "\\r";
        break;
      case '\t':
        out_ += "\\t";
        break;
      default:
        if (c < 0x20) {
          char esc[8];
          g_snprintf(esc, sizeof esc, "\\u%04x", c);
          out_ += esc;
        } else {
          out_ += char(c);
        }
    }
  }
  out_ += '"';
}

std::string detail_body(const char *detail)
{
  return JsonWriter().begin_object().key("detail").string(detail).end_object().str();
}
std::string field_error_body(const char *field, const std::string &message)
{
  return JsonWriter()
      .begin_object()
      .key(field)
      .begin_array()
      .string(message)
      .end_array()
      .end_object()
      .str();
}
std::string state_body(const char *state)
{
  return JsonWriter().begin_object().key("state").string(state).end_object().str();
}

std::string faulty_json_string(const std::string &text, const Options &o)
{
  std::string s = JsonWriter().string(o.invalid_utf8 ? text + " \xFF\xFE" : text).str();
  if (o.lone_surrogate)
    s.insert(s.size() - 1, " \\udcff");
  return s;
}

HugeBody huge_body_parts(const std::string &body, uint64_t n)
{
  HugeBody h;
  if (!body.empty() && (body[0] == '{' || body[0] == '[')) {
    const bool object = body[0] == '{';
    const std::string rest = body.substr(1);
    const bool empty = rest == (object ? "}" : "]");
    h.head = object ? "{\"padding\":\"" : "[\"";
    h.tail = std::string("\"") + (empty ? "" : ",") + rest;
  } else {
    h.head = body;
    h.fill = ' ';
  }
  const uint64_t fixed = h.head.size() + h.tail.size();
  h.filler = n > fixed ? n - fixed : 0;
  return h;
}

std::string new_task_id()
{
  g_autofree char *uuid = g_uuid_string_random();
  return uuid;
}

std::vector<Word> split_words(const std::string &line)
{
  std::vector<Word> out;
  bool in_brackets = false;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && g_ascii_isspace(line[i]))
      ++i;
    size_t j = i;
    while (j < line.size() && !g_ascii_isspace(line[j]))
      ++j;
    Word w;
    w.uncertain = in_brackets;
    for (size_t k = i; k < j; ++k) {
      if (line[k] == '[') {
        in_brackets = w.uncertain = true;
      } else if (line[k] == ']') {
        in_brackets = false;
      } else {
        w.text += line[k];
      }
    }
    if (!w.text.empty())
      out.push_back(std::move(w));
    i = j;
  }
  return out;
}

Transcript make_transcript(const AudioAnalyzer::Result &audio, const std::string &name,
                           const Options &o)
{
  Transcript t;
  t.media_url = name;
  if (audio.pcm) {
    for (size_t i = 0; i < audio.segments_ns.size(); ++i)
      t.segments.push_back(
          {audio.segments_ns[i].first, audio.segments_ns[i].second, script_line(o, i)});
    t.duration_ns = audio.duration_ns;
  } else {
    const size_t n = std::max<size_t>(1, o.script.size());
    for (size_t i = 0; i < n; ++i)
      t.segments.push_back({i * kNonWavSegmentNs, (i + 1) * kNonWavSegmentNs, script_line(o, i)});
    t.duration_ns = n * kNonWavSegmentNs;
  }
  return t;
}

Answer json_answer(guint status, std::string body)
{
  Answer a;
  a.status = status;
  a.body = std::move(body);
  return a;
}
Answer detail_answer(guint status, const char *detail)
{
  return json_answer(status, detail_body(detail));
}
Answer field_error(const char *field, const std::string &message)
{
  return json_answer(SOUP_STATUS_BAD_REQUEST, field_error_body(field, message));
}
Answer unauthorized(const char *detail)
{
  Answer a = detail_answer(SOUP_STATUS_UNAUTHORIZED, detail);
  a.headers.emplace_back("WWW-Authenticate", "Token");
  return a;
}
Answer method_not_allowed(const std::string &method)
{
  return detail_answer(SOUP_STATUS_METHOD_NOT_ALLOWED,
                       ("Method \"" + method + "\" not allowed.").c_str());
}
Answer unsupported_media(const std::string &type)
{
  return detail_answer(SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
                       ("Unsupported media type \"" + type + "\" in request.").c_str());
}
// Errors every endpoint reports the same way: a body too large or not parseable.
bool body_error(const RequestBody &b, Answer *a)
{
  if (b.too_large())
    *a = detail_answer(SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE,
                       "Request body too large (use multipart/form-data).");
  else if (b.is_multipart() && !b.multipart_error().empty())
    *a = detail_answer(SOUP_STATUS_BAD_REQUEST,
                       ("Multipart form parse error - " + b.multipart_error()).c_str());
  else if (b.is_json() && !b.json_error().empty())
    *a = detail_answer(SOUP_STATUS_BAD_REQUEST, ("JSON parse error - " + b.json_error()).c_str());
  else
    return false;
  return true;
}

}  // namespace detail
}  // namespace emu
