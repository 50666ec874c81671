// SPDX-License-Identifier: LGPL-2.1-or-later
/**
 * SECTION:element-persiantranscribe
 * @title: persiantranscribe
 *
 * Transcribes Persian speech with the Harf or Nevisa service.  Raw audio of any common
 * format goes in (it is converted and resampled inside); text/x-raw comes
 * out, one buffer per final segment, with PTS and duration on the input
 * timeline; and every result is also posted as an element message named
 * "transcription" (see transcription_message.h for its fields).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=speech.wav ! wavparse ! persiantranscribe ! fakesink dump=true
 * ]|
 */
#include "gstpersiantranscribe.h"

#include <gst/audio/audio.h>

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include "cue_shaper.h"
#include "common_properties.h"
#include "engine_driver.h"

GST_DEBUG_CATEGORY_STATIC(gst_persian_transcribe_debug);
#define GST_CAT_DEFAULT gst_persian_transcribe_debug

#define SRC_CAPS "text/x-raw, format = (string) { pango-markup, utf8 }"

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(PT_AUDIO_SINK_CAPS));
static GstStaticPadTemplate src_template =
    GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(SRC_CAPS));

enum {
  PROP_MAX_LINE_CHARS = PT_PROP_LAST_COMMON,
  PROP_MAX_LINES,
  PROP_MAX_CUE_DURATION,
  PROP_MIN_CUE_DURATION,
  PROP_MAX_OBSERVED_DELAY,
  PROP_RTL_MARKS,
  PROP_LANGUAGE_CODE,
  PROP_LATENESS,
  PROP_MAX_CHARS_PER_SECOND,
};

static GParamSpec *max_observed_delay_pspec = nullptr;

namespace {

/* Results waiting for the src task; when full, the backend stops sending
 * audio (and so reading replies) until the task catches up. */
constexpr size_t kMaxQueuedResults = 64;
/* The cue properties' defaults: pt::CueSettings's initialisers. */
const pt::CueSettings kCueDefaults;
/* GAP events go out once this much text time is owed. */
constexpr guint64 kMinGap = 100 * GST_MSECOND;

struct PersianTranscribePrivate final : public EngineDriver {
  explicit PersianTranscribePrivate(GstPersianTranscribe *s) : EngineDriver(GST_ELEMENT(s)), self(s)
  {
  }

  void reset_stream_locked()
  {
    results.clear();
    input_eos = false;
    engine_finished = false;
    eos_sent = false;
    src_flow = GST_FLOW_OK;
    audio_position = GST_CLOCK_TIME_NONE;
    out_position = GST_CLOCK_TIME_NONE;
    last_partial_id = -1;
    last_pts = GST_CLOCK_TIME_NONE;
    held.reset();
    /* max-observed-delay is not reset: transcriberbin reads it across state
     * changes to size its latency. */
    warned_delay = 0;
  }

  /* Where GAP events may advance the text stream to on live input: the audio
   * received, less the latency; never past a cue still held back. */
  guint64 gap_target_locked() const
  {
    guint64 latency = latency_ns;
    if (!live || !GST_CLOCK_TIME_IS_VALID(audio_position) || audio_position <= latency)
      return GST_CLOCK_TIME_NONE;
    return audio_position - latency;
  }

  bool gap_due_locked() const
  {
    guint64 target = gap_target_locked();
    if (!GST_CLOCK_TIME_IS_VALID(target) || !GST_CLOCK_TIME_IS_VALID(out_position))
      return false;
    if (held)
      target = MIN(target, held->start);
    return target > out_position + kMinGap;
  }

  /* On live input a held cue waits for the next one only until shortly
   * before the text stream must reach it: min(1 s, latency / 2) early. */
  bool held_due_locked() const
  {
    if (!held || !live || !GST_CLOCK_TIME_IS_VALID(audio_position))
      return false;
    guint64 margin = MIN(GST_SECOND, latency_ns / 2);
    return audio_position + margin >= held->start + latency_ns;
  }

  bool has_work_locked() const
  {
    if (!have_segment)
      return false;
    return stream_start_pending || segment_pending || !results.empty() || gap_due_locked() ||
           held_due_locked() || (input_eos && engine_finished && !eos_sent);
  }

