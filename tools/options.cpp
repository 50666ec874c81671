// SPDX-License-Identifier: LGPL-2.1-or-later
// persian-transcribe's options: the command line, --help from the element's specs, validation.
#include "options.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <deque>

#include "upload_formats.h"

namespace cli {

ClassRef transcriber_class()
{
  GstElementFactory *factory = gst_element_factory_find("persiantranscribe");
  if (!factory)
    return nullptr;
  GstRef<GstPluginFeature> loaded(gst_plugin_feature_load(GST_PLUGIN_FEATURE(factory)));
  gst_object_unref(factory);
  if (!loaded)
    return nullptr;
  GType type = gst_element_factory_get_element_type(GST_ELEMENT_FACTORY(loaded.get()));
  return ClassRef(type ? G_OBJECT_CLASS(g_type_class_ref(type)) : nullptr);
}

Options::~Options()
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
  g_free(nevisa_live_framing);
  g_free(digits);
  g_free(backend);
  g_free(output);
  g_free(format);
  g_strfreev(inputs);
}

// The entry of LIST (numbers, strings) for --OPTION, or null.
template <typename List>
auto find_option(List &list, const char *option) -> decltype(&list.front())
{
  for (auto &entry : list)
    if (strcmp(entry.option, option) == 0)
      return &entry;
  return nullptr;
}

gint64 *Options::number(const char *option)
{
  auto *n = find_option(numbers, option);
  return n ? &n->value : nullptr;
}

gchar **Options::string(const char *option)
{
  auto *s = find_option(strings, option);
  return s ? &s->value : nullptr;
}

const gchar *Options::string_value(const char *option) const
{
  auto *s = find_option(strings, option);
  return s ? s->value : nullptr;
}

