// SPDX-License-Identifier: LGPL-2.1-or-later
#include "common_properties.h"

#include <cstdlib>
#include <string>

#include "gstpersiantranscribeenums.h"
#include "upload_formats.h"

static std::string str_or(const GValue *value, const char *fallback)
{
  const gchar *v = g_value_get_string(value);
  return v ? v : fallback;
}

/* Secrets read back only as "set" or not, so that .dot graph dumps and
 * property dumps never carry them. */
static const gchar *masked(const std::string &secret)
{
  return secret.empty() ? nullptr : "********";
}

void pt_install_common_properties(GObjectClass *klass, gboolean with_latency)
{
  const GParamFlags rw =
      (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  const pt::Settings d; /* the defaults */
  auto install = [klass](guint id, GParamSpec *spec) {
    g_object_class_install_property(klass, id, spec);
  };

  /* Which service, and the credentials for it */
  install(PT_PROP_BACKEND,
          g_param_spec_enum("backend", "Backend",
                            "Which service transcribes: harf-live and nevisa-live send the audio "
                            "while it flows and results come back as it does; harf-file and "
                            "nevisa record it and upload it at the end of the stream",
                            GST_TYPE_PERSIAN_TRANSCRIBE_BACKEND, static_cast<gint>(d.backend), rw));
  install(PT_PROP_TOKEN,
          g_param_spec_string("token", "Harf token",
                              "harf-live, harf-file: the Harf API token (TOKEN_KEY); when unset, "
                              "HARF_TOKEN from the environment. Sent only in the Authorization "
                              "header, never logged; reads back as \"********\"",
                              nullptr, rw));
  install(PT_PROP_AUTH_SCHEME, g_param_spec_enum("auth-scheme", "Authorization scheme",
                                                 "harf-live, harf-file: how the token is sent, "
                                                 "'Authorization: Token <token>' (documented) or "
                                                 "'Authorization: Bearer <token>'",
                                                 GST_TYPE_PERSIAN_TRANSCRIBE_AUTH_SCHEME,
                                                 static_cast<gint>(d.auth_scheme), rw));
  install(PT_PROP_NEVISA_USERNAME,
          g_param_spec_string("nevisa-username", "Nevisa username",
                              "nevisa, nevisa-live: the account's username, phone or e-mail, with "
                              "nevisa-password; when unset, NEVISA_USERNAME",
                              nullptr, rw));
  install(PT_PROP_NEVISA_PASSWORD,
          g_param_spec_string("nevisa-password", "Nevisa password",
                              "nevisa, nevisa-live: the account's password; when unset, "
                              "NEVISA_PASSWORD. "
                              "Never logged; reads back as \"********\"",
                              nullptr, rw));
  install(PT_PROP_NEVISA_AUTH_TOKEN,
          g_param_spec_string("nevisa-auth-token", "Nevisa auth token",
                              "nevisa, nevisa-live: an auth token from an earlier login, with "
                              "nevisa-api-key, "
                              "instead of logging in; when unset, NEVISA_AUTH_TOKEN. Never "
                              "logged; reads back as \"********\"",
                              nullptr, rw));
  install(PT_PROP_NEVISA_API_KEY,
          g_param_spec_string("nevisa-api-key", "Nevisa API key",
                              "nevisa, nevisa-live: the API key that goes with nevisa-auth-token; "
                              "when unset, "
                              "NEVISA_API_KEY. Never logged; reads back as \"********\"",
                              nullptr, rw));

  /* Where the services are */
  install(PT_PROP_HARF_URL,
          g_param_spec_string("harf-url", "Harf WebSocket URL",
                              "harf-live: the WebSocket URL of Harf's live transcription (wss://, "
                              "or ws:// for a local server such as the emulator)",
                              pt::kDefaultHarfUrl, rw));
  install(PT_PROP_HARF_API_URL,
          g_param_spec_string("harf-api-url", "Harf file API URL",
                              "harf-file: the URL of Harf's file transcription API",
                              pt::kDefaultHarfApiUrl, rw));
  install(PT_PROP_NEVISA_LOGIN_URL,
          g_param_spec_string("nevisa-login-url", "Nevisa login URL",
                              "nevisa, nevisa-live: the login endpoint (not used with "
                              "nevisa-auth-token)",
                              pt::kDefaultNevisaLoginUrl, rw));
  install(PT_PROP_NEVISA_API_URL,
          g_param_spec_string("nevisa-api-url", "Nevisa API URL",
                              "nevisa: the base URL of recognize-file, file/terminate-task and "
                              "the progress URL the service returns",
                              pt::kDefaultNevisaApiUrl, rw));
  install(PT_PROP_NEVISA_LIVE_URL,
          g_param_spec_string("nevisa-live-url", "Nevisa live WebSocket URL",
                              "nevisa-live: the WebSocket URL of Nevisa's live transcription "
                              "(wss://, or ws:// for a local server); the auth token and API key "
                              "are added to its query, as the service wants, and the URL is "
                              "only ever logged with them masked",
                              pt::kDefaultNevisaLiveUrl, rw));
  install(PT_PROP_NEVISA_LIVE_FRAMING,
          g_param_spec_enum("nevisa-live-framing", "Nevisa live framing",
                            "nevisa-live: how each 500 ms audio message is framed: a complete "
                            "WAV file (as the service's own JavaScript sample sends them) or "
                            "raw PCM",
                            GST_TYPE_PERSIAN_TRANSCRIBE_NEVISA_LIVE_FRAMING,
                            static_cast<gint>(d.nevisa_live_framing), rw));

  /* The audio sent */
  install(PT_PROP_SAMPLE_RATE,
          g_param_spec_int("sample-rate", "Sample rate",
                           "Every backend: the rate (Hz) of the 16-bit mono audio sent or "
                           "recorded; the input is resampled to it",
                           pt::kSampleRateRange.min, pt::kSampleRateRange.max, d.sample_rate, rw));
  install(PT_PROP_WINDOW_DURATION,
          g_param_spec_uint("window-duration", "Window duration",
                            "harf-live: milliseconds of audio in each WebSocket message (1000 ms "
                            "is 32000 bytes at 16 kHz). Shorter windows give results sooner. "
                            "nevisa-live: how often audio is sent (each window goes out as "
                            "messages of at most 500 ms). The batch backends record the audio "
                            "whole and ignore it",
                            pt::kWindowRange.min, pt::kWindowRange.max, d.window_ms, rw));
  install(
      PT_PROP_MAX_INFLIGHT,
      g_param_spec_uint("max-inflight", "Windows in flight",
                        "harf-live: how many windows may be sent before the first of them "
                        "is answered. 1 waits for each answer, as Harf documents; more "
                        "send ahead, which transcribes files faster. Ignored by the batch "
                        "backends and by nevisa-live (which answers no message one by one)",
                        pt::kMaxInflightRange.min, pt::kMaxInflightRange.max, d.max_inflight, rw));
  if (with_latency)
    install(PT_PROP_LATENCY,
            g_param_spec_uint("latency", "Latency",
                              "Milliseconds this element adds to the pipeline's latency on live "
                              "input: results that come later than this after their audio are "
                              "late, and GAP events move the text stream on after it. Every "
                              "backend; the batch ones give results only at the end",
                              pt::kLatencyRange.min, pt::kLatencyRange.max,
                              static_cast<guint>(d.latency_ns / GST_MSECOND), rw));
  install(PT_PROP_PARTIAL_RESULTS,
          g_param_spec_boolean("partial-results", "Partial results",
                               "harf-live, nevisa-live: also post and push the text of a segment "
                               "that is not final yet (final=false); the batch backends have none",
                               d.partial_results, rw));
  install(PT_PROP_TIMEOUT,
          g_param_spec_uint("timeout", "Timeout",
                            "Seconds to wait for the network. harf-live: for connecting, for "
                            "each answer, and for the server to close after the last audio. "
                            "nevisa-live: for connecting, for each step of the handshake, and "
                            "for the session to end after the last audio. "
                            "harf-file, nevisa: for each HTTP request (with harf-wait, the whole "
                            "transcription)",
                            pt::kTimeoutRange.min, pt::kTimeoutRange.max, d.timeout_s, rw));

  install(PT_PROP_NORMALIZE,
          g_param_spec_boolean("normalize", "Normalize",
                               "Every backend: text, words, markup and cues in normalised Persian "
                               "script: Arabic kaf and yeh made Persian, digits in one script "
                               "(\"digits\"), diacritics removed, mi-/nemi- and -ha/-tar/-tarin "
                               "joined with a zero-width non-joiner, spaces around punctuation "
                               "cleaned. raw-text keeps what the service sent",
                               d.normalize, rw));
  install(PT_PROP_DIGITS,
          g_param_spec_enum("digits", "Digits",
                            "With normalize: the script of every digit (numbers inside a Latin "
                            "word such as MP3 stay Latin)",
                            GST_TYPE_PERSIAN_TRANSCRIBE_DIGITS, static_cast<gint>(d.digits), rw));
  install(
      PT_PROP_MAX_ANSWER_SIZE,
      g_param_spec_uint("max-answer-size", "Max answer size",
                        "Every backend: the most of an answer (bytes) held in memory. A "
                        "larger HTTP answer is cancelled and the stream fails; a larger "
                        "WebSocket message closes the connection. A batch result longer than "
                        "a quarter of it goes to a temporary file and is read a piece at a "
                        "time, up to four times the audio uploaded",
                        pt::kMaxAnswerRange.min, pt::kMaxAnswerRange.max, d.max_answer_bytes, rw));

  install(PT_PROP_GAP_THRESHOLD,
          g_param_spec_uint("gap-threshold", "Gap threshold",
                            "harf-live, nevisa-live: a hole in the input timestamps or a GAP "
                            "event longer "
                            "than this (ms) ends the session and starts a new one after it, "
                            "instead of being sent (and paid for) as silence; shorter ones are "
                            "sent as silence. The batch backends always record silence",
                            pt::kGapThresholdRange.min, pt::kGapThresholdRange.max,
                            d.gap_threshold_ms, rw));
  install(PT_PROP_SKIP_SILENCE,
          g_param_spec_boolean(
              "skip-silence", "Skip silence",
              "Do not send (nor pay for) the inside of pauses: windows with no 20 ms frame "
              "above silence-threshold, except the window before speech and 500 ms after it, "
              "when the pause is at least gap-threshold long. harf-live and nevisa-live start a "
              "new session at each skip; harf-file and nevisa leave it out of the recording "
              "(not of upload-file). Results keep their exact times",
              d.skip_silence, rw));
  install(PT_PROP_SILENCE_THRESHOLD,
          g_param_spec_double("silence-threshold", "Silence threshold",
                              "skip-silence: 20 ms frames louder than this (RMS, dBFS) are speech",
                              pt::kSilenceThresholdRange.min, pt::kSilenceThresholdRange.max,
                              d.silence_threshold_dbfs, rw));
  install(PT_PROP_MAX_RECONNECTS,
          g_param_spec_uint("max-reconnects", "Max reconnects",
                            "harf-live, nevisa-live: reconnections in a row after the "
                            "connection fails or "
                            "closes in the middle of the stream (or the handshake gets 429 or "
                            "5xx) before the stream fails; 0 turns reconnection off",
                            pt::kMaxReconnectsRange.min, pt::kMaxReconnectsRange.max,
                            d.max_reconnects, rw));
  install(PT_PROP_REPLAY_DURATION,
          g_param_spec_uint("replay-duration", "Replay duration",
                            "harf-live, nevisa-live: the most audio (ms) kept since the last "
                            "finished "
                            "segment, and sent again after a reconnection so that nothing is "
                            "lost",
                            pt::kReplayRange.min, pt::kReplayRange.max, d.replay_ms, rw));

  /* Batch backends */
  install(PT_PROP_HARF_WAIT,
          g_param_spec_boolean("harf-wait", "Harf wait",
                               "harf-file: true uploads with wait=true and keeps the request "
                               "open until the result (bounded by \"timeout\"); false uploads "
                               "with wait=false and polls the task",
                               d.harf_wait, rw));
  install(PT_PROP_POLL_INTERVAL,
          g_param_spec_uint("poll-interval", "Poll interval",
                            "harf-file (harf-wait=false), nevisa: the first wait (ms) between "
                            "progress polls; it grows 1.5 times per poll up to 10 s, with "
                            "20 % jitter",
                            pt::kPollIntervalRange.min, pt::kPollIntervalRange.max,
                            d.poll_interval_ms, rw));
  install(PT_PROP_BATCH_TIMEOUT,
          g_param_spec_uint("batch-timeout", "Batch timeout",
                            "harf-file, nevisa: seconds the service may take from the end of the "
                            "upload to the result; then the job is given up (and terminated at "
                            "Nevisa)",
                            pt::kBatchTimeoutRange.min, pt::kBatchTimeoutRange.max,
                            d.batch_timeout_s, rw));
  install(PT_PROP_MIN_CONFIDENCE,
          g_param_spec_double("min-confidence", "Min confidence",
                              "nevisa, nevisa-live: words below this confidence are marked "
                              "uncertain (Harf "
                              "marks them itself)",
                              pt::kConfidenceRange.min, pt::kConfidenceRange.max, d.min_confidence,
                              rw));
  std::string upload_blurb = "harf-file, nevisa: upload this file as it is (" +
                             pt::upload_extensions_list() +
                             ") instead of recording the audio; the audio that flows in is then "
                             "only timed";
  install(PT_PROP_UPLOAD_FILE,
          g_param_spec_string("upload-file", "Upload file", g_intern_string(upload_blurb.c_str()),
                              nullptr, rw));

  gst_type_mark_as_plugin_api(GST_TYPE_PERSIAN_TRANSCRIBE_BACKEND, (GstPluginAPIFlags)0);
  gst_type_mark_as_plugin_api(GST_TYPE_PERSIAN_TRANSCRIBE_AUTH_SCHEME, (GstPluginAPIFlags)0);
  gst_type_mark_as_plugin_api(GST_TYPE_PERSIAN_TRANSCRIBE_NEVISA_LIVE_FRAMING,
                              (GstPluginAPIFlags)0);
  gst_type_mark_as_plugin_api(GST_TYPE_PERSIAN_TRANSCRIBE_DIGITS, (GstPluginAPIFlags)0);
}

gboolean pt_set_common_property(pt::Settings &s, guint prop_id, const GValue *value)
{
  switch (prop_id) {
    case PT_PROP_BACKEND:
      /* GstPersianTranscribeBackend's values are pt::BackendKind's */
      s.backend = static_cast<pt::BackendKind>(g_value_get_enum(value));
      break;
    case PT_PROP_HARF_API_URL:
      s.harf_api_url = str_or(value, pt::kDefaultHarfApiUrl);
      break;
    case PT_PROP_HARF_WAIT:
      s.harf_wait = g_value_get_boolean(value);
      break;
    case PT_PROP_NEVISA_USERNAME:
      s.nevisa_username = str_or(value, "");
      break;
    case PT_PROP_NEVISA_PASSWORD:
      s.nevisa_password = str_or(value, "");
      break;
    case PT_PROP_NEVISA_AUTH_TOKEN:
      s.nevisa_auth_token = str_or(value, "");
      break;
    case PT_PROP_NEVISA_API_KEY:
      s.nevisa_api_key = str_or(value, "");
      break;
    case PT_PROP_NEVISA_LOGIN_URL:
      s.nevisa_login_url = str_or(value, pt::kDefaultNevisaLoginUrl);
      break;
    case PT_PROP_NEVISA_API_URL:
      s.nevisa_api_url = str_or(value, pt::kDefaultNevisaApiUrl);
      break;
    case PT_PROP_NEVISA_LIVE_URL:
      s.nevisa_live_url = str_or(value, pt::kDefaultNevisaLiveUrl);
      break;
    case PT_PROP_NEVISA_LIVE_FRAMING:
      s.nevisa_live_framing = static_cast<pt::NevisaLiveFraming>(g_value_get_enum(value));
      break;
    case PT_PROP_NORMALIZE:
      s.normalize = g_value_get_boolean(value);
      break;
    case PT_PROP_DIGITS:
      s.digits = static_cast<pt::DigitStyle>(g_value_get_enum(value));
      break;
    case PT_PROP_POLL_INTERVAL:
      s.poll_interval_ms = g_value_get_uint(value);
      break;
    case PT_PROP_BATCH_TIMEOUT:
      s.batch_timeout_s = g_value_get_uint(value);
      break;
    case PT_PROP_MIN_CONFIDENCE:
      s.min_confidence = g_value_get_double(value);
      break;
    case PT_PROP_UPLOAD_FILE:
      s.upload_file = str_or(value, "");
      break;
    case PT_PROP_TOKEN: {
      const gchar *v = g_value_get_string(value);
      s.token = v ? v : "";
      break;
    }
    case PT_PROP_AUTH_SCHEME:
      s.auth_scheme = g_value_get_enum(value) == GST_PERSIAN_TRANSCRIBE_AUTH_BEARER
                          ? pt::AuthScheme::Bearer
                          : pt::AuthScheme::Token;
      break;
    case PT_PROP_HARF_URL: {
      const gchar *v = g_value_get_string(value);
      s.harf_url = v ? v : pt::kDefaultHarfUrl;
      break;
    }
    case PT_PROP_SAMPLE_RATE:
      s.sample_rate = g_value_get_int(value);
      break;
    case PT_PROP_WINDOW_DURATION:
      s.window_ms = g_value_get_uint(value);
      break;
    case PT_PROP_MAX_INFLIGHT:
      s.max_inflight = g_value_get_uint(value);
      break;
    case PT_PROP_LATENCY:
      s.latency_ns = (guint64)g_value_get_uint(value) * GST_MSECOND;
      break;
    case PT_PROP_PARTIAL_RESULTS:
      s.partial_results = g_value_get_boolean(value);
      break;
    case PT_PROP_TIMEOUT:
      s.timeout_s = g_value_get_uint(value);
      break;
    case PT_PROP_MAX_ANSWER_SIZE:
      s.max_answer_bytes = g_value_get_uint(value);
      break;
    case PT_PROP_GAP_THRESHOLD:
      s.gap_threshold_ms = g_value_get_uint(value);
      break;
    case PT_PROP_SKIP_SILENCE:
      s.skip_silence = g_value_get_boolean(value);
      break;
    case PT_PROP_SILENCE_THRESHOLD:
      s.silence_threshold_dbfs = g_value_get_double(value);
      break;
    case PT_PROP_MAX_RECONNECTS:
      s.max_reconnects = g_value_get_uint(value);
      break;
    case PT_PROP_REPLAY_DURATION:
      s.replay_ms = g_value_get_uint(value);
      break;
    default:
      return FALSE;
  }
  return TRUE;
}

gboolean pt_get_common_property(const pt::Settings &s, guint prop_id, GValue *value)
{
  switch (prop_id) {
    case PT_PROP_BACKEND:
      g_value_set_enum(value, static_cast<gint>(s.backend));
      break;
    case PT_PROP_HARF_API_URL:
      g_value_set_string(value, s.harf_api_url.c_str());
      break;
    case PT_PROP_HARF_WAIT:
      g_value_set_boolean(value, s.harf_wait);
      break;
    case PT_PROP_NEVISA_USERNAME:
      g_value_set_string(value, s.nevisa_username.empty() ? nullptr : s.nevisa_username.c_str());
      break;
    case PT_PROP_NEVISA_PASSWORD:
      g_value_set_string(value, masked(s.nevisa_password));
      break;
    case PT_PROP_NEVISA_AUTH_TOKEN:
      g_value_set_string(value, masked(s.nevisa_auth_token));
      break;
    case PT_PROP_NEVISA_API_KEY:
      g_value_set_string(value, masked(s.nevisa_api_key));
      break;
    case PT_PROP_NEVISA_LOGIN_URL:
      g_value_set_string(value, s.nevisa_login_url.c_str());
      break;
    case PT_PROP_NEVISA_API_URL:
      g_value_set_string(value, s.nevisa_api_url.c_str());
      break;
    case PT_PROP_NEVISA_LIVE_URL:
      g_value_set_string(value, s.nevisa_live_url.c_str());
      break;
    case PT_PROP_NEVISA_LIVE_FRAMING:
      g_value_set_enum(value, static_cast<gint>(s.nevisa_live_framing));
      break;
    case PT_PROP_NORMALIZE:
      g_value_set_boolean(value, s.normalize);
      break;
    case PT_PROP_DIGITS:
      g_value_set_enum(value, static_cast<gint>(s.digits));
      break;
    case PT_PROP_POLL_INTERVAL:
      g_value_set_uint(value, s.poll_interval_ms);
      break;
    case PT_PROP_BATCH_TIMEOUT:
      g_value_set_uint(value, s.batch_timeout_s);
      break;
    case PT_PROP_MIN_CONFIDENCE:
      g_value_set_double(value, s.min_confidence);
      break;
    case PT_PROP_UPLOAD_FILE:
      g_value_set_string(value, s.upload_file.empty() ? nullptr : s.upload_file.c_str());
      break;
    case PT_PROP_TOKEN:
      /* A secret: readable only as "set" or not, so that .dot graph dumps
       * and property dumps never carry it. */
      g_value_set_string(value, masked(s.token));
      break;
    case PT_PROP_AUTH_SCHEME:
      g_value_set_enum(value, s.auth_scheme == pt::AuthScheme::Bearer
                                  ? GST_PERSIAN_TRANSCRIBE_AUTH_BEARER
                                  : GST_PERSIAN_TRANSCRIBE_AUTH_TOKEN);
      break;
    case PT_PROP_HARF_URL:
      g_value_set_string(value, s.harf_url.c_str());
      break;
    case PT_PROP_SAMPLE_RATE:
      g_value_set_int(value, s.sample_rate);
      break;
    case PT_PROP_WINDOW_DURATION:
      g_value_set_uint(value, s.window_ms);
      break;
    case PT_PROP_MAX_INFLIGHT:
      g_value_set_uint(value, s.max_inflight);
      break;
    case PT_PROP_LATENCY:
      g_value_set_uint(value, (guint)(s.latency_ns / GST_MSECOND));
      break;
    case PT_PROP_PARTIAL_RESULTS:
      g_value_set_boolean(value, s.partial_results);
      break;
    case PT_PROP_TIMEOUT:
      g_value_set_uint(value, s.timeout_s);
      break;
    case PT_PROP_MAX_ANSWER_SIZE:
      g_value_set_uint(value, s.max_answer_bytes);
      break;
    case PT_PROP_GAP_THRESHOLD:
      g_value_set_uint(value, s.gap_threshold_ms);
      break;
    case PT_PROP_SKIP_SILENCE:
      g_value_set_boolean(value, s.skip_silence);
      break;
    case PT_PROP_SILENCE_THRESHOLD:
      g_value_set_double(value, s.silence_threshold_dbfs);
      break;
    case PT_PROP_MAX_RECONNECTS:
      g_value_set_uint(value, s.max_reconnects);
      break;
    case PT_PROP_REPLAY_DURATION:
      g_value_set_uint(value, s.replay_ms);
      break;
    default:
      return FALSE;
  }
  return TRUE;
}
