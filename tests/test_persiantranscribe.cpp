// SPDX-License-Identifier: LGPL-2.1-or-later
/* persiantranscribe against the in-process emulator, through GstHarness. */
#include "cue_shaper.h"
#include "test_helpers.h"

#include <algorithm>

using namespace testutil;

namespace {

struct Run {
  std::vector<GstEvent *> events;
  std::vector<GstBuffer *> buffers;
  std::vector<GstStructure *> messages;
  std::vector<GstMessage *> others; /* warnings, errors, ... */

  ~Run()
  {
    free_events(events);
    for (auto *b : buffers)
      gst_buffer_unref(b);
    free_structures(messages);
    for (auto *m : others)
      gst_message_unref(m);
  }
  size_t count(GstMessageType t) const
  {
    size_t n = 0;
    for (auto *m : others)
      n += GST_MESSAGE_TYPE(m) == t;
    return n;
  }
};

struct Input {
  GstAudioFormat fmt = GST_AUDIO_FORMAT_S16LE;
  int rate = 16000;
  int channels = 1;
  std::vector<Burst> pattern = three_sentences();
  GstClockTime first_pts = 0;
  const char *sink_caps = nullptr; /* what the harness sink accepts */
};

/* Streams the input through persiantranscribe and collects everything. */
void run_stream(emu::Emulator &e, const Input &in, Run &out,
                void (*configure)(GstElement *) = nullptr)
{
  GstBus *bus;
  GstElement *el = make_element("persiantranscribe", e, &bus);
  if (configure)
    configure(el);
  GstHarness *h = gst_harness_new_with_element(el, "sink", "src");
  if (in.sink_caps)
    gst_harness_set_sink_caps_str(h, in.sink_caps);
  gst_harness_play(h);
  gst_harness_set_src_caps(h, audio_caps(in.fmt, in.rate, in.channels));
  push_audio(h, in.fmt, in.rate, in.channels, make_audio(in.fmt, in.rate, in.channels, in.pattern),
             in.first_pts);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  out.events = pull_events_until_eos(h);
  out.buffers = pull_all_buffers(h);
  out.messages = pop_transcriptions(bus, &out.others);
  teardown_element(h, el, bus);
}

guint64 get_u64(const GstStructure *s, const char *f)
{
  guint64 v = 0;
  fail_unless(gst_structure_get_uint64(s, f, &v), "no %s", f);
  return v;
}

std::string get_str(const GstStructure *s, const char *f)
{
  const gchar *v = gst_structure_get_string(s, f);
  fail_unless(v != nullptr, "no %s", f);
  return v;
}

gboolean get_bool(const GstStructure *s, const char *f)
{
  gboolean v = FALSE;
  fail_unless(gst_structure_get_boolean(s, f, &v), "no %s", f);
  return v;
}

/* The script line with the brackets taken out */
std::string unbracket(const std::string &s)
{
  std::string o;
  for (char c : s)
    if (c != '[' && c != ']')
      o += c;
  return o;
}

}  // namespace

/* One WAV header with the right fields, then 16 kHz mono PCM whose length
 * matches the input's duration to within one window; finalize once, last. */
static void check_wire(const emu::SessionRecord &r, double input_seconds, size_t window_bytes)
{
  fail_unless(r.header.valid, "header: %s", r.header.error.c_str());
  fail_unless_equals_int(r.header.audio_format, 1);
  fail_unless_equals_int(r.header.channels, 1);
  fail_unless_equals_int(r.header.rate, 16000);
  fail_unless_equals_int(r.header.bits, 16);
  double expected = input_seconds * 32000;
  fail_unless(std::fabs((double)r.pcm_bytes - expected) <= (double)window_bytes,
              "PCM %" G_GUINT64_FORMAT " bytes, expected %.0f", r.pcm_bytes, expected);
  fail_unless(r.binary_sizes.size() >= 2);
  fail_unless_equals_int(r.binary_sizes[0], 44 + window_bytes);
  for (size_t i = 1; i + 1 < r.binary_sizes.size(); ++i)
    fail_unless_equals_int(r.binary_sizes[i], window_bytes);
  fail_unless(r.binary_sizes.back() <= window_bytes && r.binary_sizes.back() > 0);
  fail_unless_equals_int(r.finalize_count, 1);
  fail_if(r.binary_after_finalize);
  fail_unless(r.other_text.empty());
  fail_unless(r.authorization == std::string("Token ") + kToken);
}

static void check_format(GstAudioFormat fmt, int rate, int channels)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  Input in;
  in.fmt = fmt;
  in.rate = rate;
  in.channels = channels;
  Run run;
  run_stream(e, in, run);
  fail_unless(e.wait_closed(1, 10000));
  auto sessions = e.sessions();
  fail_unless_equals_int(sessions.size(), 1);
  check_wire(sessions[0], total_seconds(in.pattern), 32000);
  /* the emulator found the three tone bursts in the converted audio */
  fail_unless_equals_int(run.messages.size(), 3);
}

GST_START_TEST(test_format_s16_16k_mono)
{
  check_format(GST_AUDIO_FORMAT_S16LE, 16000, 1);
}
GST_END_TEST;

GST_START_TEST(test_format_f32_44k_stereo)
{
  check_format(GST_AUDIO_FORMAT_F32LE, 44100, 2);
}
GST_END_TEST;

GST_START_TEST(test_format_s16_48k_6ch)
{
  check_format(GST_AUDIO_FORMAT_S16LE, 48000, 6);
}
GST_END_TEST;

GST_START_TEST(test_format_f64_8k_and_s32_96k)
{
  check_format(GST_AUDIO_FORMAT_F64LE, 8000, 1);
  check_format(GST_AUDIO_FORMAT_S32LE, 96000, 2);
}
GST_END_TEST;

static void set_window_250(GstElement *el)
{
  g_object_set(el, "window-duration", 250u, nullptr);
}

GST_START_TEST(test_window_duration)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  Input in;
  in.fmt = GST_AUDIO_FORMAT_F32LE;
  in.rate = 44100;
  in.channels = 2;
  Run run;
  run_stream(e, in, run, set_window_250);
  fail_unless(e.wait_closed(1, 10000));
  auto s = e.sessions();
  check_wire(s[0], total_seconds(in.pattern), 8000);
  fail_unless(s[0].binary_sizes.size() >= 26);
}
GST_END_TEST;