namespace {

/* ------------------------------------------------------ property specs -- */

GParamSpec *find_property(GObjectClass *klass, const char *name)
{
  return klass ? g_object_class_find_property(klass, name) : nullptr;
}

GParamSpec *find_enum_property(GObjectClass *klass, const char *name)
{
  GParamSpec *ps = find_property(klass, name);
  return ps && G_IS_PARAM_SPEC_ENUM(ps) ? ps : nullptr;
}

// The range and default of an integer property.
struct IntegerSpec {
  gint64 min, max, def;
};

std::optional<IntegerSpec> integer_spec(GParamSpec *ps)
{
  auto clamped = [](guint64 v) { return gint64(std::min<guint64>(v, G_MAXINT64)); };
  if (G_IS_PARAM_SPEC_UINT(ps)) {
    const GParamSpecUInt *p = G_PARAM_SPEC_UINT(ps);
    return IntegerSpec{p->minimum, p->maximum, p->default_value};
  }
  if (G_IS_PARAM_SPEC_INT(ps)) {
    const GParamSpecInt *p = G_PARAM_SPEC_INT(ps);
    return IntegerSpec{p->minimum, p->maximum, p->default_value};
  }
  if (G_IS_PARAM_SPEC_UINT64(ps)) {
    const GParamSpecUInt64 *p = G_PARAM_SPEC_UINT64(ps);
    return IntegerSpec{clamped(p->minimum), clamped(p->maximum), clamped(p->default_value)};
  }
  if (G_IS_PARAM_SPEC_INT64(ps)) {
    const GParamSpecInt64 *p = G_PARAM_SPEC_INT64(ps);
    return IntegerSpec{p->minimum, p->maximum, p->default_value};
  }
  return std::nullopt;
}

std::string format_double(double d)
{
  char buf[32];
  snprintf(buf, sizeof buf, "%g", d);
  return buf;
}

// " (MIN-MAX, default D)" from PROPERTY's spec; "" without it.
std::string range_and_default(GObjectClass *klass, const char *property)
{
  GParamSpec *ps = find_property(klass, property);
  if (!ps)
    return "";
  if (auto r = integer_spec(ps))
    return " (" + std::to_string(r->min) + "-" + std::to_string(r->max) + ", default " +
           std::to_string(r->def) + ")";
  if (G_IS_PARAM_SPEC_DOUBLE(ps)) {
    const GParamSpecDouble *d = G_PARAM_SPEC_DOUBLE(ps);
    return " (" + format_double(d->minimum) + "-" + format_double(d->maximum) + ", default " +
           format_double(d->default_value) + ")";
  }
  return "";
}

// The nicks an enum property accepts, "a, b, c"; with MARK_DEFAULT, "a (default), b, c".
std::string enum_nicks(GParamSpec *ps, bool mark_default = false)
{
  std::string out;
  const GParamSpecEnum *pe = G_PARAM_SPEC_ENUM(ps);
  for (guint i = 0; i < pe->enum_class->n_values; ++i) {
    const GEnumValue &v = pe->enum_class->values[i];
    out += std::string(i ? ", " : "") + v.value_nick;
    if (mark_default && v.value == pe->default_value)
      out += " (default)";
  }
  return out;
}

Failure unsupported(const char *option)
{
  return Failure{kExitUsage, std::string("--") + option +
                                 " is not supported by this version of persiantranscribe"};
}

// The value of PROP's enum named NICK (given as --OPTION).
std::variant<const GEnumValue *, Failure> enum_value(GObjectClass *klass, const char *prop,
                                                     const char *option, const char *nick)
{
  GParamSpec *ps = find_enum_property(klass, prop);
  if (!ps)
    return unsupported(option);
  const GEnumValue *ev = g_enum_get_value_by_nick(G_PARAM_SPEC_ENUM(ps)->enum_class, nick);
  if (!ev)
    return Failure{kExitUsage, std::string("unknown ") + option + " '" + nick + "' (choose " +
                                   enum_nicks(ps) + ")"};
  return ev;
}

/* ---------------------------------------------------------------- help -- */

const char *kSummary =
    "Transcribes the Persian speech in INPUT, a media file path or URI (anything\n"
    "uridecodebin plays: wav, mp3, ogg, mp4, mkv...) or '-' for standard input,\n"
    "with the Harf or Nevisa service and writes subtitles (SRT, WebVTT), JSON\n"
    "with words and times, or plain text.\n"
    "\n"
    "The format is --format, else OUTPUT's extension (.srt .vtt .json .txt), else\n"
    "txt.  Without -o the result goes to standard output.  A file OUTPUT is\n"
    "written atomically (a temporary in its directory, then renamed over it; a\n"
    "symbolic link's target is replaced, the link stays): a failed run leaves no\n"
    "partial file.  A device or FIFO is written in place.";

const char *kEnvironmentAndExitStatus =
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
    "  130  interrupted (SIGINT or SIGTERM); nothing written without --keep-partial\n";

// TEXT in lines of at most 79 columns: the first after FIRST, the others
// after INDENT spaces.
std::string wrap(const std::string &text, const std::string &first, size_t indent)
{
  std::string out = first;
  size_t column = first.size();
  bool empty_line = true;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find(' ', i);
    if (j == std::string::npos)
      j = text.size();
    const std::string word = text.substr(i, j - i);
    i = j + 1;
    if (word.empty())
      continue;
    if (!empty_line && column + 1 + word.size() > 79) {
      out += "\n" + std::string(indent, ' ');
      column = indent;
      empty_line = true;
    }
    if (!empty_line) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    empty_line = false;
  }
  return out + "\n";
}

// The batch backends (pt::is_batch) among the element's, "a and b".
std::string batch_backends(GObjectClass *klass)
{
  std::vector<std::string> names;
  if (GParamSpec *ps = find_enum_property(klass, "backend")) {
    const GEnumClass *ec = G_PARAM_SPEC_ENUM(ps)->enum_class;
    for (guint i = 0; i < ec->n_values; ++i)
      if (pt::is_batch(static_cast<pt::BackendKind>(ec->values[i].value)))
        names.push_back(ec->values[i].value_nick);
  }
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
  return out;
}

