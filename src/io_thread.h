// SPDX-License-Identifier: LGPL-2.1-or-later
/* The I/O threads: one GThread running one GMainContext, which owns every
 * libsoup object created on it; and the pool of them that the engines of a
 * process share.
 *
 * Ownership: an IoThread is held by std::shared_ptr.  By default an Engine
 * takes one from IoPool::global(): a few threads (the cores, at most 4, or
 * PT_IO_THREADS) carry every stream of the process, each engine on the
 * least loaded.  Nothing in IoThread knows its users; each user cancels or
 * guards what it attached to the context before it goes (see
 * docs/architecture.md, "The I/O pool").  Code that runs on an I/O thread
 * must not block: it is a GLib event loop that other streams share. */
#pragma once

#include <glib.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace pt {

class IoTimer;

class IoThread {
 public:
  explicit IoThread(const std::string &name);
  /* Quits the loop and joins the thread.  Called on the I/O thread itself
   * (its last reference dropped by work running there) it cannot join: the
   * loop is quit, and the thread, detached, frees its loop and context once
   * the work in hand has returned. */
  ~IoThread();

  IoThread(const IoThread &) = delete;
  IoThread &operator=(const IoThread &) = delete;

  /* One I/O thread for the whole process, never destroyed: it carries
   * work that must outlive the element that started it (a terminate-task
   * sent while a pipeline stops). */
  static IoThread &process_wide();
  /* What an engine runs on by default: the least loaded thread of
   * IoPool::global().  The thread counts the engine as its user until the
   * last copy of the pointer is dropped. */
  static std::shared_ptr<IoThread> shared_for_engine();

  GMainContext *context() const { return context_; }
  bool is_current() const;

  /* Runs fn on the I/O thread, later, and returns at once.  Posted work
   * runs in the order it was posted, from one queue behind one GSource:
   * a post allocates no GSource, and one posted while others wait wakes
   * nothing. */
  void post(std::function<void()> fn);
  /* Runs fn on the I/O thread and waits until it has returned.  Runs it
   * directly when called on the I/O thread. */
  void run_sync(const std::function<void()> &fn);

 private:
  struct Loop;
  static gpointer thread_main(gpointer data);

  friend class IoTimer;
  GMainContext *context_ = nullptr;
  GMainLoop *loop_ = nullptr;
  GThread *thread_ = nullptr;
  GSource *posts_ = nullptr;  /* the queue post() fills (a reference) */
  GSource *timers_ = nullptr; /* every IoTimer's deadline (a reference) */
};

/* A one-shot timer on an I/O thread that is cheap to re-arm.  The thread
 * keeps the deadlines of all its timers in one ordered list behind a single
 * GSource: arming, re-arming and stopping take a lock and a map operation,
 * attach nothing to the context, and add nothing to the sources that every
 * turn of its loop prepares, polls and checks (a stream re-arms its reply
 * timeout twice a second).  The callback runs on the I/O thread; it may
 * start, stop or destroy any timer, its own included.  Arming and stopping
 * are thread-safe. */
class IoTimer {
 public:
  using Callback = void (*)(gpointer data);
  IoTimer(IoThread &io, Callback fn, gpointer data);
  /* Stops it.  The I/O thread may have gone already. */
  ~IoTimer();
  IoTimer(const IoTimer &) = delete;
  IoTimer &operator=(const IoTimer &) = delete;

  /* (Re)arms it to fire once, ms milliseconds from now */
  void start(unsigned ms);
  void stop();
  /* Armed and not fired yet */
  bool active() const;

 private:
  friend struct TimerSource;
  GSource *source_; /* the thread's timers_ (a reference: it may outlive the thread) */
  const Callback fn_;
  const gpointer data_;
  bool armed_ = false;
  std::multimap<gint64, IoTimer *>::iterator due_;
};

/* I/O threads shared by many engines.  acquire() hands out the thread with
 * the fewest users (engines holding one of its pointers), starting threads
 * only as they are needed: the first engines each get a thread of their
 * own, later ones share.  A pool that grows starts one more thread once
 * every started one has grow_per users: each turn of a GLib loop polls and
 * checks every source on its context, so a context with hundreds of
 * streams pays for all of them on every wake-up.  Thread-safe. */
class IoPool {
 public:
  static constexpr unsigned kMaxThreads = 64;
  /* What the process's pool lets each of its threads carry before it
   * grows (without PT_IO_THREADS).  Every turn of a thread's loop costs in
   * proportion to the streams on it, and each stream wakes it about twice
   * a second.  Measured at 1000 live streams (scripts/bench streams, the
   * pt-io threads' own CPU): 0.37 of a core on 16 threads (64 streams
   * each), 0.27-0.30 on 63 (16 each); see docs/performance.md. */
  static constexpr unsigned kStreamsPerThread = 16;
  /* size: the threads it starts for its first users (clamped to
   * 1..kMaxThreads); grow_per: 0 to stay at size, else the users each
   * thread takes before the pool starts another, up to kMaxThreads.  They
   * are named "<name>-0", "<name>-1", ... (keep name short: Linux shows 15
   * bytes). */
  IoPool(unsigned size, const std::string &name, unsigned grow_per = 0);
  /* Lets go of the threads: those without users are joined at once, the
   * others end when their last user lets go (on the thread itself, if
   * that is where it lets go: see ~IoThread). */
  ~IoPool();
  IoPool(const IoPool &) = delete;
  IoPool &operator=(const IoPool &) = delete;

  /* The process's pool, "pt-io-N", made on first use: PT_IO_THREADS
   * threads when that is set, else the cores (at most 4) growing by one
   * per kStreamsPerThread streams.  It is never destroyed and keeps its
   * threads once started: late callbacks of cancelled requests still run
   * and free what they hold, and state changes do not start and join a
   * thread each time. */
  static IoPool &global();
  /* PT_IO_THREADS when it is a whole number in 1..kMaxThreads, else the
   * number of cores, at most 4. */
  static unsigned size_from_environment();

  /* The least loaded thread, started if need be.  The pointer (and every
   * copy of it) counts as one user until the last copy is dropped, on any
   * thread. */
  std::shared_ptr<IoThread> acquire();

  /* The most threads it may start */
  unsigned size() const;
  /* Users of each thread started so far ("<name>-0" first). */
  std::vector<unsigned> loads() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace pt
