// SPDX-License-Identifier: LGPL-2.1-or-later
/* Unit tests of src/: no pads, no network. */
/* Before gstcheck.h, whose fail() macro would rename Engine::fail */
#include "engine_listener.h"

#include <gst/check/gstcheck.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <mutex>

#include "audio_windower.h"
#include "cue_shaper.h"
#include "harf_reply.h"
#include "segment_tracker.h"
#include "persian_normalize.h"
#include "service_answers.h"
#include "silence_gate.h"
#include "settings.h"
#include "time_value.h"
#include "transcript.h"
#include "wav_header.h"

using pt::kMsecond;

#define assert_text(a, b)                                          \
  do {                                                             \
    std::string _a = (a), _b = (b);                                \
    fail_unless(_a == _b, "'%s' != '%s'", _a.c_str(), _b.c_str()); \
  } while (0)
using pt::kSecond;

/* skip-silence on a batch backend: recorded times move past the pauses
 * left out; a start at a cut lies after it, an end before it. */
GST_START_TEST(test_time_cuts)
{
  const uint64_t s = GST_SECOND;
  pt::TimeCuts cuts;
  fail_unless(cuts.empty());
  fail_unless_equals_uint64(cuts.to_input(5 * s, false), 5 * s);
  cuts.add(2 * s, 0); /* nothing skipped: no cut */
  fail_unless(cuts.empty());
  cuts.add(2 * s, 3 * s);
  cuts.add(4 * s, 1 * s);
  cuts.add(4 * s, 1 * s); /* the same place: they add up */
  fail_unless_equals_uint64(cuts.total(), 5 * s);
  struct {
    uint64_t t;
    bool end;
    uint64_t want;
  } cases[] = {
      {0, false, 0},         {1 * s, true, 1 * s},  {2 * s, false, 5 * s}, {2 * s, true, 2 * s},
      {3 * s, false, 6 * s}, {3 * s, true, 6 * s},  {4 * s, true, 7 * s},  {4 * s, false, 9 * s},
      {10 * s, true, 15 * s}, {pt::kNoTime, false, pt::kNoTime},
  };
  for (const auto &c : cases)
    fail_unless(cuts.to_input(c.t, c.end) == c.want,
                "%" GST_TIME_FORMAT " (%s): %" GST_TIME_FORMAT ", expected %" GST_TIME_FORMAT,
                GST_TIME_ARGS(c.t), c.end ? "end" : "start", GST_TIME_ARGS(cuts.to_input(c.t, c.end)),
                GST_TIME_ARGS(c.want));
  /* A segment across a cut keeps its words on each side of it */
  pt::Segment seg;
  seg.start = 1500 * GST_MSECOND;
  seg.words = {{"سلام", 1500 * GST_MSECOND, 2 * s, 0.9, false}, {"دنیا", 2 * s, 3 * s, 0.9, false},
               {"بی‌زمان", pt::kNoTime, pt::kNoTime, -1, false}};
  seg.end = 3 * s;
  cuts.to_input(seg);
  fail_unless_equals_uint64(seg.start, 1500 * GST_MSECOND);
  fail_unless_equals_uint64(seg.end, 6 * s);
  fail_unless_equals_uint64(seg.words[0].end, 2 * s);
  fail_unless_equals_uint64(seg.words[1].start, 5 * s);
  fail_unless_equals_uint64(seg.words[1].end, 6 * s);
  fail_unless(seg.words[2].start == pt::kNoTime && seg.words[2].end == pt::kNoTime);
}
GST_END_TEST;

GST_START_TEST(test_time_values)
{
  fail_unless_equals_uint64(*pt::parse_time_value("0:00:05"), 5 * kSecond);
  fail_unless_equals_uint64(*pt::parse_time_value("0:00:00.240000"), 240 * kMsecond);
  fail_unless_equals_uint64(*pt::parse_time_value("1:02:03.5"), (3723 * kSecond) + 500 * kMsecond);
  fail_unless_equals_uint64(*pt::parse_time_value("01:00:00"), 3600 * kSecond);
  fail_unless_equals_uint64(*pt::parse_time_value("1 day, 0:00:01"), 86401 * kSecond);
  fail_unless_equals_uint64(*pt::parse_time_value("2 days, 1:00:00"), (2 * 86400 + 3600) * kSecond);
  fail_unless_equals_uint64(*pt::parse_time_value("12.5"), 12500 * kMsecond);
  fail_unless_equals_uint64(*pt::parse_time_value("7"), 7 * kSecond);
  fail_unless_equals_uint64(*pt::parse_time_value("0:00:00.000001"), 1000);
  fail_if(pt::parse_time_value("").has_value());
  fail_if(pt::parse_time_value("abc").has_value());
  fail_if(pt::parse_time_value("-1").has_value());
  fail_if(pt::parse_time_value("0:60:00").has_value());
  fail_if(pt::parse_time_value("0:0:5").has_value());
  fail_if(pt::parse_time_value("0:00:05x").has_value());
  fail_unless_equals_uint64(*pt::seconds_to_ns(1.25), 1250 * kMsecond);
  fail_if(pt::seconds_to_ns(-0.5).has_value());
}
GST_END_TEST;

GST_START_TEST(test_wav_header)
{
  auto h = pt::make_streaming_wav_header(16000, 1, 16);
  fail_unless(memcmp(h.data(), "RIFF", 4) == 0);
  fail_unless(memcmp(h.data() + 8, "WAVEfmt ", 8) == 0);
  fail_unless(memcmp(h.data() + 36, "data", 4) == 0);
  auto le32 = [&](int o) {
    return (guint32)h[o] | ((guint32)h[o + 1] << 8) | ((guint32)h[o + 2] << 16) |
           ((guint32)h[o + 3] << 24);
  };
  auto le16 = [&](int o) { return (guint16)(h[o] | (h[o + 1] << 8)); };
  fail_unless_equals_int(le16(20), 1);
  fail_unless_equals_int(le16(22), 1);
  fail_unless_equals_int(le32(24), 16000);
  fail_unless_equals_int(le32(28), 32000);
  fail_unless_equals_int(le16(32), 2);
  fail_unless_equals_int(le16(34), 16);
  fail_unless_equals_uint64(le32(4), 0xFFFFFFFFu);
  fail_unless_equals_uint64(le32(40), 0xFFFFFFFFu - 36);
  auto f = pt::make_wav_header(16000, 1, 16, 1000);
  fail_unless_equals_int(f[40] | (f[41] << 8), 1000);
  fail_unless_equals_int(f[4] | (f[5] << 8), 1036);
}
GST_END_TEST;

GST_START_TEST(test_uncertainty_and_markup)
{
  pt::Segment s;
  s.raw_text = "سخن را سر از [ای] خردمند و بن";
  pt::parse_uncertainty(s);
  fail_unless_equals_string(s.text.c_str(), "سخن را سر از ای خردمند و بن");
  fail_unless_equals_int(s.words.size(), 8);
  for (size_t i = 0; i < s.words.size(); ++i)
    fail_unless_equals_int(s.words[i].uncertain, i == 4);
  fail_unless_equals_string(s.words[4].text.c_str(), "ای");
  std::string mk = pt::to_pango_markup(s);
  fail_unless_equals_string(mk.c_str(), "سخن را سر از <i>ای</i> خردمند و بن");

  /* A bracket spanning words, and text that needs escaping */
  pt::Segment m;
  m.raw_text = "[حکایت کوتاه] <b> & \"نقل\" [پایان]";
  pt::parse_uncertainty(m);
  fail_unless_equals_int(m.words.size(), 6);
  fail_unless(m.words[0].uncertain && m.words[1].uncertain);
  fail_if(m.words[2].uncertain);
  fail_unless(m.words[5].uncertain);
  mk = pt::to_pango_markup(m);
  fail_unless_equals_string(mk.c_str(), "<i>حکایت کوتاه</i> &lt;b&gt; &amp; \"نقل\" <i>پایان</i>");

  /* ZWNJ stays inside its word */
  pt::Segment z;
  z.raw_text = "می\u200cروم";
  pt::parse_uncertainty(z);
  fail_unless_equals_int(z.words.size(), 1);
  fail_unless_equals_string(z.text.c_str(), "می\u200cروم");
  fail_unless_equals_uint64(z.words[0].start, GST_CLOCK_TIME_NONE);
  fail_unless(z.words[0].confidence == -1.0);
}
GST_END_TEST;

static pt::HarfReply reply(const char *json)
{
  return pt::parse_harf_reply(json, strlen(json));
}