  /* EngineListener: I/O thread */
  void on_result(const pt::Result &r) override
  {
    guint64 delay = 0;
    bool late = false;
    bool grew = false;
    {
      std::lock_guard<std::mutex> lk(lock);
      /* On live input the audio received so far is "now": the delay is how
       * far past the start of its audio the result came. */
      if (live && GST_CLOCK_TIME_IS_VALID(audio_position) && audio_position > r.pts) {
        delay = audio_position - r.pts;
        grew = delay / GST_MSECOND > max_observed_delay / GST_MSECOND;
        max_observed_delay = MAX(max_observed_delay, delay);
        /* One warning per new worst delay, not one per late result */
        late = delay > latency_ns && delay > warned_delay;
        if (late)
          warned_delay = delay + 500 * GST_MSECOND;
      }
    }
    post_result(r);
    if (grew)
      g_object_notify_by_pspec(G_OBJECT(self), max_observed_delay_pspec);
    if (late) {
      GST_ELEMENT_WARNING(
          self, RESOURCE, READ,
          ("A result came %" G_GUINT64_FORMAT " ms after its audio, later than the latency "
           "of %" G_GUINT64_FORMAT " ms allows; raise the \"latency\" property",
           delay / GST_MSECOND, latency_ns / GST_MSECOND),
          ("segment at %" GST_TIME_FORMAT, GST_TIME_ARGS(r.pts)));
    }
    if (r.late_revision)
      GST_INFO_OBJECT(self, "segment %" G_GINT64_FORMAT " revised after it was final",
                      r.segment.id);
    std::lock_guard<std::mutex> lk(lock);
    results.push_back(r);
    cond.notify_all();
  }

  void on_failed() override
  {
    std::lock_guard<std::mutex> lk(lock);
    cond.notify_all();
  }

  void on_finished() override
  {
    std::lock_guard<std::mutex> lk(lock);
    engine_finished = true;
    cond.notify_all();
  }

  bool set_own_property(guint prop_id, const GValue *value) override
  {
    switch (prop_id) {
      case PROP_MAX_LINE_CHARS:
        cue_props.max_line_chars = g_value_get_uint(value);
        return true;
      case PROP_MAX_LINES:
        cue_props.max_lines = g_value_get_uint(value);
        return true;
      case PROP_MAX_CUE_DURATION:
        cue_props.max_duration = (guint64)g_value_get_uint(value) * GST_MSECOND;
        return true;
      case PROP_MIN_CUE_DURATION:
        cue_props.min_duration = (guint64)g_value_get_uint(value) * GST_MSECOND;
        return true;
      case PROP_RTL_MARKS:
        rtl_marks_prop = g_value_get_boolean(value);
        return true;
      case PROP_LATENESS:
        lateness_prop = g_value_get_uint(value);
        return true;
      case PROP_MAX_CHARS_PER_SECOND:
        cue_props.max_chars_per_second = g_value_get_uint(value);
        return true;
      case PROP_LANGUAGE_CODE: {
        const gchar *code = g_value_get_string(value);
        language_code_prop = code && *code ? code : "fa-IR";
        if (!g_str_has_prefix(language_code_prop.c_str(), "fa"))
          GST_WARNING_OBJECT(self,
                             "language-code \"%s\": the services transcribe Persian (fa) "
                             "only; the text is tagged with it all the same",
                             language_code_prop.c_str());
        return true;
      }
    }
    return false;
  }

  bool get_own_property(guint prop_id, GValue *value) override
  {
    switch (prop_id) {
      case PROP_MAX_LINE_CHARS:
        g_value_set_uint(value, cue_props.max_line_chars);
        return true;
      case PROP_MAX_LINES:
        g_value_set_uint(value, cue_props.max_lines);
        return true;
      case PROP_MAX_CUE_DURATION:
        g_value_set_uint(value, (guint)(cue_props.max_duration / GST_MSECOND));
        return true;
      case PROP_MIN_CUE_DURATION:
        g_value_set_uint(value, (guint)(cue_props.min_duration / GST_MSECOND));
        return true;
      case PROP_RTL_MARKS:
        g_value_set_boolean(value, rtl_marks_prop);
        return true;
      case PROP_LANGUAGE_CODE:
        g_value_set_string(value, language_code_prop.c_str());
        return true;
      case PROP_LATENESS:
        g_value_set_uint(value, lateness_prop);
        return true;
      case PROP_MAX_CHARS_PER_SECOND:
        g_value_set_uint(value, cue_props.max_chars_per_second);
        return true;
    }
    return false;
  }

  bool get_unlocked_property(guint prop_id, GValue *value) override
  {
    if (prop_id != PROP_MAX_OBSERVED_DELAY)
      return false;
    std::lock_guard<std::mutex> lk(lock);
    g_value_set_uint(value, (guint)MIN(max_observed_delay / GST_MSECOND, G_MAXUINT));
    return true;
  }

  bool can_accept_results() override
  {
    std::lock_guard<std::mutex> lk(lock);
    return results.size() < kMaxQueuedResults;
  }

  GstPersianTranscribe *self;

