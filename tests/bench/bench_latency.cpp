// SPDX-License-Identifier: LGPL-2.1-or-later
/* pt-bench latency: the time from the emulator sending a segment to the
 * element's "transcription" bus message.
 *
 * Everything runs in this process so that both ends read one clock
 * (g_get_monotonic_time): the emulator's on_reply_sent hook stamps each reply
 * as libsoup takes it, and a sync bus handler stamps each message on the
 * thread that posts it. The audio is a 200 ms tone every 500 ms (16 kHz mono)
 * and the emulator ends a segment after 200 ms of silence, so each 500 ms
 * window is answered with a segment; partial-results=true makes that answer
 * post a message at once (final=false), and the next answer makes it final.
 *
 * The baseline is the transport alone: a bare libsoup WebSocket client that
 * sends the same windows one at a time, as the element does with
 * max-inflight=1, and stamps each reply in its "message" handler. */
#include <gst/gst.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bench_util.h"
#include "emulator.h"

using namespace bench;

namespace {

struct Sent {
  gint64 t_us;
  size_t session;
  int64_t id;  // -1: a reply without a segment (PENDING)
  std::string text;
};

struct SentLog {
  std::mutex lock;
  std::vector<Sent> all;
  /* The replies of one session, in the order sent. */
  std::vector<Sent> of_session(size_t session)
  {
    std::lock_guard<std::mutex> lk(lock);
    std::vector<Sent> out;
    for (auto &s : all)
      if (s.session == session)
        out.push_back(s);
    return out;
  }
};

struct Received {
  gint64 t_us;
  int64_t id;
  bool final;
  std::string raw_text;
};

struct Latencies {
  std::vector<double> first_ms;  // segment reply -> its first message
  std::vector<double> final_ms;  // the reply that closes it -> its final message
  std::vector<double> src_ms;    // segment reply -> the next text buffer leaving src after its
                                 // first message (its partial cue)
  size_t segments = 0;
};

/* ---- the element ----------------------------------------------------- */

struct MessageLog {
  std::mutex lock;
  std::vector<Received> got;
  std::vector<gint64> buffers_us;  // text buffers leaving the element's src pad
};

GstPadProbeReturn on_text_buffer(GstPad *, GstPadProbeInfo *, gpointer data)
{
  const gint64 now = g_get_monotonic_time();
  auto *log = static_cast<MessageLog *>(data);
  std::lock_guard<std::mutex> lk(log->lock);
  log->buffers_us.push_back(now);
  return GST_PAD_PROBE_OK;
}

GstBusSyncReply on_message(GstBus *, GstMessage *m, gpointer data)
{
  const gint64 now = g_get_monotonic_time();
  if (GST_MESSAGE_TYPE(m) != GST_MESSAGE_ELEMENT)
    return keep_end_drop_rest(m);
  const GstStructure *s = gst_message_get_structure(m);
  if (s && gst_structure_has_name(s, "transcription")) {
    Received r{now, -1, false, ""};
    gboolean final = FALSE;
    gint id = -1;
    gst_structure_get_int(s, "segment-id", &id);
    r.id = id;
    gst_structure_get_boolean(s, "final", &final);
    r.final = final;
    const gchar *raw = gst_structure_get_string(s, "raw-text");
    r.raw_text = raw ? raw : "";
    auto *log = static_cast<MessageLog *>(data);
    std::lock_guard<std::mutex> lk(log->lock);
    log->got.push_back(std::move(r));
  }
  return drop(m);
}

Latencies run_element(emu::Emulator &e, SentLog &sent, int segments)
{
  const size_t session = e.sessions().size();
  Ticks t;
  t.tone_ms = 200;
  t.period_ms = 500;
  t.samples_per_buffer = 8000;
  t.num_buffers = segments;
  Values v = ticks_values(t);
  v["url"] = e.harf_live_url();
  v["window-duration"] = "500";
  GError *error = nullptr;
  GstElement *pipeline = make_pipeline("latency", v, &error);
  if (!pipeline || error)
    fail("latency: cannot make the pipeline: %s", error ? error->message : "?");
  MessageLog log;
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_bus_set_sync_handler(bus, on_message, &log, nullptr);
  GstElement *asr = gst_bin_get_by_name(GST_BIN(pipeline), "asr");
  GstPad *text_src = gst_element_get_static_pad(asr, "src");
  gst_pad_add_probe(text_src, GST_PAD_PROBE_TYPE_BUFFER, on_text_buffer, &log, nullptr);
  gst_object_unref(text_src);
  gst_object_unref(asr);
  play_to_eos(pipeline, bus, 60 + segments / 10, "latency");
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_bus_set_sync_handler(bus, nullptr, nullptr, nullptr);
  gst_object_unref(bus);
  gst_object_unref(pipeline);
  if (e.sessions().size() != session + 1)
    fail("latency: %zu connections, expected 1", e.sessions().size() - session);

  const std::vector<Sent> replies = sent.of_session(session);
  std::map<int64_t, size_t> index;  // segment id -> its reply
  for (size_t i = 0; i < replies.size(); ++i)
    if (replies[i].id >= 0)
      index.emplace(replies[i].id, i);
  Latencies out;
  out.segments = index.size();
  if (index.size() != (size_t)segments)
    fail("latency: the emulator sent %zu segments, expected %d", index.size(), segments);
  std::map<int64_t, bool> seen_first, seen_final;
  std::lock_guard<std::mutex> lk(log.lock);
  for (const Received &r : log.got) {
    auto it = index.find(r.id);
    if (it == index.end())
      fail("latency: a message for segment %" G_GINT64_FORMAT ", which was never sent", r.id);
    const Sent &reply = replies[it->second];
    if (r.raw_text != reply.text)
      fail("latency: segment %" G_GINT64_FORMAT "'s text is not the one sent", r.id);
    if (!seen_first[r.id]) {
      seen_first[r.id] = true;
      if (r.final)
        fail("latency: segment %" G_GINT64_FORMAT " came final first (partial-results=true)", r.id);
      out.first_ms.push_back((double)(r.t_us - reply.t_us) / 1000.0);
      /* The src task pushes the partial cue after the message is posted */
      auto b = std::lower_bound(log.buffers_us.begin(), log.buffers_us.end(), r.t_us);
      if (b == log.buffers_us.end())
        fail("latency: no text buffer left src after segment %" G_GINT64_FORMAT "'s message",
             r.id);
      out.src_ms.push_back((double)(*b - reply.t_us) / 1000.0);
    } else if (r.final && !seen_final[r.id]) {
      seen_final[r.id] = true;
      /* Closed by the next reply; the last ones are closed by the end of
       * the stream, which is not a reply. */
      if (it->second + 1 < replies.size())
        out.final_ms.push_back((double)(r.t_us - replies[it->second + 1].t_us) / 1000.0);
    }
  }
  if (seen_first.size() != index.size() || seen_final.size() != index.size())
    fail("latency: %zu segments sent, %zu posted, %zu posted final", index.size(),
         seen_first.size(), seen_final.size());
  return out;
}

/* ---- the baseline: a bare WebSocket client ----------------------------- */

struct Client {
  GMainLoop *loop = nullptr;
  SoupWebsocketConnection *ws = nullptr;
  std::vector<std::vector<uint8_t>> windows;
  size_t next = 0;
  std::vector<std::pair<gint64, int64_t>> received;  // when, segment id (-1: none)
  std::string error;
  bool finalized = false;
};

std::vector<std::vector<uint8_t>> make_windows(int n)
{
  /* The element's streaming WAV header (sizes 0xFFFFFFFF), then per window
   * 200 ms of a 500 Hz tone at 0.3 and 300 ms of silence, 16 kHz mono S16. */
  const uint8_t header[44] = {'R', 'I', 'F',  'F',  0xDB, 0xFF, 0xFF, 0xFF, 'W',  'A',  'V',
                              'E', 'f', 'm',  't',  ' ',  16,   0,    0,    0,    1,    0,
                              1,   0,   0x80, 0x3E, 0,    0,    0,    0x7D, 0,    0,    2,
                              0,   16,  0,    'd',  'a',  't',  'a',  0xFF, 0xFF, 0xFF, 0xFF};
  std::vector<std::vector<uint8_t>> out;
  for (int w = 0; w < n; ++w) {
    std::vector<uint8_t> b;
    if (w == 0)
      b.assign(header, header + sizeof header);
    for (int i = 0; i < 8000; ++i) {
      const double v = i < 3200 ? 0.3 * sin(2 * M_PI * 500.0 * i / 16000.0) : 0.0;
      const int16_t s = (int16_t)lrint(v * 32767);
      b.push_back((uint8_t)(s & 0xff));
      b.push_back((uint8_t)((s >> 8) & 0xff));
    }
    out.push_back(std::move(b));
  }
  return out;
}

void send_next(Client *c)
{
  if (c->next < c->windows.size()) {
    const auto &w = c->windows[c->next++];
    soup_websocket_connection_send_binary(c->ws, w.data(), w.size());
  } else if (!c->finalized) {
    c->finalized = true;
    soup_websocket_connection_send_text(c->ws, "finalize");
  }
}

void on_ws_message(SoupWebsocketConnection *, gint type, GBytes *message, gpointer data)
{
  const gint64 now = g_get_monotonic_time();
  auto *c = static_cast<Client *>(data);
  int64_t id = -1;
  if (type == SOUP_WEBSOCKET_DATA_TEXT) {
    gsize len = 0;
    const char *text = static_cast<const char *>(g_bytes_get_data(message, &len));
    JsonParser *p = json_parser_new();
    if (json_parser_load_from_data(p, text, (gssize)len, nullptr)) {
      JsonNode *root = json_parser_get_root(p);
      if (root && JSON_NODE_HOLDS_OBJECT(root)) {
        JsonObject *o = json_node_get_object(root);
        if (json_object_has_member(o, "segment_id"))
          id = json_object_get_int_member(o, "segment_id");
      }
    }
    g_object_unref(p);
  }
  c->received.emplace_back(now, id);
  /* One window in flight, as the element with max-inflight=1; replies to
   * "finalize" do not move it on. */
  if (c->received.size() <= c->windows.size())
    send_next(c);
}

void on_ws_closed(SoupWebsocketConnection *, gpointer data)
{
  g_main_loop_quit(static_cast<Client *>(data)->loop);
}

void on_connected(GObject *session, GAsyncResult *res, gpointer data)
{
  auto *c = static_cast<Client *>(data);
  GError *error = nullptr;
  c->ws = soup_session_websocket_connect_finish(SOUP_SESSION(session), res, &error);
  if (!c->ws) {
    c->error = error ? error->message : "?";
    g_clear_error(&error);
    g_main_loop_quit(c->loop);
    return;
  }
  soup_websocket_connection_set_max_incoming_payload_size(c->ws, 1 << 20);
  g_signal_connect(c->ws, "message", G_CALLBACK(on_ws_message), c);
  g_signal_connect(c->ws, "closed", G_CALLBACK(on_ws_closed), c);
  send_next(c);
}

gboolean on_timeout(gpointer data)
{
  auto *c = static_cast<Client *>(data);
  c->error = "no close within the time allowed";
  g_main_loop_quit(c->loop);
  return G_SOURCE_REMOVE;
}

Latencies run_bare(emu::Emulator &e, SentLog &sent, int segments)
{
  const size_t session = e.sessions().size();
  Client c;
  c.windows = make_windows(segments);
  GMainContext *ctx = g_main_context_new();
  g_main_context_push_thread_default(ctx);
  c.loop = g_main_loop_new(ctx, FALSE);
  SoupSession *s = soup_session_new();
  SoupMessage *msg = soup_message_new("GET", e.harf_live_url().c_str());
  const std::string auth = std::string("Token ") + bench_token();
  soup_message_headers_replace(soup_message_get_request_headers(msg), "Authorization",
                               auth.c_str());
  soup_session_websocket_connect_async(s, msg, nullptr, nullptr, G_PRIORITY_DEFAULT, nullptr,
                                       on_connected, &c);
  GSource *timer = g_timeout_source_new_seconds(60 + segments / 10);
  g_source_set_callback(timer, on_timeout, &c, nullptr);
  g_source_attach(timer, ctx);
  g_main_loop_run(c.loop);
  g_source_destroy(timer);
  g_source_unref(timer);
  if (c.ws) {
    g_signal_handlers_disconnect_by_data(c.ws, &c);
    g_object_unref(c.ws);
  }
  g_object_unref(msg);
  g_object_unref(s);
  g_main_loop_unref(c.loop);
  g_main_context_pop_thread_default(ctx);
  g_main_context_unref(ctx);
  if (!c.error.empty())
    fail("latency baseline: %s", c.error.c_str());

  const std::vector<Sent> replies = sent.of_session(session);
  std::map<int64_t, gint64> sent_at;
  for (auto &r : replies)
    if (r.id >= 0)
      sent_at.emplace(r.id, r.t_us);
  Latencies out;
  out.segments = sent_at.size();
  if (sent_at.size() != (size_t)segments)
    fail("latency baseline: the emulator sent %zu segments, expected %d", sent_at.size(), segments);
  size_t matched = 0;
  for (auto &r : c.received) {
    auto it = sent_at.find(r.second);
    if (r.second < 0 || it == sent_at.end())
      continue;
    ++matched;
    out.first_ms.push_back((double)(r.first - it->second) / 1000.0);
  }
  if (matched != sent_at.size())
    fail("latency baseline: %zu segments sent, %zu received", sent_at.size(), matched);
  return out;
}

}  // namespace