GST_START_TEST(test_harf_replies)
{
  fail_unless(reply("{\"state\":\"PENDING\"}").kind == pt::HarfReply::Kind::Pending);
  auto r = reply(
      "{\"segment_id\": 3, \"text\": \"سازمان بهداشت جهانی\", \"start\": \"0:00:01.500000\", "
      "\"end\": \"0:00:05\"}");
  fail_unless(r.kind == pt::HarfReply::Kind::Segment);
  fail_unless_equals_int(r.segment.id, 3);
  fail_unless_equals_uint64(r.segment.start, 1500 * kMsecond);
  fail_unless_equals_uint64(r.segment.end, 5 * kSecond);
  fail_unless_equals_string(r.segment.text.c_str(), "سازمان بهداشت جهانی");

  /* Tolerated variants: numbers for times, a string id, no times at all */
  r = reply("{\"segment_id\": \"7\", \"text\": \"الف\", \"start\": 2.25, \"end\": 3}");
  fail_unless(r.kind == pt::HarfReply::Kind::Segment);
  fail_unless_equals_int(r.segment.id, 7);
  fail_unless_equals_uint64(r.segment.start, 2250 * kMsecond);
  fail_unless_equals_uint64(r.segment.end, 3 * kSecond);
  r = reply("{\"text\": \"ب\"}");
  fail_unless(r.kind == pt::HarfReply::Kind::Segment);
  fail_unless_equals_int(r.segment.id, -1);
  /* A segment that ends before it starts is dropped, the reason named */
  r = reply("{\"text\": \"ب\", \"start\": \"0:00:04\", \"end\": \"0:00:03\"}");
  fail_unless(r.kind == pt::HarfReply::Kind::Malformed);
  fail_unless(r.error.find("ends before it starts") != std::string::npos, "%s", r.error.c_str());

  /* Malformed: not JSON, not an object, wrong types, bad time */
  fail_unless(reply("{\"state\": PEND").kind == pt::HarfReply::Kind::Malformed);
  fail_unless(reply("[1,2]").kind == pt::HarfReply::Kind::Malformed);
  fail_unless(reply("{\"text\": 5}").kind == pt::HarfReply::Kind::Malformed);
  r = reply("{\"text\": \"x\", \"start\": \"soon\"}");
  fail_unless(r.kind == pt::HarfReply::Kind::Malformed);
  fail_unless(r.error.find("start") != std::string::npos);
  /* Every field is type-checked, and the error names it */
  const char *wrong[][2] = {
      {"{\"text\": \"x\", \"start\": true}", "\"start\" is a boolean"},
      {"{\"text\": \"x\", \"segment_id\": 1e30}", "\"segment_id\" is a number"},
      {"{\"text\": \"x\", \"segment_id\": \"abc\"}", "\"segment_id\" is a string"},
      {"{\"text\": \"x\", \"end\": [1]}", "\"end\" is an array"},
      {"{\"text\": {\"a\": 1}}", "\"text\" is an object"},
      {"{\"text\": \"x\", \"state\": 5}", "\"state\" is a number"},
  };
  for (auto &w : wrong) {
    r = reply(w[0]);
    fail_unless(r.kind == pt::HarfReply::Kind::Malformed, "%s", w[0]);
    fail_unless(r.error.find(w[1]) != std::string::npos, "%s: %s", w[0], r.error.c_str());
  }
  /* Nesting deeper than 64 levels is refused before json-glib parses it
   * (80,000 levels overflowed its recursive parser) */
  std::string deep(80000, '[');
  deep += std::string(80000, ']');
  r = pt::parse_harf_reply(deep.data(), deep.size());
  fail_unless(r.kind == pt::HarfReply::Kind::Malformed);
  fail_unless(r.error.find("deeper than 64") != std::string::npos, "%s", r.error.c_str());
  /* A quote inside a single-quoted string or a comment (json-glib's scanner
   * takes both, and ends a comment at its first slash) does not hide the
   * nesting after it: neither is JSON, and both are refused */
  for (const char *prefix : {"['\"', ", "[/* \" */ ", "['\\', ", "[\"\\ud800\", ", "/* \" *[/"}) {
    std::string hidden = prefix + std::string(80000, '[') + std::string(80001, ']');
    r = pt::parse_harf_reply(hidden.data(), hidden.size());
    fail_unless(r.kind == pt::HarfReply::Kind::Malformed, "%s", prefix);
    fail_unless(r.error.find("not JSON") != std::string::npos, "%s: %s", prefix, r.error.c_str());
  }
  /* ... but a slash or a quote inside a string is JSON */
  r = reply("{\"text\": \"/* 'سلام' */\"}");
  fail_unless(r.kind == pt::HarfReply::Kind::Segment, "%s", r.error.c_str());
  /* A \u escape of a lone surrogate, a \u without four hex digits, an
   * escape JSON does not have: refused (json-glib reads on past them,
   * closing quote included); a proper pair is read */
  for (const char *lone :
       {"{\"text\": \"\\ud800\"}", "{\"text\": \"\\udc00 x\"}", "{\"text\": \"\\ud800\\u0041\"}",
        "{\"text\": \"\\ud8\\\\\": 1}", "{\"text\": \"\\q\"}"}) {
    r = reply(lone);
    fail_unless(r.kind == pt::HarfReply::Kind::Malformed, "%s", lone);
    fail_unless(r.error.find("surrogate") != std::string::npos, "%s: %s", lone, r.error.c_str());
  }
  r = reply("{\"text\": \"\\ud83d\\ude00 \\u0633\\u0644\\u0627\\u0645\"}");
  fail_unless(r.kind == pt::HarfReply::Kind::Segment, "%s", r.error.c_str());
  fail_unless_equals_string(r.segment.text.c_str(), "😀 سلام");
  /* An excerpt of invalid bytes stays within its bound once they are replaced */
  std::string invalid(500, '\xff');
  fail_unless(pt::quote_excerpt(invalid.data(), invalid.size(), 200).size() <= 200 + strlen("…"));
  /* ... while brackets inside strings do not count */
  std::string brackets = "{\"text\": \"" + std::string(200, '[') + "\"}";
  fail_unless(pt::parse_harf_reply(brackets.data(), brackets.size()).kind ==
              pt::HarfReply::Kind::Segment);
  /* Invalid UTF-8 in the text is replaced, never passed on */
  const char bad_utf8[] = "{\"text\": \"\xd8\xb3\xff\xfe\xd9\x84\"}";
  r = reply(bad_utf8);
  if (r.kind == pt::HarfReply::Kind::Segment)
    fail_unless(g_utf8_validate(r.segment.text.c_str(), -1, nullptr));
  else
    fail_unless(r.kind == pt::HarfReply::Kind::Malformed);

  /* Excerpts are bounded and valid UTF-8 even when cut inside a character */
  std::string big(300, 'x');
  big += "سلام";
  std::string ex = pt::quote_excerpt(big.data(), big.size(), 200);
  fail_unless(ex.size() <= 200 + strlen("…"));
  std::string fa = "سلام";
  ex = pt::quote_excerpt(fa.data(), fa.size(), 3);
  fail_unless(g_utf8_validate(ex.c_str(), -1, nullptr));
}
GST_END_TEST;

static pt::Segment seg(int id, const char *text)
{
  pt::Segment s;
  s.id = id;
  s.raw_text = text;
  pt::parse_uncertainty(s);
  return s;
}

GST_START_TEST(test_segment_tracker)
{
  pt::SegmentTracker t(false);
  fail_unless(t.on_segment(seg(1, "سلام")).empty());
  fail_unless(t.on_segment(seg(1, "سلام دنیا")).empty());
  auto out = t.on_other_reply();
  fail_unless_equals_int(out.size(), 1);
  fail_unless_equals_string(out[0].text.c_str(), "سلام دنیا");
  fail_unless(out[0].final);
  fail_unless(t.on_other_reply().empty());
  /* A new id closes the open one */
  fail_unless(t.on_segment(seg(2, "دو")).empty());
  out = t.on_segment(seg(3, "سه"));
  fail_unless_equals_int(out.size(), 1);
  fail_unless_equals_int(out[0].id, 2);
  out = t.on_end();
  fail_unless_equals_int(out.size(), 1);
  fail_unless_equals_int(out[0].id, 3);
  /* A revision of a final segment is published again as final */
  out = t.on_segment(seg(2, "دوم"));
  fail_unless_equals_int(out.size(), 1);
  fail_unless(out[0].final);
  fail_unless(t.last_was_late_revision());

  pt::SegmentTracker p(true);
  out = p.on_segment(seg(1, "سلام"));
  fail_unless_equals_int(out.size(), 1);
  fail_if(out[0].final);
  out = p.on_segment(seg(1, "سلام دنیا"));
  fail_unless_equals_int(out.size(), 1);
  fail_if(out[0].final);
  out = p.on_other_reply();
  fail_unless_equals_int(out.size(), 1);
  fail_unless(out[0].final);
  fail_unless_equals_string(out[0].text.c_str(), "سلام دنیا");
}
GST_END_TEST;

static std::vector<uint8_t> joined(const std::vector<pt::Window> &windows)
{
  std::vector<uint8_t> all;
  for (auto &w : windows)
    all.insert(all.end(), w.begin(), w.end());
  return all;
}

static size_t windows_total(const std::vector<pt::Window> &w)
{
  size_t n = 0;
  for (auto &x : w)
    n += x.size();
  return n;
}

/* A resampling converter drained (EOS) or replaced (new caps) before any
 * audio reached it: nothing comes out, and nothing crashes.
 * GstAudioConverter dereferenced a null input when asked to drain then. */
GST_START_TEST(test_windower_drain_unfed)
{
  pt::AudioWindower win(16000, 1000);
  GstAudioInfo in;
  gst_audio_info_set_format(&in, GST_AUDIO_FORMAT_F32LE, 44100, 2, nullptr);
  std::vector<pt::Window> out;
  std::string err;
  fail_unless(win.set_input(in, out, &err));
  win.drain(out);
  fail_unless_equals_int(out.size(), 0);
  GstAudioInfo other;
  gst_audio_info_set_format(&other, GST_AUDIO_FORMAT_S16LE, 48000, 1, nullptr);
  fail_unless(win.set_input(other, out, &err));
  fail_unless(win.set_input(in, out, &err));
  win.drain(out);
  fail_unless_equals_int(out.size(), 0);
}
GST_END_TEST;

/* The engine with a fake backend (the factory seam): windows reach the
 * backend in order, the end of input reaches it once, and what it delivers
 * reaches the listener with the time base of the first buffer. */
namespace {

struct FakeBackend final : public pt::Backend {
  FakeBackend(pt::BackendHost *h, uint64_t base, std::vector<size_t> *windows)
      : host(h), time_base(base), windows(windows)
  {
  }
  void start() override {}
  void kick() override
  {
    pt::Window w;
    bool done = false;
    while (host->pop_window(w, &done))
      windows->push_back(w.size());
    if (!done || ended)
      return;
    ended = true;
    pt::Result r;
    r.segment.raw_text = r.segment.text = "سلام دنیا";
    r.segment.start = 500 * kMsecond;
    r.segment.end = 1500 * kMsecond;
    r.segment.final = true;
    r.pts = time_base + r.segment.start;
    r.duration = r.segment.end - r.segment.start;
    r.backend = "fake";
    host->deliver(r);
    host->finished();
  }
  void shutdown() override {}
  pt::BackendHost *host;
  uint64_t time_base;
  std::vector<size_t> *windows;
  bool ended = false;
};

struct Collect final : public testutil::RecordingListener {
  void on_result(const pt::Result &r) override
  {
    std::lock_guard<std::mutex> lk(m);
    results.push_back(r);
  }
  std::vector<pt::Result> results;
};

}  // namespace

