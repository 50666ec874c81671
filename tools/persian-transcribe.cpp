// persian-transcribe: transcribes the Persian speech in a media file with the
// persiantranscribe element and writes SRT, WebVTT, JSON or plain text.
//
//   uridecodebin uri=INPUT ! audioconvert ! audioresample ! persiantranscribe
//       ! appsink caps=text/x-raw,format=utf8 sync=false
//
// Subtitles (srt, vtt) come from the timed text buffers the element pushes,
// one per cue; json and txt come from its "transcription" bus messages (the
// final segments, with their words).  See docs/persian-transcribe.md.
//
// appsink is driven through its signals and properties only, so the tool does
// not link libgstapp.

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#ifndef VERSION
#define VERSION "unknown"
#endif

namespace {

constexpr const char *kProg = "persian-transcribe";

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,     // anything else
  kExitUsage = 2,       // bad options, unknown format or backend
  kExitNoInput = 3,     // INPUT missing or unreadable
  kExitUnplayable = 4,  // INPUT is not a media file with audio we can decode
  kExitAuth = 5,        // no credentials, or the service rejected them
  kExitService = 6,     // the service is unreachable, the connection failed, batch-timeout
  kExitInterrupted = 130,
};

// The backends are the nicks of the element's "backend" enum: the tool sets it
// by nick and lists the element's nicks when one is unknown.  It knows these
// by name only to check their credentials before building the pipeline, and
// to tell batch backends (upload at the end of the stream) from live ones.
constexpr const char *kDefaultBackend = "harf-live";

bool is_batch_backend(const std::string &b)
{
  return b == "harf-file" || b == "nevisa";
}

// Extensions the batch services accept as they are: such a local INPUT is
// uploaded without decoding it (the element's "upload-file").
constexpr const char *kUploadAsIsExtensions[] = {"wav", "mp3", "ogg", "flac", "m4a"};

constexpr guint kProgressIntervalMs = 200;

/* ---------------------------------------------------------------- RAII -- */

struct GstObjectUnref {
  void operator()(gpointer p) const
  {
    if (p)
      gst_object_unref(p);
  }
};
template <typename T>
using GstRef = std::unique_ptr<T, GstObjectUnref>;

struct GstCapsUnref {
  void operator()(GstCaps *c) const
  {
    if (c)
      gst_caps_unref(c);
  }
};
using CapsRef = std::unique_ptr<GstCaps, GstCapsUnref>;

struct GstSampleUnref {
  void operator()(GstSample *s) const
  {
    if (s)
      gst_sample_unref(s);
  }
};
using SampleRef = std::unique_ptr<GstSample, GstSampleUnref>;

struct GObjectUnref {
  void operator()(gpointer p) const
  {
    if (p)
      g_object_unref(p);
  }
};
template <typename T>
using GObjRef = std::unique_ptr<T, GObjectUnref>;

struct GFreeDeleter {
  void operator()(gpointer p) const { g_free(p); }
};
using GCharPtr = std::unique_ptr<gchar, GFreeDeleter>;

/* ------------------------------------------------------------- messages -- */

// One line on stderr; newlines inside a message become spaces.
std::string one_line(std::string s)
{
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  while (!s.empty() && s.back() == ' ')
    s.pop_back();
  return s;
}

void print_error(const std::string &msg)
{
  fprintf(stderr, "%s: error: %s\n", kProg, one_line(msg).c_str());
  fflush(stderr);
}

void print_warning(const std::string &msg)
{
  fprintf(stderr, "%s: warning: %s\n", kProg, one_line(msg).c_str());
  fflush(stderr);
}

struct Failure {
  int code = kExitFailure;
  std::string message;
};

/* --------------------------------------------------------------- options -- */

enum class Format { Srt, Vtt, Json, Txt };

std::optional<Format> format_from_name(const std::string &name)
{
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return g_ascii_tolower(c); });
  if (n == "srt")
    return Format::Srt;
  if (n == "vtt" || n == "webvtt")
    return Format::Vtt;
  if (n == "json")
    return Format::Json;
  if (n == "txt" || n == "text")
    return Format::Txt;
  return std::nullopt;
}

constexpr gint64 kUnset = G_MININT64;

struct NumberOption {
  const char *option;    // without "--"
  const char *property;  // on persiantranscribe
  gint64 value = kUnset;
};

// A string option passed on as an element property when given.
struct StringOption {
  const char *option;    // without "--"
  const char *property;  // on persiantranscribe
  bool secret;           // wiped from memory at exit
  gchar *value = nullptr;
};

struct Options {
  gchar *token = nullptr;
  gchar *auth_scheme = nullptr;
  gchar *backend = nullptr;
  gchar *output = nullptr;
  gchar *format = nullptr;
  gchar **inputs = nullptr;
  gboolean quiet = FALSE;
  gboolean version = FALSE;
  gboolean no_harf_wait = FALSE;
  gboolean decode = FALSE;
  double min_confidence = NAN;  // NaN: not given
  std::vector<NumberOption> numbers = {
      {"sample-rate", "sample-rate"},           {"window-duration", "window-duration"},
      {"max-inflight", "max-inflight"},         {"timeout", "timeout"},
      {"max-line-chars", "max-line-chars"},     {"max-lines", "max-lines"},
      {"max-cue-duration", "max-cue-duration"}, {"min-cue-duration", "min-cue-duration"},
      {"poll-interval", "poll-interval"},       {"batch-timeout", "batch-timeout"},
  };
  std::vector<StringOption> strings = {
      {"harf-url", "harf-url", false},
      {"harf-api-url", "harf-api-url", false},
      {"nevisa-username", "nevisa-username", false},
      {"nevisa-password", "nevisa-password", true},
      {"nevisa-auth-token", "nevisa-auth-token", true},
      {"nevisa-api-key", "nevisa-api-key", true},
      {"nevisa-login-url", "nevisa-login-url", false},
      {"nevisa-api-url", "nevisa-api-url", false},
  };

  Options() = default;
  Options(const Options &) = delete;
  Options &operator=(const Options &) = delete;
  ~Options()
  {
    if (token)
      memset(token, 0, strlen(token));
    g_free(token);
    for (auto &s : strings) {
      if (s.secret && s.value)
        memset(s.value, 0, strlen(s.value));
      g_free(s.value);
    }
    g_free(auth_scheme);
    g_free(backend);
    g_free(output);
    g_free(format);
    g_strfreev(inputs);
  }

  std::string backend_name() const { return backend ? backend : kDefaultBackend; }

  gint64 *number(const char *option)
  {
    for (auto &n : numbers)
      if (strcmp(n.option, option) == 0)
        return &n.value;
    return nullptr;
  }

  gchar **string(const char *option)
  {
    for (auto &s : strings)
      if (strcmp(s.option, option) == 0)
        return &s.value;
    return nullptr;
  }
  const gchar *string_value(const char *option) const
  {
    for (const auto &s : strings)
      if (strcmp(s.option, option) == 0)
        return s.value;
    return nullptr;
  }
};

const char *kSummary =
    "Transcribes the Persian speech in INPUT, a media file path or URI (anything\n"
    "uridecodebin plays: wav, mp3, ogg, mp4, mkv...), with the Harf or Nevisa\n"
    "service and writes subtitles (SRT, WebVTT), JSON with words and times, or\n"
    "plain text.\n"
    "\n"
    "The format is --format, else OUTPUT's extension (.srt .vtt .json .txt), else\n"
    "txt.  Without -o the result goes to standard output.  OUTPUT is written\n"
    "atomically (OUTPUT.tmp, then renamed): a failed run leaves no partial file.";

