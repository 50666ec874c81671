// SPDX-License-Identifier: LGPL-2.1-or-later
/* What one stream of transcription is configured with.  The elements copy
 * their properties into a Settings snapshot when streaming starts; nothing
 * below reads properties again. */
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "error.h"

namespace pt {

enum class BackendKind { HarfLive, HarfFile, Nevisa, NevisaLive };

/* Every backend's name (the "backend" property's nick, the command's
 * --backend, the "backend" field of messages) and what it does: the one
 * list the element's enum, the command and the messages are made from. */
struct BackendInfo {
  BackendKind kind;
  const char *name;
  const char *description;
};
constexpr BackendInfo kBackends[] = {
    {BackendKind::HarfLive, "harf-live",
     "Harf live: 16 kHz mono WAV windows over a WebSocket, results while audio flows"},
    {BackendKind::HarfFile, "harf-file",
     "Harf files: the recording is uploaded at the end of the stream (REST API)"},
    {BackendKind::Nevisa, "nevisa",
     "Nevisa: the recording is uploaded at the end, progress is polled; words with times "
     "and confidences"},
    {BackendKind::NevisaLive, "nevisa-live",
     "Nevisa live: 500 ms WAV messages over a WebSocket, results while audio flows; words "
     "with times and confidences"},
};
/* The script of the digits in normalised text. */
enum class DigitStyle { Persian, Latin, AsReceived };
/* How nevisa-live frames its audio messages. */
enum class NevisaLiveFraming { Wav, Raw };
enum class AuthScheme { Token, Bearer };

constexpr const char *kDefaultHarfUrl = "wss://harf.roshan-ai.ir/ws_api/transcribe_files/wav/sync/";
constexpr const char *kDefaultHarfApiUrl = "https://harf.roshan-ai.ir/api/transcribe_files/";
constexpr const char *kDefaultNevisaLoginUrl = "https://accounting.persianspeech.com/account/login";
constexpr const char *kDefaultNevisaApiUrl = "https://api.persianspeech.com/";
constexpr const char *kDefaultNevisaLiveUrl = "wss://api.persianspeech.com/onlineASR6";

/* The allowed ranges of the numeric settings: the element's property specs
 * and validate_settings() both use these. */
template <typename T>
struct Range {
  T min, max;
};
constexpr Range<int> kSampleRateRange{8000, 48000};             /* Hz */
constexpr Range<unsigned> kWindowRange{100, 60000};             /* ms */
constexpr Range<unsigned> kMaxInflightRange{1, 64};             /* windows */
constexpr Range<unsigned> kLatencyRange{0, 600000};             /* ms */
constexpr Range<unsigned> kTimeoutRange{1, 3600};               /* s */
constexpr Range<unsigned> kPollIntervalRange{100, 60000};       /* ms */
constexpr Range<unsigned> kBatchTimeoutRange{1, 7 * 24 * 3600}; /* s */
constexpr Range<double> kConfidenceRange{0.0, 1.0};
constexpr Range<unsigned> kGapThresholdRange{100, 3600000}; /* ms */
constexpr Range<unsigned> kMaxReconnectsRange{0, 1000};
constexpr Range<double> kSilenceThresholdRange{-90.0, 0.0};             /* dBFS */
constexpr Range<unsigned> kReplayRange{0, 600000};                      /* ms */
constexpr Range<unsigned> kMaxAnswerRange{1024, 1024u * 1024u * 1024u}; /* bytes */
/* The largest HTTP answer read from a service: far above any real answer
 * (a result for hours of speech), far below what hurts the host process. */
constexpr unsigned kDefaultMaxAnswerBytes = 8u * 1024u * 1024u;

/* The defaults are the members' initialisers: the property specs read them
 * from a default-constructed Settings. */
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
  unsigned max_answer_bytes = kDefaultMaxAnswerBytes;
  /* Live backends: holes and GAPs longer than this start a new session
   * instead of being sent as silence (batch backends record silence). */
  unsigned gap_threshold_ms = 2000;
  /* Live backends: the inside of pauses (at least gap_threshold_ms long)
   * is not sent; see silence_gate.h. */
  bool skip_silence = false;
  /* below quiet speech in 20 ms frames, above a quiet room's noise */
  double silence_threshold_dbfs = -50.0;
  /* Live backends: reconnections in a row before giving up; 0: none. */
  unsigned max_reconnects = 5;
  /* Live backends: audio kept for sending again after a reconnection. */
  unsigned replay_ms = 30000;

  /* Every backend: the text, words, markup and cues in normalised Persian
   * script (raw-text keeps what the service sent), digits in one script. */
  bool normalize = true;
  DigitStyle digits = DigitStyle::Persian;

  /* Batch backends (harf-file, nevisa).  Secrets: never logged. */
  std::string harf_api_url = kDefaultHarfApiUrl;
  bool harf_wait = true;
  std::string nevisa_username;
  std::string nevisa_password;
  std::string nevisa_auth_token;
  std::string nevisa_api_key;
  std::string nevisa_login_url = kDefaultNevisaLoginUrl;
  std::string nevisa_api_url = kDefaultNevisaApiUrl;
  /* nevisa-live: the WebSocket URL (the credentials are added to its
   * query, never logged) and the framing of its audio messages. */
  std::string nevisa_live_url = kDefaultNevisaLiveUrl;
  NevisaLiveFraming nevisa_live_framing = NevisaLiveFraming::Wav;
  unsigned poll_interval_ms = 1000;
  unsigned batch_timeout_s = 3600;
  double min_confidence = 0.5;
  /* A file to upload as it is instead of the recorded audio (the command
   * uses it for files the service takes directly). */
  std::string upload_file;
};

inline bool is_batch(BackendKind k)
{
  return k == BackendKind::HarfFile || k == BackendKind::Nevisa;
}

/* The backends that send audio while it flows, over a WebSocket. */
inline bool is_live(BackendKind k)
{
  return !is_batch(k);
}

/* The Nevisa backends: the same credentials. */
inline bool is_nevisa(BackendKind k)
{
  return k == BackendKind::Nevisa || k == BackendKind::NevisaLive;
}

const char *backend_name(BackendKind kind);

/* The Authorization header value ("Token …" or "Bearer …"). */
std::string authorization_value(const Settings &s);

/* Fills the credentials not set from the environment: HARF_TOKEN,
 * NEVISA_USERNAME, NEVISA_PASSWORD, NEVISA_AUTH_TOKEN, NEVISA_API_KEY. */
void apply_environment(Settings &s);

/* Whether the backend has the credentials it needs; an error with
 * kReasonMissingCredentials naming the properties and variables if not. */
std::optional<Error> check_credentials(const Settings &s);

/* Problems that must stop the stream before any connection is made:
 * missing credentials, a URL that is not ws:// or wss://, values out of
 * range.  An error for a person (kind Settings), or nullopt. */
std::optional<Error> validate_settings(const Settings &s);

}  // namespace pt
