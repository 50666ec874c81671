// SPDX-License-Identifier: LGPL-2.1-or-later
// persian-transcribe's messages on stderr and the exit statuses of error reasons.
#include "common.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "error.h"

namespace cli {

std::optional<int> exit_code_for_reason(const std::string &reason)
{
  // No credentials, credentials the service refused, an account that cannot
  // transcribe: all are the user's account to fix.
  for (const char *auth : {pt::kReasonMissingCredentials, pt::kReasonCredentialsRejected,
                           pt::kReasonNoPackage, pt::kReasonNoCredit})
    if (reason == auth)
      return kExitAuth;
  return std::nullopt;
}

Failure missing_element(const char *factory)
{
  const char *hint = strcmp(factory, "persiantranscribe") == 0
                         ? "install the persiantranscribe plugin or set GST_PLUGIN_PATH"
                         : "install gstreamer1.0-plugins-base";
  return Failure{kExitFailure,
                 std::string("the GStreamer element '") + factory + "' is missing: " + hint};
}

namespace {

std::string one_line(std::string s)
{
  std::replace(s.begin(), s.end(), '\n', ' ');
  std::replace(s.begin(), s.end(), '\r', ' ');
  while (!s.empty() && s.back() == ' ')
    s.pop_back();
  return s;
}

void print(const char *kind, const std::string &msg)
{
  fprintf(stderr, "%s: %s: %s\n", kProg, kind, one_line(msg).c_str());
  fflush(stderr);
}

}  // namespace

void print_error(const std::string &msg)
{
  print("error", msg);
}

void print_warning(const std::string &msg)
{
  print("warning", msg);
}

}  // namespace cli
