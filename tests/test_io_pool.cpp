// SPDX-License-Identifier: LGPL-2.1-or-later
/* The I/O pool (io_thread.h): engines share a few I/O threads.
 *
 *  - the pool's size comes from PT_IO_THREADS (main() sets 5, which is never
 *    the default: that is the cores, at most 4), and it is a bound: many
 *    elements in one process run on that many I/O threads, counted by name
 *    in /proc/self/task;
 *  - each new engine gets the least loaded thread; the last user of a
 *    thread may let go of it on that thread itself;
 *  - engines of every backend created and destroyed at every stage of their
 *    work (connecting, logging in, waiting to reconnect, uploading,
 *    polling, retrying after a 429) on the one thread that other engines
 *    stream on: those others still get all their results, and what the
 *    destroyed ones left on the shared context never touches freed memory
 *    (the sanitizer run checks that). */
#include "engine_listener.h"
#include "io_thread.h"
#include "debug.h"
#include "test_helpers.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

using namespace testutil;

namespace {

/* The size main() gives the process's pools through PT_IO_THREADS. */
constexpr unsigned kPoolSize = 5;

/* Threads of this process named "<prefix>-<digits>" (Linux keeps 15 bytes
 * of a thread's name in /proc/self/task/<tid>/comm). */
unsigned count_threads(const char *prefix)
{
  GDir *dir = g_dir_open("/proc/self/task", 0, nullptr);
  fail_unless(dir != nullptr);
  const std::string want = std::string(prefix) + "-";
  unsigned n = 0;
  while (const gchar *tid = g_dir_read_name(dir)) {
    gchar *path = g_build_filename("/proc/self/task", tid, "comm", nullptr);
    gchar *comm = nullptr;
    if (g_file_get_contents(path, &comm, nullptr, nullptr)) {
      std::string name = g_strchomp(comm);
      if (name.compare(0, want.size(), want) == 0 && name.size() > want.size() &&
          name.find_first_not_of("0123456789", want.size()) == std::string::npos)
        n++;
    }
    g_free(comm);
    g_free(path);
  }
  g_dir_close(dir);
  return n;
}

unsigned count_all_threads()
{
  GDir *dir = g_dir_open("/proc/self/task", 0, nullptr);
  fail_unless(dir != nullptr);
  unsigned n = 0;
  while (g_dir_read_name(dir))
    n++;
  g_dir_close(dir);
  return n;
}

unsigned sum(const std::vector<unsigned> &v)
{
  unsigned s = 0;
  for (unsigned x : v)
    s += x;
  return s;
}

/* What an engine reports, for the thread that waits on it. */
struct Listener final : public testutil::RecordingListener {
  void on_result(const pt::Result &r) override
  {
    std::lock_guard<std::mutex> lk(m);
    if (r.segment.final)
      finals.push_back(r.segment.text);
    cv.notify_all();
  }
  void on_progress(const pt::Progress &p) override
  {
    std::lock_guard<std::mutex> lk(m);
    if (!p.task_id.empty())
      task_seen = true;
    cv.notify_all();
  }
  void on_reconnect(const pt::ReconnectInfo &) override
  {
    std::lock_guard<std::mutex> lk(m);
    reconnects++;
    cv.notify_all();
  }
  bool wait_done(unsigned seconds)
  {
    return wait(seconds, [this] { return finished || !errors.empty(); });
  }

  std::vector<std::string> finals;
  bool task_seen = false;
  int reconnects = 0;
};

/* 16 kHz mono S16: three tone bursts the emulator hears as three segments. */
const std::vector<uint8_t> &speech()
{
  static const std::vector<uint8_t> audio =
      make_audio(GST_AUDIO_FORMAT_S16LE, 16000, 1, three_sentences());
  return audio;
}

constexpr size_t kChunkBytes = 3200; /* 100 ms */

/* One engine of the real backends against an emulator, on a given thread. */
struct Stream {
  Stream(const pt::Settings &s, std::shared_ptr<pt::IoThread> io)
  {
    engine = std::make_unique<pt::Engine>(s, &listener, nullptr, pt::make_backend, std::move(io));
    GstAudioInfo in;
    gst_audio_info_set_format(&in, GST_AUDIO_FORMAT_S16LE, 16000, 1, nullptr);
    std::string err;
    fail_unless(engine->set_format(in, &err), "%s", err.c_str());
  }
  /* The next 100 ms; false when all was pushed. */
  bool push_chunk()
  {
    const std::vector<uint8_t> &a = speech();
    if (offset >= a.size())
      return false;
    size_t n = std::min(kChunkBytes, a.size() - offset);
    uint64_t pts = gst_util_uint64_scale(offset / 2, GST_SECOND, 16000);
    flow = engine->push_audio(pts, a.data() + offset, n);
    offset += n;
    return true;
  }
  void push_all_and_finish()
  {
    while (push_chunk()) {
    }
    engine->finish();
  }

