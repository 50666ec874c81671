// SPDX-License-Identifier: LGPL-2.1-or-later
/* Escaping text for Pango markup and WebVTT cues: the element and the
 * command share it. */
#pragma once

#include <string>

namespace pt {

/* &, < and > escaped; quotes stay as they are (SRT stays readable). */
std::string markup_escape(const std::string &text);

}  // namespace pt
