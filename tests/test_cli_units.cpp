// SPDX-License-Identifier: LGPL-2.1-or-later
/* Unit tests of the persian-transcribe command's parts that need no
 * pipeline: the progress line (tools/progress.cpp) and the word-level
 * WebVTT writer (tools/output.cpp). */
#include <gst/check/gstcheck.h>

#include <string>
#include <vector>

#include "output.h"
#include "progress.h"

using cli::BatchStatus;
using cli::ProgressBar;

namespace {

constexpr gint64 kStartUs = 1000 * G_USEC_PER_SEC;

bool printable_ascii(const std::string &s)
{
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f)
      return false;
  return true;
}

/* Every kind of line the command draws, at COLUMNS: none reaches the last
 * column, and none has a control character. */
void check_fits(unsigned columns)
{
  ProgressBar p(true);
  p.set_columns(columns);
  p.start(kStartUs);
  const guint64 hour = 3600 * GST_SECOND;
  std::vector<std::string> lines;
  lines.push_back(p.line(GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE, false, nullptr, kStartUs));
  lines.push_back(
      p.line(95 * GST_SECOND, GST_CLOCK_TIME_NONE, false, nullptr, kStartUs + 3 * G_USEC_PER_SEC));
  /* ten hours at a steady 600x: the ETA and every part is there */
  for (int i = 0; i <= 40; ++i)
    lines.push_back(p.line(guint64(i) * 120 * GST_SECOND, 10 * hour, false, nullptr,
                           kStartUs + i * 200 * 1000));
  p.set_input_read(true);
  lines.push_back(p.line(9 * hour, 10 * hour, false, nullptr, kStartUs + 9 * G_USEC_PER_SEC));
  lines.push_back(p.line(10 * hour, 10 * hour, true, nullptr, kStartUs + 60 * G_USEC_PER_SEC));
  BatchStatus b;
  b.active = true;
  b.state = "UPLOADING";
  b.bytes_sent = 123456789;
  b.bytes_total = 987654321;
  lines.push_back(p.line(0, hour, false, &b, kStartUs + 70 * G_USEC_PER_SEC));
  b.state = "PROGRESS";
  b.percent = 42;
  lines.push_back(p.line(0, hour, false, &b, kStartUs + 80 * G_USEC_PER_SEC));
  /* a hostile state: an escape sequence that would clear the screen */
  b.state = "\033[2J\033[HPWNED-VERY-LONG-STATE-NAME-FROM-THE-SERVICE";
  b.percent = -1;
  lines.push_back(p.line(0, hour, false, &b, kStartUs + 90 * G_USEC_PER_SEC));
  for (const auto &l : lines) {
    fail_unless(l.size() <= columns - 1, "%u columns: %zu characters: '%s'", columns, l.size(),
                l.c_str());
    fail_unless(printable_ascii(l), "%u columns: not printable: '%s'", columns, l.c_str());
    fail_if(l.empty(), "%u columns: an empty line", columns);
  }
}

}  // namespace

GST_START_TEST(test_progress_fits_the_terminal)
{
  for (unsigned columns : {20u, 30u, 40u, 60u, 79u, 80u, 100u, 132u, 200u})
    check_fits(columns);

  /* At 80 columns the line once was 81-111 characters: now the bar
   * narrows and everything else stays. */
  ProgressBar p(true);
  p.set_columns(80);
  p.start(kStartUs);
  std::string l =
      p.line(GST_SECOND * 200, GST_SECOND * 3600, true, nullptr, kStartUs + 5 * G_USEC_PER_SEC);
  fail_unless(l.size() <= 79, "%s", l.c_str());
  fail_unless(l.rfind("[##", 0) == 0, "no bar: %s", l.c_str());
  fail_unless(
      l.find("] 100%  1:00:00 / 1:00:00  elapsed 0:05  720.0x real time") != std::string::npos,
      "%s", l.c_str());
}
GST_END_TEST;

GST_START_TEST(test_progress_eta_once_steady)
{
  ProgressBar p(true);
  p.set_columns(200);
  p.start(kStartUs);
  const guint64 duration = 600 * GST_SECOND;
  /* 10x real time, a line every 200 ms: no ETA for the first 3 s */
  std::string l;
  for (int i = 0; i <= 25; ++i) {
    const gint64 now = kStartUs + gint64(i) * 200 * 1000;
    l = p.line(guint64(i) * 2 * GST_SECOND, duration, false, nullptr, now);
    if (i * 200 < ProgressBar::kRateWindowUs / 2 / 1000)
      fail_unless(l.find("ETA") == std::string::npos, "ETA after %d ms: %s", i * 200, l.c_str());
  }
  /* at 5 s: 50 s of 600 done at 10x: 550 s / 10 = 55 s left */
  fail_unless(l.find("ETA 0:55") != std::string::npos, "%s", l.c_str());
  fail_unless(l.find(" 8%") != std::string::npos, "%s", l.c_str());

  /* Uneven progress (a burst, then nothing) gives no ETA */
  ProgressBar q(true);
  q.set_columns(200);
  q.start(kStartUs);
  for (int i = 0; i <= 25; ++i) {
    const gint64 now = kStartUs + gint64(i) * 200 * 1000;
    const guint64 pos = i < 5 ? guint64(i) * 20 * GST_SECOND : 100 * GST_SECOND + guint64(i);
    l = q.line(pos, duration, false, nullptr, now);
    fail_unless(l.find("ETA") == std::string::npos, "an ETA from uneven progress: %s", l.c_str());
  }
}
GST_END_TEST;

