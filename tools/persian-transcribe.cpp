// SPDX-License-Identifier: LGPL-2.1-or-later
// persian-transcribe: transcribes the Persian speech in a media file with the
// persiantranscribe element and writes SRT, WebVTT, JSON or plain text.
//
//   uridecodebin uri=INPUT ! audioconvert ! audioresample ! persiantranscribe
//       ! appsink caps=text/x-raw,format=utf8 sync=false
//
// This file checks INPUT and OUTPUT and runs the steps in order; the options
// are in options.cpp, the pipeline in pipeline.cpp, the progress line in
// progress.cpp and the writers in output.cpp.  See docs/persian-transcribe.md.

#include <glib/gstdio.h>
#include <gst/gst.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <optional>
#include <string>
#include <variant>

#include "common.h"
#include "options.h"
#include "output.h"
#include "pipeline.h"
#include "upload_formats.h"

#ifndef VERSION
#define VERSION "unknown"
#endif

namespace cli {
namespace {

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
  if (input == "-") {
    // fdsrc reads it; typefind tells the format, as for a file.
    if (isatty(STDIN_FILENO))
      return Failure{
          kExitUsage,
          "standard input is a terminal: pipe the audio in (... | persian-transcribe -)"};
    return Input{"fd://0", ""};
  }
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

int fail(const Failure &f)
{
  print_error(f.message);
  return f.code;
}

int run(int argc, char **argv)
{
  // GStreamer first (it takes its own options from ARGV): --help shows the
  // element's backends, defaults and ranges.
  GError *err = nullptr;
  if (!gst_init_check(&argc, &argv, &err)) {
    Failure f{kExitUsage,
              std::string(err ? err->message : "cannot initialize GStreamer") + " (see --help)"};
    g_clear_error(&err);
    return fail(f);
  }
  ClassRef klass = transcriber_class();

  Options o;
  if (auto f = parse_options(argc, argv, klass.get(), o))
    return fail(*f);
  if (o.version) {
    printf("%s %s (%s)\n", kProg, VERSION, GCharPtr(gst_version_string()).get());
    return kExitOk;
  }
  const guint n_inputs = o.inputs ? g_strv_length(o.inputs) : 0;
  if (n_inputs != 1)
    return fail({kExitUsage, n_inputs == 0 ? "no INPUT given (see --help)"
                                           : "give exactly one INPUT (see --help)"});

  // Where and how to write.
  auto format = output_format(o);
  if (auto *f = std::get_if<Failure>(&format))
    return fail(*f);
  if (o.words && std::get<Format>(format) != Format::Vtt)
    return fail({kExitUsage, "--words is for vtt output (json always has the words)"});
  if (!o.to_stdout())
    if (auto f = check_output(o.output))
      return fail(*f);

  // What to read.
  auto uri = input_uri(o.inputs[0]);
  if (auto *f = std::get_if<Failure>(&uri))
    return fail(*f);
  const Input &in = std::get<Input>(uri);

  // The backend, and its credentials: the element reads the environment
  // itself; check here that they exist so the error is the command's,
  // before any pipeline is built.
  auto backend = chosen_backend(klass.get(), o);
  if (auto *f = std::get_if<Failure>(&backend))
    return fail(*f);
  const Backend &b = std::get<Backend>(backend);
  if (auto f = check_credentials(o, b.kind))
    return fail(*f);

  Config cfg;
  cfg.uri = in.uri;
  cfg.input = in.uri == "fd://0" ? "standard input" : o.inputs[0];
  cfg.backend = b.name;
  cfg.backend_kind = b.kind;
  cfg.quiet = o.quiet;
  cfg.progress = !o.quiet && isatty(STDERR_FILENO);

  // A batch service takes some formats as they are: upload the file itself
  // (the pipeline still runs, for the duration and the cues' timing; the
  // element only drains the decoded audio).  Not with --skip-silence: only
  // a recording of the decoded audio can leave the pauses out.
  std::string upload_file;
  if (pt::is_batch(b.kind) && !o.decode && !o.skip_silence && !in.path.empty() &&
      pt::uploadable_as_is(in.path)) {
    GCharPtr abs(g_canonicalize_filename(in.path.c_str(), nullptr));
    upload_file = abs.get();
  }

  // The transcriber (and its SIGINT/SIGTERM handlers) is gone before the
  // output is written: a FIFO without a reader blocks the write, and Ctrl-C
  // must still end the command then.
  Transcript tr;
  std::optional<Failure> stopped;  // interrupted, or an error after the start
  {
    Transcriber t(cfg);
    if (auto f = t.build())
      return fail(*f);
    if (auto f = configure(t.transcriber(), o, upload_file))
      return fail(*f);
    stopped = t.run();
    tr = t.transcript();
  }
  // A failed run writes nothing; an interrupted one neither, unless
  // --keep-partial asks for what was transcribed before Ctrl-C.
  const bool keep = o.keep_partial && stopped && stopped->code == kExitInterrupted;
  if (stopped && !(keep && has_results(tr)))
    return fail(*stopped);
  if (tr.backend.empty())
    tr.backend = cfg.backend;
  const std::string data =
      format_transcript(tr, std::get<Format>(format), !o.no_rtl_marks, o.words);
  std::string error;
  if (o.to_stdout() ? !write_stdout(data, &error) : !write_output(o.output, data, &error))
    return fail({kExitFailure, error});
  if (stopped) {
    const std::string where = o.to_stdout() ? "standard output" : std::string(o.output);
    return fail({stopped->code, stopped->message + "; what was transcribed before it is in " +
                                    where + " (--keep-partial)"});
  }
  return kExitOk;
}

}  // namespace
}  // namespace cli

int main(int argc, char **argv)
{
  int code = cli::run(argc, argv);
  gst_deinit();
  return code;
}
