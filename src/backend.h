// SPDX-License-Identifier: LGPL-2.1-or-later
/* The seam between the engine and one service protocol.
 *
 * A Backend lives on the I/O thread: it is created, driven and destroyed
 * there, and it owns its libsoup objects.  It pulls windows of converted
 * audio from its BackendHost and hands back Results already placed on the
 * input timeline.  It knows nothing of pads or elements. */
#pragma once

#include <glib-object.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "audio_windower.h"
#include "error.h"
#include "settings.h"
#include "transcript.h"

namespace pt {

class IoThread;

struct Result {
  Segment segment;  /* service offsets in segment.start/end, word times likewise */
  uint64_t pts = 0; /* the segment's start on the input timeline */
  uint64_t duration = 0;
  std::string backend;        /* "harf-live", "harf-file", "nevisa", "nevisa-live" */
  bool late_revision = false; /* revises a segment already published as final */
  int64_t total_words = -1;   /* Harf files: stats.words, -1 when not given */
  int64_t known_words = -1;   /* Harf files: stats.known_words */
};

/* Where a batch job is: uploading, then the service's own states. */
struct Progress {
  std::string backend;
  std::string task_id;     /* empty while uploading */
  std::string state;       /* UPLOADING, PENDING, STARTED, PROGRESS, SUCCESS, ... */
  double percent = -1;     /* -1 when the service does not say */
  uint64_t bytes_sent = 0; /* while uploading */
  uint64_t bytes_total = 0;
};

/* A reconnection about to happen: the "transcription-reconnect" message. */
struct ReconnectInfo {
  unsigned attempt = 0;     /* 1, 2, ... in a row */
  std::string reason;       /* why the connection ended, for a person */
  uint64_t replayed_ns = 0; /* audio that will be sent again */
  uint64_t delay_ns = 0;    /* wait before connecting */
};

/* What the engine offers a backend.  Called on the I/O thread only. */
class BackendHost {
 public:
  virtual ~BackendHost() = default;
  /* Takes the next window.  False when none is queued; then *input_done says
   * whether the input has ended (no window will ever come again). */
  virtual bool pop_window(Window &w, bool *input_done) = 0;
  /* The same, and *skipped_ns: input time left out just before this window
   * (a pause skip-silence left out, a hole or GAP longer than
   * gap-threshold on live input, or live audio dropped while the queue was
   * full).  The live backends start a new session at a skip; the batch
   * backends record without it and move the results' times back. */
  virtual bool pop_window(Window &w, bool *input_done, uint64_t *skipped_ns) = 0;
  /* Reports a reconnection (live backends): posted as an element message. */
  virtual void reconnecting(const ReconnectInfo &info) = 0;
  /* False while the consumer of results is full: stop sending until a kick. */
  virtual bool can_accept_results() = 0;
  virtual void deliver(Result r) = 0;
  virtual void progress(const Progress &p) = 0;
  virtual void warn(const Error &e) = 0;
  virtual void fail(const Error &e) = 0; /* terminal; the backend stops */
  virtual void finished() = 0;           /* all results delivered after input_done */
  /* Duration (ns) of the input audio received so far: what a batch
   * service can have heard. */
  virtual uint64_t audio_duration() const = 0;
  /* The element that log lines name (GST_*_OBJECT), or null.  Valid while
   * the backend lives; never for work that outlives it. */
  virtual GObject *log_object() const = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual void start() = 0;    /* connect / prepare */
  virtual void kick() = 0;     /* windows were queued, input ended, or output has room */
  virtual void shutdown() = 0; /* cancel everything; no host call after this returns */
};

/* What makes a backend: make_backend for the real services; tests give the
 * engine a fake. */
using BackendFactory = std::function<std::unique_ptr<Backend>(const Settings &s, BackendHost *host,
                                                              IoThread *io, uint64_t time_base)>;

/* Creates the backend the settings name.  time_base is the input time (ns)
 * of the first byte of audio the backend will receive. */
std::unique_ptr<Backend> make_backend(const Settings &s, BackendHost *host, IoThread *io,
                                      uint64_t time_base);

}  // namespace pt
