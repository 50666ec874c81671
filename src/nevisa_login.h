// SPDX-License-Identifier: LGPL-2.1-or-later
/* Nevisa's login, shared by the file API (nevisa) and the live WebSocket
 * (nevisa-live): the auth token and API key given, or a login with the
 * username and password that issues them. */
#pragma once

#include <glib-object.h>

#include <functional>
#include <optional>
#include <string>

#include "error.h"
#include "settings.h"

namespace pt {

class HttpClient;

struct NevisaCredentials {
  std::string auth_token; /* secrets: never logged */
  std::string api_key;
};

/* done gets the credentials, or the error that ends the stream (login
 * refused, no active package, an answer that cannot be read).  Called on
 * the I/O thread, at once when the settings hold a token and a key; never
 * after http is cancelled or destroyed. */
void nevisa_credentials(HttpClient &http, const Settings &s, GObject *log_object,
                        std::function<void(const NevisaCredentials *, const Error *)> done);

}  // namespace pt
