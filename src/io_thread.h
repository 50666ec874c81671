// SPDX-License-Identifier: LGPL-2.1-or-later
/* The I/O thread: one GThread running one GMainContext, which owns every
 * libsoup object created on it.
 *
 * Ownership: an IoThread is held by std::shared_ptr.  Today each Engine
 * creates its own; a process-wide pool can later hand the same IoThread to
 * many engines, because nothing here knows who uses it.  Code that runs on
 * it must not block: it is a GLib event loop. */
#pragma once

#include <glib.h>

#include <functional>
#include <memory>
#include <string>

namespace pt {

class IoThread {
 public:
  explicit IoThread(const std::string &name);
  ~IoThread(); /* quits and joins; must not be called on the I/O thread itself */

  IoThread(const IoThread &) = delete;
  IoThread &operator=(const IoThread &) = delete;

  /* One I/O thread for the whole process, never destroyed: it carries
   * work that must outlive the element that started it (a terminate-task
   * sent while a pipeline stops). */
  static IoThread &process_wide();

  GMainContext *context() const { return context_; }
  bool is_current() const;

  /* Runs fn on the I/O thread, later, and returns at once. */
  void post(std::function<void()> fn);
  /* Runs fn on the I/O thread and waits until it has returned.  Runs it
   * directly when called on the I/O thread. */
  void run_sync(const std::function<void()> &fn);

 private:
  static gpointer thread_main(gpointer data);

  GMainContext *context_ = nullptr;
  GMainLoop *loop_ = nullptr;
  GThread *thread_ = nullptr;
};

}  // namespace pt