int latency_main(int runs, bool quick, int segments)
{
  if (segments <= 0)
    segments = quick ? 50 : 1000;
  SentLog sent;
  emu::Options eo;
  eo.token = bench_token();
  eo.script = persian_script((size_t)segments + 16);
  eo.silence_ms = 200;
  eo.record_audio_max = 0;
  eo.on_reply_sent = [&sent](size_t session, const emu::SentSegment *seg) {
    const gint64 now = g_get_monotonic_time();
    std::lock_guard<std::mutex> lk(sent.lock);
    sent.all.push_back(Sent{now, session, seg ? seg->id : -1, seg ? seg->text : std::string()});
  };
  emu::Emulator e(std::move(eo));
  GError *error = nullptr;
  if (!e.start(0, &error))
    fail("the emulator did not start: %s", error ? error->message : "?");
  note("latency: %d segments per run (a 200 ms tone every 500 ms), %d run(s) of each", segments,
       runs);
  run_element(e, sent, 10);  // warm-up: the registry, the first connection

  std::vector<double> e50, e99, emax, f50, f99, b50, b99, bmax, t50, t99;
  for (int i = 0; i < runs; ++i) {
    auto element = [&] {
      Latencies l = run_element(e, sent, segments);
      e50.push_back(percentile(l.first_ms, 50));
      e99.push_back(percentile(l.first_ms, 99));
      emax.push_back(percentile(l.first_ms, 100));
      f50.push_back(percentile(l.final_ms, 50));
      f99.push_back(percentile(l.final_ms, 99));
      t50.push_back(percentile(l.src_ms, 50));
      t99.push_back(percentile(l.src_ms, 99));
      note(
          "run %d element: p50 %.3f ms, p99 %.3f ms, max %.3f ms (%zu segments); final: p50 "
          "%.3f ms, p99 %.3f ms",
          i + 1, e50.back(), e99.back(), emax.back(), l.segments, f50.back(), f99.back());
    };
    auto bare = [&] {
      Latencies l = run_bare(e, sent, segments);
      b50.push_back(percentile(l.first_ms, 50));
      b99.push_back(percentile(l.first_ms, 99));
      bmax.push_back(percentile(l.first_ms, 100));
      note("run %d bare client: p50 %.3f ms, p99 %.3f ms, max %.3f ms", i + 1, b50.back(),
           b99.back(), bmax.back());
    };
    pair_run(i, element, bare);
  }
  const Summary s99 = summarize(e99);
  const std::string n = std::to_string(segments) + "/run";
  row("latency", "segment sent → bus message, p50 ms (" + n + "; baseline: bare client)",
      fmt(summarize(e50), 3), fmt(summarize(b50), 3), "", "");
  row("latency", "segment sent → bus message, p99 ms", fmt(s99, 3), fmt(summarize(b99), 3), "< 2",
      verdict(s99.median < 2));
  row("latency", "segment sent → bus message, max ms", fmt(summarize(emax), 3),
      fmt(summarize(bmax), 3), "", "");
  const Summary src99 = summarize(t99);
  row("latency", "segment sent → text buffer leaving src, p50 ms", fmt(summarize(t50), 3), "", "",
      "");
  row("latency", "segment sent → text buffer leaving src, p99 ms", fmt(src99, 3), "", "< 2",
      verdict(src99.median < 2));
  row("latency", "closing reply → final message, p50 / p99 ms",
      fmt(summarize(f50).median, 3) + " / " + fmt(summarize(f99).median, 3), "", "", "");
  e.stop();
  return 0;
}