  Listener listener; /* declared first: outlives the engine */
  std::unique_ptr<pt::Engine> engine;
  size_t offset = 0;
  pt::Engine::Flow flow = pt::Engine::Flow::Ok;
};

pt::Settings settings_for(emu::Emulator &e, pt::BackendKind kind)
{
  pt::Settings s;
  s.backend = kind;
  s.token = kToken;
  s.harf_url = e.harf_live_url();
  s.harf_api_url = e.harf_api_url();
  s.harf_wait = false; /* poll: a poll timer on the shared context */
  s.nevisa_username = kUser;
  s.nevisa_password = kPassword;
  s.nevisa_login_url = e.nevisa_login_url();
  s.nevisa_api_url = e.nevisa_api_url();
  s.nevisa_live_url = e.nevisa_live_url();
  s.timeout_s = 5;
  s.poll_interval_ms = 100;
  return s;
}

const char *kind_name(pt::BackendKind k)
{
  return pt::backend_name(k);
}

}  // namespace

/* PT_IO_THREADS: a whole number from 1 to 64, else the cores, at most 4;
 * an IoPool's size is clamped the same way. */
GST_START_TEST(test_pool_size_from_environment)
{
  const unsigned fallback = MIN(MAX(g_get_num_processors(), 1u), 4u);
  struct {
    const char *value;
    unsigned size;
  } cases[] = {{"1", 1},          {"3", 3},         {"64", 64},
               {"0", fallback},   {"65", fallback}, {"-2", fallback},
               {"abc", fallback}, {"4x", fallback}, {"", fallback}};
  for (auto &c : cases) {
    g_setenv("PT_IO_THREADS", c.value, TRUE);
    fail_unless_equals_int(pt::IoPool::size_from_environment(), c.size);
  }
  g_unsetenv("PT_IO_THREADS");
  fail_unless_equals_int(pt::IoPool::size_from_environment(), fallback);
  g_setenv("PT_IO_THREADS", "5", TRUE);
  fail_unless_equals_int(pt::IoPool::size_from_environment(), kPoolSize);
  /* The process's pool (of this test program's copy of the core library)
   * took it too */
  fail_unless_equals_int(pt::IoPool::global().size(), kPoolSize);

  fail_unless_equals_int(pt::IoPool(0, "pt-iot").size(), 1);
  fail_unless_equals_int(pt::IoPool(1000, "pt-iot").size(), pt::IoPool::kMaxThreads);
  fail_unless_equals_int(count_threads("pt-iot"), 0); /* started only when needed */
}
GST_END_TEST;

/* A pool that grows: its base threads first, then one more whenever every
 * started thread carries grow_per users; leaving users make room again
 * before anything starts. */
GST_START_TEST(test_pool_grows_with_its_users)
{
  auto pool = std::make_unique<pt::IoPool>(2, "pt-iog", 3);
  fail_unless_equals_int(pool->size(), pt::IoPool::kMaxThreads);
  std::vector<std::shared_ptr<pt::IoThread>> users;
  for (int i = 0; i < 6; ++i)
    users.push_back(pool->acquire());
  fail_unless(pool->loads() == std::vector<unsigned>({3, 3}));
  fail_unless_equals_int(count_threads("pt-iog"), 2);
  users.push_back(pool->acquire()); /* both full: a third starts */
  fail_unless(pool->loads() == std::vector<unsigned>({3, 3, 1}));
  fail_unless_equals_int(count_threads("pt-iog"), 3);
  users.push_back(pool->acquire()); /* the least loaded, not a fourth */
  fail_unless(pool->loads() == std::vector<unsigned>({3, 3, 2}));
  users.erase(users.begin()); /* a user of pt-iog-0 leaves */
  fail_unless(pool->loads() == std::vector<unsigned>({2, 3, 2}));
  users.push_back(pool->acquire()); /* a tie between running ones: the first */
  users.push_back(pool->acquire());
  fail_unless(pool->loads() == std::vector<unsigned>({3, 3, 3}));
  users.push_back(pool->acquire());
  fail_unless(pool->loads() == std::vector<unsigned>({3, 3, 3, 1}));
  fail_unless_equals_int(count_threads("pt-iog"), 4);
  /* One that does not grow stays at its size, however loaded */
  auto fixed = std::make_unique<pt::IoPool>(1, "pt-iof");
  std::vector<std::shared_ptr<pt::IoThread>> many;
  for (int i = 0; i < 10; ++i)
    many.push_back(fixed->acquire());
  fail_unless(fixed->loads() == std::vector<unsigned>({10}));
  many.clear();
  users.clear();
  fixed.reset();
  pool.reset();
  fail_unless_equals_int(count_threads("pt-iog"), 0);
  fail_unless_equals_int(count_threads("pt-iof"), 0);
}
GST_END_TEST;