  /* Properties beyond the common ones: protected by the object lock */
  pt::CueSettings cue_props;
  bool rtl_marks_prop = true;
  std::string language_code_prop = "fa-IR";
  guint lateness_prop = G_MAXUINT; /* ms; G_MAXUINT: never drop */

  /* The engine (EngineDriver) is made in READY->PAUSED before the pads
   * activate and dropped in PAUSED->READY after they are deactivated (so no
   * thread uses it then). */
  pt::CueSettings cues;                      /* snapshot of the cue properties */
  bool rtl_marks = true;                     /* snapshot of rtl-marks */
  std::string language_code;                 /* snapshot of language-code */
  guint64 lateness_ns = GST_CLOCK_TIME_NONE; /* snapshot of lateness; NONE: never drop */

  /* Src task only (and reset while it is stopped) */
  bool markup = true;
  gint64 last_partial_id = -1;
  guint64 last_pts = GST_CLOCK_TIME_NONE;
  /* A final cue lengthened to min-cue-duration, held back until the next
   * cue is known so that its end can stop where the next one starts (or
   * until EOS or the live deadline).  Cues at their natural length go out
   * at once: segments do not overlap, so nothing can cut them short. */
  std::optional<pt::Cue> held;

  /* Protected by lock: shared by the sink streaming thread, the I/O thread
   * (results) and the src task */
  std::mutex lock;
  std::condition_variable cond;
  std::deque<pt::Result> results;
  bool flushing = true;
  bool input_eos = false;
  bool engine_finished = false;
  bool eos_sent = false;
  bool have_segment = false;
  bool segment_pending = false;
  bool stream_start_pending = false;
  bool live = false;
  guint group_id = 0;
  bool have_group_id = false;
  guint64 audio_position = GST_CLOCK_TIME_NONE; /* end of audio received */
  guint64 out_position = GST_CLOCK_TIME_NONE;   /* end of text or gap pushed */
  guint64 max_observed_delay = 0;
  guint64 warned_delay = 0;
  GstFlowReturn src_flow = GST_FLOW_OK;
  guint64 latency_ns = 0;        /* the "latency" streaming runs with ... */
  bool latency_ns_valid = false; /* ... between READY->PAUSED and PAUSED->READY */
};

inline PersianTranscribePrivate &priv(GstPersianTranscribe *self)
{
  return *static_cast<PersianTranscribePrivate *>(self->priv);
}

}  // namespace

#define gst_persian_transcribe_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE(GstPersianTranscribe, gst_persian_transcribe, GST_TYPE_ELEMENT,
                        GST_DEBUG_CATEGORY_INIT(gst_persian_transcribe_debug, "persiantranscribe",
                                                0, "Persian speech-to-text element"));
GST_ELEMENT_REGISTER_DEFINE(persiantranscribe, "persiantranscribe", GST_RANK_NONE,
                            GST_TYPE_PERSIAN_TRANSCRIBE);

static void gst_persian_transcribe_src_loop(GstPersianTranscribe *self);

static gboolean negotiate_src(GstPersianTranscribe *self)
{
  PersianTranscribePrivate &p = priv(self);
  GstCaps *tmpl = gst_pad_get_pad_template_caps(self->srcpad);
  GstCaps *caps = gst_pad_peer_query_caps(self->srcpad, tmpl);
  gst_caps_unref(tmpl);
  if (gst_caps_is_empty(caps)) {
    gst_caps_unref(caps);
    GST_ELEMENT_ERROR(
        self, CORE, NEGOTIATION, (nullptr),
        ("downstream accepts neither text/x-raw,format=pango-markup nor format=utf8"));
    return FALSE;
  }
  caps = gst_caps_fixate(caps);
  const gchar *fmt = gst_structure_get_string(gst_caps_get_structure(caps, 0), "format");
  p.markup = g_strcmp0(fmt, "utf8") != 0;
  GST_DEBUG_OBJECT(self, "output caps %" GST_PTR_FORMAT, caps);
  gboolean ok = gst_pad_set_caps(self->srcpad, caps);
  gst_caps_unref(caps);
  return ok;
}

/* Records a push result; true when the task should keep going. */
static gboolean handle_push_result(GstPersianTranscribe *self, GstFlowReturn ret)
{
  PersianTranscribePrivate &p = priv(self);
  if (ret == GST_FLOW_OK)
    return TRUE;
  {
    std::lock_guard<std::mutex> lk(p.lock);
    p.src_flow = ret;
  }
  GST_DEBUG_OBJECT(self, "pausing task: %s", gst_flow_get_name(ret));
  if (ret == GST_FLOW_NOT_LINKED || ret < GST_FLOW_EOS) {
    GST_ELEMENT_FLOW_ERROR(self, ret);
    gst_pad_push_event(self->srcpad, gst_event_new_eos());
  }
  gst_pad_pause_task(self->srcpad);
  return FALSE;
}