/* ---- delay: live input in windows of 1000, 500 and 250 ms --------------- */
/* For each window-duration, a live 16 kHz mono source (20 ms buffers, like a
 * microphone; a 600 ms tone every 2 s) runs through the element with its
 * defaults: the element's max-observed-delay (what `latency` must cover for
 * live subtitles) and, for every whole window, the time from its last sample
 * entering the element's sink pad to the emulator receiving it (so loopback
 * and libsoup's read on the server are included: an upper bound of the time
 * to the socket). */

namespace {

struct Arrival {
  gint64 t_us;
  size_t session;
  size_t pcm_bytes;
};

struct ArrivalLog {
  std::mutex lock;
  std::vector<Arrival> all;
};

struct InputLog {
  std::mutex lock;
  uint64_t total = 0;
  std::vector<std::pair<gint64, uint64_t>> in;  // when, PCM bytes in so far
};

GstPadProbeReturn on_audio_in(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  const gint64 now = g_get_monotonic_time();
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
  auto *log = static_cast<InputLog *>(data);
  std::lock_guard<std::mutex> lk(log->lock);
  log->total += gst_buffer_get_size(buf);
  log->in.emplace_back(now, log->total);
  return GST_PAD_PROBE_OK;
}

struct FinalCount {
  std::atomic<long> finals{0};
};

GstBusSyncReply count_finals(GstBus *, GstMessage *m, gpointer data)
{
  if (GST_MESSAGE_TYPE(m) != GST_MESSAGE_ELEMENT)
    return keep_end_drop_rest(m);
  const GstStructure *s = gst_message_get_structure(m);
  gboolean final = FALSE;
  if (s && gst_structure_has_name(s, "transcription") &&
      gst_structure_get_boolean(s, "final", &final) && final)
    ++static_cast<FinalCount *>(data)->finals;
  return drop(m);
}

struct DelayRun {
  guint max_observed_delay_ms = 0;
  std::vector<double> to_socket_ms;
  long finals = 0;
};

DelayRun run_live(emu::Emulator &e, ArrivalLog &arrivals, int window_ms, int seconds)
{
  const size_t session = e.sessions().size();
  Ticks t;
  t.live = true;
  t.samples_per_buffer = 320;
  t.num_buffers = seconds * 50L;
  Values v = ticks_values(t);
  v["url"] = e.harf_live_url();
  v["window-duration"] = std::to_string(window_ms);
  GError *error = nullptr;
  GstElement *pipeline = make_pipeline("live-window", v, &error);
  if (!pipeline || error)
    fail("delay: cannot make the pipeline: %s", error ? error->message : "?");
  InputLog input;
  FinalCount count;
  GstElement *asr = gst_bin_get_by_name(GST_BIN(pipeline), "asr");
  GstPad *sink = gst_element_get_static_pad(asr, "sink");
  gst_pad_add_probe(sink, GST_PAD_PROBE_TYPE_BUFFER, on_audio_in, &input, nullptr);
  gst_object_unref(sink);
  GstBus *bus = gst_element_get_bus(pipeline);
  gst_bus_set_sync_handler(bus, count_finals, &count, nullptr);
  play_to_eos(pipeline, bus, (unsigned)seconds + 60, "delay");
  DelayRun out;
  g_object_get(asr, "max-observed-delay", &out.max_observed_delay_ms, nullptr);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_bus_set_sync_handler(bus, nullptr, nullptr, nullptr);
  gst_object_unref(bus);
  gst_object_unref(asr);
  gst_object_unref(pipeline);
  if (e.sessions().size() != session + 1)
    fail("delay: %zu connections, expected 1", e.sessions().size() - session);
  out.finals = count.finals.load();
  /* One result per 2 s tone; the last may be cut by the end */
  if (out.finals < seconds / 2 - 1)
    fail("delay: %ld results for %d s of audio, expected %d", out.finals, seconds, seconds / 2);

  /* Arrivals of this session, cumulative */
  std::vector<std::pair<gint64, uint64_t>> got;
  {
    std::lock_guard<std::mutex> lk(arrivals.lock);
    uint64_t total = 0;
    for (auto &a : arrivals.all)
      if (a.session == session) {
        total += a.pcm_bytes;
        got.emplace_back(a.t_us, total);
      }
  }
  const uint64_t window_bytes = 16000ull * 2 * (uint64_t)window_ms / 1000;
  std::lock_guard<std::mutex> lk(input.lock);
  const uint64_t windows = std::min(input.total, got.empty() ? 0 : got.back().second) / window_bytes;
  if (windows < (uint64_t)seconds * 1000 / (uint64_t)window_ms - 1)
    fail("delay: %" G_GUINT64_FORMAT " whole windows reached the emulator, expected %d", windows,
         seconds * 1000 / window_ms);
  size_t i = 0, j = 0;
  for (uint64_t k = 1; k <= windows; ++k) {
    const uint64_t end = k * window_bytes;
    while (input.in[i].second < end)
      ++i;
    while (got[j].second < end)
      ++j;
    out.to_socket_ms.push_back((double)(got[j].first - input.in[i].first) / 1000.0);
  }
  return out;
}

}  // namespace

