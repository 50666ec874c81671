// SPDX-License-Identifier: LGPL-2.1-or-later
// Streaming RIFF/WAVE reader for uploads: chunk walking, "fmt " checks, speech detection.
#include "audio_analyzer.h"

#include <cstring>

#include "emulator_internal.h"

namespace emu {
namespace detail {

void AudioAnalyzer::feed(const uint8_t *p, size_t n)
{
  while (n > 0 && state_ != State::Done) {
    size_t k = 0;
    switch (state_) {
      case State::Riff:
      case State::ChunkHeader:
      case State::Fmt:
        k = std::min(n, need_ - buf_.size());
        buf_.insert(buf_.end(), p, p + k);
        if (buf_.size() == need_)
          header_complete();
        break;
      case State::Skip:
        k = size_t(std::min<uint64_t>(n, remaining_));
        remaining_ -= k;
        if (remaining_ == 0)
          expect_chunk_header();
        break;
      case State::Data:
        k = unbounded_ ? n : size_t(std::min<uint64_t>(n, remaining_));
        detector_->feed(p, k);
        result_.data_bytes += k;
        if (!unbounded_ && (remaining_ -= k) == 0)
          state_ = State::Done;  // later chunks are not audio
        break;
      case State::Done:
        break;
    }
    p += k;
    n -= k;
  }
}

void AudioAnalyzer::finish()
{
  if (finished_)
    return;
  finished_ = true;
  if (detector_) {
    detector_->flush();
    while (detector_->has_completed()) {
      const auto seg = detector_->pop_completed();
      result_.segments_ns.emplace_back(detector_->to_ns(seg.start), detector_->to_ns(seg.end));
    }
    result_.pcm = true;
    result_.duration_ns = detector_->to_ns(result_.data_bytes / block_align_);
    detector_.reset();
  } else if (state_ == State::Riff) {
    fail("not a RIFF/WAVE file");
  } else if (header_.error.empty()) {
    fail("no \"data\" chunk");
  }
}

void AudioAnalyzer::header_complete()
{
  const uint8_t *b = buf_.data();
  if (state_ == State::Riff) {
    if (memcmp(b, "RIFF", 4) != 0 || memcmp(b + 8, "WAVE", 4) != 0)
      return fail("not a RIFF/WAVE file");
    riff_ = true;
    header_.riff_size = le32(b + 4);
    return expect_chunk_header();
  }
  if (state_ == State::Fmt) {
    parse_fmt();
    return expect_chunk_header();
  }
  const uint32_t size = le32(b + 4);
  if (memcmp(b, "fmt ", 4) == 0) {
    if (size < 16 || size > 1024)
      return fail("\"fmt \" chunk of " + std::to_string(size) + " bytes");
    fmt_size_ = size;
    need_ = size + (size & 1);
    buf_.clear();
    state_ = State::Fmt;
  } else if (memcmp(b, "data", 4) == 0) {
    header_.data_size = size;
    if (!fmt_seen_)
      return fail("\"data\" chunk before \"fmt \"");
    if (!header_.error.empty())
      return fail(header_.error);  // not 16-bit PCM: not analysed
    header_.valid = true;
    unbounded_ =
        size == 0 || size == 0xFFFFFFFFu;  // written by a streaming encoder: read to the end
    remaining_ = size;
    detector_ = std::make_unique<SpeechDetector>(header_.rate, header_.channels, opts_.silence_ms,
                                                 opts_.threshold_dbfs);
    state_ = State::Data;
  } else {
    remaining_ = uint64_t(size) + (size & 1);
    state_ = State::Skip;
    if (remaining_ == 0)
      expect_chunk_header();
  }
}

void AudioAnalyzer::parse_fmt()
{
  const uint8_t *f = buf_.data();
  fmt_seen_ = true;
  header_.audio_format = le16(f);
  header_.channels = le16(f + 2);
  header_.rate = le32(f + 4);
  header_.bits = le16(f + 14);
  block_align_ = le16(f + 12);
  uint16_t format = header_.audio_format;
  if (format == 0xFFFE && fmt_size_ >= 40)
    format = le16(f + 24);  // SubFormat GUID starts with the code
  if (format != 1)
    header_.error = "audio format " + std::to_string(header_.audio_format) + " is not PCM (1)";
  else if (header_.bits != 16)
    header_.error = std::to_string(header_.bits) + " bits per sample; only 16 is supported";
  else if (header_.channels < 1 || header_.channels > 16)
    header_.error = std::to_string(header_.channels) + " channels";
  else if (header_.rate < 1000 || header_.rate > 384000)
    header_.error = "sample rate " + std::to_string(header_.rate);
  else if (le32(f + 8) != header_.rate * header_.channels * 2u ||
           block_align_ != header_.channels * 2u)
    header_.error = "byte rate or block align does not match the format";
}

}  // namespace detail
}  // namespace emu