// The backends, what the batch ones upload, the environment, the exit
// statuses and examples: the text after the options.
std::string description(GObjectClass *klass)
{
  std::string out;
  if (GParamSpec *ps = find_enum_property(klass, "backend")) {
    const GParamSpecEnum *pe = G_PARAM_SPEC_ENUM(ps);
    out += "Backends (--backend):\n";
    for (guint i = 0; i < pe->enum_class->n_values; ++i) {
      const GEnumValue &v = pe->enum_class->values[i];
      std::string name = std::string("  ") + v.value_nick;
      name.resize(std::max<size_t>(name.size() + 1, 14), ' ');
      out += wrap(std::string(v.value_name) + (v.value == pe->default_value ? " (default)" : ""),
                  name, 14);
    }
    out += wrap("With " + batch_backends(klass) + ", a local INPUT the services take as it is (" +
                    pt::upload_extensions_list() +
                    ") is uploaded without decoding it (--decode to decode it anyway); any other "
                    "INPUT is decoded and uploaded as 16-bit mono WAV.",
                "", 0);
    out += wrap("Harf needs a token; Nevisa a username and password, or an auth token and API key.",
                "", 0);
  } else {
    out += wrap(
        "(The persiantranscribe element was not found: install the plugin or set "
        "GST_PLUGIN_PATH.  Its backends, and the defaults and ranges of the options, "
        "are not shown.)",
        "", 0);
  }
  out += "\n";
  out += kEnvironmentAndExitStatus;
  out += "\n";
  out += "Examples:\n";
  out += "  HARF_TOKEN=... persian-transcribe talk.mp3 -o talk.srt\n";
  out += "  persian-transcribe --format json --token ... interview.mkv > interview.json\n";
  out += "  NEVISA_USERNAME=... NEVISA_PASSWORD=... persian-transcribe --backend " +
         std::string(pt::backend_name(pt::BackendKind::Nevisa)) + " \\\n";
  out += "      lecture.mp3 -o lecture.json\n";
  out += "\n";
  out += "See docs/persian-transcribe.md.";
  return out;
}

/* -------------------------------------------------------- element setup -- */

// Sets an integer property after checking the value against its range.
std::optional<Failure> set_number_property(GstElement *e, const NumberOption &n, bool warn)
{
  GParamSpec *ps = find_property(G_OBJECT_GET_CLASS(e), n.property);
  if (!ps) {
    if (warn)
      print_warning(std::string("this version of persiantranscribe has no '") + n.property +
                    "' property: --" + n.option + " is ignored");
    return std::nullopt;
  }
  auto range = integer_spec(ps);
  if (!range)
    return Failure{kExitFailure, std::string("the '") + n.property + "' property is not a number"};
  if (n.value < range->min || n.value > range->max)
    return Failure{kExitUsage, std::string("--") + n.option + " must be between " +
                                   std::to_string(range->min) + " and " +
                                   std::to_string(range->max)};
  // GObject converts it to the property's type, in range.
  GValue v = G_VALUE_INIT;
  g_value_init(&v, G_TYPE_INT64);
  g_value_set_int64(&v, n.value);
  g_object_set_property(G_OBJECT(e), n.property, &v);
  g_value_unset(&v);
  return std::nullopt;
}

std::optional<Failure> set_enum_property(GstElement *e, const char *prop, const char *option,
                                         const char *nick)
{
  auto value = enum_value(G_OBJECT_GET_CLASS(e), prop, option, nick);
  if (auto *f = std::get_if<Failure>(&value))
    return *f;
  g_object_set(e, prop, std::get<const GEnumValue *>(value)->value, nullptr);
  return std::nullopt;
}

// Sets a double property after checking the value against its range.
std::optional<Failure> set_double_property(GstElement *e, const char *prop, const char *option,
                                           double value)
{
  GParamSpec *ps = find_property(G_OBJECT_GET_CLASS(e), prop);
  if (!ps || !G_IS_PARAM_SPEC_DOUBLE(ps))
    return unsupported(option);
  const GParamSpecDouble *d = G_PARAM_SPEC_DOUBLE(ps);
  if (!(value >= d->minimum && value <= d->maximum))
    return Failure{kExitUsage, std::string("--") + option + " must be between " +
                                   format_double(d->minimum) + " and " + format_double(d->maximum)};
  g_object_set(e, prop, value, nullptr);
  return std::nullopt;
}

