// SPDX-License-Identifier: LGPL-2.1-or-later
// The REST fault switches: http_401, throttle_count, error_500_count, not_json, the
// celery-progress failures and the answer shapes (deep JSON, huge bodies).
#pragma once

#include "emulator.h"

#include <string>

#include "rest_common.h"

namespace emu {
namespace detail {

// Applies Options' fault switches to REST requests; counts the counted ones down.
class Faults {
 public:
  explicit Faults(const Options &o)
      : opts_(o), throttle_left_(o.throttle_count), error_500_left_(o.error_500_count)
  {
  }

  // Before the request is handled: the fault switches, in order; sets rec.fault when one
  // applies (rec.kind is set).
  Answer check(RestRecord &rec);
  // After: not_json (and nevisa_progress_fail "not-json"): a 200 answer's body becomes an
  // HTML page (rec.fault "not-json" or "progress-not-json").
  void not_json(Answer &answer, RestRecord &rec) const;
  // After, when no other fault applied: http_deep_json_depth and http_huge_body_bytes on
  // their target's 200 answers (rec.fault "deep-json" or "huge-body").
  void shape(Answer &answer, RestRecord &rec) const;

 private:
  const Options &opts_;
  int throttle_left_, error_500_left_;
};

// Does a target name (Options::http_deep_target and the like) name this record kind?
bool target_matches(const std::string &target, const std::string &kind);

}  // namespace detail
}  // namespace emu