const char *kDescription =
    "Backends (--backend):\n"
    "  harf-live   Harf's live WebSocket API: results while the audio is read\n"
    "              (default; needs a Harf token)\n"
    "  harf-file   Harf's file API: the file is uploaded, then the result is\n"
    "              awaited (--no-harf-wait: polled); needs a Harf token\n"
    "  nevisa      Nevisa: the file is uploaded, its progress polled; words\n"
    "              with times and confidences; needs a username and password,\n"
    "              or an auth token and API key\n"
    "With harf-file and nevisa a local wav, mp3, ogg, flac or m4a INPUT is\n"
    "uploaded as it is (not decoded; --decode to decode it anyway); any other\n"
    "INPUT is decoded and uploaded as 16-bit mono WAV.\n"
    "\n"
    "Environment (preferred to the options: a command line is visible to other\n"
    "users of the machine):\n"
    "  HARF_TOKEN          the Harf API token when --token is not given\n"
    "  NEVISA_USERNAME     the Nevisa account when --nevisa-username is not given\n"
    "  NEVISA_PASSWORD     its password when --nevisa-password is not given\n"
    "  NEVISA_AUTH_TOKEN   a Nevisa auth token (with NEVISA_API_KEY: no login)\n"
    "  NEVISA_API_KEY      the Nevisa API key that goes with it\n"
    "\n"
    "Exit status:\n"
    "  0    success\n"
    "  1    other errors (writing OUTPUT, missing GStreamer elements, the service\n"
    "       could not transcribe the file (FAILURE, TIMEOUT), ...)\n"
    "  2    bad usage: unknown option, format or backend, value out of range\n"
    "  3    INPUT does not exist or cannot be read\n"
    "  4    INPUT cannot be played: not a media file, no audio stream,\n"
    "       no decoder\n"
    "  5    no credentials for the backend (token, Nevisa username and password\n"
    "       or auth token and API key), the service rejected them, or the Nevisa\n"
    "       account has no active package\n"
    "  6    the service cannot be reached (connection, DNS, TLS), the connection\n"
    "       failed while transcribing (no reply, closed), or a batch job did not\n"
    "       finish within --batch-timeout\n"
    "  130  interrupted (SIGINT or SIGTERM)\n"
    "\n"
    "Examples:\n"
    "  HARF_TOKEN=... persian-transcribe talk.mp3 -o talk.srt\n"
    "  persian-transcribe --format json --token ... interview.mkv > interview.json\n"
    "  NEVISA_USERNAME=... NEVISA_PASSWORD=... persian-transcribe --backend nevisa \\\n"
    "      lecture.mp3 -o lecture.json\n"
    "\n"
    "See docs/persian-transcribe.md.";

/* ------------------------------------------------------------ transcript -- */

struct Cue {
  guint64 start = 0;  // ns, stream time
  guint64 end = 0;
  std::string text;  // lines separated by "\n"
};

struct Word {
  std::string text;
  guint64 start = GST_CLOCK_TIME_NONE;  // ns on the media timeline
  guint64 end = GST_CLOCK_TIME_NONE;
  double confidence = -1.0;
  bool uncertain = false;
};

struct Segment {
  gint id = -1;
  std::string text;
  std::string raw_text;
  guint64 start = 0;  // ns on the media timeline
  guint64 end = 0;
  std::vector<Word> words;
};

struct Transcript {
  std::string input_uri;
  std::string backend;
  guint64 media_duration = GST_CLOCK_TIME_NONE;
  gint64 total_words = -1;  // harf-file: the service's word counts for the file
  gint64 known_words = -1;
  std::vector<Cue> cues;
  std::vector<Segment> segments;
};

std::optional<Segment> segment_from_message(const GstStructure *s, std::string *backend)
{
  gboolean final = TRUE;
  gst_structure_get_boolean(s, "final", &final);
  if (!final)
    return std::nullopt;

  Segment seg;
  if (const gchar *t = gst_structure_get_string(s, "text"))
    seg.text = t;
  if (const gchar *t = gst_structure_get_string(s, "raw-text"))
    seg.raw_text = t;
  gst_structure_get_int(s, "segment-id", &seg.id);
  if (const gchar *b = gst_structure_get_string(s, "backend"))
    *backend = b;

  guint64 timestamp = GST_CLOCK_TIME_NONE, stream_time = GST_CLOCK_TIME_NONE;
  guint64 duration = 0, offset = 0;
  gst_structure_get_uint64(s, "timestamp", &timestamp);
  gst_structure_get_uint64(s, "stream-time", &stream_time);
  gst_structure_get_uint64(s, "duration", &duration);
  gst_structure_get_uint64(s, "start", &offset);
  seg.start = GST_CLOCK_TIME_IS_VALID(stream_time) ? stream_time
              : GST_CLOCK_TIME_IS_VALID(timestamp) ? timestamp
                                                   : 0;
  seg.end = seg.start + duration;

  // Word times are the service's offsets, like "start": move them onto the
  // media timeline the same way the segment's start was.
  const gint64 base = gint64(seg.start) - gint64(offset);
  auto to_media = [base](guint64 t) -> guint64 {
    if (!GST_CLOCK_TIME_IS_VALID(t))
      return GST_CLOCK_TIME_NONE;
    return guint64(std::max<gint64>(0, base + gint64(t)));
  };

  const GValue *words = gst_structure_get_value(s, "words");
  if (words && GST_VALUE_HOLDS_ARRAY(words)) {
    for (guint i = 0; i < gst_value_array_get_size(words); ++i) {
      const GValue *v = gst_value_array_get_value(words, i);
      if (!GST_VALUE_HOLDS_STRUCTURE(v))
        continue;
      const GstStructure *ws = gst_value_get_structure(v);
      Word w;
      if (const gchar *t = gst_structure_get_string(ws, "text"))
        w.text = t;
      guint64 start = GST_CLOCK_TIME_NONE, end = GST_CLOCK_TIME_NONE;
      gst_structure_get_uint64(ws, "start", &start);
      gst_structure_get_uint64(ws, "end", &end);
      w.start = to_media(start);
      w.end = to_media(end);
      gst_structure_get_double(ws, "confidence", &w.confidence);
      gboolean unc = FALSE;
      gst_structure_get_boolean(ws, "uncertain", &unc);
      w.uncertain = unc;
      seg.words.push_back(std::move(w));
    }
  }
  return seg;
}

/* --------------------------------------------------------------- writers -- */

std::string format_time(guint64 ns, char ms_sep)
{
  guint64 ms = (ns + GST_MSECOND / 2) / GST_MSECOND;
  char buf[48];
  snprintf(buf, sizeof buf, "%02" G_GUINT64_FORMAT ":%02u:%02u%c%03u", ms / 3600000,
           unsigned(ms / 60000 % 60), unsigned(ms / 1000 % 60), ms_sep, unsigned(ms % 1000));
  return buf;
}

// The non-empty lines of a cue's text.
std::vector<std::string> cue_lines(const std::string &text)
{
  std::vector<std::string> lines;
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string::npos)
      j = text.size();
    std::string line = text.substr(i, j - i);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.pop_back();
    size_t k = line.find_first_not_of(" \t");
    if (k != std::string::npos)
      lines.push_back(line.substr(k));
    i = j + 1;
  }
  return lines;
}

std::string vtt_escape(const std::string &s)
{
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string write_subtitles(const std::vector<Cue> &cues, Format f)
{
  std::string out;
  if (f == Format::Vtt)
    out += "WEBVTT\n\n";
  unsigned index = 0;
  for (const Cue &c : cues) {
    auto lines = cue_lines(c.text);
    if (lines.empty())
      continue;
    const char sep = f == Format::Srt ? ',' : '.';
    if (f == Format::Srt)
      out += std::to_string(++index) + "\n";
    out += format_time(c.start, sep) + " --> " + format_time(c.end, sep) + "\n";
    for (const auto &l : lines)
      out += (f == Format::Vtt ? vtt_escape(l) : l) + "\n";
    out += "\n";
  }
  return out;
}

std::string write_text(const std::vector<Segment> &segments)
{
  std::string out;
  for (const Segment &s : segments) {
    std::string line = s.text;
    std::replace(line.begin(), line.end(), '\n', ' ');
    std::replace(line.begin(), line.end(), '\r', ' ');
    out += line + "\n";
  }
  return out;
}

void add_time(JsonBuilder *b, const char *name, guint64 ns)
{
  std::string ns_name = std::string(name) + "_ns";
  json_builder_set_member_name(b, name);
  if (GST_CLOCK_TIME_IS_VALID(ns))
    json_builder_add_double_value(b, double(ns) / GST_SECOND);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, ns_name.c_str());
  if (GST_CLOCK_TIME_IS_VALID(ns))
    json_builder_add_int_value(b, gint64(ns));
  else
    json_builder_add_null_value(b);
}