/* Messages and buffers carry the emulator's times, placed after the first PTS. */
/* What a cue's buffer lasts under the reading rules (cue_shaper.h), for a
 * cue of text covering the speech [ts, ts + dur), followed by the next cue
 * at next_ts (GST_CLOCK_TIME_NONE: none): at least the speech, 1 s and the
 * time 17 characters a second need, then 80 ms before the next cue. */
static guint64 expected_duration(const std::string &text, guint64 ts, guint64 dur, guint64 next_ts)
{
  pt::CueSettings cs;
  guint64 end = pt::reading_end(ts, ts + dur, pt::utf8_chars(text), cs);
  if (GST_CLOCK_TIME_IS_VALID(next_ts) && next_ts > ts)
    end = pt::end_before(ts, end, next_ts);
  return end - ts;
}

GST_START_TEST(test_messages_and_buffer_times)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  Input in;
  in.first_pts = 5 * GST_SECOND;
  Run run;
  run_stream(e, in, run);
  fail_unless(e.wait_closed(1, 10000));
  auto sess = e.sessions();
  const auto &sent = sess[0].segments;
  auto script = persian_script();
  fail_unless_equals_int(sent.size(), 3);
  fail_unless_equals_int(run.messages.size(), 3);
  fail_unless_equals_int(run.buffers.size(), 3);
  const guint64 media_end =
      5 * GST_SECOND + (guint64)(total_seconds(three_sentences()) * GST_SECOND);

  for (size_t i = 0; i < 3; ++i) {
    const GstStructure *m = run.messages[i];
    guint64 start = sent[i].start_ns, end = sent[i].end_ns;
    assert_equals_std_string(get_str(m, "raw-text").c_str(), script[i].c_str());
    assert_equals_std_string(get_str(m, "text").c_str(), unbracket(script[i]).c_str());
    assert_equals_std_string(get_str(m, "backend").c_str(), "harf-live");
    gint id = 0;
    fail_unless(gst_structure_get_int(m, "segment-id", &id));
    fail_unless_equals_int(id, sent[i].id);
    fail_unless(get_bool(m, "final"));
    fail_unless_equals_uint64(get_u64(m, "start"), start);
    fail_unless_equals_uint64(get_u64(m, "end"), end);
    fail_unless_equals_uint64(get_u64(m, "timestamp"), 5 * GST_SECOND + start);
    fail_unless_equals_uint64(get_u64(m, "running-time"), 5 * GST_SECOND + start);
    fail_unless_equals_uint64(get_u64(m, "stream-time"), 5 * GST_SECOND + start);
    fail_unless_equals_uint64(get_u64(m, "duration"), end - start);
    /* the tone bursts are at 0.5, 2.5 and 4.5 s */
    fail_unless(std::llabs((long long)start - (long long)(500 + 2000 * i) * 1000000) < 60 * 1000000,
                "segment %zu starts at %" GST_TIME_FORMAT, i, GST_TIME_ARGS(start));

    GstBuffer *b = run.buffers[i];
    fail_unless_equals_uint64(GST_BUFFER_PTS(b), 5 * GST_SECOND + start);
    /* the speech, lengthened for reading, and 80 ms before the next cue;
     * the last one no further than the end of the audio */
    const guint64 next = i + 1 < run.messages.size() ? get_u64(run.messages[i + 1], "timestamp")
                                                     : GST_CLOCK_TIME_NONE;
    guint64 want = expected_duration(get_str(m, "text"), 5 * GST_SECOND + start, end - start, next);
    if (i + 1 == run.messages.size())
      want = MIN(want, media_end - (5 * GST_SECOND + start));
    fail_unless_equals_uint64(GST_BUFFER_DURATION(b), want);
    fail_unless(GST_BUFFER_DURATION(b) >= end - start);
    fail_unless(GST_BUFFER_PTS(b) + GST_BUFFER_DURATION(b) <= media_end);
  }
  /* stream-start, caps, segment come first, EOS last */
  fail_unless_equals_int(GST_EVENT_TYPE(run.events[0]), GST_EVENT_STREAM_START);
  fail_unless_equals_int(GST_EVENT_TYPE(run.events[1]), GST_EVENT_CAPS);
  fail_unless_equals_int(GST_EVENT_TYPE(run.events[2]), GST_EVENT_SEGMENT);
  fail_unless_equals_int(GST_EVENT_TYPE(run.events.back()), GST_EVENT_EOS);
}
GST_END_TEST;

/* Speech up to 0.3 s before the end, and a line too long to read in
 * that: the last cue, held to be lengthened for reading, ends exactly with
 * the audio (an SRT made from it shows no text after the media ends). */
GST_START_TEST(test_last_cue_ends_with_the_audio)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  Input in;
  in.first_pts = 2 * GST_SECOND;
  in.pattern = {{0.5, false}, {1.0, true}, {0.3, false}};
  Run run;
  run_stream(e, in, run);
  fail_unless_equals_int(run.buffers.size(), 1);
  const guint64 media_end = in.first_pts + (guint64)(total_seconds(in.pattern) * GST_SECOND);
  GstBuffer *b = run.buffers[0];
  const GstStructure *m = run.messages[0];
  /* It would have been lengthened past the end... */
  const guint64 reading =
      expected_duration(get_str(m, "text"), get_u64(m, "timestamp"), get_u64(m, "duration"),
                        GST_CLOCK_TIME_NONE);
  fail_unless(GST_BUFFER_PTS(b) + reading > media_end, "the line is read within the audio");
  /* ...and ends with the audio instead, still covering all the speech */
  fail_unless_equals_uint64(GST_BUFFER_PTS(b), get_u64(m, "timestamp"));
  fail_unless_equals_uint64(GST_BUFFER_PTS(b) + GST_BUFFER_DURATION(b), media_end);
  fail_unless(GST_BUFFER_DURATION(b) >= get_u64(m, "duration"));
  fail_unless_equals_int(GST_EVENT_TYPE(run.events.back()), GST_EVENT_EOS);
}
GST_END_TEST;

