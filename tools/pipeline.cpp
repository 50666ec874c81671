// SPDX-License-Identifier: LGPL-2.1-or-later
// persian-transcribe's pipeline runner: runs it, collects cues and segments, maps errors to exits.

// Subtitles (srt, vtt) come from the timed text buffers the element pushes,
// one per cue; json and txt come from its "transcription" bus messages (the
// final segments, with their words).  appsink is driven through its signals
// and properties only, so the command does not link libgstapp.
#include "pipeline.h"

#include <glib-unix.h>

#include <algorithm>
#include <csignal>

#include "error.h"

namespace cli {

namespace {

std::optional<Segment> segment_from_message(const GstStructure *s, std::string *backend)
{
  gboolean final = TRUE;
  gst_structure_get_boolean(s, "final", &final);
  if (!final)
    return std::nullopt;

  Segment seg;
  if (const gchar *t = gst_structure_get_string(s, "text"))
    seg.text = t;
  if (const gchar *t = gst_structure_get_string(s, "raw-text"))
    seg.raw_text = t;
  gst_structure_get_int(s, "segment-id", &seg.id);
  if (const gchar *b = gst_structure_get_string(s, "backend"))
    *backend = b;

  guint64 timestamp = GST_CLOCK_TIME_NONE, stream_time = GST_CLOCK_TIME_NONE;
  guint64 duration = 0, offset = 0;
  gst_structure_get_uint64(s, "timestamp", &timestamp);
  gst_structure_get_uint64(s, "stream-time", &stream_time);
  gst_structure_get_uint64(s, "duration", &duration);
  gst_structure_get_uint64(s, "start", &offset);
  seg.start = GST_CLOCK_TIME_IS_VALID(stream_time) ? stream_time
              : GST_CLOCK_TIME_IS_VALID(timestamp) ? timestamp
                                                   : 0;
  seg.end = seg.start + duration;

  // Word times are the service's offsets, like "start": move them onto the
  // media timeline the same way the segment's start was.
  const gint64 base = gint64(seg.start) - gint64(offset);
  auto to_media = [base](guint64 t) -> guint64 {
    if (!GST_CLOCK_TIME_IS_VALID(t))
      return GST_CLOCK_TIME_NONE;
    return guint64(std::max<gint64>(0, base + gint64(t)));
  };

  const GValue *words = gst_structure_get_value(s, "words");
  if (words && GST_VALUE_HOLDS_ARRAY(words)) {
    for (guint i = 0; i < gst_value_array_get_size(words); ++i) {
      const GValue *v = gst_value_array_get_value(words, i);
      if (!GST_VALUE_HOLDS_STRUCTURE(v))
        continue;
      const GstStructure *ws = gst_value_get_structure(v);
      Word w;
      if (const gchar *t = gst_structure_get_string(ws, "text"))
        w.text = t;
      guint64 start = GST_CLOCK_TIME_NONE, end = GST_CLOCK_TIME_NONE;
      gst_structure_get_uint64(ws, "start", &start);
      gst_structure_get_uint64(ws, "end", &end);
      w.start = to_media(start);
      w.end = to_media(end);
      gst_structure_get_double(ws, "confidence", &w.confidence);
      gboolean unc = FALSE;
      gst_structure_get_boolean(ws, "uncertain", &unc);
      w.uncertain = unc;
      seg.words.push_back(std::move(w));
    }
  }
  return seg;
}

// The reason (pt::kReason*) in an error message's details; "" without one.
std::string error_reason(GstMessage *msg)
{
  const GstStructure *details = nullptr;
  gst_message_parse_error_details(msg, &details);
  if (!details || !gst_structure_has_name(details, pt::kErrorDetailsName))
    return "";
  const gchar *reason = gst_structure_get_string(details, pt::kErrorReasonField);
  return reason ? reason : "";
}

// Where the command takes BACKEND's credentials from.
const char *credential_sources(pt::BackendKind backend)
{
  switch (backend) {
    case pt::BackendKind::HarfLive:
    case pt::BackendKind::HarfFile:
      break;
    case pt::BackendKind::Nevisa:
    case pt::BackendKind::NevisaLive:
      return "--nevisa-username and --nevisa-password or NEVISA_USERNAME and NEVISA_PASSWORD, "
             "or --nevisa-auth-token and --nevisa-api-key or NEVISA_AUTH_TOKEN and NEVISA_API_KEY";
  }
  return "--token or HARF_TOKEN, and --auth-scheme";
}

// The exit status for an error: by its reason (pt::kReason*), else by its
// domain and code and by who posted it.
int exit_code_for(const GError *err, const std::string &reason, bool from_transcriber,
                  bool from_source)
{
  if (auto code = exit_code_for_reason(reason))
    return *code;
  if (!err)
    return kExitFailure;
  // A source that stops without saying why (souphttpsrc when the server
  // cannot be reached) could not read INPUT.
  if (from_source && err->domain == GST_STREAM_ERROR && err->code == GST_STREAM_ERROR_FAILED)
    return kExitNoInput;
  if (err->domain == GST_RESOURCE_ERROR) {
    if (from_transcriber) {
      switch (err->code) {
        case GST_RESOURCE_ERROR_NOT_AUTHORIZED:
          return kExitAuth;
        case GST_RESOURCE_ERROR_OPEN_READ_WRITE:
        case GST_RESOURCE_ERROR_OPEN_READ:
        case GST_RESOURCE_ERROR_OPEN_WRITE:
        case GST_RESOURCE_ERROR_READ:
        case GST_RESOURCE_ERROR_WRITE:
        case GST_RESOURCE_ERROR_NOT_FOUND:
          return kExitService;
        case GST_RESOURCE_ERROR_SETTINGS:
          return kExitUsage;
        default:
          return kExitFailure;
      }
    }
    switch (err->code) {  // the source reading INPUT
      case GST_RESOURCE_ERROR_NOT_FOUND:
      case GST_RESOURCE_ERROR_OPEN_READ:
      case GST_RESOURCE_ERROR_OPEN_READ_WRITE:
      case GST_RESOURCE_ERROR_READ:
      case GST_RESOURCE_ERROR_NOT_AUTHORIZED:
        return kExitNoInput;
      default:
        return kExitFailure;
    }
  }
  if (err->domain == GST_STREAM_ERROR) {
    if (from_transcriber)
      return err->code == GST_STREAM_ERROR_FORMAT ? kExitUnplayable : kExitFailure;
    return kExitUnplayable;  // typefind, demuxers, decoders
  }
  if (err->domain == GST_CORE_ERROR && err->code == GST_CORE_ERROR_MISSING_PLUGIN)
    return kExitUnplayable;
  return kExitFailure;
}

}  // namespace

Transcriber::Transcriber(Config cfg) : cfg_(std::move(cfg)), progress_(cfg_.progress)
{
  transcript_.input_uri = cfg_.uri;
  gst_segment_init(&text_segment_, GST_FORMAT_UNDEFINED);
}

Transcriber::~Transcriber()
{
  for (guint id : sources_)
    g_source_remove(id);
  if (bus_)
    gst_bus_remove_watch(bus_.get());
  if (pipeline_)
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
}

std::optional<Failure> Transcriber::build()
{
  pipeline_.reset(GST_ELEMENT(gst_object_ref_sink(gst_pipeline_new("persian-transcribe"))));
  struct {
    const char *factory;
    GstElement **out;
  } parts[] = {{"uridecodebin", &decodebin_},
               {"audioconvert", &convert_},
               {"audioresample", &resample_},
               {"persiantranscribe", &transcriber_},
               {"appsink", &appsink_}};
  for (auto &p : parts) {
    GstElement *e = gst_element_factory_make(p.factory, nullptr);
    if (!e)
      return missing_element(p.factory);
    gst_bin_add(GST_BIN(pipeline_.get()), e);
    *p.out = e;
  }

  g_object_set(decodebin_, "uri", cfg_.uri.c_str(), nullptr);
  /* The cues are taken as plain text: the writers add the direction marks
   * themselves (srt, vtt), and json and txt have none. */
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(transcriber_), "rtl-marks"))
    g_object_set(transcriber_, "rtl-marks", FALSE, nullptr);
  CapsRef caps(gst_caps_from_string("text/x-raw, format=(string)utf8"));
  g_object_set(appsink_, "caps", caps.get(), "sync", FALSE, "emit-signals", TRUE, nullptr);

  if (!gst_element_link_many(convert_, resample_, transcriber_, appsink_, nullptr))
    return Failure{kExitFailure,
                   "cannot link audioconvert ! audioresample ! persiantranscribe ! appsink"};

  g_signal_connect(decodebin_, "pad-added", G_CALLBACK(on_pad_added), this);
  g_signal_connect(decodebin_, "no-more-pads", G_CALLBACK(on_no_more_pads), this);
  g_signal_connect(appsink_, "new-sample", G_CALLBACK(on_new_sample), this);

  transcriber_sink_.reset(gst_element_get_static_pad(transcriber_, "sink"));
  gst_pad_add_probe(transcriber_sink_.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_sink_event,
                    this, nullptr);
  GstRef<GstPad> src(gst_element_get_static_pad(transcriber_, "src"));
  gst_pad_add_probe(
      src.get(), GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
      on_text, this, nullptr);
  return std::nullopt;
}

