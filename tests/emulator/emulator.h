// A local test double of the speech services the plugin talks to.
//
// It is NOT a speech recogniser: it detects speech by signal energy and answers
// with lines from a script.  Today it emulates Harf's live WebSocket endpoint
// (/ws_api/transcribe_files/wav/sync/); the server core is shared so that more
// endpoints (Harf REST, Nevisa) can be added beside it.
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
  std::string token;                // expected token ("Token <t>" or "Bearer <t>"); empty = accept anything
  std::vector<std::string> script;  // one line per speech segment; exhausted => placeholder line
  bool reject_token = false;        // answer every handshake with HTTP 401
  int close_after = -1;             // > 0: close (1011) on the Nth binary message, without replying to it
  unsigned delay_ms = 0;            // delay every reply (order kept)
  bool malformed_json = false;      // the reply to the first binary message is not valid JSON
  bool never_answer = false;        // record everything, send nothing, never close
  bool revisions = false;           // send partial texts for a still-open segment, same segment_id
  unsigned silence_ms = 400;        // silence that ends a speech segment
  double threshold_dbfs = -40.0;    // 20 ms frames with RMS above this are speech
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
  std::string authorization;         // the header as received (tests only; never print it)
  WavHeader header;
  std::vector<size_t> binary_sizes;  // every binary message, in order (the first includes the header)
  uint64_t pcm_bytes = 0;            // PCM bytes after the 44-byte header
  int finalize_count = 0;            // text messages "finalize" received
  bool binary_after_finalize = false;
  std::vector<std::string> other_text;  // text messages other than "finalize"
  std::vector<std::string> replies;     // every text message sent, in order
  std::vector<SentSegment> segments;    // every segment message sent (partials too)
  bool finished = false;                // finalize handled and all replies sent
  bool closed = false;                  // the connection is closed (by either side)
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

 private:
  std::unique_ptr<detail::Core> core_;
};

// Python str(timedelta) style: "0:00:05", "0:00:01.240000", "1 day, 0:00:00".
std::string format_timedelta(uint64_t ns);

}  // namespace emu
