// SPDX-License-Identifier: LGPL-2.1-or-later
/* An answer's bytes by offset, wherever they are: in memory, or in a file
 * too long to hold (a Nevisa answer for many hours of audio).  The JSON
 * scanners that cut a long answer into pieces (json_scan(), the word-list
 * cutter) read through either, so that one code path serves both. */
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pt {

class MemoryBytes {
 public:
  MemoryBytes(const char *data, size_t size) : data_(data), size_(size) {}
  char operator[](size_t i) const { return data_[i]; }
  size_t size() const { return size_; }
  bool failed() const { return false; }
  /* Appends [lo, hi) to out */
  template <class S> void copy(size_t lo, size_t hi, S *out) const
  {
    out->append(data_ + lo, hi - lo);
  }

 private:
  const char *data_;
  size_t size_;
};

/* A file read through one block of memory: sequential reading costs one
 * pread() per block; going back (the cutter rereads a member it has
 * located) costs one more.  A read error makes every later byte 0 and
 * failed() true: nothing read after it is trusted. */
class FileBytes {
 public:
  /* fd: open for reading, not owned; size: the bytes to read from 0 */
  FileBytes(int fd, size_t size, size_t block = 64 * 1024);
  char operator[](size_t i) const
  {
    if (i - at_ < have_)
      return block_[i - at_];
    return load(i);
  }
  size_t size() const { return size_; }
  bool failed() const { return failed_; }
  template <class S> void copy(size_t lo, size_t hi, S *out) const
  {
    for (size_t i = lo; i < hi;) {
      (void)(*this)[i]; /* loads the block holding i */
      if (failed_)
        return;
      const size_t n = have_ - (i - at_) < hi - i ? have_ - (i - at_) : hi - i;
      out->append(block_.data() + (i - at_), n);
      i += n;
    }
  }

 private:
  char load(size_t i) const;
  int fd_;
  size_t size_;
  mutable std::vector<char> block_;
  mutable size_t at_ = 0, have_ = 0;
  mutable bool failed_ = false;
};

}  // namespace pt