GST_START_TEST(test_engine_with_fake_backend)
{
  pt::Settings s;
  s.token = "unused";
  std::vector<size_t> windows; /* written on the I/O thread, read after finished */
  int made = 0;
  Collect listener;
  {
    pt::Engine engine(s, &listener, nullptr,
                      [&](const pt::Settings &, pt::BackendHost *host, pt::IoThread *,
                          uint64_t time_base) -> std::unique_ptr<pt::Backend> {
                        made++;
                        return std::make_unique<FakeBackend>(host, time_base, &windows);
                      });
    GstAudioInfo in;
    gst_audio_info_set_format(&in, GST_AUDIO_FORMAT_S16LE, 16000, 1, nullptr);
    std::string err;
    fail_unless(engine.set_format(in, &err));
    std::vector<int16_t> tenth(1600, 100); /* 100 ms */
    for (int i = 0; i < 25; ++i)
      fail_unless(engine.push_audio(3 * GST_SECOND + i * 100 * kMsecond,
                                    (const uint8_t *)tenth.data(),
                                    tenth.size() * 2) == pt::Engine::Flow::Ok);
    fail_unless_equals_uint64(engine.input_position(), 5500 * kMsecond);
    engine.finish();
    std::unique_lock<std::mutex> lk(listener.m);
    fail_unless(
        listener.cv.wait_for(lk, std::chrono::seconds(30), [&] { return listener.finished > 0; }));
  }
  fail_unless_equals_int(made, 1);
  fail_unless_equals_int(listener.finished, 1);
  fail_unless_equals_int(listener.errors.size(), 0);
  /* 2.5 s at 16 kHz mono S16: two 1 s windows and the 0.5 s rest */
  fail_unless_equals_int(windows.size(), 3);
  fail_unless_equals_int(windows[0], 32000);
  fail_unless_equals_int(windows[2], 16000);
  fail_unless_equals_int(listener.results.size(), 1);
  fail_unless_equals_uint64(listener.results[0].pts, 3500 * kMsecond);
  assert_text(listener.results[0].segment.text, "سلام دنیا");
}
GST_END_TEST;

/* The batch services' answers, hostile ones included: each is an error
 * naming what is wrong, never a crash (a "state" that was a number or a
 * boolean aborted the process; 80,000 nested arrays overflowed the stack). */
GST_START_TEST(test_service_answers)
{
  auto harf = [](const std::string &body) {
    return pt::parse_harf_file_answer(body.data(), body.size(), "Harf upload");
  };
  pt::HarfFileAnswer h = harf("{\"state\": \"PENDING\", \"task_ids\": [\"t-1\"]}");
  fail_unless(h.kind == pt::HarfFileAnswer::Kind::State);
  assert_text(h.state, "PENDING");
  assert_text(h.task_id, "t-1");
  for (const char *bad : {"{\"state\": 5}", "{\"state\": true}", "{\"state\": [\"x\"]}"}) {
    h = harf(bad);
    fail_unless(h.kind == pt::HarfFileAnswer::Kind::Invalid, "%s", bad);
    fail_unless(h.error.find("\"state\" is") != std::string::npos, "%s", h.error.c_str());
  }
  h = harf("[{\"segments\": \"nope\"}]");
  fail_unless(h.kind == pt::HarfFileAnswer::Kind::Invalid);
  fail_unless(h.error.find("\"segments\" is a string") != std::string::npos, "%s", h.error.c_str());
  h = harf("[{\"stats\": {\"words\": \"many\"}, \"segments\": []}]");
  fail_unless(h.kind == pt::HarfFileAnswer::Kind::Invalid);
  fail_unless(h.error.find("\"words\"") != std::string::npos, "%s", h.error.c_str());
  h = harf(
      "[{\"stats\": {\"words\": 2, \"known_words\": 2}, \"segments\": [{\"text\": \"سلام "
      "دنیا\", \"start\": \"0:00:01\", \"end\": 2.5}, {\"text\": 7}]}]");
  fail_unless(h.kind == pt::HarfFileAnswer::Kind::Result);
  fail_unless_equals_int(h.segments.size(), 1);
  fail_unless_equals_int(h.skipped.size(), 1);
  fail_unless_equals_uint64(h.segments[0].end, 2500 * kMsecond);

  std::string deep = std::string(80000, '[') + std::string(80000, ']');
  h = harf(deep);
  fail_unless(h.kind == pt::HarfFileAnswer::Kind::Invalid);
  fail_unless(h.error.find("deeper than 64") != std::string::npos, "%s", h.error.c_str());
  fail_if(pt::parse_nevisa_login(deep.data(), deep.size()).ok);
  fail_if(pt::parse_nevisa_upload(deep.data(), deep.size()).ok);
  pt::NevisaProgress p = pt::parse_nevisa_progress(deep.data(), deep.size());
  fail_if(p.ok);
  fail_unless(p.error.find("deeper than 64") != std::string::npos, "%s", p.error.c_str());

  std::string login =
      "{\"user\": {\"token\": \"tok\", \"nevisa_service_account\": "
      "{\"current_service_record\": null}}}";
  pt::NevisaLogin l = pt::parse_nevisa_login(login.data(), login.size());
  fail_unless(l.ok && l.no_package);
  login = "{\"user\": {\"token\": 5}}";
  l = pt::parse_nevisa_login(login.data(), login.size());
  fail_if(l.ok);
  fail_unless(l.error.find("\"token\" is a number") != std::string::npos, "%s", l.error.c_str());

  std::string up = "{\"task_id\": {\"x\": 1}}";
  fail_if(pt::parse_nevisa_upload(up.data(), up.size()).ok);
  up = "{\"task_id\": \"ab\"}";
  pt::NevisaUpload u = pt::parse_nevisa_upload(up.data(), up.size());
  fail_unless(u.ok);
  assert_text(u.progress_url, "celery-progress/ab/");

  /* Percentages outside 0..100 are not passed on */
  for (const char *pct : {"-50", "1e9", "\"lots\""}) {
    std::string body =
        std::string("{\"state\": \"PROGRESS\", \"progress\": {\"percent\": ") + pct + "}}";
    p = pt::parse_nevisa_progress(body.data(), body.size());
    if (p.ok)
      fail_unless(p.percent == -1, "%s gave %f", pct, p.percent);
  }
  std::string body = "{\"state\": \"PROGRESS\", \"progress\": {\"percent\": 40}}";
  p = pt::parse_nevisa_progress(body.data(), body.size());
  fail_unless(p.ok && p.percent == 40);
  /* A first word without a usable start still gets a time */
  body =
      "{\"state\": \"SUCCESS\", \"result\": {\"transcription\": {\"result\": ["
      "{\"word\": \"سلام\", \"end\": 1.0, \"conf\": 0.9},"
      "{\"word\": \"دنیا\", \"start\": 1.2, \"end\": 1.8, \"conf\": 0.8}]}}}";
  p = pt::parse_nevisa_progress(body.data(), body.size());
  fail_unless(p.ok);
  fail_unless_equals_int(p.words.size(), 2);
  fail_unless_equals_uint64(p.words[0].start, 1000 * kMsecond); /* not after its end */
  fail_unless(p.words[0].end >= p.words[0].start);
  body = "{\"state\": \"SUCCESS\", \"result\": {\"transcription\": {\"result\": 3}}}";
  p = pt::parse_nevisa_progress(body.data(), body.size());
  fail_if(p.ok);
  fail_unless(p.error.find("\"result\" is a number") != std::string::npos, "%s", p.error.c_str());
}
GST_END_TEST;

static void assert_same_progress(const pt::NevisaProgress &a, const pt::NevisaProgress &b,
                                 const char *what)
{
  fail_unless(a.ok == b.ok && a.state == b.state && a.percent == b.percent &&
                  a.failure == b.failure && a.error == b.error && a.skipped == b.skipped,
              "%s: ok %d/%d, error \"%s\"/\"%s\"", what, a.ok, b.ok, a.error.c_str(),
              b.error.c_str());
  fail_unless_equals_int(a.words.size(), b.words.size());
  for (size_t i = 0; i < a.words.size(); ++i)
    fail_unless(a.words[i].text == b.words[i].text && a.words[i].start == b.words[i].start &&
                    a.words[i].end == b.words[i].end &&
                    a.words[i].confidence == b.words[i].confidence,
                "%s: word %zu", what, i);
}

/* A long answer (two hours: 36,000 words) has its word list read one word
 * at a time, which gives exactly what parsing it whole gives; and answers
 * the cut does not expect (an escaped or repeated key, a stray character,
 * a failure carrying a list) are parsed whole, with the same messages. */
