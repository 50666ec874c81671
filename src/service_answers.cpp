// SPDX-License-Identifier: LGPL-2.1-or-later
#include "service_answers.h"

#include <algorithm>
#include <cstring>
#include <memory>

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
  if (!segments)
    return;
  for (guint i = 0; i < json_array_get_length(segments); ++i) {
    HarfReply rep = parse_harf_reply(json_array_get_element(segments, i));
    if (rep.kind != HarfReply::Kind::Segment) {
      out.skipped.push_back("segment " + std::to_string(i) + ": " +
                            (rep.error.empty() ? "no text" : rep.error));
      continue;
    }
    rep.segment.id = static_cast<int64_t>(i);
    rep.segment.final = true;
    out.segments.push_back(std::move(rep.segment));
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
 * message gets an unknown timestamp. */
void fill_word_times(std::vector<Word> *words)
{
  for (size_t i = 0; i < (*words).size(); ++i) {
    Word &w = (*words)[i];
    if (w.start == kNoTime) {
      if (i > 0)
        w.start = (*words)[i - 1].end;
      else {
        /* the first: where the next timed word starts, but not after
         * its own end */
        uint64_t start = kNoTime;
        for (const Word &next : (*words))
          if (next.start != kNoTime) {
            start = next.start;
            break;
          }
        if (w.end != kNoTime && (start == kNoTime || w.end < start))
          start = w.end;
        w.start = start == kNoTime ? 0 : start;
      }
    }
    if (w.end == kNoTime || w.end < w.start)
      w.end = w.start;
  }
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
 * json-glib tree they took about 15 MB at once.  So a long answer is cut
 * where its word list is: the rest (the "skeleton", with an empty list) is
 * parsed as before, and each word alone, then freed.  The cut needs only
 * to find boundaries in JSON that json_scan() has already found strict;
 * anything it does not expect (an escaped or repeated key on the path,
 * another shape, a stray character between words) makes it give up, and
 * the whole answer is parsed in one piece, as it always was.  The fuzz
 * target checks that both ways give the same answer. */

size_t skip_space(const char *d, size_t n, size_t i)
{
  while (i < n && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r'))
    ++i;
  return i;
}

/* The end (one past) of the string starting at d[i] == '"', or 0 */
size_t skip_string(const char *d, size_t n, size_t i)
{
  for (++i; i < n; ++i) {
    if (d[i] == '\\')
      ++i;
    else if (d[i] == '"')
      return i + 1;
  }
  return 0;
}

/* The end (one past) of the value starting at d[i], or 0 */
size_t skip_value(const char *d, size_t n, size_t i)
{
  if (i >= n)
    return 0;
  if (d[i] == '"')
    return skip_string(d, n, i);
  if (d[i] == '{' || d[i] == '[') {
    unsigned depth = 0;
    for (; i < n; ++i) {
      if (d[i] == '"') {
        i = skip_string(d, n, i);
        if (!i)
          return 0;
        --i;
      } else if (d[i] == '{' || d[i] == '[') {
        ++depth;
      } else if (d[i] == '}' || d[i] == ']') {
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
bool find_member(const char *d, size_t n, size_t i, const char *key, size_t *lo, size_t *hi)
{
  if (i >= n || d[i] != '{')
    return false;
  bool found = false;
  i = skip_space(d, n, i + 1);
  if (i < n && d[i] == '}')
    return false;
  while (i < n) {
    const size_t key_end = d[i] == '"' ? skip_string(d, n, i) : 0;
    if (!key_end || memchr(d + i, '\\', key_end - i))
      return false;
    const bool match = key_end - i - 2 == strlen(key) && memcmp(d + i + 1, key, strlen(key)) == 0;
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

struct WordList {
  size_t lo = 0, hi = 0;                       /* the array, brackets included */
  std::vector<std::pair<size_t, size_t>> items; /* each element's range */
};

bool find_word_list(const char *d, size_t n, WordList *out)
{
  size_t lo = 0, hi = 0, a = 0, b = 0;
  const size_t root = skip_space(d, n, 0);
  if (!find_member(d, n, root, "result", &lo, &hi) ||
      !find_member(d, n, lo, "transcription", &a, &b) || !find_member(d, n, a, "result", &lo, &hi))
    return false;
  if (d[lo] != '[')
    return false;
  out->lo = lo;
  out->hi = hi;
  size_t i = skip_space(d, n, lo + 1);
  if (d[i] == ']')
    return i + 1 == hi;
  while (i < hi) {
    const size_t end = skip_value(d, n, i);
    if (!end || end >= hi)
      return false;
    out->items.emplace_back(i, end);
    i = skip_space(d, n, end);
    if (d[i] == ']')
      return i + 1 == hi;
    if (d[i] != ',')
      return false;
    i = skip_space(d, n, i + 1);
  }
  return false;
}

}  // namespace

NevisaProgress parse_nevisa_progress(const char *data, size_t len, size_t split_from)
{
  if (len < split_from)
    return parse_nevisa_progress_whole(data, len);
  const JsonScan scan = json_scan(data, len, kMaxJsonDepth);
  WordList list;
  if (scan.refused || scan.depth > kMaxJsonDepth || !find_word_list(data, len, &list))
    return parse_nevisa_progress_whole(data, len);
  std::string skeleton(data, list.lo);
  skeleton += "[]";
  skeleton.append(data + list.hi, len - list.hi);
  NevisaProgress out = parse_nevisa_progress_whole(skeleton.data(), skeleton.size());
  if (!out.ok || out.state != "SUCCESS")
    return parse_nevisa_progress_whole(data, len); /* its messages quote the answer itself */
  for (size_t i = 0; i < list.items.size(); ++i) {
    const auto [lo, hi] = list.items[i];
    std::string why;
    NodePtr word(parse_json_limited(data + lo, hi - lo, &why), json_node_unref);
    if (!word)
      return parse_nevisa_progress_whole(data, len);
    read_vosk_word(word.get(), static_cast<guint>(i), &out.words, &out.skipped);
  }
  fill_word_times(&out.words);
  out.word_by_word = true;
  return out;
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
