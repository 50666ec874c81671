// persiantranscribe-emulator: runs the service test double as a standalone program.
#include "emulator.h"

#include <gio/gio.h>
#include <glib-unix.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>

namespace {

void log_to_stderr(const gchar *domain, GLogLevelFlags, const gchar *message, gpointer) {
  fprintf(stderr, "[%s] %s\n", domain ? domain : "emulator", message);
  fflush(stderr);
}

gboolean quit_on_signal(gpointer loop) {
  g_main_loop_quit(static_cast<GMainLoop *>(loop));
  return G_SOURCE_REMOVE;
}

bool read_script(const char *path, std::vector<std::string> &lines, GError **error) {
  g_autofree char *contents = nullptr;
  gsize size = 0;
  if (!g_file_get_contents(path, &contents, &size, error)) return false;
  if (!g_utf8_validate(contents, gssize(size), nullptr)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not valid UTF-8", path);
    return false;
  }
  g_auto(GStrv) split = g_strsplit(contents, "\n", -1);
  for (char **l = split; *l; ++l) {
    g_strstrip(*l);  // also drops a trailing \r
    if (**l) lines.emplace_back(*l);
  }
  return true;
}

}  // namespace

int main(int argc, char **argv) {
  gint port = 0, close_after = -1, delay_ms = 0, silence_ms = 400;
  gdouble threshold = -40.0;
  gboolean reject = FALSE, malformed = FALSE, never_answer = FALSE, revisions = FALSE;
  g_autofree char *token = nullptr;
  g_autofree char *script = nullptr;

  const GOptionEntry entries[] = {
      {"port", 'p', 0, G_OPTION_ARG_INT, &port, "TCP port on 127.0.0.1 (0 = pick a free one)", "N"},
      {"token", 't', 0, G_OPTION_ARG_STRING, &token,
       "Token expected in 'Authorization: Token|Bearer <T>' (default: $EMULATOR_TOKEN; none = accept any)", "T"},
      {"script", 's', 0, G_OPTION_ARG_FILENAME, &script, "UTF-8 file, one transcript line per speech segment", "FILE"},
      {"reject-token", 0, 0, G_OPTION_ARG_NONE, &reject, "Answer every handshake with HTTP 401", nullptr},
      {"close-after", 0, 0, G_OPTION_ARG_INT, &close_after,
       "Close the WebSocket (1011) on the Nth binary message, without replying to it", "N"},
      {"delay-ms", 0, 0, G_OPTION_ARG_INT, &delay_ms, "Delay every reply by N ms", "N"},
      {"malformed-json", 0, 0, G_OPTION_ARG_NONE, &malformed, "Answer the first binary message with broken JSON",
       nullptr},
      {"never-answer", 0, 0, G_OPTION_ARG_NONE, &never_answer, "Accept and read, but never send or close", nullptr},
      {"revisions", 0, 0, G_OPTION_ARG_NONE, &revisions,
       "Send growing partial texts for a segment still open, then its full text with the same segment_id", nullptr},
      {"silence-ms", 0, 0, G_OPTION_ARG_INT, &silence_ms, "Silence that ends a speech segment (default 400)", "MS"},
      {"threshold-dbfs", 0, 0, G_OPTION_ARG_DOUBLE, &threshold,
       "20 ms frames louder than this (RMS) are speech (default -40)", "DB"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};

  g_autoptr(GOptionContext) ctx = g_option_context_new("- test double of the Harf live transcription service");
  g_option_context_set_summary(
      ctx,
      "A local emulator of Harf's live WebSocket endpoint (and later Nevisa's API), for\n"
      "testing the persiantranscribe plugin without the real services.\n"
      "It is NOT a speech recogniser: it finds speech by loudness and answers each\n"
      "detected segment with the next line of --script (or a fixed Persian placeholder).\n"
      "It listens on 127.0.0.1 only and prints PORT=<n> and HARF_LIVE_URL=<url> on stdout.");
  g_option_context_set_description(ctx, "Stop it with SIGINT or SIGTERM.\n");
  g_option_context_add_main_entries(ctx, entries, nullptr);
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "persiantranscribe-emulator: %s\n", error->message);
    return 2;
  }
  if (port < 0 || port > 65535 || delay_ms < 0 || silence_ms < 20) {
    fprintf(stderr, "persiantranscribe-emulator: --port must be 0..65535, --delay-ms >= 0, --silence-ms >= 20\n");
    return 2;
  }

  emu::Options opts;
  if (token)
    opts.token = token;
  else if (const char *env = g_getenv("EMULATOR_TOKEN"))
    opts.token = env;
  if (script && !read_script(script, opts.script, &error)) {
    fprintf(stderr, "persiantranscribe-emulator: %s\n", error->message);
    return 2;
  }
  opts.reject_token = reject;
  opts.close_after = close_after;
  opts.delay_ms = unsigned(delay_ms);
  opts.malformed_json = malformed;
  opts.never_answer = never_answer;
  opts.revisions = revisions;
  opts.silence_ms = unsigned(silence_ms);
  opts.threshold_dbfs = threshold;

  g_log_set_handler("ptemulator", GLogLevelFlags(G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION),
                    log_to_stderr, nullptr);

  const bool checks_token = !opts.token.empty() || opts.reject_token;
  const size_t script_lines = opts.script.size();
  emu::Emulator emulator(std::move(opts));
  if (!emulator.start(uint16_t(port), &error)) {
    fprintf(stderr, "persiantranscribe-emulator: cannot listen: %s\n", error->message);
    return 1;
  }
  printf("PORT=%u\nHARF_LIVE_URL=%s\n", unsigned(emulator.port()), emulator.harf_live_url().c_str());
  fflush(stdout);
  fprintf(stderr, "[ptemulator] listening on 127.0.0.1:%u (%s, %zu script line(s))\n", unsigned(emulator.port()),
          checks_token ? "token checked" : "any token accepted", script_lines);

  g_autoptr(GMainLoop) loop = g_main_loop_new(nullptr, FALSE);
  g_unix_signal_add(SIGINT, quit_on_signal, loop);
  g_unix_signal_add(SIGTERM, quit_on_signal, loop);
  g_main_loop_run(loop);

  emulator.stop();
  fprintf(stderr, "[ptemulator] stopped after %zu session(s)\n", emulator.sessions().size());
  return 0;
}