std::string write_json(const Transcript &t)
{
  GObjRef<JsonBuilder> b(json_builder_new());
  json_builder_begin_object(b.get());
  json_builder_set_member_name(b.get(), "input");
  json_builder_add_string_value(b.get(), t.input_uri.c_str());
  json_builder_set_member_name(b.get(), "backend");
  json_builder_add_string_value(b.get(), t.backend.c_str());
  add_time(b.get(), "duration", t.media_duration);
  if (t.total_words >= 0) {
    json_builder_set_member_name(b.get(), "total_words");
    json_builder_add_int_value(b.get(), t.total_words);
  }
  if (t.known_words >= 0) {
    json_builder_set_member_name(b.get(), "known_words");
    json_builder_add_int_value(b.get(), t.known_words);
  }
  json_builder_set_member_name(b.get(), "segments");
  json_builder_begin_array(b.get());
  for (const Segment &s : t.segments) {
    json_builder_begin_object(b.get());
    json_builder_set_member_name(b.get(), "id");
    json_builder_add_int_value(b.get(), s.id);
    json_builder_set_member_name(b.get(), "text");
    json_builder_add_string_value(b.get(), s.text.c_str());
    json_builder_set_member_name(b.get(), "raw_text");
    json_builder_add_string_value(b.get(), s.raw_text.c_str());
    add_time(b.get(), "start", s.start);
    add_time(b.get(), "end", s.end);
    json_builder_set_member_name(b.get(), "words");
    json_builder_begin_array(b.get());
    for (const Word &w : s.words) {
      json_builder_begin_object(b.get());
      json_builder_set_member_name(b.get(), "text");
      json_builder_add_string_value(b.get(), w.text.c_str());
      add_time(b.get(), "start", w.start);
      add_time(b.get(), "end", w.end);
      json_builder_set_member_name(b.get(), "confidence");
      if (w.confidence >= 0)
        json_builder_add_double_value(b.get(), w.confidence);
      else
        json_builder_add_null_value(b.get());
      json_builder_set_member_name(b.get(), "uncertain");
      json_builder_add_boolean_value(b.get(), w.uncertain);
      json_builder_end_object(b.get());
    }
    json_builder_end_array(b.get());
    json_builder_end_object(b.get());
  }
  json_builder_end_array(b.get());
  json_builder_end_object(b.get());

  JsonNode *root = json_builder_get_root(b.get());
  GObjRef<JsonGenerator> gen(json_generator_new());
  json_generator_set_pretty(gen.get(), TRUE);
  json_generator_set_indent(gen.get(), 2);
  json_generator_set_root(gen.get(), root);
  GCharPtr data(json_generator_to_data(gen.get(), nullptr));
  json_node_unref(root);
  return std::string(data.get()) + "\n";
}

// Writes to PATH.tmp, then renames it to PATH; on failure nothing is left.
bool write_file_atomically(const std::string &path, const std::string &data, std::string *error)
{
  const std::string tmp = path + ".tmp";
  int fd = g_open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd < 0) {
    *error = "cannot write " + tmp + ": " + g_strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      *error = "cannot write " + tmp + ": " + g_strerror(errno);
      close(fd);
      g_unlink(tmp.c_str());
      return false;
    }
    done += size_t(n);
  }
  if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS) {
    *error = "cannot write " + tmp + ": " + g_strerror(errno);
    close(fd);
    g_unlink(tmp.c_str());
    return false;
  }
  if (close(fd) != 0) {
    *error = "cannot write " + tmp + ": " + g_strerror(errno);
    g_unlink(tmp.c_str());
    return false;
  }
  if (g_rename(tmp.c_str(), path.c_str()) != 0) {
    *error = "cannot rename " + tmp + " to " + path + ": " + g_strerror(errno);
    g_unlink(tmp.c_str());
    return false;
  }
  return true;
}

bool write_stdout(const std::string &data, std::string *error)
{
  if (fwrite(data.data(), 1, data.size(), stdout) != data.size() || fflush(stdout) != 0) {
    *error = std::string("cannot write to standard output: ") + g_strerror(errno);
    return false;
  }
  return true;
}

/* -------------------------------------------------------------- progress -- */

std::string format_clock(guint64 ns)
{
  guint64 s = ns / GST_SECOND;
  char buf[32];
  if (s >= 3600)
    snprintf(buf, sizeof buf, "%" G_GUINT64_FORMAT ":%02u:%02u", s / 3600, unsigned(s / 60 % 60),
             unsigned(s % 60));
  else
    snprintf(buf, sizeof buf, "%u:%02u", unsigned(s / 60), unsigned(s % 60));
  return buf;
}

// Where a batch job (harf-file, nevisa) is, from the element's
// "transcription-progress" messages.
struct BatchStatus {
  bool active = false;  // the audio has been consumed: uploading or polling
  std::string
      state;  // UPLOADING, PENDING, STARTED, PROGRESS, SUCCESS...; "" before the first message
  double percent = -1;  // the service's, -1 when it does not say
  guint64 bytes_sent = 0;
  guint64 bytes_total = 0;
};

// A one-line progress bar on stderr, redrawn with \r.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled) {}
  ProgressBar(const ProgressBar &) = delete;
  ProgressBar &operator=(const ProgressBar &) = delete;

  bool enabled() const { return enabled_; }

  void start() { start_us_ = g_get_monotonic_time(); }

  // POSITION: audio handed to the transcriber.  It can run ahead of the
  // service (the element queues some audio), so 100 % is only shown when
  // DONE; before that, the last results are awaited.  With a batch backend,
  // once the audio is consumed, BATCH says how the upload and the job go.
  void draw(guint64 position, guint64 duration, bool done, const BatchStatus *batch = nullptr)
  {
    if (!enabled_)
      return;
    const guint64 elapsed = guint64(g_get_monotonic_time() - start_us_) * GST_USECOND;
    std::string line = "\r";
    if (batch && batch->active && !done) {
      line += batch_text(*batch) + "  elapsed " + format_clock(elapsed) + "\033[K";
      fputs(line.c_str(), stderr);
      fflush(stderr);
      drawn_ = true;
      return;
    }
    if (GST_CLOCK_TIME_IS_VALID(duration) && duration > 0) {
      guint64 pos = GST_CLOCK_TIME_IS_VALID(position) ? std::min(position, duration) : 0;
      const unsigned width = 30;
      if (done)
        pos = duration;
      unsigned percent = unsigned(double(pos) * 100.0 / double(duration));
      if (!done)
        percent = std::min(percent, 99u);
      unsigned filled = percent * width / 100;
      line += "[" + std::string(filled, '#') + std::string(width - filled, '-') + "] ";
      char pct[16];
      snprintf(pct, sizeof pct, "%3u%%", percent);
      line += pct;
      line += "  " + format_clock(pos) + " / " + format_clock(duration);
    } else if (GST_CLOCK_TIME_IS_VALID(position)) {
      line += format_clock(position) + " transcribed";
    } else {
      line += "starting";
    }
    line += "  elapsed " + format_clock(elapsed);
    if (done && GST_CLOCK_TIME_IS_VALID(duration))
      position = duration;
    if (GST_CLOCK_TIME_IS_VALID(position) && elapsed > 0 && (done || elapsed >= GST_SECOND / 2)) {
      char speed[32];
      snprintf(speed, sizeof speed, "  %.1fx real time", double(position) / double(elapsed));
      line += speed;
    }
    if (!done && GST_CLOCK_TIME_IS_VALID(duration) && GST_CLOCK_TIME_IS_VALID(position) &&
        position >= duration)
      line += "  waiting for the last results";
    line += "\033[K";
    fputs(line.c_str(), stderr);
    fflush(stderr);
    drawn_ = true;
  }

  static std::string bar(double fraction)
  {
    const unsigned width = 30;
    fraction = std::clamp(fraction, 0.0, 1.0);
    unsigned filled = unsigned(fraction * width);
    return "[" + std::string(filled, '#') + std::string(width - filled, '-') + "]  ";
  }

  // "uploading 1.2/3.4 MB", then the service's "<STATE> 40 %" (or the state
  // alone when it gives no percentage).
  static std::string batch_text(const BatchStatus &b)
  {
    char buf[96];
    if (b.state.empty() || b.state == "UPLOADING") {
      if (b.bytes_total == 0)
        return "uploading";
      snprintf(buf, sizeof buf, "uploading %.1f/%.1f MB", double(b.bytes_sent) / 1e6,
               double(b.bytes_total) / 1e6);
      return bar(double(b.bytes_sent) / double(b.bytes_total)) + buf;
    }
    if (b.percent < 0)
      return b.state;
    snprintf(buf, sizeof buf, "%s %.0f %%", b.state.c_str(), std::min(b.percent, 100.0));
    return bar(b.percent / 100.0) + buf;
  }

  // Ends the line (once).
  void finish()
  {
    if (enabled_ && drawn_) {
      fputc('\n', stderr);
      fflush(stderr);
    }
    drawn_ = false;
  }

 private:
  bool enabled_;
  bool drawn_ = false;
  gint64 start_us_ = 0;
};

