"""Small helpers for the sentences adapters write: lists, country names in a sentence, lengths."""

from __future__ import annotations

from collections.abc import Sequence

from armsbot.models import MAX_NAME

# Country names that read best with "the" inside a sentence.
_WITH_ARTICLE = {"Netherlands", "Philippines", "Bahamas", "Gambia", "Maldives", "Seychelles"}
_ARTICLE_PREFIXES = ("United ", "Democratic Republic", "Republic of", "Central African")
_ARTICLE_SUFFIXES = (" Republic", " Islands", " Emirates", " Territories")


def in_sentence(country: str) -> str:
    """A country's name as it reads inside a sentence ("the United Arab Emirates")."""
    needs_article = (
        country in _WITH_ARTICLE
        or country.startswith(_ARTICLE_PREFIXES)
        or country.endswith(_ARTICLE_SUFFIXES)
    )
    return f"the {country}" if needs_article else country


def listed(items: Sequence[str]) -> str:
    """Items joined as a sentence lists them: "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def shorten(text: str, limit: int = MAX_NAME) -> str:
    """``text`` cut at a word to at most ``limit`` characters, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"
