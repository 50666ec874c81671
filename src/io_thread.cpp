// SPDX-License-Identifier: LGPL-2.1-or-later
#include "io_thread.h"

#include <gst/gst.h>

#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>

GST_DEBUG_CATEGORY_EXTERN(pt_engine_debug);
#define GST_CAT_DEFAULT pt_engine_debug

namespace pt {

namespace {

/* post()'s queue: one source, ready while the queue is not empty. */
struct PostSource {
  GSource base;
  struct Queue {
    std::mutex m;
    std::deque<std::function<void()>> fns;
  } *queue;
};

gboolean dispatch_posts(GSource *source, GSourceFunc, gpointer)
{
  auto *ps = reinterpret_cast<PostSource *>(source);
  /* Not ready again until a post after this point: one made while the
   * batch is taken is either in it or sets the time again. */
  g_source_set_ready_time(source, -1);
  std::deque<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> lk(ps->queue->m);
    batch.swap(ps->queue->fns);
  }
  /* What the batch posts runs on a later turn, after other sources. */
  for (std::function<void()> &fn : batch)
    fn();
  return G_SOURCE_CONTINUE;
}

void finalize_posts(GSource *source)
{
  /* Work never run (the loop ended first) is freed, not run. */
  delete reinterpret_cast<PostSource *>(source)->queue;
}

GSourceFuncs post_source_funcs = {nullptr, nullptr, dispatch_posts, finalize_posts, nullptr,
                                  nullptr};

struct Started {
  std::mutex m;
  std::condition_variable cv;
  bool running = false;
};

gboolean mark_running(gpointer data)
{
  auto *s = static_cast<Started *>(data);
  std::lock_guard<std::mutex> lk(s->m);
  s->running = true;
  s->cv.notify_all();
  return G_SOURCE_REMOVE;
}

gboolean quit_loop(gpointer data)
{
  g_main_loop_quit(static_cast<GMainLoop *>(data));
  return G_SOURCE_REMOVE;
}

/* The default pool's size when PT_IO_THREADS does not set it. */
constexpr unsigned kDefaultMaxThreads = 4;

}  // namespace

/* IoTimer's deadlines: ready at the earliest.  Stopping or postponing the
 * earliest leaves the ready time as it was; the turn it brings finds
 * nothing due and moves it on (a stream postpones its timeout every
 * second: this saves a context wake-up each time). */
struct TimerSource {
  GSource base;
  struct Due {
    std::mutex m;
    std::multimap<gint64, IoTimer *> timers;
  } *due;

  static gboolean dispatch(GSource *source, GSourceFunc, gpointer)
  {
    auto *ts = reinterpret_cast<TimerSource *>(source);
    const gint64 now = g_get_monotonic_time();
    for (;;) {
      IoTimer::Callback fn;
      gpointer data;
      {
        std::lock_guard<std::mutex> lk(ts->due->m);
        auto first = ts->due->timers.begin();
        if (first == ts->due->timers.end() || first->first > now) {
          g_source_set_ready_time(source,
                                  first == ts->due->timers.end() ? -1 : first->first);
          return G_SOURCE_CONTINUE;
        }
        IoTimer *t = first->second;
        ts->due->timers.erase(first);
        t->armed_ = false;
        /* Copied: the callback may destroy its timer. */
        fn = t->fn_;
        data = t->data_;
      }
      fn(data);
    }
  }

  static void finalize(GSource *source)
  {
    delete reinterpret_cast<TimerSource *>(source)->due;
  }

  static GSourceFuncs funcs;
};

GSourceFuncs TimerSource::funcs = {nullptr, nullptr, TimerSource::dispatch, TimerSource::finalize,
                                   nullptr, nullptr};

IoTimer::IoTimer(IoThread &io, Callback fn, gpointer data)
    : source_(g_source_ref(io.timers_)), fn_(fn), data_(data)
{
}

IoTimer::~IoTimer()
{
  stop();
  g_source_unref(source_);
}

void IoTimer::start(unsigned ms)
{
  auto *ts = reinterpret_cast<TimerSource *>(source_);
  const gint64 deadline = g_get_monotonic_time() + gint64(ms) * 1000;
  std::lock_guard<std::mutex> lk(ts->due->m);
  if (armed_)
    ts->due->timers.erase(due_);
  due_ = ts->due->timers.emplace(deadline, this);
  armed_ = true;
  /* Only a new earliest deadline moves the ready time (and wakes the
   * thread when called from another). */
  const gint64 ready = g_source_get_ready_time(source_);
  if (due_ == ts->due->timers.begin() && (ready < 0 || ready > deadline))
    g_source_set_ready_time(source_, deadline);
}

void IoTimer::stop()
{
  auto *ts = reinterpret_cast<TimerSource *>(source_);
  std::lock_guard<std::mutex> lk(ts->due->m);
  if (armed_)
    ts->due->timers.erase(due_);
  armed_ = false;
}

