// SPDX-License-Identifier: LGPL-2.1-or-later
/* pt::parse_time_value() on any text (Harf's timedelta strings, plain
 * seconds), and pt::seconds_to_ns() on any double (Nevisa's times). */
#include <fuzzer/FuzzedDataProvider.h>

#include <cinttypes>
#include <cmath>
#include <cstring>

#include "fuzz_common.h"
#include "time_value.h"

namespace {

/* The largest value either form can have: 36500 days and 23:59:59.999999999,
 * or 100023 hours without days, or 100 years of plain seconds. */
constexpr uint64_t kMaxParsed = (36500ull * 24 + 100023) * 3600 * pt::kSecond;

std::string show(const std::optional<uint64_t> &v)
{
  return v ? std::to_string(*v) : "nullopt";
}

/* Python's str(timedelta): "[D day[s], ]H:MM:SS[.ffffff]". */
std::string python_timedelta(uint64_t ns)
{
  uint64_t us = ns / 1000;
  uint64_t s = us / 1000000, frac = us % 1000000;
  uint64_t days = s / 86400;
  s %= 86400;
  char buf[96];
  int n = 0;
  if (days)
    n = snprintf(buf, sizeof buf, "%" PRIu64 " day%s, ", days, days == 1 ? "" : "s");
  n += snprintf(buf + n, sizeof buf - n, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600,
                s / 60 % 60, s % 60);
  if (frac)
    snprintf(buf + n, sizeof buf - n, ".%06" PRIu64, frac);
  return buf;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* 1. The whole input as text. */
  const std::string text(reinterpret_cast<const char *>(data), size);
  std::optional<uint64_t> v = pt::parse_time_value(text);
  if (v)
    FUZZ_CHECK(*v <= kMaxParsed, "\"" + text + "\" parsed to " + show(v));
  /* Leading and trailing white space never matters. */
  std::optional<uint64_t> padded = pt::parse_time_value(" " + text + "\t");
  FUZZ_CHECK(padded == v,
             "\"" + text + "\" parsed to " + show(v) + ", with spaces around to " + show(padded));

  /* 2. Values written the ways the services write them read back exactly. */
  FuzzedDataProvider fdp(data, size);
  const uint64_t ns = fdp.ConsumeIntegralInRange<uint64_t>(0, 36500ull * 86400 * pt::kSecond - 1);
  const std::string td = python_timedelta(ns);
  std::optional<uint64_t> back = pt::parse_time_value(td);
  FUZZ_CHECK(back == ns / 1000 * 1000, "\"" + td + "\" parsed to " + show(back));
  const uint64_t secs = ns / pt::kSecond;
  if (secs <= 100ull * 365 * 24 * 3600) {
    char buf[64];
    snprintf(buf, sizeof buf, "%" PRIu64 ".%09" PRIu64, secs, ns % pt::kSecond);
    back = pt::parse_time_value(buf);
    FUZZ_CHECK(back == ns, std::string("\"") + buf + "\" parsed to " + show(back));
  }

  /* 3. Nevisa's float seconds. */
  double d = 0;
  if (size >= sizeof d)
    memcpy(&d, data, sizeof d);
  else
    d = fdp.ConsumeFloatingPoint<double>();
  for (double x : {d, std::fabs(d) / 1e6, std::fabs(d)}) {
    std::optional<uint64_t> n = pt::seconds_to_ns(x);
    const bool usable = std::isfinite(x) && x >= 0 && x <= 1e9;
    FUZZ_CHECK(n.has_value() == usable, "seconds_to_ns(" + std::to_string(x) + ") = " + show(n));
    if (n)
      FUZZ_CHECK(static_cast<double>(*n) == std::nearbyint(x * 1e9) ||
                     std::fabs(static_cast<double>(*n) - x * 1e9) <= 1,
                 "seconds_to_ns(" + std::to_string(x) + ") = " + show(n));
  }
  return 0;
}
