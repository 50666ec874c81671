// SPDX-License-Identifier: LGPL-2.1-or-later
#include "settings.h"

#include <glib.h>

#include <initializer_list>

namespace pt {

const char *backend_name(BackendKind kind)
{
  for (const BackendInfo &b : kBackends)
    if (b.kind == kind)
      return b.name;
  return "unknown";
}

void apply_environment(Settings &s)
{
  auto from_env = [](std::string &field, const char *var) {
    const gchar *env = g_getenv(var);
    if (field.empty() && env)
      field = env;
  };
  from_env(s.token, "HARF_TOKEN");
  from_env(s.nevisa_username, "NEVISA_USERNAME");
  from_env(s.nevisa_password, "NEVISA_PASSWORD");
  from_env(s.nevisa_auth_token, "NEVISA_AUTH_TOKEN");
  from_env(s.nevisa_api_key, "NEVISA_API_KEY");
}

std::optional<Error> check_credentials(const Settings &s)
{
  auto missing = [](const char *message) {
    return Error{ErrorKind::Settings, message, "", kReasonMissingCredentials};
  };
  switch (s.backend) {
    case BackendKind::HarfLive:
    case BackendKind::HarfFile:
      if (s.token.empty())
        return missing(
            "no Harf token: set the \"token\" property or the HARF_TOKEN "
            "environment variable (ask harf@roshan-ai.ir for one)");
      break;
    case BackendKind::Nevisa:
    case BackendKind::NevisaLive: {
      bool have_login = !s.nevisa_username.empty() && !s.nevisa_password.empty();
      bool have_token = !s.nevisa_auth_token.empty() && !s.nevisa_api_key.empty();
      if (!have_login && !have_token)
        return missing(
            "no Nevisa credentials: set nevisa-username and nevisa-password "
            "(or NEVISA_USERNAME and NEVISA_PASSWORD), or nevisa-auth-token and "
            "nevisa-api-key (or NEVISA_AUTH_TOKEN and NEVISA_API_KEY)");
      break;
    }
  }
  return std::nullopt;
}

std::string authorization_value(const Settings &s)
{
  return (s.auth_scheme == AuthScheme::Bearer ? "Bearer " : "Token ") + s.token;
}

namespace {

std::optional<std::string> check_url(const std::string &url, const char *what,
                                     std::initializer_list<const char *> schemes)
{
  GUri *uri = g_uri_parse(url.c_str(), G_URI_FLAGS_NONE, nullptr);
  if (!uri)
    return std::string(what) + " \"" + url + "\" is not a valid URL";
  std::string scheme = g_uri_get_scheme(uri);
  g_uri_unref(uri);
  for (const char *ok : schemes)
    if (scheme == ok)
      return std::nullopt;
  std::string list;
  for (const char *ok : schemes)
    list += (list.empty() ? "" : " or ") + std::string(ok) + "://";
  return std::string(what) + " \"" + url + "\" must start with " + list;
}

}  // namespace

std::optional<Error> validate_settings(const Settings &s)
{
  auto problem = [](std::string message) {
    return Error{ErrorKind::Settings, std::move(message), "", nullptr};
  };
  for (char c : s.token + s.nevisa_auth_token + s.nevisa_api_key)
    if (c == '\r' || c == '\n')
      return problem("a token or API key contains a line break");
  if (auto missing = check_credentials(s))
    return missing;
  std::optional<std::string> bad;
  switch (s.backend) {
    case BackendKind::HarfLive:
      bad = check_url(s.harf_url, "harf-url", {"wss", "ws"});
      break;
    case BackendKind::HarfFile:
      bad = check_url(s.harf_api_url, "harf-api-url", {"https", "http"});
      break;
    case BackendKind::Nevisa:
      bad = check_url(s.nevisa_api_url, "nevisa-api-url", {"https", "http"});
      break;
    case BackendKind::NevisaLive:
      bad = check_url(s.nevisa_live_url, "nevisa-live-url", {"wss", "ws"});
      break;
  }
  if (!bad && is_nevisa(s.backend) && (s.nevisa_auth_token.empty() || s.nevisa_api_key.empty()))
    bad = check_url(s.nevisa_login_url, "nevisa-login-url", {"https", "http"});
  if (bad)
    return problem(*bad);
  if (s.sample_rate < kSampleRateRange.min || s.sample_rate > kSampleRateRange.max)
    return problem("sample-rate must be between " + std::to_string(kSampleRateRange.min) + " and " +
                   std::to_string(kSampleRateRange.max));
  if (s.window_ms < kWindowRange.min)
    return problem("window-duration must be at least " + std::to_string(kWindowRange.min) + " ms");
  if (!s.upload_file.empty() && !g_file_test(s.upload_file.c_str(), G_FILE_TEST_IS_REGULAR))
    return problem("upload-file \"" + s.upload_file + "\" is not a readable file");
  return std::nullopt;
}

}  // namespace pt