/* ------------------------------------------------------------- pipeline -- */

struct Config {
  std::string uri;
  std::string input;    // as the user gave it, for messages
  std::string backend;  // the --backend name
  bool batch = false;   // harf-file, nevisa: uploaded at the end of the stream
  bool quiet = false;
  bool progress = false;
};

class Transcriber {
 public:
  explicit Transcriber(Config cfg) : cfg_(std::move(cfg)), progress_(cfg_.progress)
  {
    transcript_.input_uri = cfg_.uri;
  }
  Transcriber(const Transcriber &) = delete;
  Transcriber &operator=(const Transcriber &) = delete;

  ~Transcriber()
  {
    for (guint id : sources_)
      g_source_remove(id);
    if (bus_)
      gst_bus_remove_watch(bus_.get());
    if (pipeline_)
      gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  }

  // Creates the elements; the transcriber is available for configuration
  // after this.
  std::optional<Failure> build()
  {
    pipeline_.reset(GST_ELEMENT(gst_object_ref_sink(gst_pipeline_new("persian-transcribe"))));
    struct {
      const char *factory;
      GstElement **out;
    } parts[] = {{"uridecodebin", &decodebin_},
                 {"audioconvert", &convert_},
                 {"audioresample", &resample_},
                 {"persiantranscribe", &transcriber_},
                 {"appsink", &appsink_}};
    for (auto &p : parts) {
      GstElement *e = gst_element_factory_make(p.factory, nullptr);
      if (!e) {
        std::string hint = strcmp(p.factory, "persiantranscribe") == 0
                               ? "install the persiantranscribe plugin or set GST_PLUGIN_PATH"
                               : "install gstreamer1.0-plugins-base";
        return Failure{kExitFailure, std::string("the GStreamer element '") + p.factory +
                                         "' is missing: " + hint};
      }
      gst_bin_add(GST_BIN(pipeline_.get()), e);
      *p.out = e;
    }

    g_object_set(decodebin_, "uri", cfg_.uri.c_str(), nullptr);
    CapsRef caps(gst_caps_from_string("text/x-raw, format=(string)utf8"));
    g_object_set(appsink_, "caps", caps.get(), "sync", FALSE, "emit-signals", TRUE, nullptr);

    if (!gst_element_link_many(convert_, resample_, transcriber_, appsink_, nullptr))
      return Failure{kExitFailure,
                     "cannot link audioconvert ! audioresample ! persiantranscribe ! appsink"};

    g_signal_connect(decodebin_, "pad-added", G_CALLBACK(on_pad_added), this);
    g_signal_connect(decodebin_, "no-more-pads", G_CALLBACK(on_no_more_pads), this);
    g_signal_connect(appsink_, "new-sample", G_CALLBACK(on_new_sample), this);

    transcriber_sink_.reset(gst_element_get_static_pad(transcriber_, "sink"));
    if (cfg_.batch)
      gst_pad_add_probe(transcriber_sink_.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_sink_event,
                        this, nullptr);
    return std::nullopt;
  }

  GstElement *transcriber() const { return transcriber_; }

  // Runs to the end of the stream or the first error.
  std::optional<Failure> run()
  {
    loop_.reset(g_main_loop_new(nullptr, FALSE));
    bus_.reset(gst_element_get_bus(pipeline_.get()));
    gst_bus_add_watch(bus_.get(), on_bus_message, this);
    sources_.push_back(g_unix_signal_add(SIGINT, on_signal, this));
    sources_.push_back(g_unix_signal_add(SIGTERM, on_signal, this));

    progress_.start();
    if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      // The error that made it fail is on the bus (e.g. no token).
      GstMessage *msg = gst_bus_pop_filtered(bus_.get(), GST_MESSAGE_ERROR);
      if (msg) {
        handle_error(msg);
        gst_message_unref(msg);
      }
      if (!failure_)
        failure_ = Failure{kExitFailure, "the pipeline could not start"};
    } else {
      if (progress_.enabled()) {
        progress_.draw(GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE, false);
        sources_.push_back(g_timeout_add(kProgressIntervalMs, on_progress_tick, this));
      }
      g_main_loop_run(loop_.get());
    }

