// SPDX-License-Identifier: LGPL-2.1-or-later
// Harf live: the WebSocket endpoint and its sessions (WAV header, speech segments, replies).
#include "harf_live_service.h"

#include <json-glib/json-glib.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "live_common.h"
#include "speech_detector.h"

namespace emu {
namespace detail {

namespace {

constexpr char kPending[] = "{\"state\": \"PENDING\"}";
constexpr char kMalformed[] = "{\"state\": PENDING";
constexpr guint kMaxPayload = 16u << 20;
constexpr size_t kMaxRecordedReply = 64u << 10;

// The fault replies (see Options): segments with ids the detector never reaches.
std::string fake_segment(const std::string &id, const std::string &text, const std::string &start,
                         const std::string &end)
{
  return "{\"segment_id\": " + id + ", \"text\": " + text + ", \"start\": " + start +
         ", \"end\": " + end + "}";
}
std::string quoted(const std::string &s)
{
  return "\"" + s + "\"";
}
constexpr char kImpossibleText[] = "زمان ناممکن";
constexpr char kWrongTypesText[] = "نوع نادرست";
constexpr char kHugePrefix[] = "{\"segment_id\": 904, \"text\": \"";
constexpr char kHugeSuffix[] = "\", \"start\": \"0:00:00\", \"end\": \"0:00:01\"}";

// A huge_reply_bytes reply: exactly n bytes when n is at least the skeleton's size.
std::string huge_segment(uint64_t n)
{
  const size_t fixed = strlen(kHugePrefix) + strlen(kHugeSuffix);
  std::string s;
  s.reserve(std::max<uint64_t>(n, fixed));
  s += kHugePrefix;
  s.append(n > fixed ? size_t(n - fixed) : 0, 'x');
  s += kHugeSuffix;
  return s;
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

}  // namespace

// Harf live: one WebSocket connection.
class HarfLiveSession {
 public:
  HarfLiveSession(HarfLiveService &svc, Core &core, size_t record, SoupWebsocketConnection *conn,
                  GSocket *socket);
  ~HarfLiveSession();
  HarfLiveSession(const HarfLiveSession &) = delete;
  HarfLiveSession &operator=(const HarfLiveSession &) = delete;

