// SPDX-License-Identifier: LGPL-2.1-or-later
// What every part of persian-transcribe shares: exit statuses, failures, messages, owning pointers.
#pragma once

#include <gst/gst.h>

#include <memory>
#include <optional>
#include <string>

namespace cli {

constexpr const char *kProg = "persian-transcribe";

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,     // anything else
  kExitUsage = 2,       // bad options, unknown format or backend
  kExitNoInput = 3,     // INPUT missing or unreadable
  kExitUnplayable = 4,  // INPUT is not a media file with audio we can decode
  kExitAuth = 5,        // no credentials, or the service rejected them
  kExitService = 6,     // the service is unreachable, the connection failed, batch-timeout
  kExitInterrupted = 130,
};

struct Failure {
  int code = kExitFailure;
  std::string message;
};

// The exit status for an error's reason (pt::kReason*, from src/error.h), or nullopt when the
// reason is empty or not one the command knows.
std::optional<int> exit_code_for_reason(const std::string &reason);

// "the GStreamer element 'FACTORY' is missing: <what to install>".
Failure missing_element(const char *factory);

// One line on stderr, "persian-transcribe: error: MSG" (or warning); newlines become spaces.
void print_error(const std::string &msg);
void print_warning(const std::string &msg);

/* ---------------------------------------------------------------- RAII -- */

// A unique_ptr deleter calling FREE on a pointer that is not null.
template <void (*Free)(gpointer)>
struct FreeWith {
  void operator()(gpointer p) const
  {
    if (p)
      Free(p);
  }
};

inline void mini_object_unref(gpointer p)
{
  gst_mini_object_unref(GST_MINI_OBJECT_CAST(p));
}

template <typename T>
using GstRef = std::unique_ptr<T, FreeWith<gst_object_unref>>;
template <typename T>
using GObjRef = std::unique_ptr<T, FreeWith<g_object_unref>>;
using CapsRef = std::unique_ptr<GstCaps, FreeWith<mini_object_unref>>;
using SampleRef = std::unique_ptr<GstSample, FreeWith<mini_object_unref>>;
using GCharPtr = std::unique_ptr<gchar, FreeWith<g_free>>;

}  // namespace cli