    if (!failure_)
      update_progress(true);  // the final state: 100 %
    progress_.finish();
    query_duration();
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    {
      std::lock_guard<std::mutex> lk(cues_lock_);
      transcript_.cues = cues_;
    }
    if (failure_)
      return failure_;
    return std::nullopt;
  }

  const Transcript &transcript() const { return transcript_; }

 private:
  /* streaming threads */
  static void on_pad_added(GstElement *, GstPad *pad, gpointer data)
  {
    auto *self = static_cast<Transcriber *>(data);
    CapsRef caps(gst_pad_get_current_caps(pad));
    if (!caps)
      caps.reset(gst_pad_query_caps(pad, nullptr));
    if (!caps || gst_caps_is_empty(caps.get()))
      return;
    const gchar *name = gst_structure_get_name(gst_caps_get_structure(caps.get(), 0));
    if (!g_str_has_prefix(name, "audio/"))
      return;  // video, subtitles: left unlinked
    bool expected = false;
    if (!self->audio_linked_.compare_exchange_strong(expected, true))
      return;  // first audio only
    GstRef<GstPad> sink(gst_element_get_static_pad(self->convert_, "sink"));
    GstPadLinkReturn r = gst_pad_link(pad, sink.get());
    if (GST_PAD_LINK_FAILED(r)) {
      self->post_error(self->decodebin_, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                       std::string("cannot use the audio stream (") + name + ")");
    }
  }

  // The end of the audio reached the transcriber: a batch job starts.
  static GstPadProbeReturn on_sink_event(GstPad *, GstPadProbeInfo *info, gpointer data)
  {
    auto *self = static_cast<Transcriber *>(data);
    GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (ev && GST_EVENT_TYPE(ev) == GST_EVENT_EOS)
      self->audio_done_.store(true);
    return GST_PAD_PROBE_OK;
  }

  static void on_no_more_pads(GstElement *, gpointer data)
  {
    auto *self = static_cast<Transcriber *>(data);
    if (!self->audio_linked_.load())
      self->post_error(self->decodebin_, GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE,
                       "no audio stream");
  }

  static GstFlowReturn on_new_sample(GstElement *sink, gpointer data)
  {
    auto *self = static_cast<Transcriber *>(data);
    GstSample *raw = nullptr;
    g_signal_emit_by_name(sink, "pull-sample", &raw);
    SampleRef sample(raw);
    if (!sample)
      return GST_FLOW_EOS;
    GstBuffer *buf = gst_sample_get_buffer(sample.get());
    if (!buf || !GST_BUFFER_PTS_IS_VALID(buf))
      return GST_FLOW_OK;
    const GstSegment *seg = gst_sample_get_segment(sample.get());

    guint64 pts = GST_BUFFER_PTS(buf);
    guint64 end =
        GST_BUFFER_DURATION_IS_VALID(buf) ? pts + GST_BUFFER_DURATION(buf) : pts + 2 * GST_SECOND;
    if (seg && seg->format == GST_FORMAT_TIME) {
      guint64 s = gst_segment_to_stream_time(seg, GST_FORMAT_TIME, pts);
      guint64 e = gst_segment_to_stream_time(seg, GST_FORMAT_TIME, end);
      if (GST_CLOCK_TIME_IS_VALID(s)) {
        pts = s;
        end = GST_CLOCK_TIME_IS_VALID(e) ? e : s + (end - GST_BUFFER_PTS(buf));
      }
    }
    Cue cue;
    cue.start = pts;
    cue.end = std::max(end, pts);
    GstMapInfo map;
    if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
      cue.text.assign(reinterpret_cast<const char *>(map.data), map.size);
      gst_buffer_unmap(buf, &map);
    }
    // Embedded NULs would end the text in most readers.
    cue.text.erase(std::remove(cue.text.begin(), cue.text.end(), '\0'), cue.text.end());
    std::lock_guard<std::mutex> lk(self->cues_lock_);
    self->cues_.push_back(std::move(cue));
    return GST_FLOW_OK;
  }

  // Posts an ERROR message as ELEMENT would, from any thread.
  void post_error(GstElement *element, GQuark domain, gint code, const std::string &message)
  {
    GError *err = g_error_new_literal(domain, code, message.c_str());
    gst_element_post_message(element, gst_message_new_error(GST_OBJECT(element), err, nullptr));
    g_error_free(err);
  }

  /* main thread */
  static gboolean on_bus_message(GstBus *, GstMessage *msg, gpointer data)
  {
    auto *self = static_cast<Transcriber *>(data);
    switch (GST_MESSAGE_TYPE(msg)) {
      case GST_MESSAGE_EOS:
        g_main_loop_quit(self->loop_.get());
        break;
      case GST_MESSAGE_ERROR:
        self->handle_error(msg);
        g_main_loop_quit(self->loop_.get());
        break;
      case GST_MESSAGE_WARNING:
        if (!self->cfg_.quiet) {
          GError *err = nullptr;
          gst_message_parse_warning(msg, &err, nullptr);
          self->progress_.finish();
          print_warning(err ? err->message : "unknown warning");
          if (err)
            g_error_free(err);
        }
        break;
      case GST_MESSAGE_ELEMENT:
        if (GST_MESSAGE_SRC(msg) == GST_OBJECT(self->transcriber_)) {
          const GstStructure *s = gst_message_get_structure(msg);
          if (s && gst_structure_has_name(s, "transcription"))
            self->add_segment(s);
          if (s && gst_structure_has_name(s, "transcription-progress"))
            self->batch_progress(s);
        }
        break;
      case GST_MESSAGE_DURATION_CHANGED:
        self->query_duration();
        break;
      default:
        break;
    }
    return G_SOURCE_CONTINUE;
  }

  void add_segment(const GstStructure *s)
  {
    auto seg = segment_from_message(s, &transcript_.backend);
    if (!seg)
      return;
    gint64 n = -1;
    if (gst_structure_get_int64(s, "total-words", &n))
      transcript_.total_words = n;
    if (gst_structure_get_int64(s, "known-words", &n))
      transcript_.known_words = n;
    auto &segs = transcript_.segments;
    if (seg->id >= 0) {
      // A late revision of a segment already final replaces it.
      auto it =
          std::find_if(segs.begin(), segs.end(), [&](const Segment &x) { return x.id == seg->id; });
      if (it != segs.end()) {
        *it = std::move(*seg);
        return;
      }
    }
    segs.push_back(std::move(*seg));
  }

  void batch_progress(const GstStructure *s)
  {
    const gchar *state = gst_structure_get_string(s, "state");
    const std::string previous = batch_.state;
    batch_.active = true;  // the job runs, so the audio was consumed
    batch_.state = state ? state : "";
    batch_.percent = -1;
    gst_structure_get_double(s, "percent", &batch_.percent);
    guint64 sent = 0, total = 0;
    if (gst_structure_get_uint64(s, "bytes-sent", &sent) &&
        gst_structure_get_uint64(s, "bytes-total", &total) && total > 0) {
      batch_.bytes_sent = sent;
      batch_.bytes_total = total;
    }
    // Each state is drawn at least once, and so is the end of the upload.
    if (batch_.state != previous || (total > 0 && sent == total))
      update_progress(false);
  }

  void handle_error(GstMessage *msg)
  {
    if (failure_)
      return;  // the first error is the cause; the rest follow from it
    GError *err = nullptr;
    gchar *debug = nullptr;
    gst_message_parse_error(msg, &err, &debug);
    g_free(debug);  // may hold details for developers; not shown
    const bool from_transcriber = GST_MESSAGE_SRC(msg) == GST_OBJECT(transcriber_);
    Failure f;
    f.code = exit_code_for(err, from_transcriber, is_input_source(GST_MESSAGE_SRC(msg)));
    std::string text = err && err->message ? err->message : "unknown error";
    if (f.code == kExitNoInput)
      text = "cannot read " + cfg_.input + ": " + text;
    else if (!from_transcriber && f.code == kExitUnplayable)
      text = "cannot play " + cfg_.input + ": " + text;
    if (f.code == kExitAuth && from_transcriber) {
      // Where the credentials came from; not for a Nevisa account without a
      // package (the credentials are right), nor when the element said it.
      std::string where;
      if (cfg_.backend == "nevisa") {
        if (text.find("package") == std::string::npos && text.find("NEVISA_") == std::string::npos)
          where =
              "--nevisa-username and --nevisa-password or NEVISA_USERNAME and NEVISA_PASSWORD, "
              "or --nevisa-auth-token and --nevisa-api-key or NEVISA_AUTH_TOKEN and NEVISA_API_KEY";
      } else if (text.find("HARF_TOKEN") == std::string::npos) {
        where = "--token or HARF_TOKEN, and --auth-scheme";
      }
      if (!where.empty())
        text += text.find("check the credentials") != std::string::npos ? " (" + where + ")"
                                                                        : " (check " + where + ")";
    }
    f.message = text;
    failure_ = f;
    if (err)
      g_error_free(err);
  }

  // Whether OBJ is the element uridecodebin made to read INPUT (filesrc,
  // souphttpsrc, ...).
  bool is_input_source(GstObject *obj) const
  {
    GstElement *source = nullptr;
    g_object_get(decodebin_, "source", &source, nullptr);
    GstRef<GstElement> ref(source);
    return source && obj == GST_OBJECT(source);
  }

  static int exit_code_for(const GError *err, bool from_transcriber, bool from_source)
  {
    if (!err)
      return kExitFailure;
    // A source that stops without saying why (souphttpsrc when the server
    // cannot be reached) could not read INPUT.
    if (from_source && err->domain == GST_STREAM_ERROR && err->code == GST_STREAM_ERROR_FAILED)
      return kExitNoInput;
    if (err->domain == GST_RESOURCE_ERROR) {
      if (from_transcriber) {
        switch (err->code) {
          case GST_RESOURCE_ERROR_NOT_AUTHORIZED:
            return kExitAuth;
          case GST_RESOURCE_ERROR_OPEN_READ_WRITE:
          case GST_RESOURCE_ERROR_OPEN_READ:
          case GST_RESOURCE_ERROR_OPEN_WRITE:
          case GST_RESOURCE_ERROR_READ:
          case GST_RESOURCE_ERROR_WRITE:
          case GST_RESOURCE_ERROR_NOT_FOUND:
            return kExitService;
          case GST_RESOURCE_ERROR_SETTINGS:
            return kExitUsage;
          default:
            return kExitFailure;
        }
      }
      switch (err->code) {  // the source reading INPUT
        case GST_RESOURCE_ERROR_NOT_FOUND:
        case GST_RESOURCE_ERROR_OPEN_READ:
        case GST_RESOURCE_ERROR_OPEN_READ_WRITE:
        case GST_RESOURCE_ERROR_READ:
        case GST_RESOURCE_ERROR_NOT_AUTHORIZED:
          return kExitNoInput;
        default:
          return kExitFailure;
      }
    }
    if (err->domain == GST_STREAM_ERROR) {
      if (from_transcriber)
        return err->code == GST_STREAM_ERROR_FORMAT ? kExitUnplayable : kExitFailure;
      return kExitUnplayable;  // typefind, demuxers, decoders
    }
    if (err->domain == GST_CORE_ERROR && err->code == GST_CORE_ERROR_MISSING_PLUGIN)
      return kExitUnplayable;
    return kExitFailure;
  }

  void query_duration()
  {
    gint64 dur = -1;
    if (gst_element_query_duration(pipeline_.get(), GST_FORMAT_TIME, &dur) && dur > 0)
      transcript_.media_duration = guint64(dur);
  }

  // The position of the audio handed to persiantranscribe.
  guint64 query_position()
  {
    gint64 pos = -1;
    if (transcriber_sink_ &&
        gst_pad_peer_query_position(transcriber_sink_.get(), GST_FORMAT_TIME, &pos) && pos >= 0)
      return guint64(pos);
    if (gst_element_query_position(pipeline_.get(), GST_FORMAT_TIME, &pos) && pos >= 0)
      return guint64(pos);
    return GST_CLOCK_TIME_NONE;
  }

  void update_progress(bool done)
  {
    if (!progress_.enabled())
      return;
    if (!GST_CLOCK_TIME_IS_VALID(transcript_.media_duration))
      query_duration();
    if (cfg_.batch && audio_done_.load())
      batch_.active = true;
    progress_.draw(query_position(), transcript_.media_duration, done,
                   cfg_.batch ? &batch_ : nullptr);
  }

  static gboolean on_progress_tick(gpointer data)
  {
    static_cast<Transcriber *>(data)->update_progress(false);
    return G_SOURCE_CONTINUE;
  }

  static gboolean on_signal(gpointer data)
  {
    auto *self = static_cast<Transcriber *>(data);
    if (!self->failure_)
      self->failure_ = Failure{kExitInterrupted, "interrupted"};
    g_main_loop_quit(self->loop_.get());
    return G_SOURCE_CONTINUE;
  }

  Config cfg_;
  ProgressBar progress_;
  GstRef<GstElement> pipeline_;
  GstElement *decodebin_ = nullptr;  // owned by pipeline_
  GstElement *convert_ = nullptr;
  GstElement *resample_ = nullptr;
  GstElement *transcriber_ = nullptr;
  GstElement *appsink_ = nullptr;
  GstRef<GstPad> transcriber_sink_;
  GstRef<GstBus> bus_;
  std::unique_ptr<GMainLoop, decltype(&g_main_loop_unref)> loop_{nullptr, g_main_loop_unref};
  std::vector<guint> sources_;
  std::atomic<bool> audio_linked_{false};
  std::atomic<bool> audio_done_{false};  // EOS reached the transcriber
  BatchStatus batch_;
  std::mutex cues_lock_;
  std::vector<Cue> cues_;  // cues_lock_
  Transcript transcript_;
  std::optional<Failure> failure_;
};

