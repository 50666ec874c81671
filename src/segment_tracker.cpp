// SPDX-License-Identifier: LGPL-2.1-or-later
#include "segment_tracker.h"

namespace pt {

namespace {
constexpr size_t kRememberedIds = 1024;
}

void SegmentTracker::close_open(std::vector<Segment> &out)
{
  if (!open_)
    return;
  Segment s = std::move(*open_);
  open_.reset();
  s.final = true;
  finalized_.insert(s.id);
  while (finalized_.size() > kRememberedIds)
    finalized_.erase(finalized_.begin());
  out.push_back(std::move(s));
}

std::vector<Segment> SegmentTracker::on_segment(Segment s)
{
  std::vector<Segment> out;
  late_revision_ = false;
  if (open_ && open_->id != s.id)
    close_open(out);
  if (s.id < 0 || finalized_.count(s.id)) {
    late_revision_ = s.id >= 0;
    s.final = true;
    out.push_back(std::move(s));
    return out;
  }
  s.final = false;
  if (partial_)
    out.push_back(s);
  open_ = std::move(s);
  return out;
}

std::vector<Segment> SegmentTracker::on_other_reply()
{
  std::vector<Segment> out;
  close_open(out);
  return out;
}

std::vector<Segment> SegmentTracker::on_end()
{
  return on_other_reply();
}

}  // namespace pt
