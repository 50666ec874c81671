// Local test double of the Harf (live WebSocket and files REST) and Nevisa services. See
// emulator.h.
//
// Layout:
//   - helpers: WAV header parsing, timedelta formatting, JSON replies
//   - SpeechDetector: energy-based segmentation of the received PCM
//   - REST helpers: JsonWriter, AudioAnalyzer (streaming RIFF/WAVE + detector),
//     MultipartReader (streaming multipart), RequestBody, transcripts
//   - HarfLiveSession / HarfLiveService: the Harf live WebSocket endpoint
//   - HarfRestService, NevisaService: the REST endpoints; RestRouter: their
//     shared front (body streaming, faults, records, delayed answers)
//   - detail::Core: the SoupServer on its own thread, the shared records
//   - Emulator: the public facade
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
#include <list>
#include <map>
#include <set>
#include <thread>
#include <utility>

namespace emu {
namespace {

template <typename T>
struct GObjectDeleter {
  void operator()(T *p) const
  {
    if (p)
      g_object_unref(p);
  }
};
template <typename T>
using GObjectPtr = std::unique_ptr<T, GObjectDeleter<T>>;

struct SourceDeleter {
  void operator()(GSource *s) const
  {
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
void guarded(const char *where, F &&f) noexcept
{
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

uint16_t le16(const uint8_t *p)
{
  return uint16_t(p[0] | (p[1] << 8));
}
uint32_t le32(const uint8_t *p)
{
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}

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
        threshold_(threshold_dbfs)
  {
  }

  void feed(const uint8_t *data, size_t n)
  {
    pending_.insert(pending_.end(), data, data + n);
    const size_t frame_bytes = frame_samples_ * channels_ * 2;
    size_t off = 0;
    for (; pending_.size() - off >= frame_bytes; off += frame_bytes)
      process_frame(pending_.data() + off, frame_samples_);
    pending_.erase(pending_.begin(), pending_.begin() + off);
  }

  // End of audio: analyse the partial frame left over, close the open segment.
  void flush()
  {
    const size_t samples = pending_.size() / (channels_ * 2);
    if (samples)
      process_frame(pending_.data(), samples);
    pending_.clear();
    if (open_)
      close_open();
  }

  bool has_completed() const { return !completed_.empty(); }
  Segment pop_completed()
  {
    Segment s = completed_.front();
    completed_.pop_front();
    return s;
  }
  const Segment *open_confirmed() const { return open_ && cur_.confirmed ? &cur_ : nullptr; }
  uint64_t to_ns(uint64_t samples) const { return samples * 1000000000ull / rate_; }

 private:
  void process_frame(const uint8_t *p, size_t samples)
  {
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
      if (silence_run_ >= silence_limit_)
        close_open();
    }
  }

  void close_open()
  {
    if (cur_.confirmed)
      completed_.push_back(cur_);  // shorter than 100 ms of speech: dropped
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

// ---------------------------------------------------------------------------
// REST helpers: constants, a JSON writer, transcript words.

constexpr const char *kHarfRestPaths[] = {"/api/transcribe_files/", "/api/transcribe_files"};
constexpr const char *kNevisaLoginPaths[] = {"/account/login", "/account/login/"};
constexpr char kNevisaPrefix[] = "/nevisa";  // the Nevisa API base is <server>/nevisa/
constexpr char kBodyKey[] = "emu-request-body";
constexpr guint kStatusTooManyRequests = 429;  // not in libsoup's enum
constexpr size_t kMaxSmallBody = 1u << 20;     // non-multipart bodies kept for parsing
constexpr size_t kMaxFieldText = 64u << 10;    // text kept per non-file part
constexpr size_t kMaxPartHeaders = 16u << 10;
constexpr size_t kMaxRecordedAnswer = 4096;
constexpr uint64_t kNonWavSegmentNs = 3000000000ull;  // non-WAV uploads: one script line per 3 s
constexpr char kNevisaFailure[] = "خطا در پردازش: audio decode failed";
constexpr char kServerErrorHtml[] =
    "<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>Server Error "
    "(500)</title>\n</head>\n<body>\n"
    "  <h1>Server Error (500)</h1><p></p>\n</body>\n</html>\n";
constexpr char kNotJsonHtml[] =
    "<!doctype html>\n<html lang=\"fa\" dir=\"rtl\">\n<head>\n  <title>در دست "
    "تعمیر</title>\n</head>\n<body>\n"
    "  <h1>سرویس موقتاً در دست تعمیر است</h1>\n  <p>The service is under "
    "maintenance.</p>\n</body>\n</html>\n";

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
  JsonWriter &number(double v)
  {  // 2 decimals, trailing zeros dropped: 1.0, 0.9, 1.71
    value();
    char buf[G_ASCII_DTOSTR_BUF_SIZE];
    std::string s = g_ascii_formatd(buf, sizeof buf, "%.2f", v);
    while (s.size() > 3 && s.back() == '0' && s[s.size() - 2] != '.')
      s.pop_back();
    out_ += s;
    return *this;
  }
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
  void append_string(const std::string &s)
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

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

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

// DRF's TokenAuthentication (and a Bearer variant): "<keyword> <key>", keyword
// case-insensitive. An empty expected token accepts anything.
bool token_authorized(const std::string &token, const char *header)
{
  if (token.empty())
    return true;
  if (!header)
    return false;
  g_auto(GStrv) parts = g_strsplit_set(header, " \t", -1);
  std::vector<const char *> words;
  for (char **p = parts; *p; ++p)
    if (**p)
      words.push_back(*p);
  return words.size() == 2 &&
         (g_ascii_strcasecmp(words[0], "Token") == 0 ||
          g_ascii_strcasecmp(words[0], "Bearer") == 0) &&
         token == words[1];
}

// A JSON object's text with its "password" member replaced (the body parsed before).
std::string redact_password(const std::string &json)
{
  GObjectPtr<JsonParser> parser(json_parser_new());
  if (!json_parser_load_from_data(parser.get(), json.data(), gssize(json.size()), nullptr))
    return json;
  JsonNode *root = json_parser_get_root(parser.get());
  if (!JSON_NODE_HOLDS_OBJECT(root) ||
      !json_object_has_member(json_node_get_object(root), "password"))
    return json;
  json_object_set_string_member(json_node_get_object(root), "password", "(redacted)");
  g_autofree char *text = json_to_string(root, FALSE);
  return text;
}

std::string random_hex(size_t n)
{
  std::string s;
  while (s.size() < n) {
    g_autofree char *uuid = g_uuid_string_random();
    for (const char *c = uuid; *c; ++c)
      if (*c != '-')
        s += *c;
  }
  s.resize(n);
  return s;
}

std::string new_task_id()
{
  g_autofree char *uuid = g_uuid_string_random();
  return uuid;
}

// DRF's BooleanField spellings.
bool parse_bool(std::string s, bool *out)
{
  for (auto &c : s)
    c = g_ascii_tolower(c);
  if (s == "true" || s == "1" || s == "yes" || s == "on") {
    *out = true;
    return true;
  }
  if (s == "false" || s == "0" || s == "no" || s == "off") {
    *out = false;
    return true;
  }
  return false;
}

std::string truncate_utf8(const std::string &s, size_t max)
{
  if (s.size() <= max)
    return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80)
    --n;  // do not split a character
  return s.substr(0, n);
}

std::string script_line(const Options &o, size_t i)
{
  const std::string &line = i < o.script.size() ? o.script[i] : std::string(kPlaceholder);
  g_autofree char *valid = g_utf8_make_valid(line.c_str(), -1);
  return valid;
}

// A transcript line's words. Harf wraps uncertain words in [brackets] (a bracket
// may span several words); the words come back without the brackets.
struct Word {
  std::string text;
  bool uncertain = false;
};

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

// ---------------------------------------------------------------------------
// Streaming RIFF/WAVE reader: walks the chunks as bytes arrive (any chunks
// before "data" are skipped, WAVE_FORMAT_EXTENSIBLE is understood) and runs the
// SpeechDetector over 16-bit PCM data. Nothing but the detector's last partial
// frame is buffered.
class AudioAnalyzer {
 public:
  struct Result {
    bool pcm = false;  // a 16-bit PCM WAV whose data was analysed
    uint64_t data_bytes = 0, duration_ns = 0;
    std::vector<std::pair<uint64_t, uint64_t>> segments_ns;
  };

  explicit AudioAnalyzer(const Options &o) : opts_(o) {}

  void feed(const uint8_t *p, size_t n)
  {
    while (n > 0 && state_ != State::Done) {
      size_t k = 0;
      switch (state_) {
        case State::Riff:
        case State::ChunkHeader:
        case State::Fmt:
          k = std::min(n, need_ - buf_.size());
          buf_.insert(buf_.end(), p, p + k);
          if (buf_.size() == need_)
            header_complete();
          break;
        case State::Skip:
          k = size_t(std::min<uint64_t>(n, remaining_));
          remaining_ -= k;
          if (remaining_ == 0)
            expect_chunk_header();
          break;
        case State::Data:
          k = unbounded_ ? n : size_t(std::min<uint64_t>(n, remaining_));
          detector_->feed(p, k);
          result_.data_bytes += k;
          if (!unbounded_ && (remaining_ -= k) == 0)
            state_ = State::Done;  // later chunks are not audio
          break;
        case State::Done:
          break;
      }
      p += k;
      n -= k;
    }
  }

  void finish()
  {
    if (finished_)
      return;
    finished_ = true;
    if (detector_) {
      detector_->flush();
      while (detector_->has_completed()) {
        const auto seg = detector_->pop_completed();
        result_.segments_ns.emplace_back(detector_->to_ns(seg.start), detector_->to_ns(seg.end));
      }
      result_.pcm = true;
      result_.duration_ns = detector_->to_ns(result_.data_bytes / block_align_);
      detector_.reset();
    } else if (state_ == State::Riff) {
      fail("not a RIFF/WAVE file");
    } else if (header_.error.empty()) {
      fail("no \"data\" chunk");
    }
  }

  bool is_riff() const { return riff_; }
  const WavHeader &header() const { return header_; }
  const Result &result() const { return result_; }

 private:
  enum class State { Riff, ChunkHeader, Fmt, Skip, Data, Done };

  void expect_chunk_header()
  {
    state_ = State::ChunkHeader;
    need_ = 8;
    buf_.clear();
  }
  void fail(std::string error)
  {
    if (header_.error.empty())
      header_.error = std::move(error);
    state_ = State::Done;
  }

  void header_complete()
  {
    const uint8_t *b = buf_.data();
    if (state_ == State::Riff) {
      if (memcmp(b, "RIFF", 4) != 0 || memcmp(b + 8, "WAVE", 4) != 0)
        return fail("not a RIFF/WAVE file");
      riff_ = true;
      header_.riff_size = le32(b + 4);
      return expect_chunk_header();
    }
    if (state_ == State::Fmt) {
      parse_fmt();
      return expect_chunk_header();
    }
    const uint32_t size = le32(b + 4);
    if (memcmp(b, "fmt ", 4) == 0) {
      if (size < 16 || size > 1024)
        return fail("\"fmt \" chunk of " + std::to_string(size) + " bytes");
      fmt_size_ = size;
      need_ = size + (size & 1);
      buf_.clear();
      state_ = State::Fmt;
    } else if (memcmp(b, "data", 4) == 0) {
      header_.data_size = size;
      if (!fmt_seen_)
        return fail("\"data\" chunk before \"fmt \"");
      if (!header_.error.empty())
        return fail(header_.error);  // not 16-bit PCM: not analysed
      header_.valid = true;
      unbounded_ =
          size == 0 || size == 0xFFFFFFFFu;  // written by a streaming encoder: read to the end
      remaining_ = size;
      detector_ = std::make_unique<SpeechDetector>(header_.rate, header_.channels, opts_.silence_ms,
                                                   opts_.threshold_dbfs);
      state_ = State::Data;
    } else {
      remaining_ = uint64_t(size) + (size & 1);
      state_ = State::Skip;
      if (remaining_ == 0)
        expect_chunk_header();
    }
  }

  void parse_fmt()
  {
    const uint8_t *f = buf_.data();
    fmt_seen_ = true;
    header_.audio_format = le16(f);
    header_.channels = le16(f + 2);
    header_.rate = le32(f + 4);
    header_.bits = le16(f + 14);
    block_align_ = le16(f + 12);
    uint16_t format = header_.audio_format;
    if (format == 0xFFFE && fmt_size_ >= 40)
      format = le16(f + 24);  // SubFormat GUID starts with the code
    if (format != 1)
      header_.error = "audio format " + std::to_string(header_.audio_format) + " is not PCM (1)";
    else if (header_.bits != 16)
      header_.error = std::to_string(header_.bits) + " bits per sample; only 16 is supported";
    else if (header_.channels < 1 || header_.channels > 16)
      header_.error = std::to_string(header_.channels) + " channels";
    else if (header_.rate < 1000 || header_.rate > 384000)
      header_.error = "sample rate " + std::to_string(header_.rate);
    else if (le32(f + 8) != header_.rate * header_.channels * 2u ||
             block_align_ != header_.channels * 2u)
      header_.error = "byte rate or block align does not match the format";
  }

  const Options &opts_;
  State state_ = State::Riff;
  std::vector<uint8_t> buf_;  // header bytes being collected
  size_t need_ = 12;
  uint64_t remaining_ = 0;
  uint32_t fmt_size_ = 0;
  uint16_t block_align_ = 0;
  bool riff_ = false, fmt_seen_ = false, unbounded_ = false, finished_ = false;
  WavHeader header_;
  std::unique_ptr<SpeechDetector> detector_;
  Result result_;
};

// ---------------------------------------------------------------------------
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

// ---------------------------------------------------------------------------
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

class RequestBody {
 public:
  RequestBody(SoupMessageHeaders *headers, const Options &opts) : opts_(opts)
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

  void feed(const uint8_t *p, size_t n)
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

  // After the last chunk: closes the multipart stream, parses JSON or urlencoded bodies.
  void finish()
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
  const ReceivedPart *file(const char *name) const
  {
    for (const auto &p : parts_)
      if (p->is_file() && p->info.name == name)
        return p.get();
    return nullptr;
  }

  // A text field: a JSON member (strings, numbers and booleans as text), an
  // urlencoded field or a multipart part without a filename.
  bool field(const char *name, std::string *value) const
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

 private:
  void begin_part(SoupMessageHeaders *h)
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

  void part_data(const uint8_t *p, size_t n)
  {
    ReceivedPart &part = *parts_.back();
    part.info.size += n;
    g_checksum_update(part.checksum, p, gssize(n));
    part.audio.feed(p, n);
    if (!part.is_file() && part.info.text.size() < kMaxFieldText)
      part.info.text.append(reinterpret_cast<const char *>(p),
                            std::min(n, kMaxFieldText - part.info.text.size()));
  }

  void end_part()
  {
    ReceivedPart &part = *parts_.back();
    part.info.sha256 = g_checksum_get_string(part.checksum);
    g_checksum_free(std::exchange(part.checksum, nullptr));
    part.audio.finish();
    if (part.audio.is_riff())
      part.info.wav = part.audio.header();
  }

  void parse_urlencoded()
  {
    g_auto(GStrv) pairs = g_strsplit(raw_.c_str(), "&", -1);
    for (char **p = pairs; *p; ++p) {
      if (!**p)
        continue;
      std::string pair = *p;
      std::replace(pair.begin(), pair.end(), '+', ' ');
      const size_t eq = pair.find('=');
      g_autofree char *name = g_uri_unescape_string(pair.substr(0, eq).c_str(), nullptr);
      g_autofree char *value = g_uri_unescape_string(
          eq == std::string::npos ? "" : pair.substr(eq + 1).c_str(), nullptr);
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

// ---------------------------------------------------------------------------
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

class RestRouter;

class HarfLiveService;

}  // namespace

// ---------------------------------------------------------------------------
namespace detail {

// The SoupServer, its thread and main context, and the records shared with
// other threads (guarded by mu_, changes signalled on cond_).
class Core {
 public:
  explicit Core(Options o) : opts(std::move(o))
  {
    g_mutex_init(&mu_);
    g_cond_init(&cond_);
  }
  ~Core();

  bool start(uint16_t port, GError **error);
  void stop();

  // Records (any thread).
  size_t add_record(SessionRecord r)
  {
    Locker l(&mu_);
    records_.push_back(std::move(r));
    g_cond_broadcast(&cond_);
    return records_.size() - 1;
  }
  template <typename F>
  void update_record(size_t i, F &&f)
  {
    Locker l(&mu_);
    f(records_.at(i));
    g_cond_broadcast(&cond_);
  }
  void count_handshake()
  {
    Locker l(&mu_);
    ++handshakes_;
  }
  uint16_t port() const
  {
    Locker l(&mu_);
    return port_;
  }
  int handshakes() const
  {
    Locker l(&mu_);
    return handshakes_;
  }
  std::vector<SessionRecord> records() const
  {
    Locker l(&mu_);
    return records_;
  }
  // Waits (on cond_) until pred(records) holds; false on timeout.
  bool wait_until(const std::function<bool(const std::vector<SessionRecord> &)> &pred,
                  unsigned timeout_ms) const
  {
    return wait_for(pred, records_, timeout_ms);
  }

  // REST records (any thread).
  size_t add_rest(RestRecord r)
  {
    Locker l(&mu_);
    rest_records_.push_back(std::move(r));
    g_cond_broadcast(&cond_);
    return rest_records_.size() - 1;
  }
  template <typename F>
  void update_rest(size_t i, F &&f)
  {
    Locker l(&mu_);
    f(rest_records_.at(i));
    g_cond_broadcast(&cond_);
  }
  std::vector<RestRecord> rest_records() const
  {
    Locker l(&mu_);
    return rest_records_;
  }
  bool wait_rest(const std::function<bool(const std::vector<RestRecord> &)> &pred,
                 unsigned timeout_ms) const
  {
    return wait_for(pred, rest_records_, timeout_ms);
  }

  // Server thread: a connection went away.
  void connection_closed();

  const Options opts;

 private:
  template <typename Pred, typename Records>
  bool wait_for(const Pred &pred, const Records &records, unsigned timeout_ms) const
  {
    const gint64 deadline = g_get_monotonic_time() + gint64(timeout_ms) * 1000;
    Locker l(&mu_);
    while (!pred(records))
      if (!g_cond_wait_until(&cond_, &mu_, deadline))
        return pred(records);
    return true;
  }
  void thread_main(uint16_t port);
  static gboolean stop_cb(gpointer self);
  static gboolean quit_cb(gpointer self);

  mutable GMutex mu_;
  mutable GCond cond_;
  std::vector<SessionRecord> records_;
  std::vector<RestRecord> rest_records_;
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
  std::unique_ptr<RestRouter> rest_;
};

}  // namespace detail

namespace {

// ---------------------------------------------------------------------------
// Harf live: one WebSocket connection.
class HarfLiveSession {
 public:
  HarfLiveSession(HarfLiveService &svc, detail::Core &core, size_t record,
                  SoupWebsocketConnection *conn);
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
  HarfLiveService(detail::Core &core, SoupServer *server) : core_(core), server_(server)
  {
    for (const char *path : kHarfLivePaths) {
      soup_server_add_handler(server_, path, http_cb, this, nullptr);
      soup_server_add_websocket_handler(server_, path, nullptr, nullptr, websocket_cb, this,
                                        nullptr);
    }
  }
  ~HarfLiveService()
  {
    for (const char *path : kHarfLivePaths)
      soup_server_remove_handler(server_, path);
    sessions_.clear();
  }
  HarfLiveService(const HarfLiveService &) = delete;
  HarfLiveService &operator=(const HarfLiveService &) = delete;

  void close_all(gushort code, const char *reason)
  {
    for (auto &s : sessions_)
      s->close(code, reason);
  }
  size_t open_count() const
  {
    return size_t(std::count_if(sessions_.begin(), sessions_.end(),
                                [](const auto &s) { return !s->is_closed(); }));
  }
  void session_closed() { core_.connection_closed(); }

 private:
  static void http_cb(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
                      gpointer self)
  {
    guarded("harf-live handshake",
            [&] { static_cast<HarfLiveService *>(self)->on_http(msg, path); });
  }
  static void websocket_cb(SoupServer *, SoupServerMessage *msg, const char *path,
                           SoupWebsocketConnection *conn, gpointer self)
  {
    guarded("harf-live connect",
            [&] { static_cast<HarfLiveService *>(self)->on_websocket(msg, path, conn); });
  }

  // Runs before libsoup's WebSocket handshake; setting a status here stops the upgrade.
  void on_http(SoupServerMessage *msg, const char *path)
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
      soup_message_headers_replace(soup_server_message_get_response_headers(msg),
                                   "WWW-Authenticate", "Token");
      respond_error(msg, SOUP_STATUS_UNAUTHORIZED, "Invalid token.");
    }
    // No status set: libsoup validates the WebSocket handshake next (400 if it is not one).
  }

  void on_websocket(SoupServerMessage *msg, const char *path, SoupWebsocketConnection *conn)
  {
    const char *auth =
        soup_message_headers_get_one(soup_server_message_get_request_headers(msg), "Authorization");
    SessionRecord rec;
    rec.authorization = auth ? auth : "";
    const size_t index = core_.add_record(std::move(rec));
    sessions_.push_back(std::make_unique<HarfLiveSession>(*this, core_, index, conn));
    g_info("session %zu: connected on %s", index + 1, path);
  }

  static void respond_error(SoupServerMessage *msg, guint status, const char *detail)
  {
    const std::string body = detail_json(detail);
    soup_server_message_set_status(msg, status, nullptr);
    soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY, body.data(),
                                     body.size());
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

// ---------------------------------------------------------------------------
// REST: what a service answers, and the request it answers.
struct Answer {
  guint status = SOUP_STATUS_OK;
  std::string body;
  const char *content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  unsigned delay_ms = 0;  // hold the answer back this long
};

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

struct RestRequest {
  std::string method, path;
  const char *authorization = nullptr;  // header, may be null
  const RequestBody &body;
  RestRecord &record;  // services add task_id
};

// ---------------------------------------------------------------------------
// Harf files: POST /api/transcribe_files/ (upload with wait, or poll by tasks_ids).
class HarfRestService {
 public:
  explicit HarfRestService(const Options &o) : opts_(o) {}
  HarfRestService(const HarfRestService &) = delete;
  HarfRestService &operator=(const HarfRestService &) = delete;

  static const char *kind(const RequestBody &b)
  {
    return poll_ids(b) ? "harf-poll" : "harf-transcribe";
  }

  Answer handle(RestRequest &r)
  {
    if (!token_authorized(opts_.token, r.authorization))
      return unauthorized("Invalid token.");
    if (r.method != "POST")
      return method_not_allowed(r.method);
    Answer error;
    if (body_error(r.body, &error))
      return error;
    if (r.body.is_json()) {
      if (JsonArray *ids = poll_ids(r.body))
        return poll(r, ids);
      if (json_object_has_member(r.body.json_object(), "media_urls"))
        return field_error("media_urls", "unsupported in the emulator");
      return field_error("media_urls", "This field is required.");
    }
    if (r.body.is_multipart() || r.body.media_type() == "application/x-www-form-urlencoded")
      return upload(r);
    return unsupported_media(r.body.media_type());
  }

 private:
  struct Task {
    Transcript transcript;
    unsigned polls = 0;
  };

  static JsonArray *poll_ids(const RequestBody &b)
  {
    JsonObject *obj = b.json_object();
    if (!obj)
      return nullptr;
    for (const char *name : {"tasks_ids", "task_ids"}) {
      JsonNode *node = json_object_get_member(obj, name);
      if (node && JSON_NODE_HOLDS_ARRAY(node))
        return json_node_get_array(node);
    }
    return nullptr;
  }

  Answer upload(RestRequest &r)
  {
    const ReceivedPart *media = r.body.file("media");
    if (!media)
      return field_error("media", "No file was submitted. Check the encoding type on the form.");
    bool wait = true;
    std::string text;
    if (r.body.field("wait", &text) && !parse_bool(text, &wait))
      return field_error("wait", "Must be a valid boolean.");
    Transcript t = make_transcript(media->audio.result(), media->info.filename, opts_);
    g_info("harf upload %s: %" G_GUINT64_FORMAT " bytes, %s, %zu segment(s), wait=%s",
           media->info.filename.c_str(), media->info.size,
           media->audio.result().pcm ? "PCM WAV" : "not a PCM WAV (script lines)",
           t.segments.size(), wait ? "true" : "false");
    if (wait) {
      Answer a = json_answer(SOUP_STATUS_OK, finished_body({&t}));
      a.delay_ms = opts_.delay_ms;
      return a;
    }
    const std::string id = new_task_id();
    tasks_[id] = Task{std::move(t), 0};
    r.record.task_id = id;
    return json_answer(SOUP_STATUS_OK, JsonWriter()
                                           .begin_object()
                                           .key("state")
                                           .string("PENDING")
                                           .key("task_ids")
                                           .begin_array()
                                           .string(id)
                                           .end_array()
                                           .end_object()
                                           .str());
  }

  // PENDING for a task's first poll_pending polls (and for unknown ids, as celery
  // does), then its result; several ids answer together once all are done.
  Answer poll(RestRequest &r, JsonArray *ids)
  {
    const guint n = json_array_get_length(ids);
    if (n == 0)
      return field_error("tasks_ids", "This list may not be empty.");
    bool pending = false;
    std::vector<const Transcript *> done;
    for (guint i = 0; i < n; ++i) {
      JsonNode *node = json_array_get_element(ids, i);
      if (!JSON_NODE_HOLDS_VALUE(node) || json_node_get_value_type(node) != G_TYPE_STRING)
        return field_error("tasks_ids", "Not a valid string.");
      const std::string id = json_node_get_string(node);
      r.record.task_id += (i ? "," : "") + id;
      auto it = tasks_.find(id);
      if (it == tasks_.end() || ++it->second.polls <= opts_.poll_pending)
        pending = true;
      else
        done.push_back(&it->second.transcript);
    }
    return json_answer(SOUP_STATUS_OK, pending ? state_body("PENDING") : finished_body(done));
  }

  std::string finished_body(const std::vector<const Transcript *> &ts) const
  {
    if (opts_.harf_failure)
      return state_body("FAILURE");
    if (opts_.harf_timeout)
      return state_body("TIMEOUT");
    JsonWriter w;
    w.begin_array();
    for (const Transcript *t : ts) {
      int64_t words = 0, known = 0;
      w.begin_object()
          .key("media_url")
          .string(t->media_url)
          .key("duration")
          .string(format_timedelta(t->duration_ns));
      w.key("segments").begin_array();
      for (const auto &s : t->segments) {
        w.begin_object()
            .key("start")
            .string(format_timedelta(s.start_ns))
            .key("end")
            .string(format_timedelta(s.end_ns))
            .key("text")
            .string(s.text)
            .end_object();
        for (const Word &word : split_words(s.text))
          ++words, known += word.uncertain ? 0 : 1;
      }
      w.end_array();
      w.key("stats")
          .begin_object()
          .key("words")
          .integer(words)
          .key("known_words")
          .integer(known)
          .end_object();
      w.end_object();
    }
    w.end_array();
    return w.str();
  }

  const Options &opts_;
  std::map<std::string, Task> tasks_;
};

// ---------------------------------------------------------------------------
// Nevisa: login (accounting host) and the file API (recognize, celery progress, terminate).
class NevisaService {
 public:
  explicit NevisaService(const Options &o) : opts_(o), account_key_(random_hex(32)) {}
  NevisaService(const NevisaService &) = delete;
  NevisaService &operator=(const NevisaService &) = delete;

  // POST /account/login: JSON, urlencoded or multipart.
  Answer login(RestRequest &r)
  {
    if (r.method != "POST")
      return method_not_allowed(r.method);
    Answer error;
    if (body_error(r.body, &error))
      return error;
    const std::string &type = r.body.media_type();
    if (!r.body.is_json() && !r.body.is_multipart() && type != "application/x-www-form-urlencoded")
      return unsupported_media(type);
    std::string user, password;
    if (!r.body.field("username_or_phone_or_email", &user) || user.empty())
      return field_error("username_or_phone_or_email", "This field is required.");
    if (!r.body.field("password", &password) || password.empty())
      return field_error("password", "This field is required.");
    if (!opts_.nevisa_username.empty() &&
        (user != opts_.nevisa_username || password != opts_.nevisa_password)) {
      g_info("nevisa login as %s (%s): wrong username or password", user.c_str(), type.c_str());
      return detail_answer(SOUP_STATUS_UNAUTHORIZED, "Unable to log in with provided credentials.");
    }
    const std::string token = random_hex(40);  // a new token at every login, like the service
    tokens_.insert(token);
    g_info("nevisa login as %s (%s): token issued%s", user.c_str(), type.c_str(),
           opts_.nevisa_no_package ? ", no active package" : "");
    JsonWriter w;
    w.begin_object().key("message").string("Successfully logged in.").key("user").begin_object();
    w.key("id").string(new_task_id()).key("token").string(token).key("username").string(user);
    w.key("nevisa_service_account").begin_object().key("current_service_record");
    if (opts_.nevisa_no_package)
      w.null();
    else
      w.begin_object().key("key").string(account_key_).end_object();
    w.end_object().end_object().end_object();
    return json_answer(SOUP_STATUS_OK, w.str());
  }

  // POST <api>/recognize-file: multipart auth_token, api_key, file.
  Answer recognize(RestRequest &r)
  {
    if (r.method != "POST")
      return method_not_allowed(r.method);
    Answer error;
    if (body_error(r.body, &error))
      return error;
    if (!r.body.is_multipart())
      return unsupported_media(r.body.media_type());
    std::string token, key;
    if (!credentials(r.body, &token, &key))
      return unauthorized("Invalid auth_token or api_key.");
    const ReceivedPart *file = r.body.file("file");
    if (!file)
      return field_error("file", "No file was submitted. Check the encoding type on the form.");
    const std::string id = new_task_id();
    Task &t = tasks_[id];
    t.api_key = key;
    t.transcript = make_transcript(file->audio.result(), file->info.filename, opts_);
    r.record.task_id = id;
    g_info("nevisa upload %s: %" G_GUINT64_FORMAT " bytes, %s, %zu segment(s)",
           file->info.filename.c_str(), file->info.size,
           file->audio.result().pcm ? "PCM WAV" : "not a PCM WAV (script lines)",
           t.transcript.segments.size());
    return json_answer(SOUP_STATUS_OK,
                       JsonWriter()
                           .begin_object()
                           .key("progress_url")
                           .string(std::string(kNevisaPrefix) + "/celery-progress/" + id + "/")
                           .key("task_id")
                           .string(id)
                           .end_object()
                           .str());
  }

  // GET <api>/celery-progress/<id>/: celery-progress's view, always 200.
  Answer progress(RestRequest &r, const std::string &id)
  {
    if (r.method != "GET" && r.method != "HEAD")
      return method_not_allowed(r.method);
    r.record.task_id = id;
    auto it = tasks_.find(id);
    if (it == tasks_.end())
      return json_answer(SOUP_STATUS_OK, pending_body());  // unknown: PENDING forever
    Task &t = it->second;
    const unsigned poll = t.polls++;
    const unsigned steps = opts_.progress_steps;
    if (t.revoked)
      return json_answer(SOUP_STATUS_OK, failed_body("REVOKED", "terminated"));
    if (opts_.nevisa_pending_forever || poll == 0)
      return json_answer(SOUP_STATUS_OK, pending_body());
    if (poll <= steps) {
      const int64_t percent = int64_t(poll) * 100 / (steps + 1);
      JsonWriter w;
      w.begin_object()
          .key("state")
          .string("PROGRESS")
          .key("complete")
          .boolean(false)
          .key("success")
          .null();
      progress_object(w, false, percent);
      return json_answer(SOUP_STATUS_OK, w.end_object().str());
    }
    if (opts_.nevisa_failure)
      return json_answer(SOUP_STATUS_OK, failed_body("FAILURE", kNevisaFailure));
    return json_answer(SOUP_STATUS_OK, success_body(t.transcript));
  }

  // POST <api>/file/terminate-task: header Authorization: Token <auth_token>, multipart
  // auth_token, api_key, task_id. 401 unless all match a task of that account.
  Answer terminate(RestRequest &r)
  {
    if (r.method != "POST")
      return method_not_allowed(r.method);
    Answer error;
    if (body_error(r.body, &error))
      return error;
    if (!r.body.is_multipart())
      return unsupported_media(r.body.media_type());
    std::string token, key, id;
    if (!credentials(r.body, &token, &key) || !r.body.field("task_id", &id))
      return unauthorized("Invalid auth_token or api_key.");
    r.record.task_id = id;
    g_auto(GStrv) header = g_strsplit_set(r.authorization ? r.authorization : "", " \t", -1);
    std::vector<const char *> words;
    for (char **w = header; *w; ++w)
      if (**w)
        words.push_back(*w);
    if (words.size() != 2 || g_ascii_strcasecmp(words[0], "Token") != 0 || token != words[1])
      return unauthorized("Authorization header does not match auth_token.");
    auto it = tasks_.find(id);
    if (it == tasks_.end() || it->second.api_key != key)
      return unauthorized("Not your task.");
    it->second.revoked = true;
    g_info("nevisa task %s terminated", id.c_str());
    return detail_answer(SOUP_STATUS_OK, "terminated");
  }

 private:
  struct Task {
    std::string api_key;
    Transcript transcript;
    unsigned polls = 0;
    bool revoked = false;
  };

  // auth_token and api_key: from a login (while a package is active), or the static pair.
  bool credentials(const RequestBody &b, std::string *token, std::string *key) const
  {
    if (!b.field("auth_token", token) || !b.field("api_key", key))
      return false;
    if (!opts_.nevisa_static_token.empty() && *token == opts_.nevisa_static_token &&
        *key == opts_.nevisa_static_key)
      return true;
    return !opts_.nevisa_no_package && tokens_.count(*token) && *key == account_key_;
  }

  static void progress_object(JsonWriter &w, bool pending, int64_t percent)
  {
    w.key("progress")
        .begin_object()
        .key("pending")
        .boolean(pending)
        .key("current")
        .integer(percent)
        .key("total")
        .integer(100)
        .key("percent")
        .integer(percent)
        .end_object();
  }
  static std::string pending_body()
  {
    JsonWriter w;
    w.begin_object()
        .key("state")
        .string("PENDING")
        .key("complete")
        .boolean(false)
        .key("success")
        .null();
    progress_object(w, true, 0);
    return w.end_object().str();
  }
  static std::string failed_body(const char *state, const char *result)
  {
    JsonWriter w;
    w.begin_object()
        .key("state")
        .string(state)
        .key("complete")
        .boolean(true)
        .key("success")
        .boolean(false);
    progress_object(w, false, 100);
    return w.key("result").string(result).end_object().str();
  }

  // Vosk-style words: each segment's line split on spaces, spread over the segment
  // by character count; [bracketed] words lose their brackets and get a low conf.
  static std::string success_body(const Transcript &t)
  {
    JsonWriter w;
    w.begin_object()
        .key("state")
        .string("SUCCESS")
        .key("complete")
        .boolean(true)
        .key("success")
        .boolean(true);
    progress_object(w, false, 100);
    w.key("result").begin_object().key("transcription").begin_object().key("result").begin_array();
    std::string text;
    for (const auto &s : t.segments) {
      const auto words = split_words(s.text);
      std::vector<glong> chars;
      glong total = 0;
      for (const Word &word : words)
        total += chars.emplace_back(std::max<glong>(1, g_utf8_strlen(word.text.c_str(), -1)));
      const double start = double(s.start_ns) / 1e9, span = double(s.end_ns - s.start_ns) / 1e9;
      glong before = 0;
      for (size_t i = 0; i < words.size(); ++i) {
        const double a = start + span * double(before) / double(total);
        before += chars[i];
        const double b = start + span * double(before) / double(total);
        w.begin_object()
            .key("conf")
            .number(words[i].uncertain ? 0.35 : 0.9)
            .key("end")
            .number(std::round(b * 100) / 100)
            .key("start")
            .number(std::round(a * 100) / 100)
            .key("word")
            .string(words[i].text)
            .end_object();
        text += (text.empty() ? "" : " ") + words[i].text;
      }
    }
    w.end_array().key("text").string(text).end_object().key("final").boolean(true).end_object();
    return w.end_object().str();
  }

  const Options &opts_;
  const std::string account_key_;  // the account's api key (the same at every login)
  std::set<std::string> tokens_;   // issued by logins
  std::map<std::string, Task> tasks_;
};

// ---------------------------------------------------------------------------
// REST front: streams request bodies, applies the fault switches, dispatches to
// the services, records every request, and sends (possibly delayed) answers.
class RestRouter {
 public:
  RestRouter(detail::Core &core, SoupServer *server);
  ~RestRouter();
  RestRouter(const RestRouter &) = delete;
  RestRouter &operator=(const RestRouter &) = delete;

 private:
  enum class Endpoint {
    HarfFiles,
    NevisaLogin,
    NevisaRecognize,
    NevisaProgress,
    NevisaTerminate,
    Unknown
  };

  // An answer held back by delay_ms: the message stays paused until the timer fires.
  // libsoup does not read a paused message's socket, so `watch` looks for the
  // client leaving meanwhile.
  struct Delayed {
    RestRouter *router = nullptr;
    GObjectPtr<SoupServerMessage> msg;
    Answer answer;
    size_t record = 0;
    gulong disconnected_id = 0;
    SourcePtr timer, watch;
    ~Delayed()
    {
      if (disconnected_id)
        g_signal_handler_disconnect(msg.get(), disconnected_id);
    }
  };

  static void early_cb(SoupServer *, SoupServerMessage *msg, const char *, GHashTable *,
                       gpointer self)
  {
    guarded("rest headers", [&] { static_cast<RestRouter *>(self)->on_headers(msg); });
  }
  static void handler_cb(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
                         gpointer self)
  {
    guarded("rest request", [&] { static_cast<RestRouter *>(self)->on_request(msg, path); });
  }
  static void got_chunk_cb(SoupServerMessage *, GBytes *chunk, gpointer body)
  {
    guarded("rest body", [&] {
      gsize n = 0;
      const auto *data = static_cast<const uint8_t *>(g_bytes_get_data(chunk, &n));
      static_cast<RequestBody *>(body)->feed(data, n);
    });
  }
  static gboolean delayed_cb(gpointer d);
  static gboolean socket_cb(GSocket *socket, GIOCondition condition, gpointer d);
  static void disconnected_cb(SoupServerMessage *, gpointer d);

  void on_headers(SoupServerMessage *msg);
  void on_request(SoupServerMessage *msg, const char *path);
  static Endpoint endpoint(const std::string &path, std::string *task_id);
  Answer dispatch(Endpoint e, RestRequest &r, const std::string &task_id);
  Answer fault(RestRecord &rec);
  static void send(SoupServerMessage *msg, const Answer &a);
  void finish_delayed(Delayed *d, bool sent);
  void client_gone(Delayed *d);

  detail::Core &core_;
  SoupServer *server_;
  HarfRestService harf_;
  NevisaService nevisa_;
  int throttle_left_, error_500_left_;
  std::list<std::unique_ptr<Delayed>> delayed_;
};

// ---------------------------------------------------------------------------
RestRouter::RestRouter(detail::Core &core, SoupServer *server)
    : core_(core),
      server_(server),
      harf_(core.opts),
      nevisa_(core.opts),
      throttle_left_(core.opts.throttle_count),
      error_500_left_(core.opts.error_500_count)
{
  std::vector<const char *> paths(std::begin(kHarfRestPaths), std::end(kHarfRestPaths));
  paths.insert(paths.end(), std::begin(kNevisaLoginPaths), std::end(kNevisaLoginPaths));
  paths.push_back(kNevisaPrefix);  // and everything below it
  for (const char *path : paths) {
    soup_server_add_early_handler(server_, path, early_cb, this, nullptr);
    soup_server_add_handler(server_, path, handler_cb, this, nullptr);
  }
  soup_server_add_handler(server_, nullptr, handler_cb, this,
                          nullptr);  // any other path: 404, recorded
}

RestRouter::~RestRouter()
{
  delayed_.clear();  // their messages stay paused; the server drops them
  for (const char *path : kHarfRestPaths)
    soup_server_remove_handler(server_, path);
  for (const char *path : kNevisaLoginPaths)
    soup_server_remove_handler(server_, path);
  soup_server_remove_handler(server_, kNevisaPrefix);
  soup_server_remove_handler(server_, nullptr);
}

// Headers are in, the body is not: stream it instead of letting libsoup accumulate it.
void RestRouter::on_headers(SoupServerMessage *msg)
{
  auto *body = new RequestBody(soup_server_message_get_request_headers(msg), core_.opts);
  g_object_set_data_full(G_OBJECT(msg), kBodyKey, body,
                         [](gpointer p) { delete static_cast<RequestBody *>(p); });
  soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
  g_signal_connect(msg, "got-chunk", G_CALLBACK(got_chunk_cb), body);
}

RestRouter::Endpoint RestRouter::endpoint(const std::string &path, std::string *task_id)
{
  auto is = [&](const char *p) { return path == p || path == std::string(p) + "/"; };
  if (is("/api/transcribe_files"))
    return Endpoint::HarfFiles;
  if (is("/account/login"))
    return Endpoint::NevisaLogin;
  const std::string base = std::string(kNevisaPrefix) + "/";
  if (is((base + "recognize-file").c_str()))
    return Endpoint::NevisaRecognize;
  if (is((base + "file/terminate-task").c_str()))
    return Endpoint::NevisaTerminate;
  const std::string progress = base + "celery-progress/";
  if (path.compare(0, progress.size(), progress) == 0) {
    std::string id = path.substr(progress.size());
    if (!id.empty() && id.back() == '/')
      id.pop_back();
    if (!id.empty() && id.find('/') == std::string::npos) {
      *task_id = id;
      return Endpoint::NevisaProgress;
    }
  }
  return Endpoint::Unknown;
}

void RestRouter::on_request(SoupServerMessage *msg, const char *path_c)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
  auto *body = static_cast<RequestBody *>(g_object_get_data(G_OBJECT(msg), kBodyKey));
  std::unique_ptr<RequestBody> own;
  if (!body) {  // no early handler ran (any other path): libsoup accumulated the body
    own = std::make_unique<RequestBody>(headers, core_.opts);
    GBytes *all = soup_message_body_flatten(soup_server_message_get_request_body(msg));
    gsize n = 0;
    const auto *data = static_cast<const uint8_t *>(g_bytes_get_data(all, &n));
    own->feed(data, n);
    g_bytes_unref(all);
    body = own.get();
  }
  body->finish();

  const std::string path = path_c ? path_c : "";
  std::string task_id;
  const Endpoint e = endpoint(path, &task_id);
  RestRecord rec;
  rec.method = soup_server_message_get_method(msg);
  rec.path = path;
  const char *auth = soup_message_headers_get_one(headers, "Authorization");
  rec.authorization = auth ? auth : "";
  const char *ctype = soup_message_headers_get_one(headers, "Content-Type");
  rec.content_type = ctype ? ctype : "";
  rec.body_size = body->size();
  for (const auto &p : body->parts())
    rec.parts.push_back(p->info);
  for (const auto &f : body->form_fields())
    rec.parts.push_back(f);
  if (body->is_json())
    rec.json_body = body->raw();
  switch (e) {
    case Endpoint::HarfFiles:
      rec.kind = HarfRestService::kind(*body);
      break;
    case Endpoint::NevisaLogin:
      rec.kind = "nevisa-login";
      break;
    case Endpoint::NevisaRecognize:
      rec.kind = "nevisa-recognize";
      break;
    case Endpoint::NevisaProgress:
      rec.kind = "nevisa-progress";
      break;
    case Endpoint::NevisaTerminate:
      rec.kind = "nevisa-terminate";
      break;
    case Endpoint::Unknown:
      rec.kind = "unknown";
      break;
  }
  if (e == Endpoint::NevisaLogin) {  // the username is recorded, the password never
    body->field("username_or_phone_or_email", &rec.username);
    for (auto &p : rec.parts)
      if (p.name == "password") {
        p.text = "(redacted)";
        p.sha256.clear();
      }
    if (body->json_object())
      rec.json_body = redact_password(body->raw());
  }

  RestRequest req{rec.method, path, auth, *body, rec};
  Answer answer =
      e == Endpoint::Unknown ? detail_answer(SOUP_STATUS_NOT_FOUND, "Not found.") : fault(rec);
  if (e != Endpoint::Unknown && rec.fault.empty())
    answer = dispatch(e, req, task_id);
  if (core_.opts.not_json && answer.status == SOUP_STATUS_OK) {
    answer.body = kNotJsonHtml;
    answer.content_type = "text/html; charset=utf-8";
    rec.fault = "not-json";
  }
  g_info("%s %s (%s): %u%s%s%s", rec.method.c_str(), path.c_str(), rec.kind.c_str(), answer.status,
         rec.fault.empty() ? "" : " fault ", rec.fault.c_str(),
         answer.delay_ms ? " (delayed)" : "");

  if (answer.delay_ms == 0) {
    rec.status = int(answer.status);
    rec.answer = truncate_utf8(answer.body, kMaxRecordedAnswer);
    send(msg, answer);
    core_.add_rest(std::move(rec));
    return;
  }
  auto d = std::make_unique<Delayed>();
  d->router = this;
  d->msg.reset(SOUP_SERVER_MESSAGE(g_object_ref(msg)));
  d->answer = std::move(answer);
  d->record = core_.add_rest(std::move(rec));  // status 0 until sent
  d->disconnected_id = g_signal_connect(msg, "disconnected", G_CALLBACK(disconnected_cb), d.get());
  d->timer.reset(g_timeout_source_new(d->answer.delay_ms));
  g_source_set_callback(d->timer.get(), delayed_cb, d.get(), nullptr);
  g_source_attach(d->timer.get(), g_main_context_get_thread_default());
  if (GSocket *socket = soup_server_message_get_socket(msg)) {
    d->watch.reset(
        g_socket_create_source(socket, GIOCondition(G_IO_IN | G_IO_HUP | G_IO_ERR), nullptr));
    g_source_set_callback(d->watch.get(), G_SOURCE_FUNC(socket_cb), d.get(), nullptr);
    g_source_attach(d->watch.get(), g_main_context_get_thread_default());
  }
  soup_server_message_pause(msg);
  delayed_.push_back(std::move(d));
}

Answer RestRouter::dispatch(Endpoint e, RestRequest &r, const std::string &task_id)
{
  switch (e) {
    case Endpoint::HarfFiles:
      return harf_.handle(r);
    case Endpoint::NevisaLogin:
      return nevisa_.login(r);
    case Endpoint::NevisaRecognize:
      return nevisa_.recognize(r);
    case Endpoint::NevisaProgress:
      return nevisa_.progress(r, task_id);
    case Endpoint::NevisaTerminate:
      return nevisa_.terminate(r);
    case Endpoint::Unknown:
      break;
  }
  return detail_answer(SOUP_STATUS_NOT_FOUND, "Not found.");
}

// The fault switches, in order; sets rec.fault when one applies.
Answer RestRouter::fault(RestRecord &rec)
{
  const Options &o = core_.opts;
  if (o.http_401) {
    rec.fault = "http-401";
    return unauthorized("Invalid token.");
  }
  if (throttle_left_ > 0) {
    --throttle_left_;
    rec.fault = "throttle";
    Answer a = detail_answer(kStatusTooManyRequests, "Request was throttled.");
    a.headers.emplace_back("Retry-After", std::to_string(o.retry_after_s));
    return a;
  }
  if (error_500_left_ > 0) {
    --error_500_left_;
    rec.fault = "error-500";
    Answer a;
    a.status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
    a.body = kServerErrorHtml;
    a.content_type = "text/html; charset=utf-8";
    return a;
  }
  return Answer{};
}

void RestRouter::send(SoupServerMessage *msg, const Answer &a)
{
  soup_server_message_set_status(
      msg, a.status, a.status == kStatusTooManyRequests ? "Too Many Requests" : nullptr);
  SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
  for (const auto &kv : a.headers)
    soup_message_headers_replace(h, kv.first.c_str(), kv.second.c_str());
  soup_server_message_set_response(msg, a.content_type, SOUP_MEMORY_COPY, a.body.data(),
                                   a.body.size());
}

gboolean RestRouter::delayed_cb(gpointer p)
{
  auto *d = static_cast<Delayed *>(p);
  guarded("rest delayed answer", [&] {
    g_source_unref(d->timer.release());  // returning G_SOURCE_REMOVE destroys it
    send(d->msg.get(), d->answer);
    soup_server_message_unpause(d->msg.get());
    d->router->finish_delayed(d, true);
  });
  return G_SOURCE_REMOVE;
}

// The socket of a paused message became readable: EOF means the client left.
gboolean RestRouter::socket_cb(GSocket *socket, GIOCondition condition, gpointer p)
{
  auto *d = static_cast<Delayed *>(p);
  guarded("rest socket watch", [&] {
    bool gone = condition & (G_IO_HUP | G_IO_ERR);
    if (!gone) {
      char c;
      GInputVector v{&c, 1};
      gint flags = G_SOCKET_MSG_PEEK;
      GError *error = nullptr;
      const gssize n = g_socket_receive_message(socket, nullptr, &v, 1, nullptr, nullptr, &flags,
                                                nullptr, &error);
      gone = n == 0 || (n < 0 && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK));
      g_clear_error(&error);
    }
    g_source_unref(d->watch.release());  // returning G_SOURCE_REMOVE destroys it; a pipelined
                                         // request: stop watching
    if (gone)
      d->router->client_gone(d);
  });
  return G_SOURCE_REMOVE;
}

// Records the client leaving, then lets libsoup write to the dead socket and clean up.
void RestRouter::client_gone(Delayed *d)
{
  core_.update_rest(d->record, [](RestRecord &r) { r.fault = "disconnected"; });
  g_info("client left before its delayed answer");
  GObjectPtr<SoupServerMessage> msg(SOUP_SERVER_MESSAGE(g_object_ref(d->msg.get())));
  const Answer answer = d->answer;
  delayed_.remove_if([d](const std::unique_ptr<Delayed> &p) { return p.get() == d; });
  send(msg.get(), answer);
  soup_server_message_unpause(msg.get());
}

void RestRouter::disconnected_cb(SoupServerMessage *, gpointer p)
{
  auto *d = static_cast<Delayed *>(p);
  guarded("rest disconnected", [&] { d->router->finish_delayed(d, false); });
}

// Records the delayed answer (or the client leaving first) and forgets the message.
void RestRouter::finish_delayed(Delayed *d, bool sent)
{
  const Answer &a = d->answer;
  core_.update_rest(d->record, [&](RestRecord &r) {
    if (sent) {
      r.status = int(a.status);
      r.answer = truncate_utf8(a.body, kMaxRecordedAnswer);
    } else {
      r.fault = "disconnected";
    }
  });
  if (!sent)
    g_info("client left before its delayed answer");
  delayed_.remove_if([d](const std::unique_ptr<Delayed> &p) { return p.get() == d; });
}

}  // namespace

// ---------------------------------------------------------------------------
namespace detail {

Core::~Core()
{
  stop();
  g_cond_clear(&cond_);
  g_mutex_clear(&mu_);
}

bool Core::start(uint16_t port, GError **error)
{
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
    while (!ready_)
      g_cond_wait(&cond_, &mu_);
    failure = std::exchange(start_error_, nullptr);
  }
  if (!failure)
    return true;
  g_propagate_error(error, failure);
  thread_.join();  // the thread has already returned
  g_clear_pointer(&loop_, g_main_loop_unref);
  g_clear_pointer(&ctx_, g_main_context_unref);
  return false;
}

void Core::thread_main(uint16_t port)
{
  g_main_context_push_thread_default(ctx_);
  GObjectPtr<SoupServer> server(
      SOUP_SERVER(soup_server_new("server-header", "persiantranscribe-emulator ", nullptr)));
  harf_ = std::make_unique<HarfLiveService>(*this, server.get());
  rest_ = std::make_unique<RestRouter>(*this, server.get());

  GError *error = nullptr;
  GObjectPtr<GInetAddress> loopback(g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4));
  GObjectPtr<GSocketAddress> address(g_inet_socket_address_new(loopback.get(), port));
  bool ok = soup_server_listen(server.get(), address.get(), SoupServerListenOptions(0), &error);
  uint16_t bound = 0;
  if (ok) {
    GSList *uris = soup_server_get_uris(server.get());
    if (uris)
      bound = uint16_t(g_uri_get_port(static_cast<GUri *>(uris->data)));
    g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
  }
  {
    Locker l(&mu_);
    port_ = bound;
    start_error_ = error;
    ready_ = true;
    g_cond_broadcast(&cond_);
  }
  if (ok)
    g_main_loop_run(loop_);

