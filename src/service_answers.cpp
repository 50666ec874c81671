// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service_answers.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>

#include "harf_reply.h"
#include "json_fields.h"

namespace pt {

namespace {

using NodePtr = std::unique_ptr<JsonNode, decltype(&json_node_unref)>;

/* The root, or null with *error a whole message: "<what> answered ..." */
NodePtr parse(const char *data, size_t len, const std::string &what, std::string *error)
{
  std::string why;
  NodePtr root(parse_json_limited(data, len, &why), json_node_unref);
  if (!root)
    *error = what + " answered " +
             (g_str_has_prefix(why.c_str(), "not JSON") ? "something that is " + why : why) + ": " +
             quote_excerpt(data, len);
  return root;
}

std::string excerpt(const char *data, size_t len)
{
  return quote_excerpt(data, len);
}

/* Segment i of a Harf result, final, with id i; or why it is left out */
std::optional<Segment> harf_segment(JsonNode *node, guint i, std::string *why)
{
  HarfReply rep = parse_harf_reply(node);
  if (rep.kind != HarfReply::Kind::Segment) {
    *why = "segment " + std::to_string(i) + ": " + (rep.error.empty() ? "no text" : rep.error);
    return std::nullopt;
  }
  rep.segment.id = static_cast<int64_t>(i);
  rep.segment.final = true;
  return std::move(rep.segment);
}

void harf_result(JsonArray *a, HarfFileAnswer &out)
{
  JsonNode *first = json_array_get_length(a) > 0 ? json_array_get_element(a, 0) : nullptr;
  JsonFields file(first, "Harf result");
  if (!file.is_object()) {
    out.error = "Harf answered an empty result";
    return;
  }
  JsonFields stats(file.object("stats"), "Harf result stats");
  out.total_words = stats.integer("words").value_or(-1);
  out.known_words = stats.integer("known_words").value_or(-1);
  JsonArray *segments = file.array("segments");
  if (!file.ok() || !stats.ok()) {
    out.error = !file.ok() ? file.error() : stats.error();
    return;
  }
  out.kind = HarfFileAnswer::Kind::Result;
  for (guint i = 0; segments && i < json_array_get_length(segments); ++i) {
    std::string why;
    if (std::optional<Segment> seg = harf_segment(json_array_get_element(segments, i), i, &why))
      out.segments.push_back(std::move(*seg));
    else
      out.skipped.push_back(std::move(why));
  }
}

}  // namespace

HarfFileAnswer parse_harf_file_answer(const char *data, size_t len, const std::string &what)
{
  HarfFileAnswer out;
  NodePtr root = parse(data, len, what, &out.error);
  if (!root)
    return out;
  if (JSON_NODE_HOLDS_ARRAY(root.get())) {
    harf_result(json_node_get_array(root.get()), out);
    return out;
  }
  JsonFields f(root.get(), what);
  if (!f.is_object()) {
    out.error = what + " answered neither a result nor a task state: " + excerpt(data, len);
    return out;
  }
  std::optional<std::string> state = f.string("state");
  JsonArray *ids = f.has("task_ids") ? f.array("task_ids") : f.array("tasks_ids");
  if (!f.ok()) {
    out.error = f.error();
    return out;
  }
  if (ids && json_array_get_length(ids) > 0) {
    JsonNode *id = json_array_get_element(ids, 0);
    if (JSON_NODE_HOLDS_VALUE(id) && json_node_get_value_type(id) == G_TYPE_STRING)
      out.task_id = clean_text(json_node_get_string(id), 256);
    else if (JSON_NODE_HOLDS_VALUE(id) && json_node_get_value_type(id) == G_TYPE_INT64)
      out.task_id = std::to_string(json_node_get_int(id));
    else {
      out.error =
          what + ": a task id is " + json_type_name(id) + ", expected a string or an integer";
      return out;
    }
  }
  if (!state) {
    out.error = what + " answered neither a result nor a task state: " + excerpt(data, len);
    return out;
  }
  out.kind = HarfFileAnswer::Kind::State;
  out.state = *state;
  return out;
}

NevisaLogin parse_nevisa_login(const char *data, size_t len)
{
  NevisaLogin out;
  NodePtr root = parse(data, len, "Nevisa login", &out.error);
  if (!root)
    return out;
  JsonFields top(root.get(), "Nevisa login");
  JsonFields user(top.object("user"), "Nevisa login user");
  out.auth_token = user.string("token").value_or("");
  JsonFields account(user.object("nevisa_service_account"), "Nevisa login account");
  JsonNode *record_node = account.object("current_service_record");
  JsonFields record(record_node, "Nevisa login service record");
  out.api_key = record.string("key").value_or("");
  for (const JsonFields *f : {&top, &user, &account, &record})
    if (!f->ok()) {
      out.error = f->error();
      return out;
    }
  if (out.auth_token.empty()) {
    out.error = "Nevisa login answered without user.token";
    return out;
  }
  out.no_package = !record_node || out.api_key.empty();
  out.ok = true;
  return out;
}

NevisaUpload parse_nevisa_upload(const char *data, size_t len)
{
  NevisaUpload out;
  NodePtr root = parse(data, len, "Nevisa upload", &out.error);
  if (!root)
    return out;
  JsonFields f(root.get(), "Nevisa upload");
  std::optional<std::string> id = f.string("task_id");
  if (!id && f.ok())
    if (auto n = f.integer("task_id"))
      id = std::to_string(*n);
  std::optional<std::string> progress = f.string("progress_url");
  if (!f.ok()) {
    out.error = f.error();
    return out;
  }
  out.task_id = id.value_or("");
  out.progress_url = progress.value_or("");
  if (out.task_id.empty() && out.progress_url.empty()) {
    out.error = "Nevisa upload answered without task_id or progress_url: " + excerpt(data, len);
    return out;
  }
  if (out.progress_url.empty())
    out.progress_url = "celery-progress/" + out.task_id + "/";
  out.ok = true;
  return out;
}

namespace {

/* Vosk's word list (Nevisa's file and live results): conf, start, end,
 * word; times in seconds.  Words without text are skipped (and said why);
 * words without a usable time take it from their neighbours, so that no
 * message gets an unknown timestamp. */
void read_vosk_word(JsonNode *node, guint i, std::vector<Word> *words,
                    std::vector<std::string> *skipped)
{
  JsonFields w(node, "Nevisa word " + std::to_string(i));
  Word word;
  word.text = w.string("word").value_or("");
  std::optional<uint64_t> start = w.time("start"), end = w.time("end");
  std::optional<double> conf = w.number("conf");
  if (!w.is_object() || !w.ok() || word.text.empty()) {
    skipped->push_back(w.ok() ? "word " + std::to_string(i) + ": no text" : w.error());
    return;
  }
  word.start = start.value_or(kNoTime);
  word.end = end ? std::max(*end, word.start == kNoTime ? *end : word.start) : word.start;
  word.confidence = conf && *conf >= 0 && *conf <= 1 ? *conf : -1;
  words->push_back(std::move(word));
}

/* Words without a usable time take it from their neighbours, so that no
 * message gets an unknown timestamp: the first from the first word that
 * has a start (but not after its own end), the others from the word before
 * them.  One word at a time, for lists too long to hold. */
class WordTimes {
 public:
  /* first_start: the start of the list's first word that has one */
  explicit WordTimes(uint64_t first_start) : first_start_(first_start) {}
  void fill(Word &w)
  {
    if (w.start == kNoTime) {
      if (!first_) {
        w.start = prev_end_;
      } else {
        uint64_t start = first_start_;
        if (w.end != kNoTime && (start == kNoTime || w.end < start))
          start = w.end;
        w.start = start == kNoTime ? 0 : start;
      }
    }
    if (w.end == kNoTime || w.end < w.start)
      w.end = w.start;
    first_ = false;
    prev_end_ = w.end;
  }

