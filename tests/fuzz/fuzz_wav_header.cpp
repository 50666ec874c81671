// SPDX-License-Identifier: LGPL-2.1-or-later
/* pt::make_wav_header() and pt::make_streaming_wav_header() with any
 * parameters: every field of the 44-byte RIFF/WAVE header where it belongs. */
#include <fuzzer/FuzzedDataProvider.h>

#include <cstring>

#include "fuzz_common.h"
#include "wav_header.h"

namespace {

uint32_t le32(const uint8_t *p)
{
  return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24;
}

uint16_t le16(const uint8_t *p)
{
  return static_cast<uint16_t>(p[0] | p[1] << 8);
}

void check(const std::array<uint8_t, pt::kWavHeaderSize> &h, uint32_t rate, uint16_t channels,
           uint16_t bits, uint32_t riff_size, uint32_t data_size)
{
  const uint8_t *p = h.data();
  const uint16_t block_align = static_cast<uint16_t>(channels * (bits / 8));
  const std::string params = " (rate " + std::to_string(rate) + ", channels " +
                             std::to_string(channels) + ", bits " + std::to_string(bits) + ")";
  FUZZ_CHECK(memcmp(p, "RIFF", 4) == 0 && memcmp(p + 8, "WAVE", 4) == 0 &&
                 memcmp(p + 12, "fmt ", 4) == 0 && memcmp(p + 36, "data", 4) == 0,
             "chunk ids" + params);
  FUZZ_CHECK(le32(p + 4) == riff_size, "RIFF size " + std::to_string(le32(p + 4)) + params);
  FUZZ_CHECK(le32(p + 16) == 16 && le16(p + 20) == 1, "fmt chunk size or format tag" + params);
  FUZZ_CHECK(le16(p + 22) == channels, "channels" + params);
  FUZZ_CHECK(le32(p + 24) == rate, "rate" + params);
  FUZZ_CHECK(le32(p + 28) == static_cast<uint32_t>(rate * block_align), "byte rate" + params);
  FUZZ_CHECK(le16(p + 32) == block_align, "block align" + params);
  FUZZ_CHECK(le16(p + 34) == bits, "bits per sample" + params);
  FUZZ_CHECK(le32(p + 40) == data_size, "data size " + std::to_string(le32(p + 40)) + params);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  FuzzedDataProvider fdp(data, size);
  const uint32_t rate = fdp.ConsumeIntegral<uint32_t>();
  const uint16_t channels = fdp.ConsumeIntegral<uint16_t>();
  const uint16_t bits = fdp.ConsumeIntegral<uint16_t>();
  const uint32_t data_bytes = fdp.ConsumeIntegral<uint32_t>();

  check(pt::make_streaming_wav_header(rate, channels, bits), rate, channels, bits, 0xFFFFFFFFu,
        0xFFFFFFFFu - 36u);
  /* The RIFF size counts the 36 header bytes after it: callers keep
   * data_bytes at most 0xFFFFFFFF - 36 (batch_client clamps). */
  check(pt::make_wav_header(rate, channels, bits, data_bytes), rate, channels, bits,
        static_cast<uint32_t>(data_bytes + 36u), data_bytes);
  if (data_bytes <= 0xFFFFFFFFu - 36u)
    FUZZ_CHECK(
        le32(pt::make_wav_header(rate, channels, bits, data_bytes).data() + 4) == data_bytes + 36u,
        "RIFF size of a file of " + std::to_string(data_bytes) + " bytes");
  /* What the clients send: 16-bit mono at the configured rate. */
  const uint32_t service_rate = fdp.ConsumeIntegralInRange<uint32_t>(8000, 48000);
  auto h = pt::make_streaming_wav_header(service_rate, 1, 16);
  FUZZ_CHECK(le32(h.data() + 28) == service_rate * 2 && le16(h.data() + 32) == 2,
             "the service format's byte rate");
  return 0;
}