static gboolean push_gap(GstPersianTranscribe *self, guint64 from, guint64 to)
{
  if (!GST_CLOCK_TIME_IS_VALID(from) || to <= from)
    return TRUE;
  GST_LOG_OBJECT(self, "gap %" GST_TIME_FORMAT " - %" GST_TIME_FORMAT, GST_TIME_ARGS(from),
                 GST_TIME_ARGS(to));
  if (!gst_pad_push_event(self->srcpad, gst_event_new_gap(from, to - from)))
    GST_DEBUG_OBJECT(self, "gap event not handled downstream");
  return TRUE;
}

/* Pushes one cue as a text buffer (src task).  partial_id >= 0 marks a
 * partial revision; a later revision of the same segment replaces it where
 * it stood.  Anything that would start before text already pushed (or a GAP
 * already sent) is moved forward with its duration kept: late, never
 * dropped.  False when the task must stop. */
static gboolean push_cue(GstPersianTranscribe *self, const pt::Cue &cue, gint64 partial_id)
{
  PersianTranscribePrivate &p = priv(self);
  guint64 pts = cue.start;
  guint64 duration = cue.end > cue.start ? cue.end - cue.start : 0;
  guint64 gap_from;
  bool markup;
  {
    std::lock_guard<std::mutex> lk(p.lock);
    gap_from = p.out_position;
    if (p.last_partial_id >= 0 && GST_CLOCK_TIME_IS_VALID(p.last_pts)) {
      /* This replaces the partial text pushed last. */
      pts = MAX(pts, p.last_pts);
      gap_from = GST_CLOCK_TIME_NONE;
    } else if (GST_CLOCK_TIME_IS_VALID(p.out_position) && pts < p.out_position &&
               GST_CLOCK_TIME_IS_VALID(p.lateness_ns) && p.out_position - pts > p.lateness_ns) {
      /* Later than "lateness" allows: the bus message went out, the text
       * does not. */
      GST_INFO_OBJECT(self,
                      "dropping the text for %" GST_TIME_FORMAT ": %" G_GUINT64_FORMAT
                      " ms behind the text stream, lateness %" G_GUINT64_FORMAT " ms",
                      GST_TIME_ARGS(pts), (p.out_position - pts) / GST_MSECOND,
                      p.lateness_ns / GST_MSECOND);
      return TRUE;
    } else if (GST_CLOCK_TIME_IS_VALID(p.out_position) && pts < p.out_position) {
      GST_WARNING_OBJECT(self,
                         "text for %" GST_TIME_FORMAT
                         " came after the text stream "
                         "had passed it; shown from %" GST_TIME_FORMAT " (raise \"latency\")",
                         GST_TIME_ARGS(pts), GST_TIME_ARGS(p.out_position));
      pts = p.out_position;
    }
    p.last_partial_id = partial_id;
    p.last_pts = pts;
    if (!GST_CLOCK_TIME_IS_VALID(p.out_position) || pts + duration > p.out_position)
      p.out_position = pts + duration;
    markup = p.markup;
  }
  push_gap(self, gap_from, pts);
  std::string text = cue.text(markup);
  if (!markup && p.rtl_marks && !text.empty()) {
    /* Each line between two RLMs, as the command writes SRT and WebVTT:
     * srtenc and webvttenc carry no paragraph direction.  Pango finds the
     * direction itself: never in pango-markup. */
    std::string marked = "\u200F";
    for (char c : text)
      marked += c == '\n' ? std::string("\u200F\n\u200F") : std::string(1, c);
    text = marked + "\u200F";
  }
  if (text.empty()) {
    push_gap(self, pts, pts + duration);
    return TRUE;
  }
  GstBuffer *buf = gst_buffer_new_memdup(text.data(), text.size());
  GST_BUFFER_PTS(buf) = pts;
  GST_BUFFER_DURATION(buf) = duration;
  GST_DEBUG_OBJECT(self, "pushing %s cue %" GST_TIME_FORMAT " + %" GST_TIME_FORMAT,
                   partial_id >= 0 ? "partial" : "final", GST_TIME_ARGS(pts),
                   GST_TIME_ARGS(duration));
  return handle_push_result(self, gst_pad_push(self->srcpad, buf));
}

/* Pushes the held cue, ending it where the next cue starts (limit) when
 * that comes first. */
static gboolean push_held(GstPersianTranscribe *self, guint64 limit)
{
  PersianTranscribePrivate &p = priv(self);
  pt::Cue cue = std::move(*p.held);
  p.held.reset();
  if (GST_CLOCK_TIME_IS_VALID(limit) && limit > cue.start)
    cue.end = pt::end_before(cue.start, cue.end, limit);
  return push_cue(self, cue, -1);
}