 private:
  uint64_t first_start_;
  bool first_ = true;
  uint64_t prev_end_ = 0;
};

void fill_word_times(std::vector<Word> *words)
{
  uint64_t first_start = kNoTime;
  for (const Word &w : *words)
    if (w.start != kNoTime) {
      first_start = w.start;
      break;
    }
  WordTimes times(first_start);
  for (Word &w : *words)
    times.fill(w);
}

void read_vosk_words(JsonArray *list, std::vector<Word> *words, std::vector<std::string> *skipped)
{
  for (guint i = 0; list && i < json_array_get_length(list); ++i)
    read_vosk_word(json_array_get_element(list, i), i, words, skipped);
  fill_word_times(words);
}

/* ---- a long word list, one word at a time ----
 *
 * The answer to a two-hour recording holds some 36,000 words; as one
 * json-glib tree they took about 15 MB at once, and an answer for many
 * hours does not fit in memory at all.  So a long answer is cut where its
 * word list is: the rest (the "skeleton", with an empty list and without
 * the transcript's text) is parsed as before, and each word alone, then
 * freed.  The cut needs only to find boundaries in JSON that json_scan()
 * has already found strict; anything it does not expect (an escaped or
 * repeated key on the path, another shape, a stray character between
 * words) makes it give up, and the whole answer is parsed in one piece, as
 * it always was.  The same code reads an answer in memory (MemoryBytes) and
 * one on disk (FileBytes).  The fuzz target checks that every way gives the
 * same answer. */

template <class B> size_t skip_space(const B &d, size_t n, size_t i)
{
  while (i < n && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r'))
    ++i;
  return i;
}

/* The end (one past) of the string starting at d[i] == '"', or 0 */
template <class B> size_t skip_string(const B &d, size_t n, size_t i)
{
  for (++i; i < n; ++i) {
    const char c = d[i];
    if (c == '\\')
      ++i;
    else if (c == '"')
      return i + 1;
  }
  return 0;
}

/* The end (one past) of the value starting at d[i], or 0 */
template <class B> size_t skip_value(const B &d, size_t n, size_t i)
{
  if (i >= n)
    return 0;
  if (d[i] == '"')
    return skip_string(d, n, i);
  if (d[i] == '{' || d[i] == '[') {
    unsigned depth = 0;
    for (; i < n; ++i) {
      const char c = d[i];
      if (c == '"') {
        i = skip_string(d, n, i);
        if (!i)
          return 0;
        --i;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0)
          return i + 1;
      }
    }
    return 0;
  }
  const size_t start = i;
  while (i < n && !strchr(",]} \t\n\r", d[i]))
    ++i;
  return i > start ? i : 0;
}

/* The value of key in the object starting at d[i] == '{': its range, when
 * the key is there exactly once, written without escapes. */
template <class B>
bool find_member(const B &d, size_t n, size_t i, const char *key, size_t *lo, size_t *hi)
{
  if (i >= n || d[i] != '{')
    return false;
  const size_t key_len = strlen(key);
  bool found = false;
  i = skip_space(d, n, i + 1);
  if (i < n && d[i] == '}')
    return false;
  while (i < n) {
    const size_t key_end = d[i] == '"' ? skip_string(d, n, i) : 0;
    if (!key_end)
      return false;
    bool match = key_end - i - 2 == key_len;
    for (size_t k = i + 1; k + 1 < key_end; ++k) {
      if (d[k] == '\\')
        return false;
      match = match && d[k] == key[k - i - 1];
    }
    i = skip_space(d, n, key_end);
    if (i >= n || d[i] != ':')
      return false;
    i = skip_space(d, n, i + 1);
    const size_t end = skip_value(d, n, i);
    if (!end)
      return false;
    if (match) {
      if (found)
        return false; /* json-glib keeps the last: not worth following */
      found = true;
      *lo = i;
      *hi = end;
    }
    i = skip_space(d, n, end);
    if (i < n && d[i] == '}')
      return found;
    if (i >= n || d[i] != ',')
      return false;
    i = skip_space(d, n, i + 1);
  }
  return false;
}

/* Where an answer is cut: its word list, and the transcript's text. */
struct AnswerCut {
  size_t list_lo = 0, list_hi = 0; /* the array, brackets included */
  size_t text_lo = 0, text_hi = 0; /* a string, quotes included; empty if none */
};

/* The items of the word list, one at a time. */
struct ItemCursor {
  size_t next = 0; /* where to read on: just past the '[' or the last item */
  bool started = false;
};

/* The next item's range; false at the end of the list (*bad false) or on
 * anything that is not a list of values (*bad true). */
template <class B>
bool next_item(const B &d, const AnswerCut &c, ItemCursor *cur, size_t *lo, size_t *hi, bool *bad)
{
  const size_t n = d.size();
  *bad = false;
  size_t i = skip_space(d, n, cur->started ? cur->next : c.list_lo + 1);
  if (d[i] == ']') {
    *bad = i + 1 != c.list_hi;
    return false;
  }
  if (cur->started) {
    if (d[i] != ',') {
      *bad = true;
      return false;
    }
    i = skip_space(d, n, i + 1);
  }
  cur->started = true;
  const size_t end = skip_value(d, n, i);
  if (!end || end >= c.list_hi) {
    *bad = true;
    return false;
  }
  *lo = i;
  *hi = end;
  cur->next = end;
  return true;
}

/* The string at [lo, hi) (quotes included) is valid UTF-8 without escapes
 * or control characters: json-glib takes it as it is, so leaving it out
 * of the skeleton changes nothing but the memory held.  Read in pieces. */
template <class B> bool plain_string(const B &d, size_t lo, size_t hi)
{
  std::string piece;
  for (size_t at = lo + 1; at < hi - 1;) {
    const size_t end = std::min(hi - 1, at + 4096);
    const size_t carried = piece.size();
    d.copy(at, end, &piece);
    for (size_t k = carried; k < piece.size(); ++k)
      if (static_cast<unsigned char>(piece[k]) < 0x20 || piece[k] == '\\')
        return false;
    const char *valid_end = nullptr;
    if (!g_utf8_validate_len(piece.data(), piece.size(), &valid_end)) {
      /* a character cut by the piece's end goes on into the next piece */
      const size_t rest = piece.size() - static_cast<size_t>(valid_end - piece.data());
      if (end == hi - 1 || rest > 3 || g_utf8_get_char_validated(valid_end, rest) != gunichar(-2))
        return false;
      piece.erase(0, piece.size() - rest);
    } else {
      piece.clear();
    }
    at = end;
  }
  return piece.empty() && !d.failed();
}

/* The list is strict JSON, a list of values, and nothing hides in it */
template <class B> bool check_list(const B &d, const AnswerCut &c)
{
  const JsonScan scan = json_scan(d, kMaxJsonDepth);
  if (scan.refused || scan.depth > kMaxJsonDepth || d.failed())
    return false;
  ItemCursor cur;
  size_t lo = 0, hi = 0;
  bool bad = false;
  while (next_item(d, c, &cur, &lo, &hi, &bad)) {
  }
  return !bad && !d.failed();
}

/* Nevisa: result.transcription.result, and result.transcription.text */
template <class B> bool find_nevisa_cut(const B &d, AnswerCut *c)
{
  const size_t n = d.size();
  size_t lo = 0, hi = 0, a = 0, b = 0;
  const size_t root = skip_space(d, n, 0);
  if (!find_member(d, n, root, "result", &lo, &hi) ||
      !find_member(d, n, lo, "transcription", &a, &b) || !find_member(d, n, a, "result", &lo, &hi))
    return false;
  if (d[lo] != '[')
    return false;
  c->list_lo = lo;
  c->list_hi = hi;
  /* The transcript's text repeats the words: it is not read, and it would
   * grow the skeleton with the recording. */
  if (find_member(d, n, a, "text", &lo, &hi) && d[lo] == '"' && plain_string(d, lo, hi)) {
    c->text_lo = lo;
    c->text_hi = hi;
  }
  return check_list(d, *c);
}

/* Harf: the segments of the first file of the result array */
template <class B> bool find_harf_cut(const B &d, AnswerCut *c)
{
  const size_t n = d.size();
  const size_t root = skip_space(d, n, 0);
  if (root >= n || d[root] != '[')
    return false;
  const size_t first = skip_space(d, n, root + 1);
  size_t lo = 0, hi = 0;
  if (!find_member(d, n, first, "segments", &lo, &hi) || d[lo] != '[')
    return false;
  c->list_lo = lo;
  c->list_hi = hi;
  return check_list(d, *c);
}

/* The answer without its word list (an empty one) and text (""): small
 * however long the recording; empty when longer than max_bytes. */
template <class B> std::string skeleton(const B &d, const AnswerCut &c, size_t max_bytes)
{
  std::pair<size_t, size_t> cuts[2] = {{c.list_lo, c.list_hi}, {c.text_lo, c.text_hi}};
  if (cuts[1].first < cuts[0].first)
    std::swap(cuts[0], cuts[1]);
  size_t size = d.size() + 2;
  for (const auto &[lo, hi] : cuts)
    size -= hi - lo;
  if (size > max_bytes)
    return "";
  std::string out;
  out.reserve(size + 2);
  size_t at = 0;
  for (const auto &[lo, hi] : cuts) {
    if (hi == lo)
      continue;
    d.copy(at, lo, &out);
    out += lo == c.list_lo ? "[]" : "\"\"";
    at = hi;
  }
  d.copy(at, d.size(), &out);
  return d.failed() ? "" : out;
}

/* The item at [lo, hi), parsed; null if it is not JSON (then neither is
 * the answer: json-glib refuses it whole). */
template <class B> NodePtr parse_item(const B &d, size_t lo, size_t hi, std::string *buf)
{
  buf->clear();
  d.copy(lo, hi, buf);
  std::string why;
  NodePtr node(parse_json_limited(buf->data(), buf->size(), &why), json_node_unref);
  if (d.failed())
    node.reset();
  return node;
}


}  // namespace

NevisaProgress parse_nevisa_progress(const char *data, size_t len, size_t split_from)
{
  if (len < split_from)
    return parse_nevisa_progress_whole(data, len);
  const MemoryBytes d(data, len);
  AnswerCut cut;
  if (!find_nevisa_cut(d, &cut))
    return parse_nevisa_progress_whole(data, len);
  const std::string skel = skeleton(d, cut, len + 4);
  NevisaProgress out = parse_nevisa_progress_whole(skel.data(), skel.size());
  if (!out.ok || out.state != "SUCCESS")
    return parse_nevisa_progress_whole(data, len); /* its messages quote the answer itself */
  ItemCursor cur;
  size_t lo = 0, hi = 0;
  bool bad = false;
  std::string buf;
  for (guint i = 0; next_item(d, cut, &cur, &lo, &hi, &bad); ++i) {
    NodePtr word = parse_item(d, lo, hi, &buf);
    if (!word)
      return parse_nevisa_progress_whole(data, len);
    read_vosk_word(word.get(), i, &out.words, &out.skipped);
  }
  fill_word_times(&out.words);
  out.word_by_word = true;
  return out;
}

/* ---- an answer on disk ---- */

namespace {

/* What both services' answers on disk share: the file, where it is cut,
 * and the list's items read one at a time. */
struct AnswerOnDisk {
  AnswerOnDisk(int fd, size_t size, size_t block) : bytes(fd, size, block) {}
  FileBytes bytes;
  AnswerCut cut;
  ItemCursor cursor;
  guint index = 0;
  std::string buf;