static gboolean markup_is_valid(const std::string &text)
{
  std::string doc = "<markup>" + text + "</markup>";
  GMarkupParser parser = {};
  GMarkupParseContext *ctx =
      g_markup_parse_context_new(&parser, (GMarkupParseFlags)0, nullptr, nullptr);
  gboolean ok = g_markup_parse_context_parse(ctx, doc.c_str(), -1, nullptr) &&
                g_markup_parse_context_end_parse(ctx, nullptr);
  g_markup_parse_context_free(ctx);
  return ok;
}

GST_START_TEST(test_uncertain_words_and_markup)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  Input in;
  Run run;
  run_stream(e, in, run);
  fail_unless_equals_int(run.buffers.size(), 3);

  /* caps: pango-markup is preferred when downstream takes both */
  GstCaps *caps = nullptr;
  for (auto *ev : run.events)
    if (GST_EVENT_TYPE(ev) == GST_EVENT_CAPS)
      gst_event_parse_caps(ev, &caps);
  fail_unless(caps != nullptr);
  assert_equals_std_string(gst_structure_get_string(gst_caps_get_structure(caps, 0), "format"),
                           "pango-markup");

  std::string second = buffer_text(run.buffers[1]);
  assert_equals_std_string(second.c_str(), "سخن را سر از <i>ای</i> خردمند و بن");
  std::string third = buffer_text(run.buffers[2]);
  fail_unless(markup_is_valid(third), "invalid markup: %s", third.c_str());
  fail_unless(third.find("&lt;b&gt; &amp; \"نقل") != std::string::npos, "%s", third.c_str());
  for (auto *b : run.buffers)
    fail_unless(markup_is_valid(buffer_text(b)));

  /* words: only the bracketed one is uncertain; no times, no confidence */
  const GValue *words = gst_structure_get_value(run.messages[1], "words");
  fail_unless(words && GST_VALUE_HOLDS_ARRAY(words));
  fail_unless_equals_int(gst_value_array_get_size(words), 8);
  for (guint i = 0; i < 8; ++i) {
    const GstStructure *w = gst_value_get_structure(gst_value_array_get_value(words, i));
    fail_unless(gst_structure_has_name(w, "word"));
    fail_unless_equals_int(get_bool(w, "uncertain"), i == 4);
    fail_unless_equals_uint64(get_u64(w, "start"), GST_CLOCK_TIME_NONE);
    fail_unless_equals_uint64(get_u64(w, "end"), GST_CLOCK_TIME_NONE);
    gdouble conf = 0;
    fail_unless(gst_structure_get_double(w, "confidence", &conf));
    fail_unless(conf == -1.0);
  }
  const GstStructure *w4 = gst_value_get_structure(gst_value_array_get_value(words, 4));
  assert_equals_std_string(get_str(w4, "text").c_str(), "ای");
}
GST_END_TEST;

/* What the service sends in Arabic letters, mixed digits and spaced
 * prefixes reaches the message text, the words and the buffers normalised
 * (raw-text keeps it as sent); digits=latin and normalize=false as asked. */
static const char *const kUnnormalised[] = {
    "او مي گفت كه 3 روز در راه بود",
    "كتاب هاي ١٤٠٢ را نمی خواند",
    "دَرس ها تمام شد",
};

static void latin_digits(GstElement *el)
{
  gst_util_set_object_arg(G_OBJECT(el), "digits", "latin");
}

static void no_normalize(GstElement *el)
{
  g_object_set(el, "normalize", FALSE, nullptr);
}

GST_START_TEST(test_normalized_text)
{
  emu::Options o = default_options();
  o.script.assign(std::begin(kUnnormalised), std::end(kUnnormalised));
  emu::Emulator e(o);
  start_emulator(e);
  const char *persian[] = {"او می\u200Cگفت که ۳ روز در راه بود",
                           "کتاب\u200Cهای ۱۴۰۲ را نمی\u200Cخواند", "درس\u200Cها تمام شد"};
  const char *latin[] = {"او می\u200Cگفت که 3 روز در راه بود",
                         "کتاب\u200Cهای 1402 را نمی\u200Cخواند", "درس\u200Cها تمام شد"};
  for (int pass = 0; pass < 3; ++pass) {
    Input in;
    Run run;
    run_stream(e, in, run, pass == 0 ? nullptr : pass == 1 ? latin_digits : no_normalize);
    fail_unless_equals_int(run.messages.size(), 3);
    for (size_t i = 0; i < 3; ++i) {
      const std::string want = pass == 0 ? persian[i] : pass == 1 ? latin[i] : kUnnormalised[i];
      assert_equals_std_string(get_str(run.messages[i], "text"), want);
      assert_equals_std_string(get_str(run.messages[i], "raw-text"), kUnnormalised[i]);
      assert_equals_std_string(buffer_text(run.buffers[i]), want);
    }
    /* the words too: «می گفت» is one word */
    const GValue *words = gst_structure_get_value(run.messages[0], "words");
    const GstStructure *w1 = gst_value_get_structure(gst_value_array_get_value(words, 1));
    assert_equals_std_string(get_str(w1, "text"), pass == 2 ? "مي" : "می\u200Cگفت");
  }
}
GST_END_TEST;

/* The contract gst-plugins-rs's transcriberbin expects of a transcriber:
 * language-code exists (fa-IR by default, settable), and the text stream
 * carries a language-code tag, after its caps and segment and before its
 * first buffer. */
