// SPDX-License-Identifier: LGPL-2.1-or-later
/* Nevisa's live WebSocket protocol, from the service's own JavaScript
 * sample (../shared/PROTOCOLS.md, "Nevisa live").
 *
 * The credentials go in the URL's query (Authorization=<auth-token>&
 * api-key=<api-key>): a browser cannot set headers.  That URL is never
 * logged; public_url() masks them.  The server speaks first (INIT); the
 * client sends REQ and waits for REQ-RESPONSE, sends SOES and waits for
 * SOES-RESPONSE; then the audio goes as binary messages of at most 500 ms
 * (a complete WAV file each by default, as the sample's recorder makes
 * them, or raw PCM); EOES ends the session, and EOES-RESPONSE (or the
 * timeout) closes it.  No message answers a window: audio flows without
 * waiting.  Results: {"transcription": {"partial": ...}} is interim text,
 * {"transcription": {"result": [Vosk words], "text": ...}} a final result,
 * with word times in seconds from the session's start. */
#include <json-glib/json-glib.h>

#include <algorithm>

#include "http_client.h"
#include "json_fields.h"
#include "live_client.h"
#include "nevisa_login.h"
#include "service_answers.h"
#include "wav_header.h"

GST_DEBUG_CATEGORY_EXTERN(pt_nevisa_live_debug);
#define GST_CAT_DEFAULT pt_nevisa_live_debug

namespace pt {

namespace {

/* The sample's recorder sends a message every 500 ms. */
constexpr unsigned kMessageMs = 500;

std::string escape_query_value(const std::string &v)
{
  gchar *e = g_uri_escape_string(v.c_str(), nullptr, FALSE);
  std::string out = e;
  g_free(e);
  return out;
}

class NevisaLiveProtocol final : public LiveProtocol {
 public:
  NevisaLiveProtocol(const Settings &s, BackendHost *host, IoThread *io)
      : settings_(s), host_(host), io_(io)
  {
  }

  BackendKind kind() const override { return BackendKind::NevisaLive; }
  const char *service() const override { return "Nevisa"; }
  GstDebugCategory *category() const override { return pt_nevisa_live_debug; }

  void prepare(std::function<void(const Error *)> done) override
  {
    http_ = std::make_unique<HttpClient>(io_, settings_.timeout_s, host_->log_object(),
                                         settings_.max_answer_bytes);
    nevisa_credentials(*http_, settings_, host_->log_object(),
                       [this, done](const NevisaCredentials *c, const Error *e) {
                         if (c) {
                           auth_token_ = c->auth_token;
                           api_key_ = c->api_key;
                         }
                         done(e);
                       });
  }

  void shutdown() override
  {
    if (http_)
      http_->cancel_all();
  }

  SoupMessage *new_request(std::string *error) override
  {
    const std::string &base = settings_.nevisa_live_url;
    const std::string url = base + (base.find('?') == std::string::npos ? "?" : "&") +
                            "Authorization=" + escape_query_value(auth_token_) +
                            "&api-key=" + escape_query_value(api_key_);
    SoupMessage *msg = soup_message_new("GET", url.c_str());
    if (!msg)
      *error = "nevisa-live-url \"" + public_url() + "\" is not a valid URL";
    return msg;
  }

  std::string public_url() const override
  {
    std::string base = settings_.nevisa_live_url;
    const size_t q = base.find('?');
    if (q != std::string::npos)
      base.resize(q); /* whatever the user put there may be a secret too */
    return base + "?Authorization=***&api-key=***";
  }

  std::string rejected(guint status) const override
  {
    return "Nevisa rejected the credentials (HTTP " + http_status_text(status) +
           "). Check nevisa-auth-token and nevisa-api-key (NEVISA_AUTH_TOKEN, NEVISA_API_KEY), "
           "or nevisa-username and nevisa-password.";
  }

  bool open(SoupWebsocketConnection *) override
  {
    step_ = Step::Init;
    last_final_end_ = 0;
    shown_partial_.clear();
    next_id_ = 0;
    return false;
  }

  std::string awaited() const override
  {
    switch (step_) {
      case Step::Init:
        return "INIT";
      case Step::Req:
        return "REQ-RESPONSE (the answer to REQ)";
      case Step::Soes:
        return "SOES-RESPONSE (the answer to SOES)";
      case Step::Streaming:
        break;
    }
    return "the handshake";
  }