static void gst_persian_transcribe_src_loop(GstPersianTranscribe *self)
{
  PersianTranscribePrivate &p = priv(self);
  std::unique_lock<std::mutex> lk(p.lock);
  p.cond.wait(lk, [&p] { return p.flushing || p.has_work_locked(); });
  if (p.flushing) {
    lk.unlock();
    gst_pad_pause_task(self->srcpad);
    return;
  }

  /* 1. stream-start, caps and segment, before anything else */
  if (p.stream_start_pending || p.segment_pending) {
    bool send_start = p.stream_start_pending;
    p.stream_start_pending = false;
    p.segment_pending = false;
    GstSegment seg = p.segment();
    guint group_id = p.group_id;
    bool have_group = p.have_group_id;
    lk.unlock();
    if (send_start) {
      gchar *id = gst_pad_create_stream_id(self->srcpad, GST_ELEMENT(self), "text");
      GstEvent *ev = gst_event_new_stream_start(id);
      g_free(id);
      if (have_group)
        gst_event_set_group_id(ev, group_id);
      gst_pad_push_event(self->srcpad, ev);
    }
    if (!gst_pad_has_current_caps(self->srcpad) || gst_pad_check_reconfigure(self->srcpad)) {
      if (!negotiate_src(self)) {
        handle_push_result(self, GST_FLOW_NOT_NEGOTIATED);
        return;
      }
    }
    /* The language of the text, as an ISO 639 code ("fa" of "fa-IR"),
     * after the segment (the order of sticky events). */
    std::string lang = p.language_code.substr(0, p.language_code.find_first_of("-_"));
    for (char &c : lang)
      c = g_ascii_tolower(c);
    GstTagList *tags = gst_tag_list_new(GST_TAG_LANGUAGE_CODE, lang.c_str(), NULL);
    gst_tag_list_set_scope(tags, GST_TAG_SCOPE_STREAM);
    gst_pad_push_event(self->srcpad, gst_event_new_segment(&seg));
    gst_pad_push_event(self->srcpad, gst_event_new_tag(tags)); /* sticky order: after it */
    return;
  }

  /* 2. results, in order, shaped into cues */
  if (!p.results.empty()) {
    bool was_full = p.results.size() >= kMaxQueuedResults;
    pt::Result r = std::move(p.results.front());
    p.results.pop_front();
    pt::CueSettings cs = p.cues;
    lk.unlock();

    if (was_full && p.engine())
      p.engine()->resume_output();
    if (gst_pad_check_reconfigure(self->srcpad) && !negotiate_src(self)) {
      handle_push_result(self, GST_FLOW_NOT_NEGOTIATED);
      return;
    }
    std::vector<pt::Cue> cues = pt::shape_cues(r.segment, r.pts, r.pts + r.duration, cs);
    if (!r.segment.final) {
      /* A partial revision: show where the speech is now (its last cue);
       * the next revision of the same segment replaces it. */
      if (cues.empty())
        return;
      if (p.held && !push_held(self, cues.back().start))
        return;
      push_cue(self, cues.back(), r.segment.id);
      return;
    }
    for (pt::Cue &c : cues) {
      if (p.held && !push_held(self, c.start))
        return;
      if (c.extended)
        p.held = std::move(c);
      else if (!push_cue(self, c, -1))
        return;
    }
    if (cues.empty() && p.last_partial_id == r.segment.id)
      p.last_partial_id = -1;
    return;
  }

  /* 3. keep a live text stream moving */
  if (p.held_due_locked()) {
    /* The deadline is near the held cue: it goes out with the end it has,
     * early enough for textoverlay to show it on time. */
    lk.unlock();
    push_held(self, GST_CLOCK_TIME_NONE);
    return;
  }
  if (p.gap_due_locked()) {
    guint64 from = p.out_position;
    guint64 to = p.gap_target_locked();
    if (p.held)
      to = MIN(to, p.held->start);
    p.out_position = to;
    lk.unlock();
    push_gap(self, from, to);
    return;
  }

  /* 4. everything delivered after the input ended */
  if (p.input_eos && p.engine_finished && !p.eos_sent) {
    if (p.held) {
      /* The last cue, lengthened for reading, ends with the audio at the
       * latest: a subtitle file must not show text after the media ends. */
      if (GST_CLOCK_TIME_IS_VALID(p.audio_position) && p.audio_position > p.held->start)
        p.held->end = MIN(p.held->end, p.audio_position);
      lk.unlock();
      push_held(self, GST_CLOCK_TIME_NONE);
      return;
    }
    p.eos_sent = true;
    lk.unlock();
    GST_DEBUG_OBJECT(self, "all results pushed, forwarding EOS");
    gst_pad_push_event(self->srcpad, gst_event_new_eos());
    return;
  }
}

