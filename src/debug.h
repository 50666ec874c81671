// SPDX-License-Identifier: LGPL-2.1-or-later
/* The core library's GST_DEBUG categories:
 *   persiantranscribe-engine     audio conversion, queues, backend life
 *   persiantranscribe-harf-live  the Harf WebSocket protocol, its connections,
 *                                sessions and reconnections
 *   persiantranscribe-batch      recording, upload and polling (harf-file, nevisa)
 *   persiantranscribe-nevisa-live  the same for Nevisa's live WebSocket
 * No category ever prints a token, password or API key. */
#pragma once

namespace pt {
void init_debug();
}
