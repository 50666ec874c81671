// Local test double of the Harf live WebSocket service. See emulator.h.
//
// Layout:
//   - helpers: WAV header parsing, timedelta formatting, JSON replies
//   - SpeechDetector: energy-based segmentation of the received PCM
//   - HarfLiveSession / HarfLiveService: the Harf live WebSocket endpoint
//   - detail::Core: the SoupServer on its own thread, the shared records
//   - Emulator: the public facade
// New endpoints (Harf REST, Nevisa) get their own *Service class registered on
// the same SoupServer by Core::thread_main().
#define G_LOG_DOMAIN "ptemulator"

#include "emulator.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <algorithm>
#include <functional>
#include <cmath>
#include <cstring>
#include <deque>
#include <thread>
#include <utility>

namespace emu {
namespace {

template <typename T>
struct GObjectDeleter {
  void operator()(T *p) const {
    if (p) g_object_unref(p);
  }
};
template <typename T>
using GObjectPtr = std::unique_ptr<T, GObjectDeleter<T>>;

struct SourceDeleter {
  void operator()(GSource *s) const {
    if (s) {
      g_source_destroy(s);
      g_source_unref(s);
    }
  }
};
using SourcePtr = std::unique_ptr<GSource, SourceDeleter>;

class Locker {
 public:
  explicit Locker(GMutex *m) : m_(m) { g_mutex_lock(m_); }
  ~Locker() { g_mutex_unlock(m_); }
  Locker(const Locker &) = delete;
  Locker &operator=(const Locker &) = delete;

