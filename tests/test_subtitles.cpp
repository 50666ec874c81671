// SPDX-License-Identifier: LGPL-2.1-or-later
/* Subtitles people see: SRT and WebVTT files from the element, frames with
 * burned-in Persian text through textoverlay, and a live minute with video. */
/* iostreams first: check.h defines a "fail" macro that breaks basic_ios */
#include <fstream>
#include <regex>
#include <sstream>

#include <glib/gstdio.h>

#include "test_helpers.h"

using namespace testutil;

namespace {

std::string fixture(const char *name)
{
  return std::string(PT_FIXTURES_DIR) + "/" + name;
}

std::vector<std::string> read_lines(const std::string &path)
{
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);)
    if (!l.empty())
      out.push_back(l);
  return out;
}

/* Runs a pipeline to EOS; fails on an error or after 60 s. */
void run_to_eos(GstElement *pipe)
{
  GstBus *bus = gst_element_get_bus(pipe);
  fail_unless(gst_element_set_state(pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  GstMessage *m = gst_bus_timed_pop_filtered(bus, 60 * GST_SECOND,
                                             (GstMessageType)(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless(m != nullptr, "no EOS within 60 s");
  if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
    GError *err = nullptr;
    gst_message_parse_error(m, &err, nullptr);
    fail_unless(FALSE, "error: %s", err->message);
  }
  gst_message_unref(m);
  gst_element_set_state(pipe, GST_STATE_NULL);
  gst_object_unref(bus);
}

struct ParsedCue {
  guint64 start_ms, end_ms;
  std::string text; /* lines joined with a space, tags removed, entities decoded */
};

std::string plain(std::string t)
{
  t = std::regex_replace(t, std::regex("</?i>"), "");
  t = std::regex_replace(t, std::regex("&lt;"), "<");
  t = std::regex_replace(t, std::regex("&gt;"), ">");
  t = std::regex_replace(t, std::regex("&amp;"), "&");
  return t;
}

/* SRT ("00:00:01,200 --> ...") and WebVTT ("00:00:01.200 --> ...") */
std::vector<ParsedCue> parse_subtitles(const std::string &path, bool vtt)
{
  std::ifstream in(path);
  fail_unless(in.good(), "cannot read %s", path.c_str());
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  fail_unless(g_utf8_validate(all.c_str(), all.size(), nullptr));
  if (vtt)
    fail_unless(g_str_has_prefix(all.c_str(), "WEBVTT"), "no WEBVTT header");
  std::regex timing(
      vtt ? "(\\d\\d):(\\d\\d):(\\d\\d)\\.(\\d\\d\\d) --> (\\d\\d):(\\d\\d):(\\d\\d)\\.(\\d\\d\\d)"
          : "(\\d\\d):(\\d\\d):(\\d\\d),(\\d\\d\\d) --> (\\d\\d):(\\d\\d):(\\d\\d),(\\d\\d\\d)");
  std::vector<ParsedCue> cues;
  std::istringstream lines(all);
  std::string line;
  ParsedCue *cur = nullptr;
  int expected_index = 1;
  std::string prev;
  while (std::getline(lines, line)) {
    std::smatch m;
    if (std::regex_search(line, m, timing)) {
      if (!vtt)
        fail_unless(prev == std::to_string(expected_index++), "bad SRT index '%s'", prev.c_str());
      auto ms = [&](int i) {
        return ((std::stoull(m[i]) * 60 + std::stoull(m[i + 1])) * 60 + std::stoull(m[i + 2])) *
                   1000 +
               std::stoull(m[i + 3]);
      };
      cues.push_back({ms(1), ms(5), ""});
      cur = &cues.back();
    } else if (line.empty()) {
      cur = nullptr;
    } else if (cur) {
      cur->text += (cur->text.empty() ? "" : " ") + plain(line);
    }
    prev = line;
  }
  return cues;
}

void check_file(const char *encoder, bool vtt)
{
  emu::Options o = default_options();
  o.script = read_lines(fixture("persian-sample.txt"));
  emu::Emulator e(o);
  start_emulator(e);
  gchar *path = g_build_filename(g_get_tmp_dir(), vtt ? "pt-test.vtt" : "pt-test.srt", nullptr);
  std::string desc = "filesrc location=" + fixture("persian-sample.wav") +
                     " ! wavparse ! persiantranscribe token=" + kToken +
                     " harf-url=" + e.harf_live_url() + " ! " + encoder +
                     " ! filesink location=" + path;
  GstElement *pipe = gst_parse_launch(desc.c_str(), nullptr);
  fail_unless(pipe != nullptr);
  run_to_eos(pipe);
  gst_object_unref(pipe);

  auto cues = parse_subtitles(path, vtt);
  auto sent = e.sessions()[0].segments;
  fail_unless_equals_int(sent.size(), 3);
  fail_unless_equals_int(cues.size(), 3);
  for (size_t i = 0; i < 3; ++i) {
    /* exact to the millisecond the format carries */
    fail_unless_equals_uint64(cues[i].start_ms, sent[i].start_ns / GST_MSECOND);
    fail_unless_equals_uint64(cues[i].end_ms, sent[i].end_ns / GST_MSECOND);
    assert_equals_std_string(cues[i].text, sent[i].text);
    if (i > 0)
      fail_unless(cues[i].start_ms >= cues[i - 1].end_ms, "cues overlap");
  }
  g_unlink(path);
  g_free(path);
}

}  // namespace

GST_START_TEST(test_srt_file)
{
  check_file("srtenc", false);
}
GST_END_TEST;

GST_START_TEST(test_webvtt_file)
{
  check_file("webvttenc", true);
}
GST_END_TEST;

/* ---- frames with burned-in subtitles ---- */

namespace {

struct Frames {
  GMutex lock;
  std::vector<std::pair<guint64, guint>> bright; /* frame pts, bright pixels in the subtitle area */
  std::vector<std::pair<guint64, guint64>> cues; /* text buffers seen by textoverlay */
};

void on_handoff(GstElement *, GstBuffer *buf, GstPad *pad, gpointer data)
{
  auto *f = static_cast<Frames *>(data);
  GstCaps *caps = gst_pad_get_current_caps(pad);
  GstVideoInfo info;
  gst_video_info_from_caps(&info, caps);
  gst_caps_unref(caps);
  GstMapInfo map;
  gst_buffer_map(buf, &map, GST_MAP_READ);
  guint count = 0;
  int stride = GST_VIDEO_INFO_PLANE_STRIDE(&info, 0);
  /* the bottom 40 %: where textoverlay puts subtitles (valignment=bottom) */
  for (int y = info.height * 6 / 10; y < info.height; ++y)
    for (int x = 0; x < info.width; ++x) {
      const guint8 *px = map.data + y * stride + x * 3;
      count += px[0] > 200 && px[1] > 200 && px[2] > 200;
    }
  gst_buffer_unmap(buf, &map);
  g_mutex_lock(&f->lock);
  f->bright.emplace_back(GST_BUFFER_PTS(buf), count);
  g_mutex_unlock(&f->lock);
}

GstPadProbeReturn on_text(GstPad *, GstPadProbeInfo *info, gpointer data)
{
  auto *f = static_cast<Frames *>(data);
  GstBuffer *b = GST_PAD_PROBE_INFO_BUFFER(info);
  g_mutex_lock(&f->lock);
  f->cues.emplace_back(GST_BUFFER_PTS(b), GST_BUFFER_PTS(b) + GST_BUFFER_DURATION(b));
  g_mutex_unlock(&f->lock);
  return GST_PAD_PROBE_OK;
}

}  // namespace

GST_START_TEST(test_rendered_frames)
{
  emu::Options o = default_options();
  o.script = read_lines(fixture("persian-sample.txt"));
  emu::Emulator e(o);
  start_emulator(e);
  gchar *dir = g_build_filename(PT_BUILD_DIR, "rendered", nullptr);
  g_mkdir_with_parents(dir, 0755);
  /* 18 s of black video at 5 fps under the 17.6 s sample */
  std::string desc = "filesrc location=" + fixture("persian-sample.wav") +
                     " ! wavparse ! persiantranscribe token=" + kToken +
                     " harf-url=" + e.harf_live_url() +
                     " ! queue ! ov.text_sink "
                     "videotestsrc pattern=black num-buffers=90 ! "
                     "video/x-raw,width=640,height=360,framerate=5/1 ! "
                     "textoverlay name=ov font-desc=\"Noto Sans Arabic 22\" valignment=bottom "
                     "shaded-background=false ! "
                     "videoconvert ! video/x-raw,format=RGB ! tee name=t "
                     "t. ! queue ! fakesink name=frames signal-handoffs=true sync=false "
                     "t. ! queue ! videoconvert ! pngenc ! multifilesink location=" +
                     std::string(dir) + "/frame-%03d.png";
  GError *err = nullptr;
  GstElement *pipe = gst_parse_launch(desc.c_str(), &err);
  fail_unless(pipe != nullptr, "%s", err ? err->message : "");
  Frames f;
  g_mutex_init(&f.lock);
  GstElement *sink = gst_bin_get_by_name(GST_BIN(pipe), "frames");
  g_signal_connect(sink, "handoff", G_CALLBACK(on_handoff), &f);
  GstElement *ov = gst_bin_get_by_name(GST_BIN(pipe), "ov");
  GstPad *text_pad = gst_element_get_static_pad(ov, "text_sink");
  gst_pad_add_probe(text_pad, GST_PAD_PROBE_TYPE_BUFFER, on_text, &f, nullptr);
  run_to_eos(pipe);

  fail_unless_equals_int(f.cues.size(), 3);
  fail_unless_equals_int(f.bright.size(), 90);
  const guint64 frame = GST_SECOND / 5;
  size_t inside = 0, outside = 0;
  for (auto &[pts, count] : f.bright) {
    bool in = false, edge = false;
    for (auto &[s, t] : f.cues) {
      if (pts >= s && pts + frame <= t)
        in = true;
      else if (pts < t && pts + frame > s)
        edge = true; /* the frame straddles a cue boundary: not judged */
    }
    if (edge && !in)
      continue;
    if (in) {
      fail_unless(count > 300, "frame at %" GST_TIME_FORMAT " is in a cue but has %u text pixels",
                  GST_TIME_ARGS(pts), count);
      inside++;
    } else {
      fail_unless_equals_int(count, 0);
      outside++;
    }
  }
  fail_unless(inside >= 40 && outside >= 20, "inside %zu outside %zu", inside, outside);

  gst_object_unref(text_pad);
  gst_object_unref(ov);
  gst_object_unref(sink);
  gst_object_unref(pipe);
  g_mutex_clear(&f.lock);
  g_free(dir);
}
GST_END_TEST;

static Suite *subtitles_suite(void)
{
  Suite *s = suite_create("subtitles");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_srt_file);
  tcase_add_test(tc, test_webvtt_file);
  tcase_add_test(tc, test_rendered_frames);
  return s;
}

GST_CHECK_MAIN(subtitles);
