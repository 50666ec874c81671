// SPDX-License-Identifier: LGPL-2.1-or-later
// A local test double of the speech services the plugin talks to.
//
// It is NOT a speech recogniser: it detects speech by signal energy and answers
// with lines from a script.  One SoupServer on 127.0.0.1 serves:
//   - Harf live WebSocket:  /ws_api/transcribe_files/wav/sync/ (and /api/ws_api/...)
//   - Harf files (REST):    POST /api/transcribe_files/  (upload, wait, task polling)
//   - Nevisa login:         POST /account/login
//   - Nevisa file API:      POST /nevisa/recognize-file, GET /nevisa/celery-progress/<id>/,
//                           POST /nevisa/file/terminate-task
// Every REST request is recorded (RestRecord); uploads are streamed (hashed and
// analysed chunk by chunk, never kept).
//
// The server runs on its own thread with its own GMainContext, so it can be
// used in-process from tests that block or run their own main loops.
#pragma once

#include <glib.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace emu {

struct Options {
  std::string token;  // expected token ("Token <t>" or "Bearer <t>"); empty = accept anything
  std::vector<std::string> script;  // one line per speech segment; exhausted => placeholder line
  bool reject_token = false;        // answer every handshake with HTTP 401
  int close_after = -1;   // > 0: close (1011) on the Nth binary message, without replying to it
  unsigned delay_ms = 0;  // delay every reply (order kept)
  bool malformed_json = false;    // the reply to the first binary message is not valid JSON
  bool never_answer = false;      // record everything, send nothing, never close
  bool revisions = false;         // send partial texts for a still-open segment, same segment_id
  unsigned silence_ms = 400;      // silence that ends a speech segment
  double threshold_dbfs = -40.0;  // 20 ms frames with RMS above this are speech

  // Harf files (REST). Auth is `token` above (reject_token is for the WebSocket only).
  unsigned poll_pending = 2;  // polls of a wait=false task answered PENDING before its result
  bool harf_failure = false;  // a finished task is {"state":"FAILURE"} (wait=true too)
  bool harf_timeout = false;  // a finished task is {"state":"TIMEOUT"} (wait=true too)
  // delay_ms above also delays the answer to a wait=true upload.

  // Nevisa.
  std::string nevisa_username, nevisa_password;  // login must match when the username is non-empty
  std::string nevisa_static_token = "nevisa-static-token";  // accepted without login, with...
  std::string nevisa_static_key = "nevisa-static-key";  // ...this api_key (empty token: disabled)
  bool nevisa_no_package = false;       // login answers "current_service_record": null
  bool nevisa_failure = false;          // after the progress steps: FAILURE instead of SUCCESS
  bool nevisa_pending_forever = false;  // celery-progress answers PENDING forever
  unsigned terminate_delay_ms = 0;      // terminate-task is answered this much later
  unsigned progress_steps = 3;          // PROGRESS answers between the first PENDING and the end

  // Faults for every REST request (login and celery-progress included), checked in
  // this order: http_401, then throttle_count, then error_500_count. The counted ones
  // apply to the first N REST requests that reach them (throttled requests do not use
  // up error_500_count). Faulted requests change no state (no task, no poll counted).
  bool http_401 = false;  // every REST request: 401 {"detail":"Invalid token."}
  int throttle_count =
      0;  // first N: 429, Retry-After: retry_after_s, {"detail":"Request was throttled."}
  unsigned retry_after_s = 1;
  int error_500_count = 0;  // first N: 500 with an HTML page
  bool not_json = false;    // every 200 answer's body is an HTML page (state still advances)
};

struct WavHeader {
  bool valid = false;
  std::string error;
  uint16_t audio_format = 0, channels = 0, bits = 0;
  uint32_t rate = 0, riff_size = 0, data_size = 0;
};

struct SentSegment {
  int64_t id;
  std::string text;
  uint64_t start_ns, end_ns;
  std::string start_str, end_str;
  bool partial;
};

