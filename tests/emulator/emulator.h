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
//   - Nevisa live WebSocket: /onlineASR6?Authorization=<auth_token>&api-key=<api_key>
//                           (INIT, REQ, SOES, binary PCM or WAV messages, EOES; JSON results)
// Every REST request is recorded (RestRecord), every live connection too (SessionRecord,
// NevisaLiveRecord); uploads are streamed (hashed and analysed chunk by chunk, never kept).
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

struct SentSegment;

struct Options {
  std::string token;  // expected token ("Token <t>" or "Bearer <t>"); empty = accept anything
  std::vector<std::string> script;  // one line per speech segment; exhausted => placeholder line
  bool reject_token = false;        // answer every handshake with HTTP 401
  // > 0: close (close_code) on the Nth binary message, without replying to it
  int close_after = -1;
  unsigned delay_ms = 0;          // delay every reply (order kept)
  bool malformed_json = false;    // the reply to the first binary message is not valid JSON
  bool never_answer = false;      // record everything, send nothing, never close
  bool revisions = false;         // send partial texts for a still-open segment, same segment_id
  unsigned silence_ms = 400;      // silence that ends a speech segment
  double threshold_dbfs = -40.0;  // 20 ms frames with RMS above this are speech

  // Harf live fault switches (all off by default). handshake_*, retry_after, close_after,
  // close_code, close_count and delay_ms apply to Nevisa live as well (see below).
  // Handshakes: every WebSocket upgrade request is answered with this HTTP status (e.g. 429, 500,
  // 403; 0 = off) instead of 101: a {"detail": ...} JSON body, an HTML page for 5xx. Checked
  // before the token. Plain (non-upgrade) requests are not affected.
  int handshake_status = 0;
  std::string retry_after;       // non-empty: the Retry-After header's value, verbatim (seconds
                                 // or an HTTP date), sent with handshake_status answers; also
                                 // replaces retry_after_s on REST 429 answers (throttle_count)
  int handshake_fail_count = 0;  // > 0: only the first N upgrade requests fail with
                                 // handshake_status, later ones succeed; 0 = all of them
  // Closes. close_after (above), close_on_finalize and reset_on_finalize drop the connection on
  // purpose; close_count limits how many connections they drop (later ones behave normally).
  int close_code = 1011;  // the close code of close_after and close_on_finalize. Codes libsoup
                          // refuses to send (1012-1014, 1015, 1006, 1010, 2000-2999, ...) are
                          // written as a raw close frame, then the socket is shut down.
  int close_count = 0;    // > 0: only the first N connections that reach a close
                          // switch are closed that way; 0 = every connection
  bool close_on_finalize = false;  // at "finalize": close with close_code, remaining replies unsent
  bool reset_on_finalize = false;  // at "finalize": abort the TCP connection (RST, no close frame)
  // Replies. The switches below replace the normal reply of the first (and for impossible_times
  // and wrong_types the second) binary message; speech segments found meanwhile are not lost,
  // they come with later replies. With several switches on, the first window's reply is all of
  // their messages, in this order: invalid_utf8, lone_surrogate, malformed_json, binary_reply,
  // huge_reply_bytes, impossible_times, wrong_types, deep_json_depth. Fault messages are in
  // SessionRecord::replies (text ones) but never in SessionRecord::segments.
  bool binary_reply = false;      // a binary frame (the bytes of {"state": "PENDING"})
  uint64_t huge_reply_bytes = 0;  // > 0: one text message of exactly that many bytes (at least
                                  // 69): a valid segment {"segment_id": 904, "text": "xxx...",
                                  // ...}. libsoup holds it in memory (about 3x) while sending.
  bool impossible_times = false;  // first window: a segment (id 901) from "27:00:00" to
                                  // "27:00:05"; second: one (id 902) from "0:00:05" to "0:00:02"
  // libsoup refuses to send invalid UTF-8 in a text frame (and a libsoup client fails the
  // connection with 1007 when it receives one). invalid_utf8 therefore writes its frame directly
  // on the socket, as the connection's first frame (it is first in the batch); the Harf REST
  // result's first segment text and Nevisa's first word also get the raw bytes.
  bool invalid_utf8 = false;    // a segment (id 903) whose "text" has raw bytes 0xFF 0xFE
  bool lone_surrogate = false;  // a segment (id 905) whose "text" has the escape \udcff (valid
                                // UTF-8 on the wire, a lone surrogate in JSON); also in Harf REST
                                // results' first segment text and Nevisa's first word
  bool wrong_types = false;     // first window: {"segment_id": 1e30, "text": 5, "start": true,
                                // "end": "0:00:01"}; second: {"segment_id": "abc", "text":
                                // "...", "start": "0:00:00", "end": [1]}
  int deep_json_depth = 0;      // > 0: the reply is [[[...]]] nested that deep
  size_t record_audio_max = 8u << 20;  // SessionRecord::audio keeps at most this many bytes

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
  // Non-empty: the percents of successive progress polls (from the first poll, no PENDING
  // first; any values: 80, 40, -50, 1e9), then the end (SUCCESS, or FAILURE with nevisa_failure).
  // Replaces progress_steps.
  std::vector<double> nevisa_percent_sequence;
  bool nevisa_first_word_no_start = false;  // the SUCCESS result's first word has no "start"
  // How celery-progress fails: "500" (every poll: a 500 HTML page), "not-json" (every poll: 200
  // with an HTML page; the task still advances), "hang" (polls are never answered) or "bad-url"
  // (recognize-file answers progress_url "http://[::1", which is not a valid URL). Empty = off.
  std::string nevisa_progress_fail;