std::optional<Failure> set_string_property(GstElement *e, const char *prop, const char *option,
                                           const char *value)
{
  GParamSpec *ps = find_property(G_OBJECT_GET_CLASS(e), prop);
  if (!ps || !G_IS_PARAM_SPEC_STRING(ps))
    return unsupported(option);
  g_object_set(e, prop, value, nullptr);
  return std::nullopt;
}

}  // namespace

std::optional<Failure> parse_options(int argc, char **argv, GObjectClass *klass, Options &o)
{
  // The texts made here must live until the parsing (and --help) is done.
  std::deque<std::string> texts;
  auto text = [&texts](std::string s) { return texts.emplace_back(std::move(s)).c_str(); };
  std::string batch = batch_backends(klass);
  if (batch.empty())
    batch = "batch backends";
  const std::string harf_file = pt::backend_name(pt::BackendKind::HarfFile);
  const std::string nevisa = pt::backend_name(pt::BackendKind::Nevisa);
  auto choices = [&](const char *prop) {
    GParamSpec *ps = find_enum_property(klass, prop);
    return ps ? ": " + enum_nicks(ps, true) : std::string();
  };
  auto number = [&](const char *option, const char *description, const char *arg) {
    return GOptionEntry{option,
                        0,
                        0,
                        G_OPTION_ARG_INT64,
                        o.number(option),
                        text(description + range_and_default(klass, option)),
                        arg};
  };
  auto flag = [](const char *option, gboolean *target, const char *description) {
    return GOptionEntry{option, 0, 0, G_OPTION_ARG_NONE, target, description, nullptr};
  };
  auto string = [&](const char *option, const char *description, const char *arg) {
    return GOptionEntry{option, 0, 0, G_OPTION_ARG_STRING, o.string(option), description, arg};
  };

  std::vector<GOptionEntry> entries = {
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &o.output,
       "Write to FILE (atomically) instead of standard output; '-' is standard output", "FILE"},
      {"format", 'f', 0, G_OPTION_ARG_STRING, &o.format,
       "Output format: srt, vtt, json or txt (default: OUTPUT's extension, else txt)", "FORMAT"},
      {"backend", 'b', 0, G_OPTION_ARG_STRING, &o.backend,
       text("Transcription service" + choices("backend")), "NAME"},
      {"token", 't', 0, G_OPTION_ARG_STRING, &o.token, "Harf API token (default: $HARF_TOKEN)",
       "TOKEN"},
      {"auth-scheme", 0, 0, G_OPTION_ARG_STRING, &o.auth_scheme,
       text("How the token is sent in the Authorization header" + choices("auth-scheme")),
       "SCHEME"},
      string("harf-url", "WebSocket URL of Harf's live API (wss:// or ws://)", "URL"),
      string("harf-api-url",
             text("URL of Harf's file API (" + harf_file + "; https:// or http://)"), "URL"),
      {"no-harf-wait", 0, 0, G_OPTION_ARG_NONE, &o.no_harf_wait,
       text(harf_file +
            ": upload with wait=false and poll the task, instead of holding the connection open"),
       nullptr},
      string("nevisa-username",
             "Nevisa account: username, phone or e-mail (default: $NEVISA_USERNAME)", "USER"),
      string("nevisa-password", "Nevisa password (default: $NEVISA_PASSWORD, preferred)",
             "PASSWORD"),
      string("nevisa-auth-token",
             "Nevisa auth token, with --nevisa-api-key: no login (default: $NEVISA_AUTH_TOKEN)",
             "TOKEN"),
      string("nevisa-api-key", "Nevisa API key (default: $NEVISA_API_KEY)", "KEY"),
      string("nevisa-login-url", "Nevisa's login endpoint", "URL"),
      string("nevisa-api-url", "Base URL of Nevisa's file API", "URL"),
      string("nevisa-live-url",
             "WebSocket URL of Nevisa's live API (wss:// or ws://; the credentials are added to "
             "its query, never shown)",
             "URL"),
      {"nevisa-live-framing", 0, 0, G_OPTION_ARG_STRING, &o.nevisa_live_framing,
       text("How nevisa-live frames each 500 ms audio message" + choices("nevisa-live-framing")),
       "FRAMING"},
      number("poll-interval", text(batch + ": first wait between progress polls, growing to 10 s"),
             "MS"),
      number("batch-timeout", text(batch + ": seconds the job may take after the upload"), "S"),
      flag("words", &o.words,
           "vtt: a timestamp tag before each word whose time the backend gives (nevisa, "
           "nevisa-live), for players and editors that show words as they are spoken"),
      flag("keep-partial", &o.keep_partial,
           "When interrupted (Ctrl-C, SIGTERM), still write what was transcribed so far (the "
           "exit status stays 130)"),
      flag("no-rtl-marks", &o.no_rtl_marks,
           "srt, vtt: no RIGHT-TO-LEFT MARK (U+200F) around each line (by default they make "
           "players that lay lines out left to right show Persian right to left)"),
      flag("no-normalize", &o.no_normalize,
           "Keep the service's text as it is: no Persian script normalisation (Arabic letters, "
           "digits, diacritics, ZWNJ after mi-/before -ha, spaces around punctuation)"),
      {"digits", 0, 0, G_OPTION_ARG_STRING, &o.digits,
       text("Script of the digits in normalised text" + choices("digits")), "SCRIPT"},
      {"min-confidence", 0, 0, G_OPTION_ARG_DOUBLE, &o.min_confidence,
       text(nevisa + ": words below this confidence are marked uncertain" +
            range_and_default(klass, "min-confidence")),
       "C"},
      {"decode", 0, 0, G_OPTION_ARG_NONE, &o.decode,
       text(batch +
            ": decode INPUT and upload WAV even when the service takes its format as it is"),
       nullptr},
      flag("skip-silence", &o.skip_silence,
           "Do not send (nor pay for) the inside of long pauses; the times stay exact. With "
           "harf-file and nevisa INPUT is then decoded, as with --decode"),
      number("sample-rate", "Rate (Hz) of the audio sent to the service", "HZ"),
      number("window-duration", "Milliseconds of audio per message", "MS"),
      number("max-inflight", "Windows sent before the first reply is read", "N"),
      number("timeout", "Seconds allowed for connecting and for each reply", "S"),
      number("max-line-chars", "Longest subtitle line, in characters", "N"),
      number("max-lines", "Most lines in one subtitle cue", "N"),
      number("max-cue-duration", "Longest time one cue stays on screen, in milliseconds", "MS"),
      number("min-cue-duration", "Shortest time one cue stays on screen, in milliseconds", "MS"),
      {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o.quiet,
       "No progress bar and no warnings (errors are still shown)", nullptr},
      {"version", 0, 0, G_OPTION_ARG_NONE, &o.version, "Print the version and exit", nullptr},
      {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.inputs, nullptr, "INPUT"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr},
  };

  std::unique_ptr<GOptionContext, decltype(&g_option_context_free)> ctx(
      g_option_context_new("- transcribe Persian speech to subtitles, JSON or text"),
      g_option_context_free);
  const std::string more = description(klass);
  g_option_context_set_summary(ctx.get(), kSummary);
  g_option_context_set_description(ctx.get(), more.c_str());
  g_option_context_add_main_entries(ctx.get(), entries.data(), nullptr);
  // GStreamer is initialized already: its group is here for --help-gst.
  g_option_context_add_group(ctx.get(), gst_init_get_option_group());

  GError *err = nullptr;
  if (!g_option_context_parse(ctx.get(), &argc, &argv, &err)) {
    Failure f{kExitUsage, std::string(err->message) + " (see --help)"};
    g_error_free(err);
    return f;
  }
  return std::nullopt;
}