  bool acknowledges_windows() const override { return false; }

  void send_audio(SoupWebsocketConnection *ws, const Window &w) override
  {
    const size_t per_message =
        std::max<size_t>(2, (static_cast<size_t>(settings_.sample_rate) * 2 * kMessageMs / 1000) &
                                ~static_cast<size_t>(1));
    for (size_t off = 0; off < w.size(); off += per_message) {
      const size_t n = std::min(per_message, w.size() - off);
      if (settings_.nevisa_live_framing == NevisaLiveFraming::Raw) {
        soup_websocket_connection_send_binary(ws, w.data() + off, n);
        continue;
      }
      auto header = make_wav_header(static_cast<uint32_t>(settings_.sample_rate), 1, 16,
                                    static_cast<uint32_t>(n));
      std::vector<uint8_t> message(header.begin(), header.end());
      message.insert(message.end(), w.begin() + static_cast<std::ptrdiff_t>(off),
                     w.begin() + static_cast<std::ptrdiff_t>(off + n));
      soup_websocket_connection_send_binary(ws, message.data(), message.size());
    }
  }

  void send_end(SoupWebsocketConnection *ws) override { send_subject(ws, "EOES"); }

  Reply on_text(SoupWebsocketConnection *ws, const char *data, size_t len,
                uint64_t audio_ns) override
  {
    Reply out;
    NevisaLiveMessage m = parse_nevisa_live_message(data, len);
    switch (m.kind) {
      case NevisaLiveMessage::Kind::Malformed:
        out.kind = Reply::Kind::Malformed;
        out.problem = {ErrorKind::Read, "Nevisa sent a malformed message; it was skipped", m.error,
                       nullptr};
        return out;
      case NevisaLiveMessage::Kind::Subject:
        return on_subject(ws, m.subject);
      case NevisaLiveMessage::Kind::Partial:
        return on_partial(m, audio_ns);
      case NevisaLiveMessage::Kind::Final:
        return on_final(m, audio_ns);
    }
    return out;
  }

  std::vector<Segment> on_end() override
  {
    /* Interim text the service never finished: kept, as a final segment. */
    std::vector<Segment> out;
    if (!shown_partial_.empty()) {
      Segment seg = partial_segment(shown_partial_, last_audio_ns_);
      seg.final = true;
      out.push_back(std::move(seg));
      shown_partial_.clear();
      ++next_id_;
    }
    return out;
  }

 private:
  enum class Step { Init, Req, Soes, Streaming };

  void send_subject(SoupWebsocketConnection *ws, const char *subject)
  {
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "subject");
    json_builder_add_string_value(b, subject);
    json_builder_end_object(b);
    soup_websocket_connection_send_text(ws, json_builder_text(b).c_str());
  }

