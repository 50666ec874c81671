// SPDX-License-Identifier: LGPL-2.1-or-later
#include "upload_formats.h"

#include <glib.h>

#include <cstring>

namespace pt {

std::string upload_content_type(const std::string &path)
{
  const char *slash = strrchr(path.c_str(), '/');
  const char *dot = strrchr(slash ? slash : path.c_str(), '.');
  if (!dot)
    return "";
  for (const UploadFormat &f : kUploadFormats)
    if (g_ascii_strcasecmp(dot + 1, f.extension) == 0)
      return f.content_type;
  return "";
}

std::string upload_extensions_list()
{
  std::string out;
  for (const UploadFormat &f : kUploadFormats)
    out += (out.empty() ? "" : ", ") + std::string(f.extension);
  return out;
}

}  // namespace pt
