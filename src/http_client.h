// SPDX-License-Identifier: LGPL-2.1-or-later
/* HTTP for the batch backends, on the I/O thread: requests with bounded
 * retries (429 waits Retry-After; 5xx backs off), and multipart/form-data
 * bodies streamed from disk, never held in memory. */
#pragma once

#include <libsoup/soup.h>

#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "settings.h"

namespace pt {

class IoThread;

struct MultipartPart {
  std::string name;
  std::string value;     /* a text field, or ... */
  std::string file_path; /* ... a file streamed from disk */
  std::string filename;
  std::string content_type;
};

/* multipart/form-data whose file parts are read from disk as it is sent. */
class MultipartBody {
 public:
  explicit MultipartBody(std::vector<MultipartPart> parts);
  /* A new stream over the whole body (each attempt needs its own). */
  GInputStream *open(GError **error) const;
  const std::string &content_type() const { return content_type_; }
  goffset length() const { return length_; }
  /* For the tests: the body as bytes (reads the files). */
  std::string to_string() const;

 private:
  std::vector<MultipartPart> parts_;
  std::string boundary_;
  std::string content_type_;
  std::vector<std::string> heads_; /* what goes before each part's content */
  std::string tail_;
  goffset length_ = 0;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers; /* may carry secrets: never logged */
  std::string content_type;                                 /* with body */
  std::string body;
  std::shared_ptr<const MultipartBody> multipart; /* or a streamed body */
  unsigned max_attempts = 4;
  std::function<void(uint64_t sent, uint64_t total)> on_upload_progress;
  /* An answer longer than this (0: never) goes to a temporary file, not
   * memory: HttpResponse::spilled. */
  size_t spill_above = 0;
  /* With spill_above: the largest answer read to disk, in place of the
   * client's max_body (0: the same), and what that limit is called in the
   * error. */
  size_t max_body = 0;
  std::string max_body_name;
};

/* An answer kept on disk: a temporary file, already unlinked, so that
 * nothing is left behind whatever happens to the process. */
struct SpilledBody {
  int fd = -1;
  size_t size = 0;
  SpilledBody() = default;
  SpilledBody(const SpilledBody &) = delete;
  SpilledBody &operator=(const SpilledBody &) = delete;
  ~SpilledBody();
};

struct HttpResponse {
  guint status = 0; /* 0 on a transport error */
  std::string body;
  std::string error; /* transport error, for a person */
  bool tls_error = false;
  bool timed_out = false; /* no answer within the session's timeout */
  bool too_large = false; /* the answer passed the client's cap and was cancelled */
  size_t limit = 0;       /* too_large: that cap, in bytes */
  std::string limit_name; /* too_large: what the cap is called, if not max-answer-size */
  bool disk_error = false; /* a spilled answer could not be written */
  unsigned attempts = 0;
  /* The answer, when it was longer than the request's spill_above: body
   * then holds at most its first 4 KiB (for error messages). */
  std::shared_ptr<const SpilledBody> spilled;
};

class HttpClient {
 public:
  /* log_object: what log lines name (borrowed, or null).  max_body: the
   * largest answer read; a larger one is cancelled (HttpResponse::too_large). */
  HttpClient(IoThread *io, unsigned timeout_s, GObject *log_object = nullptr,
             size_t max_body = kDefaultMaxAnswerBytes);
  ~HttpClient();
  HttpClient(const HttpClient &) = delete;
  HttpClient &operator=(const HttpClient &) = delete;

  /* done is called once, on the I/O thread, unless cancel_all() comes first. */
  void send(HttpRequest req, std::function<void(const HttpResponse &)> done);
  /* Drops every request in flight; no callback runs after this returns. */
  void cancel_all();

  /* Seconds to wait after a 429, from Retry-After (delta seconds), bounded. */
  static unsigned retry_after_seconds(const char *header);

 private:
  struct Op;
  void attempt(Op *op);
  void finish(Op *op, const HttpResponse &r);
  static void on_sent(GObject *source, GAsyncResult *res, gpointer data);
  static void on_read(GObject *source, GAsyncResult *res, gpointer data);
  static void read_more(Op *op);
  static void release(Op *op);
  void complete(Op *op, const GError *err);
  static gboolean on_retry(gpointer data);
  static void on_wrote(SoupMessage *msg, guint chunk, gpointer data);

  IoThread *io_;
  GObject *log_object_;
  size_t max_body_;
  SoupSession *session_;
  std::list<std::unique_ptr<Op>> ops_;
};

/* "429 Too Many Requests": the code and its reason phrase (libsoup 3.2
 * knows no phrase for 429). */
std::string http_status_text(guint status);

/* What an HTTP answer that is not a success means for a person: the error
 * (the request cancelled for size, no answer within timeout, not
 * reachable, credentials refused, any other status), or nullopt for a 2xx.
 * what names the request ("Nevisa login", "Harf upload", ...). */
std::optional<Error> http_failure(const HttpResponse &r, const std::string &what,
                                  const std::string &url, const Settings &s);

/* Sends req from IoThread::process_wide() and returns at once: nobody waits
 * for the answer, which is only logged.  The request owns itself there,
 * outlives whatever started it, and is cancelled after timeout_s.  label
 * names it in log lines (never a secret). */
void send_detached(HttpRequest req, unsigned timeout_s, std::string label);

}  // namespace pt
