// SPDX-License-Identifier: LGPL-2.1-or-later
/* Helpers shared by the element tests: audio that looks like speech to the
 * emulator, bus collection, and an element wired to an in-process emulator. */
#pragma once

#include <gio/gio.h>
#include <gst/audio/audio.h>
#include <gst/video/video.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "emulator.h"

namespace testutil {

constexpr const char *kToken = "test-token-5f3a9c";

/* Lines with Persian text, a bracketed (uncertain) word and characters that
 * must be escaped in markup. */
inline std::vector<std::string> persian_script()
{
  return {
      "سلام، به آزمایش رونویسی گفتار فارسی خوش آمدید.",
      "سخن را سر از [ای] خردمند و بن",
      "علامت‌ها <b> & \"نقل قول\" درست می‌مانند",
  };
}

struct Burst {
  double seconds;
  bool tone;
};

/* 1 s tone, 1 s silence, ... : three "sentences" in 6.5 s */
inline std::vector<Burst> three_sentences()
{
  return {{0.5, false}, {1.0, true}, {1.0, false}, {1.0, true},
          {1.0, false}, {1.0, true}, {1.0, false}};
}

/* Four sentences with two long pauses (6 and 8 s) and a short one: what
 * skip-silence is for. */
inline std::vector<Burst> meeting()
{
  return {{0.5, false}, {1.0, true},  {6.0, false}, {1.0, true}, {1.0, false},
          {1.0, true},  {8.0, false}, {1.0, true},  {1.0, false}};
}

inline double total_seconds(const std::vector<Burst> &p)
{
  double t = 0;
  for (auto &b : p)
    t += b.seconds;
  return t;
}

/* Interleaved audio of the pattern in one of S16LE, S32LE, F32LE, F64LE. */
inline std::vector<uint8_t> make_audio(GstAudioFormat fmt, int rate, int channels,
                                       const std::vector<Burst> &pattern)
{
  std::vector<double> mono;
  for (auto &b : pattern) {
    size_t n = (size_t)llround(b.seconds * rate);
    for (size_t i = 0; i < n; ++i)
      mono.push_back(b.tone ? 0.3 * sin(2 * M_PI * 440.0 * (double)mono.size() / rate) : 0.0);
  }
  const GstAudioFormatInfo *fi = gst_audio_format_get_info(fmt);
  size_t width = GST_AUDIO_FORMAT_INFO_WIDTH(fi) / 8;
  std::vector<uint8_t> out(mono.size() * channels * width);
  uint8_t *p = out.data();
  for (double v : mono) {
    for (int c = 0; c < channels; ++c) {
      switch (fmt) {
        case GST_AUDIO_FORMAT_S16LE: {
          int16_t s = (int16_t)lrint(v * 32767);
          memcpy(p, &s, 2);
          break;
        }
        case GST_AUDIO_FORMAT_S32LE: {
          int32_t s = (int32_t)lrint(v * 2147483647.0);
          memcpy(p, &s, 4);
          break;
        }
        case GST_AUDIO_FORMAT_F32LE: {
          float s = (float)v;
          memcpy(p, &s, 4);
          break;
        }
        case GST_AUDIO_FORMAT_F64LE:
          memcpy(p, &v, 8);
          break;
        default:
          g_assert_not_reached();
      }
      p += width;
    }
  }
  return out;
}

inline GstCaps *audio_caps(GstAudioFormat fmt, int rate, int channels)
{
  GstAudioInfo info;
  gst_audio_info_set_format(&info, fmt, rate, channels, nullptr);
  return gst_audio_info_to_caps(&info);
}

/* Pushes the audio in 100 ms buffers starting at first_pts. */
inline void push_audio(GstHarness *h, GstAudioFormat fmt, int rate, int channels,
                       const std::vector<uint8_t> &audio, GstClockTime first_pts)
{
  size_t bpf = GST_AUDIO_FORMAT_INFO_WIDTH(gst_audio_format_get_info(fmt)) / 8 * channels;
  size_t frames_per_buf = rate / 10;
  size_t frames = audio.size() / bpf;
  for (size_t off = 0; off < frames; off += frames_per_buf) {
    size_t n = MIN(frames_per_buf, frames - off);
    GstBuffer *b = gst_buffer_new_memdup(audio.data() + off * bpf, n * bpf);
    GST_BUFFER_PTS(b) = first_pts + gst_util_uint64_scale(off, GST_SECOND, rate);
    GST_BUFFER_DURATION(b) = gst_util_uint64_scale(n, GST_SECOND, rate);
    fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  }
}

/* Pulls events until EOS (bounded by the harness's own 60 s pull timeout). */
inline std::vector<GstEvent *> pull_events_until_eos(GstHarness *h)
{
  std::vector<GstEvent *> events;
  for (;;) {
    GstEvent *ev = gst_harness_pull_event(h);
    fail_unless(ev != nullptr, "no EOS came out");
    events.push_back(ev);
    if (GST_EVENT_TYPE(ev) == GST_EVENT_EOS)
      break;
  }
  return events;
}

inline void free_events(std::vector<GstEvent *> &events)
{
  for (GstEvent *e : events)
    gst_event_unref(e);
  events.clear();
}

inline std::vector<GstBuffer *> pull_all_buffers(GstHarness *h)
{
  std::vector<GstBuffer *> out;
  while (GstBuffer *b = gst_harness_try_pull(h))
    out.push_back(b);
  return out;
}

inline std::string buffer_text(GstBuffer *b)
{
  GstMapInfo map;
  gst_buffer_map(b, &map, GST_MAP_READ);
  std::string s((const char *)map.data, map.size);
  gst_buffer_unmap(b, &map);
  return s;
}

/* Every "transcription" structure posted so far, in order (copies). */
inline std::vector<GstStructure *> pop_transcriptions(GstBus *bus,
                                                      std::vector<GstMessage *> *others = nullptr)
{
  std::vector<GstStructure *> out;
  while (GstMessage *m = gst_bus_pop(bus)) {
    const GstStructure *s = gst_message_get_structure(m);
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ELEMENT && s &&
        gst_structure_has_name(s, "transcription")) {
      out.push_back(gst_structure_copy(s));
      gst_message_unref(m);
    } else if (others) {
      others->push_back(m);
    } else {
      gst_message_unref(m);
    }
  }
  return out;
}

