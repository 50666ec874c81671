// SPDX-License-Identifier: LGPL-2.1-or-later
// persian-transcribe's options: parsing, --help, validation, and the element properties they set.
#pragma once

#include <gst/gst.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common.h"
#include "output.h"
#include "settings.h"

namespace cli {

// The persiantranscribe element's class, whose property specs give the
// defaults, ranges and backends; null when the plugin is missing.
using ClassRef = std::unique_ptr<GObjectClass, FreeWith<g_type_class_unref>>;
ClassRef transcriber_class();

constexpr gint64 kUnset = G_MININT64;

// An integer option passed on as an element property when given.
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
  gchar *nevisa_live_framing = nullptr;
  gchar *backend = nullptr;
  gchar *output = nullptr;
  gchar *format = nullptr;
  gchar **inputs = nullptr;
  gboolean quiet = FALSE;
  gboolean version = FALSE;
  gboolean no_harf_wait = FALSE;
  gboolean no_normalize = FALSE;
  gboolean no_rtl_marks = FALSE;
  gboolean words = FALSE;
  gboolean keep_partial = FALSE;
  gchar *digits = nullptr;
  gboolean decode = FALSE;
  gboolean skip_silence = FALSE;
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
      {"nevisa-live-url", "nevisa-live-url", false},
  };

  Options() = default;
  Options(const Options &) = delete;
  Options &operator=(const Options &) = delete;
  ~Options();

  bool to_stdout() const { return !output || strcmp(output, "-") == 0; }
  gint64 *number(const char *option);
  gchar **string(const char *option);
  const gchar *string_value(const char *option) const;
};

// Parses ARGV, from which gst_init_check() has taken GStreamer's own options.
// --help shows the defaults, ranges and backends of KLASS (null: not shown).
// A Failure (status 2) for bad usage.
std::optional<Failure> parse_options(int argc, char **argv, GObjectClass *klass, Options &o);

// --format, else OUTPUT's extension, else txt; a Failure (status 2) if unknown.
std::variant<Format, Failure> output_format(const Options &o);

struct Backend {
  std::string name;  // the nick of the element's "backend" enum
  pt::BackendKind kind;
};
// --backend, else the element's default; a Failure (status 2) naming the
// backends there are if the element has no such backend.
std::variant<Backend, Failure> chosen_backend(GObjectClass *klass, const Options &o);

// Before any pipeline is built: whether BACKEND has the credentials it needs,
// from the options or the environment, by the element's own rules.
std::optional<Failure> check_credentials(const Options &o, pt::BackendKind backend);

// Sets the options given on the persiantranscribe element T, each checked
// against its property's range.  UPLOAD_FILE: INPUT's absolute path when it
// is uploaded as it is, else "".
std::optional<Failure> configure(GstElement *t, const Options &o, const std::string &upload_file);

}  // namespace cli
