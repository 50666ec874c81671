// SPDX-License-Identifier: LGPL-2.1-or-later
/* The properties persiantranscribe and harfsink share: one definition, so
 * gst-inspect-1.0 shows the same text for both, with the defaults of
 * pt::Settings. */
#pragma once

#include <gst/gst.h>

#include "settings.h"

/* Where the project lives, and the author field of both elements: a
 * contact for bug reports. */
#define PT_ORIGIN "https://github.com/persiantranscribe/persiantranscribe"
#define PT_AUTHOR "persiantranscribe developers <" PT_ORIGIN "/issues>"

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
  PT_PROP_MAX_ANSWER_SIZE,
  PT_PROP_GAP_THRESHOLD,
  PT_PROP_MAX_RECONNECTS,
  PT_PROP_REPLAY_DURATION,
  PT_PROP_NEVISA_LIVE_URL,
  PT_PROP_NEVISA_LIVE_FRAMING,
  PT_PROP_NORMALIZE,
  PT_PROP_DIGITS,
  PT_PROP_SKIP_SILENCE,
  PT_PROP_SILENCE_THRESHOLD,
  PT_PROP_LAST_COMMON
};

/* with_latency: the element has a text output that latency and GAPs apply to. */
void pt_install_common_properties(GObjectClass *klass, gboolean with_latency);
/* Under the object lock, by the caller.  False for ids not common. */
gboolean pt_set_common_property(pt::Settings &s, guint prop_id, const GValue *value);
gboolean pt_get_common_property(const pt::Settings &s, guint prop_id, GValue *value);