std::optional<Failure> Transcriber::run()
{
  loop_.reset(g_main_loop_new(nullptr, FALSE));
  bus_.reset(gst_element_get_bus(pipeline_.get()));
  gst_bus_add_watch(bus_.get(), on_bus_message, this);
  sources_.push_back(g_unix_signal_add(SIGINT, on_signal, this));
  sources_.push_back(g_unix_signal_add(SIGTERM, on_signal, this));

  progress_.start();
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    // The error that made it fail is on the bus (e.g. no token).
    GstMessage *msg = gst_bus_pop_filtered(bus_.get(), GST_MESSAGE_ERROR);
    if (msg) {
      handle_error(msg);
      gst_message_unref(msg);
    }
    if (!failure_)
      failure_ = Failure{kExitFailure, "the pipeline could not start"};
  } else {
    if (progress_.enabled()) {
      progress_.draw(GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE, false);
      sources_.push_back(g_timeout_add(ProgressBar::kIntervalMs, on_progress_tick, this));
    }
    g_main_loop_run(loop_.get());
  }

  if (!failure_)
    update_progress(true);  // the final state: 100 %
  progress_.finish();
  query_duration();
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  {
    std::lock_guard<std::mutex> lk(cues_lock_);
    transcript_.cues = cues_;
  }
  if (failure_)
    return failure_;
  return std::nullopt;
}