  bool is_closed() const { return closed_; }
  void close(gushort code, const char *reason)
  {
    if (!aborted_ && soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close(conn_.get(), code, reason);
  }

 private:
  enum class Kind {
    Text,    // a text message
    Binary,  // a binary message (binary_reply)
    Raw,     // a text frame written on the socket, past libsoup's UTF-8 check (invalid_utf8)
  };
  struct Outgoing {
    std::string text;
    bool is_segment = false;
    SentSegment seg{};
    Kind kind = Kind::Text;
  };
  struct Batch {  // what one reply slot sends, after the delay
    std::vector<Outgoing> items;
    bool finish = false;
    gushort close_code = 0;
    bool forced = false;  // close_code comes from a fault switch (close_after, close_on_finalize)
    bool reset = false;   // reset_on_finalize: abort the TCP connection instead
    const char *fault = "";  // SessionRecord::fault when the batch is delivered
  };

  friend struct SessionSignals<HarfLiveSession>;
  static constexpr const char *kName = "harf-live";  // in logs

  void on_binary(const uint8_t *data, size_t n);
  void on_text(const std::string &text);
  void on_closed();
  // The fault switches' replies to the nth binary message (1-based); empty: a normal reply.
  std::vector<Outgoing> fault_replies(size_t nth) const;
  Outgoing next_reply();
  Outgoing segment_reply(const SpeechDetector::Segment &seg, bool partial);
  // Replies leave in the order they were made; with delay_ms each waits that long.
  void enqueue(Batch b) { queue_.push(std::move(b)); }
  void deliver(const Batch &b);
  void send(const Outgoing &o);
  bool write_raw(const std::string &frame);
  // Closes with code: through libsoup when it sends that code, else a raw close frame and a
  // shutdown of the socket.
  void forced_close(gushort code);
  // Aborts the TCP connection: SO_LINGER 0 and a read shutdown, so libsoup sees EOF and closes
  // the socket, which sends RST (no close frame, no FIN first).
  void reset();
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
  GObjectPtr<GSocket> socket_;  // may be null
  GChecksum *audio_sum_;
  std::unique_ptr<SpeechDetector> detector_;
  size_t n_binary_ = 0;
  bool finalize_seen_ = false, closing_ = false, closed_ = false;
  bool sent_any_ = false;  // a frame was given to libsoup or written on the socket
  bool aborted_ = false;   // the socket was shut down under libsoup (raw close or reset)
  uint64_t partial_index_ = UINT64_MAX;
  unsigned partial_count_ = 0;
  DelayedQueue<Batch> queue_;
};

HarfLiveService::HarfLiveService(Core &core, SoupServer *server, LiveFaults &faults)
    : core_(core), server_(server), faults_(faults)
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

bool HarfLiveService::take_forced_close()
{
  return faults_.take_forced_close();
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
    respond_detail(msg, SOUP_STATUS_NOT_FOUND, "Not found.");
    return;
  }
  if (soup_message_headers_header_contains(req, "Upgrade", "websocket")) {
    core_.count_handshake();
    if (faults_.handshake_fault(msg, path))
      return;
  }
  if (core_.opts.reject_token ||
      !token_authorized(core_.opts.token, soup_message_headers_get_one(req, "Authorization"))) {
    g_info("request on %s rejected: 401", path);
    soup_message_headers_replace(soup_server_message_get_response_headers(msg), "WWW-Authenticate",
                                 "Token");
    respond_detail(msg, SOUP_STATUS_UNAUTHORIZED, "Invalid token.");
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
  GSocket *socket = websocket_socket(msg, conn);
  sessions_.push_back(std::make_unique<HarfLiveSession>(*this, core_, index, conn, socket));
  g_info("session %zu: connected on %s", index + 1, path);
}

HarfLiveSession::HarfLiveSession(HarfLiveService &svc, Core &core, size_t record,
                                 SoupWebsocketConnection *conn, GSocket *socket)
    : svc_(svc),
      core_(core),
      opts_(core.opts),
      record_(record),
      serial_(unsigned(record + 1)),
      conn_(SOUP_WEBSOCKET_CONNECTION(g_object_ref(conn))),
      socket_(socket ? G_SOCKET(g_object_ref(socket)) : nullptr),
      audio_sum_(g_checksum_new(G_CHECKSUM_SHA256)),
      queue_(
          "harf-live timer", opts_.delay_ms, [this](const Batch &b) { deliver(b); },
          [this] { return closed_; })
{
  soup_websocket_connection_set_max_incoming_payload_size(conn, kMaxPayload);
  SessionSignals<HarfLiveSession>::connect(conn, this);
}

HarfLiveSession::~HarfLiveSession()
{
  g_signal_handlers_disconnect_by_data(conn_.get(), this);
  queue_.clear();
  g_checksum_free(audio_sum_);
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
  if (opts_.on_audio_received)
    opts_.on_audio_received(record_, n - offset);
  g_checksum_update(audio_sum_, data, gssize(n));
  GChecksum *copy = g_checksum_copy(audio_sum_);  // the digest so far; audio_sum_ stays open
  const std::string digest = g_checksum_get_string(copy);
  g_checksum_free(copy);
  update([&](SessionRecord &r) {
    if (first)
      r.header = header;
    r.binary_sizes.push_back(n);
    r.pcm_bytes += n - offset;
    if (finalize_seen_)
      r.binary_after_finalize = true;
    if (r.audio.size() < opts_.record_audio_max)
      r.audio.append(reinterpret_cast<const char *>(data),
                     std::min(n, opts_.record_audio_max - r.audio.size()));
    r.audio_bytes += n;
    r.audio_sha256 = digest;
  });
  if (finalize_seen_)
    return;
  if (detector_)
    detector_->feed(data + offset, n - offset);
  if (closing_ || opts_.never_answer)
    return;

  Batch b;
  if (opts_.close_after > 0 && n_binary_ == size_t(opts_.close_after) && svc_.take_forced_close()) {
    closing_ = true;
    b.close_code = gushort(opts_.close_code);
    b.forced = true;
    b.fault = "close-after";
    g_info("session %u: closing (%d) after %zu binary messages, as asked", serial_,
           opts_.close_code, n_binary_);
  } else {
    b.items = fault_replies(n_binary_);
    if (b.items.empty())
      b.items.push_back(next_reply());
  }
  enqueue(std::move(b));
}

std::vector<HarfLiveSession::Outgoing> HarfLiveSession::fault_replies(size_t nth) const
{
  const Options &o = opts_;
  std::vector<Outgoing> out;
  auto text = [&](std::string t) { out.push_back(Outgoing{std::move(t)}); };
  if (nth == 1) {
    if (o.invalid_utf8) {
      Outgoing raw{fake_segment("903", quoted(std::string("متن \xFF\xFE خراب")), quoted("0:00:00"),
                                quoted("0:00:01"))};
      raw.kind = Kind::Raw;
      out.push_back(std::move(raw));
    }
    if (o.lone_surrogate)
      text(fake_segment("905", quoted("متن \\udcff"), quoted("0:00:00"), quoted("0:00:01")));
    if (o.malformed_json)
      text(kMalformed);
    if (o.binary_reply) {
      Outgoing bin{kPending};
      bin.kind = Kind::Binary;
      out.push_back(std::move(bin));
    }
    if (o.huge_reply_bytes > 0)
      text(huge_segment(o.huge_reply_bytes));
    if (o.impossible_times)
      text(fake_segment("901", quoted(kImpossibleText), quoted("27:00:00"), quoted("27:00:05")));
    if (o.wrong_types)
      text(fake_segment("1e30", "5", "true", quoted("0:00:01")));
    if (o.deep_json_depth > 0)
      text(nested_arrays(size_t(o.deep_json_depth)));
  } else if (nth == 2) {
    if (o.impossible_times)
      text(fake_segment("902", quoted(kImpossibleText), quoted("0:00:05"), quoted("0:00:02")));
    if (o.wrong_types)
      text(fake_segment(quoted("abc"), quoted(kWrongTypesText), quoted("0:00:00"), "[1]"));
  }
  return out;
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
  if ((opts_.reset_on_finalize || opts_.close_on_finalize) && svc_.take_forced_close()) {
    if (opts_.reset_on_finalize) {
      b.reset = true;
      b.fault = "reset-on-finalize";
      g_info("session %u: aborting the connection at finalize, as asked", serial_);
    } else {
      b.close_code = gushort(opts_.close_code);
      b.forced = true;
      b.fault = "close-on-finalize";
      g_info("session %u: closing (%d) at finalize, as asked", serial_, opts_.close_code);
    }
    enqueue(std::move(b));
    return;
  }
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

void HarfLiveSession::deliver(const Batch &b)
{
  if (closed_ || aborted_ ||
      soup_websocket_connection_get_state(conn_.get()) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  for (const Outgoing &o : b.items) {
    send(o);
    if (o.is_segment)
      g_info("session %u: %s %" G_GINT64_FORMAT " [%s - %s] %s", serial_,
             o.seg.partial ? "partial" : "segment", o.seg.id, o.seg.start_str.c_str(),
             o.seg.end_str.c_str(), o.seg.text.c_str());
  }
  if (b.finish)
    update([](SessionRecord &r) { r.finished = true; });
  if (*b.fault)
    update([&](SessionRecord &r) { r.fault = b.fault; });
  if (b.reset)
    reset();
  else if (b.forced)
    forced_close(b.close_code);
  else if (b.close_code)
    close(b.close_code, nullptr);
}

void HarfLiveSession::send(const Outgoing &o)
{
  switch (o.kind) {
    case Kind::Binary:
      soup_websocket_connection_send_binary(conn_.get(), o.text.data(), o.text.size());
      update([](SessionRecord &r) { ++r.binary_replies; });
      sent_any_ = true;
      g_info("session %u: binary reply (%zu bytes), as asked", serial_, o.text.size());
      return;
    case Kind::Raw:
      // Only safe while libsoup has nothing queued: as the connection's first frame.
      if (!sent_any_ && write_raw(ws_frame(0x1, o.text))) {
        g_info("session %u: text frame with invalid UTF-8 written on the socket", serial_);
        break;
      }
      {
        g_autofree char *valid = g_utf8_make_valid(o.text.c_str(), gssize(o.text.size()));
        g_info("session %u: invalid UTF-8 not first: sent repaired", serial_);
        soup_websocket_connection_send_text(conn_.get(), valid);
      }
      break;
    case Kind::Text:
      if (opts_.on_reply_sent)
        opts_.on_reply_sent(record_, o.is_segment ? &o.seg : nullptr);
      soup_websocket_connection_send_text(conn_.get(), o.text.c_str());
      break;
  }
  sent_any_ = true;
  update([&](SessionRecord &r) {
    r.replies.push_back(o.text.size() > kMaxRecordedReply ? o.text.substr(0, kMaxRecordedReply)
                                                          : o.text);
    r.reply_sizes.push_back(o.text.size());
    if (o.is_segment)
      r.segments.push_back(o.seg);
  });
}

bool HarfLiveSession::write_raw(const std::string &frame)
{
  GError *error = nullptr;
  const bool written = detail::write_raw(conn_.get(), frame, &error);
  if (error) {
    g_info("session %u: raw write failed: %s", serial_, error->message);
    g_error_free(error);
  }
  return written;
}

void HarfLiveSession::forced_close(gushort code)
{
  if (detail::forced_close(conn_.get(), socket_.get(), code))
    aborted_ = true;
}

void HarfLiveSession::reset()
{
  if (!socket_) {
    g_info("session %u: no socket to abort; closing instead", serial_);
    close(SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, nullptr);
    return;
  }
  aborted_ = true;
  const int fd = g_socket_get_fd(socket_.get());
  const struct linger abort_now = {1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_now, sizeof abort_now);
  g_socket_shutdown(socket_.get(), TRUE, FALSE, nullptr);  // libsoup reads EOF and closes: RST
}

}  // namespace detail
}  // namespace emu