  // Nevisa live (WebSocket /onlineASR6). Credentials are the query's Authorization (an
  // auth_token) and api-key: the pairs recognize-file accepts (the static pair, or a login's
  // token with the account's key); others get 401 {"detail": ...}. Also honoured here:
  // handshake_status, handshake_fail_count and retry_after (their counts shared with Harf live),
  // close_after (close with close_code on the Nth binary message of a connection, without
  // answering it; close_count shared with Harf live), delay_ms (every text after INIT, order
  // kept), silence_ms, threshold_dbfs and script (each REQ/SOES session from line 0).
  // Fault switches (all off by default):
  bool nevisa_live_no_init = false;           // never send {"subject":"INIT"}
  bool nevisa_live_no_req_response = false;   // REQ is not answered (REQ-RESPONSE)
  bool nevisa_live_no_soes_response = false;  // SOES is not answered (SOES-RESPONSE)
  bool nevisa_live_no_eoes_response = false;  // EOES: the finals, but no EOES-RESPONSE
  // >= 0: after that many binary messages (0: right after SOES-RESPONSE) send
  // {"subject":"NO-USAGE-REMAINED"}, then close normally (1000); later input is ignored.
  int nevisa_live_no_usage_after = -1;
  bool nevisa_live_unknown_subject = false;  // right after SOES-RESPONSE: {"subject":
                                             // "SERVER-NOTICE","text":"..."} (Persian text)

  // Harf files fault switches.
  std::string harf_state_type;         // non-empty: raw JSON put as every "state" value (the
                                       // wait=false upload answer, PENDING polls, FAILURE/TIMEOUT)
  std::string harf_segments_value;     // non-empty: raw JSON put as "segments" of finished results
  bool harf_poll_needs_media = false;  // a newer API: a poll by tasks_ids alone is answered 400
                                       // {"media_urls": ["This field is required."]}

  // Answer shapes for one REST endpoint. Targets: "harf-upload" (or "harf-transcribe"),
  // "harf-poll", "nevisa-login", "nevisa-upload" (or "nevisa-recognize"), "nevisa-progress",
  // "nevisa-terminate". They change 200 answers only (the request is handled as usual).
  int http_deep_json_depth = 0;       // > 0: the target's answer is [[[...]]] nested that deep
  std::string http_deep_target;       // the endpoint http_deep_json_depth applies to
  uint64_t http_huge_body_bytes = 0;  // > 0: the target's answer is that many bytes (valid JSON:
                                      // the real answer with a long string inserted first; at
                                      // least the real answer's size), sent chunked from a small
                                      // buffer (never held in memory)
  std::string http_huge_target;       // the endpoint http_huge_body_bytes applies to

  // Faults for every REST request (login and celery-progress included), checked in
  // this order: http_401, then throttle_count, then error_500_count. The counted ones
  // apply to the first N REST requests that reach them (throttled requests do not use
  // up error_500_count). Faulted requests change no state (no task, no poll counted).
  bool http_401 = false;  // every REST request: 401 {"detail":"Invalid token."}
  int throttle_count =
      0;  // first N: 429, Retry-After: retry_after_s, {"detail":"Request was throttled."}
  unsigned retry_after_s = 1;
  bool throttle_no_retry_after = false;  // 429 answers have no Retry-After header
  int error_500_count = 0;               // first N: 500 with an HTML page
  bool not_json = false;          // every 200 answer's body is an HTML page (state still advances)
  std::string rest_fault_target;  // non-empty: http_401, throttle_count and error_500_count
                                  // apply only to that endpoint (names as http_deep_target)