GST_START_TEST(test_transcriberbin_contract)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  GstElement *probe = gst_element_factory_make("persiantranscribe", nullptr);
  gchar *code = nullptr;
  g_object_get(probe, "language-code", &code, nullptr);
  assert_equals_std_string(code, "fa-IR");
  g_free(code);
  for (const char *prop : {"latency", "lateness", "language-code", "max-observed-delay"})
    fail_unless(g_object_class_find_property(G_OBJECT_GET_CLASS(probe), prop), "no %s", prop);
  gst_object_unref(probe);

  /* What the bins do, in their order, with no credentials anywhere: set
   * latency, lateness and language-code, go to PAUSED, ask the latency. */
  g_unsetenv("HARF_TOKEN");
  GstElement *pipe =
      gst_parse_launch("audiotestsrc is-live=true ! persiantranscribe name=t ! fakesink", nullptr);
  GstElement *t = gst_bin_get_by_name(GST_BIN(pipe), "t");
  g_object_set(t, "latency", 3000u, "lateness", 1000u, "language-code", "fa-IR", nullptr);
  fail_unless(gst_element_set_state(pipe, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE);
  GstState st;
  gst_element_get_state(t, &st, nullptr, 5 * GST_SECOND);
  fail_unless_equals_int(st, GST_STATE_PAUSED);
  GstQuery *q = gst_query_new_latency();
  GstPad *src = gst_element_get_static_pad(t, "src");
  /* answered although the live source upstream does not answer in PAUSED */
  fail_unless(gst_pad_query(src, q), "no answer to the LATENCY query in PAUSED");
  gboolean live;
  GstClockTime min_latency;
  gst_query_parse_latency(q, &live, &min_latency, nullptr);
  fail_unless(min_latency >= 3 * GST_SECOND, "min latency %" GST_TIME_FORMAT,
              GST_TIME_ARGS(min_latency));
  gst_query_unref(q);
  gst_object_unref(src);
  gst_element_set_state(pipe, GST_STATE_NULL);
  gst_object_unref(t);
  gst_object_unref(pipe);

  Input in;
  Run run;
  run_stream(e, in, run, [](GstElement *el) { g_object_set(el, "language-code", "fa", nullptr); });
  bool segment = false, tagged = false;
  for (auto *ev : run.events) {
    if (GST_EVENT_TYPE(ev) == GST_EVENT_SEGMENT)
      segment = true;
    if (GST_EVENT_TYPE(ev) == GST_EVENT_TAG) {
      GstTagList *tags;
      gst_event_parse_tag(ev, &tags);
      gchar *lang = nullptr;
      if (gst_tag_list_get_string(tags, GST_TAG_LANGUAGE_CODE, &lang)) {
        fail_unless(segment, "the tag came before the caps and segment");
        assert_equals_std_string(lang, "fa");
        fail_unless_equals_int(gst_tag_list_get_scope(tags), GST_TAG_SCOPE_STREAM);
        tagged = true;
      }
      g_free(lang);
    }
  }
  fail_unless(tagged, "no language-code tag on the text stream");
  fail_unless_equals_int(run.buffers.size(), 3);
}
GST_END_TEST;

static void without_rtl_marks(GstElement *el)
{
  g_object_set(el, "rtl-marks", FALSE, nullptr);
}

GST_START_TEST(test_utf8_output)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  auto script = persian_script();
  const std::string rlm = "\u200F";
  /* pass 0: rtl-marks (the default): every line between two RLMs;
   * pass 1: rtl-marks=false: plain lines */
  for (int pass = 0; pass < 2; ++pass) {
    Input in;
    in.sink_caps = "text/x-raw, format=(string)utf8";
    Run run;
    run_stream(e, in, run, pass == 0 ? nullptr : without_rtl_marks);
    fail_unless_equals_int(run.buffers.size(), 3);
    for (size_t i = 0; i < 3; ++i) {
      std::string t = buffer_text(run.buffers[i]);
      fail_unless(g_utf8_validate(t.c_str(), t.size(), nullptr));
      /* a cue of at most two lines of at most 42 characters */
      gchar **lines = g_strsplit(t.c_str(), "\n", -1);
      fail_unless(g_strv_length(lines) <= 2);
      std::string joined;
      for (gchar **l = lines; *l; ++l) {
        std::string line = *l;
        if (pass == 0) {
          fail_unless(line.size() > 2 * rlm.size() && line.compare(0, rlm.size(), rlm) == 0 &&
                          line.compare(line.size() - rlm.size(), rlm.size(), rlm) == 0,
                      "line not between two RLMs: %s", *l);
          line = line.substr(rlm.size(), line.size() - 2 * rlm.size());
        }
        fail_unless(line.find(rlm) == std::string::npos, "an RLM inside a line: %s", *l);
        fail_unless(g_utf8_strlen(line.c_str(), -1) <= 42, "line too long: %s", *l);
        joined += (joined.empty() ? "" : " ") + line;
      }
      g_strfreev(lines);
      assert_equals_std_string(joined, unbracket(script[i]));
    }
  }
}
GST_END_TEST;

static void set_partial(GstElement *el)
{
  g_object_set(el, "partial-results", TRUE, nullptr);
}

GST_START_TEST(test_revisions)
{
  emu::Options o = default_options();
  o.revisions = true;
  auto script = persian_script();

  /* Without partial results: one final message per segment, the last text */
  {
    emu::Emulator e(o);
    start_emulator(e);
    Input in;
    Run run;
    run_stream(e, in, run);
    auto sess = e.sessions();
    size_t partials = 0;
    for (auto &s : sess[0].segments)
      partials += s.partial;
    fail_unless(partials > 0, "the emulator sent no revisions");
    fail_unless_equals_int(run.messages.size(), 3);
    fail_unless_equals_int(run.buffers.size(), 3);
    for (size_t i = 0; i < 3; ++i) {
      fail_unless(get_bool(run.messages[i], "final"));
      assert_equals_std_string(get_str(run.messages[i], "raw-text").c_str(), script[i].c_str());
    }
  }
  /* With partial results: non-final revisions first, then the final text */
  {
    emu::Emulator e(o);
    start_emulator(e);
    Input in;
    Run run;
    run_stream(e, in, run, set_partial);
    size_t finals = 0, partials = 0;
    gint last_id = -1;
    for (auto *m : run.messages) {
      gint id;
      gst_structure_get_int(m, "segment-id", &id);
      if (get_bool(m, "final")) {
        assert_equals_std_string(get_str(m, "raw-text").c_str(), script[finals].c_str());
        ++finals;
      } else {
        ++partials;
        /* a partial is a prefix of its line */
        std::string t = get_str(m, "raw-text");
        fail_unless(script[id - 1].compare(0, t.size(), t) == 0, "%s", t.c_str());
      }
      fail_unless(id >= last_id);
      last_id = id;
    }
    fail_unless_equals_int(finals, 3);
    fail_unless(partials > 0);
    fail_unless_equals_int(run.buffers.size(), finals + partials);
    /* buffers never go back in time */
    for (size_t i = 1; i < run.buffers.size(); ++i)
      fail_unless(GST_BUFFER_PTS(run.buffers[i]) >= GST_BUFFER_PTS(run.buffers[i - 1]));
  }
}
GST_END_TEST;

