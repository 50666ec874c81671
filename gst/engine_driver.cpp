// SPDX-License-Identifier: LGPL-2.1-or-later
#include "engine_driver.h"

#include <string>

#include "common_properties.h"
#include "transcription_message.h"

GST_DEBUG_CATEGORY_EXTERN(pt_engine_debug);
#define GST_CAT_DEFAULT pt_engine_debug

namespace {

/* Raw audio caps; multichannel caps without channel-mask get the default
 * layout instead of being refused. */
gboolean audio_info_from_caps(GstAudioInfo *info, GstCaps *caps)
{
  if (gst_audio_info_from_caps(info, caps))
    return TRUE;
  GstStructure *s = gst_caps_get_structure(caps, 0);
  gint channels = 0;
  if (!gst_structure_get_int(s, "channels", &channels) || channels <= 2 ||
      gst_structure_has_field(s, "channel-mask"))
    return FALSE;
  GstCaps *fixed = gst_caps_copy(caps);
  gst_caps_set_simple(fixed, "channel-mask", GST_TYPE_BITMASK,
                      gst_audio_channel_get_fallback_mask(channels), NULL);
  gboolean ok = gst_audio_info_from_caps(info, fixed);
  gst_caps_unref(fixed);
  return ok;
}

/* Where an element keeps its EngineDriver, for the GObject property
 * functions shared by both elements. */
GQuark driver_quark()
{
  static GQuark q = g_quark_from_static_string("persiantranscribe-engine-driver");
  return q;
}

const gchar *factory_name(GstElement *element)
{
  GstElementFactory *f = gst_element_get_factory(element);
  return f ? gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(f)) : G_OBJECT_TYPE_NAME(element);
}

}  // namespace

EngineDriver::EngineDriver(GstElement *element) : element_(element)
{
  gst_segment_init(&segment_, GST_FORMAT_TIME);
  /* GObject's own finalize deletes it, after the element's. */
  g_object_set_qdata_full(G_OBJECT(element), driver_quark(), this,
                          [](gpointer d) { delete static_cast<EngineDriver *>(d); });
}

EngineDriver::~EngineDriver() = default;

void EngineDriver::install_properties(GObjectClass *klass, gboolean with_latency)
{
  klass->set_property = [](GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec) {
    auto *d = static_cast<EngineDriver *>(g_object_get_qdata(object, driver_quark()));
    GST_OBJECT_LOCK(object);
    bool ok =
        pt_set_common_property(d->props, prop_id, value) || d->set_own_property(prop_id, value);
    GST_OBJECT_UNLOCK(object);
    if (!ok)
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  };
  klass->get_property = [](GObject *object, guint prop_id, GValue *value, GParamSpec *pspec) {
    auto *d = static_cast<EngineDriver *>(g_object_get_qdata(object, driver_quark()));
    if (d->get_unlocked_property(prop_id, value))
      return;
    GST_OBJECT_LOCK(object);
    bool ok =
        pt_get_common_property(d->props, prop_id, value) || d->get_own_property(prop_id, value);
    GST_OBJECT_UNLOCK(object);
    if (!ok)
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  };
  pt_install_common_properties(klass, with_latency);
}

bool EngineDriver::start()
{
  GST_OBJECT_LOCK(element_);
  pt::Settings s = props;
  GST_OBJECT_UNLOCK(element_);
  pt::apply_environment(s);
  missing_credentials_.reset();
  if (auto problem = pt::validate_settings(s)) {
    std::optional<pt::Error> other = problem;
    /* By content: the same string constant may have an address per
     * library (AddressSanitizer builds do not merge them). */
    if (g_strcmp0(problem->reason, pt::kReasonMissingCredentials) == 0) {
      /* The rest is checked now all the same, with stand-in credentials. */
      pt::Settings stand_in = s;
      stand_in.token = stand_in.nevisa_auth_token = stand_in.nevisa_api_key = "-";
      other = pt::validate_settings(stand_in);
    }
    if (other) {
      pt_post_engine_error(element_, *other, FALSE);
      return false;
    }
    /* No credentials: fine until there is audio to send. */
    GST_INFO_OBJECT(element_, "no credentials yet: %s", problem->message.c_str());
    missing_credentials_ = problem;
  }
  active_ = s;
  live_checked_ = false;
  live_ = false;
  engine_ = std::make_unique<pt::Engine>(s, this, G_OBJECT(element_));
  return true;
}

