// SPDX-License-Identifier: LGPL-2.1-or-later
// The REST front: streams bodies, records requests, routes paths, holds delayed answers back.
#include "rest_router.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

namespace emu {
namespace detail {

namespace {

constexpr char kBodyKey[] = "emu-request-body";
constexpr char kStreamKey[] = "emu-response-stream";
constexpr size_t kMaxRecordedAnswer = 4096;
constexpr size_t kFillerChunk = 64u << 10;

// A huge answer being sent: the parts still to append to the response body.
struct Streamed {
  HugeBody body;
  int stage = 0;  // 0: head, 1: filler, 2: tail and end, 3: done
};

// kFillerChunk bytes of c, shared by every streamed answer.
GBytes *filler_bytes(char c)
{
  static GBytes *x = [] {
    static char buf[kFillerChunk];
    memset(buf, 'x', sizeof buf);
    return g_bytes_new_static(buf, sizeof buf);
  }();
  static GBytes *space = [] {
    static char buf[kFillerChunk];
    memset(buf, ' ', sizeof buf);
    return g_bytes_new_static(buf, sizeof buf);
  }();
  return c == ' ' ? space : x;
}

// Appends the next non-empty piece of s to body (completing it after the tail).
void append_next(Streamed *s, SoupMessageBody *body)
{
  while (s->stage < 3) {
    switch (s->stage) {
      case 0:
        ++s->stage;
        if (!s->body.head.empty()) {
          soup_message_body_append(body, SOUP_MEMORY_COPY, s->body.head.data(),
                                   s->body.head.size());
          return;
        }
        break;
      case 1:
        if (s->body.filler > 0) {
          const size_t n = size_t(std::min<uint64_t>(s->body.filler, kFillerChunk));
          GBytes *piece = g_bytes_new_from_bytes(filler_bytes(s->body.fill), 0, n);
          soup_message_body_append_bytes(body, piece);
          g_bytes_unref(piece);
          s->body.filler -= n;
          return;
        }
        ++s->stage;
        break;
      case 2:
        ++s->stage;
        if (!s->body.tail.empty())
          soup_message_body_append(body, SOUP_MEMORY_COPY, s->body.tail.data(),
                                   s->body.tail.size());
        soup_message_body_complete(body);
        return;
    }
  }
}

// A JSON object's text with its "password" member replaced (the body parsed before).
std::string redact_password(const std::string &json)
{
  GObjectPtr<JsonParser> parser(json_parser_new());
  if (!json_parser_load_from_data(parser.get(), json.data(), gssize(json.size()), nullptr))
    return json;
  JsonNode *root = json_parser_get_root(parser.get());
  if (!JSON_NODE_HOLDS_OBJECT(root) ||
      !json_object_has_member(json_node_get_object(root), "password"))
    return json;
  json_object_set_string_member(json_node_get_object(root), "password", "(redacted)");
  g_autofree char *text = json_to_string(root, FALSE);
  return text;
}

std::string truncate_utf8(const std::string &s, size_t max)
{
  if (s.size() <= max)
    return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80)
    --n;  // do not split a character
  return s.substr(0, n);
}

}  // namespace

RestRouter::RestRouter(Core &core, SoupServer *server)
    : core_(core), server_(server), harf_(core.opts), nevisa_(core.opts), faults_(core.opts)
{
  std::vector<const char *> paths(std::begin(kHarfRestPaths), std::end(kHarfRestPaths));
  paths.insert(paths.end(), std::begin(kNevisaLoginPaths), std::end(kNevisaLoginPaths));
  paths.push_back(kNevisaPrefix);  // and everything below it
  for (const char *path : paths) {
    soup_server_add_early_handler(server_, path, early_cb, this, nullptr);
    soup_server_add_handler(server_, path, handler_cb, this, nullptr);
  }
  soup_server_add_handler(server_, nullptr, handler_cb, this,
                          nullptr);  // any other path: 404, recorded
}

RestRouter::~RestRouter()
{
  delayed_.clear();  // their messages stay paused; the server drops them
  for (const char *path : kHarfRestPaths)
    soup_server_remove_handler(server_, path);
  for (const char *path : kNevisaLoginPaths)
    soup_server_remove_handler(server_, path);
  soup_server_remove_handler(server_, kNevisaPrefix);
  soup_server_remove_handler(server_, nullptr);
}

void RestRouter::early_cb(SoupServer *, SoupServerMessage *msg, const char *, GHashTable *,
                          gpointer self)
{
  guarded("rest headers", [&] { static_cast<RestRouter *>(self)->on_headers(msg); });
}

void RestRouter::handler_cb(SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *,
                            gpointer self)
{
  guarded("rest request", [&] { static_cast<RestRouter *>(self)->on_request(msg, path); });
}

void RestRouter::got_chunk_cb(SoupServerMessage *, GBytes *chunk, gpointer body)
{
  guarded("rest body", [&] {
    gsize n = 0;
    const auto *data = static_cast<const uint8_t *>(g_bytes_get_data(chunk, &n));
    static_cast<RequestBody *>(body)->feed(data, n);
  });
}

// Headers are in, the body is not: stream it instead of letting libsoup accumulate it.
void RestRouter::on_headers(SoupServerMessage *msg)
{
  auto *body = new RequestBody(soup_server_message_get_request_headers(msg), core_.opts);
  g_object_set_data_full(G_OBJECT(msg), kBodyKey, body,
                         [](gpointer p) { delete static_cast<RequestBody *>(p); });
  soup_message_body_set_accumulate(soup_server_message_get_request_body(msg), FALSE);
  g_signal_connect(msg, "got-chunk", G_CALLBACK(got_chunk_cb), body);
}

RestRouter::Endpoint RestRouter::endpoint(const std::string &path, std::string *task_id)
{
  auto is = [&](const char *p) { return path == p || path == std::string(p) + "/"; };
  if (is("/api/transcribe_files"))
    return Endpoint::HarfFiles;
  if (is("/account/login"))
    return Endpoint::NevisaLogin;
  const std::string base = std::string(kNevisaPrefix) + "/";
  if (is((base + "recognize-file").c_str()))
    return Endpoint::NevisaRecognize;
  if (is((base + "file/terminate-task").c_str()))
    return Endpoint::NevisaTerminate;
  const std::string progress = base + "celery-progress/";
  if (path.compare(0, progress.size(), progress) == 0) {
    std::string id = path.substr(progress.size());
    if (!id.empty() && id.back() == '/')
      id.pop_back();
    if (!id.empty() && id.find('/') == std::string::npos) {
      *task_id = id;
      return Endpoint::NevisaProgress;
    }
  }
  return Endpoint::Unknown;
}

void RestRouter::on_request(SoupServerMessage *msg, const char *path_c)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
  auto *body = static_cast<RequestBody *>(g_object_get_data(G_OBJECT(msg), kBodyKey));
  std::unique_ptr<RequestBody> own;
  if (!body) {  // no early handler ran (any other path): libsoup accumulated the body
    own = std::make_unique<RequestBody>(headers, core_.opts);
    GBytes *all = soup_message_body_flatten(soup_server_message_get_request_body(msg));
    gsize n = 0;
    const auto *data = static_cast<const uint8_t *>(g_bytes_get_data(all, &n));
    own->feed(data, n);
    g_bytes_unref(all);
    body = own.get();
  }
  body->finish();

