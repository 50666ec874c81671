/* What one stream of transcription is configured with.  The elements copy
 * their properties into a Settings snapshot when streaming starts; nothing
 * below reads properties again. */
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace pt {

enum class BackendKind { HarfLive, HarfFile, Nevisa };
enum class AuthScheme { Token, Bearer };

constexpr const char *kDefaultHarfUrl = "wss://harf.roshan-ai.ir/ws_api/transcribe_files/wav/sync/";
constexpr const char *kDefaultHarfApiUrl = "https://harf.roshan-ai.ir/api/transcribe_files/";
constexpr const char *kDefaultNevisaLoginUrl = "https://accounting.persianspeech.com/account/login";
constexpr const char *kDefaultNevisaApiUrl = "https://api.persianspeech.com/";

struct Settings {
  BackendKind backend = BackendKind::HarfLive;
  std::string token; /* a secret: never logged */
  AuthScheme auth_scheme = AuthScheme::Token;
  std::string harf_url = kDefaultHarfUrl;
  int sample_rate = 16000;
  unsigned window_ms = 1000;
  unsigned max_inflight = 1;
  uint64_t latency_ns = 8000ull * 1000000ull;
  bool partial_results = false;
  unsigned timeout_s = 30;

  /* Batch backends (harf-file, nevisa).  Secrets: never logged. */
  std::string harf_api_url = kDefaultHarfApiUrl;
  bool harf_wait = true;
  std::string nevisa_username;
  std::string nevisa_password;
  std::string nevisa_auth_token;
  std::string nevisa_api_key;
  std::string nevisa_login_url = kDefaultNevisaLoginUrl;
  std::string nevisa_api_url = kDefaultNevisaApiUrl;
  unsigned poll_interval_ms = 1000;
  unsigned batch_timeout_s = 3600;
  double min_confidence = 0.5;
  /* A file to upload as it is instead of the recorded audio (the command
   * uses it for files the service takes directly). */
  std::string upload_file;
};

inline bool is_batch(BackendKind k)
{
  return k != BackendKind::HarfLive;
}

const char *backend_name(BackendKind kind);

/* The Authorization header value ("Token …" or "Bearer …"). */
std::string authorization_value(const Settings &s);

/* Problems that must stop the stream before any connection is made:
 * a missing token, a URL that is not ws:// or wss://, values out of range.
 * Returns a message for a person, or nullopt. */
std::optional<std::string> validate_settings(const Settings &s);

}  // namespace pt