static gboolean gst_persian_transcribe_src_activate_mode(GstPad *pad, GstObject *parent,
                                                         GstPadMode mode, gboolean active)
{
  GstPersianTranscribe *self = GST_PERSIAN_TRANSCRIBE(parent);
  PersianTranscribePrivate &p = priv(self);
  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  if (active) {
    {
      std::lock_guard<std::mutex> lk(p.lock);
      p.flushing = false;
    }
    return gst_pad_start_task(pad, (GstTaskFunction)gst_persian_transcribe_src_loop, self, nullptr);
  }
  {
    std::lock_guard<std::mutex> lk(p.lock);
    p.flushing = true;
    p.cond.notify_all();
  }
  return gst_pad_stop_task(pad);
}

static gboolean gst_persian_transcribe_sink_event(GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstPersianTranscribe *self = GST_PERSIAN_TRANSCRIBE(parent);
  PersianTranscribePrivate &p = priv(self);

  GST_LOG_OBJECT(self, "sink event %" GST_PTR_FORMAT, event);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_STREAM_START: {
      guint group_id;
      std::lock_guard<std::mutex> lk(p.lock);
      p.have_group_id = gst_event_parse_group_id(event, &group_id);
      p.group_id = group_id;
      p.stream_start_pending = true;
      gst_event_unref(event);
      return TRUE;
    }
    case GST_EVENT_CAPS: {
      GstCaps *caps;
      gst_event_parse_caps(event, &caps);
      gboolean ok = p.set_caps(caps);
      gst_event_unref(event);
      return ok;
    }
    case GST_EVENT_SEGMENT: {
      gboolean ok = p.set_segment(event);
      gst_event_unref(event);
      if (!ok)
        return FALSE;
      std::lock_guard<std::mutex> lk(p.lock);
      p.have_segment = true;
      p.segment_pending = true;
      p.cond.notify_all();
      return TRUE;
    }
    case GST_EVENT_GAP: {
      GstFlowReturn f = p.push_gap(event);
      gst_event_unref(event);
      if (!p.engine())
        return FALSE;
      std::lock_guard<std::mutex> lk(p.lock);
      guint64 pos = p.engine()->input_position();
      if (GST_CLOCK_TIME_IS_VALID(pos))
        p.audio_position = pos;
      p.cond.notify_all();
      return f == GST_FLOW_OK;
    }
    case GST_EVENT_EOS: {
      gst_event_unref(event);
      p.finish();
      std::lock_guard<std::mutex> lk(p.lock);
      p.input_eos = true;
      if (!p.have_segment) {
        p.reset_segment();
        p.have_segment = true;
        p.segment_pending = true;
      }
      if (!p.engine())
        p.engine_finished = true;
      p.cond.notify_all();
      return TRUE;
    }
    case GST_EVENT_FLUSH_START: {
      {
        std::lock_guard<std::mutex> lk(p.lock);
        p.flushing = true;
        p.cond.notify_all();
      }
      p.set_flushing(true);
      gboolean ret = gst_pad_push_event(self->srcpad, event);
      gst_pad_pause_task(self->srcpad);
      return ret;
    }
    case GST_EVENT_FLUSH_STOP: {
      p.flush_stop();
      {
        std::lock_guard<std::mutex> lk(p.lock);
        p.reset_stream_locked();
        p.flushing = false;
      }
      gboolean ret = gst_pad_push_event(self->srcpad, event);
      gst_pad_start_task(self->srcpad, (GstTaskFunction)gst_persian_transcribe_src_loop, self,
                         nullptr);
      return ret;
    }
    case GST_EVENT_TAG:
      /* Tags describe the audio, not the text. */
      gst_event_unref(event);
      return TRUE;
    default:
      return gst_pad_event_default(pad, parent, event);
  }
}

static gboolean gst_persian_transcribe_sink_query(GstPad *pad, GstObject *parent, GstQuery *query)
{
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_ALLOCATION:
      return FALSE;
    case GST_QUERY_DRAIN:
      return TRUE;
    default:
      return gst_pad_query_default(pad, parent, query);
  }
}

