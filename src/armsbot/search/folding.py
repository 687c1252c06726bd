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


class _Stripped(dict[int, str | None]):
    """A ``str.translate`` table, filled as characters are met: drops combining marks."""

    def __missing__(self, code: int) -> str | None:
        ch = chr(code)
        out = None if unicodedata.combining(ch) else ch
        self[code] = out
        return out


class _Kept(dict[int, str]):
    """A ``str.translate`` table, filled as characters are met: what a lowered character becomes.

    Stroked letters and ligatures become their plain letters, "." and "'" disappear, letters,
    digits and marks stay, and everything else becomes a space (collapsed later).
    """

    def __missing__(self, code: int) -> str:
        replaced = _LETTERS.get(code, code)
        text = chr(replaced) if isinstance(replaced, int) else (replaced or "")
        out = "".join(
            "" if ch in _JOINING else ch if unicodedata.category(ch)[0] in "LNM" else " "
            for ch in text
        )
        self[code] = out
        return out


_STRIPPED = _Stripped()
_KEPT = _Kept()


@lru_cache(maxsize=65536)
def fold(text: str) -> str:
    """Return the comparable form of a name or query: no case, marks, punctuation or extra space.

    NFKD, then combining marks dropped, then case folded, then each character mapped through a
    table that is filled as characters are first met (so a name costs three C-level passes).
    """
    decomposed = unicodedata.normalize("NFKD", text)
    if not decomposed.isascii():
        decomposed = decomposed.translate(_STRIPPED)
    return " ".join(decomposed.casefold().translate(_KEPT).split())
