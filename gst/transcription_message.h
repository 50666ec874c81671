// SPDX-License-Identifier: LGPL-2.1-or-later
/* The bus message schema, defined in this one place.
 *
 * Element message, structure "transcription":
 *   text         string   the text without uncertainty brackets
 *   raw-text     string   as the service sent it
 *   segment-id   int      the service's id, -1 if none
 *   final        boolean  false only for partial revisions (partial-results=true)
 *   backend      string   "harf-live", "harf-file" or "nevisa"
 *   timestamp    guint64  ns, the segment's start on the input timeline (first PTS + start)
 *   running-time guint64  ns, timestamp in running time
 *   stream-time  guint64  ns, timestamp in stream time
 *   duration     guint64  ns, end - start
 *   start, end   guint64  ns, the service's offsets from the start of the audio it received
 *   words        GstValueArray of GstStructure "word":
 *                  text (string), start, end (guint64 ns, GST_CLOCK_TIME_NONE when unknown),
 *                  confidence (double, -1 when unknown), uncertain (boolean)
 *   total-words, known-words  gint64, harf-file only: the service's stats.words and
 *                stats.known_words for the whole file
 *
 * Batch backends also post "transcription-progress": backend, task-id, state
 * (UPLOADING, PENDING, STARTED, PROGRESS, SUCCESS, ...), percent (double, -1
 * when unknown), bytes-sent and bytes-total (guint64, while uploading).
 */
#pragma once

#include <gst/gst.h>

#include "backend.h"

#define PT_TRANSCRIPTION_MESSAGE_NAME "transcription"

/* segment: the input segment (TIME) to convert timestamps with. */
GstStructure *pt_transcription_structure_new(const pt::Result &r, const GstSegment *segment);

GstMessage *pt_transcription_message_new(GstElement *element, const pt::Result &r,
                                         const GstSegment *segment);
