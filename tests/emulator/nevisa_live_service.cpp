// SPDX-License-Identifier: LGPL-2.1-or-later
// Nevisa live: the WebSocket endpoint and its sessions (subjects, WAV or raw PCM messages,
// partial and final results).
//
// The protocol, as the service's JavaScript sample speaks it:
//   server: {"subject":"INIT"}                     (right after the WebSocket opens)
//   client: {"subject":"REQ","mode":...,"decoding-info":{"sample-rate":16000,...}}
//   server: {"subject":"REQ-RESPONSE","status":"OK"}
//   client: {"subject":"SOES"}
//   server: {"subject":"SOES-RESPONSE","status":"OK"}
//   client: binary messages, each a complete WAV file or raw 16-bit mono PCM
//   server: {"transcription":{"partial":"..."}} and {"transcription":{"result":[...],"text":...}}
//   client: {"subject":"EOES"}
//   server: the remaining finals, then {"subject":"EOES-RESPONSE","status":"OK"}
// The socket stays open: a new REQ (or SOES) starts a new session; the client closes.
#include "nevisa_live_service.h"

#include <json-glib/json-glib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "live_common.h"
#include "nevisa_service.h"
#include "rest_common.h"
#include "speech_detector.h"

namespace emu {
namespace detail {

namespace {

constexpr guint kMaxPayload = 16u << 20;
constexpr unsigned kDefaultRate = 16000;  // when the REQ gives no usable sample-rate
constexpr double kConf = 0.9, kLowConf = 0.4;
// "The server will be updated soon", with zero-width non-joiners (U+200C) as Persian writes it.
constexpr char kNoticeText[] =
    "سرور به"
    "\xE2\x80\x8C"
    "زودی به"
    "\xE2\x80\x8C"
    "روز می"
    "\xE2\x80\x8C"
    "شود";

std::string subject_message(const char *subject)
{
  return JsonWriter().begin_object().key("subject").string(subject).end_object().str();
}

std::string ok_message(const char *subject)
{
  return JsonWriter()
      .begin_object()
      .key("subject")
      .string(subject)
      .key("status")
      .string("OK")
      .end_object()
      .str();
}

std::string notice_message()
{
  return JsonWriter()
      .begin_object()
      .key("subject")
      .string("SERVER-NOTICE")
      .key("text")
      .string(kNoticeText)
      .end_object()
      .str();
}

std::string partial_message(const std::string &text)
{
  return JsonWriter()
      .begin_object()
      .key("transcription")
      .begin_object()
      .key("partial")
      .string(text)
      .end_object()
      .end_object()
      .str();
}

// The query's Authorization and api-key ("" when absent).
void query_credentials(SoupServerMessage *msg, std::string *auth, std::string *key)
{
  GUri *uri = soup_server_message_get_uri(msg);
  const char *query = uri ? g_uri_get_query(uri) : nullptr;
  if (!query)
    return;
  GHashTable *form = soup_form_decode(query);
  const auto *a = static_cast<const char *>(g_hash_table_lookup(form, "Authorization"));
  const auto *k = static_cast<const char *>(g_hash_table_lookup(form, "api-key"));
  *auth = a ? a : "";
  *key = k ? k : "";
  g_hash_table_destroy(form);
}

// What a text message from the client says.
struct ClientText {
  std::string subject = "?";  // "?": not JSON, or no string "subject"
  std::string mode;
  int rate = 0;  // decoding-info's sample-rate (0: absent or not a whole number)
};

const char *string_member(JsonObject *o, const char *name)
{
  JsonNode *n = json_object_get_member(o, name);
  return n && JSON_NODE_HOLDS_VALUE(n) && json_node_get_value_type(n) == G_TYPE_STRING
             ? json_node_get_string(n)
             : nullptr;
}

ClientText parse_client_text(const std::string &text)
{
  ClientText t;
  GObjectPtr<JsonParser> parser(json_parser_new());
  if (!json_parser_load_from_data(parser.get(), text.data(), gssize(text.size()), nullptr))
    return t;
  JsonNode *root = json_parser_get_root(parser.get());
  if (!root || !JSON_NODE_HOLDS_OBJECT(root))
    return t;
  JsonObject *o = json_node_get_object(root);
  const char *subject = string_member(o, "subject");
  if (!subject)
    return t;
  t.subject = subject;
  if (const char *mode = string_member(o, "mode"))
    t.mode = mode;
  JsonNode *info = json_object_get_member(o, "decoding-info");
  if (info && JSON_NODE_HOLDS_OBJECT(info)) {
    JsonNode *rate = json_object_get_member(json_node_get_object(info), "sample-rate");
    if (rate && JSON_NODE_HOLDS_VALUE(rate)) {
      const GType type = json_node_get_value_type(rate);
      const double v = type == G_TYPE_INT64    ? double(json_node_get_int(rate))
                       : type == G_TYPE_DOUBLE ? json_node_get_double(rate)
                                               : 0.0;
      if (std::isfinite(v) && v >= 1 && v <= 1e7 && v == std::floor(v))
        t.rate = int(v);
    }
  }
  return t;
}

// The line split on spaces (and tabs), words kept as they are.
std::vector<std::string> split_on_spaces(const std::string &line)
{
  std::vector<std::string> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && g_ascii_isspace(line[i]))
      ++i;
    size_t j = i;
    while (j < line.size() && !g_ascii_isspace(line[j]))
      ++j;
    if (j > i)
      words.push_back(line.substr(i, j - i));
    i = j;
  }
  return words;
}

// Seconds as sent (2 decimals) and the same time in ns.
double centiseconds(double s)
{
  return std::round(s * 100) / 100;
}
uint64_t to_ns_sent(double s)
{
  return uint64_t(std::max<long long>(0, std::llround(s * 100))) * 10000000ull;
}

}  // namespace

