// SPDX-License-Identifier: LGPL-2.1-or-later
#include "debug.h"

#include <gst/gst.h>

GST_DEBUG_CATEGORY(pt_engine_debug);
GST_DEBUG_CATEGORY(pt_harf_live_debug);
GST_DEBUG_CATEGORY(pt_batch_debug);
GST_DEBUG_CATEGORY(pt_nevisa_live_debug);

namespace pt {

void init_debug()
{
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    GST_DEBUG_CATEGORY_INIT(pt_engine_debug, "persiantranscribe-engine", 0,
                            "Persian transcription engine: conversion, queues, backends");
    GST_DEBUG_CATEGORY_INIT(pt_harf_live_debug, "persiantranscribe-harf-live", 0,
                            "Harf live WebSocket client");
    GST_DEBUG_CATEGORY_INIT(pt_batch_debug, "persiantranscribe-batch", 0,
                            "Batch backends: recording, upload, polling (harf-file, nevisa)");
    GST_DEBUG_CATEGORY_INIT(pt_nevisa_live_debug, "persiantranscribe-nevisa-live", 0,
                            "Nevisa live WebSocket client");
    g_once_init_leave(&once, 1);
  }
}

}  // namespace pt
