/* What persiantranscribe and harfsink share: their properties (one
 * definition, so gst-inspect shows the same text for both), the settings
 * snapshot taken when streaming starts, and engine error reporting. */
#pragma once

#include <gst/gst.h>
#include <gst/audio/audio.h>

#include "backend.h"
#include "settings.h"

enum {
  PT_PROP_0,
  PT_PROP_BACKEND,
  PT_PROP_TOKEN,
  PT_PROP_AUTH_SCHEME,
  PT_PROP_HARF_URL,
  PT_PROP_SAMPLE_RATE,
  PT_PROP_WINDOW_DURATION,
  PT_PROP_MAX_INFLIGHT,
  PT_PROP_LATENCY,
  PT_PROP_PARTIAL_RESULTS,
  PT_PROP_TIMEOUT,
  PT_PROP_HARF_API_URL,
  PT_PROP_HARF_WAIT,
  PT_PROP_NEVISA_USERNAME,
  PT_PROP_NEVISA_PASSWORD,
  PT_PROP_NEVISA_AUTH_TOKEN,
  PT_PROP_NEVISA_API_KEY,
  PT_PROP_NEVISA_LOGIN_URL,
  PT_PROP_NEVISA_API_URL,
  PT_PROP_POLL_INTERVAL,
  PT_PROP_BATCH_TIMEOUT,
  PT_PROP_MIN_CONFIDENCE,
  PT_PROP_UPLOAD_FILE,
  PT_PROP_LAST_COMMON
};

/* with_latency: the element has a text output that latency and GAPs apply to. */
void pt_install_common_properties(GObjectClass *klass, gboolean with_latency);
/* Under the object lock, by the caller.  False for ids not common. */
gboolean pt_set_common_property(pt::Settings &s, guint prop_id, const GValue *value);
gboolean pt_get_common_property(const pt::Settings &s, guint prop_id, GValue *value);

/* The settings to stream with: a copy of the properties, the token falling
 * back to HARF_TOKEN.  Takes the object lock. */
pt::Settings pt_snapshot_settings(GstElement *element, const pt::Settings &props);

/* Posts a "transcription-progress" element message for a batch job. */
void pt_post_progress(GstElement *element, const pt::Progress &p);

/* Posts an error (or warning) message with the standard domain and code for
 * the engine's error kind. */
void pt_post_engine_error(GstElement *element, const pt::Error &e, gboolean warning);

/* Parses raw audio caps; multichannel caps without channel-mask get the
 * default layout instead of being refused. */
gboolean pt_audio_info_from_caps(GstAudioInfo *info, GstCaps *caps);