// Nevisa live: one WebSocket connection (one or more REQ/SOES/EOES sessions).
class NevisaLiveSession {
 public:
  NevisaLiveSession(NevisaLiveService &svc, Core &core, size_t record,
                    SoupWebsocketConnection *conn, GSocket *socket);
  ~NevisaLiveSession();
  NevisaLiveSession(const NevisaLiveSession &) = delete;
  NevisaLiveSession &operator=(const NevisaLiveSession &) = delete;

  // The server speaks first: INIT (unless nevisa_live_no_init), never delayed.
  void start();
  bool is_closed() const { return closed_; }
  void close(gushort code, const char *reason)
  {
    if (!aborted_ &&
        soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN) {
      closing_with(code);
      soup_websocket_connection_close(conn_.get(), code, reason);
    }
  }

 private:
  struct Outgoing {    // one text and/or a close, sent after the delay
    std::string text;  // empty: no text (a close only)
    bool is_final = false;
    NevisaLiveRecord::Final final{};
    gushort close_code = 0;  // then close with this code
    bool forced = false;     // close_after: a code libsoup refuses goes out as a raw frame
    const char *fault = "";  // NevisaLiveRecord::fault when delivered
  };

  friend struct SessionSignals<NevisaLiveSession>;
  static constexpr const char *kName = "nevisa-live";  // in logs

  void on_text(const std::string &text);
  void on_binary(const uint8_t *data, size_t n);
  void on_closed();
  void on_req(const ClientText &t);
  void on_soes();
  void on_eoes();
  // The nth binary message's framing: is it a WAV file (then its header is checked against the
  // session's format, mismatches go to errors)? Returns the PCM's offset.
  size_t check_framing(const uint8_t *data, size_t n, size_t nth, bool *wav,
                       std::vector<std::string> *errors) const;
  // The completed segments' finals, then (with partial) a partial of the open one.
  void queue_results(bool partial);
  Outgoing final_message(const SpeechDetector::Segment &seg) const;
  std::string script_line(uint64_t index) const;
  // nevisa_live_no_usage_after: NO-USAGE-REMAINED, then a normal close.
  void no_usage();
  void enqueue_text(std::string text)
  {
    Outgoing o;
    o.text = std::move(text);
    enqueue(std::move(o));
  }
  // Texts leave in the order they were made; with delay_ms each waits that long.
  void enqueue(Outgoing o) { queue_.push(std::move(o)); }
  void deliver(const Outgoing &o);
  void send_text(const std::string &text);
  // The emulator closes with code: recorded now (the client may never answer the close).
  void closing_with(gushort code)
  {
    close_code_ = code;
    update([&](NevisaLiveRecord &r) { r.close_code = code; });
  }
  template <typename F>
  void update(F &&f)
  {
    core_.update_nevisa_live(record_, std::forward<F>(f));
  }

