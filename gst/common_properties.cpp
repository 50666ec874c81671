#include "common_properties.h"

#include <cstdlib>
#include <string>

#include "gstpersiantranscribeenums.h"

#define DEFAULT_SAMPLE_RATE 16000
#define DEFAULT_WINDOW_DURATION 1000
#define DEFAULT_MAX_INFLIGHT 1
#define DEFAULT_LATENCY 8000
#define DEFAULT_TIMEOUT 30

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

  g_object_class_install_property(
      klass, PT_PROP_BACKEND,
      g_param_spec_enum(
          "backend", "Backend",
          "Which service transcribes the audio: harf-live while it flows, harf-file or nevisa "
          "after the end of the stream",
          GST_TYPE_PERSIAN_TRANSCRIBE_BACKEND, GST_PERSIAN_TRANSCRIBE_BACKEND_HARF_LIVE, rw));
  g_object_class_install_property(
      klass, PT_PROP_TOKEN,
      g_param_spec_string(
          "token", "Token",
          "Harf API token (TOKEN_KEY). When unset, the HARF_TOKEN environment variable "
          "is used. It is sent only in the Authorization header, never logged, and reads "
          "back as \"********\" when set (so graph dumps do not show it)",
          nullptr, rw));
  g_object_class_install_property(
      klass, PT_PROP_AUTH_SCHEME,
      g_param_spec_enum("auth-scheme", "Authorization scheme",
                        "How the token is sent: 'Authorization: Token <token>' (documented) or "
                        "'Authorization: Bearer <token>'",
                        GST_TYPE_PERSIAN_TRANSCRIBE_AUTH_SCHEME, GST_PERSIAN_TRANSCRIBE_AUTH_TOKEN,
                        rw));
  g_object_class_install_property(
      klass, PT_PROP_HARF_URL,
      g_param_spec_string(
          "harf-url", "Harf WebSocket URL",
          "WebSocket URL of Harf's live transcription (wss://, or ws:// for a local server "
          "such as the emulator)",
          pt::kDefaultHarfUrl, rw));
  g_object_class_install_property(
      klass, PT_PROP_SAMPLE_RATE,
      g_param_spec_int(
          "sample-rate", "Sample rate",
          "Rate (Hz) of the 16-bit mono audio sent to the service; input is resampled to it", 8000,
          48000, DEFAULT_SAMPLE_RATE, rw));
  g_object_class_install_property(
      klass, PT_PROP_WINDOW_DURATION,
      g_param_spec_uint("window-duration", "Window duration",
                        "Milliseconds of audio in one binary WebSocket message "
                        "(1000 ms = 32000 bytes at 16 kHz mono S16)",
                        100, 60000, DEFAULT_WINDOW_DURATION, rw));
  g_object_class_install_property(
      klass, PT_PROP_MAX_INFLIGHT,
      g_param_spec_uint("max-inflight", "Max in flight",
                        "How many windows may be sent before the reply to the first is read. "
                        "1 is the documented lock-step; more pipelines sending on non-live input",
                        1, 64, DEFAULT_MAX_INFLIGHT, rw));
  if (with_latency)
    g_object_class_install_property(
        klass, PT_PROP_LATENCY,
        g_param_spec_uint(
            "latency", "Latency",
            "Milliseconds added to the upstream latency in the LATENCY query, and the deadline "
            "after which GAP events advance the text stream on live input",
            0, 600000, DEFAULT_LATENCY, rw));
  g_object_class_install_property(
      klass, PT_PROP_PARTIAL_RESULTS,
      g_param_spec_boolean("partial-results", "Partial results",
                           "Also post and push non-final revisions of a segment (final=false)",
                           FALSE, rw));
  g_object_class_install_property(
      klass, PT_PROP_TIMEOUT,
      g_param_spec_uint(
          "timeout", "Timeout",
          "Seconds allowed for connecting, for each reply, and for the server to close after "
          "'finalize'",
          1, 3600, DEFAULT_TIMEOUT, rw));

  /* Batch backends */
  g_object_class_install_property(
      klass, PT_PROP_HARF_API_URL,
      g_param_spec_string("harf-api-url", "Harf file API URL",
                          "Harf's file transcription endpoint (backend=harf-file)",
                          pt::kDefaultHarfApiUrl, rw));
  g_object_class_install_property(
      klass, PT_PROP_HARF_WAIT,
      g_param_spec_boolean(
          "harf-wait", "Harf wait",
          "harf-file: upload with wait=true and hold the connection open (up to \"timeout\"); "
          "false uploads with wait=false and polls the task id (some service versions only "
          "support one of the two)",
          TRUE, rw));
  g_object_class_install_property(
      klass, PT_PROP_NEVISA_USERNAME,
      g_param_spec_string("nevisa-username", "Nevisa username",
                          "Nevisa account (username, phone or e-mail); else NEVISA_USERNAME",
                          nullptr, rw));
  g_object_class_install_property(
      klass, PT_PROP_NEVISA_PASSWORD,
      g_param_spec_string(
          "nevisa-password", "Nevisa password",
          "Nevisa password; else NEVISA_PASSWORD. Never logged; reads back as \"********\"",
          nullptr, rw));
  g_object_class_install_property(
      klass, PT_PROP_NEVISA_AUTH_TOKEN,
      g_param_spec_string(
          "nevisa-auth-token", "Nevisa auth token",
          "Nevisa auth token (with nevisa-api-key: no login); else NEVISA_AUTH_TOKEN. "
          "Never logged; reads back as \"********\"",
          nullptr, rw));
  g_object_class_install_property(
      klass, PT_PROP_NEVISA_API_KEY,
      g_param_spec_string(
          "nevisa-api-key", "Nevisa API key",
          "Nevisa API key (with nevisa-auth-token); else NEVISA_API_KEY. Never logged; reads "
          "back as \"********\"",
          nullptr, rw));
  g_object_class_install_property(
      klass, PT_PROP_NEVISA_LOGIN_URL,
      g_param_spec_string("nevisa-login-url", "Nevisa login URL", "Nevisa's login endpoint",
                          pt::kDefaultNevisaLoginUrl, rw));
  g_object_class_install_property(
      klass, PT_PROP_NEVISA_API_URL,
      g_param_spec_string(
          "nevisa-api-url", "Nevisa API URL",
          "Base URL that recognize-file, file/terminate-task and the progress_url the service "
          "returns resolve against",
          pt::kDefaultNevisaApiUrl, rw));
  g_object_class_install_property(
      klass, PT_PROP_POLL_INTERVAL,
      g_param_spec_uint(
          "poll-interval", "Poll interval",
          "First wait (ms) between progress polls; it grows 1.5x per poll up to 10 s, with "
          "+-20 % jitter",
          100, 60000, 1000, rw));
  g_object_class_install_property(
      klass, PT_PROP_BATCH_TIMEOUT,
      g_param_spec_uint("batch-timeout", "Batch timeout",
                        "Seconds a batch job may take from the end of the upload to its result", 1,
                        7 * 24 * 3600, 3600, rw));
  g_object_class_install_property(
      klass, PT_PROP_MIN_CONFIDENCE,
      g_param_spec_double("min-confidence", "Min confidence",
                          "Words below this confidence are marked uncertain (nevisa)", 0.0, 1.0,
                          0.5, rw));
  g_object_class_install_property(
      klass, PT_PROP_UPLOAD_FILE,
      g_param_spec_string(
          "upload-file", "Upload file",
          "Batch backends: upload this file as it is (wav, mp3, ogg, flac, m4a) instead of "
          "the recorded audio; the audio that flows in is then only counted",
          nullptr, rw));

  gst_type_mark_as_plugin_api(GST_TYPE_PERSIAN_TRANSCRIBE_BACKEND, (GstPluginAPIFlags)0);
  gst_type_mark_as_plugin_api(GST_TYPE_PERSIAN_TRANSCRIBE_AUTH_SCHEME, (GstPluginAPIFlags)0);
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
    default:
      return FALSE;
  }
  return TRUE;
}
