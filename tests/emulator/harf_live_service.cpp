// SPDX-License-Identifier: LGPL-2.1-or-later
// Harf live: the WebSocket endpoint and its sessions (WAV header, speech segments, replies).
#include "harf_live_service.h"

#include <json-glib/json-glib.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <string>
#include <utility>

#include "speech_detector.h"

namespace emu {
namespace detail {

namespace {

constexpr char kPending[] = "{\"state\": \"PENDING\"}";
constexpr char kMalformed[] = "{\"state\": PENDING";
constexpr size_t kWavHeaderSize = 44;
constexpr guint kMaxPayload = 16u << 20;

// The canonical 44-byte header: RIFF/WAVE, a 16-byte "fmt " chunk, then "data".
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

std::string segment_json(const SentSegment &s)
{
  GObjectPtr<JsonBuilder> b(json_builder_new());
  json_builder_begin_object(b.get());
  json_builder_set_member_name(b.get(), "segment_id");
  json_builder_add_int_value(b.get(), s.id);
  json_builder_set_member_name(b.get(), "text");
  json_builder_add_string_value(b.get(), s.text.c_str());
  json_builder_set_member_name(b.get(), "start");
  json_builder_add_string_value(b.get(), s.start_str.c_str());
  json_builder_set_member_name(b.get(), "end");
  json_builder_add_string_value(b.get(), s.end_str.c_str());
  json_builder_end_object(b.get());
  g_autoptr(JsonNode) root = json_builder_get_root(b.get());
  GObjectPtr<JsonGenerator> gen(json_generator_new());
  json_generator_set_root(gen.get(), root);
  g_autofree char *text = json_generator_to_data(gen.get(), nullptr);
  return text;
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

}  // namespace

// Harf live: one WebSocket connection.
class HarfLiveSession {
 public:
  HarfLiveSession(HarfLiveService &svc, Core &core, size_t record, SoupWebsocketConnection *conn);
  ~HarfLiveSession();
  HarfLiveSession(const HarfLiveSession &) = delete;
  HarfLiveSession &operator=(const HarfLiveSession &) = delete;