/* ---- errors ---- */

/* harf_url: another URL than the emulator's (an unreachable one, wss://) */
static void expect_error(emu::Emulator &e, GQuark domain, gint code, const char *must_contain,
                         const char *harf_url = nullptr, void (*configure)(GstElement *) = nullptr)
{
  GstBus *bus;
  GstElement *el = make_element("persiantranscribe", e, &bus);
  g_object_set(el, "timeout", 3u, nullptr);
  if (configure)
    configure(el);
  if (harf_url)
    g_object_set(el, "harf-url", harf_url, nullptr);
  GstHarness *h = gst_harness_new_with_element(el, "sink", "src");
  gst_harness_play(h);
  gst_harness_set_src_caps(h, audio_caps(GST_AUDIO_FORMAT_S16LE, 16000, 1));
  auto audio = make_audio(GST_AUDIO_FORMAT_S16LE, 16000, 1, three_sentences());
  /* Push until the element refuses (or all of it), then end the stream */
  size_t chunk = 3200;
  for (size_t off = 0; off < audio.size(); off += chunk) {
    GstBuffer *b = gst_buffer_new_memdup(audio.data() + off, MIN(chunk, audio.size() - off));
    GST_BUFFER_PTS(b) = gst_util_uint64_scale(off / 2, GST_SECOND, 16000);
    if (gst_harness_push(h, b) != GST_FLOW_OK)
      break;
  }
  gst_harness_push_event(h, gst_event_new_eos());
  /* timeout is 3 s; 30 s here only bounds a broken build */
  GstMessage *m = wait_for(bus, GST_MESSAGE_ERROR, 30 * GST_SECOND);
  fail_unless(m != nullptr, "no error within 30 s");
  GError *err = nullptr;
  gchar *dbg = nullptr;
  gst_message_parse_error(m, &err, &dbg);
  fail_unless(err->domain == domain && err->code == code, "got %s %d: %s",
              g_quark_to_string(err->domain), err->code, err->message);
  if (must_contain)
    fail_unless(strstr(err->message, must_contain) != nullptr, "message: %s", err->message);
  fail_if(strstr(err->message, kToken) || (dbg && strstr(dbg, kToken)));
  g_clear_error(&err);
  g_free(dbg);
  gst_message_unref(m);
  teardown_element(h, el, bus);
}

GST_START_TEST(test_error_rejected_token)
{
  emu::Options o = default_options();
  o.reject_token = true;
  emu::Emulator e(o);
  start_emulator(e);
  expect_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED, "401");
  fail_unless(e.handshake_count() >= 1);
}
GST_END_TEST;

static void set_bearer(GstElement *el)
{
  g_object_set(el, "auth-scheme", 1, nullptr);
}

GST_START_TEST(test_bearer_scheme)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  Run run;
  run_stream(e, Input(), run, set_bearer);
  fail_unless_equals_int(run.messages.size(), 3);
  fail_unless(e.sessions()[0].authorization == std::string("Bearer ") + kToken);
}
GST_END_TEST;

GST_START_TEST(test_error_unreachable)
{
  /* A port that was free a moment ago: nothing listens there */
  GSocket *sock =
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, nullptr);
  GInetAddress *lo = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
  GSocketAddress *addr = g_inet_socket_address_new(lo, 0);
  fail_unless(g_socket_bind(sock, addr, TRUE, nullptr));
  GSocketAddress *bound = g_socket_get_local_address(sock, nullptr);
  guint16 port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(bound));
  g_object_unref(bound);
  g_object_unref(addr);
  g_object_unref(lo);
  g_socket_close(sock, nullptr);
  g_object_unref(sock);

  emu::Emulator e(default_options()); /* not connected to: the URL points elsewhere */
  start_emulator(e);
  std::string url = "ws://127.0.0.1:" + std::to_string(port) + "/ws_api/transcribe_files/wav/sync/";
  expect_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE, url.c_str(), url.c_str());
  fail_unless_equals_int(e.handshake_count(), 0);
}
GST_END_TEST;

GST_START_TEST(test_error_tls)
{
  /* wss:// to a plain-HTTP server: the TLS handshake fails */
  emu::Emulator e(default_options());
  start_emulator(e);
  std::string url =
      "wss://127.0.0.1:" + std::to_string(e.port()) + "/ws_api/transcribe_files/wav/sync/";
  expect_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ_WRITE, url.c_str(), url.c_str());
}
GST_END_TEST;

GST_START_TEST(test_error_missing_token)
{
  check_missing_token("persiantranscribe");
}
GST_END_TEST;

GST_START_TEST(test_error_never_answers)
{
  emu::Options o = default_options();
  o.never_answer = true;
  emu::Emulator e(o);
  start_emulator(e);
  expect_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "no reply");
}
GST_END_TEST;

GST_START_TEST(test_error_server_closes)
{
  emu::Options o = default_options();
  o.close_after = 2;
  emu::Emulator e(o);
  start_emulator(e);
  /* reconnection off: the close itself is the error (tests/test_reconnect.cpp
   * covers what reconnection does with it) */
  expect_error(e, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ, "closed the connection", nullptr,
               [](GstElement *el) { g_object_set(el, "max-reconnects", 0u, nullptr); });
}
GST_END_TEST;

GST_START_TEST(test_malformed_json_is_a_warning)
{
  emu::Options o = default_options();
  o.malformed_json = true;
  emu::Emulator e(o);
  start_emulator(e);
  Run run;
  run_stream(e, Input(), run);
  fail_unless_equals_int(run.count(GST_MESSAGE_WARNING), 1);
  fail_unless_equals_int(run.count(GST_MESSAGE_ERROR), 0);
  for (auto *m : run.others) {
    if (GST_MESSAGE_TYPE(m) != GST_MESSAGE_WARNING)
      continue;
    GError *err = nullptr;
    gchar *dbg = nullptr;
    gst_message_parse_warning(m, &err, &dbg);
    fail_unless(strstr(err->message, "malformed") != nullptr, "%s", err->message);
    fail_unless(dbg && strstr(dbg, "not JSON") != nullptr);
    g_clear_error(&err);
    g_free(dbg);
  }
  /* the stream went on: every segment still arrived */
  fail_unless_equals_int(run.messages.size(), 3);
}
GST_END_TEST;

