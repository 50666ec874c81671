#include "settings.h"

#include <glib.h>

namespace pt {

const char *backend_name(BackendKind kind)
{
  switch (kind) {
    case BackendKind::HarfLive:
      return "harf-live";
  }
  return "unknown";
}

std::string authorization_value(const Settings &s)
{
  return (s.auth_scheme == AuthScheme::Bearer ? "Bearer " : "Token ") + s.token;
}

std::optional<std::string> validate_settings(const Settings &s)
{
  switch (s.backend) {
    case BackendKind::HarfLive: {
      if (s.token.empty())
        return std::string("no Harf token: set the \"token\" property or the HARF_TOKEN "
                           "environment variable (ask harf@roshan-ai.ir for one)");
      for (char c : s.token)
        if (c == '\r' || c == '\n')
          return std::string("the Harf token contains a line break");
      GUri *uri = g_uri_parse(s.harf_url.c_str(), G_URI_FLAGS_NONE, nullptr);
      if (!uri)
        return "harf-url \"" + s.harf_url + "\" is not a valid URL";
      std::string scheme = g_uri_get_scheme(uri);
      g_uri_unref(uri);
      if (scheme != "ws" && scheme != "wss")
        return "harf-url \"" + s.harf_url + "\" must start with wss:// (or ws:// for a local server)";
      break;
    }
  }
  if (s.sample_rate < 8000 || s.sample_rate > 48000)
    return std::string("sample-rate must be between 8000 and 48000");
  if (s.window_ms < 100)
    return std::string("window-duration must be at least 100 ms");
  return std::nullopt;
}

}  // namespace pt
