// SPDX-License-Identifier: LGPL-2.1-or-later
/* The transcript model shared by every backend: segments made of words,
 * with the service's uncertainty marks, times and confidences. */
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "text_escape.h"
#include "time_value.h"

namespace pt {

struct Word {
  std::string text;         /* without brackets */
  uint64_t start = kNoTime; /* ns from the start of the audio the service received */
  uint64_t end = kNoTime;
  double confidence = -1.0; /* 0..1, or -1 when unknown */
  bool uncertain = false;   /* the service put it in [brackets] */
};

struct Segment {
  int64_t id = -1;      /* the service's segment_id, -1 if none */
  std::string raw_text; /* exactly as the service sent it */
  std::string text;     /* brackets removed */
  uint64_t start = 0;   /* service offsets, ns */
  uint64_t end = 0;
  bool final = true;
  std::vector<Word> words;
};

/* Splits a Harf text into words; words inside [ ] (a bracket may span several
 * words) are uncertain.  Fills seg.text and seg.words from seg.raw_text. */
void parse_uncertainty(Segment &seg);

/* Groups timed words (Nevisa) into segments: a new segment after a pause
 * longer than max_pause or after sentence punctuation (. ! ? ؟ …).  Words
 * whose confidence is below min_confidence are uncertain. */
std::vector<Segment> segments_from_words(const std::vector<Word> &words, uint64_t max_pause,
                                         double min_confidence);

/* The same, one word at a time, for a word list too long to hold: push()
 * each word in order; a segment is complete when the next word starts a
 * new one, or at finish(). */
class WordGrouper {
 public:
  WordGrouper(uint64_t max_pause, double min_confidence)
      : max_pause_(max_pause), min_confidence_(min_confidence)
  {
  }
  /* The segment w closed, if it closed one */
  std::optional<Segment> push(Word w);
  /* The last segment, if any words are left */
  std::optional<Segment> finish();

 private:
  uint64_t max_pause_;
  double min_confidence_;
  int64_t next_id_ = 0;
  Segment cur_;
};

/* How far past the end of the audio a service's times may go (rounding,
 * a partial last window) before they are impossible. */
constexpr uint64_t kTimeSlack = 1 * kSecond;

/* Checks a segment's service times against the audio the service received
 * (audio_ns): one that starts past it (plus kTimeSlack) or ends before it
 * starts is impossible (an error message for a person); an end past it is
 * brought back to it, and so are the words' times.  nullopt when usable. */
std::optional<std::string> check_segment_times(Segment &seg, uint64_t audio_ns);

/* skip-silence on a batch backend: the pauses left out of the recording
 * move every later time.  A cut at recorded time R of S ns places recorded
 * times after R S ns later in the input. */
class TimeCuts {
 public:
  /* recorded_at never decreases from one call to the next; cuts at the
   * same time add up. */
  void add(uint64_t recorded_at, uint64_t skipped);
  /* The input time of recorded time t (kNoTime stays kNoTime).  A time
   * exactly at a cut lies after the skipped audio when it starts something
   * (is_end false) and before it when it ends something. */
  uint64_t to_input(uint64_t t, bool is_end) const;
  /* A word's start and end */
  void to_input(Word &w) const;
  /* Each word's start and end */
  void to_input(std::vector<Word> &words) const;
  /* The segment's times and its words' */
  void to_input(Segment &seg) const;
  bool empty() const { return cuts_.empty(); }
  uint64_t total() const { return cuts_.empty() ? 0 : cuts_.back().second; }

 private:
  std::vector<std::pair<uint64_t, uint64_t>> cuts_; /* recorded_at, skipped up to it (included) */
};

/* Pango markup for the segment: escaped, uncertain runs in <i>...</i>. */
std::string to_pango_markup(const Segment &seg);

}  // namespace pt