  const std::string path = path_c ? path_c : "";
  std::string task_id;
  const Endpoint e = endpoint(path, &task_id);
  RestRecord rec;
  rec.method = soup_server_message_get_method(msg);
  rec.path = path;
  const char *auth = soup_message_headers_get_one(headers, "Authorization");
  rec.authorization = auth ? auth : "";
  const char *ctype = soup_message_headers_get_one(headers, "Content-Type");
  rec.content_type = ctype ? ctype : "";
  rec.body_size = body->size();
  for (const auto &p : body->parts())
    rec.parts.push_back(p->info);
  for (const auto &f : body->form_fields())
    rec.parts.push_back(f);
  if (body->is_json())
    rec.json_body = body->raw();
  switch (e) {
    case Endpoint::HarfFiles:
      rec.kind = HarfRestService::kind(*body);
      break;
    case Endpoint::NevisaLogin:
      rec.kind = "nevisa-login";
      break;
    case Endpoint::NevisaRecognize:
      rec.kind = "nevisa-recognize";
      break;
    case Endpoint::NevisaProgress:
      rec.kind = "nevisa-progress";
      break;
    case Endpoint::NevisaTerminate:
      rec.kind = "nevisa-terminate";
      break;
    case Endpoint::Unknown:
      rec.kind = "unknown";
      break;
  }
  if (e == Endpoint::NevisaLogin) {  // the username is recorded, the password never
    body->field("username_or_phone_or_email", &rec.username);
    for (auto &p : rec.parts)
      if (p.name == "password") {
        p.text = "(redacted)";
        p.sha256.clear();
      }
    if (body->json_object())
      rec.json_body = redact_password(body->raw());
  }