/* The least loaded thread for each new user, threads started lazily and in
 * order; a pool that goes joins its idle threads, and a thread whose last
 * user lets go on that very thread ends on its own. */
GST_START_TEST(test_pool_least_loaded)
{
  auto pool = std::make_unique<pt::IoPool>(2, "pt-iol");
  fail_unless_equals_int(count_threads("pt-iol"), 0);
  std::shared_ptr<pt::IoThread> a = pool->acquire();
  fail_unless_equals_int(count_threads("pt-iol"), 1);
  std::shared_ptr<pt::IoThread> b = pool->acquire();
  fail_unless(a.get() != b.get(), "a second user while a thread is idle to start");
  fail_unless_equals_int(count_threads("pt-iol"), 2);
  std::shared_ptr<pt::IoThread> c = pool->acquire(); /* a tie: the first */
  fail_unless(c.get() == a.get());
  fail_unless(pool->loads() == std::vector<unsigned>({2, 1}));
  {
    std::shared_ptr<pt::IoThread> copy = b; /* copies are the same user */
    fail_unless(pool->loads() == std::vector<unsigned>({2, 1}));
  }
  b.reset();
  fail_unless(pool->loads() == std::vector<unsigned>({2, 0}));
  std::shared_ptr<pt::IoThread> d = pool->acquire(); /* the idle one */
  fail_unless(d.get() != a.get());
  fail_unless(pool->loads() == std::vector<unsigned>({2, 1}));
  d.reset();
  fail_unless_equals_int(count_threads("pt-iol"), 2); /* kept while the pool lives */

  /* The pool goes: its idle thread is joined, the used one stays. */
  pool.reset();
  fail_unless_equals_int(count_threads("pt-iol"), 1);
  bool ran = false;
  a->run_sync([&] { ran = a->is_current(); });
  fail_unless(ran);
  c.reset();

  /* The last reference dropped on the thread itself: no self-join. */
  std::mutex m;
  std::condition_variable cv;
  bool dropped = false;
  pt::IoThread *t = a.get();
  t->post([&m, &cv, &dropped, last = std::move(a)]() mutable {
    last.reset(); /* ~IoThread, on itself */
    std::lock_guard<std::mutex> lk(m);
    dropped = true;
    cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> lk(m);
    fail_unless(cv.wait_for(lk, std::chrono::seconds(10), [&] { return dropped; }));
  }
  /* A detached thread's end signals nothing: look until it is gone. */
  gint64 deadline = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;
  while (count_threads("pt-iol") > 0 && g_get_monotonic_time() < deadline)
    g_usleep(2000);
  fail_unless_equals_int(count_threads("pt-iol"), 0);
}
GST_END_TEST;

/* Engines made without a thread of their own take the process's pool:
 * twelve of them on five threads (PT_IO_THREADS=5), spread evenly, and
 * each still does its work. */
GST_START_TEST(test_engines_share_the_pool)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  pt::IoPool &pool = pt::IoPool::global();
  const unsigned before = count_threads("pt-io");
  const unsigned users_before = sum(pool.loads());
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < 12; ++i)
    streams.push_back(
        std::make_unique<Stream>(settings_for(e, pt::BackendKind::HarfLive), nullptr));
  std::vector<unsigned> loads = pool.loads();
  fail_unless_equals_int(loads.size(), kPoolSize);
  fail_unless_equals_int(sum(loads), users_before + 12);
  fail_unless(*std::max_element(loads.begin(), loads.end()) -
                      *std::min_element(loads.begin(), loads.end()) <=
                  1,
              "uneven loads");
  fail_unless(count_threads("pt-io") - before <= kPoolSize);
  fail_unless(count_threads("pt-io") == kPoolSize || before > 0);
  /* All twelve streams at once, interleaved */
  for (bool more = true; more;) {
    more = false;
    for (auto &s : streams)
      more = s->push_chunk() || more;
  }
  for (auto &s : streams)
    s->engine->finish();
  for (auto &s : streams) {
    fail_unless(s->listener.wait_done(60), "a stream did not finish");
    fail_unless(s->listener.errors.empty(), "%s", s->listener.errors[0].c_str());
    fail_unless_equals_int(s->listener.finals.size(), 3);
  }
  streams.clear();
  fail_unless_equals_int(sum(pool.loads()), users_before);
  /* The process's threads are kept for the next engines */
  fail_unless(count_threads("pt-io") >= kPoolSize);
}
GST_END_TEST;

