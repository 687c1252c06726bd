"""Folding of names and queries into one comparable form.

Both the index and every query go through :func:`fold`, so ``U.A.E.``, ``uae`` and ``Uae`` meet, as
do ``México`` and ``mexico``, ``Ισραήλ`` typed with or without accents, and Arabic written with or
without hamza and vowel marks.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Letters that carry no combining mark in NFKD but that people type without the stroke or ligature.
_LETTERS = str.maketrans(
    {
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
        "ħ": "h",
        "ŧ": "t",
        "ŋ": "n",
        "ĸ": "k",
        # Arabic letter variants that people type interchangeably.
        "ة": "ه",
        "ى": "ي",
        "ٱ": "ا",
        "ـ": "",  # tatweel, a stretching stroke
        # Typographic quotes fall in with the plain apostrophe, which is dropped below.
        "’": "'",
        "ʼ": "'",
        "`": "'",
    }
)

# Removed without leaving a gap: "U.A.E." is "uae" and "d'Ivoire" is "divoire".
_JOINING = frozenset(".'")


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Return the comparable form of a name or query: no case, marks, punctuation or extra space."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    lowered = stripped.casefold().translate(_LETTERS)
    out: list[str] = []
    for ch in lowered:
        if ch in _JOINING:
            continue
        category = unicodedata.category(ch)
        if category[0] in "LN":
            out.append(ch)
        elif category[0] == "M":
            # Spacing marks of Indic scripts are part of the word.
            out.append(ch)
        else:
            out.append(" ")
    return " ".join("".join(out).split())


def word_starts(key: str) -> list[int]:
    """Offsets in a folded key where a word other than the first begins."""
    return [i + 1 for i, ch in enumerate(key) if ch == " "]