GST_START_TEST(test_nevisa_long_answer_one_word_at_a_time)
{
  const char *sentence[] = {"امروز", "درباره‌ی", "هوش", "مصنوعی", "و", "زبان", "فارسی",
                            "صحبت", "می‌کنیم", "."};
  std::string body = "{\"state\": \"SUCCESS\", \"complete\": true, \"progress\": {\"percent\": "
                     "100}, \"result\": {\"transcription\": {\"text\": \"\", \"result\": [";
  for (int i = 0; i < 36000; ++i) {
    char word[256];
    snprintf(word, sizeof word,
             "%s{\"conf\": %.2f, \"end\": %.2f, \"start\": %.2f, \"word\": \"%s\"}", i ? ", " : "",
             (i % 97) / 96.0, i * 0.2 + 0.18, i * 0.2, sentence[i % 10]);
    body += word;
  }
  body += "]}}}";
  fail_unless(body.size() > 64 * 1024);
  const pt::NevisaProgress split = pt::parse_nevisa_progress(body.data(), body.size());
  const pt::NevisaProgress whole = pt::parse_nevisa_progress_whole(body.data(), body.size());
  fail_unless(split.ok && split.state == "SUCCESS");
  fail_unless(split.word_by_word && !whole.word_by_word);
  fail_unless_equals_int(split.words.size(), 36000);
  assert_text(split.words[35999].text, "."); /* the last word, in order */
  fail_unless_equals_uint64(split.words[35999].start, 7199800 * kMsecond);
  assert_same_progress(split, whole, "36,000 words");

  struct Odd {
    const char *body;
    bool word_by_word;
  };
  const Odd odd[] = {
      /* a repeated key: json-glib keeps the last */
      {"{\"state\": \"SUCCESS\", \"result\": {\"transcription\": {\"result\": [{\"word\": \"الف\"}]}}, "
      "\"result\": {\"transcription\": {\"result\": [{\"word\": \"ب\", \"start\": 1}]}}}", false},
      /* an escaped key on the path */
      {"{\"state\": \"SUCCESS\", \"res\\u0075lt\": {\"transcription\": {\"result\": [{\"word\": "
      "\"الف\"}]}}}", false},
      /* a stray character between words */
      {"{\"state\": \"SUCCESS\", \"result\": {\"transcription\": {\"result\": [{\"word\": \"الف\"} "
      "x, {\"word\": \"ب\"}]}}}", false},
      /* a trailing comma */
      {"{\"state\": \"SUCCESS\", \"result\": {\"transcription\": {\"result\": [{\"word\": "
      "\"الف\"},]}}}", false},
      /* a failure that carries a list: its text quotes it */
      {"{\"state\": \"FAILURE\", \"result\": {\"transcription\": {\"result\": [1, 2, 3]}}}", false},
      /* words that are not objects, brackets inside strings */
      {"{\"state\": \"SUCCESS\", \"result\": {\"transcription\": {\"result\": [3, \"]\", "
      "{\"word\": \"[}\"}, [], {}]}}}", true},
      /* garbage after the answer */
      {"{\"state\": \"SUCCESS\", \"result\": {\"transcription\": {\"result\": []}}} x", false},
      /* an empty list */
      {"{\"state\": \"SUCCESS\", \"result\": {\"transcription\": {\"result\": []}}}", true},
      /* not an answer at all */
      {"[]", false},
      {"", false},
  };
  for (const Odd &o : odd) {
    const pt::NevisaProgress p = pt::parse_nevisa_progress(o.body, strlen(o.body), 0);
    assert_same_progress(p, pt::parse_nevisa_progress_whole(o.body, strlen(o.body)), o.body);
    fail_unless(p.word_by_word == o.word_by_word, "%s: word by word %d", o.body, p.word_by_word);
  }
}
GST_END_TEST;

/* An answer in an unlinked temporary file (closed by the caller) */
static int answer_file(const std::string &body)
{
  gchar *path = nullptr;
  const int fd = g_file_open_tmp("test-core-answer-XXXXXX.json", &path, nullptr);
  fail_unless(fd >= 0);
  g_unlink(path);
  g_free(path);
  fail_unless(write(fd, body.data(), body.size()) == static_cast<ssize_t>(body.size()));
  return fd;
}

/* Everything NevisaAnswerFile gives, as one NevisaProgress */
static pt::NevisaProgress read_answer_file(pt::NevisaAnswerFile &f)
{
  pt::NevisaProgress p = f.answer();
  fail_unless(p.words.empty() && p.skipped.empty());
  pt::Word w;
  std::vector<std::string> skipped;
  while (f.next(&w, &skipped))
    p.words.push_back(w);
  p.skipped = skipped;
  fail_if(f.failed());
  return p;
}

/* A Nevisa answer on disk, read a word at a time: the same words, times
 * and messages as parsing it whole, whatever the block size (7 bytes cuts
 * every token somewhere); one the cut does not expect is parsed whole when
 * it may be held, and is an error naming max-answer-size when it may not;
 * an answer that changes on disk under the reader says so. */
GST_START_TEST(test_nevisa_answer_on_disk)
{
  const char *sentence[] = {"امروز", "درباره‌ی", "هوش", "مصنوعی", "و", "زبان", "فارسی",
                            "صحبت", "می‌کنیم", "."};
  std::string text, list;
  for (int i = 0; i < 3000; ++i) {
    char word[256];
    /* every 7th word without a start, the first one too */
    if (i % 7 == 0)
      snprintf(word, sizeof word, "%s{\"conf\": %.2f, \"end\": %.2f, \"word\": \"%s\"}",
               i ? ", " : "", (i % 97) / 96.0, i * 0.2 + 0.18, sentence[i % 10]);
    else
      snprintf(word, sizeof word,
               "%s{\"conf\": %.2f, \"end\": %.2f, \"start\": %.2f, \"word\": \"%s\"}",
               i ? ", " : "", (i % 97) / 96.0, i * 0.2 + 0.18, i * 0.2, sentence[i % 10]);
    list += word;
    text += std::string(i ? " " : "") + sentence[i % 10];
  }
  /* the text after the list, a word without text in it */
  const std::string body = "{\"complete\": true, \"result\": {\"transcription\": {\"result\": [" +
                           list + ", {\"word\": \"\", \"start\": 1}], \"text\": \"" + text +
                           "\"}, \"final\": true}, \"state\": \"SUCCESS\"}";
  const pt::NevisaProgress whole = pt::parse_nevisa_progress_whole(body.data(), body.size());
  fail_unless(whole.ok && whole.words.size() == 3000 && whole.skipped.size() == 1);
  const int fd = answer_file(body);
  for (size_t block : {size_t(7), size_t(4096), size_t(1) << 20}) {
    /* what is held: far less than the answer, which has the text twice */
    pt::NevisaAnswerFile f(fd, body.size(), 4096, block);
    fail_unless(f.answer().word_by_word, "block %zu: %s", block, f.answer().error.c_str());
    fail_unless_equals_int(f.words(), 3001);
    assert_same_progress(read_answer_file(f), whole, "3000 words on disk");
  }
  close(fd);

  const char *odd[] = {
      /* a repeated key: json-glib keeps the last */
      "{\"state\": \"SUCCESS\", \"result\": {\"transcription\": {\"result\": [{\"word\": \"الف\"}]}}, "
      "\"result\": {\"transcription\": {\"result\": [{\"word\": \"ب\", \"start\": 1}]}}}",
      /* a stray character between words */
      "{\"state\": \"SUCCESS\", \"result\": {\"transcription\": {\"result\": [{\"word\": \"الف\"} "
      "x, {\"word\": \"ب\"}]}}}",
      /* a word that is not JSON */
      "{\"state\": \"SUCCESS\", \"result\": {\"transcription\": {\"result\": [{\"word\": \"الف\"}, "
      "[1 2]]}}}",
      /* a failure that carries a list: its text quotes it */
      "{\"state\": \"FAILURE\", \"result\": {\"transcription\": {\"result\": [1, 2, 3]}}}",
      /* garbage after the answer */
      "{\"state\": \"SUCCESS\", \"result\": {\"transcription\": {\"result\": []}}} x",
      "not JSON at all",
  };
  for (const char *o : odd) {
    const pt::NevisaProgress w = pt::parse_nevisa_progress_whole(o, strlen(o));
    const int ofd = answer_file(o);
    pt::NevisaAnswerFile held(ofd, strlen(o), strlen(o), 5);
    assert_same_progress(read_answer_file(held), w, o);
    fail_if(held.answer().word_by_word, "%s", o);
    /* too large to hold: an error, never a guess */
    pt::NevisaAnswerFile too_large(ofd, strlen(o), strlen(o) / 2, 5);
    const pt::NevisaProgress p = read_answer_file(too_large);
    const bool refused = !p.ok && p.words.empty() &&
                         p.error.find("max-answer-size") != std::string::npos;
    if (!w.ok || w.state != "SUCCESS")
      fail_unless(refused || (p.ok == w.ok && p.state == w.state), "%s: %s", o, p.error.c_str());
    else
      fail_unless(refused, "%s: %s", o, p.error.c_str());
    close(ofd);
  }

  /* The file shrinks under the reader: next() stops and says so */
  const int sfd = answer_file(body);
  pt::NevisaAnswerFile f(sfd, body.size(), 4096, 4096);
  fail_unless(f.answer().ok && f.answer().word_by_word);
  pt::Word w;
  std::vector<std::string> skipped;
  fail_unless(f.next(&w, &skipped));
  assert_text(w.text, "امروز");
  fail_unless(ftruncate(sfd, body.size() / 2) == 0);
  size_t more = 0;
  while (f.next(&w, &skipped))
    ++more;
  fail_unless(f.failed(), "read %zu more words past the cut", more);
  fail_unless(more < 3000);
  close(sfd);
}
GST_END_TEST;

/* A Harf result on disk, read a segment at a time: the same segments
 * (ids, texts, uncertain words, times), stats and skipped reasons as
 * parsing it whole, whatever the block size; one the cut does not expect
 * is parsed whole when it may be held and is an error naming
 * max-answer-size when it may not. */