/* ---- secrets ---- */

static GMutex log_lock;
static int token_seen_in_logs = 0;
static guint64 log_lines = 0;

static void scan_log(GstDebugCategory *, GstDebugLevel, const gchar *, const gchar *, gint,
                     GObject *, GstDebugMessage *message, gpointer)
{
  const gchar *text = gst_debug_message_get(message);
  g_mutex_lock(&log_lock);
  ++log_lines;
  if (text && strstr(text, kToken))
    ++token_seen_in_logs;
  g_mutex_unlock(&log_lock);
}

GST_START_TEST(test_token_never_logged)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  gst_debug_set_active(TRUE);
  gst_debug_add_log_function(scan_log, nullptr, nullptr);
  gst_debug_set_threshold_for_name("persiantranscribe*", GST_LEVEL_MEMDUMP);
  gst_debug_set_threshold_for_name("harfsink", GST_LEVEL_MEMDUMP);
  gst_debug_set_default_threshold(GST_LEVEL_LOG);
  {
    Run run;
    run_stream(e, Input(), run);
    fail_unless_equals_int(run.messages.size(), 3);
  }
  {
    emu::Options o = default_options();
    o.reject_token = true;
    emu::Emulator bad(o);
    start_emulator(bad);
    expect_error(bad, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED, nullptr);
  }
  gst_debug_set_default_threshold(GST_LEVEL_NONE);
  gst_debug_remove_log_function(scan_log);

  /* Reading the property back, or dumping the pipeline graph, shows that a
   * token is set, never the token */
  GstElement *pipe =
      gst_parse_launch("audiotestsrc ! persiantranscribe name=t ! fakesink", nullptr);
  GstElement *t = gst_bin_get_by_name(GST_BIN(pipe), "t");
  g_object_set(t, "token", kToken, nullptr);
  gchar *read_back = nullptr;
  g_object_get(t, "token", &read_back, nullptr);
  assert_equals_std_string(read_back, "********");
  g_free(read_back);
  gchar *dot = gst_debug_bin_to_dot_data(GST_BIN(pipe), GST_DEBUG_GRAPH_SHOW_ALL);
  fail_unless(strstr(dot, kToken) == nullptr);
  g_free(dot);
  gst_object_unref(t);
  gst_object_unref(pipe);
  g_mutex_lock(&log_lock);
  fail_unless(log_lines > 1000, "only %" G_GUINT64_FORMAT " log lines", log_lines);
  fail_unless_equals_int(token_seen_in_logs, 0);
  g_mutex_unlock(&log_lock);
}
GST_END_TEST;

/* ---- live: latency and GAP events ---- */

struct LiveProbe {
  GMutex lock;
  GCond cond;
  std::vector<GstEventType> order;
  int gaps = 0;
};

static GstPadProbeReturn record_events(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *p = static_cast<LiveProbe *>(data);
  GstEvent *ev = GST_PAD_PROBE_INFO_EVENT(info);
  g_mutex_lock(&p->lock);
  if (p->order.size() < 16)
    p->order.push_back(GST_EVENT_TYPE(ev));
  if (GST_EVENT_TYPE(ev) == GST_EVENT_GAP)
    p->gaps++;
  g_cond_broadcast(&p->cond);
  g_mutex_unlock(&p->lock);
  return GST_PAD_PROBE_OK;
}

