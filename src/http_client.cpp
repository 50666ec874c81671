// SPDX-License-Identifier: LGPL-2.1-or-later
#include "http_client.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/gst.h>

#include <algorithm>
#include <cstdlib>

#include "harf_reply.h"
#include "io_thread.h"

GST_DEBUG_CATEGORY_EXTERN(pt_batch_debug);
#define GST_CAT_DEFAULT pt_batch_debug

/* ---- a GInputStream over [bytes, file, bytes, file, ..., bytes] ---- */

namespace {

struct Piece {
  std::string bytes; /* used when path is empty */
  std::string path;
};

}  // namespace

extern "C" {

typedef struct {
  GInputStream parent;
  std::vector<Piece> *pieces;
  size_t index;
  size_t offset;      /* within bytes */
  GInputStream *file; /* the open file of the current piece */
} PtConcatStream;

typedef struct {
  GInputStreamClass parent_class;
} PtConcatStreamClass;

GType pt_concat_stream_get_type(void);
G_DEFINE_TYPE(PtConcatStream, pt_concat_stream, G_TYPE_INPUT_STREAM)

static gssize pt_concat_stream_read(GInputStream *stream, void *buffer, gsize count,
                                    GCancellable *cancellable, GError **error)
{
  auto *self = reinterpret_cast<PtConcatStream *>(stream);
  while (self->index < self->pieces->size()) {
    Piece &p = (*self->pieces)[self->index];
    if (p.path.empty()) {
      if (self->offset < p.bytes.size()) {
        gsize n = std::min<gsize>(count, p.bytes.size() - self->offset);
        memcpy(buffer, p.bytes.data() + self->offset, n);
        self->offset += n;
        return static_cast<gssize>(n);
      }
    } else {
      if (!self->file) {
        GFile *f = g_file_new_for_path(p.path.c_str());
        self->file = G_INPUT_STREAM(g_file_read(f, cancellable, error));
        g_object_unref(f);
        if (!self->file)
          return -1;
      }
      gssize n = g_input_stream_read(self->file, buffer, count, cancellable, error);
      if (n != 0)
        return n;
      g_input_stream_close(self->file, nullptr, nullptr);
      g_clear_object(&self->file);
    }
    self->index++;
    self->offset = 0;
  }
  return 0;
}

static gboolean pt_concat_stream_close(GInputStream *stream, GCancellable *, GError **)
{
  auto *self = reinterpret_cast<PtConcatStream *>(stream);
  if (self->file) {
    g_input_stream_close(self->file, nullptr, nullptr);
    g_clear_object(&self->file);
  }
  return TRUE;
}

static void pt_concat_stream_finalize(GObject *object)
{
  auto *self = reinterpret_cast<PtConcatStream *>(object);
  g_clear_object(&self->file);
  delete self->pieces;
  G_OBJECT_CLASS(pt_concat_stream_parent_class)->finalize(object);
}

static void pt_concat_stream_class_init(PtConcatStreamClass *klass)
{
  G_OBJECT_CLASS(klass)->finalize = pt_concat_stream_finalize;
  G_INPUT_STREAM_CLASS(klass)->read_fn = pt_concat_stream_read;
  G_INPUT_STREAM_CLASS(klass)->close_fn = pt_concat_stream_close;
}

static void pt_concat_stream_init(PtConcatStream *self)
{
  self->pieces = new std::vector<Piece>();
  self->index = 0;
  self->offset = 0;
  self->file = nullptr;
}

}  // extern "C"

