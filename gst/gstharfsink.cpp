/**
 * SECTION:element-harfsink
 * @title: harfsink
 *
 * The persiantranscribe engine as a sink: for pipelines that only want the
 * "transcription" bus messages.  Same properties, same messages.  It does
 * not synchronise to the clock by default (sync=false): a file is
 * transcribed as fast as the service answers.  At EOS it waits (bounded by
 * "timeout") for the last results before posting EOS.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m filesrc location=speech.wav ! wavparse ! harfsink
 * ]|
 */
#include "gstharfsink.h"

#include <gst/audio/audio.h>

#include <condition_variable>
#include <memory>
#include <mutex>

#include "engine.h"
#include "transcribe_common.h"
#include "transcription_message.h"

GST_DEBUG_CATEGORY_STATIC(gst_harf_sink_debug);
#define GST_CAT_DEFAULT gst_harf_sink_debug

#define SINK_CAPS                                                                       \
  "audio/x-raw, format = (string) { S8, U8, S16LE, S16BE, U16LE, U16BE, S24LE, S24BE, " \
  "S24_32LE, S24_32BE, S32LE, S32BE, F32LE, F32BE, F64LE, F64BE }, "                    \
  "rate = (int) [ 8000, 192000 ], channels = (int) [ 1, 8 ], layout = (string) interleaved"

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(SINK_CAPS));

namespace {

struct HarfSinkPrivate final : public pt::EngineListener {
  explicit HarfSinkPrivate(GstHarfSink *s) : self(s)
  {
    gst_segment_init(&segment, GST_FORMAT_TIME);
  }

  /* EngineListener: I/O thread */
  void on_result(const pt::Result &r) override
  {
    GstSegment seg;
    {
      std::lock_guard<std::mutex> lk(lock);
      seg = segment;
    }
    gst_element_post_message(GST_ELEMENT(self),
                             pt_transcription_message_new(GST_ELEMENT(self), r, &seg));
  }

  void on_progress(const pt::Progress &pr) override { pt_post_progress(GST_ELEMENT(self), pr); }

  void on_warning(const pt::Error &e) override { pt_post_engine_error(GST_ELEMENT(self), e, TRUE); }

  void on_error(const pt::Error &e) override
  {
    pt_post_engine_error(GST_ELEMENT(self), e, FALSE);
    std::lock_guard<std::mutex> lk(lock);
    failed = true;
    cond.notify_all();
  }

  void on_finished() override
  {
    std::lock_guard<std::mutex> lk(lock);
    finished = true;
    cond.notify_all();
  }

  GstHarfSink *self;

  /* Properties: object lock */
  pt::Settings props;

  /* Created in start(), destroyed in stop() */
  std::unique_ptr<pt::Engine> engine;

  /* Protected by lock */
  std::mutex lock;
  std::condition_variable cond;
  GstSegment segment;
  bool unlocked = false;
  bool finished = false;
  bool failed = false;
};

inline HarfSinkPrivate &priv(GstHarfSink *self)
{
  return *static_cast<HarfSinkPrivate *>(self->priv);
}

}  // namespace

#define gst_harf_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE(GstHarfSink, gst_harf_sink, GST_TYPE_BASE_SINK,
                        GST_DEBUG_CATEGORY_INIT(gst_harf_sink_debug, "harfsink", 0,
                                                "Persian speech-to-text sink"));
GST_ELEMENT_REGISTER_DEFINE(harfsink, "harfsink", GST_RANK_NONE, GST_TYPE_HARF_SINK);

static gboolean gst_harf_sink_start(GstBaseSink *sink)
{
  GstHarfSink *self = GST_HARF_SINK(sink);
  HarfSinkPrivate &p = priv(self);
  pt::Settings s = pt_snapshot_settings(GST_ELEMENT(sink), p.props);
  if (auto problem = pt::validate_settings(s)) {
    pt_post_engine_error(GST_ELEMENT(self), *problem, FALSE);
    return FALSE;
  }
  {
    std::lock_guard<std::mutex> lk(p.lock);
    p.finished = false;
    p.failed = false;
    p.unlocked = false;
    gst_segment_init(&p.segment, GST_FORMAT_TIME);
  }
  p.engine = std::make_unique<pt::Engine>(s, &p);
  return TRUE;
}

static gboolean gst_harf_sink_stop(GstBaseSink *sink)
{
  priv(GST_HARF_SINK(sink)).engine.reset();
  return TRUE;
}

static gboolean gst_harf_sink_set_caps(GstBaseSink *sink, GstCaps *caps)
{
  GstHarfSink *self = GST_HARF_SINK(sink);
  HarfSinkPrivate &p = priv(self);
  GstAudioInfo info;
  if (!pt_audio_info_from_caps(&info, caps)) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Cannot read the audio format"),
                      ("caps %" GST_PTR_FORMAT, caps));
    return FALSE;
  }
  std::string err;
  if (!p.engine || !p.engine->set_format(info, &err)) {
    GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("%s", err.c_str()), (nullptr));
    return FALSE;
  }
  return TRUE;
}