  RestRequest req{rec.method, path, auth, *body, rec};
  Answer answer = e == Endpoint::Unknown ? detail_answer(SOUP_STATUS_NOT_FOUND, "Not found.")
                                         : faults_.check(rec);
  if (e != Endpoint::Unknown && rec.fault.empty()) {
    answer = dispatch(e, req, task_id);
    faults_.not_json(answer, rec);
    faults_.shape(answer, rec);
  }
  g_info("%s %s (%s): %u%s%s%s", rec.method.c_str(), path.c_str(), rec.kind.c_str(), answer.status,
         rec.fault.empty() ? "" : " fault ", rec.fault.c_str(),
         answer.delay_ms ? " (delayed)" : "");

  if (answer.delay_ms == 0) {
    rec.status = int(answer.status);
    rec.answer = recorded_answer(answer, &rec.answer_size);
    send(msg, answer);
    core_.add_rest(std::move(rec));
    return;
  }
  auto d = std::make_unique<Delayed>();
  d->router = this;
  d->msg.reset(SOUP_SERVER_MESSAGE(g_object_ref(msg)));
  d->answer = std::move(answer);
  d->record = core_.add_rest(std::move(rec));  // status 0 until sent
  d->disconnected_id = g_signal_connect(msg, "disconnected", G_CALLBACK(disconnected_cb), d.get());
  d->timer.reset(g_timeout_source_new(d->answer.delay_ms));
  g_source_set_callback(d->timer.get(), delayed_cb, d.get(), nullptr);
  g_source_attach(d->timer.get(), g_main_context_get_thread_default());
  if (GSocket *socket = soup_server_message_get_socket(msg)) {
    d->watch.reset(
        g_socket_create_source(socket, GIOCondition(G_IO_IN | G_IO_HUP | G_IO_ERR), nullptr));
    g_source_set_callback(d->watch.get(), G_SOURCE_FUNC(socket_cb), d.get(), nullptr);
    g_source_attach(d->watch.get(), g_main_context_get_thread_default());
  }
  soup_server_message_pause(msg);
  delayed_.push_back(std::move(d));
}

Answer RestRouter::dispatch(Endpoint e, RestRequest &r, const std::string &task_id)
{
  switch (e) {
    case Endpoint::HarfFiles:
      return harf_.handle(r);
    case Endpoint::NevisaLogin:
      return nevisa_.login(r);
    case Endpoint::NevisaRecognize:
      return nevisa_.recognize(r);
    case Endpoint::NevisaProgress:
      return nevisa_.progress(r, task_id);
    case Endpoint::NevisaTerminate:
      return nevisa_.terminate(r);
    case Endpoint::Unknown:
      break;
  }
  return detail_answer(SOUP_STATUS_NOT_FOUND, "Not found.");
}

void RestRouter::send(SoupServerMessage *msg, const Answer &a)
{
  soup_server_message_set_status(
      msg, a.status, a.status == kStatusTooManyRequests ? "Too Many Requests" : nullptr);
  SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
  for (const auto &kv : a.headers)
    soup_message_headers_replace(h, kv.first.c_str(), kv.second.c_str());
  if (a.stream_bytes > 0) {
    send_streamed(msg, a);
    return;
  }
  soup_server_message_set_response(msg, a.content_type, SOUP_MEMORY_COPY, a.body.data(),
                                   a.body.size());
}