namespace pt {

/* ---- multipart ---- */

namespace {

std::string quoted(const std::string &s)
{
  std::string out;
  for (char c : s)
    out += (c == '"' || c == '\r' || c == '\n') ? '_' : c;
  return out;
}

goffset file_size(const std::string &path)
{
  GStatBuf st;
  return g_stat(path.c_str(), &st) == 0 ? static_cast<goffset>(st.st_size) : -1;
}

}  // namespace

MultipartBody::MultipartBody(std::vector<MultipartPart> parts) : parts_(std::move(parts))
{
  gchar *uuid = g_uuid_string_random();
  boundary_ = std::string("----persiantranscribe-") + uuid;
  g_free(uuid);
  content_type_ = "multipart/form-data; boundary=" + boundary_;
  length_ = 0;
  for (const MultipartPart &p : parts_) {
    std::string head =
        "--" + boundary_ + "\r\nContent-Disposition: form-data; name=\"" + quoted(p.name) + "\"";
    if (!p.file_path.empty()) {
      head += "; filename=\"" + quoted(p.filename) + "\"\r\nContent-Type: " +
              (p.content_type.empty() ? "application/octet-stream" : p.content_type);
      goffset size = file_size(p.file_path);
      length_ += size > 0 ? size : 0;
    }
    head += "\r\n\r\n";
    if (p.file_path.empty())
      length_ += static_cast<goffset>(p.value.size());
    length_ += static_cast<goffset>(head.size()) + 2; /* CRLF after the content */
    heads_.push_back(std::move(head));
  }
  tail_ = "--" + boundary_ + "--\r\n";
  length_ += static_cast<goffset>(tail_.size());
}

GInputStream *MultipartBody::open(GError **error) const
{
  auto *s = static_cast<PtConcatStream *>(g_object_new(pt_concat_stream_get_type(), nullptr));
  std::string pending;
  for (size_t i = 0; i < parts_.size(); ++i) {
    pending += heads_[i];
    if (parts_[i].file_path.empty()) {
      pending += parts_[i].value + "\r\n";
      continue;
    }
    if (!g_file_test(parts_[i].file_path.c_str(), G_FILE_TEST_IS_REGULAR)) {
      g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "cannot read %s",
                  parts_[i].file_path.c_str());
      g_object_unref(s);
      return nullptr;
    }
    s->pieces->push_back({pending, ""});
    s->pieces->push_back({"", parts_[i].file_path});
    pending = "\r\n";
  }
  pending += tail_;
  s->pieces->push_back({pending, ""});
  return G_INPUT_STREAM(s);
}

std::string MultipartBody::to_string() const
{
  GInputStream *s = open(nullptr);
  std::string out;
  char buf[4096];
  gssize n;
  while (s && (n = g_input_stream_read(s, buf, sizeof buf, nullptr, nullptr)) > 0)
    out.append(buf, static_cast<size_t>(n));
  if (s)
    g_object_unref(s);
  return out;
}

/* ---- requests ---- */

struct HttpClient::Op {
  HttpClient *owner;
  HttpRequest req;
  std::function<void(const HttpResponse &)> done;
  SoupMessage *msg = nullptr;
  GCancellable *cancel = nullptr;
  GSource *retry = nullptr;
  GInputStream *stream = nullptr; /* the answer being read */
  std::string body;
  std::shared_ptr<SpilledBody> spill; /* the answer, once past req.spill_above */
  std::string spill_error;
  size_t received = 0;
  /* The largest answer: req.max_body only for one that goes to disk;
   * what is held in memory stays within the client's max_body. */
  size_t limit(size_t held) const
  {
    return req.spill_above && req.max_body ? std::max(req.max_body, held) : held;
  }
  bool too_large = false;
  unsigned attempts = 0;
  uint64_t sent = 0;
};

SpilledBody::~SpilledBody()
{
  if (fd >= 0)
    close(fd);
}