bool IoTimer::active() const
{
  auto *ts = reinterpret_cast<TimerSource *>(source_);
  std::lock_guard<std::mutex> lk(ts->due->m);
  return armed_;
}

/* What the thread itself holds: its own references, so that a thread
 * detached by ~IoThread on itself can still finish and free them. */
struct IoThread::Loop {
  GMainContext *context;
  GMainLoop *loop;
};

IoThread::IoThread(const std::string &name)
{
  context_ = g_main_context_new();
  loop_ = g_main_loop_new(context_, FALSE);
  Started started;
  GSource *src = g_idle_source_new();
  g_source_set_callback(src, mark_running, &started, nullptr);
  g_source_attach(src, context_);
  g_source_unref(src);
  posts_ = g_source_new(&post_source_funcs, sizeof(PostSource));
  reinterpret_cast<PostSource *>(posts_)->queue = new PostSource::Queue;
  g_source_set_priority(posts_, G_PRIORITY_DEFAULT);
  g_source_set_name(posts_, "pt-io posted work");
  g_source_attach(posts_, context_);
  timers_ = g_source_new(&TimerSource::funcs, sizeof(TimerSource));
  reinterpret_cast<TimerSource *>(timers_)->due = new TimerSource::Due;
  g_source_set_priority(timers_, G_PRIORITY_DEFAULT);
  g_source_set_name(timers_, "pt-io timers");
  g_source_attach(timers_, context_);
  auto *run = new Loop{g_main_context_ref(context_), g_main_loop_ref(loop_)};
  thread_ = g_thread_new(name.c_str(), thread_main, run);
  std::unique_lock<std::mutex> lk(started.m);
  started.cv.wait(lk, [&] { return started.running; });
}

IoThread::~IoThread()
{
  if (is_current()) {
    /* Dropped by work running on this thread: it cannot join itself.  The
     * loop ends when that work returns; the thread then drains what is
     * pending, frees its references and ends, detached. */
    g_main_loop_quit(loop_);
    g_thread_unref(thread_);
  } else {
    GSource *src = g_idle_source_new();
    g_source_set_priority(src, G_PRIORITY_LOW);
    g_source_set_callback(src, quit_loop, g_main_loop_ref(loop_),
                          reinterpret_cast<GDestroyNotify>(g_main_loop_unref));
    g_source_attach(src, context_);
    g_source_unref(src);
    g_thread_join(thread_);
  }
  /* The context keeps them until it goes (after a detached thread's last
   * turn); timers that outlive the thread hold their own reference. */
  g_source_unref(posts_);
  g_source_unref(timers_);
  g_main_loop_unref(loop_);
  g_main_context_unref(context_);
}

IoThread &IoThread::process_wide()
{
  /* Deliberately never freed: joining a thread from a static destructor at
   * exit could wait on a request in flight. */
  static IoThread *shared = new IoThread("pt-io-shared");
  return *shared;
}

std::shared_ptr<IoThread> IoThread::shared_for_engine()
{
  return IoPool::global().acquire();
}

gpointer IoThread::thread_main(gpointer data)
{
  auto *run = static_cast<Loop *>(data);
  g_main_context_push_thread_default(run->context);
  g_main_loop_run(run->loop);
  /* Let sources that were cancelled just before the quit finish, so their
   * callbacks never run after the owners are gone. */
  while (g_main_context_iteration(run->context, FALSE)) {
  }
  g_main_context_pop_thread_default(run->context);
  g_main_loop_unref(run->loop);
  g_main_context_unref(run->context);
  delete run;
  return nullptr;
}

bool IoThread::is_current() const
{
  return g_main_context_is_owner(context_) && thread_ == g_thread_self();
}

void IoThread::post(std::function<void()> fn)
{
  auto *ps = reinterpret_cast<PostSource *>(posts_);
  bool first;
  {
    std::lock_guard<std::mutex> lk(ps->queue->m);
    first = ps->queue->fns.empty();
    ps->queue->fns.push_back(std::move(fn));
  }
  /* Work already waiting has made the source ready (or is being taken by
   * a dispatch that will run this too). */
  if (first)
    g_source_set_ready_time(posts_, 0);
}

