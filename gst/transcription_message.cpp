// SPDX-License-Identifier: LGPL-2.1-or-later
#include "transcription_message.h"

static GstStructure *word_structure_new(const pt::Word &w)
{
  return gst_structure_new("word", "text", G_TYPE_STRING, w.text.c_str(), "start", G_TYPE_UINT64,
                           (guint64)w.start, "end", G_TYPE_UINT64, (guint64)w.end, "confidence",
                           G_TYPE_DOUBLE, w.confidence, "uncertain", G_TYPE_BOOLEAN,
                           (gboolean)w.uncertain, NULL);
}

GstStructure *pt_transcription_structure_new(const pt::Result &r, const GstSegment *segment)
{
  const pt::Segment &seg = r.segment;
  guint64 running = GST_CLOCK_TIME_NONE, stream = GST_CLOCK_TIME_NONE;
  if (segment && segment->format == GST_FORMAT_TIME) {
    running = gst_segment_to_running_time(segment, GST_FORMAT_TIME, r.pts);
    stream = gst_segment_to_stream_time(segment, GST_FORMAT_TIME, r.pts);
  }
  GstStructure *s = gst_structure_new(
      PT_TRANSCRIPTION_MESSAGE_NAME, "text", G_TYPE_STRING, seg.text.c_str(), "raw-text",
      G_TYPE_STRING, seg.raw_text.c_str(), "segment-id", G_TYPE_INT, (gint)seg.id, "final",
      G_TYPE_BOOLEAN, (gboolean)seg.final, "backend", G_TYPE_STRING, r.backend.c_str(), "timestamp",
      G_TYPE_UINT64, (guint64)r.pts, "running-time", G_TYPE_UINT64, running, "stream-time",
      G_TYPE_UINT64, stream, "duration", G_TYPE_UINT64, (guint64)r.duration, "start", G_TYPE_UINT64,
      (guint64)seg.start, "end", G_TYPE_UINT64, (guint64)seg.end, NULL);

  GValue words = G_VALUE_INIT;
  g_value_init(&words, GST_TYPE_ARRAY);
  for (const pt::Word &w : seg.words) {
    GValue v = G_VALUE_INIT;
    g_value_init(&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed(&v, word_structure_new(w));
    gst_value_array_append_and_take_value(&words, &v);
  }
  gst_structure_take_value(s, "words", &words);
  if (r.total_words >= 0)
    gst_structure_set(s, "total-words", G_TYPE_INT64, (gint64)r.total_words, NULL);
  if (r.known_words >= 0)
    gst_structure_set(s, "known-words", G_TYPE_INT64, (gint64)r.known_words, NULL);
  return s;
}

GstMessage *pt_transcription_message_new(GstElement *element, const pt::Result &r,
                                         const GstSegment *segment)
{
  return gst_message_new_element(GST_OBJECT(element), pt_transcription_structure_new(r, segment));
}