/* ------------------------------------------------------- configuration -- */

bool warn_enabled = true;

GParamSpec *find_property(GstElement *e, const char *name)
{
  return g_object_class_find_property(G_OBJECT_GET_CLASS(e), name);
}

// Sets an integer property after checking the value against its range.
std::optional<Failure> set_number_property(GstElement *e, const NumberOption &n)
{
  GParamSpec *ps = find_property(e, n.property);
  if (!ps) {
    if (warn_enabled)
      print_warning(std::string("this version of persiantranscribe has no '") + n.property +
                    "' property: --" + n.option + " is ignored");
    return std::nullopt;
  }
  gint64 lo = 0, hi = 0;
  GValue v = G_VALUE_INIT;
  g_value_init(&v, G_PARAM_SPEC_VALUE_TYPE(ps));
  if (G_IS_PARAM_SPEC_UINT(ps)) {
    lo = G_PARAM_SPEC_UINT(ps)->minimum;
    hi = G_PARAM_SPEC_UINT(ps)->maximum;
  } else if (G_IS_PARAM_SPEC_INT(ps)) {
    lo = G_PARAM_SPEC_INT(ps)->minimum;
    hi = G_PARAM_SPEC_INT(ps)->maximum;
  } else if (G_IS_PARAM_SPEC_UINT64(ps)) {
    lo = gint64(std::min<guint64>(G_PARAM_SPEC_UINT64(ps)->minimum, G_MAXINT64));
    hi = gint64(std::min<guint64>(G_PARAM_SPEC_UINT64(ps)->maximum, G_MAXINT64));
  } else if (G_IS_PARAM_SPEC_INT64(ps)) {
    lo = G_PARAM_SPEC_INT64(ps)->minimum;
    hi = G_PARAM_SPEC_INT64(ps)->maximum;
  } else {
    g_value_unset(&v);
    return Failure{kExitFailure, std::string("the '") + n.property + "' property is not a number"};
  }
  if (n.value < lo || n.value > hi) {
    g_value_unset(&v);
    return Failure{kExitUsage, std::string("--") + n.option + " must be between " +
                                   std::to_string(lo) + " and " + std::to_string(hi)};
  }
  if (G_IS_PARAM_SPEC_UINT(ps))
    g_value_set_uint(&v, guint(n.value));
  else if (G_IS_PARAM_SPEC_INT(ps))
    g_value_set_int(&v, gint(n.value));
  else if (G_IS_PARAM_SPEC_UINT64(ps))
    g_value_set_uint64(&v, guint64(n.value));
  else
    g_value_set_int64(&v, n.value);
  g_object_set_property(G_OBJECT(e), n.property, &v);
  g_value_unset(&v);
  return std::nullopt;
}

// The nicks an enum property accepts, for messages.
std::string enum_nicks(GParamSpec *ps)
{
  std::string out;
  GEnumClass *klass = G_PARAM_SPEC_ENUM(ps)->enum_class;
  for (guint i = 0; i < klass->n_values; ++i)
    out += std::string(i ? ", " : "") + klass->values[i].value_nick;
  return out;
}

std::optional<Failure> set_enum_property(GstElement *e, const char *prop, const char *option,
                                         const char *nick)
{
  GParamSpec *ps = find_property(e, prop);
  if (!ps || !G_IS_PARAM_SPEC_ENUM(ps))
    return Failure{kExitUsage, std::string("--") + option +
                                   " is not supported by this version of persiantranscribe"};
  const GEnumValue *ev = g_enum_get_value_by_nick(G_PARAM_SPEC_ENUM(ps)->enum_class, nick);
  if (!ev)
    return Failure{kExitUsage, std::string("unknown ") + option + " '" + nick + "' (choose " +
                                   enum_nicks(ps) + ")"};
  g_object_set(e, prop, ev->value, nullptr);
  return std::nullopt;
}