GST_START_TEST(test_harf_answer_on_disk)
{
  const char *lines[] = {"سازمان بهداشت جهانی [اعلام] کرد", "امروز هوا آفتابی است",
                         "این جمله سوم است و پس از یک مکث می‌آید"};
  std::string list;
  for (int i = 0; i < 2000; ++i) {
    char seg[512];
    if (i % 500 == 7) /* no text: left out, and said why */
      snprintf(seg, sizeof seg, "%s{\"segment_id\": %d, \"start\": %.2f}", i ? ", " : "", i,
               i * 2.0);
    else
      snprintf(seg, sizeof seg,
               "%s{\"segment_id\": %d, \"text\": \"%s\", \"start\": \"0:%02d:%02d.500000\", "
               "\"end\": %.2f}",
               i ? ", " : "", i, lines[i % 3], (i * 2) / 60 % 60, (i * 2) % 60, i * 2.0 + 1.9);
    list += seg;
  }
  const std::string body = "[{\"stats\": {\"words\": 9000, \"known_words\": 8800}, \"segments\": [" +
                           list + "]}]";
  const pt::HarfFileAnswer whole = pt::parse_harf_file_answer(body.data(), body.size(), "Harf upload");
  fail_unless(whole.kind == pt::HarfFileAnswer::Kind::Result);
  fail_unless_equals_int(whole.segments.size(), 1996);
  fail_unless_equals_int(whole.skipped.size(), 4);
  const int fd = answer_file(body);
  for (size_t block : {size_t(7), size_t(4096), size_t(1) << 20}) {
    pt::HarfAnswerFile f(fd, body.size(), 4096, "Harf upload", block);
    pt::HarfFileAnswer a = f.answer();
    fail_unless(a.kind == pt::HarfFileAnswer::Kind::Result, "block %zu: %s", block, a.error.c_str());
    fail_unless(a.segments.empty() && a.skipped.empty());
    fail_unless_equals_int(f.usable(), 1996);
    fail_unless(f.first_skipped() == whole.skipped[0], "%s", f.first_skipped().c_str());
    fail_unless_equals_int(a.total_words, 9000);
    fail_unless_equals_int(a.known_words, 8800);
    pt::Segment seg;
    while (f.next(&seg, &a.skipped))
      a.segments.push_back(seg);
    fail_if(f.failed());
    fail_unless(a.skipped == whole.skipped);
    fail_unless_equals_int(a.segments.size(), whole.segments.size());
    for (size_t i = 0; i < a.segments.size(); ++i) {
      const pt::Segment &x = a.segments[i], &y = whole.segments[i];
      fail_unless(x.id == y.id && x.text == y.text && x.raw_text == y.raw_text &&
                      x.start == y.start && x.end == y.end && x.words.size() == y.words.size(),
                  "block %zu: segment %zu differs", block, i);
    }
    assert_text(a.segments[0].text, "سازمان بهداشت جهانی اعلام کرد");
  }
  close(fd);

  const char *odd[] = {
      /* a task state, not a result */
      "{\"state\": \"PENDING\", \"task_ids\": [\"t-1\"]}",
      /* the segments of the second file only */
      "[{\"stats\": {}}, {\"segments\": [{\"text\": \"الف\"}]}]",
      /* a segment that is not JSON */
      "[{\"segments\": [{\"text\": \"الف\"}, [1 2]]}]",
      /* segments of the wrong type */
      "[{\"segments\": \"nope\"}]",
  };
  for (const char *o : odd) {
    const pt::HarfFileAnswer w = pt::parse_harf_file_answer(o, strlen(o), "Harf upload");
    const int ofd = answer_file(o);
    pt::HarfAnswerFile held(ofd, strlen(o), strlen(o), "Harf upload", 5);
    pt::HarfFileAnswer a = held.answer();
    pt::Segment seg;
    while (held.next(&seg, &a.skipped))
      a.segments.push_back(seg);
    fail_unless(a.kind == w.kind && a.error == w.error && a.state == w.state &&
                    a.segments.size() == w.segments.size(),
                "%s: %s", o, a.error.c_str());
    pt::HarfAnswerFile small(ofd, strlen(o), strlen(o) / 2, "Harf upload", 5);
    fail_unless(small.answer().kind == w.kind ||
                    small.answer().error.find("max-answer-size") != std::string::npos,
                "%s: %s", o, small.answer().error.c_str());
    close(ofd);
  }
}
GST_END_TEST;

/* Times the audio cannot have: 17.6 s of audio, segments at 27 h and
 * 100 years were believed (and kept EOS from coming on a live pipeline). */
GST_START_TEST(test_impossible_times)
{
  const uint64_t audio = 17600 * kMsecond;
  pt::Segment s;
  s.start = 27ull * 3600 * kSecond;
  s.end = s.start + 5 * kSecond;
  auto bad = pt::check_segment_times(s, audio);
  fail_unless(bad.has_value());
  fail_unless(bad->find("after the 17.600 s of audio") != std::string::npos, "%s", bad->c_str());
  s.start = 100ull * 365 * 86400 * kSecond;
  s.end = s.start;
  fail_unless(pt::check_segment_times(s, audio).has_value());
  s.start = 5 * kSecond;
  s.end = 2 * kSecond;
  fail_unless(pt::check_segment_times(s, audio).has_value());
  /* within the slack: kept, its end brought back to the audio */
  s.start = 17 * kSecond;
  s.end = 18 * kSecond;
  pt::Word w;
  w.text = "پایان";
  w.start = 17 * kSecond;
  w.end = 18 * kSecond;
  s.words.push_back(w);
  fail_if(pt::check_segment_times(s, audio).has_value());
  fail_unless_equals_uint64(s.end, audio);
  fail_unless_equals_uint64(s.words[0].end, audio);
  s.start = 18 * kSecond;
  s.end = 18500 * kMsecond;
  fail_if(pt::check_segment_times(s, audio).has_value());
  fail_unless_equals_uint64(s.end, s.start);
}
GST_END_TEST;

GST_START_TEST(test_windower)
{
  /* 3.3 s of 44.1 kHz stereo F32 -> 16 kHz mono S16, 1000 ms windows */
  pt::AudioWindower win(16000, 1000);
  GstAudioInfo in;
  gst_audio_info_set_format(&in, GST_AUDIO_FORMAT_F32LE, 44100, 2, nullptr);
  std::vector<pt::Window> out;
  std::string err;
  fail_unless(win.set_input(in, out, &err));
  std::vector<float> buf(4410 * 2, 0.25f);
  for (int i = 0; i < 33; ++i)
    win.push((const uint8_t *)buf.data(), buf.size() * sizeof(float), out);
  fail_unless_equals_int(out.size(), 3);
  for (auto &w : out)
    fail_unless_equals_int(w.size(), 32000);
  win.drain(out);
  fail_unless_equals_int(out.size(), 4);
  size_t total = windows_total(out);
  /* 3.3 s = 105600 bytes; the resampler's tail is drained, not lost */
  fail_unless(total >= 105600 - 64 && total <= 105600 + 64, "total %zu", total);
  /* The mono mix of two equal channels keeps the level: 0.25 * 32767 */
  const int16_t *s = (const int16_t *)out[1].data();
  fail_unless(std::abs(s[100] - 8192) < 40, "sample %d", s[100]);

  /* Silence insertion and a format change mid-stream */
  pt::AudioWindower w2(16000, 250);
  std::vector<pt::Window> o2;
  GstAudioInfo mono;
  gst_audio_info_set_format(&mono, GST_AUDIO_FORMAT_S16LE, 16000, 1, nullptr);
  fail_unless(w2.set_input(mono, o2, &err));
  w2.push_silence(GST_SECOND, o2);
  fail_unless_equals_int(o2.size(), 4);
  fail_unless_equals_int(o2[0].size(), 8000);
  GstAudioInfo six;
  gst_audio_info_set_format(&six, GST_AUDIO_FORMAT_S16LE, 48000, 6, nullptr);
  fail_unless(w2.set_input(six, o2, &err));
  std::vector<int16_t> b6(4800 * 6, 1000);
  w2.push((const uint8_t *)b6.data(), b6.size() * 2, o2);
  w2.drain(o2);
  size_t t2 = windows_total(o2);
  fail_unless(t2 >= 32000 + 3200 - 64 && t2 <= 32000 + 3200 + 64, "total %zu", t2);
}
GST_END_TEST;