struct SessionRecord {
  std::string authorization;  // the header as received (tests only; never print it)
  WavHeader header;
  std::vector<size_t>
      binary_sizes;        // every binary message, in order (the first includes the header)
  uint64_t pcm_bytes = 0;  // PCM bytes after the 44-byte header
  int finalize_count = 0;  // text messages "finalize" received
  bool binary_after_finalize = false;
  std::vector<std::string> other_text;  // text messages other than "finalize"
  std::vector<std::string> replies;     // every text message sent, in order
  std::vector<SentSegment> segments;    // every segment message sent (partials too)
  bool finished = false;                // finalize handled and all replies sent
  bool closed = false;                  // the connection is closed (by either side)
};

// One multipart part (or one urlencoded field) of a REST request.
struct FormPart {
  std::string name, filename, content_type;
  uint64_t size = 0;
  std::string
      text;  // for non-file parts (no filename), up to 64 KB; "(redacted)" for a login password
  std::string sha256;  // of the bytes, lowercase hex (empty for a login password)
  WavHeader
      wav;  // for parts starting with RIFF/WAVE: the format found (valid = analysed as 16-bit PCM)
};

// One REST request and what the emulator answered.
struct RestRecord {
  // "harf-transcribe" (upload or media_urls), "harf-poll" (tasks_ids/task_ids), "nevisa-login",
  // "nevisa-recognize", "nevisa-progress", "nevisa-terminate", "unknown" (any other path: 404).
  std::string kind;
  std::string method, path, authorization,
      content_type;             // headers as received (never print authorization)
  int status = 0;               // what the emulator answered; 0 while a delayed answer is pending
  std::string fault;            // "", "http-401", "throttle", "error-500", "not-json",
                                // "disconnected" (the client left before a delayed answer)
  std::vector<FormPart> parts;  // multipart parts, in order (urlencoded fields too)
  std::string json_body;        // for JSON requests (a login password is redacted)
  std::string answer;           // the body sent back (truncated to 4 KB)
  uint64_t body_size = 0;       // request body bytes
  std::string task_id;          // task created, polled (comma-separated) or terminated
  std::string username;         // nevisa-login: username_or_phone_or_email
};

namespace detail {
class Core;
}

class Emulator {
 public:
  explicit Emulator(Options opts);
  ~Emulator();
  Emulator(const Emulator &) = delete;
  Emulator &operator=(const Emulator &) = delete;

  // Binds 127.0.0.1:port (0 = any free port) and returns once listening.
  bool start(uint16_t port, GError **error);
  // Closes connections, stops and joins the server thread. Idempotent.
  void stop();

  uint16_t port() const;
  std::string harf_live_url() const;  // ws://127.0.0.1:<port>/ws_api/transcribe_files/wav/sync/
  int handshake_count() const;        // WebSocket upgrade requests seen, rejected ones included
  std::vector<SessionRecord> sessions() const;
  // Waits until at least n sessions exist and all of them are closed; false on timeout.
  bool wait_closed(size_t n_sessions, unsigned timeout_ms) const;
  // Waits until pred(sessions) is true (checked whenever a record changes); false on timeout.
  bool wait_until(const std::function<bool(const std::vector<SessionRecord> &)> &pred,
                  unsigned timeout_ms) const;

  std::string harf_api_url() const;               // http://127.0.0.1:<port>/api/transcribe_files/
  std::string nevisa_login_url() const;           // http://127.0.0.1:<port>/account/login
  std::string nevisa_api_url() const;             // http://127.0.0.1:<port>/nevisa/
  std::vector<RestRecord> rest_requests() const;  // every REST request, in order
  size_t rest_count(const std::string &kind) const;  // REST requests of that kind
  // Waits until pred(rest_requests) is true (checked whenever a record changes); false on timeout.
  bool wait_rest(const std::function<bool(const std::vector<RestRecord> &)> &pred,
                 unsigned timeout_ms) const;

 private:
  std::unique_ptr<detail::Core> core_;
};

// Python str(timedelta) style: "0:00:05", "0:00:01.240000", "1 day, 0:00:00".
std::string format_timedelta(uint64_t ns);

}  // namespace emu
