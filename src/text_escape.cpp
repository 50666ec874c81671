// SPDX-License-Identifier: LGPL-2.1-or-later
#include "text_escape.h"

namespace pt {

std::string markup_escape(const std::string &text)
{
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace pt
