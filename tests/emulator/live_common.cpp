// SPDX-License-Identifier: LGPL-2.1-or-later
// What the WebSocket services share: handshake faults, close budget, raw frames, WAV headers.
#include "live_common.h"

#include <json-glib/json-glib.h>

#include <algorithm>
#include <cstring>
#include <vector>

namespace emu {
namespace detail {

bool LiveFaults::handshake_fault(SoupServerMessage *msg, const char *path)
{
  const Options &o = opts_;
  if (o.handshake_status <= 0 ||
      (o.handshake_fail_count > 0 && failed_handshakes_ >= o.handshake_fail_count))
    return false;
  ++failed_handshakes_;
  const guint status = guint(o.handshake_status);
  g_info("handshake %d on %s refused with %u, as asked", failed_handshakes_, path, status);
  SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
  if (!o.retry_after.empty())
    soup_message_headers_replace(h, "Retry-After", o.retry_after.c_str());
  soup_server_message_set_status(msg, status, reason_phrase(status));
  if (status >= 500) {
    soup_server_message_set_response(msg, "text/html; charset=utf-8", SOUP_MEMORY_STATIC,
                                     kServerErrorHtml, strlen(kServerErrorHtml));
  } else {
    const char *phrase = reason_phrase(status);
    const std::string body = detail_json(status == 429 ? "Request was throttled."
                                         : phrase      ? phrase
                                                       : soup_status_get_phrase(status));
    soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, body.data(),
                                     body.size());
  }
  return true;
}

bool LiveFaults::take_forced_close()
{
  if (opts_.close_count > 0 && forced_closes_ >= opts_.close_count)
    return false;
  ++forced_closes_;
  return true;
}

std::string detail_json(const char *detail)
{
  GObjectPtr<JsonBuilder> b(json_builder_new());
  json_builder_begin_object(b.get());
  json_builder_set_member_name(b.get(), "detail");
  json_builder_add_string_value(b.get(), detail);
  json_builder_end_object(b.get());
  g_autoptr(JsonNode) root = json_builder_get_root(b.get());
  g_autofree char *text = json_to_string(root, FALSE);
  return text;
}

void respond_detail(SoupServerMessage *msg, guint status, const char *detail)
{
  const std::string body = detail_json(detail);
  soup_server_message_set_status(msg, status, nullptr);
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, body.data(),
                                   body.size());
}

bool libsoup_sends_close_code(int code)
{
  switch (code) {
    case 1000:
    case 1001:
    case 1002:
    case 1003:
    case 1005:
    case 1007:
    case 1008:
    case 1009:
    case 1011:
      return true;
    default:
      return code >= 3000 && code < 5000;
  }
}

std::string ws_frame(uint8_t opcode, const std::string &payload)
{
  std::string f(1, char(0x80 | opcode));
  const uint64_t n = payload.size();
  if (n < 126) {
    f += char(n);
  } else if (n < 65536) {
    f += char(126), f += char(n >> 8), f += char(n & 0xFF);
  } else {
    f += char(127);
    for (int i = 7; i >= 0; --i)
      f += char((n >> (8 * i)) & 0xFF);
  }
  return f + payload;
}

GSocket *websocket_socket(SoupServerMessage *msg, SoupWebsocketConnection *conn)
{
  GSocket *socket = soup_server_message_get_socket(msg);
  if (!socket)  // libsoup also keeps it on the stolen stream
    socket = static_cast<GSocket *>(
        g_object_get_data(G_OBJECT(soup_websocket_connection_get_io_stream(conn)), "GSocket"));
  return socket;
}

bool write_raw(SoupWebsocketConnection *conn, const std::string &bytes, GError **error)
{
  GOutputStream *out = g_io_stream_get_output_stream(soup_websocket_connection_get_io_stream(conn));
  gsize written = 0;
  if (!g_output_stream_write_all(out, bytes.data(), bytes.size(), &written, nullptr, error))
    return written > 0;
  return true;
}

bool forced_close(SoupWebsocketConnection *conn, GSocket *socket, gushort code)
{
  if (libsoup_sends_close_code(code) || !socket) {
    if (soup_websocket_connection_get_state(conn) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(conn, code, nullptr);
    return false;
  }
  const std::string payload{char(code >> 8), char(code & 0xFF)};
  GError *error = nullptr;
  if (!write_raw(conn, ws_frame(0x8, payload), &error) || error) {
    g_info("raw close frame (%u): %s", code, error ? error->message : "not written");
    g_clear_error(&error);
  }
  g_socket_shutdown(socket, TRUE, TRUE, nullptr);  // libsoup reads EOF and closes
  return true;
}

WavHeader parse_wav_header(const uint8_t *p, size_t n)
{
  WavHeader h;
  if (n < kWavHeaderSize) {
    h.error = "short header: first binary message has " + std::to_string(n) + " bytes, need 44";
    return h;
  }
  if (memcmp(p, "RIFF", 4) != 0 || memcmp(p + 8, "WAVE", 4) != 0) {
    h.error = "not a RIFF/WAVE header";
    return h;
  }
  h.riff_size = le32(p + 4);
  if (memcmp(p + 12, "fmt ", 4) != 0 || le32(p + 16) != 16) {
    h.error = "expected a 16-byte \"fmt \" chunk at offset 12";
    return h;
  }
  h.audio_format = le16(p + 20);
  h.channels = le16(p + 22);
  h.rate = le32(p + 24);
  h.bits = le16(p + 34);
  if (memcmp(p + 36, "data", 4) != 0) {
    h.error = "expected the \"data\" chunk at offset 36";
    return h;
  }
  h.data_size = le32(p + 40);
  if (h.audio_format != 1)
    h.error = "audio format " + std::to_string(h.audio_format) + " is not PCM (1)";
  else if (h.bits != 16)
    h.error = std::to_string(h.bits) + " bits per sample; only 16 is supported";
  else if (h.channels < 1 || h.channels > 16)
    h.error = std::to_string(h.channels) + " channels";
  else if (h.rate < 1000 || h.rate > 384000)
    h.error = "sample rate " + std::to_string(h.rate);
  else if (le32(p + 28) != h.rate * h.channels * 2u || le16(p + 32) != h.channels * 2u)
    h.error = "byte rate or block align does not match the format";
  h.valid = h.error.empty();
  return h;
}

std::string first_words(const std::string &line, unsigned k)
{
  std::vector<std::string> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
      ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t')
      ++j;
    if (j > i)
      words.push_back(line.substr(i, j - i));
    i = j;
  }
  if (words.empty())
    return line;
  std::string out;
  for (size_t w = 0; w < std::min<size_t>(k, words.size()); ++w)
    out += (w ? " " : "") + words[w];
  return out;
}

}  // namespace detail
}  // namespace emu
