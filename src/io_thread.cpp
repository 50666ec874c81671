// SPDX-License-Identifier: LGPL-2.1-or-later
#include "io_thread.h"

#include <condition_variable>
#include <mutex>

namespace pt {

namespace {

struct Posted {
  std::function<void()> fn;
};

gboolean run_posted(gpointer data)
{
  static_cast<Posted *>(data)->fn();
  return G_SOURCE_REMOVE;
}

void free_posted(gpointer data)
{
  delete static_cast<Posted *>(data);
}

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

}  // namespace

IoThread::IoThread(const std::string &name)
{
  context_ = g_main_context_new();
  loop_ = g_main_loop_new(context_, FALSE);
  Started started;
  GSource *src = g_idle_source_new();
  g_source_set_callback(src, mark_running, &started, nullptr);
  g_source_attach(src, context_);
  g_source_unref(src);
  thread_ = g_thread_new(name.c_str(), thread_main, this);
  std::unique_lock<std::mutex> lk(started.m);
  started.cv.wait(lk, [&] { return started.running; });
}

IoThread::~IoThread()
{
  g_return_if_fail(!is_current());
  GSource *src = g_idle_source_new();
  g_source_set_priority(src, G_PRIORITY_LOW);
  g_source_set_callback(src, quit_loop, loop_, nullptr);
  g_source_attach(src, context_);
  g_source_unref(src);
  g_thread_join(thread_);
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

gpointer IoThread::thread_main(gpointer data)
{
  auto *self = static_cast<IoThread *>(data);
  g_main_context_push_thread_default(self->context_);
  g_main_loop_run(self->loop_);
  /* Let sources that were cancelled just before the quit finish, so their
   * callbacks never run after the owners are gone. */
  while (g_main_context_iteration(self->context_, FALSE)) {
  }
  g_main_context_pop_thread_default(self->context_);
  return nullptr;
}

bool IoThread::is_current() const
{
  return g_main_context_is_owner(context_) && thread_ == g_thread_self();
}

void IoThread::post(std::function<void()> fn)
{
  GSource *src = g_idle_source_new();
  g_source_set_priority(src, G_PRIORITY_DEFAULT);
  g_source_set_callback(src, run_posted, new Posted{std::move(fn)}, free_posted);
  g_source_attach(src, context_);
  g_source_unref(src);
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

}  // namespace pt
