// SPDX-License-Identifier: LGPL-2.1-or-later
// persiantranscribe-emulator: runs the service test double as a standalone program.
#include "emulator.h"

#include <gio/gio.h>
#include <glib-unix.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

void log_to_stderr(const gchar *domain, GLogLevelFlags, const gchar *message, gpointer)
{
  fprintf(stderr, "[%s] %s\n", domain ? domain : "emulator", message);
  fflush(stderr);
}

gboolean quit_on_signal(gpointer loop)
{
  g_main_loop_quit(static_cast<GMainLoop *>(loop));
  return G_SOURCE_REMOVE;
}

bool read_script(const char *path, std::vector<std::string> &lines, GError **error)
{
  g_autofree char *contents = nullptr;
  gsize size = 0;
  if (!g_file_get_contents(path, &contents, &size, error))
    return false;
  if (!g_utf8_validate(contents, gssize(size), nullptr)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is not valid UTF-8", path);
    return false;
  }
  g_auto(GStrv) split = g_strsplit(contents, "\n", -1);
  for (char **l = split; *l; ++l) {
    g_strstrip(*l);  // also drops a trailing \r
    if (**l)
      lines.emplace_back(*l);
  }
  return true;
}

// "80,40,-50,1e9" -> numbers; false on anything else.
bool parse_percents(const char *list, std::vector<double> &out)
{
  g_auto(GStrv) items = g_strsplit(list, ",", -1);
  for (char **i = items; *i; ++i) {
    g_strstrip(*i);
    char *end = nullptr;
    const double v = g_ascii_strtod(*i, &end);
    if (!**i || *end || !std::isfinite(v))
      return false;
    out.push_back(v);
  }
  return !out.empty();
}

std::string str_or_empty(const char *s)
{
  return s ? s : "";
}

}  // namespace