  bool is_closed() const { return closed_; }
  void close(gushort code, const char *reason)
  {
    if (soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(conn_.get(), code, reason);
  }

 private:
  struct Outgoing {
    std::string text;
    bool is_segment = false;
    SentSegment seg{};
  };
  struct Batch {  // what one reply slot sends, after the delay
    gint64 due_us = 0;
    std::vector<Outgoing> items;
    bool finish = false;
    gushort close_code = 0;
  };

  static void message_cb(SoupWebsocketConnection *, gint type, GBytes *message, gpointer self);
  static void closed_cb(SoupWebsocketConnection *, gpointer self);
  static void error_cb(SoupWebsocketConnection *, GError *error, gpointer self);
  static gboolean timer_cb(gpointer self);

  void on_binary(const uint8_t *data, size_t n);
  void on_text(const std::string &text);
  void on_closed();
  Outgoing next_reply();
  Outgoing segment_reply(const SpeechDetector::Segment &seg, bool partial);
  void enqueue(Batch b);
  void deliver(const Batch &b);
  void arm_timer();
  template <typename F>
  void update(F &&f)
  {
    core_.update_record(record_, std::forward<F>(f));
  }

  HarfLiveService &svc_;
  Core &core_;
  const Options &opts_;
  const size_t record_;
  const unsigned serial_;  // 1-based, for log lines
  GObjectPtr<SoupWebsocketConnection> conn_;
  std::unique_ptr<SpeechDetector> detector_;
  size_t n_binary_ = 0;
  bool finalize_seen_ = false, closing_ = false, closed_ = false;
  uint64_t partial_index_ = UINT64_MAX;
  unsigned partial_count_ = 0;
  std::deque<Batch> queue_;
  SourcePtr timer_;
};

HarfLiveService::HarfLiveService(Core &core, SoupServer *server) : core_(core), server_(server)
{
  for (const char *path : kHarfLivePaths) {
    soup_server_add_handler(server_, path, http_cb, this, nullptr);
    soup_server_add_websocket_handler(server_, path, nullptr, nullptr, websocket_cb, this, nullptr);
  }
}

HarfLiveService::~HarfLiveService()
{
  for (const char *path : kHarfLivePaths)
    soup_server_remove_handler(server_, path);
  sessions_.clear();
}

void HarfLiveService::close_all(gushort code, const char *reason)
{
  for (auto &s : sessions_)
    s->close(code, reason);
}

size_t HarfLiveService::open_count() const
{
  return size_t(std::count_if(sessions_.begin(), sessions_.end(),
                              [](const auto &s) { return !s->is_closed(); }));
}

void HarfLiveService::http_cb(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
                              gpointer self)
{
  guarded("harf-live handshake", [&] { static_cast<HarfLiveService *>(self)->on_http(msg, path); });
}

void HarfLiveService::websocket_cb(SoupServer *, SoupServerMessage *msg, const char *path,
                                   SoupWebsocketConnection *conn, gpointer self)
{
  guarded("harf-live connect",
          [&] { static_cast<HarfLiveService *>(self)->on_websocket(msg, path, conn); });
}

void HarfLiveService::on_http(SoupServerMessage *msg, const char *path)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers(msg);
  if (std::none_of(std::begin(kHarfLivePaths), std::end(kHarfLivePaths),
                   [&](const char *p) { return g_strcmp0(p, path) == 0; })) {
    respond_error(msg, SOUP_STATUS_NOT_FOUND, "Not found.");
    return;
  }
  if (soup_message_headers_header_contains(req, "Upgrade", "websocket"))
    core_.count_handshake();
  if (core_.opts.reject_token ||
      !token_authorized(core_.opts.token, soup_message_headers_get_one(req, "Authorization"))) {
    g_info("request on %s rejected: 401", path);
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "WWW-Authenticate",
                                 "Token");
    respond_error(msg, SOUP_STATUS_UNAUTHORIZED, "Invalid token.");
  }
  // No status set: libsoup validates the WebSocket handshake next (400 if it is not one).
}

void HarfLiveService::on_websocket(SoupServerMessage *msg, const char *path,
                                   SoupWebsocketConnection *conn)
{
  const char *auth =
      soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
  SessionRecord rec;
  rec.authorization = auth ? auth : "";
  const size_t index = core_.add_record(std::move(rec));
  sessions_.push_back(std::make_unique<HarfLiveSession>(*this, core_, index, conn));
  g_info("session %zu: connected on %s", index + 1, path);
}

void HarfLiveService::respond_error(SoupServerMessage *msg, guint status, const char *detail)
{
  const std::string body = detail_json(detail);
  soup_server_message_set_status(msg, status, nullptr);
  soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, body.data(),
                                   body.size());
}

HarfLiveSession::HarfLiveSession(HarfLiveService &svc, Core &core, size_t record,
                                 SoupWebsocketConnection *conn)
    : svc_(svc),
      core_(core),
      opts_(core.opts),
      record_(record),
      serial_(unsigned(record + 1)),
      conn_(SOUP_WEBSOCKET_CONNECTION(g_object_ref(conn)))
{
  soup_websocket_connection_set_max_incoming_payload_size(conn, kMaxPayload);
  g_signal_connect(conn, "message", G_CALLBACK(message_cb), this);
  g_signal_connect(conn, "closed", G_CALLBACK(closed_cb), this);
  g_signal_connect(conn, "error", G_CALLBACK(error_cb), this);
}

HarfLiveSession::~HarfLiveSession()
{
  g_signal_handlers_disconnect_by_data(conn_.get(), this);
  timer_.reset();
}

void HarfLiveSession::message_cb(SoupWebsocketConnection *, gint type, GBytes *message,
                                 gpointer self)
{
  guarded("harf-live message", [&] {
    auto *s = static_cast<HarfLiveSession *>(self);
    gsize n = 0;
    const auto *data = static_cast<const uint8_t *>(g_bytes_get_data(message, &n));
    if (type == SOUP_WEBSOCKET_DATA_BINARY)
      s->on_binary(data, n);
    else
      s->on_text(std::string(reinterpret_cast<const char *>(data), n));
  });
}

void HarfLiveSession::closed_cb(SoupWebsocketConnection *, gpointer self)
{
  guarded("harf-live closed", [&] { static_cast<HarfLiveSession *>(self)->on_closed(); });
}

void HarfLiveSession::error_cb(SoupWebsocketConnection *, GError *error, gpointer self)
{
  g_info("session %u: WebSocket error: %s", static_cast<HarfLiveSession *>(self)->serial_,
         error->message);
}

void HarfLiveSession::on_binary(const uint8_t *data, size_t n)
{
  size_t offset = 0;
  WavHeader header;
  const bool first = n_binary_++ == 0;
  if (first) {
    header = parse_wav_header(data, n);
    offset = std::min(n, kWavHeaderSize);
    if (header.valid) {
      detector_ = std::make_unique<SpeechDetector>(header.rate, header.channels, opts_.silence_ms,
                                                   opts_.threshold_dbfs);
      g_info("session %u: WAV %u Hz, %u channel(s), %u bit", serial_, header.rate, header.channels,
             header.bits);
    } else {
      g_info("session %u: bad WAV header (%s); audio is not analysed", serial_,
             header.error.c_str());
    }
  }
  update([&](SessionRecord &r) {
    if (first)
      r.header = header;
    r.binary_sizes.push_back(n);
    r.pcm_bytes += n - offset;
    if (finalize_seen_)
      r.binary_after_finalize = true;
  });
  if (finalize_seen_)
    return;
  if (detector_)
    detector_->feed(data + offset, n - offset);
  if (closing_ || opts_.never_answer)
    return;

  Batch b;
  if (opts_.close_after > 0 && n_binary_ == size_t(opts_.close_after)) {
    closing_ = true;
    b.close_code = SOUP_WEBSOCKET_CLOSE_SERVER_ERROR;
    g_info("session %u: closing (1011) after %zu binary messages, as asked", serial_, n_binary_);
  } else if (opts_.malformed_json && first) {
    b.items.push_back(Outgoing{kMalformed});
  } else {
    b.items.push_back(next_reply());
  }
  enqueue(std::move(b));
}

void HarfLiveSession::on_text(const std::string &text)
{
  if (text != "finalize") {
    update([&](SessionRecord &r) { r.other_text.push_back(text); });
    return;
  }
  update([](SessionRecord &r) { ++r.finalize_count; });
  if (finalize_seen_)
    return;
  finalize_seen_ = true;
  g_info("session %u: finalize after %zu binary messages", serial_, n_binary_);
  if (closing_ || opts_.never_answer)
    return;
  closing_ = true;
  Batch b;
  if (detector_) {
    detector_->flush();
    while (detector_->has_completed())
      b.items.push_back(segment_reply(detector_->pop_completed(), false));
  }
  b.finish = true;
  b.close_code = SOUP_WEBSOCKET_CLOSE_NORMAL;
  enqueue(std::move(b));
}

void HarfLiveSession::on_closed()
{
  closed_ = true;
  queue_.clear();
  timer_.reset();
  g_info("session %u: closed (code %u) after %zu binary messages", serial_,
         soup_websocket_connection_get_close_code(conn_.get()), n_binary_);
  update([](SessionRecord &r) { r.closed = true; });
  svc_.session_closed();
}

// One reply per binary message: the oldest unsent finished segment, else a
// partial of the open segment (with revisions), else PENDING.
HarfLiveSession::Outgoing HarfLiveSession::next_reply()
{
  if (detector_ && detector_->has_completed())
    return segment_reply(detector_->pop_completed(), false);
  if (detector_ && opts_.revisions)
    if (const auto *open = detector_->open_confirmed())
      return segment_reply(*open, true);
  return Outgoing{kPending};
}

HarfLiveSession::Outgoing HarfLiveSession::segment_reply(const SpeechDetector::Segment &seg,
                                                         bool partial)
{
  std::string line = seg.index < opts_.script.size() ? opts_.script[seg.index] : kPlaceholder;
  g_autofree char *valid = g_utf8_make_valid(line.c_str(), -1);
  line = valid;
  if (partial) {
    if (partial_index_ != seg.index) {
      partial_index_ = seg.index;
      partial_count_ = 0;
    }
    line = first_words(line, ++partial_count_);
  }
  Outgoing out;
  out.is_segment = true;
  out.seg = SentSegment{int64_t(seg.index + 1),
                        line,
                        detector_->to_ns(seg.start),
                        detector_->to_ns(seg.end),
                        {},
                        {},
                        partial};
  out.seg.start_str = format_timedelta(out.seg.start_ns);
  out.seg.end_str = format_timedelta(out.seg.end_ns);
  out.text = segment_json(out.seg);
  return out;
}

// Replies leave in the order they were made; with delay_ms each waits that long.
void HarfLiveSession::enqueue(Batch b)
{
  if (opts_.delay_ms == 0 && queue_.empty()) {
    deliver(b);
    return;
  }
  b.due_us = g_get_monotonic_time() + gint64(opts_.delay_ms) * 1000;
  queue_.push_back(std::move(b));
  arm_timer();
}

void HarfLiveSession::arm_timer()
{
  if (timer_ || queue_.empty())
    return;
  const gint64 wait_us = std::max<gint64>(0, queue_.front().due_us - g_get_monotonic_time());
  timer_.reset(g_timeout_source_new(guint((wait_us + 999) / 1000)));
  g_source_set_callback(timer_.get(), timer_cb, this, nullptr);
  g_source_attach(timer_.get(), g_main_context_get_thread_default());
}

gboolean HarfLiveSession::timer_cb(gpointer self)
{
  guarded("harf-live timer", [&] {
    auto *s = static_cast<HarfLiveSession *>(self);
    g_source_unref(s->timer_.release());  // returning G_SOURCE_REMOVE destroys it
    const gint64 now = g_get_monotonic_time() + 1000;
    while (!s->queue_.empty() && s->queue_.front().due_us <= now && !s->closed_) {
      Batch b = std::move(s->queue_.front());
      s->queue_.pop_front();
      s->deliver(b);
    }
    s->arm_timer();
  });
  return G_SOURCE_REMOVE;
}

void HarfLiveSession::deliver(const Batch &b)
{
  if (closed_ || soup_websocket_connection_get_state(conn_.get()) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  for (const Outgoing &o : b.items) {
    soup_websocket_connection_send_text(conn_.get(), o.text.c_str());
    update([&](SessionRecord &r) {
      r.replies.push_back(o.text);
      if (o.is_segment)
        r.segments.push_back(o.seg);
    });
    if (o.is_segment)
      g_info("session %u: %s %" G_GINT64_FORMAT " [%s - %s] %s", serial_,
             o.seg.partial ? "partial" : "segment", o.seg.id, o.seg.start_str.c_str(),
             o.seg.end_str.c_str(), o.seg.text.c_str());
  }
  if (b.finish)
    update([](SessionRecord &r) { r.finished = true; });
  if (b.close_code)
    close(b.close_code, nullptr);
}

}  // namespace detail
}  // namespace emu