  NevisaLiveService &svc_;
  Core &core_;
  const Options &opts_;
  const size_t record_;
  const unsigned serial_;  // 1-based, for log lines
  GObjectPtr<SoupWebsocketConnection> conn_;
  GObjectPtr<GSocket> socket_;                // may be null
  unsigned rate_ = kDefaultRate;              // the session's sample rate (the REQ's when usable)
  std::unique_ptr<SpeechDetector> detector_;  // between SOES and EOES
  size_t n_binary_ = 0;                       // binary messages on this connection
  bool closing_ = false;  // a close is queued: input is recorded, no longer answered
  bool closed_ = false;
  bool aborted_ = false;    // the socket was shut down under libsoup (raw close frame)
  gushort close_code_ = 0;  // the emulator's close code, when it closed
  uint64_t partial_index_ = UINT64_MAX;
  unsigned partial_count_ = 0;
  DelayedQueue<Outgoing> queue_;
};

NevisaLiveService::NevisaLiveService(Core &core, SoupServer *server, LiveFaults &faults,
                                     const NevisaService &accounts)
    : core_(core), server_(server), faults_(faults), accounts_(accounts)
{
  soup_server_add_handler(server_, kNevisaLivePath, http_cb, this, nullptr);
  soup_server_add_websocket_handler(server_, kNevisaLivePath, nullptr, nullptr, websocket_cb, this,
                                    nullptr);
}

NevisaLiveService::~NevisaLiveService()
{
  soup_server_remove_handler(server_, kNevisaLivePath);
  sessions_.clear();
}

void NevisaLiveService::close_all(gushort code, const char *reason)
{
  for (auto &s : sessions_)
    s->close(code, reason);
}

size_t NevisaLiveService::open_count() const
{
  return size_t(std::count_if(sessions_.begin(), sessions_.end(),
                              [](const auto &s) { return !s->is_closed(); }));
}

void NevisaLiveService::http_cb(SoupServer *, SoupServerMessage *msg, const char *path,
                                GHashTable *, gpointer self)
{
  guarded("nevisa-live handshake",
          [&] { static_cast<NevisaLiveService *>(self)->on_http(msg, path); });
}

void NevisaLiveService::websocket_cb(SoupServer *, SoupServerMessage *msg, const char *,
                                     SoupWebsocketConnection *conn, gpointer self)
{
  guarded("nevisa-live connect",
          [&] { static_cast<NevisaLiveService *>(self)->on_websocket(msg, conn); });
}

void NevisaLiveService::on_http(SoupServerMessage *msg, const char *path)
{
  if (g_strcmp0(path, kNevisaLivePath) != 0) {
    respond_detail(msg, SOUP_STATUS_NOT_FOUND, "Not found.");
    return;
  }
  SoupMessageHeaders *req = soup_server_message_get_request_headers(msg);
  if (soup_message_headers_header_contains(req, "Upgrade", "websocket")) {
    core_.count_handshake();
    if (faults_.handshake_fault(msg, path))
      return;
  }
  std::string auth, key;
  query_credentials(msg, &auth, &key);
  if (auth.empty() || key.empty()) {
    g_info("request on %s rejected: 401 (no Authorization or api-key in the query)", path);
    respond_detail(msg, SOUP_STATUS_UNAUTHORIZED, "Authentication credentials were not provided.");
  } else if (!accounts_.accepts(auth, key)) {
    g_info("request on %s rejected: 401 (wrong Authorization or api-key)", path);
    respond_detail(msg, SOUP_STATUS_UNAUTHORIZED, "Invalid Authorization or api-key.");
  }
  // No status set: libsoup validates the WebSocket handshake next (400 if it is not one).
}