namespace {

bool write_all(int fd, const char *d, size_t n)
{
  while (n > 0) {
    const ssize_t w = write(fd, d, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    d += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

/* An unlinked temporary file for an answer, or null with *error */
std::shared_ptr<SpilledBody> open_spill(std::string *error)
{
  GError *err = nullptr;
  gchar *path = nullptr;
  const int fd = g_file_open_tmp("persiantranscribe-answer-XXXXXX.json", &path, &err);
  if (fd < 0) {
    *error = err ? err->message : "cannot create a temporary file";
    g_clear_error(&err);
    return nullptr;
  }
  g_unlink(path);
  g_free(path);
  auto spill = std::make_shared<SpilledBody>();
  spill->fd = fd;
  return spill;
}

}  // namespace

HttpClient::HttpClient(IoThread *io, unsigned timeout_s, GObject *log_object, size_t max_body)
    : io_(io), log_object_(log_object), max_body_(max_body)
{
  session_ = soup_session_new_with_options("user-agent", "persiantranscribe/" VERSION, "timeout",
                                           timeout_s, nullptr);
}

HttpClient::~HttpClient()
{
  cancel_all();
  soup_session_abort(session_);
  g_object_unref(session_);
}

unsigned HttpClient::retry_after_seconds(const char *header)
{
  if (!header)
    return 2;
  char *end = nullptr;
  long v = std::strtol(header, &end, 10);
  if (end == header || v < 0)
    return 2; /* an HTTP date, or garbage: a short wait */
  return static_cast<unsigned>(std::min<long>(v, 120));
}

void HttpClient::send(HttpRequest req, std::function<void(const HttpResponse &)> done)
{
  auto op = std::make_unique<Op>();
  op->owner = this;
  op->req = std::move(req);
  op->done = std::move(done);
  Op *raw = op.get();
  ops_.push_back(std::move(op));
  attempt(raw);
}

void HttpClient::attempt(Op *op)
{
  op->attempts++;
  op->sent = 0;
  HttpResponse fail;
  fail.attempts = op->attempts;
  SoupMessage *msg = soup_message_new(op->req.method.c_str(), op->req.url.c_str());
  if (!msg) {
    fail.error = "\"" + op->req.url + "\" is not a valid URL";
    finish(op, fail);
    return;
  }
  SoupMessageHeaders *h = soup_message_get_request_headers(msg);
  for (auto &[k, v] : op->req.headers)
    soup_message_headers_replace(h, k.c_str(), v.c_str());
  if (op->req.multipart) {
    GError *err = nullptr;
    GInputStream *body = op->req.multipart->open(&err);
    if (!body) {
      fail.error = err ? err->message : "cannot open the upload";
      g_clear_error(&err);
      g_object_unref(msg);
      finish(op, fail);
      return;
    }
    soup_message_set_request_body(msg, op->req.multipart->content_type().c_str(), body,
                                  op->req.multipart->length());
    g_object_unref(body);
    g_signal_connect(msg, "wrote-body-data", G_CALLBACK(on_wrote), op);
  } else if (!op->req.body.empty() || op->req.method == "POST") {
    GBytes *b = g_bytes_new(op->req.body.data(), op->req.body.size());
    soup_message_set_request_body_from_bytes(
        msg, op->req.content_type.empty() ? "application/json" : op->req.content_type.c_str(), b);
    g_bytes_unref(b);
  }
  op->msg = msg;
  op->cancel = g_cancellable_new();
  GST_DEBUG_OBJECT(log_object_, "%s %s (attempt %u)", op->req.method.c_str(), op->req.url.c_str(),
                   op->attempts);
  soup_session_send_async(session_, msg, G_PRIORITY_DEFAULT, op->cancel, on_sent, op);
}

void HttpClient::on_wrote(SoupMessage *, guint chunk, gpointer data)
{
  auto *op = static_cast<Op *>(data);
  op->sent += chunk;
  if (op->owner && op->req.on_upload_progress && op->req.multipart)
    op->req.on_upload_progress(op->sent, static_cast<uint64_t>(op->req.multipart->length()));
}

/* An op whose owner cancelled it: kept alive only for its last callback. */
void HttpClient::release(Op *op)
{
  g_signal_handlers_disconnect_by_data(op->msg, op);
  g_clear_object(&op->stream);
  g_clear_object(&op->msg);
  g_clear_object(&op->cancel);
  delete op;
}

void HttpClient::on_sent(GObject *source, GAsyncResult *res, gpointer data)
{
  auto *op = static_cast<Op *>(data);
  GError *err = nullptr;
  GInputStream *stream = soup_session_send_finish(SOUP_SESSION(source), res, &err);
  if (!op->owner) {
    if (stream)
      g_object_unref(stream);
    g_clear_error(&err);
    release(op);
    return;
  }
  if (!stream) {
    op->owner->complete(op, err);
    g_clear_error(&err);
    return;
  }
  op->stream = stream;
  op->body.clear();
  /* Room for the whole answer at once (Content-Length, else the cap; at
   * most 16 MB): growing a string by doubling leaves each old buffer freed
   * behind it, so the process would hold about twice the answer at its
   * peak. */
  const goffset length =
      soup_message_headers_get_content_length(soup_message_get_response_headers(op->msg));
  size_t room = std::min<size_t>(op->owner->max_body_, size_t(16) << 20);
  if (length > 0)
    room = std::min(room, static_cast<size_t>(length));
  if (op->req.spill_above)
    room = std::min(room, op->req.spill_above);
  op->body.reserve(room);
  op->received = 0;
  op->spill.reset();
  read_more(op);
}

/* The answer is read in pieces, up to the client's cap: a hostile or broken
 * server cannot make the process hold more than that. */
void HttpClient::read_more(Op *op)
{
  g_input_stream_read_bytes_async(op->stream, 64 * 1024, G_PRIORITY_DEFAULT, op->cancel, on_read,
                                  op);
}

void HttpClient::on_read(GObject *source, GAsyncResult *res, gpointer data)
{
  auto *op = static_cast<Op *>(data);
  GError *err = nullptr;
  GBytes *bytes = g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), res, &err);
  if (!op->owner) {
    if (bytes)
      g_bytes_unref(bytes);
    g_clear_error(&err);
    release(op);
    return;
  }
  HttpClient *self = op->owner;
  if (!bytes) {
    self->complete(op, err);
    g_clear_error(&err);
    return;
  }
  gsize n = 0;
  const char *d = static_cast<const char *>(g_bytes_get_data(bytes, &n));
  if (n == 0) {
    g_bytes_unref(bytes);
    self->complete(op, nullptr);
    return;
  }
  if (op->received + n > op->limit(self->max_body_)) {
    g_bytes_unref(bytes);
    op->too_large = true;
    g_cancellable_cancel(op->cancel);
    self->complete(op, nullptr);
    return;
  }
  op->received += n;
  if (!op->spill && op->req.spill_above && op->received > op->req.spill_above) {
    /* Too long to hold: what came so far, and the rest, go to disk */
    op->spill = open_spill(&op->spill_error);
    if (op->spill && !write_all(op->spill->fd, op->body.data(), op->body.size()))
      op->spill_error = g_strerror(errno);
    op->body.resize(std::min<size_t>(op->body.size(), 4096));
    op->body.shrink_to_fit();
  }
  if (!op->spill && op->spill_error.empty())
    op->body.append(d, n);
  else if (op->spill_error.empty() && !write_all(op->spill->fd, d, n))
    op->spill_error = g_strerror(errno);
  g_bytes_unref(bytes);
  if (!op->spill_error.empty()) {
    g_cancellable_cancel(op->cancel);
    self->complete(op, nullptr);
    return;
  }
  read_more(op);
}

void HttpClient::complete(Op *op, const GError *err)
{
  HttpClient *self = this;
  HttpResponse r;
  r.attempts = op->attempts;
  r.status = soup_message_get_status(op->msg);
  r.body = std::move(op->body);
  op->body.clear();
  if (op->spill && op->spill_error.empty() && !err && !op->too_large) {
    op->spill->size = op->received;
    r.spilled = std::move(op->spill);
  }
  op->spill.reset();
  if (op->too_large) {
    r.status = 0;
    r.too_large = true;
    r.body.clear();
    r.limit = op->limit(max_body_);
    if (r.limit != max_body_)
      r.limit_name = op->req.max_body_name;
    r.error = "the answer is larger than " + std::to_string(r.limit) + " bytes";
  } else if (!op->spill_error.empty()) {
    r.status = 0;
    r.disk_error = true;
    r.body.clear();
    r.error = "cannot keep the answer in a temporary file: " + op->spill_error;
    op->spill_error.clear();
  } else if (err) {
    r.status = 0;
    r.error = err->message;
    r.tls_error = err->domain == G_TLS_ERROR;
    r.timed_out = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  }
  const char *retry_after =
      soup_message_headers_get_one(soup_message_get_response_headers(op->msg), "Retry-After");
  unsigned wait_s = 0;
  bool retry = false;
  if (r.status == 429) {
    wait_s = retry_after_seconds(retry_after);
    retry = true;
  } else if (r.status >= 500 && r.status < 600) {
    wait_s = 1u << std::min(op->attempts - 1, 4u); /* 1, 2, 4, 8, 16 s */
    retry = true;
  }
  g_signal_handlers_disconnect_by_data(op->msg, op);
  g_clear_object(&op->stream);
  g_clear_object(&op->msg);
  g_clear_object(&op->cancel);
  op->too_large = false;
  if (retry && op->attempts < op->req.max_attempts) {
    GST_INFO_OBJECT(self->log_object_, "HTTP %u from %s; trying again in %u s", r.status,
                    op->req.url.c_str(), wait_s);
    op->retry = g_timeout_source_new_seconds(wait_s);
    g_source_set_callback(op->retry, on_retry, op, nullptr);
    g_source_attach(op->retry, self->io_->context());
    return;
  }
  self->finish(op, r);
}

gboolean HttpClient::on_retry(gpointer data)
{
  auto *op = static_cast<Op *>(data);
  g_source_unref(op->retry);
  op->retry = nullptr;
  op->owner->attempt(op);
  return G_SOURCE_REMOVE;
}

void HttpClient::finish(Op *op, const HttpResponse &r)
{
  auto done = std::move(op->done);
  for (auto it = ops_.begin(); it != ops_.end(); ++it) {
    if (it->get() == op) {
      ops_.erase(it);
      break;
    }
  }
  done(r);
}

void HttpClient::cancel_all()
{
  for (auto &op : ops_) {
    if (op->retry) {
      g_source_destroy(op->retry);
      g_source_unref(op->retry);
      op->retry = nullptr;
    }
    if (op->msg) {
      /* in flight: the callback frees it */
      op->owner = nullptr;
      g_cancellable_cancel(op->cancel);
      op.release();
    }
  }
  ops_.clear();
}

std::string http_status_text(guint status)
{
  const char *phrase = status == 429 ? "Too Many Requests" : soup_status_get_phrase(status);
  if (!phrase || g_str_equal(phrase, "Unknown Error"))
    phrase = status >= 500 ? "Server Error" : status >= 400 ? "Client Error" : "";
  return std::to_string(status) + (*phrase ? " " : "") + phrase;
}

/* ---- requests nobody waits for ---- */

namespace {

struct DetachedRequest {
  std::unique_ptr<HttpClient> client;
  GSource *timer = nullptr;
  std::string label;
};

void end_detached(DetachedRequest *d)
{
  if (d->timer) {
    g_source_destroy(d->timer);
    g_source_unref(d->timer);
  }
  delete d; /* cancels the request if it is still in flight */
}

gboolean on_detached_timeout(gpointer data)
{
  auto *d = static_cast<DetachedRequest *>(data);
  GST_INFO("%s: no answer in time; given up", d->label.c_str());
  g_source_unref(d->timer);
  d->timer = nullptr;
  end_detached(d);
  return G_SOURCE_REMOVE;
}

}  // namespace

void send_detached(HttpRequest req, unsigned timeout_s, std::string label)
{
  IoThread &io = IoThread::process_wide();
  io.post([&io, req = std::move(req), timeout_s, label = std::move(label)]() mutable {
    auto *d = new DetachedRequest;
    d->client = std::make_unique<HttpClient>(&io, timeout_s);
    d->label = std::move(label);
    d->timer = g_timeout_source_new_seconds(timeout_s);
    g_source_set_callback(d->timer, on_detached_timeout, d, nullptr);
    g_source_attach(d->timer, io.context());
    GST_INFO("%s: sending", d->label.c_str());
    d->client->send(std::move(req), [d, &io](const HttpResponse &r) {
      GST_INFO("%s: answered HTTP %u%s%s", d->label.c_str(), r.status, r.error.empty() ? "" : ": ",
               r.error.c_str());
      /* The timer goes now: firing before the post below runs, it would
       * free d a second time. */
      if (d->timer) {
        g_source_destroy(d->timer);
        g_source_unref(d->timer);
        d->timer = nullptr;
      }
      /* Not from inside the client's own callback */
      io.post([d] { end_detached(d); });
    });
  });
}

std::optional<Error> http_failure(const HttpResponse &r, const std::string &what,
                                  const std::string &url, const Settings &s)
{
  if (r.status >= 200 && r.status < 300)
    return std::nullopt;
  if (r.too_large) {
    return Error{ErrorKind::Read,
                 what + ": the answer from " + url + " is larger than " +
                     std::to_string(r.limit ? r.limit : size_t(s.max_answer_bytes)) + " bytes (" +
                     (r.limit_name.empty() ? "\"max-answer-size\"" : r.limit_name) +
                     "); the request was cancelled",
                 r.error, nullptr};
  } else if (r.disk_error) {
    return Error{ErrorKind::Write, what + ": the answer from " + url + " could not be kept", r.error,
                 nullptr};
  } else if (r.status == 0 && r.timed_out) {
    return Error{ErrorKind::Read,
                 what + ": no answer from " + url + " within " + std::to_string(s.timeout_s) +
                     " s (\"timeout\"" +
                     (s.backend == BackendKind::HarfFile && s.harf_wait
                          ? "; a long harf-file job needs a larger timeout, or harf-wait=false)"
                          : ")"),
                 r.error, nullptr};
  } else if (r.status == 0) {
    return Error{ErrorKind::OpenReadWrite,
                 (r.tls_error ? "TLS handshake with " : "Connection to ") + url + " failed (" +
                     what + "): " + r.error,
                 r.error, nullptr};
  } else if (r.status == 401 || r.status == 403) {
    return Error{
        ErrorKind::NotAuthorized,
        what + " was refused (HTTP " + http_status_text(r.status) + "): check the credentials",
        quote_excerpt(r.body.data(), r.body.size()), kReasonCredentialsRejected};
  } else {
    std::string tries = r.attempts > 1 ? " after " + std::to_string(r.attempts) + " attempts" : "";
    return Error{ErrorKind::Read,
                 what + " failed: HTTP " + http_status_text(r.status) + " from " + url + tries +
                     ": " + quote_excerpt(r.body.data(), r.body.size()),
                 "", nullptr};
  }
}

}  // namespace pt