std::variant<Format, Failure> output_format(const Options &o)
{
  if (o.format) {
    auto f = format_from_name(o.format);
    if (!f)
      return Failure{kExitUsage, std::string("unknown format '") + o.format +
                                     "' (choose srt, vtt, json or txt)"};
    return *f;
  }
  if (o.to_stdout())
    return Format::Txt;
  const char *dot = strrchr(o.output, '.');
  const char *slash = strrchr(o.output, '/');
  auto f = dot && (!slash || dot > slash) ? format_from_name(dot + 1) : std::nullopt;
  if (!f)
    return Failure{kExitUsage,
                   std::string("cannot tell the format from '") + o.output +
                       "': use --format srt|vtt|json|txt or a .srt, .vtt, .json or .txt name"};
  return *f;
}

std::variant<Backend, Failure> chosen_backend(GObjectClass *klass, const Options &o)
{
  if (!klass)
    return missing_element("persiantranscribe");
  const GEnumValue *ev = nullptr;
  if (o.backend) {
    auto value = enum_value(klass, "backend", "backend", o.backend);
    if (auto *f = std::get_if<Failure>(&value))
      return *f;
    ev = std::get<const GEnumValue *>(value);
  } else if (GParamSpec *ps = find_enum_property(klass, "backend")) {
    const GParamSpecEnum *pe = G_PARAM_SPEC_ENUM(ps);
    ev = g_enum_get_value(pe->enum_class, pe->default_value);
  }
  if (!ev)
    return unsupported("backend");
  // The enum's values are pt::BackendKind's (src/settings.h).
  return Backend{ev->value_nick, static_cast<pt::BackendKind>(ev->value)};
}

