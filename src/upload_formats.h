// SPDX-License-Identifier: LGPL-2.1-or-later
/* The audio files the batch services take as they are: one list for the
 * element's "upload-file" and the command's choice to upload or decode. */
#pragma once

#include <string>

namespace pt {

struct UploadFormat {
  const char *extension;    /* lower case, without the dot */
  const char *content_type; /* what the upload says it is */
};

constexpr UploadFormat kUploadFormats[] = {
    {"wav", "audio/wav"},  {"mp3", "audio/mpeg"},  {"ogg", "audio/ogg"}, {"oga", "audio/ogg"},
    {"opus", "audio/ogg"}, {"flac", "audio/flac"}, {"m4a", "audio/mp4"},
};

/* The MIME type for a file by its extension (any case); empty when the
 * services take no such file as it is. */
std::string upload_content_type(const std::string &path);
inline bool uploadable_as_is(const std::string &path)
{
  return !upload_content_type(path).empty();
}
/* "wav, mp3, ..." for help texts and docs. */
std::string upload_extensions_list();

}  // namespace pt