void IoThread::run_sync(const std::function<void()> &fn)
{
  if (is_current()) {
    fn();
    return;
  }
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  post([&] {
    fn();
    std::lock_guard<std::mutex> lk(m);
    done = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lk(m);
  cv.wait(lk, [&] { return done; });
}

/* ---- the pool ---- */

struct IoPool::State {
  struct Slot {
    std::shared_ptr<IoThread> thread; /* null until first needed, and after ~IoPool */
    unsigned users = 0;
  };

  State(unsigned size, std::string n, unsigned grow)
      : name(std::move(n)), base(size), grow_per(grow), slots(grow ? kMaxThreads : size)
  {
  }

  mutable std::mutex m;
  const std::string name;
  const unsigned base;     /* started for the first users */
  const unsigned grow_per; /* 0: never more than base */
  /* Never resized: a lease keeps its index.  Threads start in index order
   * (acquire() takes the first of the idle ones), so slots [0, started)
   * are the ones started. */
  std::vector<Slot> slots;
  unsigned started = 0;
};

IoPool::IoPool(unsigned size, const std::string &name, unsigned grow_per)
    : state_(std::make_shared<State>(CLAMP(size, 1u, kMaxThreads), name, grow_per))
{
}

IoPool::~IoPool()
{
  std::vector<std::shared_ptr<IoThread>> threads;
  {
    std::lock_guard<std::mutex> lk(state_->m);
    for (State::Slot &s : state_->slots)
      threads.push_back(std::move(s.thread));
  }
  /* Threads without users are joined here; the others end with their
   * last user (see ~IoThread for one that ends on itself). */
}

namespace {

/* PT_IO_THREADS's value, when it is a whole number in 1..kMaxThreads */
bool io_threads_from_environment(unsigned *n)
{
  const char *v = g_getenv("PT_IO_THREADS");
  if (!v || !*v)
    return false;
  char *end = nullptr;
  errno = 0;
  const long value = std::strtol(v, &end, 10);
  if (errno != 0 || end == v || *end != '\0' || value < 1 || value > long(IoPool::kMaxThreads)) {
    GST_WARNING("PT_IO_THREADS=\"%s\" is not a whole number from 1 to %u: ignored", v,
                IoPool::kMaxThreads);
    return false;
  }
  *n = static_cast<unsigned>(value);
  return true;
}

}  // namespace

IoPool &IoPool::global()
{
  /* Never freed, like IoThread::process_wide(): its threads live as long
   * as the process. */
  static IoPool *pool = [] {
    unsigned n = 0;
    if (io_threads_from_environment(&n)) {
      GST_INFO("the process's I/O pool: %u threads (PT_IO_THREADS)", n);
      return new IoPool(n, "pt-io");
    }
    n = size_from_environment();
    GST_INFO("the process's I/O pool: %u threads, one more per %u streams beyond", n,
             kStreamsPerThread);
    return new IoPool(n, "pt-io", kStreamsPerThread);
  }();
  return *pool;
}

unsigned IoPool::size_from_environment()
{
  const unsigned cores = static_cast<unsigned>(MAX(g_get_num_processors(), 1u));
  unsigned n = 0;
  return io_threads_from_environment(&n) ? n : MIN(cores, kDefaultMaxThreads);
}

std::shared_ptr<IoThread> IoPool::acquire()
{
  std::shared_ptr<State> st = state_;
  std::unique_lock<std::mutex> lk(st->m);
  /* The fewest users among the started threads and the base's idle slots;
   * among equals a thread already running, then the first: a new thread
   * starts only when every running one has users. */
  const size_t candidates = MAX(st->started, MIN(st->base, st->slots.size()));
  size_t best = 0;
  for (size_t i = 1; i < candidates; ++i) {
    const State::Slot &a = st->slots[i], &b = st->slots[best];
    if (a.users < b.users || (a.users == b.users && a.thread && !b.thread))
      best = i;
  }
  /* Growing: every thread carries its share, and there is room for one more */
  if (st->grow_per && st->slots[best].users >= st->grow_per && candidates < st->slots.size())
    best = candidates;
  State::Slot &slot = st->slots[best];
  if (!slot.thread) {
    /* Under the lock: a second engine must not start the same thread.
     * Starting one takes a moment, and happens at most size times. */
    slot.thread = std::make_shared<IoThread>(st->name + "-" + std::to_string(best));
    st->started = MAX(st->started, static_cast<unsigned>(best + 1));
    GST_DEBUG("started I/O thread %s-%zu", st->name.c_str(), best);
  }
  slot.users++;
  std::shared_ptr<IoThread> thread = slot.thread;
  IoThread *raw = thread.get();
  /* The lease: its deleter counts the user out, on whatever thread drops
   * the last copy, and lets go of the thread (which ends if the pool has
   * let go of it too). */
  return std::shared_ptr<IoThread>(raw, [st, best, thread](IoThread *) mutable {
    {
      std::lock_guard<std::mutex> g(st->m);
      st->slots[best].users--;
    }
    thread.reset();
  });
}

unsigned IoPool::size() const
{
  return static_cast<unsigned>(state_->slots.size());
}

std::vector<unsigned> IoPool::loads() const
{
  std::lock_guard<std::mutex> lk(state_->m);
  std::vector<unsigned> out;
  for (unsigned i = 0; i < state_->started; ++i)
    out.push_back(state_->slots[i].users);
  return out;
}

}  // namespace pt