inline void free_structures(std::vector<GstStructure *> &v)
{
  for (auto *s : v)
    gst_structure_free(s);
  v.clear();
}

/* An element pointed at the emulator, with its own bus. */
inline GstElement *make_element(const char *factory, emu::Emulator &e, GstBus **bus)
{
  GstElement *el = gst_element_factory_make(factory, nullptr);
  fail_unless(el != nullptr);
  g_object_set(el, "token", kToken, "harf-url", e.harf_live_url().c_str(), "timeout", 10u, nullptr);
  *bus = gst_bus_new();
  gst_element_set_bus(el, *bus);
  return el;
}

/* Undoes make_element with a harness: stops it, drops the element and its bus. */
inline void teardown_element(GstHarness *h, GstElement *el, GstBus *bus)
{
  gst_harness_teardown(h);
  gst_object_unref(el);
  gst_bus_set_flushing(bus, TRUE);
  gst_object_unref(bus);
}

inline void start_emulator(emu::Emulator &e)
{
  GError *err = nullptr;
  fail_unless(e.start(0, &err), "emulator: %s", err ? err->message : "?");
}

inline emu::Options default_options()
{
  emu::Options o;
  o.token = kToken;
  o.script = persian_script();
  return o;
}

/* Waits for an error or warning message; nullptr on timeout. */
inline GstMessage *wait_for(GstBus *bus, GstMessageType types, GstClockTime timeout)
{
  return gst_bus_timed_pop_filtered(bus, timeout, types);
}

/* For sinks: collects "transcription" structures until EOS; fails on an
 * ERROR or when no EOS comes within 60 s. */
inline std::vector<GstStructure *> transcriptions_until_eos(GstBus *bus)
{
  std::vector<GstStructure *> out;
  for (;;) {
    GstMessage *m = gst_bus_timed_pop_filtered(
        bus, 60 * GST_SECOND,
        (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR));
    fail_unless(m != nullptr, "no EOS from the sink");
    fail_if(GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR, "error before EOS");
    bool eos = GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS;
    const GstStructure *s = gst_message_get_structure(m);
    if (s && gst_structure_has_name(s, "transcription"))
      out.push_back(gst_structure_copy(s));
    gst_message_unref(m);
    if (eos)
      return out;
  }
}

/* No token anywhere: the element still reaches PAUSED (transcriberbin sets
 * it there to ask its latency, credentials or not), and the first buffer of
 * audio fails with RESOURCE SETTINGS naming HARF_TOKEN, before any
 * connection; with HARF_TOKEN set it goes through. */