GST_START_TEST(test_live_latency_and_gaps)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  std::string desc =
      "audiotestsrc is-live=true wave=silence samplesperbuffer=1600 ! "
      "audio/x-raw,rate=16000,channels=1 ! persiantranscribe name=t latency=300 "
      "window-duration=200 "
      "token=" +
      std::string(kToken) + " harf-url=" + e.harf_live_url() + " ! fakesink name=s async=false";
  GstElement *pipe = gst_parse_launch(desc.c_str(), nullptr);
  fail_unless(pipe != nullptr);
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipe), "s");
  GstPad *pad = gst_element_get_static_pad(sink, "sink");
  LiveProbe probe;
  g_mutex_init(&probe.lock);
  g_cond_init(&probe.cond);
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, record_events, &probe, nullptr);
  fail_unless(gst_element_set_state(pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);

  /* Silence produces no text: GAP events must keep the text stream moving */
  gint64 deadline = g_get_monotonic_time() + 20 * G_TIME_SPAN_SECOND;
  g_mutex_lock(&probe.lock);
  while (probe.gaps < 3)
    if (!g_cond_wait_until(&probe.cond, &probe.lock, deadline))
      break;
  int gaps = probe.gaps;
  auto order = probe.order;
  g_mutex_unlock(&probe.lock);
  fail_unless(gaps >= 3, "only %d GAP events", gaps);
  fail_unless_equals_int(order[0], GST_EVENT_STREAM_START);
  fail_unless_equals_int(order[1], GST_EVENT_CAPS);
  fail_unless_equals_int(order[2], GST_EVENT_SEGMENT);
  fail_unless_equals_int(order[3], GST_EVENT_TAG); /* the language-code tag */
  fail_unless_equals_int(order[4], GST_EVENT_GAP);

  /* The LATENCY query answers upstream + latency */
  GstElement *t = gst_bin_get_by_name(GST_BIN(pipe), "t");
  GstPad *tsrc = gst_element_get_static_pad(t, "src");
  GstPad *tsink = gst_element_get_static_pad(t, "sink");
  GstQuery *up = gst_query_new_latency();
  fail_unless(gst_pad_peer_query(tsink, up));
  GstClockTime up_min, up_max, min, max;
  gboolean up_live, live;
  gst_query_parse_latency(up, &up_live, &up_min, &up_max);
  GstQuery *q = gst_query_new_latency();
  fail_unless(gst_pad_query(tsrc, q));
  gst_query_parse_latency(q, &live, &min, &max);
  fail_unless(live && up_live);
  fail_unless_equals_uint64(min, up_min + 300 * GST_MSECOND);
  gst_query_unref(q);
  gst_query_unref(up);
  gst_object_unref(tsrc);
  gst_object_unref(tsink);
  gst_object_unref(t);

  fail_unless_equals_int(gst_element_set_state(pipe, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  gst_object_unref(pad);
  gst_object_unref(sink);
  gst_object_unref(pipe);
  g_mutex_clear(&probe.lock);
  g_cond_clear(&probe.cond);
}
GST_END_TEST;

/* ---- late results on live input are clamped, never dropped ---- */

/* lateness (transcriberbin sets it): text that would start further behind
 * the text stream than lateness allows is dropped, its message still
 * posted; the same late input with the default keeps every text. */
GST_START_TEST(test_lateness_drops_late_text)
{
  emu::Options o = default_options();
  o.delay_ms = 100;
  emu::Emulator e(o);
  start_emulator(e);
  GstBus *bus;
  GstElement *el = make_element("persiantranscribe", e, &bus);
  g_object_set(el, "latency", 200u, "window-duration", 500u, "lateness", 0u, nullptr);
  GstHarness *h = gst_harness_new_with_element(el, "sink", "src");
  gst_harness_set_live(h, TRUE);
  gst_harness_play(h);
  gst_harness_set_src_caps(h, audio_caps(GST_AUDIO_FORMAT_S16LE, 16000, 1));
  push_audio(h, GST_AUDIO_FORMAT_S16LE, 16000, 1,
             make_audio(GST_AUDIO_FORMAT_S16LE, 16000, 1, three_sentences()), 0);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  auto events = pull_events_until_eos(h);
  auto buffers = pull_all_buffers(h);
  auto msgs = pop_transcriptions(bus);
  fail_unless_equals_int(msgs.size(), 3);
  /* every text pushed starts where the stream was: none moved forward */
  for (auto *b : buffers) {
    bool found = false;
    for (auto *m : msgs) {
      guint64 ts;
      gst_structure_get_uint64(m, "timestamp", &ts);
      found = found || GST_BUFFER_PTS(b) == ts;
    }
    fail_unless(found, "a text at %" GST_TIME_FORMAT " was moved, not dropped",
                GST_TIME_ARGS(GST_BUFFER_PTS(b)));
  }
  fail_unless(buffers.size() < msgs.size(), "no text was dropped (%zu buffers)", buffers.size());
  guint lateness = 0;
  g_object_get(el, "lateness", &lateness, nullptr);
  fail_unless_equals_int(lateness, 0);
  free_events(events);
  for (auto *b : buffers)
    gst_buffer_unref(b);
  free_structures(msgs);
  teardown_element(h, el, bus);
}
GST_END_TEST;

GST_START_TEST(test_late_results_clamped)
{
  /* Replies are delayed while the (live) input races ahead: the text stream
   * has already been advanced by GAP events past the segments. */
  emu::Options o = default_options();
  o.delay_ms = 100;
  emu::Emulator e(o);
  start_emulator(e);
  GstBus *bus;
  GstElement *el = make_element("persiantranscribe", e, &bus);
  g_object_set(el, "latency", 200u, "window-duration", 500u, nullptr);
  /* transcriberbin watches max-observed-delay: it is notified as it grows */
  int notified = 0;
  g_signal_connect(el, "notify::max-observed-delay",
                   G_CALLBACK(+[](GObject *, GParamSpec *, gpointer n) {
                     g_atomic_int_inc(static_cast<int *>(n));
                   }),
                   &notified);
  GstHarness *h = gst_harness_new_with_element(el, "sink", "src");
  gst_harness_set_live(h, TRUE);
  gst_harness_play(h);
  gst_harness_set_src_caps(h, audio_caps(GST_AUDIO_FORMAT_S16LE, 16000, 1));
  push_audio(h, GST_AUDIO_FORMAT_S16LE, 16000, 1,
             make_audio(GST_AUDIO_FORMAT_S16LE, 16000, 1, three_sentences()), 0);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  auto events = pull_events_until_eos(h);
  auto buffers = pull_all_buffers(h);
  std::vector<GstMessage *> others;
  auto msgs = pop_transcriptions(bus, &others);

  /* The user is told: a warning names "latency", and max-observed-delay
   * shows how much would have been enough */
  size_t warnings = 0;
  for (auto *m : others) {
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_WARNING) {
      GError *err = nullptr;
      gst_message_parse_warning(m, &err, nullptr);
      fail_unless(strstr(err->message, "latency") != nullptr, "%s", err->message);
      g_clear_error(&err);
      warnings++;
    }
    gst_message_unref(m);
  }
  fail_unless(warnings >= 1);
  guint max_delay = 0;
  g_object_get(el, "max-observed-delay", &max_delay, nullptr);
  fail_unless(max_delay > 200, "max-observed-delay %u ms", max_delay);
  fail_unless(g_atomic_int_get(&notified) >= 1, "max-observed-delay was never notified");
  /* ... and a state change does not reset it */
  fail_unless_equals_int(gst_element_set_state(el, GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int(gst_element_set_state(el, GST_STATE_PAUSED), GST_STATE_CHANGE_SUCCESS);
  guint after_restart = 0;
  g_object_get(el, "max-observed-delay", &after_restart, nullptr);
  fail_unless_equals_int(after_restart, max_delay);

  /* all three segments arrived as buffers, none dropped */
  fail_unless_equals_int(msgs.size(), 3);
  fail_unless_equals_int(buffers.size(), 3);
  /* GAP events went out, and no buffer starts before the end of a gap that
   * preceded it: late text is moved forward, with its duration kept */
  guint64 gap_end = 0;
  size_t gaps = 0, bi = 0, clamped = 0;
  for (auto *ev : events) {
    if (GST_EVENT_TYPE(ev) == GST_EVENT_GAP) {
      GstClockTime ts, dur;
      gst_event_parse_gap(ev, &ts, &dur);
      gap_end = MAX(gap_end, ts + dur);
      gaps++;
    }
  }
  fail_unless(gaps > 0);
  for (bi = 0; bi < buffers.size(); ++bi) {
    guint64 ts, dur;
    gst_structure_get_uint64(msgs[bi], "timestamp", &ts);
    gst_structure_get_uint64(msgs[bi], "duration", &dur);
    fail_unless(GST_BUFFER_PTS(buffers[bi]) >= ts);
    /* moved forward with its duration kept: the cue's, lengthened for
     * reading, and ended before the next cue's (unmoved) start when that
     * result had arrived before the cue went out (else the next one is
     * moved after it, checked below) */
    guint64 next = GST_CLOCK_TIME_NONE;
    if (bi + 1 < msgs.size())
      gst_structure_get_uint64(msgs[bi + 1], "timestamp", &next);
    const gchar *text = gst_structure_get_string(msgs[bi], "text");
    const guint64 got = GST_BUFFER_DURATION(buffers[bi]);
    const guint64 full = expected_duration(text ? text : "", ts, dur, GST_CLOCK_TIME_NONE);
    const guint64 cut = expected_duration(text ? text : "", ts, dur, next);
    fail_unless(got == full || got == cut,
                "buffer %zu lasts %" GST_TIME_FORMAT ", not %" GST_TIME_FORMAT
                " (for reading) nor %" GST_TIME_FORMAT " (before the next cue)",
                bi, GST_TIME_ARGS(got), GST_TIME_ARGS(full), GST_TIME_ARGS(cut));
    clamped += GST_BUFFER_PTS(buffers[bi]) > ts;
    if (bi > 0)
      fail_unless(GST_BUFFER_PTS(buffers[bi]) >=
                  GST_BUFFER_PTS(buffers[bi - 1]) + GST_BUFFER_DURATION(buffers[bi - 1]));
  }
  fail_unless(clamped > 0, "no result was late: the test did not test clamping");
  free_events(events);
  for (auto *b : buffers)
    gst_buffer_unref(b);
  free_structures(msgs);
  teardown_element(h, el, bus);
}
GST_END_TEST;

/* ---- max-inflight pipelines windows on non-live input ---- */

static void set_inflight_4(GstElement *el)
{
  g_object_set(el, "max-inflight", 4u, "window-duration", 500u, nullptr);
}

GST_START_TEST(test_max_inflight)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  Run run;
  run_stream(e, Input(), run, set_inflight_4);
  fail_unless_equals_int(run.messages.size(), 3);
  fail_unless(e.wait_closed(1, 10000));
  auto s = e.sessions();
  check_wire(s[0], total_seconds(three_sentences()), 16000);
  /* one reply per window, and finalize only after the last window */
  fail_unless(s[0].replies.size() >= s[0].binary_sizes.size());
}
GST_END_TEST;

/* ---- flushing seek: a new connection, results still come ---- */

GST_START_TEST(test_flushing_seek)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  GstBus *bus;
  GstElement *el = make_element("persiantranscribe", e, &bus);
  GstHarness *h = gst_harness_new_with_element(el, "sink", "src");
  gst_harness_play(h);
  gst_harness_set_src_caps(h, audio_caps(GST_AUDIO_FORMAT_S16LE, 16000, 1));
  auto audio = make_audio(GST_AUDIO_FORMAT_S16LE, 16000, 1, three_sentences());
  std::vector<uint8_t> half(audio.begin(), audio.begin() + audio.size() / 2);
  push_audio(h, GST_AUDIO_FORMAT_S16LE, 16000, 1, half, 0);
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_start()));
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  fail_unless(gst_harness_push_event(h, gst_event_new_segment(&seg)));
  push_audio(h, GST_AUDIO_FORMAT_S16LE, 16000, 1, audio, 0);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  auto events = pull_events_until_eos(h);
  free_events(events);
  auto msgs = pop_transcriptions(bus);
  /* the second connection delivered all three */
  fail_unless(msgs.size() >= 3);
  /* The first connection may have been cancelled before its handshake
   * reached the server; the last one carried the whole second stream. */
  fail_unless(e.wait_closed(1, 10000));
  auto s = e.sessions();
  fail_unless(s.size() == 1 || s.size() == 2);
  fail_unless_equals_int(s.back().finalize_count, 1);
  check_wire(s.back(), total_seconds(three_sentences()), 32000);
  if (s.size() == 2)
    fail_unless_equals_int(s[0].finalize_count, 0);
  free_structures(msgs);
  teardown_element(h, el, bus);
}
GST_END_TEST;

