// SPDX-License-Identifier: LGPL-2.1-or-later
/* harfsink: the transcription engine as a sink; results only as bus messages. */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

#define GST_TYPE_HARF_SINK (gst_harf_sink_get_type())
#define GST_HARF_SINK(obj) (G_TYPE_CHECK_INSTANCE_CAST((obj), GST_TYPE_HARF_SINK, GstHarfSink))

typedef struct _GstHarfSink GstHarfSink;
typedef struct _GstHarfSinkClass GstHarfSinkClass;

struct _GstHarfSink {
  GstBaseSink parent;

  /* C++ state (HarfSinkPrivate): new in _init, owned by the object (see EngineDriver) */
  gpointer priv;
};

struct _GstHarfSinkClass {
  GstBaseSinkClass parent_class;
};

GType gst_harf_sink_get_type(void);

GST_ELEMENT_REGISTER_DECLARE(harfsink);

G_END_DECLS