void Transcriber::on_pad_added(GstElement *, GstPad *pad, gpointer data)
{
  auto *self = static_cast<Transcriber *>(data);
  CapsRef caps(gst_pad_get_current_caps(pad));
  if (!caps)
    caps.reset(gst_pad_query_caps(pad, nullptr));
  if (!caps || gst_caps_is_empty(caps.get()))
    return;
  const gchar *name = gst_structure_get_name(gst_caps_get_structure(caps.get(), 0));
  if (!g_str_has_prefix(name, "audio/"))
    return;  // video, subtitles: left unlinked
  bool expected = false;
  if (!self->audio_linked_.compare_exchange_strong(expected, true))
    return;  // first audio only
  GstRef<GstPad> sink(gst_element_get_static_pad(self->convert_, "sink"));
  GstPadLinkReturn r = gst_pad_link(pad, sink.get());
  if (GST_PAD_LINK_FAILED(r)) {
    self->post_error(self->decodebin_, GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                     std::string("cannot use the audio stream (") + name + ")");
  }
}

// The end of the audio reached the transcriber: a batch job starts.
GstPadProbeReturn Transcriber::on_sink_event(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *self = static_cast<Transcriber *>(data);
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
  if (ev && GST_EVENT_TYPE(ev) == GST_EVENT_EOS)
    self->audio_done_.store(true);
  return GST_PAD_PROBE_OK;
}

// The text stream leaving the transcriber: how far the transcription has
// got.  Its buffers and GAP events cover the input's timeline up to where
// the service has answered, without the audio the element only queued.
GstPadProbeReturn Transcriber::on_text(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *self = static_cast<Transcriber *>(data);
  guint64 start = GST_CLOCK_TIME_NONE, duration = 0;
  if (GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info)) {
    start = GST_BUFFER_PTS(buf);
    if (GST_BUFFER_DURATION_IS_VALID(buf))
      duration = GST_BUFFER_DURATION(buf);
  } else if (GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info)) {
    if (GST_EVENT_TYPE(ev) == GST_EVENT_SEGMENT) {
      const GstSegment *seg = nullptr;
      gst_event_parse_segment(ev, &seg);
      if (seg)
        gst_segment_copy_into(seg, &self->text_segment_);
    } else if (GST_EVENT_TYPE(ev) == GST_EVENT_GAP) {
      GstClockTime ts, dur;
      gst_event_parse_gap(ev, &ts, &dur);
      start = ts;
      if (GST_CLOCK_TIME_IS_VALID(dur))
        duration = dur;
    }
  }
  if (!GST_CLOCK_TIME_IS_VALID(start) || self->text_segment_.format != GST_FORMAT_TIME)
    return GST_PAD_PROBE_OK;
  const guint64 end =
      gst_segment_to_stream_time(&self->text_segment_, GST_FORMAT_TIME, start + duration);
  if (GST_CLOCK_TIME_IS_VALID(end)) {
    guint64 seen = self->text_position_.load();
    while ((!GST_CLOCK_TIME_IS_VALID(seen) || end > seen) &&
           !self->text_position_.compare_exchange_weak(seen, end)) {
    }
  }
  return GST_PAD_PROBE_OK;
}

