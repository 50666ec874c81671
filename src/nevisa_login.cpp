// SPDX-License-Identifier: LGPL-2.1-or-later
#include "nevisa_login.h"

#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include "http_client.h"
#include "json_fields.h"
#include "service_answers.h"

GST_DEBUG_CATEGORY_EXTERN(pt_batch_debug);
#define GST_CAT_DEFAULT pt_batch_debug

namespace pt {

void nevisa_credentials(HttpClient &http, const Settings &s, GObject *log_object,
                        std::function<void(const NevisaCredentials *, const Error *)> done)
{
  if (!s.nevisa_auth_token.empty() && !s.nevisa_api_key.empty()) {
    NevisaCredentials c{s.nevisa_auth_token, s.nevisa_api_key};
    done(&c, nullptr);
    return;
  }
  HttpRequest req;
  req.method = "POST";
  req.url = s.nevisa_login_url;
  JsonBuilder *b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "username_or_phone_or_email");
  json_builder_add_string_value(b, s.nevisa_username.c_str());
  json_builder_set_member_name(b, "password");
  json_builder_add_string_value(b, s.nevisa_password.c_str());
  json_builder_end_object(b);
  req.body = json_builder_text(b);
  req.content_type = "application/json";
  GST_INFO_OBJECT(log_object, "logging in to Nevisa at %s", req.url.c_str());
  const Settings settings = s;
  http.send(std::move(req), [settings, done](const HttpResponse &r) {
    if (std::optional<Error> e =
            http_failure(r, "Nevisa login", settings.nevisa_login_url, settings)) {
      done(nullptr, &*e);
      return;
    }
    NevisaLogin login = parse_nevisa_login(r.body.data(), r.body.size());
    if (!login.ok) {
      Error e{ErrorKind::Failed, login.error, "", nullptr};
      done(nullptr, &e);
      return;
    }
    if (login.no_package) {
      Error e{ErrorKind::NotAuthorized,
              "The Nevisa account has no active package (current_service_record is null): "
              "activate a package in your Nevisa account, then try again",
              "", kReasonNoPackage};
      done(nullptr, &e);
      return;
    }
    NevisaCredentials c{login.auth_token, login.api_key};
    done(&c, nullptr);
  });
}

}  // namespace pt
