// SPDX-License-Identifier: LGPL-2.1-or-later
/* Harf's live WebSocket protocol.
 *
 * Wire: the first binary message of a connection is a streaming RIFF/WAVE
 * header followed by the first window of PCM (S16LE, mono, sample-rate);
 * every later binary message is one window; the trailing partial window is
 * sent too; then the text "finalize".  Every text reply answers the oldest
 * window in flight: with max-inflight N, at most N windows (or finalize)
 * wait for a reply at a time; N=1 is the documented lock-step.  Replies are
 * read until the server closes or `timeout` passes after finalize.  A
 * segment becomes final when a reply for another segment arrives
 * (SegmentTracker). */
#include <array>

#include "harf_reply.h"
#include "http_client.h"
#include "live_client.h"
#include "segment_tracker.h"
#include "wav_header.h"

GST_DEBUG_CATEGORY_EXTERN(pt_harf_live_debug);
#define GST_CAT_DEFAULT pt_harf_live_debug

namespace pt {

namespace {

class HarfLiveProtocol final : public LiveProtocol {
 public:
  HarfLiveProtocol(const Settings &s, BackendHost *host)
      : settings_(s),
        host_(host),
        header_(make_streaming_wav_header(static_cast<uint32_t>(s.sample_rate), 1, 16)),
        tracker_(s.partial_results)
  {
  }

  BackendKind kind() const override { return BackendKind::HarfLive; }
  const char *service() const override { return "Harf"; }
  GstDebugCategory *category() const override { return pt_harf_live_debug; }

  SoupMessage *new_request(std::string *error) override
  {
    SoupMessage *msg = soup_message_new("GET", settings_.harf_url.c_str());
    if (!msg) {
      *error = "harf-url \"" + settings_.harf_url + "\" is not a valid URL";
      return nullptr;
    }
    /* The token goes into this header and nowhere else: never logged. */
    soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization",
                                 authorization_value(settings_).c_str());
    GST_DEBUG_OBJECT(host_->log_object(), "auth scheme %s",
                     settings_.auth_scheme == AuthScheme::Bearer ? "Bearer" : "Token");
    return msg;
  }

  std::string public_url() const override { return settings_.harf_url; }

  std::string rejected(guint status) const override
  {
    return "Harf rejected the token (HTTP " + http_status_text(status) +
           "). Check the \"token\" property or HARF_TOKEN, and \"auth-scheme\".";
  }

  bool open(SoupWebsocketConnection *) override
  {
    header_sent_ = false;
    tracker_ = SegmentTracker(settings_.partial_results);
    return true;
  }

  bool acknowledges_windows() const override { return true; }

  void send_audio(SoupWebsocketConnection *ws, const Window &w) override
  {
    if (!header_sent_) {
      std::vector<uint8_t> first(header_.begin(), header_.end());
      first.insert(first.end(), w.begin(), w.end());
      soup_websocket_connection_send_binary(ws, first.data(), first.size());
      header_sent_ = true;
    } else {
      soup_websocket_connection_send_binary(ws, w.data(), w.size());
    }
  }

  void send_end(SoupWebsocketConnection *ws) override
  {
    soup_websocket_connection_send_text(ws, "finalize");
  }

  Reply on_text(SoupWebsocketConnection *, const char *data, size_t len, uint64_t audio_ns) override
  {
    Reply out;
    HarfReply r = parse_harf_reply(data, len);
    switch (r.kind) {
      case HarfReply::Kind::Malformed:
        out.kind = Reply::Kind::Malformed;
        out.problem = {ErrorKind::Read, "Harf sent a malformed reply; it was skipped", r.error,
                       nullptr};
        break;
      case HarfReply::Kind::Pending:
        GST_LOG_OBJECT(host_->log_object(), "reply without text (state %s)", r.state.c_str());
        out.kind = Reply::Kind::Results;
        out.segments = tracker_.on_other_reply();
        break;
      case HarfReply::Kind::Segment:
        if (auto bad = check_segment_times(r.segment, audio_ns)) {
          GST_WARNING_OBJECT(host_->log_object(), "dropping a segment: %s", bad->c_str());
          out.kind = Reply::Kind::Malformed;
          out.problem = {ErrorKind::Read,
                         "Harf sent a segment with impossible times; it was left out", *bad,
                         nullptr};
          break;
        }
        GST_DEBUG_OBJECT(host_->log_object(),
                         "segment %" G_GINT64_FORMAT " %" GST_TIME_FORMAT "-%" GST_TIME_FORMAT
                         ": %s",
                         r.segment.id, GST_TIME_ARGS(r.segment.start), GST_TIME_ARGS(r.segment.end),
                         r.segment.raw_text.c_str());
        out.kind = Reply::Kind::Results;
        out.segments = tracker_.on_segment(std::move(r.segment));
        out.late_revision = tracker_.last_was_late_revision();
        break;
    }
    return out;
  }

  std::vector<Segment> on_end() override { return tracker_.on_end(); }

 private:
  const Settings settings_;
  BackendHost *host_;
  const std::array<uint8_t, kWavHeaderSize> header_;
  bool header_sent_ = false;
  SegmentTracker tracker_;
};

}  // namespace

std::unique_ptr<LiveProtocol> make_harf_live_protocol(const Settings &s, BackendHost *host)
{
  return std::make_unique<HarfLiveProtocol>(s, host);
}

}  // namespace pt