void Transcriber::on_no_more_pads(GstElement *, gpointer data)
{
  auto *self = static_cast<Transcriber *>(data);
  if (!self->audio_linked_.load())
    self->post_error(self->decodebin_, GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE,
                     "no audio stream");
}

GstFlowReturn Transcriber::on_new_sample(GstElement *sink, gpointer data)
{
  auto *self = static_cast<Transcriber *>(data);
  GstSample *raw = nullptr;
  g_signal_emit_by_name(sink, "pull-sample", &raw);
  SampleRef sample(raw);
  if (!sample)
    return GST_FLOW_EOS;
  GstBuffer *buf = gst_sample_get_buffer(sample.get());
  if (!buf || !GST_BUFFER_PTS_IS_VALID(buf))
    return GST_FLOW_OK;
  const GstSegment *seg = gst_sample_get_segment(sample.get());

  guint64 pts = GST_BUFFER_PTS(buf);
  guint64 end =
      GST_BUFFER_DURATION_IS_VALID(buf) ? pts + GST_BUFFER_DURATION(buf) : pts + 2 * GST_SECOND;
  if (seg && seg->format == GST_FORMAT_TIME) {
    guint64 s = gst_segment_to_stream_time(seg, GST_FORMAT_TIME, pts);
    guint64 e = gst_segment_to_stream_time(seg, GST_FORMAT_TIME, end);
    if (GST_CLOCK_TIME_IS_VALID(s)) {
      pts = s;
      end = GST_CLOCK_TIME_IS_VALID(e) ? e : s + (end - GST_BUFFER_PTS(buf));
    }
  }
  Cue cue;
  cue.start = pts;
  cue.end = std::max(end, pts);
  GstMapInfo map;
  if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
    cue.text.assign(reinterpret_cast<const char *>(map.data), map.size);
    gst_buffer_unmap(buf, &map);
  }
  // Embedded NULs would end the text in most readers.
  cue.text.erase(std::remove(cue.text.begin(), cue.text.end(), '\0'), cue.text.end());
  std::lock_guard<std::mutex> lk(self->cues_lock_);
  self->cues_.push_back(std::move(cue));
  return GST_FLOW_OK;
}

// Posts an ERROR message as ELEMENT would, from any thread.
void Transcriber::post_error(GstElement *element, GQuark domain, gint code,
                             const std::string &message)
{
  GError *err = g_error_new_literal(domain, code, message.c_str());
  gst_element_post_message(element, gst_message_new_error(GST_OBJECT(element), err, nullptr));
  g_error_free(err);
}