GST_START_TEST(test_progress_percent)
{
  ProgressBar p(true);
  p.set_columns(120);
  p.start(kStartUs);
  /* not done: never 100 %, and the wait is said once the input is read */
  std::string l = p.line(GST_SECOND * 60, GST_SECOND * 60, false, nullptr, kStartUs + 1000);
  fail_unless(l.find(" 99%") != std::string::npos, "%s", l.c_str());
  fail_unless(l.find("waiting") == std::string::npos, "%s", l.c_str());
  p.set_input_read(true);
  l = p.line(GST_SECOND * 30, GST_SECOND * 60, false, nullptr, kStartUs + 2000);
  fail_unless(l.find(" 50%") != std::string::npos, "%s", l.c_str());
  fail_unless(l.find("waiting for the last results") != std::string::npos, "%s", l.c_str());
  l = p.line(GST_SECOND * 30, GST_SECOND * 60, true, nullptr, kStartUs + 3000);
  fail_unless(l.find("100%  1:00 / 1:00") != std::string::npos, "%s", l.c_str());
  fail_unless(l.find("waiting") == std::string::npos, "%s", l.c_str());
}
GST_END_TEST;

/* --format vtt --words: a timestamp tag before each word with a time,
 * strictly inside its cue and increasing; the text itself unchanged. */
GST_START_TEST(test_vtt_words)
{
  cli::Transcript t;
  cli::Segment s;
  s.text = "امروز هوا <آفتابی> است و ما در پارک قدم می‌زنیم.";
  const char *words[] = {"امروز", "هوا", "<آفتابی>", "است", "و",
                         "ما",    "در",  "پارک",     "قدم", "می‌زنیم."};
  for (int i = 0; i < 10; ++i) {
    cli::Word w;
    w.text = words[i];
    w.start = 7 * GST_SECOND + guint64(i) * 400 * GST_MSECOND;
    w.end = w.start + 300 * GST_MSECOND;
    if (i == 5)
      w.start = GST_CLOCK_TIME_NONE; /* a word without a time gets no tag */
    s.words.push_back(w);
  }
  t.segments.push_back(s);
  /* the cue has a word the service's words lack ("واقعا"): its neighbours
   * keep their tags */
  t.cues.push_back({7 * GST_SECOND, 9 * GST_SECOND, "امروز هوا <آفتابی> واقعا است\nو ما در"});
  t.cues.push_back({9 * GST_SECOND, 11 * GST_SECOND, "پارک قدم می‌زنیم."});
  const std::string out = cli::format_transcript(t, cli::Format::Vtt, true, true);
  const std::string rlm = "\u200F";
  /* The first word starts with its cue: no tag.  "ما" has no time, and
   * "در" (9.4 s) is past its cue's end: no tag either. */
  const std::string expected =
      "WEBVTT\n\n"
      "00:00:07.000 --> 00:00:09.000\n" +
      rlm + "امروز <00:00:07.400>هوا <00:00:07.800>&lt;آفتابی&gt; واقعا <00:00:08.200>است" + rlm +
      "\n" + rlm + "<00:00:08.600>و ما در" + rlm +
      "\n\n"
      "00:00:09.000 --> 00:00:11.000\n" +
      rlm + "<00:00:09.800>پارک <00:00:10.200>قدم <00:00:10.600>می‌زنیم." + rlm +
      "\n\n";
  fail_unless(out == expected, "got:\n%s\nexpected:\n%s", out.c_str(), expected.c_str());

  /* without --words, the same cues carry no tag */
  const std::string plain = cli::format_transcript(t, cli::Format::Vtt, true, false);
  fail_unless(plain.find("<00:") == std::string::npos, "%s", plain.c_str());
  /* SRT never gets tags */
  const std::string srt = cli::format_transcript(t, cli::Format::Srt, true, true);
  fail_unless(srt.find("<00:") == std::string::npos, "%s", srt.c_str());
}
GST_END_TEST;

static Suite *cli_units_suite()
{
  Suite *s = suite_create("cli-units");
  TCase *tc = tcase_create("general");
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_progress_fits_the_terminal);
  tcase_add_test(tc, test_progress_eta_once_steady);
  tcase_add_test(tc, test_progress_percent);
  tcase_add_test(tc, test_vtt_words);
  return s;
}

GST_CHECK_MAIN(cli_units);