std::optional<Failure> check_credentials(const Options &o, pt::BackendKind backend)
{
  auto given = [](const gchar *value) { return std::string(value ? value : ""); };
  pt::Settings s;
  s.backend = backend;
  s.token = given(o.token);
  s.nevisa_username = given(o.string_value("nevisa-username"));
  s.nevisa_password = given(o.string_value("nevisa-password"));
  s.nevisa_auth_token = given(o.string_value("nevisa-auth-token"));
  s.nevisa_api_key = given(o.string_value("nevisa-api-key"));
  pt::apply_environment(s);  // as the element does
  std::optional<pt::Error> missing = pt::check_credentials(s);
  for (std::string *secret :
       {&s.token, &s.nevisa_password, &s.nevisa_auth_token, &s.nevisa_api_key})
    std::fill(secret->begin(), secret->end(), '\0');
  if (!missing)
    return std::nullopt;
  return Failure{exit_code_for_reason(missing->reason ? missing->reason : "").value_or(kExitUsage),
                 missing->message};
}

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
  if (o.nevisa_live_framing)
    if (auto f = set_enum_property(t, "nevisa-live-framing", "nevisa-live-framing",
                                   o.nevisa_live_framing))
      return f;
  for (const auto &s : o.strings)
    if (s.value && *s.value)
      if (auto f = set_string_property(t, s.property, s.option, s.value))
        return f;
  if (o.no_harf_wait) {
    if (!find_property(G_OBJECT_GET_CLASS(t), "harf-wait"))
      return unsupported("no-harf-wait");
    g_object_set(t, "harf-wait", FALSE, nullptr);
  }
  if (o.no_normalize) {
    if (!find_property(G_OBJECT_GET_CLASS(t), "normalize"))
      return unsupported("no-normalize");
    g_object_set(t, "normalize", FALSE, nullptr);
  }
  if (o.skip_silence) {
    if (!find_property(G_OBJECT_GET_CLASS(t), "skip-silence"))
      return unsupported("skip-silence");
    g_object_set(t, "skip-silence", TRUE, nullptr);
  }
  if (o.digits)
    if (auto f = set_enum_property(t, "digits", "digits", o.digits))
      return f;
  if (!std::isnan(o.min_confidence))
    if (auto f = set_double_property(t, "min-confidence", "min-confidence", o.min_confidence))
      return f;
  for (const auto &n : o.numbers)
    if (n.value != kUnset)
      if (auto f = set_number_property(t, n, !o.quiet))
        return f;
  if (!upload_file.empty()) {
    if (find_property(G_OBJECT_GET_CLASS(t), "upload-file"))
      g_object_set(t, "upload-file", upload_file.c_str(), nullptr);
    else if (!o.quiet)
      print_warning(
          "this version of persiantranscribe cannot upload INPUT as it is: it is decoded");
  }
  return std::nullopt;
}

}  // namespace cli
