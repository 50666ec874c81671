#include "transcribe_common.h"

#include <cstdlib>

#include "gstpersiantranscribeenums.h"

#define DEFAULT_SAMPLE_RATE 16000
#define DEFAULT_WINDOW_DURATION 1000
#define DEFAULT_MAX_INFLIGHT 1
#define DEFAULT_LATENCY 8000
#define DEFAULT_TIMEOUT 30

void
pt_install_common_properties (GObjectClass * klass, gboolean with_latency)
{
  const GParamFlags rw = (GParamFlags) (G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY);

  g_object_class_install_property (klass, PT_PROP_BACKEND,
      g_param_spec_enum ("backend", "Backend",
          "Which service transcribes the audio",
          GST_TYPE_PERSIAN_TRANSCRIBE_BACKEND, GST_PERSIAN_TRANSCRIBE_BACKEND_HARF_LIVE, rw));
  g_object_class_install_property (klass, PT_PROP_TOKEN,
      g_param_spec_string ("token", "Token",
          "Harf API token (TOKEN_KEY). When unset, the HARF_TOKEN environment variable "
          "is used. It is sent only in the Authorization header, never logged, and reads "
          "back as \"********\" when set (so graph dumps do not show it)",
          nullptr, rw));
  g_object_class_install_property (klass, PT_PROP_AUTH_SCHEME,
      g_param_spec_enum ("auth-scheme", "Authorization scheme",
          "How the token is sent: 'Authorization: Token <token>' (documented) or "
          "'Authorization: Bearer <token>'",
          GST_TYPE_PERSIAN_TRANSCRIBE_AUTH_SCHEME, GST_PERSIAN_TRANSCRIBE_AUTH_TOKEN, rw));
  g_object_class_install_property (klass, PT_PROP_HARF_URL,
      g_param_spec_string ("harf-url", "Harf WebSocket URL",
          "WebSocket URL of Harf's live transcription (wss://, or ws:// for a local server "
          "such as the emulator)", pt::kDefaultHarfUrl, rw));
  g_object_class_install_property (klass, PT_PROP_SAMPLE_RATE,
      g_param_spec_int ("sample-rate", "Sample rate",
          "Rate (Hz) of the 16-bit mono audio sent to the service; input is resampled to it",
          8000, 48000, DEFAULT_SAMPLE_RATE, rw));
  g_object_class_install_property (klass, PT_PROP_WINDOW_DURATION,
      g_param_spec_uint ("window-duration", "Window duration",
          "Milliseconds of audio in one binary WebSocket message "
          "(1000 ms = 32000 bytes at 16 kHz mono S16)",
          100, 60000, DEFAULT_WINDOW_DURATION, rw));
  g_object_class_install_property (klass, PT_PROP_MAX_INFLIGHT,
      g_param_spec_uint ("max-inflight", "Max in flight",
          "How many windows may be sent before the reply to the first is read. "
          "1 is the documented lock-step; more pipelines sending on non-live input",
          1, 64, DEFAULT_MAX_INFLIGHT, rw));
  if (with_latency)
    g_object_class_install_property (klass, PT_PROP_LATENCY,
      g_param_spec_uint ("latency", "Latency",
          "Milliseconds added to the upstream latency in the LATENCY query, and the deadline "
          "after which GAP events advance the text stream on live input",
          0, 600000, DEFAULT_LATENCY, rw));
  g_object_class_install_property (klass, PT_PROP_PARTIAL_RESULTS,
      g_param_spec_boolean ("partial-results", "Partial results",
          "Also post and push non-final revisions of a segment (final=false)",
          FALSE, rw));
  g_object_class_install_property (klass, PT_PROP_TIMEOUT,
      g_param_spec_uint ("timeout", "Timeout",
          "Seconds allowed for connecting, for each reply, and for the server to close after "
          "'finalize'", 1, 3600, DEFAULT_TIMEOUT, rw));

  gst_type_mark_as_plugin_api (GST_TYPE_PERSIAN_TRANSCRIBE_BACKEND, (GstPluginAPIFlags) 0);
  gst_type_mark_as_plugin_api (GST_TYPE_PERSIAN_TRANSCRIBE_AUTH_SCHEME, (GstPluginAPIFlags) 0);
}

gboolean
pt_set_common_property (pt::Settings & s, guint prop_id, const GValue * value)
{
  switch (prop_id) {
    case PT_PROP_BACKEND:
      s.backend = pt::BackendKind::HarfLive;
      break;
    case PT_PROP_TOKEN:{
      const gchar *v = g_value_get_string (value);
      s.token = v ? v : "";
      break;
    }
    case PT_PROP_AUTH_SCHEME:
      s.auth_scheme = g_value_get_enum (value) == GST_PERSIAN_TRANSCRIBE_AUTH_BEARER ?
          pt::AuthScheme::Bearer : pt::AuthScheme::Token;
      break;
    case PT_PROP_HARF_URL:{
      const gchar *v = g_value_get_string (value);
      s.harf_url = v ? v : pt::kDefaultHarfUrl;
      break;
    }
    case PT_PROP_SAMPLE_RATE:
      s.sample_rate = g_value_get_int (value);
      break;
    case PT_PROP_WINDOW_DURATION:
      s.window_ms = g_value_get_uint (value);
      break;
    case PT_PROP_MAX_INFLIGHT:
      s.max_inflight = g_value_get_uint (value);
      break;
    case PT_PROP_LATENCY:
      s.latency_ns = (guint64) g_value_get_uint (value) * GST_MSECOND;
      break;
    case PT_PROP_PARTIAL_RESULTS:
      s.partial_results = g_value_get_boolean (value);
      break;
    case PT_PROP_TIMEOUT:
      s.timeout_s = g_value_get_uint (value);
      break;
    default:
      return FALSE;
  }
  return TRUE;
}