int main(int argc, char **argv)
{
  gint port = 0, close_after = -1, delay_ms = 0, silence_ms = 400;
  gdouble threshold = -40.0;
  gboolean reject = FALSE, malformed = FALSE, never_answer = FALSE, revisions = FALSE;
  g_autofree char *token = nullptr;
  g_autofree char *script = nullptr;
  // REST
  gint poll_pending = 2, progress_steps = 3, throttle = 0, retry_after = 1, error_500 = 0;
  gboolean harf_failure = FALSE, harf_timeout = FALSE, no_package = FALSE, nevisa_failure = FALSE,
           pending_forever = FALSE, http_401 = FALSE, not_json = FALSE;
  g_autofree char *nevisa_user = nullptr;
  g_autofree char *nevisa_password = nullptr;
  g_autofree char *static_token = nullptr;
  g_autofree char *static_key = nullptr;
  // Harf live faults
  gint handshake_status = 0, handshake_fail_count = 0, close_code = 1011, close_count = 0,
       deep_json_depth = 0;
  gint64 huge_reply_bytes = 0;
  gboolean close_on_finalize = FALSE, reset_on_finalize = FALSE, binary_reply = FALSE,
           impossible_times = FALSE, invalid_utf8 = FALSE, lone_surrogate = FALSE,
           wrong_types = FALSE;
  g_autofree char *retry_after_header = nullptr;
  // REST faults
  g_autofree char *harf_state_type = nullptr;
  g_autofree char *harf_segments_value = nullptr;
  g_autofree char *http_deep_target = nullptr;
  g_autofree char *http_huge_target = nullptr;
  g_autofree char *nevisa_percents = nullptr;
  g_autofree char *nevisa_progress_fail = nullptr;
  g_autofree char *rest_fault_target = nullptr;
  gint http_deep_json_depth = 0;
  gint64 http_huge_body_bytes = 0;
  gboolean first_word_no_start = FALSE, throttle_no_retry_after = FALSE;
  // Nevisa live faults
  gboolean live_no_init = FALSE, live_no_req_response = FALSE, live_no_soes_response = FALSE,
           live_no_eoes_response = FALSE, live_unknown_subject = FALSE;
  gint live_no_usage_after = -1;

  const GOptionEntry entries[] = {
      {"port", 'p', 0, G_OPTION_ARG_INT, &port, "TCP port on 127.0.0.1 (0 = pick a free one)", "N"},
      {"token", 't', 0, G_OPTION_ARG_STRING, &token,
       "Token expected in 'Authorization: Token|Bearer <T>' (default: $EMULATOR_TOKEN; none = "
       "accept any)",
       "T"},
      {"script", 's', 0, G_OPTION_ARG_FILENAME, &script,
       "UTF-8 file, one transcript line per speech segment", "FILE"},
      {"reject-token", 0, 0, G_OPTION_ARG_NONE, &reject, "Answer every handshake with HTTP 401",
       nullptr},
      {"close-after", 0, 0, G_OPTION_ARG_INT, &close_after,
       "Close the WebSocket (1011) on the Nth binary message, without replying to it", "N"},
      {"delay-ms", 0, 0, G_OPTION_ARG_INT, &delay_ms, "Delay every reply by N ms", "N"},
      {"malformed-json", 0, 0, G_OPTION_ARG_NONE, &malformed,
       "Answer the first binary message with broken JSON", nullptr},
      {"never-answer", 0, 0, G_OPTION_ARG_NONE, &never_answer,
       "Accept and read, but never send or close", nullptr},
      {"revisions", 0, 0, G_OPTION_ARG_NONE, &revisions,
       "Send growing partial texts for a segment still open, then its full text with the same "
       "segment_id",
       nullptr},
      {"silence-ms", 0, 0, G_OPTION_ARG_INT, &silence_ms,
       "Silence that ends a speech segment (default 400)", "MS"},
      {"threshold-dbfs", 0, 0, G_OPTION_ARG_DOUBLE, &threshold,
       "20 ms frames louder than this (RMS) are speech (default -40)", "DB"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};

  const GOptionEntry live_fault_entries[] = {
      {"handshake-status", 0, 0, G_OPTION_ARG_INT, &handshake_status,
       "Answer WebSocket upgrades with this HTTP status (429, 500, 403, ...) instead of 101",
       "CODE"},
      {"handshake-fail-count", 0, 0, G_OPTION_ARG_INT, &handshake_fail_count,
       "Only the first N upgrades fail with --handshake-status (default 0: all)", "N"},
      {"retry-after-header", 0, 0, G_OPTION_ARG_STRING, &retry_after_header,
       "Retry-After value (verbatim) for --handshake-status answers; also replaces --retry-after "
       "on REST 429 answers",
       "VALUE"},
      {"close-code", 0, 0, G_OPTION_ARG_INT, &close_code,
       "Close code of --close-after and --close-on-finalize (default 1011)", "CODE"},
      {"close-count", 0, 0, G_OPTION_ARG_INT, &close_count,
       "Only the first N connections are dropped by --close-after / --*-on-finalize (default 0: "
       "all)",
       "N"},
      {"close-on-finalize", 0, 0, G_OPTION_ARG_NONE, &close_on_finalize,
       "At finalize: close with --close-code, remaining replies unsent", nullptr},
      {"reset-on-finalize", 0, 0, G_OPTION_ARG_NONE, &reset_on_finalize,
       "At finalize: abort the TCP connection (RST, no close frame)", nullptr},
      {"binary-reply", 0, 0, G_OPTION_ARG_NONE, &binary_reply,
       "Reply to the first window with a binary frame", nullptr},
      {"huge-reply-bytes", 0, 0, G_OPTION_ARG_INT64, &huge_reply_bytes,
       "Reply to the first window with one text message of N bytes", "N"},
      {"impossible-times", 0, 0, G_OPTION_ARG_NONE, &impossible_times,
       "First reply: a segment 27:00:00-27:00:05; second: one ending before it starts", nullptr},
      {"invalid-utf8", 0, 0, G_OPTION_ARG_NONE, &invalid_utf8,
       "First reply's text has raw bytes 0xFF 0xFE (frame written past libsoup); also Harf REST's "
       "first segment text and Nevisa's first word",
       nullptr},
      {"lone-surrogate", 0, 0, G_OPTION_ARG_NONE, &lone_surrogate,
       "First reply's text has the JSON escape \\udcff; also Harf REST's first segment text and "
       "Nevisa's first word",
       nullptr},
      {"wrong-types", 0, 0, G_OPTION_ARG_NONE, &wrong_types,
       "First two replies have fields of the wrong JSON types", nullptr},
      {"deep-json-depth", 0, 0, G_OPTION_ARG_INT, &deep_json_depth,
       "First reply is [[[...]]] nested N deep", "N"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};

  const GOptionEntry harf_entries[] = {
      {"poll-pending", 0, 0, G_OPTION_ARG_INT, &poll_pending,
       "Polls of a wait=false task answered PENDING before its result (default 2)", "N"},
      {"harf-failure", 0, 0, G_OPTION_ARG_NONE, &harf_failure,
       "Finished tasks answer {\"state\":\"FAILURE\"}", nullptr},
      {"harf-timeout", 0, 0, G_OPTION_ARG_NONE, &harf_timeout,
       "Finished tasks answer {\"state\":\"TIMEOUT\"}", nullptr},
      {"harf-state-type", 0, 0, G_OPTION_ARG_STRING, &harf_state_type,
       "Raw JSON put as every \"state\" value (e.g. 5, true)", "JSON"},
      {"harf-segments-value", 0, 0, G_OPTION_ARG_STRING, &harf_segments_value,
       "Raw JSON put as \"segments\" of finished results (e.g. '\"nope\"')", "JSON"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};

  const GOptionEntry nevisa_entries[] = {
      {"nevisa-user", 0, 0, G_OPTION_ARG_STRING, &nevisa_user,
       "Login username that must match (default: any login accepted)", "U"},
      {"nevisa-password", 0, 0, G_OPTION_ARG_STRING, &nevisa_password,
       "Login password that must match with --nevisa-user (default: $EMULATOR_NEVISA_PASSWORD)",
       "P"},
      {"nevisa-static-token", 0, 0, G_OPTION_ARG_STRING, &static_token,
       "auth_token accepted without login (default nevisa-static-token; empty = none)", "T"},
      {"nevisa-static-key", 0, 0, G_OPTION_ARG_STRING, &static_key,
       "api_key that goes with --nevisa-static-token (default nevisa-static-key)", "K"},
      {"nevisa-no-package", 0, 0, G_OPTION_ARG_NONE, &no_package,
       "Login answers current_service_record: null (no active package)", nullptr},
      {"nevisa-failure", 0, 0, G_OPTION_ARG_NONE, &nevisa_failure,
       "celery-progress ends in FAILURE instead of SUCCESS", nullptr},
      {"nevisa-pending-forever", 0, 0, G_OPTION_ARG_NONE, &pending_forever,
       "celery-progress answers PENDING forever", nullptr},
      {"progress-steps", 0, 0, G_OPTION_ARG_INT, &progress_steps,
       "PROGRESS answers between the first PENDING and the end (default 3)", "N"},
      {"nevisa-percents", 0, 0, G_OPTION_ARG_STRING, &nevisa_percents,
       "Percents of successive progress polls, then the end (replaces --progress-steps)",
       "P1,P2,..."},
      {"nevisa-first-word-no-start", 0, 0, G_OPTION_ARG_NONE, &first_word_no_start,
       "The result's first word has no \"start\"", nullptr},
      {"nevisa-progress-fail", 0, 0, G_OPTION_ARG_STRING, &nevisa_progress_fail,
       "How celery-progress fails: 500, not-json, hang or bad-url", "MODE"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};

  const GOptionEntry nevisa_live_entries[] = {
      {"nevisa-live-no-init", 0, 0, G_OPTION_ARG_NONE, &live_no_init,
       "Never send {\"subject\":\"INIT\"}", nullptr},
      {"nevisa-live-no-req-response", 0, 0, G_OPTION_ARG_NONE, &live_no_req_response,
       "Do not answer REQ", nullptr},
      {"nevisa-live-no-soes-response", 0, 0, G_OPTION_ARG_NONE, &live_no_soes_response,
       "Do not answer SOES", nullptr},
      {"nevisa-live-no-eoes-response", 0, 0, G_OPTION_ARG_NONE, &live_no_eoes_response,
       "At EOES: the finals, but no EOES-RESPONSE", nullptr},
      {"nevisa-live-no-usage-after", 0, 0, G_OPTION_ARG_INT, &live_no_usage_after,
       "After N binary messages (0: right after SOES-RESPONSE) send NO-USAGE-REMAINED and close "
       "(1000)",
       "N"},
      {"nevisa-live-unknown-subject", 0, 0, G_OPTION_ARG_NONE, &live_unknown_subject,
       "Right after SOES-RESPONSE send {\"subject\":\"SERVER-NOTICE\",...}", nullptr},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};

  const GOptionEntry fault_entries[] = {
      {"http-401", 0, 0, G_OPTION_ARG_NONE, &http_401,
       "Answer every REST request (login included) with 401", nullptr},
      {"throttle", 0, 0, G_OPTION_ARG_INT, &throttle, "Answer the first N REST requests with 429",
       "N"},
      {"retry-after", 0, 0, G_OPTION_ARG_INT, &retry_after,
       "Retry-After seconds sent with 429 (default 1)", "S"},
      {"error-500", 0, 0, G_OPTION_ARG_INT, &error_500,
       "Answer the first N REST requests (after throttled ones) with a 500 HTML page", "N"},
      {"not-json", 0, 0, G_OPTION_ARG_NONE, &not_json,
       "Every 200 REST answer's body is an HTML page", nullptr},
      {"throttle-no-retry-after", 0, 0, G_OPTION_ARG_NONE, &throttle_no_retry_after,
       "429 answers have no Retry-After header", nullptr},
      {"rest-fault-target", 0, 0, G_OPTION_ARG_STRING, &rest_fault_target,
       "--http-401, --throttle and --error-500 apply to this endpoint only (names as "
       "--http-deep-target)",
       "NAME"},
      {"http-deep-json-depth", 0, 0, G_OPTION_ARG_INT, &http_deep_json_depth,
       "The --http-deep-target's 200 answers are [[[...]]] nested N deep", "N"},
      {"http-deep-target", 0, 0, G_OPTION_ARG_STRING, &http_deep_target,
       "harf-upload, harf-poll, nevisa-login, nevisa-upload, nevisa-progress or "
       "nevisa-terminate",
       "NAME"},
      {"http-huge-body-bytes", 0, 0, G_OPTION_ARG_INT64, &http_huge_body_bytes,
       "The --http-huge-target's 200 answers are N bytes long, sent chunked", "N"},
      {"http-huge-target", 0, 0, G_OPTION_ARG_STRING, &http_huge_target,
       "Endpoint of --http-huge-body-bytes (names as --http-deep-target)", "NAME"},
      {nullptr, 0, 0, G_OPTION_ARG_NONE, nullptr, nullptr, nullptr}};

  g_autoptr(GOptionContext) ctx =
      g_option_context_new("- test double of the Harf and Nevisa transcription services");
  g_option_context_set_summary(
      ctx,
      "A local emulator of Harf's live WebSocket and file (REST) endpoints and of Nevisa's\n"
      "login, file API and live WebSocket, for testing the persiantranscribe plugin without the\n"
      "real services.\n"
      "It is NOT a speech recogniser: it finds speech by loudness in WAV audio and answers each\n"
      "detected segment with the next line of --script (or a fixed Persian placeholder).\n"
      "It listens on 127.0.0.1 only and prints PORT=<n>, HARF_LIVE_URL=<url>, HARF_API_URL=<url>,\n"
      "NEVISA_LOGIN_URL=<url>, NEVISA_API_URL=<url> and NEVISA_LIVE_URL=<url> on stdout.\n"
      "Nevisa live takes ?Authorization=<auth_token>&api-key=<api_key> after its URL.");
  g_option_context_set_description(ctx, "Stop it with SIGINT or SIGTERM.\n");
  g_option_context_add_main_entries(ctx, entries, nullptr);
  struct Group {
    const char *name, *description;
    const GOptionEntry *entries;
  };
  for (const Group &g :
       {Group{"live-faults", "Harf live (WebSocket) faults", live_fault_entries},
        Group{"harf", "Harf files (REST) options", harf_entries},
        Group{"nevisa", "Nevisa options", nevisa_entries},
        Group{"nevisa-live",
              "Nevisa live (WebSocket) faults; --handshake-*, --close-after, --close-code, "
              "--close-count and --delay-ms apply too",
              nevisa_live_entries},
        Group{"faults", "Faults for every REST request (in this order)", fault_entries}}) {
    GOptionGroup *group = g_option_group_new(
        g.name, g.description, (std::string("Show ") + g.description).c_str(), nullptr, nullptr);
    g_option_group_add_entries(group, g.entries);
    g_option_context_add_group(ctx, group);
  }
  g_autoptr(GError) error = nullptr;
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "persiantranscribe-emulator: %s\n", error->message);
    return 2;
  }
  if (port < 0 || port > 65535 || delay_ms < 0 || silence_ms < 20) {
    fprintf(stderr,
            "persiantranscribe-emulator: --port must be 0..65535, --delay-ms >= 0, --silence-ms >= "
            "20\n");
    return 2;
  }
  if (poll_pending < 0 || progress_steps < 0 || progress_steps > 99 || throttle < 0 ||
      retry_after < 0 || error_500 < 0) {
    fprintf(stderr,
            "persiantranscribe-emulator: --poll-pending, --throttle, --retry-after, --error-500 "
            "must be >= 0, "
            "--progress-steps 0..99\n");
    return 2;
  }

  if (handshake_status != 0 && (handshake_status < 200 || handshake_status > 599)) {
    fprintf(stderr, "persiantranscribe-emulator: --handshake-status must be 200..599\n");
    return 2;
  }
  if (close_code < 1000 || close_code > 4999) {  // reserved codes too: written raw
    fprintf(stderr, "persiantranscribe-emulator: --close-code must be 1000..4999\n");
    return 2;
  }
  if (handshake_fail_count < 0 || close_count < 0 || deep_json_depth < 0 || huge_reply_bytes < 0 ||
      http_deep_json_depth < 0 || http_huge_body_bytes < 0 || live_no_usage_after < -1) {
    fprintf(stderr, "persiantranscribe-emulator: counts, depths and sizes must be >= 0\n");
    return 2;
  }
  for (const char *target : {http_deep_target, http_huge_target, rest_fault_target}) {
    if (target && !emu::valid_rest_target(target)) {
      fprintf(stderr, "persiantranscribe-emulator: unknown endpoint name %s\n", target);
      return 2;
    }
  }
  if ((http_deep_json_depth > 0 && !http_deep_target) ||
      (http_huge_body_bytes > 0 && !http_huge_target)) {
    fprintf(stderr,
            "persiantranscribe-emulator: --http-deep-json-depth and "
            "--http-huge-body-bytes need their --http-*-target\n");
    return 2;
  }
  if (nevisa_progress_fail && g_strcmp0(nevisa_progress_fail, "500") != 0 &&
      g_strcmp0(nevisa_progress_fail, "not-json") != 0 &&
      g_strcmp0(nevisa_progress_fail, "hang") != 0 &&
      g_strcmp0(nevisa_progress_fail, "bad-url") != 0) {
    fprintf(stderr,
            "persiantranscribe-emulator: --nevisa-progress-fail must be 500, not-json, hang or "
            "bad-url\n");
    return 2;
  }

  emu::Options opts;
  if (nevisa_percents && !parse_percents(nevisa_percents, opts.nevisa_percent_sequence)) {
    fprintf(stderr,
            "persiantranscribe-emulator: --nevisa-percents takes comma-separated numbers\n");
    return 2;
  }
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
  opts.poll_pending = unsigned(poll_pending);
  opts.harf_failure = harf_failure;
  opts.harf_timeout = harf_timeout;
  if (nevisa_user)
    opts.nevisa_username = nevisa_user;
  if (nevisa_password)
    opts.nevisa_password = nevisa_password;
  else if (const char *env = g_getenv("EMULATOR_NEVISA_PASSWORD"))
    opts.nevisa_password = env;
  if (static_token)
    opts.nevisa_static_token = static_token;
  if (static_key)
    opts.nevisa_static_key = static_key;
  opts.nevisa_no_package = no_package;
  opts.nevisa_failure = nevisa_failure;
  opts.nevisa_pending_forever = pending_forever;
  opts.progress_steps = unsigned(progress_steps);
  opts.http_401 = http_401;
  opts.throttle_count = throttle;
  opts.retry_after_s = unsigned(retry_after);
  opts.error_500_count = error_500;
  opts.not_json = not_json;
  opts.handshake_status = handshake_status;
  opts.handshake_fail_count = handshake_fail_count;
  opts.retry_after = str_or_empty(retry_after_header);
  opts.close_code = close_code;
  opts.close_count = close_count;
  opts.close_on_finalize = close_on_finalize;
  opts.reset_on_finalize = reset_on_finalize;
  opts.binary_reply = binary_reply;
  opts.huge_reply_bytes = uint64_t(huge_reply_bytes);
  opts.impossible_times = impossible_times;
  opts.invalid_utf8 = invalid_utf8;
  opts.lone_surrogate = lone_surrogate;
  opts.wrong_types = wrong_types;
  opts.deep_json_depth = deep_json_depth;
  opts.harf_state_type = str_or_empty(harf_state_type);
  opts.harf_segments_value = str_or_empty(harf_segments_value);
  opts.http_deep_json_depth = http_deep_json_depth;
  opts.http_deep_target = str_or_empty(http_deep_target);
  opts.http_huge_body_bytes = uint64_t(http_huge_body_bytes);
  opts.http_huge_target = str_or_empty(http_huge_target);
  opts.nevisa_first_word_no_start = first_word_no_start;
  opts.nevisa_progress_fail = str_or_empty(nevisa_progress_fail);
  opts.throttle_no_retry_after = throttle_no_retry_after;
  opts.rest_fault_target = str_or_empty(rest_fault_target);
  opts.nevisa_live_no_init = live_no_init;
  opts.nevisa_live_no_req_response = live_no_req_response;
  opts.nevisa_live_no_soes_response = live_no_soes_response;
  opts.nevisa_live_no_eoes_response = live_no_eoes_response;
  opts.nevisa_live_no_usage_after = live_no_usage_after;
  opts.nevisa_live_unknown_subject = live_unknown_subject;

  g_log_set_handler("ptemulator",
                    GLogLevelFlags(G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION),
                    log_to_stderr, nullptr);

  const bool checks_token = !opts.token.empty() || opts.reject_token;
  const size_t script_lines = opts.script.size();
  emu::Emulator emulator(std::move(opts));
  if (!emulator.start(uint16_t(port), &error)) {
    fprintf(stderr, "persiantranscribe-emulator: cannot listen: %s\n", error->message);
    return 1;
  }
  // One write: readers may stop reading (and close the pipe) after the line they need.
  printf(
      "PORT=%u\nHARF_LIVE_URL=%s\nHARF_API_URL=%s\nNEVISA_LOGIN_URL=%s\nNEVISA_API_URL=%s\n"
      "NEVISA_LIVE_URL=%s\n",
      unsigned(emulator.port()), emulator.harf_live_url().c_str(), emulator.harf_api_url().c_str(),
      emulator.nevisa_login_url().c_str(), emulator.nevisa_api_url().c_str(),
      emulator.nevisa_live_url().c_str());
  fflush(stdout);
  fprintf(stderr, "[ptemulator] listening on 127.0.0.1:%u (%s, %zu script line(s))\n",
          unsigned(emulator.port()), checks_token ? "token checked" : "any token accepted",
          script_lines);

  g_autoptr(GMainLoop) loop = g_main_loop_new(nullptr, FALSE);
  g_unix_signal_add(SIGINT, quit_on_signal, loop);
  g_unix_signal_add(SIGTERM, quit_on_signal, loop);
  g_main_loop_run(loop);

  emulator.stop();
  fprintf(stderr,
          "[ptemulator] stopped after %zu Harf live session(s), %zu Nevisa live connection(s) and "
          "%zu REST request(s)\n",
          emulator.sessions().size(), emulator.nevisa_live_sessions().size(),
          emulator.rest_requests().size());
  return 0;
}
