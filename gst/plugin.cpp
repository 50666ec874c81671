// SPDX-License-Identifier: LGPL-2.1-or-later
/* Registration only. */
#include <gst/gst.h>

#include "common_properties.h"
#include "debug.h"
#include "gstharfsink.h"
#include "gstpersiantranscribe.h"

static gboolean plugin_init(GstPlugin *plugin)
{
  gboolean ret = FALSE;
  pt::init_debug();
  ret |= GST_ELEMENT_REGISTER(persiantranscribe, plugin);
  ret |= GST_ELEMENT_REGISTER(harfsink, plugin);
  return ret;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, persiantranscribe,
                  "Persian speech to text with the Harf and Nevisa services", plugin_init, VERSION,
                  "LGPL", "persiantranscribe", PT_ORIGIN)
