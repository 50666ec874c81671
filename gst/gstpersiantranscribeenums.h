// SPDX-License-Identifier: LGPL-2.1-or-later
/* Enum types shown in gst-inspect-1.0 and settable from gst-launch-1.0. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

typedef enum {
  GST_PERSIAN_TRANSCRIBE_BACKEND_HARF_LIVE = 0,
  GST_PERSIAN_TRANSCRIBE_BACKEND_HARF_FILE = 1,
  GST_PERSIAN_TRANSCRIBE_BACKEND_NEVISA = 2,
  GST_PERSIAN_TRANSCRIBE_BACKEND_NEVISA_LIVE = 3,
} GstPersianTranscribeBackend;

typedef enum {
  GST_PERSIAN_TRANSCRIBE_AUTH_TOKEN = 0,
  GST_PERSIAN_TRANSCRIBE_AUTH_BEARER = 1,
} GstPersianTranscribeAuthScheme;

typedef enum {
  GST_PERSIAN_TRANSCRIBE_NEVISA_LIVE_FRAMING_WAV = 0,
  GST_PERSIAN_TRANSCRIBE_NEVISA_LIVE_FRAMING_RAW = 1,
} GstPersianTranscribeNevisaLiveFraming;

typedef enum {
  GST_PERSIAN_TRANSCRIBE_DIGITS_PERSIAN = 0,
  GST_PERSIAN_TRANSCRIBE_DIGITS_LATIN = 1,
  GST_PERSIAN_TRANSCRIBE_DIGITS_AS_RECEIVED = 2,
} GstPersianTranscribeDigits;

#define GST_TYPE_PERSIAN_TRANSCRIBE_BACKEND (gst_persian_transcribe_backend_get_type())
GType gst_persian_transcribe_backend_get_type(void);

#define GST_TYPE_PERSIAN_TRANSCRIBE_AUTH_SCHEME (gst_persian_transcribe_auth_scheme_get_type())
GType gst_persian_transcribe_auth_scheme_get_type(void);

#define GST_TYPE_PERSIAN_TRANSCRIBE_NEVISA_LIVE_FRAMING \
  (gst_persian_transcribe_nevisa_live_framing_get_type())
GType gst_persian_transcribe_nevisa_live_framing_get_type(void);

#define GST_TYPE_PERSIAN_TRANSCRIBE_DIGITS (gst_persian_transcribe_digits_get_type())
GType gst_persian_transcribe_digits_get_type(void);

G_END_DECLS