gboolean Transcriber::on_bus_message(GstBus *, GstMessage *msg, gpointer data)
{
  auto *self = static_cast<Transcriber *>(data);
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_EOS:
      g_main_loop_quit(self->loop_.get());
      break;
    case GST_MESSAGE_ERROR:
      self->handle_error(msg);
      g_main_loop_quit(self->loop_.get());
      break;
    case GST_MESSAGE_WARNING:
      if (!self->cfg_.quiet) {
        GError *err = nullptr;
        gst_message_parse_warning(msg, &err, nullptr);
        self->progress_.finish();
        print_warning(err ? err->message : "unknown warning");
        if (err)
          g_error_free(err);
      }
      break;
    case GST_MESSAGE_ELEMENT:
      if (GST_MESSAGE_SRC(msg) == GST_OBJECT(self->transcriber_)) {
        const GstStructure *s = gst_message_get_structure(msg);
        if (s && gst_structure_has_name(s, "transcription"))
          self->add_segment(s);
        if (s && gst_structure_has_name(s, "transcription-progress"))
          self->batch_progress(s);
      }
      break;
    case GST_MESSAGE_DURATION_CHANGED:
      self->query_duration();
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

void Transcriber::add_segment(const GstStructure *s)
{
  auto seg = segment_from_message(s, &transcript_.backend);
  if (!seg)
    return;
  gint64 n = -1;
  if (gst_structure_get_int64(s, "total-words", &n))
    transcript_.total_words = n;
  if (gst_structure_get_int64(s, "known-words", &n))
    transcript_.known_words = n;
  auto &segs = transcript_.segments;
  if (seg->id >= 0) {
    // A late revision of a segment already final replaces it.
    auto it =
        std::find_if(segs.begin(), segs.end(), [&](const Segment &x) { return x.id == seg->id; });
    if (it != segs.end()) {
      *it = std::move(*seg);
      return;
    }
  }
  segs.push_back(std::move(*seg));
}

void Transcriber::batch_progress(const GstStructure *s)
{
  const gchar *state = gst_structure_get_string(s, "state");
  const std::string previous = batch_.state;
  batch_.active = true;  // the job runs, so the audio was consumed
  batch_.state = state ? state : "";
  batch_.percent = -1;
  gst_structure_get_double(s, "percent", &batch_.percent);
  guint64 sent = 0, total = 0;
  if (gst_structure_get_uint64(s, "bytes-sent", &sent) &&
      gst_structure_get_uint64(s, "bytes-total", &total) && total > 0) {
    batch_.bytes_sent = sent;
    batch_.bytes_total = total;
  }
  // Each state is drawn at least once, and so is the end of the upload.
  if (batch_.state != previous || (total > 0 && sent == total))
    update_progress(false);
}

void Transcriber::handle_error(GstMessage *msg)
{
  if (failure_)
    return;  // the first error is the cause; the rest follow from it
  GError *err = nullptr;
  gchar *debug = nullptr;
  gst_message_parse_error(msg, &err, &debug);
  g_free(debug);  // may hold details for developers; not shown
  const std::string reason = error_reason(msg);
  const bool from_transcriber = GST_MESSAGE_SRC(msg) == GST_OBJECT(transcriber_);
  Failure f;
  f.code = exit_code_for(err, reason, from_transcriber, is_input_source(GST_MESSAGE_SRC(msg)));
  std::string text = err && err->message ? err->message : "unknown error";
  if (f.code == kExitNoInput)
    text = "cannot read " + cfg_.input + ": " + text;
  else if (!from_transcriber && f.code == kExitUnplayable)
    text = "cannot play " + cfg_.input + ": " + text;
  // Credentials the service refused: where the command takes them from.  Not
  // for missing ones (the message names them) nor for a Nevisa account
  // without a package (the credentials are right).
  if (reason == pt::kReasonCredentialsRejected)
    text += std::string(" (given with ") + credential_sources(cfg_.backend_kind) + ")";
  f.message = text;
  failure_ = f;
  if (err)
    g_error_free(err);
}

// Whether OBJ is the element uridecodebin made to read INPUT (filesrc,
// souphttpsrc, ...).
bool Transcriber::is_input_source(GstObject *obj) const
{
  GstElement *source = nullptr;
  g_object_get(decodebin_, "source", &source, nullptr);
  GstRef<GstElement> ref(source);
  return source && obj == GST_OBJECT(source);
}

void Transcriber::query_duration()
{
  gint64 dur = -1;
  if (gst_element_query_duration(pipeline_.get(), GST_FORMAT_TIME, &dur) && dur > 0)
    transcript_.media_duration = guint64(dur);
}

// How far the transcription has got: with a live backend, the text
// stream's position; with a batch backend (nothing comes back before the
// upload), the audio handed to persiantranscribe, which it records at once.
guint64 Transcriber::query_position()
{
  if (!batch())
    return text_position_.load();
  gint64 pos = -1;
  if (transcriber_sink_ &&
      gst_pad_peer_query_position(transcriber_sink_.get(), GST_FORMAT_TIME, &pos) && pos >= 0)
    return guint64(pos);
  if (gst_element_query_position(pipeline_.get(), GST_FORMAT_TIME, &pos) && pos >= 0)
    return guint64(pos);
  return GST_CLOCK_TIME_NONE;
}

void Transcriber::update_progress(bool done)
{
  if (!progress_.enabled())
    return;
  if (!GST_CLOCK_TIME_IS_VALID(transcript_.media_duration))
    query_duration();
  if (batch() && audio_done_.load())
    batch_.active = true;
  progress_.set_input_read(audio_done_.load());
  progress_.draw(query_position(), transcript_.media_duration, done, batch() ? &batch_ : nullptr);
}

gboolean Transcriber::on_progress_tick(gpointer data)
{
  static_cast<Transcriber *>(data)->update_progress(false);
  return G_SOURCE_CONTINUE;
}

gboolean Transcriber::on_signal(gpointer data)
{
  auto *self = static_cast<Transcriber *>(data);
  if (!self->failure_)
    self->failure_ = Failure{kExitInterrupted, "interrupted"};
  g_main_loop_quit(self->loop_.get());
  return G_SOURCE_CONTINUE;
}

}  // namespace cli
