// SPDX-License-Identifier: LGPL-2.1-or-later
#include "wav_header.h"

#include <cstring>

namespace pt {

namespace {

void put_le32(uint8_t *p, uint32_t v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
  p[2] = (v >> 16) & 0xff;
  p[3] = (v >> 24) & 0xff;
}

void put_le16(uint8_t *p, uint16_t v)
{
  p[0] = v & 0xff;
  p[1] = (v >> 8) & 0xff;
}

std::array<uint8_t, kWavHeaderSize> build(uint32_t rate, uint16_t channels, uint16_t bits,
                                          uint32_t riff_size, uint32_t data_size)
{
  std::array<uint8_t, kWavHeaderSize> h{};
  uint8_t *p = h.data();
  const uint16_t block_align = static_cast<uint16_t>(channels * (bits / 8));
  std::memcpy(p + 0, "RIFF", 4);
  put_le32(p + 4, riff_size);
  std::memcpy(p + 8, "WAVE", 4);
  std::memcpy(p + 12, "fmt ", 4);
  put_le32(p + 16, 16);
  put_le16(p + 20, 1); /* PCM */
  put_le16(p + 22, channels);
  put_le32(p + 24, rate);
  put_le32(p + 28, rate * block_align);
  put_le16(p + 32, block_align);
  put_le16(p + 34, bits);
  std::memcpy(p + 36, "data", 4);
  put_le32(p + 40, data_size);
  return h;
}

}  // namespace

std::array<uint8_t, kWavHeaderSize> make_streaming_wav_header(uint32_t rate, uint16_t channels,
                                                              uint16_t bits)
{
  return build(rate, channels, bits, 0xFFFFFFFFu, 0xFFFFFFFFu - 36u);
}

std::array<uint8_t, kWavHeaderSize> make_wav_header(uint32_t rate, uint16_t channels, uint16_t bits,
                                                    uint32_t data_bytes)
{
  return build(rate, channels, bits, data_bytes + 36u, data_bytes);
}

}  // namespace pt
