// SPDX-License-Identifier: LGPL-2.1-or-later
// The writers of persian-transcribe's output: SRT, WebVTT, JSON and plain text, and the safe
// writing of OUTPUT (a temporary renamed over a file; devices and FIFOs in place).
#include "output.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <variant>

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

// The words of SEGMENTS that have a start time, in order.
std::vector<const Word *> timed_words(const std::vector<Segment> &segments)
{
  std::vector<const Word *> out;
  for (const Segment &s : segments)
    for (const Word &w : s.words)
      if (GST_CLOCK_TIME_IS_VALID(w.start) && !w.text.empty())
        out.push_back(&w);
  return out;
}

// A WebVTT cue line with a timestamp tag (<hh:mm:ss.mmm>) before each word
// whose time is known: players and editors show the words as they are
// spoken.  The cue's words are found in WORDS in order, from *NEXT on (a
// word the cue text does not have, or has differently, is skipped: its
// neighbours keep their times).  A tag must lie strictly inside the cue and
// after the previous one (WebVTT's rule); the first word needs none.
std::string vtt_words_line(const std::string &line, const Cue &cue,
                           const std::vector<const Word *> &words, size_t *next, guint64 *last_tag)
{
  constexpr size_t kLookAhead = 8;
  std::string out;
  size_t i = 0;
  while (i < line.size()) {
    size_t j = line.find(' ', i);
    if (j == std::string::npos)
      j = line.size();
    const std::string token = line.substr(i, j - i);
    for (size_t k = *next; k < words.size() && k < *next + kLookAhead; ++k) {
      if (words[k]->text != token)
        continue;
      const guint64 t = words[k]->start;
      if (t > cue.start && t < cue.end && t > *last_tag) {
        out += "<" + format_time(t, '.') + ">";
        *last_tag = t;
      }
      *next = k + 1;
      break;
    }
    out += pt::markup_escape(token);
    if (j < line.size())
      out += ' ';
    i = j + 1;
  }
  return out;
}

