// SPDX-License-Identifier: LGPL-2.1-or-later
/* Persian script, normalised the way Persian NLP normalisers (hazm's
 * Normalizer among them) do it, with nothing that changes meaning:
 *  - Arabic kaf (ك) and yeh (ي, ى) become Persian kaf (ک) and yeh (ی);
 *  - digits (Latin, Arabic-Indic, Persian) all become one script;
 *  - Arabic diacritics (fathatan .. sukun) and the tatweel are removed;
 *  - the verbal prefixes می / نمی and the suffixes ها / های / هایی / تر /
 *    ترین are joined to their word with a zero-width non-joiner (ZWNJ)
 *    instead of a space; a ZWNJ next to a space is dropped;
 *  - spaces: none before . , ، ; ؛ : ! ? ؟ ) ] » and after ( [ «, one after
 *    them before a letter, runs collapsed, none at the ends.
 * Times and confidences of words are kept: words joined into one take the
 * first one's start and the last one's end. */
#pragma once

#include <string>
#include <vector>

#include "settings.h"
#include "transcript.h"

namespace pt {

std::string normalize_persian(const std::string &text, DigitStyle digits);

/* The segment's text and words normalised (raw_text stays what the service
 * sent); words joined by a ZWNJ become one word. */
void normalize_segment(Segment &seg, DigitStyle digits);

}  // namespace pt
