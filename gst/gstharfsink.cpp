// SPDX-License-Identifier: LGPL-2.1-or-later
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

#include <condition_variable>
#include <mutex>

#include "common_properties.h"
#include "engine_driver.h"

GST_DEBUG_CATEGORY_STATIC(gst_harf_sink_debug);
#define GST_CAT_DEFAULT gst_harf_sink_debug

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(PT_AUDIO_SINK_CAPS));

namespace {

struct HarfSinkPrivate final : public EngineDriver {
  explicit HarfSinkPrivate(GstHarfSink *s) : EngineDriver(GST_ELEMENT(s)), self(s) {}

  /* EngineListener: I/O thread */
  void on_result(const pt::Result &r) override { post_result(r); }

  void on_failed() override
  {
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

  /* Protected by lock */
  std::mutex lock;
  std::condition_variable cond;
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
  HarfSinkPrivate &p = priv(GST_HARF_SINK(sink));
  {
    std::lock_guard<std::mutex> lk(p.lock);
    p.finished = false;
    p.failed = false;
    p.unlocked = false;
  }
  p.reset_segment();
  return p.start();
}

static gboolean gst_harf_sink_stop(GstBaseSink *sink)
{
  priv(GST_HARF_SINK(sink)).stop();
  return TRUE;
}

static gboolean gst_harf_sink_set_caps(GstBaseSink *sink, GstCaps *caps)
{
  return priv(GST_HARF_SINK(sink)).set_caps(caps);
}

static GstFlowReturn gst_harf_sink_render(GstBaseSink *sink, GstBuffer *buf)
{
  return priv(GST_HARF_SINK(sink)).push_buffer(buf);
}

static gboolean gst_harf_sink_event(GstBaseSink *sink, GstEvent *event)
{
  GstHarfSink *self = GST_HARF_SINK(sink);
  HarfSinkPrivate &p = priv(self);

  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_SEGMENT:
      if (!p.set_segment(event)) {
        gst_event_unref(event);
        return FALSE;
      }
      break;
    case GST_EVENT_GAP:
      if (p.push_gap(event) != GST_FLOW_OK) {
        gst_event_unref(event);
        return FALSE;
      }
      break;
    case GST_EVENT_EOS: {
      if (p.engine()) {
        p.finish();
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
      p.flush_stop();
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
  p.set_flushing(true);
  return TRUE;
}

static gboolean gst_harf_sink_unlock_stop(GstBaseSink *sink)
{
  HarfSinkPrivate &p = priv(GST_HARF_SINK(sink));
  {
    std::lock_guard<std::mutex> lk(p.lock);
    p.unlocked = false;
  }
  p.set_flushing(false);
  return TRUE;
}

static gboolean gst_harf_sink_query(GstBaseSink *sink, GstQuery *query)
{
  if (GST_QUERY_TYPE(query) == GST_QUERY_DRAIN)
    return TRUE;
  return GST_BASE_SINK_CLASS(parent_class)->query(sink, query);
}

static void gst_harf_sink_class_init(GstHarfSinkClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseSinkClass *basesink_class = GST_BASE_SINK_CLASS(klass);

  EngineDriver::install_properties(gobject_class, FALSE);

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_set_static_metadata(
      element_class, "Persian speech to text sink", "Sink/Audio/Text",
      "Transcribes Persian speech with the Harf or Nevisa service and posts a \"transcription\" "
      "element message for every result (no text output)",
      PT_AUTHOR);

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