void NevisaLiveService::on_websocket(SoupServerMessage *msg, SoupWebsocketConnection *conn)
{
  NevisaLiveRecord rec;
  query_credentials(msg, &rec.query_authorization, &rec.query_api_key);
  const size_t index = core_.add_nevisa_live(std::move(rec));
  sessions_.push_back(
      std::make_unique<NevisaLiveSession>(*this, core_, index, conn, websocket_socket(msg, conn)));
  g_info("nevisa-live %zu: connected", index + 1);
  sessions_.back()->start();
}

NevisaLiveSession::NevisaLiveSession(NevisaLiveService &svc, Core &core, size_t record,
                                     SoupWebsocketConnection *conn, GSocket *socket)
    : svc_(svc),
      core_(core),
      opts_(core.opts),
      record_(record),
      serial_(unsigned(record + 1)),
      conn_(SOUP_WEBSOCKET_CONNECTION(g_object_ref(conn))),
      socket_(socket ? G_SOCKET(g_object_ref(socket)) : nullptr),
      queue_(
          "nevisa-live timer", opts_.delay_ms, [this](const Outgoing &o) { deliver(o); },
          [this] { return closed_; })
{
  soup_websocket_connection_set_max_incoming_payload_size(conn, kMaxPayload);
  SessionSignals<NevisaLiveSession>::connect(conn, this);
}

NevisaLiveSession::~NevisaLiveSession()
{
  g_signal_handlers_disconnect_by_data(conn_.get(), this);
  queue_.clear();
}

void NevisaLiveSession::start()
{
  if (opts_.nevisa_live_no_init) {
    g_info("nevisa-live %u: no INIT, as asked", serial_);
    return;
  }
  if (soup_websocket_connection_get_state(conn_.get()) == SOUP_WEBSOCKET_STATE_OPEN)
    send_text(subject_message("INIT"));
}

void NevisaLiveSession::on_text(const std::string &text)
{
  const ClientText t = parse_client_text(text);
  update([&](NevisaLiveRecord &r) { r.subjects_received.push_back(t.subject); });
  if (t.subject == "EOES")
    update([](NevisaLiveRecord &r) { ++r.eoes_count; });
  if (closing_)
    return;
  if (t.subject == "REQ")
    on_req(t);
  else if (t.subject == "SOES")
    on_soes();
  else if (t.subject == "EOES")
    on_eoes();
  else
    g_info("nevisa-live %u: text with subject %s ignored", serial_, t.subject.c_str());
}

void NevisaLiveSession::on_req(const ClientText &t)
{
  if (detector_)
    g_info("nevisa-live %u: REQ before EOES; the open session is dropped", serial_);
  detector_.reset();  // a new session: audio waits for SOES
  const bool usable = t.rate >= 1000 && t.rate <= 384000;
  rate_ = usable ? unsigned(t.rate) : kDefaultRate;
  update([&](NevisaLiveRecord &r) {
    r.req_sample_rate = t.rate;
    r.req_mode = t.mode;
  });
  g_info("nevisa-live %u: REQ mode %s, %d Hz%s", serial_, t.mode.c_str(), t.rate,
         usable ? "" : " (not usable: 16000 Hz assumed)");
  if (opts_.nevisa_live_no_req_response)
    g_info("nevisa-live %u: REQ not answered, as asked", serial_);
  else
    enqueue_text(ok_message("REQ-RESPONSE"));
}

void NevisaLiveSession::on_soes()
{
  // Times count from the first PCM byte after SOES; script lines from the first one.
  detector_ = std::make_unique<SpeechDetector>(rate_, 1, opts_.silence_ms, opts_.threshold_dbfs);
  partial_index_ = UINT64_MAX;
  partial_count_ = 0;
  g_info("nevisa-live %u: SOES, %u Hz", serial_, rate_);
  if (opts_.nevisa_live_no_soes_response)
    g_info("nevisa-live %u: SOES not answered, as asked", serial_);
  else
    enqueue_text(ok_message("SOES-RESPONSE"));
  if (opts_.nevisa_live_unknown_subject)
    enqueue_text(notice_message());
  if (opts_.nevisa_live_no_usage_after >= 0 &&
      n_binary_ >= size_t(opts_.nevisa_live_no_usage_after))
    no_usage();
}