// Sets a double property after checking the value against its range.
std::optional<Failure> set_double_property(GstElement *e, const char *prop, const char *option,
                                           double value)
{
  GParamSpec *ps = find_property(e, prop);
  if (!ps || !G_IS_PARAM_SPEC_DOUBLE(ps))
    return Failure{kExitUsage, std::string("--") + option +
                                   " is not supported by this version of persiantranscribe"};
  const GParamSpecDouble *d = G_PARAM_SPEC_DOUBLE(ps);
  if (!(value >= d->minimum && value <= d->maximum)) {
    char range[64];
    snprintf(range, sizeof range, "%g and %g", d->minimum, d->maximum);
    return Failure{kExitUsage, std::string("--") + option + " must be between " + range};
  }
  g_object_set(e, prop, value, nullptr);
  return std::nullopt;
}

std::optional<Failure> set_string_property(GstElement *e, const char *prop, const char *option,
                                           const char *value)
{
  GParamSpec *ps = find_property(e, prop);
  if (!ps || !G_IS_PARAM_SPEC_STRING(ps))
    return Failure{kExitUsage, std::string("--") + option +
                                   " is not supported by this version of persiantranscribe"};
  g_object_set(e, prop, value, nullptr);
  return std::nullopt;
}

// UPLOAD_FILE: INPUT's absolute path when it is uploaded as it is, else "".
std::optional<Failure> configure(GstElement *t, const Options &o, const std::string &upload_file)
{
  if (o.backend)
    if (auto f = set_enum_property(t, "backend", "backend", o.backend))
      return f;
  if (o.token && *o.token)
    g_object_set(t, "token", o.token, nullptr);
  if (o.auth_scheme)
    if (auto f = set_enum_property(t, "auth-scheme", "auth-scheme", o.auth_scheme))
      return f;
  for (const auto &s : o.strings)
    if (s.value && *s.value)
      if (auto f = set_string_property(t, s.property, s.option, s.value))
        return f;
  if (o.no_harf_wait) {
    if (!find_property(t, "harf-wait"))
      return Failure{kExitUsage,
                     "--no-harf-wait is not supported by this version of persiantranscribe"};
    g_object_set(t, "harf-wait", FALSE, nullptr);
  }
  if (!std::isnan(o.min_confidence))
    if (auto f = set_double_property(t, "min-confidence", "min-confidence", o.min_confidence))
      return f;
  for (const auto &n : o.numbers)
    if (n.value != kUnset)
      if (auto f = set_number_property(t, n))
        return f;
  if (!upload_file.empty()) {
    if (find_property(t, "upload-file"))
      g_object_set(t, "upload-file", upload_file.c_str(), nullptr);
    else if (warn_enabled)
      print_warning(
          "this version of persiantranscribe cannot upload INPUT as it is: it is decoded");
  }
  return std::nullopt;
}

// Before any pipeline is built: the credentials the backend needs exist
// (options or environment; the element reads the same variables itself).
std::optional<Failure> check_credentials(const Options &o)
{
  auto have = [](const gchar *option, const char *env) {
    const gchar *e = g_getenv(env);
    return (option && *option) || (e && *e);
  };
  const std::string b = o.backend_name();
  if (b == "harf-live" || b == "harf-file") {
    if (!have(o.token, "HARF_TOKEN"))
      return Failure{kExitAuth, "no token: give --token or set HARF_TOKEN"};
  } else if (b == "nevisa") {
    const bool login = have(o.string_value("nevisa-username"), "NEVISA_USERNAME") &&
                       have(o.string_value("nevisa-password"), "NEVISA_PASSWORD");
    const bool token = have(o.string_value("nevisa-auth-token"), "NEVISA_AUTH_TOKEN") &&
                       have(o.string_value("nevisa-api-key"), "NEVISA_API_KEY");
    if (!login && !token)
      return Failure{
          kExitAuth,
          "no Nevisa credentials: set NEVISA_USERNAME and NEVISA_PASSWORD (or give "
          "--nevisa-username and --nevisa-password), or NEVISA_AUTH_TOKEN and NEVISA_API_KEY "
          "(or --nevisa-auth-token and --nevisa-api-key)"};
  }
  // Any other name: the element says whether it knows it (status 2 if not).
  return std::nullopt;
}

// Whether PATH's extension is one the batch services take as it is.
bool uploadable_as_is(const std::string &path)
{
  const char *base = strrchr(path.c_str(), '/');
  const char *dot = strrchr(base ? base : path.c_str(), '.');
  if (!dot)
    return false;
  for (const char *ext : kUploadAsIsExtensions)
    if (g_ascii_strcasecmp(dot + 1, ext) == 0)
      return true;
  return false;
}

struct Input {
  std::string uri;
  std::string path;  // a local file; "" for a remote URI
};

// INPUT as a URI (and a path when local); a Failure for a local file that is
// not there.
std::variant<Input, Failure> input_uri(const std::string &input)
{
  std::string path;
  std::string uri;
  if (input.find("://") != std::string::npos) {
    if (!gst_uri_is_valid(input.c_str()))
      return Failure{kExitUsage, "'" + input + "' is not a valid URI"};
    uri = input;
    if (g_str_has_prefix(input.c_str(), "file://")) {
      GCharPtr p(g_filename_from_uri(input.c_str(), nullptr, nullptr));
      if (!p)
        return Failure{kExitUsage, "'" + input + "' is not a valid file URI"};
      path = p.get();
    }
  } else {
    path = input;
  }
  if (!path.empty()) {
    GStatBuf st;
    if (g_stat(path.c_str(), &st) != 0)
      return Failure{kExitNoInput, input + ": " + g_strerror(errno)};
    if (S_ISDIR(st.st_mode))
      return Failure{kExitNoInput, input + ": is a directory"};
    if (g_access(path.c_str(), R_OK) != 0)
      return Failure{kExitNoInput, input + ": " + g_strerror(errno)};
  }
  if (uri.empty()) {
    GError *err = nullptr;
    GCharPtr u(gst_filename_to_uri(path.c_str(), &err));
    if (!u) {
      Failure f{kExitNoInput, input + ": " + (err ? err->message : "cannot make a URI")};
      if (err)
        g_error_free(err);
      return f;
    }
    uri = u.get();
  }
  return Input{uri, path};
}

std::optional<Failure> check_output_dir(const std::string &output)
{
  if (g_file_test(output.c_str(), G_FILE_TEST_IS_DIR))
    return Failure{kExitUsage, output + " is a directory"};
  GCharPtr dir(g_path_get_dirname(output.c_str()));
  if (!g_file_test(dir.get(), G_FILE_TEST_IS_DIR))
    return Failure{kExitFailure,
                   "cannot write " + output + ": the directory " + dir.get() + " does not exist"};
  if (g_access(dir.get(), W_OK | X_OK) != 0)
    return Failure{kExitFailure, "cannot write " + output + ": " + g_strerror(errno)};
  return std::nullopt;
}

int fail(const Failure &f)
{
  print_error(f.message);
  return f.code;
}

