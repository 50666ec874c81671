// SPDX-License-Identifier: LGPL-2.1-or-later
/* Decides when a Harf segment is final.
 *
 * Harf has no "final" flag.  A segment_id that comes again is a revision that
 * replaces the earlier text.  So a segment is final once the service has
 * moved on: a reply with another segment_id, a reply without text (PENDING),
 * or the end of the stream.  Partial revisions are emitted only when asked. */
#pragma once

#include <optional>
#include <set>
#include <vector>

#include "transcript.h"

namespace pt {

class SegmentTracker {
 public:
  explicit SegmentTracker(bool partial_results) : partial_(partial_results) {}

  /* Each returns the segments to publish now, in order. */
  std::vector<Segment> on_segment(Segment s);
  std::vector<Segment> on_other_reply();
  std::vector<Segment> on_end();

  /* True when the last on_segment() revised a segment already published as
   * final (the caller logs it). */
  bool last_was_late_revision() const { return late_revision_; }

 private:
  void close_open(std::vector<Segment> &out);

  bool partial_;
  bool late_revision_ = false;
  std::optional<Segment> open_;
  std::set<int64_t> finalized_;
};

}  // namespace pt