int delay_main(int runs, bool quick, int seconds)
{
  if (seconds <= 0)
    seconds = quick ? 8 : 60;
  runs = quick ? 1 : std::min(runs, 2);  // live: each run takes its length in real time
  ArrivalLog arrivals;
  emu::Options eo;
  eo.token = bench_token();
  eo.script = persian_script((size_t)seconds / 2 + 16);
  eo.record_audio_max = 0;
  eo.on_audio_received = [&arrivals](size_t session, size_t pcm_bytes) {
    const gint64 now = g_get_monotonic_time();
    std::lock_guard<std::mutex> lk(arrivals.lock);
    arrivals.all.push_back(Arrival{now, session, pcm_bytes});
  };
  emu::Emulator e(std::move(eo));
  GError *error = nullptr;
  if (!e.start(0, &error))
    fail("the emulator did not start: %s", error ? error->message : "?");
  note("delay: %d s of live audio per run at each window-duration, %d run(s)", seconds, runs);
  for (int window_ms : {1000, 500, 250}) {
    std::vector<double> delay, p50, p99, all;
    for (int i = 0; i < runs; ++i) {
      DelayRun r = run_live(e, arrivals, window_ms, seconds);
      delay.push_back(r.max_observed_delay_ms);
      p50.push_back(percentile(r.to_socket_ms, 50));
      p99.push_back(percentile(r.to_socket_ms, 99));
      all.insert(all.end(), r.to_socket_ms.begin(), r.to_socket_ms.end());
      note(
          "window %d ms, run %d: max-observed-delay %u ms, %ld results; window to socket p50 "
          "%.3f ms, p99 %.3f ms (%zu windows)",
          window_ms, i + 1, r.max_observed_delay_ms, r.finals, p50.back(), p99.back(),
          r.to_socket_ms.size());
    }
    const std::string w = "window-duration=" + std::to_string(window_ms);
    row("delay", w + ": max-observed-delay, ms", fmt(summarize(delay), 0), "", "", "");
    const double all99 = percentile(all, 99);
    row("delay",
        w + ": last sample in → window at the emulator, p50 / p99 ms (" +
            std::to_string(all.size()) + " windows)",
        fmt(percentile(all, 50), 3) + " / " + fmt(all99, 3), "", "p99 < 2", verdict(all99 < 2));
  }
  e.stop();
  return 0;
}