inline void check_missing_token(const char *factory)
{
  emu::Emulator e(default_options());
  start_emulator(e);
  g_unsetenv("HARF_TOKEN");
  GstBus *bus;
  GstElement *el = make_element(factory, e, &bus);
  g_object_set(el, "token", nullptr, nullptr);
  const bool sink = g_str_equal(factory, "harfsink");
  GstHarness *h = gst_harness_new_with_element(el, "sink", sink ? nullptr : "src");
  gst_harness_play(h);
  GstState state = GST_STATE_NULL;
  gst_element_get_state(el, &state, nullptr, 0);
  fail_unless(state >= GST_STATE_PAUSED, "the element did not reach PAUSED without a token");
  fail_unless(wait_for(bus, GST_MESSAGE_ERROR, 0) == nullptr, "an error before any audio");
  gst_harness_set_src_caps(h, audio_caps(GST_AUDIO_FORMAT_S16LE, 16000, 1));
  GstBuffer *b = gst_buffer_new_allocate(nullptr, 3200, nullptr);
  gst_buffer_memset(b, 0, 0, 3200);
  GST_BUFFER_PTS(b) = 0;
  GST_BUFFER_DURATION(b) = 100 * GST_MSECOND;
  fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_ERROR);
  GstMessage *m = wait_for(bus, GST_MESSAGE_ERROR, 0);
  fail_unless(m != nullptr);
  GError *err = nullptr;
  gst_message_parse_error(m, &err, nullptr);
  fail_unless(g_error_matches(err, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS));
  fail_unless(strstr(err->message, "HARF_TOKEN") != nullptr, "%s", err->message);
  g_clear_error(&err);
  gst_message_unref(m);
  fail_unless_equals_int(e.handshake_count(), 0);
  gst_harness_teardown(h);

  g_setenv("HARF_TOKEN", kToken, TRUE);
  fail_unless(gst_element_set_state(el, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE);
  gst_element_set_state(el, GST_STATE_NULL);
  g_unsetenv("HARF_TOKEN");
  gst_object_unref(el);
  gst_bus_set_flushing(bus, TRUE);
  gst_object_unref(bus);
}

/* The leaks tracer (GST_TRACERS=leaks), or null. */
inline GstTracer *leaks_tracer()
{
  GList *tracers = gst_tracing_get_active_tracers();
  GstTracer *found = nullptr;
  for (GList *l = tracers; l; l = l->next)
    if (!found && g_str_equal(G_OBJECT_TYPE_NAME(l->data), "GstLeaksTracer"))
      found = GST_TRACER(gst_object_ref(l->data));
  g_list_free_full(tracers, gst_object_unref);
  return found;
}

inline guint live_objects(GstTracer *tracer, std::string *names = nullptr)
{
  /* Task threads drop their last reference just after a join: let them
   * finish, or the count races with objects that are already dying. */
  gst_task_cleanup_all();
  GstStructure *s = nullptr;
  g_signal_emit_by_name(tracer, "get-live-objects", &s);
  fail_unless(s != nullptr);
  const GValue *list = gst_structure_get_value(s, "live-objects-list");
  guint n = list ? gst_value_list_get_size(list) : 0;
  if (names) {
    for (guint i = 0; i < n; ++i) {
      const GstStructure *o = gst_value_get_structure(gst_value_list_get_value(list, i));
      gchar *str = gst_structure_to_string(o);
      *names += str;
      *names += "\n";
      g_free(str);
    }
  }
  gst_structure_free(s);
  return n;
}

/* The Nevisa account the batch tests log in with, and an emulator that
 * knows it (two PENDING polls, three progress steps). */
constexpr const char *kUser = "user@example.com";
constexpr const char *kPassword = "رمز-عبور-42";

inline emu::Options batch_options()
{
  emu::Options o = default_options();
  o.nevisa_username = kUser;
  o.nevisa_password = kPassword;
  o.poll_pending = 2;
  o.progress_steps = 3;
  return o;
}

}  // namespace testutil

/* Compares as std::string: safe with temporaries (fail_unless_equals_string
 * keeps only the pointer). */
#define assert_equals_std_string(a, b)                             \
  do {                                                             \
    std::string _a = (a), _b = (b);                                \
    fail_unless(_a == _b, "'%s' != '%s'", _a.c_str(), _b.c_str()); \
  } while (0)