void EngineDriver::stop()
{
  engine_.reset();
}

bool EngineDriver::set_caps(GstCaps *caps)
{
  GstAudioInfo info;
  if (!audio_info_from_caps(&info, caps)) {
    GST_ELEMENT_ERROR(element_, STREAM, FORMAT, ("Cannot read the audio format"),
                      ("caps %" GST_PTR_FORMAT, caps));
    return false;
  }
  std::string err = "not started";
  if (!engine_ || !engine_->set_format(info, &err)) {
    GST_ELEMENT_ERROR(element_, STREAM, FORMAT, ("%s", err.c_str()), (nullptr));
    return false;
  }
  return true;
}

bool EngineDriver::set_segment(GstEvent *event)
{
  const GstSegment *segment;
  gst_event_parse_segment(event, &segment);
  if (segment->format != GST_FORMAT_TIME) {
    GST_ELEMENT_ERROR(element_, STREAM, FORMAT,
                      ("%s needs time-stamped audio (a TIME segment), got a %s segment",
                       factory_name(element_), gst_format_get_name(segment->format)),
                      (nullptr));
    return false;
  }
  std::lock_guard<std::mutex> lk(segment_lock_);
  gst_segment_copy_into(segment, &segment_);
  return true;
}

void EngineDriver::reset_segment()
{
  std::lock_guard<std::mutex> lk(segment_lock_);
  gst_segment_init(&segment_, GST_FORMAT_TIME);
}

GstSegment EngineDriver::segment() const
{
  std::lock_guard<std::mutex> lk(segment_lock_);
  return segment_;
}

void EngineDriver::post_result(const pt::Result &r)
{
  GstSegment seg = segment();
  gst_element_post_message(element_, pt_transcription_message_new(element_, r, &seg));
}

bool EngineDriver::check_live()
{
  if (!live_checked_ && engine_) {
    live_checked_ = true;
    GstQuery *q = gst_query_new_latency();
    gboolean live = FALSE;
    GstPad *sink = gst_element_get_static_pad(element_, "sink");
    if (sink && gst_pad_peer_query(sink, q))
      gst_query_parse_latency(q, &live, nullptr, nullptr);
    if (sink)
      gst_object_unref(sink);
    gst_query_unref(q);
    live_ = live;
    engine_->set_live(live);
  }
  return live_;
}

GstFlowReturn EngineDriver::push_buffer(GstBuffer *buffer)
{
  if (!engine_)
    return GST_FLOW_FLUSHING;
  if (missing_credentials_) {
    pt_post_engine_error(element_, *missing_credentials_, FALSE);
    return GST_FLOW_ERROR;
  }
  check_live();
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    GST_ELEMENT_ERROR(element_, STREAM, FAILED, ("Could not read an input buffer"), (nullptr));
    return GST_FLOW_ERROR;
  }
  pt::Engine::Flow f = engine_->push_audio(GST_BUFFER_PTS(buffer), map.data, map.size);
  gst_buffer_unmap(buffer, &map);
  return flow_return(f);
}

GstFlowReturn EngineDriver::push_gap(GstEvent *gap)
{
  if (!engine_)
    return GST_FLOW_FLUSHING;
  if (missing_credentials_) {
    pt_post_engine_error(element_, *missing_credentials_, FALSE);
    return GST_FLOW_ERROR;
  }
  GstClockTime ts, duration;
  gst_event_parse_gap(gap, &ts, &duration);
  return flow_return(engine_->push_gap(ts, duration));
}

void EngineDriver::finish()
{
  if (engine_)
    engine_->finish();
}

