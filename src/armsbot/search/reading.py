"""Reading a question that names several things: "NSO Morocco", "israeli drones azerbaijan".

The query is cut into words (folded as names are). From the first word on, the longest run of
words (up to ``MAX_SPAN``) that the index resolves with a clear margin becomes an entity; a word
that starts no such run is kept as a word to look for in the claims' text, unless it is a stop
word ("who", "sold", "to", in every bot language). What counts as resolving, for a run of words
inside a longer question, is stricter than for a lone name:

* an exact name or alias (a product names its firm: "pegasus" is NSO Group), or a demonym
  ("israeli", "saudis") from :mod:`armsbot.search.demonyms`;
* a typo of a name, as clear as a lone lookup demands, with as many words each starting with the
  same letter ("azerbajan", "saudi arbia");
* the start of a name in two or more whole words ("israel aerospace"), never one word ("arms"
  stays a word, not the Arms Trade Treaty) nor words from its middle ("spyware" stays a word
  although "Pegasus spyware" is an alias).

A run that is exactly the name of several entities ("congo", "korea") is kept as a choice to
offer, as single lookups do. A Hebrew or Arabic word that names nothing is read again without a
one-letter prefix written onto it ("למרוקו", to Morocco; "والمغرب", and Morocco), and split only
when the rest names one entity as clearly as above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from armsbot.models import Kind
from armsbot.search.demonyms import demonym_country
from armsbot.search.folding import fold
from armsbot.search.index import WHOLE_WORD_SCORE, Match, MatchTier, SearchIndex
from armsbot.search.stopwords import is_stop_word

MAX_SPAN = 5  # the most words one name is read from ("democratic republic of the congo")
MIN_TYPO_KEY = 5  # a shorter word is a typo of too many names to be read as one
RESOLVE_LIMIT = 5
_POSSESSIVE = re.compile(r"['’ʼ]s$", re.IGNORECASE)
# One-letter prefixes: Hebrew and, in, to, from, the, that, as; Arabic and, with, to, so, like.
_PREFIXES = frozenset("ובלמהשכ" + "وبلفك")
MIN_PREFIXED = 4  # a prefix and a name of three letters or more


@dataclass(frozen=True, slots=True)
class Token:
    """One word of the query: as typed, folded, and whether it is a stop word."""

    raw: str
    key: str
    stop: bool


@dataclass(frozen=True, slots=True)
class NamedEntity:
    """An entity the query names, with the words that name it."""

    id: str
    kind: Kind
    name: str
    said: str
    demonym: bool = False


@dataclass(frozen=True, slots=True)
class AmbiguousName:
    """Words that name several entities equally well; ``rest`` is the query without them."""

    said: str
    candidates: tuple[Match, ...]
    rest: str


@dataclass(frozen=True, slots=True)
class Reading:
    """How a query was read: the entities it names, names to choose between, words left over."""

    entities: tuple[NamedEntity, ...]
    ambiguous: tuple[AmbiguousName, ...]
    words: tuple[str, ...]  # folded, in order, each once
    skipped: tuple[str, ...]  # stop words, folded


def tokens(text: str) -> list[Token]:
    """The words of a query. A word written in capitals (US, IT, NO) is never a stop word."""
    out: list[Token] = []
    for raw in text.split():
        bare = _POSSESSIVE.sub("", raw)
        parts = fold(bare).split()
        capitals = bare.isupper() and len(fold(bare)) >= 2
        for part in parts:
            shown = bare if len(parts) == 1 else part
            out.append(Token(shown, part, is_stop_word(part) and not capitals))
    return out


def read_query(index: SearchIndex, text: str, kind: Kind | None = None) -> Reading:
    """Every entity ``text`` names, the names to choose between, and the words left over."""
    found = tokens(text)
    entities: dict[str, NamedEntity] = {}
    ambiguous: list[AmbiguousName] = []
    words: dict[str, None] = {}
    skipped: list[str] = []
    at = 0
    while at < len(found):
        token = found[at]
        if token.stop:
            skipped.append(token.key)
            at += 1
            continue
        for end in range(min(len(found), at + MAX_SPAN), at, -1):
            span = found[at:end]
            if span[-1].stop:
                continue
            said = " ".join(t.raw for t in span)
            named = _read_span(index, " ".join(t.key for t in span), said, kind)
            bare = _without_prefix(span[0].key) if named is None else None
            if bare is not None:
                # "למרוקו" (to Morocco), "والمغرب" (and Morocco): split only for a clear entity.
                split = _read_span(index, " ".join([bare, *(t.key for t in span[1:])]), said, kind)
                named = split if isinstance(split, NamedEntity) else None
            if named is None:
                continue
            if isinstance(named, NamedEntity):
                entities.setdefault(named.id, named)
            else:
                rest = " ".join(t.raw for t in (*found[:at], *found[end:]))
                ambiguous.append(AmbiguousName(said, named, rest))
            at = end
            break
        else:
            words.setdefault(token.key)
            at += 1
    return Reading(tuple(entities.values()), tuple(ambiguous), tuple(words), tuple(skipped))


def _without_prefix(key: str) -> str | None:
    """A Hebrew or Arabic word without the one-letter prefix written onto it, or None.

    Both scripts attach "and", "to", "in", "the" (Hebrew), "so", "like" to the next word:
    "למרוקו" is "ל" + "מרוקו" (to Morocco), "والمغرب" is "و" + "المغرب" (and Morocco).
    """
    if len(key) < MIN_PREFIXED or key[0] not in _PREFIXES:
        return None
    rest = key[1:]
    # The rest in the same script as the prefix (a letter of the same Unicode block).
    return rest if rest[0].isalpha() and (ord(rest[0]) >> 8) == (ord(key[0]) >> 8) else None


def _read_span(
    index: SearchIndex, key: str, said: str, kind: Kind | None
) -> NamedEntity | tuple[Match, ...] | None:
    """The entity a run of words names, the candidates when it names several, or None."""
    if kind in (None, Kind.COUNTRY):
        code = demonym_country(key)
        if code is not None and index.entity_kind(code) is Kind.COUNTRY:
            return NamedEntity(code, Kind.COUNTRY, index.entity_name(code) or code, said, True)
    # Names and prefixes first: a typo search costs ten times more, and a typo can only count when
    # nothing else matches, and then only for a key as long as _reads_as_name asks.
    resolution = index.resolve(key, kind, RESOLVE_LIMIT, typos=False)
    if not resolution.candidates and len(key) >= MIN_TYPO_KEY:
        resolution = index.resolve(key, kind, RESOLVE_LIMIT)
    chosen = resolution.chosen
    if chosen is not None:
        if _reads_as_name(chosen, key):
            return NamedEntity(chosen.id, chosen.kind, chosen.name, said)
        return None
    candidates = resolution.candidates
    if not candidates:
        return None
    top = candidates[0]
    if top.tier is MatchTier.EXACT:
        # "congo": the name of one country, a whole word of another's; not a law about it.
        return tuple(
            m for m in candidates if m.tier is MatchTier.EXACT or m.score >= WHOLE_WORD_SCORE
        )
    # "korea": a whole word of two countries' names, and nothing else's.
    tied = [m for m in candidates if m.score >= top.score - 0.01]
    if (
        top.tier is MatchTier.PREFIX
        and top.score >= WHOLE_WORD_SCORE
        and len(tied) > 1
        and all(m.kind is Kind.COUNTRY and m.alias_rank == 0 for m in tied)
    ):
        return tuple(tied)
    return None


def _reads_as_name(match: Match, key: str) -> bool:
    """Whether a clear match of ``key`` is strong enough inside a longer question."""
    if match.tier is MatchTier.EXACT:
        return True
    if match.tier is MatchTier.TYPO:
        # A typo keeps the words and their first letters ("saudi arbia"); a run that only looks
        # like a name once a word is added or dropped ("us spyware", "hacking team sudan") is not.
        name_words = fold(match.matched).split()
        key_words = key.split()
        return (
            len(key) >= MIN_TYPO_KEY
            and match.alias_rank <= 1
            and len(name_words) == len(key_words)
            and all(a[0] == b[0] for a, b in zip(name_words, key_words, strict=True))
        )
    # A prefix: only the first two or more whole words of a name people write ("israel
    # aerospace"); one word ("arms", of the Arms Trade Treaty) is more often a topic than a name.
    return " " in key and match.alias_rank <= 1 and fold(match.matched).startswith(key + " ")
