// SPDX-License-Identifier: LGPL-2.1-or-later
// Nevisa: login, recognize-file, celery-progress and terminate-task.
#pragma once

#include "emulator.h"

#include <map>
#include <set>
#include <string>

#include "rest_common.h"

namespace emu {
namespace detail {

// Nevisa: login (accounting host) and the file API (recognize, celery progress, terminate).
class NevisaService {
 public:
  explicit NevisaService(const Options &o);
  NevisaService(const NevisaService &) = delete;
  NevisaService &operator=(const NevisaService &) = delete;

  // POST /account/login: JSON, urlencoded or multipart.
  Answer login(RestRequest &r);
  // POST <api>/recognize-file: multipart auth_token, api_key, file.
  Answer recognize(RestRequest &r);
  // GET <api>/celery-progress/<id>/: celery-progress's view, always 200.
  Answer progress(RestRequest &r, const std::string &id);
  // POST <api>/file/terminate-task: header Authorization: Token <auth_token>, multipart
  // auth_token, api_key, task_id. 401 unless all match a task of that account.
  Answer terminate(RestRequest &r);

  // Does the service take this auth_token and api_key? The static pair, or a token a login
  // issued (while a package is active) with the account's key. Nevisa live checks with it too.
  bool accepts(const std::string &token, const std::string &key) const;

 private:
  struct Task {
    std::string api_key;
    Transcript transcript;
    unsigned polls = 0;
    bool revoked = false;
  };

  // The body's auth_token and api_key, when accepts() them.
  bool credentials(const RequestBody &b, std::string *token, std::string *key) const;

  static void progress_object(JsonWriter &w, bool pending, int64_t percent);
  static void progress_object(JsonWriter &w, double percent);  // nevisa_percent_sequence
  static std::string pending_body();
  static std::string failed_body(const char *state, const char *result);
  // Vosk-style words: each segment's line split on spaces, spread over the segment
  // by character count; [bracketed] words lose their brackets and get a low conf.
  std::string success_body(const Transcript &t) const;
  static std::string progress_body(double percent);

  const Options &opts_;
  const std::string account_key_;  // the account's api key (the same at every login)
  std::set<std::string> tokens_;   // issued by logins
  std::map<std::string, Task> tasks_;
};

}  // namespace detail
}  // namespace emu