 private:
  GMutex *m_;
};

// Runs f, never letting an exception escape into a C callback.
template <typename F>
void guarded(const char *where, F &&f) noexcept {
  try {
    f();
  } catch (const std::exception &e) {
    g_message("%s: internal error: %s", where, e.what());
  } catch (...) {
    g_message("%s: internal error", where);
  }
}

constexpr char kPlaceholder[] = "این یک متن آزمایشی است";
constexpr char kPending[] = "{\"state\": \"PENDING\"}";
constexpr char kMalformed[] = "{\"state\": PENDING";
constexpr const char *kHarfLivePaths[] = {"/ws_api/transcribe_files/wav/sync/",
                                          "/api/ws_api/transcribe_files/wav/sync/"};
constexpr size_t kWavHeaderSize = 44;
constexpr guint kMaxPayload = 16u << 20;
constexpr guint kStopGraceMs = 1000;

uint16_t le16(const uint8_t *p) { return uint16_t(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t *p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

// The canonical 44-byte header: RIFF/WAVE, a 16-byte "fmt " chunk, then "data".
WavHeader parse_wav_header(const uint8_t *p, size_t n) {
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

std::string first_words(const std::string &line, unsigned k) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
    if (j > i) words.push_back(line.substr(i, j - i));
    i = j;
  }
  if (words.empty()) return line;
  std::string out;
  for (size_t w = 0; w < std::min<size_t>(k, words.size()); ++w) out += (w ? " " : "") + words[w];
  return out;
}

std::string segment_json(const SentSegment &s) {
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

std::string detail_json(const char *detail) {
  GObjectPtr<JsonBuilder> b(json_builder_new());
  json_builder_begin_object(b.get());
  json_builder_set_member_name(b.get(), "detail");
  json_builder_add_string_value(b.get(), detail);
  json_builder_end_object(b.get());
  g_autoptr(JsonNode) root = json_builder_get_root(b.get());
  g_autofree char *text = json_to_string(root, FALSE);
  return text;
}

// ---------------------------------------------------------------------------
// Energy-based speech segmentation. Positions are in samples per channel.
class SpeechDetector {
 public:
  struct Segment {
    uint64_t index = 0;  // ordinal among confirmed segments (segment_id - 1)
    uint64_t start = 0, end = 0, speech = 0;
    bool confirmed = false;
  };

  SpeechDetector(unsigned rate, unsigned channels, unsigned silence_ms, double threshold_dbfs)
      : rate_(rate),
        channels_(channels),
        frame_samples_(std::max(1u, rate / 50)),
        silence_limit_(std::max<uint64_t>(1, uint64_t(rate) * silence_ms / 1000)),
        min_speech_(rate / 10),
        threshold_(threshold_dbfs) {}

  void feed(const uint8_t *data, size_t n) {
    pending_.insert(pending_.end(), data, data + n);
    const size_t frame_bytes = frame_samples_ * channels_ * 2;
    size_t off = 0;
    for (; pending_.size() - off >= frame_bytes; off += frame_bytes) process_frame(pending_.data() + off, frame_samples_);
    pending_.erase(pending_.begin(), pending_.begin() + off);
  }

  // End of audio: analyse the partial frame left over, close the open segment.
  void flush() {
    const size_t samples = pending_.size() / (channels_ * 2);
    if (samples) process_frame(pending_.data(), samples);
    pending_.clear();
    if (open_) close_open();
  }

  bool has_completed() const { return !completed_.empty(); }
  Segment pop_completed() {
    Segment s = completed_.front();
    completed_.pop_front();
    return s;
  }
  const Segment *open_confirmed() const { return open_ && cur_.confirmed ? &cur_ : nullptr; }
  uint64_t to_ns(uint64_t samples) const { return samples * 1000000000ull / rate_; }

 private:
  void process_frame(const uint8_t *p, size_t samples) {
    const size_t count = samples * channels_;
    double sum = 0;
    for (size_t i = 0; i < count; ++i) {
      const double v = int16_t(le16(p + 2 * i));
      sum += v * v;
    }
    const double rms = std::sqrt(sum / double(count));
    const bool speech = rms > 0 && 20.0 * std::log10(rms / 32768.0) > threshold_;
    const uint64_t start = position_, end = position_ + samples;
    position_ = end;
    if (speech) {
      if (!open_) {
        open_ = true;
        cur_ = Segment{};
        cur_.start = start;
      }
      cur_.end = end;
      cur_.speech += samples;
      silence_run_ = 0;
      if (!cur_.confirmed && cur_.speech >= min_speech_) {
        cur_.confirmed = true;
        cur_.index = confirmed_count_++;
      }
    } else if (open_) {
      silence_run_ += samples;
      if (silence_run_ >= silence_limit_) close_open();
    }
  }

  void close_open() {
    if (cur_.confirmed) completed_.push_back(cur_);  // shorter than 100 ms of speech: dropped
    open_ = false;
    silence_run_ = 0;
  }

  const unsigned rate_, channels_;
  const size_t frame_samples_;
  const uint64_t silence_limit_, min_speech_;
  const double threshold_;
  std::vector<uint8_t> pending_;
  uint64_t position_ = 0, silence_run_ = 0, confirmed_count_ = 0;
  bool open_ = false;
  Segment cur_;
  std::deque<Segment> completed_;
};

class HarfLiveService;

}  // namespace

// ---------------------------------------------------------------------------
namespace detail {

// The SoupServer, its thread and main context, and the records shared with
// other threads (guarded by mu_, changes signalled on cond_).
class Core {
 public:
  explicit Core(Options o) : opts(std::move(o)) {
    g_mutex_init(&mu_);
    g_cond_init(&cond_);
  }
  ~Core();

  bool start(uint16_t port, GError **error);
  void stop();

  // Records (any thread).
  size_t add_record(SessionRecord r) {
    Locker l(&mu_);
    records_.push_back(std::move(r));
    g_cond_broadcast(&cond_);
    return records_.size() - 1;
  }
  template <typename F>
  void update_record(size_t i, F &&f) {
    Locker l(&mu_);
    f(records_.at(i));
    g_cond_broadcast(&cond_);
  }
  void count_handshake() {
    Locker l(&mu_);
    ++handshakes_;
  }
  uint16_t port() const {
    Locker l(&mu_);
    return port_;
  }
  int handshakes() const {
    Locker l(&mu_);
    return handshakes_;
  }
  std::vector<SessionRecord> records() const {
    Locker l(&mu_);
    return records_;
  }
  // Waits (on cond_) until pred(records) holds; false on timeout.
  bool wait_until(const std::function<bool(const std::vector<SessionRecord> &)> &pred,
                  unsigned timeout_ms) const {
    const gint64 deadline = g_get_monotonic_time() + gint64(timeout_ms) * 1000;
    Locker l(&mu_);
    while (!pred(records_))
      if (!g_cond_wait_until(&cond_, &mu_, deadline)) return pred(records_);
    return true;
  }

  // Server thread: a connection went away.
  void connection_closed();

  const Options opts;

 private:
  void thread_main(uint16_t port);
  static gboolean stop_cb(gpointer self);
  static gboolean quit_cb(gpointer self);

  mutable GMutex mu_;
  mutable GCond cond_;
  std::vector<SessionRecord> records_;
  int handshakes_ = 0;
  uint16_t port_ = 0;
  bool ready_ = false;
  GError *start_error_ = nullptr;

  std::thread thread_;
  GMainContext *ctx_ = nullptr;
  GMainLoop *loop_ = nullptr;
  // Server thread only:
  bool stopping_ = false;
  SourcePtr stop_timer_;
  std::unique_ptr<HarfLiveService> harf_;
};

}  // namespace detail

namespace {

// ---------------------------------------------------------------------------
// Harf live: one WebSocket connection.
class HarfLiveSession {
 public:
  HarfLiveSession(HarfLiveService &svc, detail::Core &core, size_t record, SoupWebsocketConnection *conn);
  ~HarfLiveSession();
  HarfLiveSession(const HarfLiveSession &) = delete;
  HarfLiveSession &operator=(const HarfLiveSession &) = delete;

  bool is_closed() const { return closed_; }
  void close(gushort code, const char *reason) {
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
  void update(F &&f) {
    core_.update_record(record_, std::forward<F>(f));
  }

  HarfLiveService &svc_;
  detail::Core &core_;
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

// Harf live: the endpoint (handshake check, sessions).
class HarfLiveService {
 public:
  HarfLiveService(detail::Core &core, SoupServer *server) : core_(core), server_(server) {
    for (const char *path : kHarfLivePaths) {
      soup_server_add_handler(server_, path, http_cb, this, nullptr);
      soup_server_add_websocket_handler(server_, path, nullptr, nullptr, websocket_cb, this, nullptr);
    }
  }
  ~HarfLiveService() {
    for (const char *path : kHarfLivePaths) soup_server_remove_handler(server_, path);
    sessions_.clear();
  }
  HarfLiveService(const HarfLiveService &) = delete;
  HarfLiveService &operator=(const HarfLiveService &) = delete;

  void close_all(gushort code, const char *reason) {
    for (auto &s : sessions_) s->close(code, reason);
  }
  size_t open_count() const {
    return size_t(std::count_if(sessions_.begin(), sessions_.end(), [](const auto &s) { return !s->is_closed(); }));
  }
  void session_closed() { core_.connection_closed(); }

 private:
  static void http_cb(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *, gpointer self) {
    guarded("harf-live handshake", [&] { static_cast<HarfLiveService *>(self)->on_http(msg, path); });
  }
  static void websocket_cb(SoupServer *, SoupServerMessage *msg, const char *path, SoupWebsocketConnection *conn,
                           gpointer self) {
    guarded("harf-live connect", [&] { static_cast<HarfLiveService *>(self)->on_websocket(msg, path, conn); });
  }

  // Runs before libsoup's WebSocket handshake; setting a status here stops the upgrade.
  void on_http(SoupServerMessage *msg, const char *path) {
    SoupMessageHeaders *req = soup_server_message_get_request_headers(msg);
    if (std::none_of(std::begin(kHarfLivePaths), std::end(kHarfLivePaths),
                     [&](const char *p) { return g_strcmp0(p, path) == 0; })) {
      respond_error(msg, SOUP_STATUS_NOT_FOUND, "Not found.");
      return;
    }
    if (soup_message_headers_header_contains(req, "Upgrade", "websocket")) core_.count_handshake();
    if (core_.opts.reject_token || !authorized(soup_message_headers_get_one(req, "Authorization"))) {
      g_info("request on %s rejected: 401", path);
      soup_message_headers_replace(soup_server_message_get_response_headers(msg), "WWW-Authenticate", "Token");
      respond_error(msg, SOUP_STATUS_UNAUTHORIZED, "Invalid token.");
    }
    // No status set: libsoup validates the WebSocket handshake next (400 if it is not one).
  }

  void on_websocket(SoupServerMessage *msg, const char *path, SoupWebsocketConnection *conn) {
    const char *auth = soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
    SessionRecord rec;
    rec.authorization = auth ? auth : "";
    const size_t index = core_.add_record(std::move(rec));
    sessions_.push_back(std::make_unique<HarfLiveSession>(*this, core_, index, conn));
    g_info("session %zu: connected on %s", index + 1, path);
  }

  // Like Django REST Framework: "<keyword> <key>", keyword case-insensitive.
  bool authorized(const char *header) const {
    const std::string &token = core_.opts.token;
    if (token.empty()) return true;
    if (!header) return false;
    g_auto(GStrv) parts = g_strsplit_set(header, " \t", -1);
    std::vector<const char *> words;
    for (char **p = parts; *p; ++p)
      if (**p) words.push_back(*p);
    return words.size() == 2 &&
           (g_ascii_strcasecmp(words[0], "Token") == 0 || g_ascii_strcasecmp(words[0], "Bearer") == 0) &&
           token == words[1];
  }

  static void respond_error(SoupServerMessage *msg, guint status, const char *detail) {
    const std::string body = detail_json(detail);
    soup_server_message_set_status(msg, status, nullptr);
    soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, body.data(), body.size());
  }

  detail::Core &core_;
  SoupServer *server_;
  std::vector<std::unique_ptr<HarfLiveSession>> sessions_;
};

HarfLiveSession::HarfLiveSession(HarfLiveService &svc, detail::Core &core, size_t record,
                                 SoupWebsocketConnection *conn)
    : svc_(svc),
      core_(core),
      opts_(core.opts),
      record_(record),
      serial_(unsigned(record + 1)),
      conn_(SOUP_WEBSOCKET_CONNECTION(g_object_ref(conn))) {
  soup_websocket_connection_set_max_incoming_payload_size(conn, kMaxPayload);
  g_signal_connect(conn, "message", G_CALLBACK(message_cb), this);
  g_signal_connect(conn, "closed", G_CALLBACK(closed_cb), this);
  g_signal_connect(conn, "error", G_CALLBACK(error_cb), this);
}

HarfLiveSession::~HarfLiveSession() {
  g_signal_handlers_disconnect_by_data(conn_.get(), this);
  timer_.reset();
}

void HarfLiveSession::message_cb(SoupWebsocketConnection *, gint type, GBytes *message, gpointer self) {
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

void HarfLiveSession::closed_cb(SoupWebsocketConnection *, gpointer self) {
  guarded("harf-live closed", [&] { static_cast<HarfLiveSession *>(self)->on_closed(); });
}

void HarfLiveSession::error_cb(SoupWebsocketConnection *, GError *error, gpointer self) {
  g_info("session %u: WebSocket error: %s", static_cast<HarfLiveSession *>(self)->serial_, error->message);
}

void HarfLiveSession::on_binary(const uint8_t *data, size_t n) {
  size_t offset = 0;
  WavHeader header;
  const bool first = n_binary_++ == 0;
  if (first) {
    header = parse_wav_header(data, n);
    offset = std::min(n, kWavHeaderSize);
    if (header.valid) {
      detector_ = std::make_unique<SpeechDetector>(header.rate, header.channels, opts_.silence_ms, opts_.threshold_dbfs);
      g_info("session %u: WAV %u Hz, %u channel(s), %u bit", serial_, header.rate, header.channels, header.bits);
    } else {
      g_info("session %u: bad WAV header (%s); audio is not analysed", serial_, header.error.c_str());
    }
  }
  update([&](SessionRecord &r) {
    if (first) r.header = header;
    r.binary_sizes.push_back(n);
    r.pcm_bytes += n - offset;
    if (finalize_seen_) r.binary_after_finalize = true;
  });
  if (finalize_seen_) return;
  if (detector_) detector_->feed(data + offset, n - offset);
  if (closing_ || opts_.never_answer) return;

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

void HarfLiveSession::on_text(const std::string &text) {
  if (text != "finalize") {
    update([&](SessionRecord &r) { r.other_text.push_back(text); });
    return;
  }
  update([](SessionRecord &r) { ++r.finalize_count; });
  if (finalize_seen_) return;
  finalize_seen_ = true;
  g_info("session %u: finalize after %zu binary messages", serial_, n_binary_);
  if (closing_ || opts_.never_answer) return;
  closing_ = true;
  Batch b;
  if (detector_) {
    detector_->flush();
    while (detector_->has_completed()) b.items.push_back(segment_reply(detector_->pop_completed(), false));
  }
  b.finish = true;
  b.close_code = SOUP_WEBSOCKET_CLOSE_NORMAL;
  enqueue(std::move(b));
}

void HarfLiveSession::on_closed() {
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
HarfLiveSession::Outgoing HarfLiveSession::next_reply() {
  if (detector_ && detector_->has_completed()) return segment_reply(detector_->pop_completed(), false);
  if (detector_ && opts_.revisions)
    if (const auto *open = detector_->open_confirmed()) return segment_reply(*open, true);
  return Outgoing{kPending};
}

HarfLiveSession::Outgoing HarfLiveSession::segment_reply(const SpeechDetector::Segment &seg, bool partial) {
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
  out.seg = SentSegment{int64_t(seg.index + 1), line, detector_->to_ns(seg.start), detector_->to_ns(seg.end), {}, {},
                        partial};
  out.seg.start_str = format_timedelta(out.seg.start_ns);
  out.seg.end_str = format_timedelta(out.seg.end_ns);
  out.text = segment_json(out.seg);
  return out;
}

// Replies leave in the order they were made; with delay_ms each waits that long.
void HarfLiveSession::enqueue(Batch b) {
  if (opts_.delay_ms == 0 && queue_.empty()) {
    deliver(b);
    return;
  }
  b.due_us = g_get_monotonic_time() + gint64(opts_.delay_ms) * 1000;
  queue_.push_back(std::move(b));
  arm_timer();
}

void HarfLiveSession::arm_timer() {
  if (timer_ || queue_.empty()) return;
  const gint64 wait_us = std::max<gint64>(0, queue_.front().due_us - g_get_monotonic_time());
  timer_.reset(g_timeout_source_new(guint((wait_us + 999) / 1000)));
  g_source_set_callback(timer_.get(), timer_cb, this, nullptr);
  g_source_attach(timer_.get(), g_main_context_get_thread_default());
}

gboolean HarfLiveSession::timer_cb(gpointer self) {
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

void HarfLiveSession::deliver(const Batch &b) {
  if (closed_ || soup_websocket_connection_get_state(conn_.get()) != SOUP_WEBSOCKET_STATE_OPEN) return;
  for (const Outgoing &o : b.items) {
    soup_websocket_connection_send_text(conn_.get(), o.text.c_str());
    update([&](SessionRecord &r) {
      r.replies.push_back(o.text);
      if (o.is_segment) r.segments.push_back(o.seg);
    });
    if (o.is_segment)
      g_info("session %u: %s %" G_GINT64_FORMAT " [%s - %s] %s", serial_, o.seg.partial ? "partial" : "segment",
             o.seg.id, o.seg.start_str.c_str(), o.seg.end_str.c_str(), o.seg.text.c_str());
  }
  if (b.finish) update([](SessionRecord &r) { r.finished = true; });
  if (b.close_code) close(b.close_code, nullptr);
}

}  // namespace

// ---------------------------------------------------------------------------
namespace detail {

Core::~Core() {
  stop();
  g_cond_clear(&cond_);
  g_mutex_clear(&mu_);
}

bool Core::start(uint16_t port, GError **error) {
  if (thread_.joinable()) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_EXISTS, "emulator already running");
    return false;
  }
  ctx_ = g_main_context_new();
  loop_ = g_main_loop_new(ctx_, FALSE);
  {
    Locker l(&mu_);
    ready_ = false;
    stopping_ = false;
  }
  thread_ = std::thread([this, port] { thread_main(port); });
  GError *failure = nullptr;
  {
    Locker l(&mu_);
    while (!ready_) g_cond_wait(&cond_, &mu_);
    failure = std::exchange(start_error_, nullptr);
  }
  if (!failure) return true;
  g_propagate_error(error, failure);
  thread_.join();  // the thread has already returned
  g_clear_pointer(&loop_, g_main_loop_unref);
  g_clear_pointer(&ctx_, g_main_context_unref);
  return false;
}

void Core::thread_main(uint16_t port) {
  g_main_context_push_thread_default(ctx_);
  GObjectPtr<SoupServer> server(SOUP_SERVER(soup_server_new("server-header", "persiantranscribe-emulator ", nullptr)));
  harf_ = std::make_unique<HarfLiveService>(*this, server.get());

  GError *error = nullptr;
  GObjectPtr<GInetAddress> loopback(g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4));
  GObjectPtr<GSocketAddress> address(g_inet_socket_address_new(loopback.get(), port));
  bool ok = soup_server_listen(server.get(), address.get(), SoupServerListenOptions(0), &error);
  uint16_t bound = 0;
  if (ok) {
    GSList *uris = soup_server_get_uris(server.get());
    if (uris) bound = uint16_t(g_uri_get_port(static_cast<GUri *>(uris->data)));
    g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
  }
  {
    Locker l(&mu_);
    port_ = bound;
    start_error_ = error;
    ready_ = true;
    g_cond_broadcast(&cond_);
  }
  if (ok) g_main_loop_run(loop_);

  harf_.reset();
  soup_server_disconnect(server.get());
  server.reset();
  stop_timer_.reset();
  // Let closed streams finish their cleanup; bounded in case a source keeps re-arming.
  for (int i = 0; i < 100 && g_main_context_iteration(ctx_, FALSE); ++i) {
  }
  g_main_context_pop_thread_default(ctx_);
  Locker l(&mu_);
  for (auto &r : records_) r.closed = true;
  g_cond_broadcast(&cond_);
}

void Core::stop() {
  if (!thread_.joinable()) return;
  SourcePtr idle(g_idle_source_new());
  g_source_set_callback(idle.get(), stop_cb, this, nullptr);
  g_source_attach(idle.get(), ctx_);
  thread_.join();
  idle.reset();
  g_clear_pointer(&loop_, g_main_loop_unref);
  g_clear_pointer(&ctx_, g_main_context_unref);
}

// Server thread: close every connection, quit when all are closed or after a grace period.
gboolean Core::stop_cb(gpointer self) {
  auto *core = static_cast<Core *>(self);
  core->stopping_ = true;
  guarded("emulator stop", [&] { core->harf_->close_all(SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "emulator stopping"); });
  if (core->harf_->open_count() == 0) {
    g_main_loop_quit(core->loop_);
  } else if (!core->stop_timer_) {
    core->stop_timer_.reset(g_timeout_source_new(kStopGraceMs));
    g_source_set_callback(core->stop_timer_.get(), quit_cb, core, nullptr);
    g_source_attach(core->stop_timer_.get(), core->ctx_);
  }
  return G_SOURCE_REMOVE;
}

gboolean Core::quit_cb(gpointer self) {
  g_main_loop_quit(static_cast<Core *>(self)->loop_);
  return G_SOURCE_REMOVE;
}

void Core::connection_closed() {
  if (stopping_ && harf_ && harf_->open_count() == 0) g_main_loop_quit(loop_);
}

}  // namespace detail

// ---------------------------------------------------------------------------
Emulator::Emulator(Options opts) : core_(std::make_unique<detail::Core>(std::move(opts))) {}
Emulator::~Emulator() { stop(); }
bool Emulator::start(uint16_t port, GError **error) { return core_->start(port, error); }
void Emulator::stop() { core_->stop(); }
uint16_t Emulator::port() const { return core_->port(); }
std::string Emulator::harf_live_url() const {
  return "ws://127.0.0.1:" + std::to_string(port()) + kHarfLivePaths[0];
}
int Emulator::handshake_count() const { return core_->handshakes(); }
std::vector<SessionRecord> Emulator::sessions() const { return core_->records(); }
bool Emulator::wait_closed(size_t n_sessions, unsigned timeout_ms) const {
  return core_->wait_until(
      [n_sessions](const std::vector<SessionRecord> &records) {
        return records.size() >= n_sessions &&
               std::all_of(records.begin(), records.end(), [](const SessionRecord &r) { return r.closed; });
      },
      timeout_ms);
}
bool Emulator::wait_until(const std::function<bool(const std::vector<SessionRecord> &)> &pred,
                          unsigned timeout_ms) const {
  return core_->wait_until(pred, timeout_ms);
}

std::string format_timedelta(uint64_t ns) {
  uint64_t us = (ns + 500) / 1000;
  const uint64_t days = us / 86400000000ull;
  us %= 86400000000ull;
  const unsigned h = unsigned(us / 3600000000ull), m = unsigned(us / 60000000ull % 60),
                 s = unsigned(us / 1000000ull % 60), frac = unsigned(us % 1000000ull);
  char buf[96];
  int len = 0;
  if (days) len = g_snprintf(buf, sizeof buf, "%" G_GUINT64_FORMAT " day%s, ", days, days == 1 ? "" : "s");
  len += g_snprintf(buf + len, sizeof buf - len, "%u:%02u:%02u", h, m, s);
  if (frac) g_snprintf(buf + len, sizeof buf - len, ".%06u", frac);
  return buf;
}

}  // namespace emu
