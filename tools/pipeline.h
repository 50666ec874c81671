// SPDX-License-Identifier: LGPL-2.1-or-later
// persian-transcribe's pipeline: INPUT decoded into persiantranscribe, its results collected.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common.h"
#include "output.h"
#include "progress.h"
#include "settings.h"

namespace cli {

struct Config {
  std::string uri;
  std::string input;    // as the user gave it, for messages
  std::string backend;  // the element's name for it
  pt::BackendKind backend_kind = pt::BackendKind::HarfLive;
  bool quiet = false;
  bool progress = false;
};

//   uridecodebin uri=INPUT ! audioconvert ! audioresample ! persiantranscribe
//       ! appsink caps=text/x-raw,format=utf8 sync=false
class Transcriber {
 public:
  explicit Transcriber(Config cfg);
  Transcriber(const Transcriber &) = delete;
  Transcriber &operator=(const Transcriber &) = delete;
  ~Transcriber();

  // Creates the elements; the transcriber is available for configuration
  // after this.
  std::optional<Failure> build();

  GstElement *transcriber() const { return transcriber_; }

  // Runs to the end of the stream or the first error.
  std::optional<Failure> run();

  const Transcript &transcript() const { return transcript_; }

 private:
  bool batch() const { return pt::is_batch(cfg_.backend_kind); }

  /* streaming threads */
  static void on_pad_added(GstElement *, GstPad *pad, gpointer data);
  static GstPadProbeReturn on_sink_event(GstPad *, GstPadProbeInfo *info, gpointer data);
  static GstPadProbeReturn on_text(GstPad *, GstPadProbeInfo *info, gpointer data);
  static void on_no_more_pads(GstElement *, gpointer data);
  static GstFlowReturn on_new_sample(GstElement *sink, gpointer data);
  void post_error(GstElement *element, GQuark domain, gint code, const std::string &message);

  /* main thread */
  static gboolean on_bus_message(GstBus *, GstMessage *msg, gpointer data);
  void add_segment(const GstStructure *s);
  void batch_progress(const GstStructure *s);
  void handle_error(GstMessage *msg);
  bool is_input_source(GstObject *obj) const;
  void query_duration();
  guint64 query_position();
  void update_progress(bool done);
  static gboolean on_progress_tick(gpointer data);
  static gboolean on_signal(gpointer data);

  Config cfg_;
  ProgressBar progress_;
  GstRef<GstElement> pipeline_;
  GstElement *decodebin_ = nullptr;  // owned by pipeline_
  GstElement *convert_ = nullptr;
  GstElement *resample_ = nullptr;
  GstElement *transcriber_ = nullptr;
  GstElement *appsink_ = nullptr;
  GstRef<GstPad> transcriber_sink_;
  GstRef<GstBus> bus_;
  std::unique_ptr<GMainLoop, decltype(&g_main_loop_unref)> loop_{nullptr, g_main_loop_unref};
  std::vector<guint> sources_;
  std::atomic<bool> audio_linked_{false};
  std::atomic<bool> audio_done_{false};  // EOS reached the transcriber
  GstSegment text_segment_;              // the transcriber's src pad; its streaming thread
  // stream time the text stream has reached (buffers and GAPs), or NONE
  std::atomic<guint64> text_position_{GST_CLOCK_TIME_NONE};
  BatchStatus batch_;
  std::mutex cues_lock_;
  std::vector<Cue> cues_;  // cues_lock_
  Transcript transcript_;
  std::optional<Failure> failure_;
};

}  // namespace cli
