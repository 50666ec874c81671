// SPDX-License-Identifier: LGPL-2.1-or-later
// Streaming RIFF/WAVE reader for uploads: finds the format and the speech segments.
#pragma once

#include "emulator.h"

#include <memory>
#include <utility>

#include "speech_detector.h"

namespace emu {
namespace detail {

// Walks the chunks as bytes arrive (any chunks before "data" are skipped,
// WAVE_FORMAT_EXTENSIBLE is understood) and runs the SpeechDetector over 16-bit
// PCM data. Nothing but the detector's last partial frame is buffered.
class AudioAnalyzer {
 public:
  struct Result {
    bool pcm = false;  // a 16-bit PCM WAV whose data was analysed
    uint64_t data_bytes = 0, duration_ns = 0;
    std::vector<std::pair<uint64_t, uint64_t>> segments_ns;
  };

  explicit AudioAnalyzer(const Options &o) : opts_(o) {}

  void feed(const uint8_t *p, size_t n);
  void finish();

  bool is_riff() const { return riff_; }
  const WavHeader &header() const { return header_; }
  const Result &result() const { return result_; }

 private:
  enum class State { Riff, ChunkHeader, Fmt, Skip, Data, Done };

  void expect_chunk_header()
  {
    state_ = State::ChunkHeader;
    need_ = 8;
    buf_.clear();
  }
  void fail(std::string error)
  {
    if (header_.error.empty())
      header_.error = std::move(error);
    state_ = State::Done;
  }

  void header_complete();
  void parse_fmt();

  const Options &opts_;
  State state_ = State::Riff;
  std::vector<uint8_t> buf_;  // header bytes being collected
  size_t need_ = 12;
  uint64_t remaining_ = 0;
  uint32_t fmt_size_ = 0;
  uint16_t block_align_ = 0;
  bool riff_ = false, fmt_seen_ = false, unbounded_ = false, finished_ = false;
  WavHeader header_;
  std::unique_ptr<SpeechDetector> detector_;
  Result result_;
};

}  // namespace detail
}  // namespace emu