void NevisaLiveSession::on_eoes()
{
  g_info("nevisa-live %u: EOES after %zu binary messages", serial_, n_binary_);
  if (detector_) {
    detector_->flush();
    queue_results(false);
    detector_.reset();
  }
  if (opts_.nevisa_live_no_eoes_response)
    g_info("nevisa-live %u: EOES not answered, as asked", serial_);
  else
    enqueue_text(ok_message("EOES-RESPONSE"));
}

void NevisaLiveSession::on_binary(const uint8_t *data, size_t n)
{
  const size_t nth = ++n_binary_;
  const bool audio = detector_ != nullptr;  // between SOES and EOES
  bool wav = false;
  std::vector<std::string> errors;
  const size_t offset = audio ? check_framing(data, n, nth, &wav, &errors) : 0;
  update([&](NevisaLiveRecord &r) {
    r.binary_sizes.push_back(n);
    if (!audio) {
      r.binary_before_soes = true;
      return;
    }
    ++(wav ? r.wav_messages : r.raw_messages);
    r.pcm_bytes += n - offset;
    r.framing_errors.insert(r.framing_errors.end(), errors.begin(), errors.end());
  });
  for (const auto &e : errors)
    g_info("nevisa-live %u: framing error: %s", serial_, e.c_str());
  if (audio)
    detector_->feed(data + offset, n - offset);
  else
    g_info("nevisa-live %u: binary message %zu outside SOES..EOES ignored", serial_, nth);
  if (closing_)
    return;
  if (opts_.close_after > 0 && nth == size_t(opts_.close_after) &&
      svc_.faults().take_forced_close()) {
    closing_ = true;
    Outgoing o;
    o.close_code = gushort(opts_.close_code);
    o.forced = true;
    o.fault = "close-after";
    g_info("nevisa-live %u: closing (%d) after %zu binary messages, as asked", serial_,
           opts_.close_code, nth);
    enqueue(std::move(o));
    return;
  }
  if (audio)
    queue_results(true);
  if (opts_.nevisa_live_no_usage_after >= 0 && nth >= size_t(opts_.nevisa_live_no_usage_after))
    no_usage();
}

size_t NevisaLiveSession::check_framing(const uint8_t *data, size_t n, size_t nth, bool *wav,
                                        std::vector<std::string> *errors) const
{
  const std::string where = "message " + std::to_string(nth) + ": ";
  size_t offset = 0;
  if (n >= 4 && memcmp(data, "RIFF", 4) == 0) {
    *wav = true;
    if (n < kWavHeaderSize) {
      errors->push_back(where + "starts with RIFF but has " + std::to_string(n) +
                        " bytes; a WAV header has 44");
      return n;
    }
    offset = kWavHeaderSize;
    const WavHeader h = parse_wav_header(data, n);
    if (!h.valid) {
      errors->push_back(where + "WAV header: " + h.error);
    } else {
      if (h.channels != 1)
        errors->push_back(where + "WAV has " + std::to_string(h.channels) + " channels, not mono");
      if (h.rate != rate_)
        errors->push_back(where + "WAV rate " + std::to_string(h.rate) + " Hz, the session's is " +
                          std::to_string(rate_));
    }
    if (memcmp(data + 36, "data", 4) == 0 && le32(data + 40) != n - kWavHeaderSize)
      errors->push_back(where + "WAV data size " + std::to_string(le32(data + 40)) +
                        ", the message has " + std::to_string(n - kWavHeaderSize) + " PCM bytes");
  }
  if ((n - offset) % 2)
    errors->push_back(where + "odd PCM byte count " + std::to_string(n - offset));
  return offset;
}

void NevisaLiveSession::queue_results(bool partial)
{
  while (detector_->has_completed())
    enqueue(final_message(detector_->pop_completed()));
  if (!partial)
    return;
  const SpeechDetector::Segment *open = detector_->open_confirmed();
  if (!open)
    return;
  if (partial_index_ != open->index) {
    partial_index_ = open->index;
    partial_count_ = 0;
  }
  enqueue_text(partial_message(first_words(script_line(open->index), ++partial_count_)));
}