  // Benchmarks only (tests/bench): called on the server thread as each Harf live text reply is
  // sent (just before it is handed to libsoup), with the session's index (as in sessions()) and
  // the segment the reply carries (nullptr for PENDING). Empty = not called.
  std::function<void(size_t session, const SentSegment *segment)> on_reply_sent;
  // Benchmarks only: called on the server thread as each Harf live binary message arrives (before
  // it is analysed), with the session's index and the PCM bytes it carries (the first message's
  // 44-byte WAV header not counted). Empty = not called.
  std::function<void(size_t session, size_t pcm_bytes)> on_audio_received;
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
  std::vector<std::string> replies;     // every text message sent, in order (longer than
                                        // 64 KB: cut to 64 KB, see reply_sizes)
  std::vector<uint64_t> reply_sizes;    // the size of each of replies, as sent
  int binary_replies = 0;               // binary frames sent (binary_reply)
  std::vector<SentSegment> segments;    // every segment message sent (partials too)
  bool finished = false;                // finalize handled and all replies sent
  bool closed = false;                  // the connection is closed (by either side)
  // Every binary message's bytes, concatenated in order (the first one's WAV header
  // included), up to Options::record_audio_max bytes; the hash covers all of them.
  std::string audio;
  uint64_t audio_bytes = 0;  // all binary bytes received
  std::string audio_sha256;  // of all binary bytes received, lowercase hex
  // What the emulator did on purpose: "", "close-after", "close-on-finalize",
  // "reset-on-finalize" (the connection was dropped by a fault switch).
  std::string fault;
};

// One Nevisa live connection (/onlineASR6). A connection may carry several sessions (REQ, SOES,
// audio, EOES, then a new REQ or SOES): their records add up here, times restart at each SOES.
struct NevisaLiveRecord {
  std::string query_authorization, query_api_key;  // as received (tests only; never print them)
  std::vector<std::string> subjects_received;      // "subject" of each text message received, in
                                                   // order; "?" for text without one (or not JSON)
  int req_sample_rate = 0;  // decoding-info's sample-rate of the last REQ (0: none or not a
                            // number; the audio is then taken as 16 kHz)
  std::string req_mode;     // "mode" of the last REQ
  // Binary messages between SOES and EOES: complete WAV files (start with "RIFF", the 44-byte
  // header is stripped) or raw PCM.
  int wav_messages = 0, raw_messages = 0;
  // "message <n>: ..." (n counts the connection's binary messages from 1): a WAV header that is
  // not 16-bit mono PCM at the REQ's rate, a data size other than the message's PCM bytes, an
  // odd PCM byte count.
  std::vector<std::string> framing_errors;
  bool binary_before_soes = false;   // a binary message came outside SOES..EOES (ignored)
  std::vector<size_t> binary_sizes;  // every binary message, in order
  uint64_t pcm_bytes = 0;            // PCM bytes analysed (headers stripped)
  std::vector<std::string> sent;     // every text message sent, in order (INIT included)
  struct Final {
    std::string text;           // the script line
    uint64_t start_ns, end_ns;  // first word's start, last word's end (as sent: 10 ms steps),
                                // from the session's first PCM byte
  };
  std::vector<Final> finals;  // every final sent, in order
  int eoes_count = 0;         // EOES messages received
  bool closed = false;        // the connection is closed (by either side)
  int close_code = 0;         // the emulator's close code when it closed, else the client's
  std::string fault;          // "", "no-usage", "close-after": dropped by a fault switch
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
                                // "deep-json", "huge-body", "progress-500",
                                // "progress-not-json", "progress-hang", "bad-progress-url",
                                // "disconnected" (the client left before a delayed answer)
  std::vector<FormPart> parts;  // multipart parts, in order (urlencoded fields too)
  std::string json_body;        // for JSON requests (a login password is redacted)
  std::string answer;           // the body sent back (truncated to 4 KB)
  uint64_t answer_size = 0;     // the whole body's size (http_huge_body_bytes: as planned)
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
  int handshake_count() const;        // WebSocket upgrade requests seen (Harf and Nevisa live),
                                      // rejected ones included
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

  // ws://127.0.0.1:<port>/onlineASR6 (no query: add ?Authorization=<token>&api-key=<key>)
  std::string nevisa_live_url() const;
  std::vector<NevisaLiveRecord> nevisa_live_sessions() const;  // one per connection, in order
  // Waits until pred(nevisa_live_sessions) is true (checked whenever a record changes); false on
  // timeout.
  bool wait_nevisa_live(const std::function<bool(const std::vector<NevisaLiveRecord> &)> &pred,
                        unsigned timeout_ms) const;

 private:
  std::unique_ptr<detail::Core> core_;
};

// Is name a REST endpoint name for Options::http_deep_target, http_huge_target and
// rest_fault_target ("harf-upload", "nevisa-progress", ...)?
bool valid_rest_target(const std::string &name);

// Python str(timedelta) style: "0:00:05", "0:00:01.240000", "1 day, 0:00:00".
std::string format_timedelta(uint64_t ns);

}  // namespace emu