/* The same through the elements (the plugin has its own copy of the pool):
 * twelve persiantranscribe elements in PLAYING cost one thread each (their
 * src task) plus at most PT_IO_THREADS=5 I/O threads in all, not two each,
 * and each transcribes its stream. */
GST_START_TEST(test_elements_share_the_pool)
{
  constexpr int kElements = 12;
  emu::Emulator e(default_options());
  start_emulator(e);
  const unsigned io_before = count_threads("pt-io");
  const unsigned all_before = count_all_threads();
  struct El {
    GstElement *el;
    GstBus *bus;
    GstHarness *h;
  };
  std::vector<El> els;
  for (int i = 0; i < kElements; ++i) {
    El x;
    x.el = make_element("persiantranscribe", e, &x.bus);
    x.h = gst_harness_new_with_element(x.el, "sink", "src");
    gst_harness_play(x.h);
    gst_harness_set_src_caps(x.h, audio_caps(GST_AUDIO_FORMAT_S16LE, 16000, 1));
    els.push_back(x);
  }
  const unsigned io_during = count_threads("pt-io");
  const unsigned all_during = count_all_threads();
  GST_INFO("%d elements: %u I/O threads (%u before), %u threads in all (%u before)", kElements,
           io_during, io_before, all_during, all_before);
  /* (Run in one process with the other tests, CK_FORK=no, the test
   * program's own pool may have threads of the same name already.) */
  fail_unless(io_during - io_before <= kPoolSize, "%u I/O threads for %d elements",
              io_during - io_before, kElements);
  fail_unless(io_during - io_before == kPoolSize || io_before > 0,
              "%u I/O threads, not PT_IO_THREADS", io_during - io_before);
  fail_unless(all_during - all_before <= kElements + kPoolSize, "%u new threads for %d elements",
              all_during - all_before, kElements);

  const std::vector<uint8_t> &a = speech();
  for (size_t off = 0; off < a.size(); off += kChunkBytes) {
    size_t n = std::min(kChunkBytes, a.size() - off);
    for (El &x : els) {
      GstBuffer *b = gst_buffer_new_memdup(a.data() + off, n);
      GST_BUFFER_PTS(b) = gst_util_uint64_scale(off / 2, GST_SECOND, 16000);
      GST_BUFFER_DURATION(b) = gst_util_uint64_scale(n / 2, GST_SECOND, 16000);
      fail_unless_equals_int(gst_harness_push(x.h, b), GST_FLOW_OK);
    }
  }
  for (El &x : els)
    fail_unless(gst_harness_push_event(x.h, gst_event_new_eos()));
  for (El &x : els) {
    std::vector<GstEvent *> events = pull_events_until_eos(x.h);
    free_events(events);
    std::vector<GstMessage *> others;
    std::vector<GstStructure *> msgs = pop_transcriptions(x.bus, &others);
    for (GstMessage *m : others) {
      fail_if(GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR, "an element failed");
      gst_message_unref(m);
    }
    fail_unless_equals_int(msgs.size(), 3);
    free_structures(msgs);
    for (GstBuffer *b : pull_all_buffers(x.h))
      gst_buffer_unref(b);
  }
  for (El &x : els)
    teardown_element(x.h, x.el, x.bus);
  fail_unless(count_threads("pt-io") - io_before <= kPoolSize);
}
GST_END_TEST;