static gboolean gst_persian_transcribe_src_query(GstPad *pad, GstObject *parent, GstQuery *query)
{
  GstPersianTranscribe *self = GST_PERSIAN_TRANSCRIBE(parent);
  PersianTranscribePrivate &p = priv(self);

  if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
    gboolean live = FALSE;
    GstClockTime min = 0, max = GST_CLOCK_TIME_NONE;
    /* Upstream may not answer yet (a live source in PAUSED does not):
     * what this element adds is answered all the same, because bins such
     * as transcriberbin ask it in PAUSED to size their own latency. */
    if (gst_pad_peer_query(self->sinkpad, query))
      gst_query_parse_latency(query, &live, &min, &max);
    else
      GST_DEBUG_OBJECT(self, "upstream did not answer the latency query: our own latency only");
    GST_OBJECT_LOCK(self);
    guint64 ours = p.props.latency_ns;
    GST_OBJECT_UNLOCK(self);
    {
      std::lock_guard<std::mutex> lk(p.lock);
      if (p.latency_ns_valid)
        ours = p.latency_ns;
      p.live = live;
    }
    min += ours;
    if (GST_CLOCK_TIME_IS_VALID(max))
      max += ours;
    GST_DEBUG_OBJECT(self, "latency: live %d, min %" GST_TIME_FORMAT ", max %" GST_TIME_FORMAT,
                     live, GST_TIME_ARGS(min), GST_TIME_ARGS(max));
    gst_query_set_latency(query, live, min, max);
    return TRUE;
  }
  return gst_pad_query_default(pad, parent, query);
}

static GstFlowReturn gst_persian_transcribe_chain(GstPad *pad, GstObject *parent, GstBuffer *buf)
{
  GstPersianTranscribe *self = GST_PERSIAN_TRANSCRIBE(parent);
  PersianTranscribePrivate &p = priv(self);

  /* Live input decides whether GAP events keep the text stream moving. */
  if (p.check_live()) {
    std::lock_guard<std::mutex> lk(p.lock);
    p.live = true;
  }

  GstClockTime pts = GST_BUFFER_PTS(buf);
  {
    std::lock_guard<std::mutex> lk(p.lock);
    if (p.flushing || !p.engine()) {
      gst_buffer_unref(buf);
      return GST_FLOW_FLUSHING;
    }
    if (p.src_flow != GST_FLOW_OK) {
      gst_buffer_unref(buf);
      return p.src_flow;
    }
    if (!GST_CLOCK_TIME_IS_VALID(p.out_position))
      p.out_position = GST_CLOCK_TIME_IS_VALID(pts) ? pts : p.segment().start;
  }

  GstFlowReturn ret = p.push_buffer(buf);
  gst_buffer_unref(buf);
  if (ret != GST_FLOW_OK)
    return ret;
  std::lock_guard<std::mutex> lk(p.lock);
  p.audio_position = p.engine()->input_position();
  /* The task waits for has_work_locked(): waking it for every buffer when
   * there is none cost two context switches per buffer. */
  if (p.has_work_locked())
    p.cond.notify_all();
  return GST_FLOW_OK;
}

static GstStateChangeReturn gst_persian_transcribe_change_state(GstElement *element,
                                                                GstStateChange transition)
{
  GstPersianTranscribe *self = GST_PERSIAN_TRANSCRIBE(element);
  PersianTranscribePrivate &p = priv(self);

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED: {
      if (!p.start())
        return GST_STATE_CHANGE_FAILURE;
      std::lock_guard<std::mutex> lk(p.lock);
      p.latency_ns = p.active().latency_ns;
      p.latency_ns_valid = true;
      GST_OBJECT_LOCK(self);
      p.cues = p.cue_props;
      p.rtl_marks = p.rtl_marks_prop;
      p.language_code = p.language_code_prop;
      p.lateness_ns = p.lateness_prop == G_MAXUINT ? GST_CLOCK_TIME_NONE
                                                   : (guint64)p.lateness_prop * GST_MSECOND;
      GST_OBJECT_UNLOCK(self);
      p.reset_stream_locked();
      p.have_segment = false;
      p.segment_pending = false;
      p.stream_start_pending = true;
      p.live = false;
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY: {
      {
        std::lock_guard<std::mutex> lk(p.lock);
        p.flushing = true;
        p.cond.notify_all();
      }
      p.set_flushing(true);
      break;
    }
    default:
      break;
  }

  GstStateChangeReturn ret = GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (ret == GST_STATE_CHANGE_FAILURE)
        p.stop();
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY: {
      p.stop();
      std::lock_guard<std::mutex> lk(p.lock);
      p.reset_stream_locked();
      p.latency_ns_valid = false;
      break;
    }
    default:
      break;
  }
  return ret;
}

