// SPDX-License-Identifier: LGPL-2.1-or-later
#include "gstpersiantranscribeenums.h"

#include "settings.h"

static_assert(
    GST_PERSIAN_TRANSCRIBE_BACKEND_HARF_LIVE == static_cast<int>(pt::BackendKind::HarfLive) &&
        GST_PERSIAN_TRANSCRIBE_BACKEND_HARF_FILE == static_cast<int>(pt::BackendKind::HarfFile) &&
        GST_PERSIAN_TRANSCRIBE_BACKEND_NEVISA == static_cast<int>(pt::BackendKind::Nevisa) &&
        GST_PERSIAN_TRANSCRIBE_BACKEND_NEVISA_LIVE == static_cast<int>(pt::BackendKind::NevisaLive),
    "the C enum and pt::BackendKind have the same values");

/* The values come from pt::kBackends, the one list of backend names. */
GType gst_persian_transcribe_backend_get_type(void)
{
  static gsize type = 0;
  if (g_once_init_enter(&type)) {
    constexpr size_t n = G_N_ELEMENTS(pt::kBackends);
    static GEnumValue values[n + 1];
    for (size_t i = 0; i < n; ++i)
      values[i] = {static_cast<gint>(pt::kBackends[i].kind), pt::kBackends[i].description,
                   pt::kBackends[i].name};
    values[n] = {0, nullptr, nullptr};
    GType t = g_enum_register_static("GstPersianTranscribeBackend", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

GType gst_persian_transcribe_auth_scheme_get_type(void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
      {GST_PERSIAN_TRANSCRIBE_AUTH_TOKEN, "Authorization: Token <token> (documented)", "token"},
      {GST_PERSIAN_TRANSCRIBE_AUTH_BEARER, "Authorization: Bearer <token> (newer logins)",
       "bearer"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstPersianTranscribeAuthScheme", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

static_assert(GST_PERSIAN_TRANSCRIBE_NEVISA_LIVE_FRAMING_WAV ==
                      static_cast<int>(pt::NevisaLiveFraming::Wav) &&
                  GST_PERSIAN_TRANSCRIBE_NEVISA_LIVE_FRAMING_RAW ==
                      static_cast<int>(pt::NevisaLiveFraming::Raw),
              "the C enum and pt::NevisaLiveFraming have the same values");

GType gst_persian_transcribe_nevisa_live_framing_get_type(void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
      {GST_PERSIAN_TRANSCRIBE_NEVISA_LIVE_FRAMING_WAV,
       "every message a complete WAV file (header and 500 ms of PCM), as the service's "
       "JavaScript sample's recorder makes them",
       "wav"},
      {GST_PERSIAN_TRANSCRIBE_NEVISA_LIVE_FRAMING_RAW, "raw 16-bit PCM, no header", "raw"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstPersianTranscribeNevisaLiveFraming", values);
    g_once_init_leave(&type, t);
  }
  return type;
}

static_assert(GST_PERSIAN_TRANSCRIBE_DIGITS_PERSIAN == static_cast<int>(pt::DigitStyle::Persian) &&
                  GST_PERSIAN_TRANSCRIBE_DIGITS_LATIN == static_cast<int>(pt::DigitStyle::Latin) &&
                  GST_PERSIAN_TRANSCRIBE_DIGITS_AS_RECEIVED ==
                      static_cast<int>(pt::DigitStyle::AsReceived),
              "the C enum and pt::DigitStyle have the same values");

GType gst_persian_transcribe_digits_get_type(void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
      {GST_PERSIAN_TRANSCRIBE_DIGITS_PERSIAN, "Persian digits (۰۱۲۳۴۵۶۷۸۹)", "persian"},
      {GST_PERSIAN_TRANSCRIBE_DIGITS_LATIN, "Latin digits (0123456789)", "latin"},
      {GST_PERSIAN_TRANSCRIBE_DIGITS_AS_RECEIVED, "the digits the service sent", "as-received"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType t = g_enum_register_static("GstPersianTranscribeDigits", values);
    g_once_init_leave(&type, t);
  }
  return type;
}
