// SPDX-License-Identifier: LGPL-2.1-or-later
/* The RIFF/WAVE header that opens a streamed WAV file. */
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace pt {

constexpr size_t kWavHeaderSize = 44;

/* A 44-byte PCM header for a stream of unknown length: the RIFF size is
 * 0xFFFFFFFF and the data size fills the rest, as streaming writers do. */
std::array<uint8_t, kWavHeaderSize> make_streaming_wav_header(uint32_t rate, uint16_t channels,
                                                              uint16_t bits_per_sample);

/* The same header with exact sizes, for a finished file of data_bytes. */
std::array<uint8_t, kWavHeaderSize> make_wav_header(uint32_t rate, uint16_t channels,
                                                    uint16_t bits_per_sample, uint32_t data_bytes);

}  // namespace pt