/* Engines of every backend made and destroyed, at every stage of their
 * work, on the one I/O thread three other engines stream on: the three get
 * every result; nothing the destroyed ones left behind runs into freed
 * memory (timers, connects, logins, uploads, polls, retries, reconnection
 * back-offs, the WebSocket's signals). */
GST_START_TEST(test_churn_beside_streams)
{
  emu::Emulator steady(batch_options());
  start_emulator(steady);
  /* Slow answers: work is in flight when an engine goes. */
  emu::Options slow_opts = batch_options();
  slow_opts.delay_ms = 150;
  slow_opts.poll_pending = 3;
  slow_opts.terminate_delay_ms = 300;
  emu::Emulator slow(slow_opts);
  start_emulator(slow);
  /* Failures: reconnection back-off timers (a close on the second window)
   * and retry timers (every REST request throttled, Retry-After: 1). */
  emu::Options faulty_opts = batch_options();
  faulty_opts.close_after = 2;
  faulty_opts.throttle_count = 1000000;
  faulty_opts.retry_after_s = 1;
  emu::Emulator faulty(faulty_opts);
  start_emulator(faulty);

  pt::IoPool pool(1, "pt-iob"); /* everyone on one thread */
  std::vector<std::unique_ptr<Stream>> steady_streams;
  for (pt::BackendKind k :
       {pt::BackendKind::HarfLive, pt::BackendKind::NevisaLive, pt::BackendKind::Nevisa})
    steady_streams.push_back(std::make_unique<Stream>(settings_for(steady, k), pool.acquire()));
  fail_unless(pool.loads() == std::vector<unsigned>({3}));

  const pt::BackendKind kinds[] = {pt::BackendKind::HarfLive, pt::BackendKind::HarfFile,
                                   pt::BackendKind::Nevisa, pt::BackendKind::NevisaLive};
  struct Target {
    emu::Emulator *e;
    const char *what;
    int last_stage;
  } targets[] = {{&slow, "slow", 4}, {&faulty, "faulty", 3}};
  int made = 0;
  for (int round = 0; round < 2; ++round) {
    for (const Target &t : targets) {
      for (int stage = 0; stage <= t.last_stage; ++stage) {
        for (pt::BackendKind k : kinds) {
          GST_INFO("churn: %s on %s, stage %d", kind_name(k), t.what, stage);
          emu::Emulator &e = *t.e;
          const size_t harf_sessions = e.sessions().size();
          const size_t rest = e.rest_requests().size();
          {
            Stream c(settings_for(e, k), pool.acquire());
            made++;
            fail_unless(pool.loads() == std::vector<unsigned>({4}));
            /* 0: no audio, no backend.  1: the live backends are connecting
             * (or logging in), the others recording. */
            if (stage >= 1) {
              c.push_chunk();
              if (k == pt::BackendKind::HarfLive)
                fail_unless(e.wait_until(
                    [&](const std::vector<emu::SessionRecord> &r) {
                      return r.size() > harf_sessions;
                    },
                    10000));
              /* nevisa-live logs in first: its login request is the sign */
              if (k == pt::BackendKind::NevisaLive)
                fail_unless(e.wait_rest(
                    [&](const std::vector<emu::RestRecord> &r) { return r.size() > rest; }, 10000));
            }
            /* 2: all the audio; upload, login or finalize under way */
            if (stage >= 2)
              c.push_all_and_finish();
            /* 3, slow: a result, or a batch job's task polled.  3, faulty:
             * waiting to reconnect (harf-live: the back-off timer is armed
             * by the time the reconnect is reported), or a throttled
             * request tried again (a retry timer armed or a request in
             * flight). */
            if (stage == 3 && &e == &slow)
              c.listener.wait(30, [&c] {
                return !c.listener.finals.empty() || c.listener.task_seen ||
                       !c.listener.errors.empty() || c.listener.finished;
              });
            if (stage == 3 && &e == &faulty) {
              if (k == pt::BackendKind::HarfLive)
                fail_unless(c.listener.wait(10, [&c] { return c.listener.reconnects > 0; }));
              else
                fail_unless(e.wait_rest(
                    [&](const std::vector<emu::RestRecord> &r) { return r.size() >= rest + 2; },
                    10000));
            }
            /* 4: the end, results delivered */
            if (stage == 4)
              fail_unless(c.listener.wait_done(30), "%s did not end", kind_name(k));
          }
          fail_unless(pool.loads() == std::vector<unsigned>({3}));
          /* The others keep streaming meanwhile */
          for (auto &s : steady_streams)
            s->push_chunk();
        }
      }
    }
  }
  GST_INFO("%d engines made and destroyed beside the streams", made);
  for (auto &s : steady_streams)
    s->push_all_and_finish();
  for (auto &s : steady_streams) {
    fail_unless(s->listener.wait_done(60), "a steady stream did not finish");
    fail_unless(s->listener.errors.empty(), "%s", s->listener.errors[0].c_str());
    fail_unless(s->listener.finished);
    fail_if(s->listener.finals.empty(), "a steady stream got no result");
  }
  /* harf-live: one final segment per burst */
  fail_unless_equals_int(steady_streams[0]->listener.finals.size(), 3);
  steady_streams.clear();
  fail_unless(pool.loads() == std::vector<unsigned>({0}));
  /* The thread still runs: nothing left behind broke it */
  std::shared_ptr<pt::IoThread> io = pool.acquire();
  bool ran = false;
  io->run_sync([&] { ran = true; });
  fail_unless(ran);
}
GST_END_TEST;