  rest_.reset();
  harf_.reset();
  soup_server_disconnect(server.get());
  server.reset();
  stop_timer_.reset();
  // Let closed streams finish their cleanup; bounded in case a source keeps re-arming.
  for (int i = 0; i < 100 && g_main_context_iteration(ctx_, FALSE); ++i) {
  }
  g_main_context_pop_thread_default(ctx_);
  Locker l(&mu_);
  for (auto &r : records_)
    r.closed = true;
  g_cond_broadcast(&cond_);
}

void Core::stop()
{
  if (!thread_.joinable())
    return;
  SourcePtr idle(g_idle_source_new());
  g_source_set_callback(idle.get(), stop_cb, this, nullptr);
  g_source_attach(idle.get(), ctx_);
  thread_.join();
  idle.reset();
  g_clear_pointer(&loop_, g_main_loop_unref);
  g_clear_pointer(&ctx_, g_main_context_unref);
}

// Server thread: close every connection, quit when all are closed or after a grace period.
gboolean Core::stop_cb(gpointer self)
{
  auto *core = static_cast<Core *>(self);
  core->stopping_ = true;
  guarded("emulator stop",
          [&] { core->harf_->close_all(SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "emulator stopping"); });
  if (core->harf_->open_count() == 0) {
    g_main_loop_quit(core->loop_);
  } else if (!core->stop_timer_) {
    core->stop_timer_.reset(g_timeout_source_new(kStopGraceMs));
    g_source_set_callback(core->stop_timer_.get(), quit_cb, core, nullptr);
    g_source_attach(core->stop_timer_.get(), core->ctx_);
  }
  return G_SOURCE_REMOVE;
}

gboolean Core::quit_cb(gpointer self)
{
  g_main_loop_quit(static_cast<Core *>(self)->loop_);
  return G_SOURCE_REMOVE;
}

void Core::connection_closed()
{
  if (stopping_ && harf_ && harf_->open_count() == 0)
    g_main_loop_quit(loop_);
}

}  // namespace detail

// ---------------------------------------------------------------------------
Emulator::Emulator(Options opts) : core_(std::make_unique<detail::Core>(std::move(opts))) {}
Emulator::~Emulator()
{
  stop();
}
bool Emulator::start(uint16_t port, GError **error)
{
  return core_->start(port, error);
}
void Emulator::stop()
{
  core_->stop();
}
uint16_t Emulator::port() const
{
  return core_->port();
}
std::string Emulator::harf_live_url() const
{
  return "ws://127.0.0.1:" + std::to_string(port()) + kHarfLivePaths[0];
}
int Emulator::handshake_count() const
{
  return core_->handshakes();
}
std::vector<SessionRecord> Emulator::sessions() const
{
  return core_->records();
}
bool Emulator::wait_closed(size_t n_sessions, unsigned timeout_ms) const
{
  return core_->wait_until(
      [n_sessions](const std::vector<SessionRecord> &records) {
        return records.size() >= n_sessions &&
               std::all_of(records.begin(), records.end(),
                           [](const SessionRecord &r) { return r.closed; });
      },
      timeout_ms);
}
bool Emulator::wait_until(const std::function<bool(const std::vector<SessionRecord> &)> &pred,
                          unsigned timeout_ms) const
{
  return core_->wait_until(pred, timeout_ms);
}

std::string Emulator::harf_api_url() const
{
  return "http://127.0.0.1:" + std::to_string(port()) + kHarfRestPaths[0];
}
std::string Emulator::nevisa_login_url() const
{
  return "http://127.0.0.1:" + std::to_string(port()) + kNevisaLoginPaths[0];
}
std::string Emulator::nevisa_api_url() const
{
  return "http://127.0.0.1:" + std::to_string(port()) + kNevisaPrefix + "/";
}
std::vector<RestRecord> Emulator::rest_requests() const
{
  return core_->rest_records();
}
size_t Emulator::rest_count(const std::string &kind) const
{
  const auto records = core_->rest_records();
  return size_t(std::count_if(records.begin(), records.end(),
                              [&](const RestRecord &r) { return r.kind == kind; }));
}
bool Emulator::wait_rest(const std::function<bool(const std::vector<RestRecord> &)> &pred,
                         unsigned timeout_ms) const
{
  return core_->wait_rest(pred, timeout_ms);
}

std::string format_timedelta(uint64_t ns)
{
  uint64_t us = (ns + 500) / 1000;
  const uint64_t days = us / 86400000000ull;
  us %= 86400000000ull;
  const unsigned h = unsigned(us / 3600000000ull), m = unsigned(us / 60000000ull % 60),
                 s = unsigned(us / 1000000ull % 60), frac = unsigned(us % 1000000ull);
  char buf[96];
  int len = 0;
  if (days)
    len = g_snprintf(buf, sizeof buf, "%" G_GUINT64_FORMAT " day%s, ", days, days == 1 ? "" : "s");
  len += g_snprintf(buf + len, sizeof buf - len, "%u:%02u:%02u", h, m, s);
  if (frac)
    g_snprintf(buf + len, sizeof buf - len, ".%06u", frac);
  return buf;
}

}  // namespace emu
