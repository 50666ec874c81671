// SPDX-License-Identifier: LGPL-2.1-or-later
// Harf files (REST): POST /api/transcribe_files/, an upload with or without wait, task polls.
#pragma once

#include "emulator.h"

#include <json-glib/json-glib.h>

#include <map>
#include <string>
#include <vector>

#include "rest_common.h"

namespace emu {
namespace detail {

// Harf files: POST /api/transcribe_files/ (upload with wait, or poll by tasks_ids).
class HarfRestService {
 public:
  explicit HarfRestService(const Options &o) : opts_(o) {}
  HarfRestService(const HarfRestService &) = delete;
  HarfRestService &operator=(const HarfRestService &) = delete;

  static const char *kind(const RequestBody &b);
  Answer handle(RestRequest &r);

 private:
  struct Task {
    Transcript transcript;
    unsigned polls = 0;
  };

  static JsonArray *poll_ids(const RequestBody &b);
  Answer upload(RestRequest &r);
  // PENDING for a task's first poll_pending polls (and for unknown ids, as celery
  // does), then its result; several ids answer together once all are done.
  Answer poll(RestRequest &r, JsonArray *ids);
  std::string finished_body(const std::vector<const Transcript *> &ts) const;
  // {"state": <state>}; harf_state_type replaces the value.
  std::string state_body(const char *state) const;
  void state_value(JsonWriter &w, const char *state) const;

  const Options &opts_;
  std::map<std::string, Task> tasks_;
};

}  // namespace detail
}  // namespace emu
