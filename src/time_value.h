// SPDX-License-Identifier: LGPL-2.1-or-later
/* Time values as the services write them.
 *
 * Harf writes Python timedelta strings ("0:00:05", "0:00:00.240000",
 * "1 day, 2:03:04.5"); Nevisa writes float seconds.  Everything inside the
 * project is unsigned nanoseconds, the same unit as GstClockTime. */
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace pt {

/* Equal to GST_CLOCK_TIME_NONE, without including GStreamer here. */
constexpr uint64_t kNoTime = UINT64_MAX;
constexpr uint64_t kSecond = 1000000000ull;
constexpr uint64_t kMsecond = 1000000ull;

/* "[D day[s], ][H]H:MM:SS[.ffffff]" or a plain non-negative number of seconds.
 * Returns nullopt for anything else (negative, garbage, out of range). */
std::optional<uint64_t> parse_time_value(const std::string &text);

/* Seconds as a double (Nevisa); nullopt when negative, NaN or huge. */
std::optional<uint64_t> seconds_to_ns(double seconds);

}  // namespace pt