  void send_req(SoupWebsocketConnection *ws)
  {
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "subject");
    json_builder_add_string_value(b, "REQ");
    json_builder_set_member_name(b, "mode");
    json_builder_add_string_value(b, "stream-custom-raw");
    json_builder_set_member_name(b, "guid");
    json_builder_add_string_value(b, "");
    json_builder_set_member_name(b, "engine");
    json_builder_add_string_value(b, "1");
    json_builder_set_member_name(b, "decoding-info");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "sample-rate");
    json_builder_add_int_value(b, settings_.sample_rate);
    json_builder_set_member_name(b, "ref-text");
    json_builder_add_string_value(b, "");
    json_builder_end_object(b);
    json_builder_end_object(b);
    soup_websocket_connection_send_text(ws, json_builder_text(b).c_str());
  }

  Reply on_subject(SoupWebsocketConnection *ws, const std::string &subject)
  {
    Reply out;
    GST_DEBUG_OBJECT(host_->log_object(), "subject %s", subject.c_str());
    if (subject == "INIT" && step_ == Step::Init) {
      send_req(ws);
      step_ = Step::Req;
    } else if (subject == "REQ-RESPONSE" && step_ == Step::Req) {
      send_subject(ws, "SOES");
      step_ = Step::Soes;
    } else if (subject == "SOES-RESPONSE" && step_ == Step::Soes) {
      step_ = Step::Streaming;
      out.kind = Reply::Kind::Ready;
    } else if (subject == "EOES-RESPONSE") {
      out.kind = Reply::Kind::Ended;
    } else if (subject == "NO-USAGE-REMAINED") {
      out.kind = Reply::Kind::Fatal;
      out.problem = {ErrorKind::NotAuthorized,
                     "The Nevisa account's credit is used up (NO-USAGE-REMAINED): add credit to "
                     "the account, then try again",
                     "", kReasonNoCredit};
    } else {
      GST_INFO_OBJECT(host_->log_object(), "ignoring the message with subject \"%s\"",
                      subject.c_str());
    }
    return out;
  }

  /* Interim text: from the end of the last final result to the audio sent. */
  Segment partial_segment(const std::string &text, uint64_t audio_ns) const
  {
    Segment seg;
    seg.id = next_id_;
    seg.raw_text = text;
    seg.final = false;
    seg.start = std::min(last_final_end_, audio_ns);
    seg.end = audio_ns;
    parse_uncertainty(seg);
    return seg;
  }

  Reply on_partial(const NevisaLiveMessage &m, uint64_t audio_ns)
  {
    Reply out;
    last_audio_ns_ = audio_ns;
    /* Partials never shrink what was shown. */
    if (m.text.empty() ||
        g_utf8_strlen(m.text.c_str(), -1) < g_utf8_strlen(shown_partial_.c_str(), -1))
      return out;
    shown_partial_ = m.text;
    if (!settings_.partial_results)
      return out;
    out.kind = Reply::Kind::Results;
    out.segments.push_back(partial_segment(m.text, audio_ns));
    return out;
  }

  Reply on_final(NevisaLiveMessage &m, uint64_t audio_ns)
  {
    Reply out;
    last_audio_ns_ = audio_ns;
    for (const std::string &why : m.skipped)
      GST_WARNING_OBJECT(host_->log_object(), "skipping a word Nevisa sent: %s", why.c_str());
    Segment seg;
    seg.id = next_id_;
    seg.final = true;
    if (!m.words.empty()) {
      for (Word &w : m.words)
        w.uncertain = w.confidence >= 0 && w.confidence < settings_.min_confidence;
      seg.start = m.words.front().start;
      seg.end = m.words.back().end;
      seg.words = std::move(m.words);
      seg.raw_text = seg.text = m.text;
      /* the text from the words, so that the markup marks the uncertain */
      std::string joined;
      for (const Word &w : seg.words)
        joined += (joined.empty() ? "" : " ") + w.text;
      seg.text = joined;
    } else {
      /* No word list: the text spans what was heard since the last result. */
      seg.raw_text = m.text;
      seg.start = std::min(last_final_end_, audio_ns);
      seg.end = audio_ns;
      parse_uncertainty(seg);
    }
    if (seg.text.empty())
      return out;
    if (auto bad = check_segment_times(seg, audio_ns)) {
      out.kind = Reply::Kind::Malformed;
      out.problem = {ErrorKind::Read, "Nevisa sent a result with impossible times; it was left out",
                     *bad, nullptr};
      return out;
    }
    GST_DEBUG_OBJECT(host_->log_object(),
                     "result %" G_GINT64_FORMAT " %" GST_TIME_FORMAT "-%" GST_TIME_FORMAT ": %s",
                     seg.id, GST_TIME_ARGS(seg.start), GST_TIME_ARGS(seg.end), seg.text.c_str());
    last_final_end_ = std::max(last_final_end_, seg.end);
    shown_partial_.clear();
    ++next_id_;
    out.kind = Reply::Kind::Results;
    out.segments.push_back(std::move(seg));
    return out;
  }

  const Settings settings_;
  BackendHost *host_;
  IoThread *io_;
  std::unique_ptr<HttpClient> http_;
  std::string auth_token_, api_key_; /* secrets: never logged */

  /* This session */
  Step step_ = Step::Init;
  uint64_t last_final_end_ = 0; /* service time where the last final result ended */
  uint64_t last_audio_ns_ = 0;
  std::string shown_partial_; /* the interim text shown for the open result */
  int64_t next_id_ = 0;       /* the open result's id */
};

}  // namespace

std::unique_ptr<LiveProtocol> make_nevisa_live_protocol(const Settings &s, BackendHost *host,
                                                        IoThread *io)
{
  return std::make_unique<NevisaLiveProtocol>(s, host, io);
}

}  // namespace pt