std::string NevisaLiveSession::script_line(uint64_t index) const
{
  const std::string &line = index < opts_.script.size() ? opts_.script[index] : kPlaceholder;
  g_autofree char *valid = g_utf8_make_valid(line.c_str(), -1);
  return valid;
}

// Words spread evenly over the segment's speech span, in seconds from the session's start.
NevisaLiveSession::Outgoing NevisaLiveSession::final_message(
    const SpeechDetector::Segment &seg) const
{
  Outgoing out;
  out.is_final = true;
  out.final.text = script_line(seg.index);
  const std::vector<std::string> words = split_on_spaces(out.final.text);
  const double start = double(detector_->to_ns(seg.start)) / 1e9;
  const double end = double(detector_->to_ns(seg.end)) / 1e9;
  out.final.start_ns = to_ns_sent(start);
  out.final.end_ns = to_ns_sent(end);
  JsonWriter w;
  w.begin_object().key("transcription").begin_object().key("result").begin_array();
  const size_t n = words.size();
  for (size_t i = 0; i < n; ++i) {
    const double a = centiseconds(start + (end - start) * double(i) / double(n));
    const double b = centiseconds(start + (end - start) * double(i + 1) / double(n));
    w.begin_object()
        .key("conf")
        .number(i % 3 == 2 ? kLowConf : kConf)
        .key("start")
        .number(a)
        .key("end")
        .number(b)
        .key("word")
        .string(words[i])
        .end_object();
    if (i == 0)
      out.final.start_ns = to_ns_sent(a);
    if (i + 1 == n)
      out.final.end_ns = to_ns_sent(b);
  }
  w.end_array().key("text").string(out.final.text).end_object().end_object();
  out.text = w.str();
  return out;
}

void NevisaLiveSession::no_usage()
{
  closing_ = true;
  Outgoing o;
  o.text = subject_message("NO-USAGE-REMAINED");
  o.close_code = SOUP_WEBSOCKET_CLOSE_NORMAL;
  o.fault = "no-usage";
  g_info("nevisa-live %u: no usage remained after %zu binary messages, as asked", serial_,
         n_binary_);
  enqueue(std::move(o));
}

void NevisaLiveSession::on_closed()
{
  closed_ = true;
  queue_.clear();
  const int code =
      close_code_ ? close_code_ : int(soup_websocket_connection_get_close_code(conn_.get()));
  g_info("nevisa-live %u: closed (code %d) after %zu binary messages", serial_, code, n_binary_);
  update([&](NevisaLiveRecord &r) {
    r.closed = true;
    r.close_code = code;
  });
  svc_.session_closed();
}

void NevisaLiveSession::deliver(const Outgoing &o)
{
  if (closed_ || aborted_ ||
      soup_websocket_connection_get_state(conn_.get()) != SOUP_WEBSOCKET_STATE_OPEN)
    return;
  if (!o.text.empty())
    send_text(o.text);
  if (o.is_final) {
    update([&](NevisaLiveRecord &r) { r.finals.push_back(o.final); });
    g_info("nevisa-live %u: final [%.2f - %.2f] %s", serial_, double(o.final.start_ns) / 1e9,
           double(o.final.end_ns) / 1e9, o.final.text.c_str());
  }
  if (*o.fault)
    update([&](NevisaLiveRecord &r) { r.fault = o.fault; });
  if (!o.close_code)
    return;
  closing_with(o.close_code);
  if (o.forced)
    aborted_ = forced_close(conn_.get(), socket_.get(), o.close_code);
  else
    soup_websocket_connection_close(conn_.get(), o.close_code, nullptr);
}

void NevisaLiveSession::send_text(const std::string &text)
{
  soup_websocket_connection_send_text(conn_.get(), text.c_str());
  update([&](NevisaLiveRecord &r) { r.sent.push_back(text); });
}

}  // namespace detail
}  // namespace emu
