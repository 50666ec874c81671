// SPDX-License-Identifier: LGPL-2.1-or-later
/* What the batch services answer, parsed by pure functions: no I/O, no
 * GStreamer, so that the fuzzers and the unit tests drive them directly.
 * Every field is type-checked; an answer with a field of the wrong type is
 * an error that names the field, never a crash. */
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "transcript.h"

namespace pt {

/* The items of an answer parsed whole (words, segments), handed out one
 * at a time the way those of an answer on disk are: take() gives the
 * reasons for those left out first, then the items in order, then false. */
template <class T> struct HeldItems {
  std::vector<T> items;
  std::vector<std::string> skipped;
  size_t next = 0;
  bool take(T *out, std::vector<std::string> *why)
  {
    if (why && next == 0) {
      why->insert(why->end(), skipped.begin(), skipped.end());
      skipped.clear();
    }
    if (next >= items.size())
      return false;
    *out = std::move(items[next++]);
    return true;
  }
};

/* An answer of Harf's file API: the result, or the state of a task. */
struct HarfFileAnswer {
  enum class Kind { Result, State, Invalid };
  Kind kind = Kind::Invalid;
  std::string state;                /* State: PENDING, FAILURE, TIMEOUT, ... */
  std::string task_id;              /* State: the first of task_ids/tasks_ids, if any */
  std::vector<Segment> segments;    /* Result: final, ids 0, 1, ... */
  int64_t total_words = -1;         /* Result: stats.words */
  int64_t known_words = -1;         /* Result: stats.known_words */
  std::vector<std::string> skipped; /* Result: why segments were left out */
  std::string error;                /* Invalid: for a person, naming the field */
};
/* what: "Harf upload" or "Harf task state", to name the answer in errors.
 * Every error is a whole message. */
HarfFileAnswer parse_harf_file_answer(const char *data, size_t len, const std::string &what);

/* A Harf answer too long to hold (the segments of many hours), read from
 * a file a piece at a time, as NevisaAnswerFile does: answer() is
 * parse_harf_file_answer()'s without the segments (and without skipped),
 * next() hands the segments out one by one. */
class HarfAnswerFile {
 public:
  HarfAnswerFile(int fd, size_t size, size_t max_held, const std::string &what,
                 size_t block = 64 * 1024);
  ~HarfAnswerFile();
  HarfAnswerFile(const HarfAnswerFile &) = delete;
  HarfAnswerFile &operator=(const HarfAnswerFile &) = delete;

  const HarfFileAnswer &answer() const { return answer_; }
  /* Result: the segments, in order, ids 0, 1, ...; false after the last.
   * skipped gets why any segments before it were left out. */
  bool next(Segment *seg, std::vector<std::string> *skipped);
  /* Result: how many segments can be used, and why the first that cannot
   * was left out (as known before the first is handed out) */
  size_t usable() const { return usable_; }
  const std::string &first_skipped() const { return first_skipped_; }
  /* next() stopped because the file no longer reads as it did */
  bool failed() const { return failed_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  HarfFileAnswer answer_;
  size_t usable_ = 0;
  std::string first_skipped_;
  bool failed_ = false;
};

/* Nevisa's login answer. */
struct NevisaLogin {
  bool ok = false;
  std::string auth_token;  /* user.token: a secret */
  std::string api_key;     /* user.nevisa_service_account.current_service_record.key */
  bool no_package = false; /* current_service_record is null or has no key */
  std::string error;
};
NevisaLogin parse_nevisa_login(const char *data, size_t len);

/* Nevisa's answer to recognize-file. */
struct NevisaUpload {
  bool ok = false;
  std::string task_id;
  std::string progress_url; /* as sent (relative to the API URL), or celery-progress/<id>/ */
  std::string error;
};
NevisaUpload parse_nevisa_upload(const char *data, size_t len);

/* Nevisa's celery-progress answer. */
struct NevisaProgress {
  bool ok = false;
  std::string state;                /* PENDING, STARTED, PROGRESS, SUCCESS, FAILURE, ... */
  double percent = -1;              /* 0..100, or -1 when not given or out of range */
  std::vector<Word> words;          /* SUCCESS: result.transcription.result */
  std::string failure;              /* FAILURE/REVOKED/RETRY: the service's text */
  std::vector<std::string> skipped; /* words left out, and why */
  std::string error;
  bool word_by_word = false; /* the word list was read one word at a time */
};
/* An answer of split_from bytes or more has its word list read one word at
 * a time (a two-hour recording's words took 15 MB as one json-glib tree);
 * the result is the same as parse_nevisa_progress_whole()'s, which parses
 * the answer in one piece (the fuzz target compares the two). */
NevisaProgress parse_nevisa_progress(const char *data, size_t len, size_t split_from = 64 * 1024);
NevisaProgress parse_nevisa_progress_whole(const char *data, size_t len);

/* A Nevisa answer too long to hold (many hours of words), read from a file
 * a piece at a time: what surrounds the word list is parsed as
 * parse_nevisa_progress() does, and the words are handed out one by one.
 * Memory stays bounded however long the answer: one block of the file, one
 * word, and the skeleton (at most max_held bytes).  An answer the cut does
 * not expect is parsed whole, as parse_nevisa_progress() does, when it is
 * at most max_held bytes, and is an error otherwise. */
class NevisaAnswerFile {
 public:
  /* fd: the answer, from offset 0, size bytes; not owned, open while this
   * lives.  block: the bytes read at once. */
  NevisaAnswerFile(int fd, size_t size, size_t max_held, size_t block = 64 * 1024);
  ~NevisaAnswerFile();
  NevisaAnswerFile(const NevisaAnswerFile &) = delete;
  NevisaAnswerFile &operator=(const NevisaAnswerFile &) = delete;

  /* Everything but the words (answer().words is empty): ok, state,
   * percent, failure, error. */
  const NevisaProgress &answer() const { return answer_; }
  /* The words of a SUCCESS in order, with parse_nevisa_progress()'s times;
   * false after the last.  skipped gets why any words before it were left
   * out. */
  bool next(Word *w, std::vector<std::string> *skipped);
  /* The words in the list, read one at a time; 0 when parsed whole */
  size_t words() const { return words_; }
  /* next() stopped because the file no longer reads as it did */
  bool failed() const { return failed_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  NevisaProgress answer_;
  size_t words_ = 0;
  bool failed_ = false;
};

/* One text message of Nevisa's live WebSocket: a control message
 * ({"subject": "INIT"}, ...), an interim text ({"transcription":
 * {"partial": "..."}}) or a final result ({"transcription": {"result":
 * [Vosk words], "text": "..."}}). */
struct NevisaLiveMessage {
  enum class Kind { Subject, Partial, Final, Malformed };
  Kind kind = Kind::Malformed;
  std::string subject;              /* Subject */
  std::string text;                 /* Partial, Final (valid UTF-8, bounded) */
  std::vector<Word> words;          /* Final: seconds from the session's start, as ns */
  std::vector<std::string> skipped; /* words left out, and why */
  std::string error;                /* Malformed: for a person */
};
NevisaLiveMessage parse_nevisa_live_message(const char *data, size_t len);

}  // namespace pt
