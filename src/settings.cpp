#include "settings.h"

#include <glib.h>

#include <initializer_list>

namespace pt {

const char *backend_name(BackendKind kind)
{
  switch (kind) {
    case BackendKind::HarfLive:
      return "harf-live";
    case BackendKind::HarfFile:
      return "harf-file";
    case BackendKind::Nevisa:
      return "nevisa";
  }
  return "unknown";
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

std::optional<std::string> validate_settings(const Settings &s)
{
  for (char c : s.token + s.nevisa_auth_token + s.nevisa_api_key)
    if (c == '\r' || c == '\n')
      return std::string("a token or API key contains a line break");
  switch (s.backend) {
    case BackendKind::HarfLive:
    case BackendKind::HarfFile: {
      if (s.token.empty())
        return std::string(
            "no Harf token: set the \"token\" property or the HARF_TOKEN "
            "environment variable (ask harf@roshan-ai.ir for one)");
      auto bad = s.backend == BackendKind::HarfLive
                     ? check_url(s.harf_url, "harf-url", {"wss", "ws"})
                     : check_url(s.harf_api_url, "harf-api-url", {"https", "http"});
      if (bad)
        return bad;
      break;
    }
    case BackendKind::Nevisa: {
      bool have_login = !s.nevisa_username.empty() && !s.nevisa_password.empty();
      bool have_token = !s.nevisa_auth_token.empty() && !s.nevisa_api_key.empty();
      if (!have_login && !have_token)
        return std::string(
            "no Nevisa credentials: set nevisa-username and nevisa-password "
            "(or NEVISA_USERNAME and NEVISA_PASSWORD), or nevisa-auth-token and "
            "nevisa-api-key (or NEVISA_AUTH_TOKEN and NEVISA_API_KEY)");
      if (auto bad = check_url(s.nevisa_api_url, "nevisa-api-url", {"https", "http"}))
        return bad;
      if (!have_token)
        if (auto bad = check_url(s.nevisa_login_url, "nevisa-login-url", {"https", "http"}))
          return bad;
      break;
    }
  }
  if (s.sample_rate < 8000 || s.sample_rate > 48000)
    return std::string("sample-rate must be between 8000 and 48000");
  if (s.window_ms < 100)
    return std::string("window-duration must be at least 100 ms");
  if (!s.upload_file.empty() && !g_file_test(s.upload_file.c_str(), G_FILE_TEST_IS_REGULAR))
    return "upload-file \"" + s.upload_file + "\" is not a readable file";
  return std::nullopt;
}

}  // namespace pt