/* Runs a launch line to EOS and returns the bytes its fakesink "out" took. */
static std::vector<uint8_t> pipeline_output(const char *launch)
{
  GError *error = nullptr;
  GstElement *pipeline = gst_parse_launch(launch, &error);
  fail_unless(pipeline && !error, "%s", error ? error->message : "no pipeline");
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipeline), "out");
  std::vector<uint8_t> bytes;
  g_object_set(sink, "signal-handoffs", TRUE, nullptr);
  g_signal_connect(sink, "handoff",
                   G_CALLBACK(+[](GstElement *, GstBuffer *buf, GstPad *, gpointer data) {
                     GstMapInfo map;
                     if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
                       auto *v = static_cast<std::vector<uint8_t> *>(data);
                       v->insert(v->end(), map.data, map.data + map.size);
                       gst_buffer_unmap(buf, &map);
                     }
                   }),
                   &bytes);
  fail_unless(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  GstBus *bus = gst_element_get_bus(pipeline);
  GstMessage *m = gst_bus_timed_pop_filtered(bus, 30 * GST_SECOND,
                                             (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless(m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS, "the pipeline did not reach EOS");
  gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  return bytes;
}

/* The windower converts as `audioconvert ! audioresample` does (mixing to
 * S16 first, resampling in S16, which costs half of resampling in F32):
 * its output for 2 s of 48 kHz stereo F32 is GStreamer's own chain's, to
 * within one step of rounding; and service-format input comes out
 * byte for byte. */
GST_START_TEST(test_windower_matches_audioconvert_audioresample)
{
  const std::vector<uint8_t> input = pipeline_output(
      "audiotestsrc wave=sine freq=440 volume=0.5 num-buffers=20 samplesperbuffer=4800 ! "
      "audio/x-raw,format=F32LE,rate=48000,channels=2 ! fakesink name=out");
  const std::vector<uint8_t> reference = pipeline_output(
      "audiotestsrc wave=sine freq=440 volume=0.5 num-buffers=20 samplesperbuffer=4800 ! "
      "audio/x-raw,format=F32LE,rate=48000,channels=2 ! audioconvert dithering=none ! "
      "audioresample ! audio/x-raw,format=S16LE,rate=16000,channels=1 ! fakesink name=out");
  fail_unless_equals_int(input.size(), 96000 * 2 * 4);
  fail_unless(reference.size() >= 64000 - 64, "reference %zu bytes", reference.size());

  pt::AudioWindower win(16000, 1000);
  GstAudioInfo in;
  gst_audio_info_set_format(&in, GST_AUDIO_FORMAT_F32LE, 48000, 2, nullptr);
  std::vector<pt::Window> out;
  std::string err;
  fail_unless(win.set_input(in, out, &err));
  for (size_t off = 0; off < input.size(); off += 4800 * 8)
    win.push(input.data() + off, 4800 * 8, out);
  win.drain(out);
  const std::vector<uint8_t> got = joined(out);
  const size_t n = std::min(got.size(), reference.size()) / 2;
  fail_unless(n * 2 + 64 >= reference.size() && n * 2 + 64 >= got.size(),
              "%zu bytes from the windower, %zu from audioresample", got.size(),
              reference.size());
  const auto *a = reinterpret_cast<const int16_t *>(got.data());
  const auto *b = reinterpret_cast<const int16_t *>(reference.data());
  int worst = 0, peak = 0;
  for (size_t i = 0; i < n; ++i) {
    worst = std::max(worst, std::abs(a[i] - b[i]));
    peak = std::max(peak, std::abs(int(b[i])));
  }
  fail_unless(peak > 10000, "the reference is a sine at half scale (peak %d)", peak);
  fail_unless(worst <= 1, "the windower differs from audioresample by up to %d", worst);

  /* Service format: copied, not converted */
  pt::AudioWindower same(16000, 250);
  GstAudioInfo mono;
  gst_audio_info_set_format(&mono, GST_AUDIO_FORMAT_S16LE, 16000, 1, nullptr);
  std::vector<pt::Window> o2;
  fail_unless(same.set_input(mono, o2, &err));
  same.push(reference.data(), reference.size() & ~size_t(1), o2);
  same.drain(o2);
  fail_unless(joined(o2) == std::vector<uint8_t>(reference.begin(),
                                             reference.begin() + (reference.size() & ~size_t(1))));
}
GST_END_TEST;

GST_START_TEST(test_settings_validation)
{
  pt::Settings s;
  auto p = pt::validate_settings(s);
  fail_unless(p.has_value());
  fail_unless(p->message.find("HARF_TOKEN") != std::string::npos);
  fail_unless_equals_string(p->reason, pt::kReasonMissingCredentials);
  s.token = "abc";
  fail_if(pt::validate_settings(s).has_value());
  s.harf_url = "http://example.invalid/";
  fail_unless(pt::validate_settings(s).has_value());
  s.harf_url = "ws://127.0.0.1:1/x";
  fail_if(pt::validate_settings(s).has_value());
  std::string auth = pt::authorization_value(s);
  fail_unless_equals_string(auth.c_str(), "Token abc");
  s.auth_scheme = pt::AuthScheme::Bearer;
  auth = pt::authorization_value(s);
  fail_unless_equals_string(auth.c_str(), "Bearer abc");
  s.token = "a\nb";
  fail_unless(pt::validate_settings(s).has_value());
}
GST_END_TEST;

static pt::Segment words_segment(const char *raw)
{
  pt::Segment s;
  s.raw_text = raw;
  pt::parse_uncertainty(s);
  return s;
}

static std::string join_cues(const std::vector<pt::Cue> &cues)
{
  std::string all;
  for (auto &c : cues)
    for (auto &l : c.lines)
      all += (all.empty() ? "" : " ") + l;
  return all;
}

GST_START_TEST(test_cues_short_and_min_duration)
{
  pt::CueSettings cs;
  pt::Segment s = words_segment("بله");
  auto cues = pt::shape_cues(s, 10 * kSecond, 10 * kSecond + 400 * kMsecond, cs);
  fail_unless_equals_int(cues.size(), 1);
  fail_unless_equals_uint64(cues[0].start, 10 * kSecond);
  /* 0.4 s of speech is shown for the minimum 1 s */
  fail_unless_equals_uint64(cues[0].end, 11 * kSecond);
  fail_unless(cues[0].extended);
  assert_text(cues[0].text(false), "بله");

  /* Two lines, balanced, for a 46-character sentence */
  s = words_segment("سلام، به آزمایش رونویسی گفتار فارسی خوش آمدید.");
  cues = pt::shape_cues(s, 0, 4 * kSecond, cs);
  fail_unless_equals_int(cues.size(), 1);
  fail_unless_equals_int(cues[0].lines.size(), 2);
  fail_if(cues[0].extended);
  size_t a = pt::utf8_chars(cues[0].lines[0]), b = pt::utf8_chars(cues[0].lines[1]);
  fail_unless(a <= 42 && b <= 42);
  fail_unless(a > b ? a - b <= 10 : b - a <= 10, "unbalanced: %zu / %zu", a, b);
  assert_text(join_cues(cues), s.text);
}
GST_END_TEST;

GST_START_TEST(test_cues_long_segment_by_characters)
{
  pt::CueSettings cs;
  std::string raw;
  const char *words[] = {"امروز",
                         "هوا",
                         "آفتابی",
                         "است",
                         "و",
                         "ما",
                         "در",
                         "پارک",
                         "قدم",
                         "می‌زنیم،",
                         "سپس",
                         "به",
                         "خانه",
                         "برمی‌گردیم",
                         "و",
                         "شام",
                         "می‌خوریم."};
  for (int r = 0; r < 3; ++r)
    for (const char *w : words)
      raw += (raw.empty() ? "" : " ") + std::string(w);
  pt::Segment s = words_segment(raw.c_str());
  uint64_t start = 3 * kSecond, end = start + 20 * kSecond;
  auto cues = pt::shape_cues(s, start, end, cs);
  fail_unless(cues.size() >= 3, "%zu cues", cues.size());
  fail_unless_equals_uint64(cues.front().start, start);
  fail_unless_equals_uint64(cues.back().end, end);
  for (size_t i = 0; i < cues.size(); ++i) {
    fail_unless(cues[i].lines.size() <= 2);
    for (auto &l : cues[i].lines)
      fail_unless(pt::utf8_chars(l) <= 42, "line of %zu chars", pt::utf8_chars(l));
    fail_unless(cues[i].end - cues[i].start <= 7 * kSecond);
    fail_unless(cues[i].end - cues[i].start >= 1 * kSecond);
    if (i > 0)
      fail_unless(cues[i].start >= cues[i - 1].end, "cues overlap");
  }
  /* every word, in logical order, with the ZWNJ inside its word */
  assert_text(join_cues(cues), s.text);
  fail_unless(join_cues(cues).find("می\u200cزنیم") != std::string::npos);
  /* no bidi control characters were added */
  for (const char *bidi : {"\u200e", "\u200f", "\u202a", "\u202b", "\u2066", "\u2067"})
    fail_unless(join_cues(cues).find(bidi) == std::string::npos);
}
GST_END_TEST;

/* One long sentence of four clauses in a 12 s segment (the issue's own
 * case: the greedy packer gave 79, 77 and 5 characters, cut mid-clause,
 * with «نیست.» alone on the last screen).  Cues now end at clause
 * boundaries (punctuation, or before a conjunction), are balanced, and no
 * cue is a single word. */
GST_START_TEST(test_cues_break_at_clauses)
{
  pt::CueSettings cs;
  const char *sentence =
      "وقتی به خانه رسیدیم باران شدیدی می‌بارید و ما با "
      "لباس‌های "
      "خیس "
      "از "
      "پله‌ها "
      "بالا "
      "رفتیم، "
      "ناگهان برق رفت و همه جا در تاریکی فرو رفت، اما هیچ‌کس "
      "از "
      "این "
      "تاریکی "
      "نترسید "
      "چون "
      "این "
      "اتفاق برای ما تازه نیست.";
  pt::Segment s = words_segment(sentence);
  auto cues = pt::shape_cues(s, 0, 12 * kSecond, cs);
  assert_text(join_cues(cues), s.text);
  fail_unless(cues.size() >= 2, "%zu cues", cues.size());
  const char *joiners[] = {"و", "که", "تا", "از", "با", "به", "در", "برای", "اما", "ولی", "چون"};
  size_t shortest = SIZE_MAX, longest = 0;
  for (size_t i = 0; i < cues.size(); ++i) {
    std::string text = cues[i].text(false);
    std::replace(text.begin(), text.end(), '\n', ' ');
    const size_t chars = pt::utf8_chars(text);
    shortest = std::min(shortest, chars);
    longest = std::max(longest, chars);
    fail_unless(text.find(' ') != std::string::npos, "a one-word cue: %s", text.c_str());
    if (i + 1 < cues.size()) {
      /* the cue ends with punctuation, or the next starts with a conjunction */
      const bool punct = g_str_has_suffix(text.c_str(), "،") || g_str_has_suffix(text.c_str(), ".");
      std::string next = cues[i + 1].lines[0];
      std::string first = next.substr(0, next.find(' '));
      bool joiner = false;
      for (const char *j : joiners)
        joiner = joiner || first == j;
      fail_unless(punct || joiner, "cue %zu ends mid-clause: «%s» | «%s»", i, text.c_str(),
                  next.c_str());
    }
  }
  fail_unless(longest <= 2 * shortest, "unbalanced cues: %zu to %zu characters", shortest, longest);
}
GST_END_TEST;

/* Timing for reading: a dense cue stays longer, into the silence after its
 * speech, never starting before it; consecutive cues keep 80 ms apart;
 * max_chars_per_second 0 turns the lengthening off. */
GST_START_TEST(test_cues_reading_speed)
{
  pt::CueSettings cs;
  /* 46 characters spoken in 1 s: 46 / 17 = 2.705 s to read */
  pt::Segment s = words_segment("سلام، به آزمایش رونویسی گفتار فارسی خوش آمدید.");
  auto cues = pt::shape_cues(s, 5 * kSecond, 6 * kSecond, cs);
  fail_unless_equals_int(cues.size(), 1);
  fail_unless_equals_uint64(cues[0].start, 5 * kSecond);
  const size_t chars = pt::utf8_chars(cues[0].text(false));
  fail_unless_equals_uint64(cues[0].end, 5 * kSecond + chars * kSecond / 17);
  fail_unless(cues[0].extended, "the last cue may be cut by the next segment's");
  cs.max_chars_per_second = 0;
  cues = pt::shape_cues(s, 5 * kSecond, 6 * kSecond, cs);
  fail_unless_equals_uint64(cues[0].end, 6 * kSecond);

  /* Within a segment: each cue ends 80 ms before the next starts */
  pt::CueSettings narrow;
  narrow.max_line_chars = 20;
  narrow.max_lines = 1;
  pt::Segment t = words_segment(
      "امروز هوا آفتابی است و ما در پارک قدم می‌زنیم، سپس "
      "به "
      "خانه "
      "می‌رویم.");
  cues = pt::shape_cues(t, 0, 4 * kSecond, narrow);
  fail_unless(cues.size() >= 3, "%zu cues", cues.size());
  for (size_t i = 0; i + 1 < cues.size(); ++i) {
    fail_unless(cues[i].end + pt::kCueGap <= cues[i + 1].start,
                "cue %zu ends at %" G_GUINT64_FORMAT " ms, the next starts at %" G_GUINT64_FORMAT
                " ms",
                i, cues[i].end / kMsecond, cues[i + 1].start / kMsecond);
    fail_unless(cues[i].end > cues[i].start);
  }
  /* never before the speech */
  fail_unless_equals_uint64(cues[0].start, 0);
  assert_text(join_cues(cues), t.text);
}
GST_END_TEST;

GST_START_TEST(test_cues_word_times_and_limits)
{
  /* Nevisa-like word times: cue boundaries follow them */
  pt::Segment s = words_segment("یک دو سه چهار پنج شش");
  for (size_t i = 0; i < s.words.size(); ++i) {
    s.words[i].start = i * 2 * kSecond;
    s.words[i].end = i * 2 * kSecond + 1500 * kMsecond;
  }
  pt::CueSettings cs;
  auto cues = pt::shape_cues(s, 100 * kSecond, 100 * kSecond + 11500 * kMsecond, cs);
  /* 7 s at most: "یک دو سه چهار" spans 0..7.5 s, so it splits */
  fail_unless(cues.size() >= 2);
  fail_unless_equals_uint64(cues[0].start, 100 * kSecond);
  for (auto &c : cues)
    fail_unless(c.end - c.start <= 7 * kSecond);
  fail_unless_equals_uint64(cues[1].start % kSecond, 0);
  /* the end of the last cue is its last word's end */
  fail_unless_equals_uint64(cues.back().end, 100 * kSecond + 11500 * kMsecond);

  /* Property limits: 1 line of 10 characters */
  cs.max_lines = 1;
  cs.max_line_chars = 10;
  pt::Segment t = words_segment("این یک جمله نسبتا طولانی برای آزمایش است");
  cues = pt::shape_cues(t, 0, 10 * kSecond, cs);
  for (auto &c : cues) {
    fail_unless_equals_int(c.lines.size(), 1);
    fail_unless(pt::utf8_chars(c.lines[0]) <= 10 || c.lines[0].find(' ') == std::string::npos);
  }
  assert_text(join_cues(cues), t.text);
}
GST_END_TEST;

GST_START_TEST(test_cues_punctuation_and_mixed_text)
{
  pt::CueSettings cs;
  cs.max_line_chars = 12;
  /* Punctuation the service spaced out stays with its word */
  pt::Segment s = words_segment("او گفت « سلام » ، و رفت ؟ نسخه 3.2 از GStreamer");
  auto cues = pt::shape_cues(s, 0, 6 * kSecond, cs);
  std::string all;
  for (auto &c : cues)
    for (auto &l : c.lines) {
      /* no line starts with a closing mark or ends with an opening one */
      fail_if(g_str_has_prefix(l.c_str(), "»") || g_str_has_prefix(l.c_str(), "،") ||
                  g_str_has_prefix(l.c_str(), "؟"),
              "line starts with punctuation: %s", l.c_str());
      fail_if(g_str_has_suffix(l.c_str(), "«"), "line ends with «: %s", l.c_str());
      all += (all.empty() ? "" : " ") + l;
    }
  fail_unless(all.find("«سلام»،") != std::string::npos, "%s", all.c_str());
  fail_unless(all.find("رفت؟") != std::string::npos, "%s", all.c_str());
  /* Latin and digits keep their logical place */
  fail_unless(all.find("نسخه 3.2 از GStreamer") != std::string::npos ||
                  all.find("3.2 از GStreamer") != std::string::npos,
              "%s", all.c_str());

  /* Markup per line: escaped, uncertain words in italics */
  pt::Segment m = words_segment("[حکایت] <b> & نقل");
  auto mc = pt::shape_cues(m, 0, 2 * kSecond, pt::CueSettings());
  assert_text(mc[0].text(true), "<i>حکایت</i> &lt;b&gt; &amp; نقل");
  assert_text(mc[0].text(false), "حکایت <b> & نقل");
}
GST_END_TEST;

/* Nevisa's live messages: control subjects, interim text, final results
 * with Vosk word lists (times in seconds), and hostile variants. */
GST_START_TEST(test_nevisa_live_messages)
{
  auto msg = [](const std::string &s) { return pt::parse_nevisa_live_message(s.data(), s.size()); };
  using K = pt::NevisaLiveMessage::Kind;
  pt::NevisaLiveMessage m = msg("{\"subject\":\"INIT\"}");
  fail_unless(m.kind == K::Subject);
  fail_unless_equals_string((m.subject).c_str(), "INIT");
  m = msg("{\"subject\":\"SOES-RESPONSE\",\"status\":\"OK\"}");
  fail_unless(m.kind == K::Subject);
  fail_unless_equals_string((m.subject).c_str(), "SOES-RESPONSE");

  m = msg("{\"transcription\":{\"partial\":\"امروز هوا\"}}");
  fail_unless(m.kind == K::Partial);
  fail_unless_equals_string((m.text).c_str(), "امروز هوا");

  m =
      msg("{\"transcription\":{\"result\":[{\"conf\":0.93,\"start\":1.2,\"end\":1.6,"
          "\"word\":\"امروز\"},{\"conf\":0.41,\"start\":1.6,\"end\":2.05,\"word\":\"هوا\"},"
          "{\"conf\":1,\"start\":2.1,\"end\":2.6,\"word\":\"آفتابی\"},"
          "{\"conf\":0.8,\"start\":2.6,\"end\":3,\"word\":\"است\"}],"
          "\"text\":\"امروز هوا آفتابی است\"}}");
  fail_unless(m.kind == K::Final, "%s", m.error.c_str());
  fail_unless_equals_string((m.text).c_str(), "امروز هوا آفتابی است");
  fail_unless_equals_int(m.words.size(), 4);
  fail_unless_equals_uint64(m.words[0].start, 1200 * GST_MSECOND);
  fail_unless_equals_uint64(m.words[3].end, 3 * GST_SECOND);
  fail_unless(m.words[1].confidence > 0.40 && m.words[1].confidence < 0.42);
  fail_unless_equals_string((m.words[2].text).c_str(), "آفتابی");

  /* a final without a word list, and one with "result": true */
  m = msg("{\"transcription\":{\"result\":true,\"text\":\"سلام دنیا\"}}");
  fail_unless(m.kind == K::Final && m.words.empty());
  fail_unless_equals_string((m.text).c_str(), "سلام دنیا");
  /* no text: the words make it */
  m = msg("{\"transcription\":{\"result\":[{\"start\":0.5,\"end\":0.9,\"word\":\"سلام\"}]}}");
  fail_unless(m.kind == K::Final);
  fail_unless_equals_string((m.text).c_str(), "سلام");
  /* an empty list is not a final: it is a partial (here without text) */
  m = msg("{\"transcription\":{\"result\":[],\"partial\":\"سل\"}}");
  fail_unless(m.kind == K::Partial);

  /* hostile: each one Malformed with a message naming what is wrong,
   * never a crash or a critical */
  const char *bad[][2] = {
      {"not json", "not JSON"},
      {"[1,2]", "not a JSON object"},
      {"{\"subject\": 5}", "\"subject\" is a number"},
      {"{\"transcription\": \"x\"}", "\"transcription\" is a string"},
      {"{\"transcription\": {\"result\": \"yes\", \"text\": \"x\"}}", "\"result\" is a string"},
      {"{\"transcription\": {\"partial\": 7}}", "\"partial\" is a number"},
      {"{\"other\": 1}", "neither"},
      {"{\"transcription\":{\"result\":true,\"text\":\"\\ud800\"}}", "surrogate"},
  };
  for (auto &b : bad) {
    m = msg(b[0]);
    fail_unless(m.kind == K::Malformed, "%s", b[0]);
    fail_unless(m.error.find(b[1]) != std::string::npos, "%s: %s", b[0], m.error.c_str());
  }
  /* words of the wrong type are skipped with a reason, the rest kept */
  m = msg(
      "{\"transcription\":{\"result\":[{\"word\":5,\"start\":0,\"end\":1},"
      "{\"word\":\"خوب\",\"start\":\"x\",\"end\":1},{\"word\":\"است\",\"start\":1,\"end\":1.5}],"
      "\"text\":\"خوب است\"}}");
  fail_unless(m.kind == K::Final);
  fail_unless_equals_int(m.words.size(), 1);
  fail_unless_equals_int(m.skipped.size(), 2);
  /* deep nesting is refused before json-glib sees it */
  std::string deep =
      "{\"transcription\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  m = msg(deep);
  fail_unless(m.kind == K::Malformed);
  fail_unless(m.error.find("deeper than 64") != std::string::npos, "%s", m.error.c_str());
}
GST_END_TEST;

#ifndef assert_equals_std_string
#define assert_equals_std_string(a, b)                             \
  do {                                                             \
    std::string _a = (a), _b = (b);                                \
    fail_unless(_a == _b, "'%s' != '%s'", _a.c_str(), _b.c_str()); \
  } while (0)
#endif

/* Persian script normalised with real sentences: each rule, and what it
 * must leave alone. */
GST_START_TEST(test_persian_normalize)
{
  using pt::DigitStyle;
  auto norm = [](const char *in, DigitStyle d = DigitStyle::Persian) {
    return pt::normalize_persian(in, d);
  };
  const char *cases[][2] = {
      /* the seed's own Harf example: a space where Persian has a ZWNJ */
      {"او می گفت که نمی داند", "او می\u200Cگفت که نمی\u200Cداند"},
      /* Arabic kaf and yeh, and a plural suffix */
      {"كتاب هاي خوبي خريدم", "کتاب\u200Cهای خوبی خریدم"},
      {"این راه کوتاه تر و آن یکی بزرگ ترین است",
       "این راه کوتاه\u200Cتر و آن یکی بزرگ\u200Cترین است"},
      {"درخت ها و گل هایی که کاشتیم", "درخت\u200Cها و گل\u200Cهایی که کاشتیم"},
      /* diacritics and the tatweel */
      {"کِتابْ را بـخوان", "کتاب را بخوان"},
      {"عِلْمٌ نور است", "علم نور است"},
      /* spaces around punctuation */
      {"سلام ، دنیا !", "سلام، دنیا!"},
      {"آیا آمدی ؟ بله .", "آیا آمدی؟ بله."},
      {"سلام،دنیا", "سلام، دنیا"},
      {"( خیلی خوب ) و « عالی »", "(خیلی خوب) و «عالی»"},
      {"  فاصله   های   زیاد  ", "فاصله\u200Cهای زیاد"},
      /* a ZWNJ next to a space, or doubled */
      {"می\u200C گفت", "می\u200Cگفت"},
      {"نامه\u200C\u200Cها", "نامه\u200Cها"},
      /* left alone: می as the last word, a prefix before a Latin word,
       * a decimal point and a time */
      {"این همان می", "این همان می"},
      {"می Play", "می Play"},
      {"۳.۵ درصد در ساعت ۱۰:۳۰", "۳.۵ درصد در ساعت ۱۰:۳۰"},
  };
  for (auto &c : cases)
    assert_equals_std_string(norm(c[0]), c[1]);

  /* digits: one script, by the setting; a number inside a Latin word stays
   * Latin */
  const char *mixed = "سال 1402 و ۱۴۰۳ و ١٤٠٤ با فایل MP3";
  assert_equals_std_string(norm(mixed), "سال ۱۴۰۲ و ۱۴۰۳ و ۱۴۰۴ با فایل MP3");
  assert_equals_std_string(norm(mixed, DigitStyle::Latin), "سال 1402 و 1403 و 1404 با فایل MP3");
  assert_equals_std_string(norm(mixed, DigitStyle::AsReceived), mixed);

  /* a segment: text and words normalised, raw text kept, words joined by a
   * ZWNJ become one word with the first start and the last end */
  pt::Segment seg;
  seg.raw_text = "او مي گفت";
  seg.text = seg.raw_text;
  seg.words = {{"او", 0, 300 * GST_MSECOND, 0.9, false},
               {"مي", 400 * GST_MSECOND, 500 * GST_MSECOND, 0.8, false},
               {"گفت", 500 * GST_MSECOND, 900 * GST_MSECOND, 0.4, true}};
  pt::normalize_segment(seg, DigitStyle::Persian);
  assert_equals_std_string(seg.raw_text, "او مي گفت");
  assert_equals_std_string(seg.text, "او می\u200Cگفت");
  fail_unless_equals_int(seg.words.size(), 2);
  assert_equals_std_string(seg.words[1].text, "می\u200Cگفت");
  fail_unless_equals_uint64(seg.words[1].start, 400 * GST_MSECOND);
  fail_unless_equals_uint64(seg.words[1].end, 900 * GST_MSECOND);
  fail_unless(seg.words[1].uncertain && seg.words[1].confidence == 0.4);
}
GST_END_TEST;

/* skip-silence: 16 kHz, 1 s windows; a window of silence, or of speech-level
 * tone somewhere inside it. */
static const double kSilenceDbfs = pt::Settings().silence_threshold_dbfs;

static pt::Window gate_window(bool speech, double tone_dbfs = -30.0, double noise_dbfs = -70.0)
{
  const size_t n = 16000;
  pt::Window w(n * 2);
  const double noise = 32768.0 * pow(10.0, noise_dbfs / 20.0) * sqrt(2.0);
  const double tone = 32768.0 * pow(10.0, tone_dbfs / 20.0) * sqrt(2.0);
  for (size_t i = 0; i < n; ++i) {
    double v = noise * sin(2 * G_PI * 50.0 * double(i) / 16000.0);
    /* speech: 60 ms of a 300 Hz tone, late in the window */
    if (speech && i >= 12000 && i < 12960)
      v = tone * sin(2 * G_PI * 300.0 * double(i) / 16000.0);
    const auto s = int16_t(lrint(v));
    w[2 * i] = uint8_t(uint16_t(s) & 0xff);
    w[2 * i + 1] = uint8_t(uint16_t(s) >> 8);
  }
  return w;
}

GST_START_TEST(test_silence_gate_speech)
{
  pt::SilenceGate g(16000, 1000, kSilenceDbfs, 2000);
  pt::Window quiet = gate_window(false);
  pt::Window burst = gate_window(true);
  fail_if(g.is_speech(quiet.data(), quiet.size()), "-70 dBFS noise is speech");
  fail_unless(g.is_speech(burst.data(), burst.size()), "60 ms at -30 dBFS is not speech");
  pt::Window soft = gate_window(true, -45.0);
  fail_unless(g.is_speech(soft.data(), soft.size()), "-45 dBFS speech is taken for silence");
  pt::Window below = gate_window(true, -55.0);
  fail_if(g.is_speech(below.data(), below.size()), "-55 dBFS is speech at a -50 dBFS threshold");
  /* a frame shorter than 20 ms at the end is judged by its own length */
  pt::Window tail(100 * 2, 0);
  for (size_t i = 0; i < 100; ++i) {
    const auto s = int16_t(8000 * ((i & 1) ? 1 : -1));
    tail[2 * i] = uint8_t(uint16_t(s) & 0xff);
    tail[2 * i + 1] = uint8_t(uint16_t(s) >> 8);
  }
  fail_unless(g.is_speech(tail.data(), tail.size()), "a loud short window is not speech");
  fail_if(g.is_speech(tail.data(), 0), "no samples is speech");
}
GST_END_TEST;

GST_START_TEST(test_silence_gate_keeps_speech_and_its_edges)
{
  /* 1 s windows, pauses skipped from 2 s (gap-threshold): q q S q q q q S
   * q q q q q q q S q q.  One hangover window after speech (500 ms rounds up
   * to one window) and the window before speech are always kept; a pause of
   * 4 windows is sent (3 after the hangover: too short to skip); one of 7
   * loses its inside (5 windows), counted before the onset's window.  The
   * leading silence is too short to skip; the trailing one is dropped at
   * the end. */
  pt::SilenceGate g(16000, 1000, kSilenceDbfs, 2000);
  const bool speech[] = {false, false, true,  false, false, false, false, true,  false,
                         false, false, false, false, false, false, true,  false, false};
  std::vector<pt::SilenceGate::Out> out;
  std::vector<size_t> sent_at; /* index of each window sent */
  std::vector<uint64_t> skips; /* its skipped_bytes */
  size_t before = 0;
  for (size_t i = 0; i < G_N_ELEMENTS(speech); ++i) {
    pt::Window w = gate_window(speech[i]);
    w[0] = uint8_t(i); /* tag: which window this is (one sample, inaudible) */
    g.push(std::move(w), out);
    for (; before < out.size(); ++before) {
      sent_at.push_back(out[before].window[0]);
      skips.push_back(out[before].skipped_bytes);
    }
  }
  const uint64_t win = 32000;
  const std::vector<size_t> want_at = {0, 1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16};
  const std::vector<uint64_t> want_skips = {0, 0, 0, 0, 0, 0, 0, 0, 0, 5 * win, 0, 0};
  fail_unless(sent_at == want_at, "windows sent: %zu", sent_at.size());
  fail_unless(skips == want_skips, "skips differ");
  fail_unless_equals_uint64(g.finish(), win); /* the last, held for an onset */
  fail_unless_equals_uint64(g.bytes_in(), 18 * win);
  fail_unless_equals_uint64(g.bytes_out(), 12 * win);
  /* every byte is either sent or counted as skipped */
  uint64_t skipped = win;
  for (uint64_t s : skips)
    skipped += s;
  fail_unless_equals_uint64(skipped + g.bytes_out(), g.bytes_in());

  /* speech throughout: everything goes, nothing is held */
  g.reset();
  out.clear();
  for (int i = 0; i < 5; ++i)
    g.push(gate_window(true), out);
  fail_unless_equals_int(out.size(), 5);
  fail_unless_equals_uint64(g.finish(), 0);

  /* 250 ms windows: the hangover is two windows (500 ms); from 500 ms on
   * a pause is skipped */
  pt::SilenceGate quarter(16000, 250, kSilenceDbfs, 500);
  out.clear();
  pt::Window loud(8000, 0);
  for (size_t i = 0; i < 4000; ++i) {
    const auto s = int16_t((i & 1) ? 3000 : -3000);
    loud[2 * i] = uint8_t(uint16_t(s) & 0xff);
    loud[2 * i + 1] = uint8_t(uint16_t(s) >> 8);
  }
  quarter.push(loud, out);
  for (int i = 0; i < 6; ++i)
    quarter.push(pt::Window(8000, 0), out);
  fail_unless_equals_int(out.size(), 3); /* the speech and two hangover windows */
  fail_unless_equals_uint64(quarter.finish(), 4 * 8000);
}
GST_END_TEST;

static Suite *core_suite(void)
{
  Suite *s = suite_create("core");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_time_values);
  tcase_add_test(tc, test_time_cuts);
  tcase_add_test(tc, test_windower_drain_unfed);
  tcase_add_test(tc, test_engine_with_fake_backend);
  tcase_add_test(tc, test_service_answers);
  tcase_add_test(tc, test_nevisa_live_messages);
  tcase_add_test(tc, test_nevisa_long_answer_one_word_at_a_time);
  tcase_add_test(tc, test_nevisa_answer_on_disk);
  tcase_add_test(tc, test_harf_answer_on_disk);
  tcase_add_test(tc, test_persian_normalize);
  tcase_add_test(tc, test_impossible_times);
  tcase_add_test(tc, test_wav_header);
  tcase_add_test(tc, test_uncertainty_and_markup);
  tcase_add_test(tc, test_harf_replies);
  tcase_add_test(tc, test_segment_tracker);
  tcase_add_test(tc, test_windower);
  tcase_add_test(tc, test_windower_matches_audioconvert_audioresample);
  tcase_add_test(tc, test_settings_validation);
  tcase_add_test(tc, test_cues_short_and_min_duration);
  tcase_add_test(tc, test_cues_long_segment_by_characters);
  tcase_add_test(tc, test_cues_break_at_clauses);
  tcase_add_test(tc, test_cues_reading_speed);
  tcase_add_test(tc, test_cues_word_times_and_limits);
  tcase_add_test(tc, test_cues_punctuation_and_mixed_text);
  tcase_add_test(tc, test_silence_gate_speech);
  tcase_add_test(tc, test_silence_gate_keeps_speech_and_its_edges);
  return s;
}

GST_CHECK_MAIN(core);
