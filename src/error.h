// SPDX-License-Identifier: LGPL-2.1-or-later
/* How a stream fails: the kind maps to a standard GStreamer domain and code,
 * the reason (when there is one) tells applications what to do about it
 * without reading the message text.  Plain C++: the command includes it. */
#pragma once

#include <string>

namespace pt {

enum class ErrorKind {
  Settings,      /* GST_RESOURCE_ERROR_SETTINGS */
  NotAuthorized, /* GST_RESOURCE_ERROR_NOT_AUTHORIZED */
  OpenReadWrite, /* GST_RESOURCE_ERROR_OPEN_READ_WRITE: unreachable, TLS, refused */
  Read,          /* GST_RESOURCE_ERROR_READ: the service stopped answering or hung up */
  Write,         /* GST_RESOURCE_ERROR_WRITE */
  Format,        /* GST_STREAM_ERROR_FORMAT: bad input */
  Failed,        /* GST_RESOURCE_ERROR_FAILED */
};

/* The elements post error and warning messages with a details structure
 * named kErrorDetailsName whose string field kErrorReasonField is one of
 * the reasons below (gst_message_parse_error_details()).  No reason: the
 * field is absent. */
constexpr const char *kErrorDetailsName = "persiantranscribe-error";
constexpr const char *kErrorReasonField = "reason";
/* No credentials were given (neither properties nor environment). */
constexpr const char *kReasonMissingCredentials = "missing-credentials";
/* The service refused the credentials given (HTTP 401/403, login refused). */
constexpr const char *kReasonCredentialsRejected = "credentials-rejected";
/* The credentials are right but the account cannot transcribe (Nevisa
 * account without an active package). */
constexpr const char *kReasonNoPackage = "no-package";
/* The account's credit is used up (Nevisa live: NO-USAGE-REMAINED). */
constexpr const char *kReasonNoCredit = "no-credit";

struct Error {
  ErrorKind kind = ErrorKind::Failed;
  std::string message;          /* for a person */
  std::string debug;            /* details; never a secret */
  const char *reason = nullptr; /* one of the kReason* constants, or null */
};

}  // namespace pt
