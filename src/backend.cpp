// SPDX-License-Identifier: LGPL-2.1-or-later
/* The one place that knows every backend: the factory the engine uses by
 * default. */
#include "backend.h"

#include "batch_client.h"
#include "live_client.h"

namespace pt {

std::unique_ptr<Backend> make_backend(const Settings &s, BackendHost *host, IoThread *io,
                                      uint64_t time_base)
{
  switch (s.backend) {
    case BackendKind::HarfLive:
      return std::make_unique<LiveClient>(s, host, io, time_base, make_harf_live_protocol(s, host));
    case BackendKind::NevisaLive:
      return std::make_unique<LiveClient>(s, host, io, time_base,
                                          make_nevisa_live_protocol(s, host, io));
    case BackendKind::HarfFile:
      return make_harf_file_client(s, host, io, time_base);
    case BackendKind::Nevisa:
      return make_nevisa_client(s, host, io, time_base);
  }
  return nullptr;
}

}  // namespace pt
