/* What one stream of transcription is configured with.  The elements copy
 * their properties into a Settings snapshot when streaming starts; nothing
 * below reads properties again. */
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace pt {

enum class BackendKind { HarfLive };
enum class AuthScheme { Token, Bearer };

constexpr const char *kDefaultHarfUrl = "wss://harf.roshan-ai.ir/ws_api/transcribe_files/wav/sync/";

struct Settings {
  BackendKind backend = BackendKind::HarfLive;
  std::string token;  /* a secret: never logged */
  AuthScheme auth_scheme = AuthScheme::Token;
  std::string harf_url = kDefaultHarfUrl;
  int sample_rate = 16000;
  unsigned window_ms = 1000;
  unsigned max_inflight = 1;
  uint64_t latency_ns = 8000ull * 1000000ull;
  bool partial_results = false;
  unsigned timeout_s = 30;
};

const char *backend_name(BackendKind kind);

/* The Authorization header value ("Token …" or "Bearer …"). */
std::string authorization_value(const Settings &s);

/* Problems that must stop the stream before any connection is made:
 * a missing token, a URL that is not ws:// or wss://, values out of range.
 * Returns a message for a person, or nullopt. */
std::optional<std::string> validate_settings(const Settings &s);

}  // namespace pt
