// SPDX-License-Identifier: LGPL-2.1-or-later
// The REST fault switches: http_401, throttle_count, error_500_count and not_json.
#pragma once

#include "emulator.h"

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

  // The fault switches, in order; sets rec.fault when one applies.
  Answer check(RestRecord &rec);
  // not_json: a 200 answer's body becomes an HTML page (rec.fault "not-json").
  void not_json(Answer &answer, RestRecord &rec) const;

 private:
  const Options &opts_;
  int throttle_left_, error_500_left_;
};

}  // namespace detail
}  // namespace emu