/* ---- post() and IoTimer: one queue and one timer list per thread ---- */

/* Waits (at most 10 s, then fails) until pred holds under m. */
template <typename Pred>
void wait_for(std::mutex &m, std::condition_variable &cv, Pred pred, const char *what)
{
  std::unique_lock<std::mutex> lk(m);
  fail_unless(cv.wait_for(lk, std::chrono::seconds(10), pred), "timed out waiting for %s", what);
}

/* Work posted from several threads at once runs exactly once each, in the
 * order each thread posted it; work posted by posted work runs after. */
GST_START_TEST(test_post_keeps_each_threads_order)
{
  pt::IoThread io("pt-iop");
  constexpr int kThreads = 4, kEach = 2000;
  std::vector<std::vector<int>> seen(kThreads); /* touched on the I/O thread only */
  std::vector<std::thread> posters;
  for (int t = 0; t < kThreads; ++t)
    posters.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i)
        io.post([&, t, i] {
          fail_unless(io.is_current());
          seen[t].push_back(i);
        });
    });
  for (std::thread &th : posters)
    th.join();
  std::vector<int> order;
  io.run_sync([&] {
    io.post([&] { order.push_back(2); });
    order.push_back(1);
  });
  io.run_sync([] {}); /* after the post just made */
  for (int t = 0; t < kThreads; ++t) {
    fail_unless_equals_int(seen[t].size(), kEach);
    for (int i = 0; i < kEach; ++i)
      fail_unless_equals_int(seen[t][i], i);
  }
  fail_unless(order == std::vector<int>({1, 2}));
}
GST_END_TEST;

struct Fired {
  std::mutex m;
  std::condition_variable cv;
  std::vector<int> order;
};

struct TimerProbe {
  Fired *fired;
  int id;
  std::function<void()> then; /* runs on the I/O thread after recording */
  static void cb(gpointer data)
  {
    auto *p = static_cast<TimerProbe *>(data);
    {
      std::lock_guard<std::mutex> lk(p->fired->m);
      p->fired->order.push_back(p->id);
      p->fired->cv.notify_all();
    }
    if (p->then)
      p->then();
  }
};

/* Timers fire once each, in the order of their deadlines whenever the
 * thread gets to them; re-arming postpones, stopping cancels; they are
 * armed from another thread (which wakes the loop) and from a callback,
 * and a callback may destroy its own timer. */
GST_START_TEST(test_timers_fire_in_deadline_order)
{
  pt::IoThread io("pt-iot");
  Fired fired;
  TimerProbe p1{&fired, 1, nullptr}, p2{&fired, 2, nullptr}, p3{&fired, 3, nullptr};
  pt::IoTimer t1(io, TimerProbe::cb, &p1), t2(io, TimerProbe::cb, &p2), t3(io, TimerProbe::cb, &p3);
  t1.start(60);
  t2.start(20);
  t3.start(40);
  fail_unless(t1.active() && t2.active() && t3.active());
  wait_for(fired.m, fired.cv, [&] { return fired.order.size() == 3; }, "three timers");
  fail_unless(fired.order == std::vector<int>({2, 3, 1}));
  fail_unless(!t1.active() && !t2.active() && !t3.active());

  /* Re-armed later than another: fires after it, once; stopped: never,
   * although its deadline came first. */
  fired.order.clear();
  t1.start(10);
  t1.start(80);
  t2.start(50);
  t3.start(5);
  t3.stop();
  fail_unless(!t3.active());
  wait_for(fired.m, fired.cv, [&] { return fired.order.size() == 2; }, "two timers");
  io.run_sync([] {});
  fail_unless(fired.order == std::vector<int>({2, 1}));

  /* A callback that destroys its own timer and arms another */
  fired.order.clear();
  auto *own = new pt::IoTimer(io, TimerProbe::cb, &p1);
  p1.then = [&] {
    delete own;
    t2.start(0);
  };
  own->start(10);
  wait_for(fired.m, fired.cv, [&] { return fired.order.size() == 2; }, "the timer armed by a callback");
  fail_unless(fired.order == std::vector<int>({1, 2}));
}
GST_END_TEST;