static Suite *persiantranscribe_suite(void)
{
  Suite *s = suite_create("persiantranscribe");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_format_s16_16k_mono);
  tcase_add_test(tc, test_format_f32_44k_stereo);
  tcase_add_test(tc, test_format_s16_48k_6ch);
  tcase_add_test(tc, test_format_f64_8k_and_s32_96k);
  tcase_add_test(tc, test_window_duration);
  tcase_add_test(tc, test_messages_and_buffer_times);
  tcase_add_test(tc, test_last_cue_ends_with_the_audio);
  tcase_add_test(tc, test_uncertain_words_and_markup);
  tcase_add_test(tc, test_normalized_text);
  tcase_add_test(tc, test_transcriberbin_contract);
  tcase_add_test(tc, test_utf8_output);
  tcase_add_test(tc, test_revisions);
  tcase_add_test(tc, test_error_rejected_token);
  tcase_add_test(tc, test_bearer_scheme);
  tcase_add_test(tc, test_error_unreachable);
  tcase_add_test(tc, test_error_tls);
  tcase_add_test(tc, test_error_missing_token);
  tcase_add_test(tc, test_error_never_answers);
  tcase_add_test(tc, test_error_server_closes);
  tcase_add_test(tc, test_malformed_json_is_a_warning);
  tcase_add_test(tc, test_token_never_logged);
  tcase_add_test(tc, test_live_latency_and_gaps);
  tcase_add_test(tc, test_late_results_clamped);
  tcase_add_test(tc, test_lateness_drops_late_text);
  tcase_add_test(tc, test_max_inflight);
  tcase_add_test(tc, test_flushing_seek);
  return s;
}

GST_CHECK_MAIN(persiantranscribe);
