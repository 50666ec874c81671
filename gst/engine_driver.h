// SPDX-License-Identifier: LGPL-2.1-or-later
/* What persiantranscribe and harfsink share in driving the engine: the
 * settings snapshot, the engine's life, caps, segments, buffers, GAPs, EOS
 * and flushes, and putting what the engine reports (errors, warnings,
 * progress) on the bus.  Each element keeps only what differs: the filter
 * its results queue and src task, the sink its wait at EOS. */
#pragma once

#include <gst/gst.h>
#include <gst/audio/audio.h>

#include <memory>
#include <optional>
#include <mutex>

#include "engine.h"
#include "settings.h"

/* The raw audio both elements take; converted and resampled inside. */
#define PT_AUDIO_SINK_CAPS                                                              \
  "audio/x-raw, format = (string) { S8, U8, S16LE, S16BE, U16LE, U16BE, S24LE, S24BE, " \
  "S24_32LE, S24_32BE, S32LE, S32BE, F32LE, F32BE, F64LE, F64BE }, "                    \
  "rate = (int) [ 8000, 192000 ], channels = (int) [ 1, 8 ], layout = (string) interleaved"

class EngineDriver : public pt::EngineListener {
 public:
  /* Made in the element's _init; the element's object owns it from then
   * on, and deletes it when it is finalized. */
  explicit EngineDriver(GstElement *element);
  ~EngineDriver() override;
  EngineDriver(const EngineDriver &) = delete;
  EngineDriver &operator=(const EngineDriver &) = delete;

  /* The properties: protected by the element's object lock. */
  pt::Settings props;

  /* class_init: installs the common properties and GObject's set/get
   * functions, which hand other property ids to the element's overrides. */
  static void install_properties(GObjectClass *klass, gboolean with_latency);

  /* Streaming starts: snapshots the properties (credentials falling back to
   * the environment), checks them and makes the engine.  False, with the
   * error posted, when they cannot work.  Missing credentials alone do not
   * stop it: the element reaches PAUSED (transcriberbin sets it there to ask
   * its latency) and the error comes with the first buffer of audio. */
  bool start();
  /* Streaming has stopped (no thread uses the engine any more): drops it. */
  void stop();
  pt::Engine *engine() const { return engine_.get(); }
  /* The snapshot streaming runs with (valid from start() to stop()). */
  const pt::Settings &active() const { return active_; }

  /* Streaming thread.  Each posts its own error when it fails. */
  bool set_caps(GstCaps *caps);
  /* SEGMENT (the event is not taken): a TIME segment is kept for the
   * messages' running and stream times; any other is an error. */
  bool set_segment(GstEvent *event);
  void reset_segment(); /* an open TIME segment from 0 */
  GstSegment segment() const;
  /* Does not take the buffer. */
  GstFlowReturn push_buffer(GstBuffer *buffer);
  /* Whether upstream is live, asked once per stream (before the first
   * buffer is pushed).  Live input never waits for the network: the engine
   * drops the oldest audio instead. */
  bool check_live();
  GstFlowReturn push_gap(GstEvent *gap); /* does not take the event */
  void finish();                         /* EOS: the rest is sent, then results */

  /* Any thread but the I/O thread */
  void set_flushing(bool flushing);
  /* FLUSH_STOP: a new stream begins on a new connection. */
  void flush_stop();

  /* Posts the "transcription" message for a result, timed by segment(). */
  void post_result(const pt::Result &r);

  /* EngineListener: what both elements do with the engine's reports */
  void on_progress(const pt::Progress &p) override;
  void on_warning(const pt::Error &e) override;
  void on_error(const pt::Error &e) override;
  /* Posts "transcription-reconnect": attempt, reason, replayed (ns), delay (ns). */
  void on_reconnect(const pt::ReconnectInfo &info) override;

  static GstFlowReturn flow_return(pt::Engine::Flow f);

 protected:
  /* After on_error has posted the error (I/O or streaming thread). */
  virtual void on_failed() {}
  /* The element's own properties, called under the object lock; false for
   * ids it does not know. */
  virtual bool set_own_property(guint /*prop_id*/, const GValue * /*value*/) { return false; }
  virtual bool get_own_property(guint /*prop_id*/, GValue * /*value*/) { return false; }
  /* Read-only values kept under the element's own lock: called without the
   * object lock. */
  virtual bool get_unlocked_property(guint /*prop_id*/, GValue * /*value*/) { return false; }

  GstElement *const element_;

 private:
  std::unique_ptr<pt::Engine> engine_;
  pt::Settings active_;
  std::optional<pt::Error> missing_credentials_; /* posted at the first buffer */
  bool live_checked_ = false;                    /* streaming thread */
  bool live_ = false;
  mutable std::mutex segment_lock_;
  GstSegment segment_; /* protected by segment_lock_ */
};

/* Posts an error (or warning) with the standard domain and code for the
 * engine's error kind, and its reason in the details. */
void pt_post_engine_error(GstElement *element, const pt::Error &e, gboolean warning);