std::string write_subtitles(const std::vector<Cue> &cues, Format f, bool rtl_marks,
                            const std::vector<Segment> *timed)
{
  /* An RLM at both ends rather than RLE ... PDF: a mark, not an embedding,
   * so there is nothing to balance when a player re-wraps or cuts a line,
   * a player that ignores bidi controls shows nothing for it (zero width),
   * and it is the first strong character that players detecting the
   * paragraph direction (UAX #9, rule P2) look for. */
  const std::string rlm = rtl_marks ? "\u200F" : "";
  std::string out;
  if (f == Format::Vtt)
    out += "WEBVTT\n\n";
  unsigned index = 0;
  const std::vector<const Word *> words = timed ? timed_words(*timed) : std::vector<const Word *>();
  size_t next_word = 0;
  for (const Cue &c : cues) {
    auto lines = cue_lines(c.text);
    if (lines.empty())
      continue;
    const char sep = f == Format::Srt ? ',' : '.';
    if (f == Format::Srt)
      out += std::to_string(++index) + "\n";
    out += format_time(c.start, sep) + " --> " + format_time(c.end, sep) + "\n";
    guint64 last_tag = c.start;
    for (const auto &l : lines) {
      std::string text = l;
      if (f == Format::Vtt && timed)
        text = vtt_words_line(l, c, words, &next_word, &last_tag);
      else if (f == Format::Vtt)
        text = pt::markup_escape(l);
      out += rlm + text + rlm + "\n";
    }
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

std::string format_transcript(const Transcript &t, Format format, bool rtl_marks, bool words)
{
  switch (format) {
    case Format::Srt:
    case Format::Vtt:
      return write_subtitles(t.cues, format, rtl_marks, words ? &t.segments : nullptr);
    case Format::Json:
      return write_json(t);
    case Format::Txt:
      break;
  }
  return write_text(t.segments);
}

/* -------------------------------------------------------------- OUTPUT -- */

namespace {

std::string errno_text(int err)
{
  return g_strerror(err);
}

// Where write_output writes: the file PATH names, or the one its symbolic link
// points to.
struct Target {
  std::string path;     // PATH, or the link's target, every link resolved
  std::string via;      // " (the target of the link PATH)" when PATH is a link
  bool exists = false;  // false: a new file
  struct stat st = {};  // when it exists
};

// PATH resolved as write_output writes it.  A dangling symbolic link is an
// error, as for GNU cp ("not writing through dangling symlink"): creating a
// file wherever a link points is how a planted link redirects a write, and a
// user who wants the target created can name it.
std::variant<Target, Failure> resolve_output(const std::string &path)
{
  Target t;
  t.path = path;
  if (lstat(path.c_str(), &t.st) != 0) {
    if (errno == ENOENT)
      return t;  // a new file (check_output sees whether its directory exists)
    return Failure{kExitFailure, "cannot write " + path + ": " + errno_text(errno)};
  }
  if (S_ISLNK(t.st.st_mode)) {
    char *real = realpath(path.c_str(), nullptr);
    if (!real) {
      const int err = errno;
      if (err == ENOENT) {
        GCharPtr to(g_file_read_link(path.c_str(), nullptr));
        return Failure{kExitFailure, "cannot write " + path + ": it is a symbolic link to " +
                                         (to ? to.get() : "?") +
                                         ", which does not exist (dangling link)"};
      }
      return Failure{kExitFailure, "cannot write " + path + ": " + errno_text(err)};
    }
    t.path = real;
    free(real);
    t.via = " (the target of the link " + path + ")";
    if (stat(t.path.c_str(), &t.st) != 0)
      return Failure{kExitFailure, "cannot write " + t.path + t.via + ": " + errno_text(errno)};
  }
  if (S_ISDIR(t.st.st_mode))
    return Failure{kExitUsage, path + " is a directory"};
  t.exists = true;
  return t;
}

bool replaced(const Target &t)
{
  return !t.exists || S_ISREG(t.st.st_mode);
}

// Writes all of DATA to FD; false with errno set on failure.
bool write_all(int fd, const std::string &data)
{
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return false;
    if (n == 0) {
      errno = EIO;
      return false;
    }
    done += size_t(n);
  }
  return true;
}

// A regular file, or a new one: through a temporary in its directory, renamed
// over it.
bool replace_file(const Target &t, const std::string &data, std::string *error)
{
  GCharPtr dir(g_path_get_dirname(t.path.c_str()));
  GCharPtr base(g_path_get_basename(t.path.c_str()));
  // ".NAME.XXXXXX.tmp" stays under NAME_MAX (255) for any NAME.
  std::string name = base.get();
  if (name.size() > 200)
    name.resize(200);
  const std::string prefix = std::string(dir.get()) + "/." + name + ".";
  static const char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

  // Created, never opened: O_EXCL fails on any existing path, a symbolic link
  // included (O_NOFOLLOW says so twice).  A new file gets 0666 less the umask,
  // as any file; a replaced one keeps its permission bits (and, when allowed,
  // its owner and group), set below.
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
    std::string random(6, 'X');
    for (char &c : random)
      c = kChars[g_random_int_range(0, gint32(sizeof kChars - 1))];
    tmp = prefix + random + ".tmp";
    fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              t.exists ? 0600 : 0666);
    if (fd < 0 && errno != EEXIST)
      break;
  }
  if (fd < 0) {
    *error = "cannot write " + t.path + t.via + ": cannot create a temporary in " + dir.get() +
             ": " + errno_text(errno);
    return false;
  }
  // WHAT failed (errno says why): the temporary goes, PATH is unchanged.
  auto failed = [&](const std::string &what) {
    const int err = errno;
    if (fd >= 0)
      close(fd);
    unlink(tmp.c_str());
    *error = what + ": " + errno_text(err);
    return false;
  };
  const std::string cannot_write = "cannot write " + t.path + t.via;
  if (t.exists) {
    if ((t.st.st_uid != geteuid() || t.st.st_gid != getegid()) &&
        fchown(fd, t.st.st_uid, t.st.st_gid) != 0) {
      // Not allowed (another user's file): the new file is ours; at least
      // try the group.
      (void)!fchown(fd, uid_t(-1), t.st.st_gid);
    }
    if (fchmod(fd, t.st.st_mode & 0777) != 0)
      return failed(cannot_write);
  }
  if (!write_all(fd, data))
    return failed(cannot_write);
  if (fsync(fd) != 0 && errno != EINVAL)
    return failed(cannot_write);
  const int closed = close(fd);
  fd = -1;
  if (closed != 0)
    return failed(cannot_write);
  if (rename(tmp.c_str(), t.path.c_str()) != 0)
    return failed("cannot rename " + tmp + " to " + t.path);
  // The rename itself, on disk: best effort.
  int dfd = open(dir.get(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return true;
}

// A device, FIFO or socket: written in place, as a shell's ">" would (no
// O_CREAT, no O_TRUNC); a FIFO waits here for its reader.
bool write_in_place(const Target &t, const std::string &data, std::string *error)
{
  const std::string cannot_write = "cannot write " + t.path + t.via;
  // O_NOFOLLOW: T.PATH has no link left in its last component; if one appears
  // there now, fail rather than follow it.
  int fd = open(t.path.c_str(), O_WRONLY | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    *error = cannot_write + ": " + errno_text(errno);
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_dev != t.st.st_dev || st.st_ino != t.st.st_ino) {
    *error = cannot_write + ": it was replaced while being opened";
    close(fd);
    return false;
  }
  // A reader gone from a FIFO is an error to report, not a silent death by
  // SIGPIPE.
  if (S_ISFIFO(st.st_mode))
    signal(SIGPIPE, SIG_IGN);
  bool ok = write_all(fd, data);
  int err = errno;
  if (close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (!ok)
    *error = cannot_write + ": " + errno_text(err);
  return ok;
}

}  // namespace

std::optional<Failure> check_output(const std::string &path)
{
  auto resolved = resolve_output(path);
  if (auto *f = std::get_if<Failure>(&resolved))
    return *f;
  const Target &t = std::get<Target>(resolved);
  if (t.exists && access(t.path.c_str(), W_OK) != 0)
    return Failure{kExitFailure, "cannot write " + t.path + t.via + ": " + errno_text(errno)};
  if (!replaced(t))
    return std::nullopt;
  // The temporary is created in the file's directory.
  GCharPtr dir(g_path_get_dirname(t.path.c_str()));
  struct stat st;
  if (stat(dir.get(), &st) != 0) {
    if (errno == ENOENT)
      return Failure{kExitFailure, "cannot write " + t.path + t.via + ": the directory " +
                                       dir.get() + " does not exist"};
    return Failure{kExitFailure, "cannot write " + t.path + t.via + ": " + errno_text(errno)};
  }
  if (!S_ISDIR(st.st_mode))
    return Failure{kExitFailure,
                   "cannot write " + t.path + t.via + ": " + dir.get() + " is not a directory"};
  if (access(dir.get(), W_OK | X_OK) != 0)
    return Failure{kExitFailure, "cannot write " + t.path + t.via + ": cannot create files in " +
                                     dir.get() + ": " + errno_text(errno)};
  return std::nullopt;
}

bool write_output(const std::string &path, const std::string &data, std::string *error)
{
  auto resolved = resolve_output(path);
  if (auto *f = std::get_if<Failure>(&resolved)) {
    *error = f->message;
    return false;
  }
  const Target &t = std::get<Target>(resolved);
  if (!replaced(t))
    return write_in_place(t, data, error);
  // Replacing a file one may not write would defeat its write protection:
  // refuse, as ">" and cp do.
  if (t.exists && access(t.path.c_str(), W_OK) != 0) {
    *error = "cannot write " + t.path + t.via + ": " + errno_text(errno);
    return false;
  }
  return replace_file(t, data, error);
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