static GstFlowReturn gst_harf_sink_render(GstBaseSink *sink, GstBuffer *buf)
{
  GstHarfSink *self = GST_HARF_SINK(sink);
  HarfSinkPrivate &p = priv(self);
  GstMapInfo map;
  if (!gst_buffer_map(buf, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not read an input buffer"), (nullptr));
    return GST_FLOW_ERROR;
  }
  pt::Engine::Flow f = p.engine->push_audio(GST_BUFFER_PTS(buf), map.data, map.size);
  gst_buffer_unmap(buf, &map);
  switch (f) {
    case pt::Engine::Flow::Flushing:
      return GST_FLOW_FLUSHING;
    case pt::Engine::Flow::Error:
      return GST_FLOW_ERROR;
    default:
      return GST_FLOW_OK;
  }
}

static gboolean gst_harf_sink_event(GstBaseSink *sink, GstEvent *event)
{
  GstHarfSink *self = GST_HARF_SINK(sink);
  HarfSinkPrivate &p = priv(self);

  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_SEGMENT: {
      const GstSegment *seg;
      gst_event_parse_segment(event, &seg);
      if (seg->format != GST_FORMAT_TIME) {
        GST_ELEMENT_ERROR(self, STREAM, FORMAT,
                          ("harfsink needs time-stamped audio "
                           "(a TIME segment), got a %s segment",
                           gst_format_get_name(seg->format)),
                          (nullptr));
        gst_event_unref(event);
        return FALSE;
      }
      std::lock_guard<std::mutex> lk(p.lock);
      gst_segment_copy_into(seg, &p.segment);
      break;
    }
    case GST_EVENT_GAP: {
      GstClockTime ts, dur;
      gst_event_parse_gap(event, &ts, &dur);
      if (p.engine)
        p.engine->push_gap(ts, dur);
      break;
    }
    case GST_EVENT_EOS: {
      if (p.engine) {
        p.engine->finish();
        /* The engine bounds this wait: the backend ends or fails within its
         * timeout; unlock() (flush or state change) ends it at once. */
        std::unique_lock<std::mutex> lk(p.lock);
        p.cond.wait(lk, [&p] { return p.finished || p.failed || p.unlocked; });
        GST_DEBUG_OBJECT(self, "EOS wait over: finished %d failed %d unlocked %d", p.finished,
                         p.failed, p.unlocked);
      }
      break;
    }
    case GST_EVENT_FLUSH_STOP:
      if (p.engine)
        p.engine->reset();
      {
        std::lock_guard<std::mutex> lk(p.lock);
        p.finished = false;
        p.failed = false;
      }
      break;
    default:
      break;
  }
  return GST_BASE_SINK_CLASS(parent_class)->event(sink, event);
}

static gboolean gst_harf_sink_unlock(GstBaseSink *sink)
{
  HarfSinkPrivate &p = priv(GST_HARF_SINK(sink));
  {
    std::lock_guard<std::mutex> lk(p.lock);
    p.unlocked = true;
    p.cond.notify_all();
  }
  if (p.engine)
    p.engine->set_flushing(true);
  return TRUE;
}

static gboolean gst_harf_sink_unlock_stop(GstBaseSink *sink)
{
  HarfSinkPrivate &p = priv(GST_HARF_SINK(sink));
  {
    std::lock_guard<std::mutex> lk(p.lock);
    p.unlocked = false;
  }
  if (p.engine)
    p.engine->set_flushing(false);
  return TRUE;
}

static gboolean gst_harf_sink_query(GstBaseSink *sink, GstQuery *query)
{
  if (GST_QUERY_TYPE(query) == GST_QUERY_DRAIN)
    return TRUE;
  return GST_BASE_SINK_CLASS(parent_class)->query(sink, query);
}

static void gst_harf_sink_set_property(GObject *object, guint prop_id, const GValue *value,
                                       GParamSpec *pspec)
{
  GstHarfSink *self = GST_HARF_SINK(object);
  GST_OBJECT_LOCK(self);
  gboolean ok = pt_set_common_property(priv(self).props, prop_id, value);
  GST_OBJECT_UNLOCK(self);
  if (!ok)
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
}

static void gst_harf_sink_get_property(GObject *object, guint prop_id, GValue *value,
                                       GParamSpec *pspec)
{
  GstHarfSink *self = GST_HARF_SINK(object);
  GST_OBJECT_LOCK(self);
  gboolean ok = pt_get_common_property(priv(self).props, prop_id, value);
  GST_OBJECT_UNLOCK(self);
  if (!ok)
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
}

static void gst_harf_sink_finalize(GObject *object)
{
  GstHarfSink *self = GST_HARF_SINK(object);
  delete static_cast<HarfSinkPrivate *>(self->priv);
  self->priv = nullptr;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_harf_sink_class_init(GstHarfSinkClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS(klass);

  gobject_class->set_property = gst_harf_sink_set_property;
  gobject_class->get_property = gst_harf_sink_get_property;
  gobject_class->finalize = gst_harf_sink_finalize;
  pt_install_common_properties(gobject_class, FALSE);

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_set_static_metadata(
      element_class, "Persian speech to text sink", "Sink/Audio/Text",
      "Transcribes Persian speech with the Harf or Nevisa service and posts a \"transcription\" "
      "element message for every result (no text output)",
      "persiantranscribe developers");

  basesink_class->start = GST_DEBUG_FUNCPTR(gst_harf_sink_start);
  basesink_class->stop = GST_DEBUG_FUNCPTR(gst_harf_sink_stop);
  basesink_class->set_caps = GST_DEBUG_FUNCPTR(gst_harf_sink_set_caps);
  basesink_class->render = GST_DEBUG_FUNCPTR(gst_harf_sink_render);
  basesink_class->event = GST_DEBUG_FUNCPTR(gst_harf_sink_event);
  basesink_class->unlock = GST_DEBUG_FUNCPTR(gst_harf_sink_unlock);
  basesink_class->unlock_stop = GST_DEBUG_FUNCPTR(gst_harf_sink_unlock_stop);
  basesink_class->query = GST_DEBUG_FUNCPTR(gst_harf_sink_query);
}

static void gst_harf_sink_init(GstHarfSink *self)
{
  self->priv = new HarfSinkPrivate(self);
  gst_base_sink_set_sync(GST_BASE_SINK(self), FALSE);
}
