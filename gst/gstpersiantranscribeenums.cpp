#include "gstpersiantranscribeenums.h"

GType gst_persian_transcribe_backend_get_type(void)
{
  static gsize type = 0;
  static const GEnumValue values[] = {
      {GST_PERSIAN_TRANSCRIBE_BACKEND_HARF_LIVE,
       "Harf live: 16 kHz mono WAV windows over a WebSocket, results while audio flows",
       "harf-live"},
      {GST_PERSIAN_TRANSCRIBE_BACKEND_HARF_FILE,
       "Harf files: the recording is uploaded at the end of the stream (REST API)", "harf-file"},
      {GST_PERSIAN_TRANSCRIBE_BACKEND_NEVISA,
       "Nevisa: the recording is uploaded at the end, progress is polled; words with times "
       "and confidences",
       "nevisa"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
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
