"""Which countries, firms, laws and products a piece of text names: exact names over word spans.

The text is folded as names are (:func:`~armsbot.search.folding.fold`), then read left to right;
at each word the longest run of words that is exactly some entity's name or alias wins, so
"Saudi Arabia" is one country and not a stray "Arabia". Only exact names count (no prefixes or
typos: prose is full of words that begin like a name). Codes (``AZ``, ``ARM``) and translations of
three letters or fewer are left out, and any other name of three letters or fewer counts only
when written in capitals ("UAE", "NSO", but not the "us" of "let us see"): such names are ordinary
words as often as names. A product name (Pegasus) counts, for the firm that makes it.
"""

from __future__ import annotations

from dataclasses import dataclass

from armsbot.models import AliasType, Kind
from armsbot.search.folding import fold
from armsbot.search.index import Match, SearchIndex

MAX_SPAN_WORDS = 12  # the longest name read as one (law titles run long)
SHORT = 3  # folded characters: a name this short must be written in capitals
SKIPPED_TYPES = frozenset({AliasType.CODE.value})


@dataclass(frozen=True, slots=True)
class Mention:
    """An entity a text names, with the name it used; ``product`` when that name is a product."""

    match: Match
    product: bool

    @property
    def kind(self) -> Kind:
        """The entity's kind."""
        return self.match.kind


def _counts(index: SearchIndex, match: Match, key: str, capitals: bool) -> bool:
    name_type = index.name_type(match.id, match.matched)
    if name_type in SKIPPED_TYPES or len(key.replace(" ", "")) > SHORT:
        return name_type not in SKIPPED_TYPES
    return capitals and name_type != AliasType.TRANSLATION.value


def mentions(index: SearchIndex, text: str, limit: int = 50) -> list[Mention]:
    """The entities ``text`` names, in the order it first names them, each once."""
    words: list[str] = []
    capitals: list[bool] = []  # whether the word was written in capitals
    for token in text.split():
        for word in fold(token).split():
            words.append(word)
            capitals.append(not any(ch.islower() for ch in token))
    found: dict[str, Mention] = {}
    start = 0
    while start < len(words) and len(found) < limit:
        for length in range(min(MAX_SPAN_WORDS, len(words) - start), 0, -1):
            key = " ".join(words[start : start + length])
            upper = all(capitals[start : start + length])
            matches = [m for m in index.exact(key) if _counts(index, m, key, upper)]
            if matches:
                for match in matches:
                    product = index.name_type(match.id, match.matched) == AliasType.PRODUCT.value
                    found.setdefault(match.id, Mention(match, product))
                start += length
                break
        else:
            start += 1
    return list(found.values())[:limit]