/* Many timers at random deadlines: each fires exactly once, never before
 * its deadline, and in the order of the deadlines; one that outlives its
 * thread can still be stopped and destroyed. */
GST_START_TEST(test_many_timers)
{
  auto io = std::make_unique<pt::IoThread>("pt-iom");
  constexpr int kTimers = 1000;
  Fired fired;
  std::vector<TimerProbe> probes;
  probes.reserve(kTimers);
  std::vector<std::unique_ptr<pt::IoTimer>> timers;
  /* Each deadline lies between lo and hi: the clock around start(). */
  std::vector<gint64> lo(kTimers), hi(kTimers), fired_at(kTimers);
  GRand *rand = g_rand_new_with_seed(11);
  for (int i = 0; i < kTimers; ++i) {
    probes.push_back({&fired, i, nullptr});
    probes.back().then = [&, i] { fired_at[i] = g_get_monotonic_time(); };
    timers.push_back(std::make_unique<pt::IoTimer>(*io, TimerProbe::cb, &probes.back()));
  }
  for (int i = 0; i < kTimers; ++i) {
    const unsigned ms = g_rand_int_range(rand, 0, 100);
    lo[i] = g_get_monotonic_time() + ms * 1000;
    timers[i]->start(ms);
    hi[i] = g_get_monotonic_time() + ms * 1000;
  }
  g_rand_free(rand);
  wait_for(fired.m, fired.cv, [&] { return fired.order.size() == kTimers; }, "1000 timers");
  io->run_sync([] {});
  fail_unless_equals_int(fired.order.size(), kTimers);
  std::vector<bool> once(kTimers, false);
  for (size_t k = 0; k < fired.order.size(); ++k) {
    const int i = fired.order[k];
    fail_unless(!once[i], "timer %d fired twice", i);
    once[i] = true;
    fail_unless(fired_at[i] >= lo[i], "timer %d fired %" G_GINT64_FORMAT " us early", i,
                lo[i] - fired_at[i]);
    /* The one before it was due no later than it */
    if (k > 0)
      fail_unless(lo[fired.order[k - 1]] <= hi[i], "timer %d fired after a later one", i);
  }
  timers[0]->start(100000);
  io.reset(); /* the thread goes first */
  fail_unless(timers[0]->active());
  timers[0]->stop();
  timers.clear();
}
GST_END_TEST;

static Suite *io_pool_suite(void)
{
  Suite *s = suite_create("io_pool");
  TCase *tc = tcase_create("general");
  /* The churn test takes 10-20 s here, several times that under the
   * sanitizers. */
  tcase_set_timeout(tc, 240);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_pool_size_from_environment);
  tcase_add_test(tc, test_pool_least_loaded);
  tcase_add_test(tc, test_pool_grows_with_its_users);
  tcase_add_test(tc, test_engines_share_the_pool);
  tcase_add_test(tc, test_elements_share_the_pool);
  tcase_add_test(tc, test_churn_beside_streams);
  tcase_add_test(tc, test_post_keeps_each_threads_order);
  tcase_add_test(tc, test_timers_fire_in_deadline_order);
  tcase_add_test(tc, test_many_timers);
  return s;
}

int main(int argc, char **argv)
{
  /* Before any pool exists: 5 threads is never the default (at most 4), so
   * five threads seen prove the variable was read. */
  g_setenv("PT_IO_THREADS", "5", TRUE);
  gst_check_init(&argc, &argv);
  pt::init_debug();
  return gst_check_run_suite(io_pool_suite(), "io_pool", __FILE__);
}
