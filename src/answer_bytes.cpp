// SPDX-License-Identifier: LGPL-2.1-or-later
#include "answer_bytes.h"

#include <unistd.h>

#include <cerrno>

namespace pt {

FileBytes::FileBytes(int fd, size_t size, size_t block) : fd_(fd), size_(size)
{
  block_.resize(block > 0 ? block : 1);
}

char FileBytes::load(size_t i) const
{
  if (failed_ || i >= size_) {
    failed_ = true;
    return 0;
  }
  at_ = i - i % block_.size();
  have_ = 0;
  const size_t want = size_ - at_ < block_.size() ? size_ - at_ : block_.size();
  while (have_ < want) {
    const ssize_t n = pread(fd_, block_.data() + have_, want - have_, static_cast<off_t>(at_ + have_));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      failed_ = true; /* an error, or the file is shorter than it was */
      have_ = 0;
      return 0;
    }
    have_ += static_cast<size_t>(n);
  }
  return block_[i - at_];
}

}  // namespace pt