void RestRouter::send_streamed(SoupServerMessage *msg, const Answer &a)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers(msg);
  soup_message_headers_set_encoding(h, SOUP_ENCODING_CHUNKED);
  soup_message_headers_replace(h, "Content-Type", a.content_type);
  SoupMessageBody *body = soup_server_message_get_response_body(msg);
  soup_message_body_set_accumulate(body, FALSE);  // written chunks are dropped
  auto *s = new Streamed{huge_body_parts(a.body, a.stream_bytes)};
  g_object_set_data_full(G_OBJECT(msg), kStreamKey, s,
                         [](gpointer p) { delete static_cast<Streamed *>(p); });
  g_signal_connect(msg, "wrote-chunk", G_CALLBACK(wrote_chunk_cb), s);
  append_next(s, body);
}

// A chunk is on the wire: append the next one (libsoup pauses the message when none is there).
void RestRouter::wrote_chunk_cb(SoupServerMessage *msg, gpointer p)
{
  guarded("rest streamed answer", [&] {
    append_next(static_cast<Streamed *>(p), soup_server_message_get_response_body(msg));
  });
}

std::string RestRouter::recorded_answer(const Answer &a, uint64_t *size)
{
  if (a.stream_bytes == 0) {
    *size = a.body.size();
    return truncate_utf8(a.body, kMaxRecordedAnswer);
  }
  const HugeBody h = huge_body_parts(a.body, a.stream_bytes);
  *size = h.size();
  std::string start = h.head;
  if (start.size() < kMaxRecordedAnswer)
    start.append(size_t(std::min<uint64_t>(h.filler, kMaxRecordedAnswer - start.size())), h.fill);
  return truncate_utf8(start, kMaxRecordedAnswer);
}

gboolean RestRouter::delayed_cb(gpointer p)
{
  auto *d = static_cast<Delayed *>(p);
  guarded("rest delayed answer", [&] {
    g_source_unref(d->timer.release());  // returning G_SOURCE_REMOVE destroys it
    send(d->msg.get(), d->answer);
    soup_server_message_unpause(d->msg.get());
    d->router->finish_delayed(d, true);
  });
  return G_SOURCE_REMOVE;
}

// The socket of a paused message became readable: EOF means the client left.
gboolean RestRouter::socket_cb(GSocket *socket, GIOCondition condition, gpointer p)
{
  auto *d = static_cast<Delayed *>(p);
  guarded("rest socket watch", [&] {
    bool gone = condition & (G_IO_HUP | G_IO_ERR);
    if (!gone) {
      char c;
      GInputVector v{&c, 1};
      gint flags = G_SOCKET_MSG_PEEK;
      GError *error = nullptr;
      const gssize n = g_socket_receive_message(socket, nullptr, &v, 1, nullptr, nullptr, &flags,
                                                nullptr, &error);
      gone = n == 0 || (n < 0 && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK));
      g_clear_error(&error);
    }
    g_source_unref(d->watch.release());  // returning G_SOURCE_REMOVE destroys it; a pipelined
                                         // request: stop watching
    if (gone)
      d->router->client_gone(d);
  });
  return G_SOURCE_REMOVE;
}

// Records the client leaving, then lets libsoup write to the dead socket and clean up.
void RestRouter::client_gone(Delayed *d)
{
  core_.update_rest(d->record, [](RestRecord &r) { r.fault = "disconnected"; });
  g_info("client left before its delayed answer");
  GObjectPtr<SoupServerMessage> msg(SOUP_SERVER_MESSAGE(g_object_ref(d->msg.get())));
  const Answer answer = d->answer;
  delayed_.remove_if([d](const std::unique_ptr<Delayed> &p) { return p.get() == d; });
  send(msg.get(), answer);
  soup_server_message_unpause(msg.get());
}

void RestRouter::disconnected_cb(SoupServerMessage *, gpointer p)
{
  auto *d = static_cast<Delayed *>(p);
  guarded("rest disconnected", [&] { d->router->finish_delayed(d, false); });
}

// Records the delayed answer (or the client leaving first) and forgets the message.
void RestRouter::finish_delayed(Delayed *d, bool sent)
{
  const Answer &a = d->answer;
  core_.update_rest(d->record, [&](RestRecord &r) {
    if (sent) {
      r.status = int(a.status);
      r.answer = recorded_answer(a, &r.answer_size);
    } else {
      r.fault = "disconnected";
    }
  });
  if (!sent)
    g_info("client left before its delayed answer");
  delayed_.remove_if([d](const std::unique_ptr<Delayed> &p) { return p.get() == d; });
}

}  // namespace detail
}  // namespace emu
