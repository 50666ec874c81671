// SPDX-License-Identifier: LGPL-2.1-or-later
/* persiantranscribe: raw audio in, Persian text out. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_PERSIAN_TRANSCRIBE (gst_persian_transcribe_get_type())
#define GST_PERSIAN_TRANSCRIBE(obj) \
  (G_TYPE_CHECK_INSTANCE_CAST((obj), GST_TYPE_PERSIAN_TRANSCRIBE, GstPersianTranscribe))

typedef struct _GstPersianTranscribe GstPersianTranscribe;
typedef struct _GstPersianTranscribeClass GstPersianTranscribeClass;

struct _GstPersianTranscribe {
  GstElement parent;

  GstPad *sinkpad;
  GstPad *srcpad;

  /* C++ state (PersianTranscribePrivate): new in _init, owned by the object (see EngineDriver) */
  gpointer priv;
};

struct _GstPersianTranscribeClass {
  GstElementClass parent_class;
};

GType gst_persian_transcribe_get_type(void);

GST_ELEMENT_REGISTER_DECLARE(persiantranscribe);

G_END_DECLS