static void gst_persian_transcribe_class_init(GstPersianTranscribeClass *klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);

  EngineDriver::install_properties(gobject_class, TRUE);

  const GParamFlags rw =
      (GParamFlags)(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  /* Defaults follow common subtitle guidelines (BBC, Netflix): two lines of
   * 42 characters are read comfortably; cues longer than 7 s are re-read,
   * shorter than about 1 s are missed. */
  g_object_class_install_property(
      gobject_class, PROP_MAX_LINE_CHARS,
      g_param_spec_uint(
          "max-line-chars", "Max line characters",
          "Most characters (not bytes) in one line of a cue; lines break between words", 8, 200,
          kCueDefaults.max_line_chars, rw));
  g_object_class_install_property(
      gobject_class, PROP_MAX_LINES,
      g_param_spec_uint("max-lines", "Max lines", "Most lines in one cue", 1, 10,
                        kCueDefaults.max_lines, rw));
  g_object_class_install_property(
      gobject_class, PROP_MAX_CUE_DURATION,
      g_param_spec_uint(
          "max-cue-duration", "Max cue duration",
          "Longest a cue stays on screen (ms); longer speech is split at word boundaries", 500,
          60000, (guint)(kCueDefaults.max_duration / GST_MSECOND), rw));
  g_object_class_install_property(
      gobject_class, PROP_MIN_CUE_DURATION,
      g_param_spec_uint("min-cue-duration", "Min cue duration",
                        "Shortest a cue stays on screen (ms), when the next cue leaves room", 0,
                        10000, (guint)(kCueDefaults.min_duration / GST_MSECOND), rw));
  g_object_class_install_property(
      gobject_class, PROP_RTL_MARKS,
      g_param_spec_boolean(
          "rtl-marks", "Right-to-left marks",
          "utf8 output (for srtenc, webvttenc): every line between two RIGHT-TO-LEFT MARKs "
          "(U+200F), so that players that lay lines out left to right show Persian right to "
          "left. Never added to pango-markup, where Pango finds the direction itself",
          TRUE, rw));
  max_observed_delay_pspec = g_param_spec_uint(
      "max-observed-delay", "Max observed delay",
      "On live input: the largest delay seen (ms) from the start of a segment's audio to the "
      "arrival of its result, over the element's life (a state change does not reset it); "
      "notified when it grows. Keep \"latency\" above it",
      0, G_MAXUINT, 0, (GParamFlags)(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property(gobject_class, PROP_MAX_OBSERVED_DELAY, max_observed_delay_pspec);
  g_object_class_install_property(
      gobject_class, PROP_MAX_CHARS_PER_SECOND,
      g_param_spec_uint("max-chars-per-second", "Max characters per second",
                        "Reading speed: a cue denser than this stays on screen longer, into "
                        "the silence after its speech (up to the next cue, less two frames); "
                        "0 turns it off",
                        0, 100, kCueDefaults.max_chars_per_second, rw));
  g_object_class_install_property(
      gobject_class, PROP_LATENESS,
      g_param_spec_uint("lateness", "Lateness",
                        "On live input: how far (ms) behind the text stream a result's text may "
                        "start and still be pushed (from where the stream is); later text is "
                        "dropped (its transcription message is still posted). The default, "
                        "4294967295, never drops",
                        0, G_MAXUINT, G_MAXUINT, rw));
  g_object_class_install_property(
      gobject_class, PROP_LANGUAGE_CODE,
      g_param_spec_string("language-code", "Language code",
                          "The language of the speech and the text, as transcriberbin sets it; "
                          "the services transcribe Persian only. The text stream is tagged "
                          "with its ISO 639 code (language-code tag, \"fa\")",
                          "fa-IR", rw));

  element_class->change_state = GST_DEBUG_FUNCPTR(gst_persian_transcribe_change_state);

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "Persian speech to text", "Filter/Audio/Text",
      "Transcribes Persian speech with the Harf or Nevisa service: raw audio in, timed text out "
      "(for textoverlay, srtenc, webvttenc), and a \"transcription\" element message "
      "for every result",
      PT_AUTHOR);
}

static void gst_persian_transcribe_init(GstPersianTranscribe *self)
{
  self->priv = new PersianTranscribePrivate(self);

  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad, GST_DEBUG_FUNCPTR(gst_persian_transcribe_chain));
  gst_pad_set_event_function(self->sinkpad, GST_DEBUG_FUNCPTR(gst_persian_transcribe_sink_event));
  gst_pad_set_query_function(self->sinkpad, GST_DEBUG_FUNCPTR(gst_persian_transcribe_sink_query));
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_set_activatemode_function(self->srcpad,
                                    GST_DEBUG_FUNCPTR(gst_persian_transcribe_src_activate_mode));
  gst_pad_set_query_function(self->srcpad, GST_DEBUG_FUNCPTR(gst_persian_transcribe_src_query));
  gst_pad_use_fixed_caps(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
}
