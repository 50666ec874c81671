// SPDX-License-Identifier: LGPL-2.1-or-later
// The writers of persian-transcribe's output: SRT, WebVTT, JSON and plain text, atomically.
#include "output.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "common.h"
#include "text_escape.h"

namespace cli {

std::optional<Format> format_from_name(const std::string &name)
{
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return g_ascii_tolower(c); });
  if (n == "srt")
    return Format::Srt;
  if (n == "vtt" || n == "webvtt")
    return Format::Vtt;
  if (n == "json")
    return Format::Json;
  if (n == "txt" || n == "text")
    return Format::Txt;
  return std::nullopt;
}

namespace {

std::string format_time(guint64 ns, char ms_sep)
{
  guint64 ms = (ns + GST_MSECOND / 2) / GST_MSECOND;
  char buf[48];
  snprintf(buf, sizeof buf, "%02" G_GUINT64_FORMAT ":%02u:%02u%c%03u", ms / 3600000,
           unsigned(ms / 60000 % 60), unsigned(ms / 1000 % 60), ms_sep, unsigned(ms % 1000));
  return buf;
}

// The non-empty lines of a cue's text.
std::vector<std::string> cue_lines(const std::string &text)
{
  std::vector<std::string> lines;
  size_t i = 0;
  while (i <= text.size()) {
    size_t j = text.find('\n', i);
    if (j == std::string::npos)
      j = text.size();
    std::string line = text.substr(i, j - i);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
      line.pop_back();
    size_t k = line.find_first_not_of(" \t");
    if (k != std::string::npos)
      lines.push_back(line.substr(k));
    i = j + 1;
  }
  return lines;
}

std::string write_subtitles(const std::vector<Cue> &cues, Format f)
{
  std::string out;
  if (f == Format::Vtt)
    out += "WEBVTT\n\n";
  unsigned index = 0;
  for (const Cue &c : cues) {
    auto lines = cue_lines(c.text);
    if (lines.empty())
      continue;
    const char sep = f == Format::Srt ? ',' : '.';
    if (f == Format::Srt)
      out += std::to_string(++index) + "\n";
    out += format_time(c.start, sep) + " --> " + format_time(c.end, sep) + "\n";
    for (const auto &l : lines)
      out += (f == Format::Vtt ? pt::markup_escape(l) : l) + "\n";
    out += "\n";
  }
  return out;
}

std::string write_text(const std::vector<Segment> &segments)
{
  std::string out;
  for (const Segment &s : segments) {
    std::string line = s.text;
    std::replace(line.begin(), line.end(), '\n', ' ');
    std::replace(line.begin(), line.end(), '\r', ' ');
    out += line + "\n";
  }
  return out;
}

void add_time(JsonBuilder *b, const char *name, guint64 ns)
{
  std::string ns_name = std::string(name) + "_ns";
  json_builder_set_member_name(b, name);
  if (GST_CLOCK_TIME_IS_VALID(ns))
    json_builder_add_double_value(b, double(ns) / GST_SECOND);
  else
    json_builder_add_null_value(b);
  json_builder_set_member_name(b, ns_name.c_str());
  if (GST_CLOCK_TIME_IS_VALID(ns))
    json_builder_add_int_value(b, gint64(ns));
  else
    json_builder_add_null_value(b);
}

std::string write_json(const Transcript &t)
{
  GObjRef<JsonBuilder> b(json_builder_new());
  json_builder_begin_object(b.get());
  json_builder_set_member_name(b.get(), "input");
  json_builder_add_string_value(b.get(), t.input_uri.c_str());
  json_builder_set_member_name(b.get(), "backend");
  json_builder_add_string_value(b.get(), t.backend.c_str());
  add_time(b.get(), "duration", t.media_duration);
  if (t.total_words >= 0) {
    json_builder_set_member_name(b.get(), "total_words");
    json_builder_add_int_value(b.get(), t.total_words);
  }
  if (t.known_words >= 0) {
    json_builder_set_member_name(b.get(), "known_words");
    json_builder_add_int_value(b.get(), t.known_words);
  }
  json_builder_set_member_name(b.get(), "segments");
  json_builder_begin_array(b.get());
  for (const Segment &s : t.segments) {
    json_builder_begin_object(b.get());
    json_builder_set_member_name(b.get(), "id");
    json_builder_add_int_value(b.get(), s.id);
    json_builder_set_member_name(b.get(), "text");
    json_builder_add_string_value(b.get(), s.text.c_str());
    json_builder_set_member_name(b.get(), "raw_text");
    json_builder_add_string_value(b.get(), s.raw_text.c_str());
    add_time(b.get(), "start", s.start);
    add_time(b.get(), "end", s.end);
    json_builder_set_member_name(b.get(), "words");
    json_builder_begin_array(b.get());
    for (const Word &w : s.words) {
      json_builder_begin_object(b.get());
      json_builder_set_member_name(b.get(), "text");
      json_builder_add_string_value(b.get(), w.text.c_str());
      add_time(b.get(), "start", w.start);
      add_time(b.get(), "end", w.end);
      json_builder_set_member_name(b.get(), "confidence");
      if (w.confidence >= 0)
        json_builder_add_double_value(b.get(), w.confidence);
      else
        json_builder_add_null_value(b.get());
      json_builder_set_member_name(b.get(), "uncertain");
      json_builder_add_boolean_value(b.get(), w.uncertain);
      json_builder_end_object(b.get());
    }
    json_builder_end_array(b.get());
    json_builder_end_object(b.get());
  }
  json_builder_end_array(b.get());
  json_builder_end_object(b.get());

  JsonNode *root = json_builder_get_root(b.get());
  GObjRef<JsonGenerator> gen(json_generator_new());
  json_generator_set_pretty(gen.get(), TRUE);
  json_generator_set_indent(gen.get(), 2);
  json_generator_set_root(gen.get(), root);
  GCharPtr data(json_generator_to_data(gen.get(), nullptr));
  json_node_unref(root);
  return std::string(data.get()) + "\n";
}

}  // namespace

std::string format_transcript(const Transcript &t, Format format)
{
  switch (format) {
    case Format::Srt:
    case Format::Vtt:
      return write_subtitles(t.cues, format);
    case Format::Json:
      return write_json(t);
    case Format::Txt:
      break;
  }
  return write_text(t.segments);
}

bool write_file_atomically(const std::string &path, const std::string &data, std::string *error)
{
  const std::string tmp = path + ".tmp";
  int fd = g_open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  // WHAT failed (errno says why): nothing is left behind.
  auto failed = [&](const std::string &what) {
    *error = what + ": " + g_strerror(errno);
    if (fd >= 0)
      close(fd);
    g_unlink(tmp.c_str());
    return false;
  };
  if (fd < 0) {
    *error = "cannot write " + tmp + ": " + g_strerror(errno);
    return false;
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return failed("cannot write " + tmp);
    done += size_t(n);
  }
  if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
    return failed("cannot write " + tmp);
  const int closed = close(fd);
  fd = -1;
  if (closed != 0)
    return failed("cannot write " + tmp);
  if (g_rename(tmp.c_str(), path.c_str()) != 0)
    return failed("cannot rename " + tmp + " to " + path);
  return true;
}

bool write_stdout(const std::string &data, std::string *error)
{
  if (fwrite(data.data(), 1, data.size(), stdout) != data.size() || fflush(stdout) != 0) {
    *error = std::string("cannot write to standard output: ") + g_strerror(errno);
    return false;
  }
  return true;
}

}  // namespace cli