void EngineDriver::set_flushing(bool flushing)
{
  if (engine_)
    engine_->set_flushing(flushing);
}

void EngineDriver::flush_stop()
{
  if (!engine_)
    return;
  engine_->reset();
  engine_->set_flushing(false);
}

GstFlowReturn EngineDriver::flow_return(pt::Engine::Flow f)
{
  switch (f) {
    case pt::Engine::Flow::Flushing:
      return GST_FLOW_FLUSHING;
    case pt::Engine::Flow::Error:
      return GST_FLOW_ERROR;
    case pt::Engine::Flow::Ok:
      break;
  }
  return GST_FLOW_OK;
}

void EngineDriver::on_progress(const pt::Progress &p)
{
  GstStructure *s = gst_structure_new(
      "transcription-progress", "backend", G_TYPE_STRING, p.backend.c_str(), "task-id",
      G_TYPE_STRING, p.task_id.c_str(), "state", G_TYPE_STRING, p.state.c_str(), "percent",
      G_TYPE_DOUBLE, p.percent, "bytes-sent", G_TYPE_UINT64, (guint64)p.bytes_sent, "bytes-total",
      G_TYPE_UINT64, (guint64)p.bytes_total, NULL);
  gst_element_post_message(element_, gst_message_new_element(GST_OBJECT(element_), s));
}

void EngineDriver::on_reconnect(const pt::ReconnectInfo &info)
{
  GstStructure *s = gst_structure_new("transcription-reconnect", "attempt", G_TYPE_UINT,
                                      info.attempt, "reason", G_TYPE_STRING, info.reason.c_str(),
                                      "replayed-duration", G_TYPE_UINT64, (guint64)info.replayed_ns,
                                      "delay", G_TYPE_UINT64, (guint64)info.delay_ns, NULL);
  gst_element_post_message(element_, gst_message_new_element(GST_OBJECT(element_), s));
}

void EngineDriver::on_warning(const pt::Error &e)
{
  pt_post_engine_error(element_, e, TRUE);
}

void EngineDriver::on_error(const pt::Error &e)
{
  pt_post_engine_error(element_, e, FALSE);
  on_failed();
}

void pt_post_engine_error(GstElement *element, const pt::Error &e, gboolean warning)
{
  GQuark domain = GST_RESOURCE_ERROR;
  gint code = GST_RESOURCE_ERROR_FAILED;
  switch (e.kind) {
    case pt::ErrorKind::Settings:
      code = GST_RESOURCE_ERROR_SETTINGS;
      break;
    case pt::ErrorKind::NotAuthorized:
      code = GST_RESOURCE_ERROR_NOT_AUTHORIZED;
      break;
    case pt::ErrorKind::OpenReadWrite:
      code = GST_RESOURCE_ERROR_OPEN_READ_WRITE;
      break;
    case pt::ErrorKind::Read:
      code = GST_RESOURCE_ERROR_READ;
      break;
    case pt::ErrorKind::Write:
      code = GST_RESOURCE_ERROR_WRITE;
      break;
    case pt::ErrorKind::Format:
      domain = GST_STREAM_ERROR;
      code = GST_STREAM_ERROR_FORMAT;
      break;
    case pt::ErrorKind::Failed:
      break;
  }
  /* The reason goes in the message's details: applications act on it
   * without reading the text. */
  GstStructure *details = nullptr;
  if (e.reason)
    details = gst_structure_new(pt::kErrorDetailsName, pt::kErrorReasonField, G_TYPE_STRING,
                                e.reason, nullptr);
  /* GStreamer drops text that is not valid UTF-8 (with a GLib warning): a
   * service's bytes quoted in a message are made valid first. */
  gst_element_message_full_with_details(
      element, warning ? GST_MESSAGE_WARNING : GST_MESSAGE_ERROR, domain, code,
      g_utf8_make_valid(e.message.c_str(), -1),
      e.debug.empty() ? nullptr : g_utf8_make_valid(e.debug.c_str(), -1), __FILE__, GST_FUNCTION,
      __LINE__, details);
}