gboolean
pt_get_common_property (const pt::Settings & s, guint prop_id, GValue * value)
{
  switch (prop_id) {
    case PT_PROP_BACKEND:
      g_value_set_enum (value, GST_PERSIAN_TRANSCRIBE_BACKEND_HARF_LIVE);
      break;
    case PT_PROP_TOKEN:
      /* A secret: readable only as "set" or not, so that .dot graph dumps
       * and property dumps never carry it. */
      g_value_set_string (value, s.token.empty () ? nullptr : "********");
      break;
    case PT_PROP_AUTH_SCHEME:
      g_value_set_enum (value, s.auth_scheme == pt::AuthScheme::Bearer ?
          GST_PERSIAN_TRANSCRIBE_AUTH_BEARER : GST_PERSIAN_TRANSCRIBE_AUTH_TOKEN);
      break;
    case PT_PROP_HARF_URL:
      g_value_set_string (value, s.harf_url.c_str ());
      break;
    case PT_PROP_SAMPLE_RATE:
      g_value_set_int (value, s.sample_rate);
      break;
    case PT_PROP_WINDOW_DURATION:
      g_value_set_uint (value, s.window_ms);
      break;
    case PT_PROP_MAX_INFLIGHT:
      g_value_set_uint (value, s.max_inflight);
      break;
    case PT_PROP_LATENCY:
      g_value_set_uint (value, (guint) (s.latency_ns / GST_MSECOND));
      break;
    case PT_PROP_PARTIAL_RESULTS:
      g_value_set_boolean (value, s.partial_results);
      break;
    case PT_PROP_TIMEOUT:
      g_value_set_uint (value, s.timeout_s);
      break;
    default:
      return FALSE;
  }
  return TRUE;
}

pt::Settings
pt_snapshot_settings (GstElement * element, const pt::Settings & props)
{
  GST_OBJECT_LOCK (element);
  pt::Settings s = props;
  GST_OBJECT_UNLOCK (element);
  if (s.token.empty ()) {
    const gchar *env = g_getenv ("HARF_TOKEN");
    if (env)
      s.token = env;
  }
  return s;
}

void
pt_post_engine_error (GstElement * element, const pt::Error & e, gboolean warning)
{
  GQuark domain = GST_RESOURCE_ERROR;
  gint code = GST_RESOURCE_ERROR_FAILED;
  switch (e.kind) {
    case pt::ErrorKind::Settings:
      code = GST_RESOURCE_ERROR_SETTINGS;
      break;
    case pt::ErrorKind::NotAuthorized:
      code = GST_RESOURCE_ERROR_NOT_AUTHORIZED;
      break;
    case pt::ErrorKind::OpenReadWrite:
      code = GST_RESOURCE_ERROR_OPEN_READ_WRITE;
      break;
    case pt::ErrorKind::Read:
      code = GST_RESOURCE_ERROR_READ;
      break;
    case pt::ErrorKind::Write:
      code = GST_RESOURCE_ERROR_WRITE;
      break;
    case pt::ErrorKind::Format:
      domain = GST_STREAM_ERROR;
      code = GST_STREAM_ERROR_FORMAT;
      break;
    case pt::ErrorKind::Failed:
      break;
  }
  gst_element_message_full (element,
      warning ? GST_MESSAGE_WARNING : GST_MESSAGE_ERROR, domain, code,
      g_strdup (e.message.c_str ()),
      e.debug.empty ()? nullptr : g_strdup (e.debug.c_str ()),
      __FILE__, GST_FUNCTION, __LINE__);
}

gboolean
pt_audio_info_from_caps (GstAudioInfo * info, GstCaps * caps)
{
  if (gst_audio_info_from_caps (info, caps))
    return TRUE;
  /* Accept multichannel caps that forgot the channel-mask. */
  GstStructure *s = gst_caps_get_structure (caps, 0);
  gint channels = 0;
  if (!gst_structure_get_int (s, "channels", &channels) || channels <= 2 ||
      gst_structure_has_field (s, "channel-mask"))
    return FALSE;
  GstCaps *fixed = gst_caps_copy (caps);
  gst_caps_set_simple (fixed, "channel-mask", GST_TYPE_BITMASK,
      gst_audio_channel_get_fallback_mask (channels), NULL);
  gboolean ok = gst_audio_info_from_caps (info, fixed);
  gst_caps_unref (fixed);
  return ok;
}
