/* The core library's GST_DEBUG categories:
 *   persiantranscribe-engine     audio conversion, queues, backend life
 *   persiantranscribe-harf-live  the Harf WebSocket protocol
 * No category ever prints a token, password or API key. */
#pragma once

namespace pt {
void init_debug();
}
