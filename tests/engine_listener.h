// SPDX-License-Identifier: LGPL-2.1-or-later
/* The EngineListener of the tests that drive pt::Engine directly: it keeps
 * the errors and counts the ends, each under m and signalled on cv; a test
 * records what else it needs by overriding the other callbacks.  Include it
 * before gstcheck.h, whose fail() macro would rename Engine::fail. */
#pragma once

#include "engine.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace testutil {

struct RecordingListener : public pt::EngineListener {
  void on_result(const pt::Result &) override {}
  void on_warning(const pt::Error &) override {}
  void on_error(const pt::Error &e) override
  {
    std::lock_guard<std::mutex> lk(m);
    errors.push_back(e.message);
    cv.notify_all();
  }
  void on_finished() override
  {
    std::lock_guard<std::mutex> lk(m);
    finished++;
    cv.notify_all();
  }
  /* Waits (at most SECONDS) until pred() holds, m held while it is checked. */
  template <class Pred>
  bool wait(unsigned seconds, Pred pred)
  {
    std::unique_lock<std::mutex> lk(m);
    return cv.wait_for(lk, std::chrono::seconds(seconds), pred);
  }

  std::mutex m;
  std::condition_variable cv;
  std::vector<std::string> errors;
  int finished = 0; /* on_finished() calls */
};

}  // namespace testutil