  /* Every item, parsed, to seen(node, index), before any is handed out:
   * all of them are JSON (else the answer is not, and false), and what
   * needs the whole list (the first timed word, a usable segment) is
   * known.  Memory: one item at a time. */
  template <class Seen> bool check_items(Seen seen)
  {
    ItemCursor cur;
    size_t lo = 0, hi = 0;
    bool bad = false;
    for (guint i = 0; next_item(bytes, cut, &cur, &lo, &hi, &bad); ++i) {
      NodePtr node = parse_item(bytes, lo, hi, &buf);
      if (!node)
        return false;
      seen(node.get(), i);
    }
    return !bad && !bytes.failed();
  }
  /* The next item, or null after the last (*failed: the file no longer
   * reads as it did) */
  NodePtr next(guint *i, bool *failed)
  {
    size_t lo = 0, hi = 0;
    bool bad = false;
    *failed = false;
    if (!next_item(bytes, cut, &cursor, &lo, &hi, &bad)) {
      *failed = bad || bytes.failed();
      return NodePtr(nullptr, json_node_unref);
    }
    *i = index++;
    NodePtr node = parse_item(bytes, lo, hi, &buf);
    *failed = !node;
    return node;
  }
  /* The whole answer, for one the cut does not expect; false on a read
   * error (*error says it) */
  bool read_all(std::string *all, std::string *error)
  {
    all->reserve(bytes.size());
    bytes.copy(0, bytes.size(), all);
    if (bytes.failed())
      *error = std::string("cannot read the answer back from disk: ") + g_strerror(errno);
    return !bytes.failed();
  }
};

std::string too_large_to_hold(const std::string &what, size_t size, size_t max_held,
                              const char *why)
{
  return what + " answered " + std::to_string(size) + " bytes, more than \"max-answer-size\" (" +
         std::to_string(max_held) + "), and they cannot be read a piece at a time (" + why + ")";
}

}  // namespace

struct NevisaAnswerFile::Impl {
  Impl(int fd, size_t size, size_t block) : disk(fd, size, block) {}
  AnswerOnDisk disk;
  HeldItems<Word> held;    /* a small answer parsed whole */
  std::vector<Word> words; /* what one item gave */
  std::unique_ptr<WordTimes> times;
};

NevisaAnswerFile::NevisaAnswerFile(int fd, size_t size, size_t max_held, size_t block)
    : impl_(std::make_unique<Impl>(fd, size, block))
{
  Impl &m = *impl_;
  auto whole = [&](const char *why) {
    words_ = 0;
    answer_ = NevisaProgress();
    std::string all;
    if (size > max_held)
      answer_.error = too_large_to_hold("Nevisa progress", size, max_held, why);
    else if (!m.disk.read_all(&all, &answer_.error))
      answer_.error = "Nevisa progress: " + answer_.error;
    else
      answer_ = parse_nevisa_progress_whole(all.data(), all.size());
    m.held.items = std::move(answer_.words);
    m.held.skipped = std::move(answer_.skipped);
    answer_.words.clear();
    answer_.skipped.clear();
  };
  if (!find_nevisa_cut(m.disk.bytes, &m.disk.cut)) {
    whole("its word list is not where it is expected");
    return;
  }
  const std::string skel = skeleton(m.disk.bytes, m.disk.cut, max_held);
  if (skel.empty()) {
    whole("what surrounds the word list is too large");
    return;
  }
  uint64_t first_start = kNoTime;
  std::vector<Word> one;
  std::vector<std::string> skipped; /* said as the words are handed out */
  const bool all_json = m.disk.check_items([&](JsonNode *node, guint i) {
    one.clear();
    skipped.clear();
    read_vosk_word(node, i, &one, &skipped);
    ++words_;
    if (first_start == kNoTime && !one.empty() && one[0].start != kNoTime)
      first_start = one[0].start;
  });
  if (!all_json) {
    whole("a word is not JSON");
    return;
  }
  answer_ = parse_nevisa_progress_whole(skel.data(), skel.size());
  if (!answer_.ok || answer_.state != "SUCCESS") {
    words_ = 0;
    if (size <= max_held)
      whole(""); /* its messages quote the answer itself */
    return;
  }
  m.times = std::make_unique<WordTimes>(first_start);
  answer_.word_by_word = true;
}

NevisaAnswerFile::~NevisaAnswerFile() = default;

bool NevisaAnswerFile::next(Word *w, std::vector<std::string> *skipped)
{
  Impl &m = *impl_;
  if (!answer_.ok || answer_.state != "SUCCESS")
    return false;
  if (!m.times)
    return m.held.take(w, skipped);
  std::vector<std::string> unasked;
  guint i = 0;
  while (NodePtr node = m.disk.next(&i, &failed_)) {
    m.words.clear();
    unasked.clear();
    read_vosk_word(node.get(), i, &m.words, skipped ? skipped : &unasked);
    if (m.words.empty())
      continue;
    *w = std::move(m.words[0]);
    m.times->fill(*w);
    return true;
  }
  return false;
}

struct HarfAnswerFile::Impl {
  Impl(int fd, size_t size, size_t block) : disk(fd, size, block) {}
  AnswerOnDisk disk;
  HeldItems<Segment> held; /* a small answer parsed whole */
  bool one_at_a_time = false;
};

HarfAnswerFile::HarfAnswerFile(int fd, size_t size, size_t max_held, const std::string &what,
                               size_t block)
    : impl_(std::make_unique<Impl>(fd, size, block))
{
  Impl &m = *impl_;
  auto whole = [&](const char *why) {
    usable_ = 0;
    first_skipped_.clear();
    answer_ = HarfFileAnswer();
    std::string all;
    if (size > max_held)
      answer_.error = too_large_to_hold(what, size, max_held, why);
    else if (!m.disk.read_all(&all, &answer_.error))
      answer_.error = what + ": " + answer_.error;
    else
      answer_ = parse_harf_file_answer(all.data(), all.size(), what);
    m.held.items = std::move(answer_.segments);
    m.held.skipped = std::move(answer_.skipped);
    answer_.segments.clear();
    answer_.skipped.clear();
    usable_ = m.held.items.size();
    if (!m.held.skipped.empty())
      first_skipped_ = m.held.skipped.front();
  };
  if (!find_harf_cut(m.disk.bytes, &m.disk.cut)) {
    whole("its segments are not where they are expected");
    return;
  }
  const std::string skel = skeleton(m.disk.bytes, m.disk.cut, max_held);
  if (skel.empty()) {
    whole("what surrounds the segments is too large");
    return;
  }
  const bool all_json = m.disk.check_items([&](JsonNode *node, guint i) {
    std::string why;
    if (harf_segment(node, i, &why))
      ++usable_;
    else if (first_skipped_.empty())
      first_skipped_ = why;
  });
  if (!all_json) {
    whole("a segment is not JSON");
    return;
  }
  answer_ = parse_harf_file_answer(skel.data(), skel.size(), what);
  if (answer_.kind != HarfFileAnswer::Kind::Result) {
    if (size <= max_held)
      whole(""); /* its messages quote the answer itself */
    return;
  }
  m.one_at_a_time = true;
}

HarfAnswerFile::~HarfAnswerFile() = default;

bool HarfAnswerFile::next(Segment *seg, std::vector<std::string> *skipped)
{
  Impl &m = *impl_;
  if (answer_.kind != HarfFileAnswer::Kind::Result)
    return false;
  if (!m.one_at_a_time)
    return m.held.take(seg, skipped);
  guint i = 0;
  while (NodePtr node = m.disk.next(&i, &failed_)) {
    std::string why;
    if (std::optional<Segment> s = harf_segment(node.get(), i, &why)) {
      *seg = std::move(*s);
      return true;
    }
    if (skipped)
      skipped->push_back(std::move(why));
  }
  return false;
}

NevisaProgress parse_nevisa_progress_whole(const char *data, size_t len)
{
  NevisaProgress out;
  NodePtr root = parse(data, len, "Nevisa progress", &out.error);
  if (!root)
    return out;
  JsonFields f(root.get(), "Nevisa progress");
  out.state = f.string("state").value_or("");
  JsonFields progress(f.object("progress"), "Nevisa progress");
  std::optional<double> percent = progress.number("percent");
  if (!f.ok() || !progress.ok()) {
    out.error = !f.ok() ? f.error() : progress.error();
    return out;
  }
  if (percent && *percent >= 0 && *percent <= 100)
    out.percent = *percent;
  if (out.state == "SUCCESS") {
    out.percent = 100;
    JsonFields result(f.object("result"), "Nevisa result");
    JsonFields transcription(result.object("transcription"), "Nevisa transcription");
    JsonArray *list = transcription.array("result");
    for (const JsonFields *g : {&f, &result, &transcription})
      if (!g->ok()) {
        out.error = g->error();
        return out;
      }
    read_vosk_words(list, &out.words, &out.skipped);
  } else if (out.state == "FAILURE" || out.state == "REVOKED" || out.state == "RETRY") {
    JsonNode *r = f.member("result");
    if (!r) {
      out.failure = "no details";
    } else if (JSON_NODE_HOLDS_VALUE(r) && json_node_get_value_type(r) == G_TYPE_STRING) {
      out.failure = clean_text(json_node_get_string(r), 2000);
    } else {
      gchar *s = json_to_string(r, FALSE);
      out.failure = quote_excerpt(s, strlen(s), 2000);
      g_free(s);
    }
  }
  out.ok = true;
  return out;
}

NevisaLiveMessage parse_nevisa_live_message(const char *data, size_t len)
{
  NevisaLiveMessage out;
  NodePtr root = parse(data, len, "Nevisa live message", &out.error);
  if (!root) {
    out.kind = NevisaLiveMessage::Kind::Malformed;
    return out;
  }
  JsonFields f(root.get(), "Nevisa live message");
  if (!f.is_object()) {
    out.kind = NevisaLiveMessage::Kind::Malformed;
    out.error = "Nevisa live message is not a JSON object: " + excerpt(data, len);
    return out;
  }
  std::optional<std::string> subject = f.string("subject");
  JsonFields t(f.object("transcription"), "Nevisa transcription");
  if (!f.ok()) {
    out.kind = NevisaLiveMessage::Kind::Malformed;
    out.error = f.error();
    return out;
  }
  if (subject) {
    out.kind = NevisaLiveMessage::Kind::Subject;
    out.subject = clean_text(subject->c_str(), 256);
    return out;
  }
  if (!f.member("transcription")) {
    out.kind = NevisaLiveMessage::Kind::Malformed;
    out.error =
        "Nevisa live message has neither \"subject\" nor \"transcription\": " + excerpt(data, len);
    return out;
  }
  /* A final result: "result" present and truthy (Vosk's word list, or a
   * plain true), with "text".  Otherwise "partial". */
  JsonNode *result = t.member("result");
  bool final = false;
  JsonArray *list = nullptr;
  if (result && JSON_NODE_HOLDS_ARRAY(result)) {
    list = json_node_get_array(result);
    final = json_array_get_length(list) > 0;
  } else if (result && JSON_NODE_HOLDS_VALUE(result) &&
             json_node_get_value_type(result) == G_TYPE_BOOLEAN) {
    final = json_node_get_boolean(result) != FALSE;
  } else if (result && !JSON_NODE_HOLDS_NULL(result)) {
    out.kind = NevisaLiveMessage::Kind::Malformed;
    out.error = std::string("Nevisa transcription: \"result\" is ") + json_type_name(result) +
                ", expected a word list";
    return out;
  }
  std::optional<std::string> text = t.string(final ? "text" : "partial");
  if (!t.ok()) {
    out.kind = NevisaLiveMessage::Kind::Malformed;
    out.error = t.error();
    return out;
  }
  out.text = text.value_or("");
  if (final) {
    out.kind = NevisaLiveMessage::Kind::Final;
    read_vosk_words(list, &out.words, &out.skipped);
    if (out.text.empty())
      for (const Word &w : out.words)
        out.text += (out.text.empty() ? "" : " ") + w.text;
  } else {
    out.kind = NevisaLiveMessage::Kind::Partial;
  }
  return out;
}

}  // namespace pt