int run(int argc, char **argv)
{
  Options o;
  std::vector<GOptionEntry> entries = {
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &o.output,
       "Write to FILE (atomically) instead of standard output; '-' is standard output", "FILE"},
      {"format", 'f', 0, G_OPTION_ARG_STRING, &o.format,
       "Output format: srt, vtt, json or txt (default: OUTPUT's extension, else txt)", "FORMAT"},
      {"backend", 'b', 0, G_OPTION_ARG_STRING, &o.backend,
       "Transcription service: harf-live (default), harf-file, nevisa", "NAME"},
      {"token", 't', 0, G_OPTION_ARG_STRING, &o.token, "Harf API token (default: $HARF_TOKEN)",
       "TOKEN"},
      {"auth-scheme", 0, 0, G_OPTION_ARG_STRING, &o.auth_scheme,
       "How the token is sent: token ('Authorization: Token ...', default) or bearer", "SCHEME"},
      {"harf-url", 0, 0, G_OPTION_ARG_STRING, o.string("harf-url"),
       "WebSocket URL of Harf's live API (wss:// or ws://)", "URL"},
      {"harf-api-url", 0, 0, G_OPTION_ARG_STRING, o.string("harf-api-url"),
       "URL of Harf's file API (harf-file; https:// or http://)", "URL"},
      {"no-harf-wait", 0, 0, G_OPTION_ARG_NONE, &o.no_harf_wait,
       "harf-file: upload with wait=false and poll the task, instead of holding the connection "
       "open",
       nullptr},
      {"nevisa-username", 0, 0, G_OPTION_ARG_STRING, o.string("nevisa-username"),
       "Nevisa account: username, phone or e-mail (default: $NEVISA_USERNAME)", "USER"},
      {"nevisa-password", 0, 0, G_OPTION_ARG_STRING, o.string("nevisa-password"),
       "Nevisa password (default: $NEVISA_PASSWORD, preferred)", "PASSWORD"},
      {"nevisa-auth-token", 0, 0, G_OPTION_ARG_STRING, o.string("nevisa-auth-token"),
       "Nevisa auth token, with --nevisa-api-key: no login (default: $NEVISA_AUTH_TOKEN)", "TOKEN"},
      {"nevisa-api-key", 0, 0, G_OPTION_ARG_STRING, o.string("nevisa-api-key"),
       "Nevisa API key (default: $NEVISA_API_KEY)", "KEY"},
      {"nevisa-login-url", 0, 0, G_OPTION_ARG_STRING, o.string("nevisa-login-url"),
       "Nevisa's login endpoint", "URL"},
      {"nevisa-api-url", 0, 0, G_OPTION_ARG_STRING, o.string("nevisa-api-url"),
       "Base URL of Nevisa's file API", "URL"},
      {"poll-interval", 0, 0, G_OPTION_ARG_INT64, o.number("poll-interval"),
       "harf-file, nevisa: first wait between progress polls, growing to 10 s (100-60000, default "
       "1000)",
       "MS"},
      {"batch-timeout", 0, 0, G_OPTION_ARG_INT64, o.number("batch-timeout"),
       "harf-file, nevisa: seconds the job may take after the upload (default 3600)", "S"},
      {"min-confidence", 0, 0, G_OPTION_ARG_DOUBLE, &o.min_confidence,
       "nevisa: words below this confidence are marked uncertain (0-1, default 0.5)", "C"},
      {"decode", 0, 0, G_OPTION_ARG_NONE, &o.decode,
       "harf-file, nevisa: decode INPUT and upload WAV even when the service takes its format as "
       "it is",
       nullptr},
      {"sample-rate", 0, 0, G_OPTION_ARG_INT64, o.number("sample-rate"),
       "Rate (Hz) of the audio sent to the service (8000-48000, default 16000)", "HZ"},
      {"window-duration", 0, 0, G_OPTION_ARG_INT64, o.number("window-duration"),
       "Milliseconds of audio per message (100-60000, default 1000)", "MS"},
      {"max-inflight", 0, 0, G_OPTION_ARG_INT64, o.number("max-inflight"),
       "Windows sent before the first reply is read (1-64, default 1)", "N"},
      {"timeout", 0, 0, G_OPTION_ARG_INT64, o.number("timeout"),
       "Seconds allowed for connecting and for each reply (default 30)", "S"},
      {"max-line-chars", 0, 0, G_OPTION_ARG_INT64, o.number("max-line-chars"),
       "Longest subtitle line, in characters", "N"},
      {"max-lines", 0, 0, G_OPTION_ARG_INT64, o.number("max-lines"),
       "Most lines in one subtitle cue", "N"},
      {"max-cue-duration", 0, 0, G_OPTION_ARG_INT64, o.number("max-cue-duration"),
       "Longest time one cue stays on screen, in milliseconds", "MS"},
      {"min-cue-duration", 0, 0, G_OPTION_ARG_INT64, o.number("min-cue-duration"),
       "Shortest time one cue stays on screen, in milliseconds", "MS"},
      {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o.quiet,
       "No progress bar and no warnings (errors are still shown)", nullptr},
      {"version", 0, 0, G_OPTION_ARG_NONE, &o.version, "Print the version and exit", nullptr},
      {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.inputs, nullptr, "INPUT"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };

  std::unique_ptr<GOptionContext, decltype(&g_option_context_free)> ctx(
      g_option_context_new("- transcribe Persian speech to subtitles, JSON or text"),
      g_option_context_free);
  g_option_context_set_summary(ctx.get(), kSummary);
  g_option_context_set_description(ctx.get(), kDescription);
  g_option_context_add_main_entries(ctx.get(), entries.data(), nullptr);
  g_option_context_add_group(ctx.get(), gst_init_get_option_group());

  GError *err = nullptr;
  if (!g_option_context_parse(ctx.get(), &argc, &argv, &err)) {
    Failure f{kExitUsage, std::string(err->message) + " (see --help)"};
    g_error_free(err);
    return fail(f);
  }
  if (o.version) {
    printf("%s %s (%s)\n", kProg, VERSION, GCharPtr(gst_version_string()).get());
    return kExitOk;
  }
  const guint n_inputs = o.inputs ? g_strv_length(o.inputs) : 0;
  if (n_inputs != 1)
    return fail({kExitUsage, n_inputs == 0 ? "no INPUT given (see --help)"
                                           : "give exactly one INPUT (see --help)"});
  warn_enabled = !o.quiet;

  // Where and how to write.
  const bool to_stdout = !o.output || strcmp(o.output, "-") == 0;
  Format format = Format::Txt;
  if (o.format) {
    auto f = format_from_name(o.format);
    if (!f)
      return fail({kExitUsage, std::string("unknown format '") + o.format +
                                   "' (choose srt, vtt, json or txt)"});
    format = *f;
  } else if (!to_stdout) {
    const char *dot = strrchr(o.output, '.');
    const char *slash = strrchr(o.output, '/');
    auto f = dot && (!slash || dot > slash) ? format_from_name(dot + 1) : std::nullopt;
    if (!f)
      return fail(
          {kExitUsage, std::string("cannot tell the format from '") + o.output +
                           "': use --format srt|vtt|json|txt or a .srt, .vtt, .json or .txt name"});
    format = *f;
  }
  if (!to_stdout)
    if (auto f = check_output_dir(o.output))
      return fail(*f);

  // What to read.
  auto uri = input_uri(o.inputs[0]);
  if (auto *f = std::get_if<Failure>(&uri))
    return fail(*f);

  const Input &in = std::get<Input>(uri);

  // The credentials: the element reads the environment itself; check here
  // that they exist so the error is the tool's, before any pipeline is built.
  if (auto f = check_credentials(o))
    return fail(*f);

  Config cfg;
  cfg.uri = in.uri;
  cfg.input = o.inputs[0];
  cfg.backend = o.backend_name();
  cfg.batch = is_batch_backend(cfg.backend);
  cfg.quiet = o.quiet;
  cfg.progress = !o.quiet && isatty(STDERR_FILENO);

  // A batch service takes some formats as they are: upload the file itself
  // (the pipeline still runs, for the duration and the cues' timing; the
  // element only drains the decoded audio).
  std::string upload_file;
  if (cfg.batch && !o.decode && !in.path.empty() && uploadable_as_is(in.path)) {
    GCharPtr abs(g_canonicalize_filename(in.path.c_str(), nullptr));
    upload_file = abs.get();
  }

  Transcriber t(cfg);
  if (auto f = t.build())
    return fail(*f);
  if (auto f = configure(t.transcriber(), o, upload_file))
    return fail(*f);
  if (auto f = t.run())
    return fail(*f);

  Transcript tr = t.transcript();
  if (tr.backend.empty())
    tr.backend = cfg.backend;
  std::string data;
  switch (format) {
    case Format::Srt:
    case Format::Vtt:
      data = write_subtitles(tr.cues, format);
      break;
    case Format::Json:
      data = write_json(tr);
      break;
    case Format::Txt:
      data = write_text(tr.segments);
      break;
  }
  std::string error;
  if (to_stdout ? !write_stdout(data, &error) : !write_file_atomically(o.output, data, &error))
    return fail({kExitFailure, error});
  return kExitOk;
}

}  // namespace

int main(int argc, char **argv)
{
  int code = run(argc, argv);
  gst_deinit();
  return code;
}
