"""The search index as it was before issue 5 (a frozen copy), for the "before" row and for checking.

The benchmark runs it beside the current index on the same workload and checks that both rank the
same entities for the same queries. Not used by armsbot itself.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_left, insort
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache

from rapidfuzz import fuzz, process

from armsbot.models import Kind
from armsbot.records import IndexRow
from armsbot.search.folding import _JOINING, _LETTERS

# The result types and alias ranks did not change; only how they are found did.
from armsbot.search.index import (
    _ALIAS_RANK,
    Match,
    MatchTier,
    Resolution,
    _better_name,
    _clear_winner,
    _rank,
)

# The folding of that time: the same tables (unchanged), the old loop over characters.


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


MIN_TYPO_LENGTH = 4
TYPO_CUTOFF = 70.0
# A typo match is chosen alone only when it is this similar and this far ahead of the next entity.
TYPO_ACCEPT = 80.0
TYPO_MARGIN = 5.0
PREFIX_MARGIN = 5.0
WHOLE_WORD_BONUS = 7.0
RANK_PENALTY = 3.0
# A word-prefix match at least this good means the query is a whole word of another entity's name.
WHOLE_WORD_SCORE = 60.0 + 18.0 + WHOLE_WORD_BONUS
# How many prefix entries one query may read before it settles for what it has.
PREFIX_SCAN_LIMIT = 4000


@dataclass(slots=True)
class _Entity:
    kind: Kind
    name: str
    weight: int
    # folded name -> (name as written, rank of that name)
    names: dict[str, tuple[str, int]] = field(default_factory=dict)


@dataclass(slots=True)
class _TypoTable:
    """Distinct folded names of one kind in a list rapidfuzz can score in one call."""

    keys: list[str | None] = field(default_factory=list)
    slot_of: dict[str, int] = field(default_factory=dict)
    owners: list[set[str]] = field(default_factory=list)
    free: list[int] = field(default_factory=list)

    def add(self, key: str, entity_id: str) -> None:
        slot = self.slot_of.get(key)
        if slot is None:
            if self.free:
                slot = self.free.pop()
                self.keys[slot] = key
                self.owners[slot] = set()
            else:
                slot = len(self.keys)
                self.keys.append(key)
                self.owners.append(set())
            self.slot_of[key] = slot
        self.owners[slot].add(entity_id)

    def remove(self, key: str, entity_id: str) -> None:
        slot = self.slot_of.get(key)
        if slot is None:
            return
        self.owners[slot].discard(entity_id)
        if not self.owners[slot]:
            # rapidfuzz skips None choices, so a freed slot costs nothing until it is reused.
            self.keys[slot] = None
            del self.slot_of[key]
            self.free.append(slot)


class SearchIndex:
    """Exact, prefix and typo search over every name of every entity, updatable in place."""

    def __init__(self) -> None:
        self._entities: dict[str, _Entity] = {}
        self._exact: dict[str, set[str]] = {}
        self._prefix: dict[Kind, list[tuple[str, str, str]]] = {kind: [] for kind in Kind}
        self._typo: dict[Kind, _TypoTable] = {kind: _TypoTable() for kind in Kind}
        self._popular: dict[Kind | None, list[str]] = {}

    @classmethod
    def build(cls, rows: Iterable[IndexRow]) -> SearchIndex:
        """An index over ``rows``."""
        index = cls()
        prefix: dict[Kind, list[tuple[str, str, str]]] = {kind: [] for kind in Kind}
        for row in rows:
            entity = index._register(row)
            for key in entity.names:
                prefix[row.kind].extend(
                    (key[start:], row.id, key) for start in (0, *word_starts(key))
                )
        for kind, entries in prefix.items():
            entries.sort()
            index._prefix[kind] = entries
        return index

    def __len__(self) -> int:
        return len(self._entities)

    @property
    def name_count(self) -> int:
        """How many distinct (entity, folded name) pairs are indexed."""
        return sum(len(e.names) for e in self._entities.values())

    def _register(self, row: IndexRow) -> _Entity:
        entity = _Entity(row.kind, row.name, row.weight)
        for name, alias_type in ((row.name, "canonical"), *row.aliases):
            key = fold(name)
            rank = _ALIAS_RANK.get(alias_type, 1)
            if key and (key not in entity.names or rank < entity.names[key][1]):
                entity.names[key] = (name, rank)
        self._entities[row.id] = entity
        for key in entity.names:
            self._exact.setdefault(key, set()).add(row.id)
            self._typo[row.kind].add(key, row.id)
        self._popular.clear()
        return entity

    def upsert(self, row: IndexRow) -> None:
        """Add an entity, or replace everything the index knows of it."""
        self.remove(row.id)
        entity = self._register(row)
        entries = self._prefix[row.kind]
        for key in entity.names:
            for start in (0, *word_starts(key)):
                insort(entries, (key[start:], row.id, key))

    def remove(self, entity_id: str) -> None:
        """Forget an entity (nothing happens if it is not indexed)."""
        entity = self._entities.pop(entity_id, None)
        if entity is None:
            return
        entries = self._prefix[entity.kind]
        for key in entity.names:
            owners = self._exact.get(key)
            if owners is not None:
                owners.discard(entity_id)
                if not owners:
                    del self._exact[key]
            self._typo[entity.kind].remove(key, entity_id)
            for start in (0, *word_starts(key)):
                item = (key[start:], entity_id, key)
                at = bisect_left(entries, item)
                if at < len(entries) and entries[at] == item:
                    del entries[at]
        self._popular.clear()

    def entity_name(self, entity_id: str) -> str | None:
        """The canonical name of an indexed entity."""
        entity = self._entities.get(entity_id)
        return None if entity is None else entity.name

    def entity_kind(self, entity_id: str) -> Kind | None:
        """The kind of an indexed entity."""
        entity = self._entities.get(entity_id)
        return None if entity is None else entity.kind

    # -- querying -----------------------------------------------------------------------------

    def search(self, query: str, kind: Kind | None = None, limit: int = 10) -> list[Match]:
        """Entities matching ``query``, best first: exact names, then prefixes, then typos."""
        key = fold(query)
        if not key or limit <= 0:
            return []
        kinds = list(Kind) if kind is None else [kind]
        best: dict[str, Match] = {}
        self._exact_matches(key, kinds, best)
        self._prefix_matches(key, kinds, best)
        if len(best) < limit and len(key) >= MIN_TYPO_LENGTH:
            self._typo_matches(key, kinds, best, limit)
        ranked = sorted(best.values(), key=_rank)
        return ranked[:limit]

    def autocomplete(self, query: str, kind: Kind | None = None, limit: int = 25) -> list[Match]:
        """Choices for a half-typed name; an empty query gets the entities with most content."""
        if fold(query):
            return self.search(query, kind, limit)
        return self._popular_entities(kind)[:limit]

    def resolve(self, query: str, kind: Kind | None = None, limit: int = 10) -> Resolution:
        """Pick the one entity ``query`` means when the margin is clear; otherwise candidates."""
        matches = self.search(query, kind, limit)
        if not matches:
            return Resolution(None, [])
        top = matches[0]
        second = matches[1] if len(matches) > 1 else None
        if _clear_winner(top, second):
            return Resolution(top, matches)
        # Offer typo guesses only when nothing matched by name or prefix.
        floor = min(top.tier, MatchTier.PREFIX)
        return Resolution(None, [m for m in matches if m.tier >= floor])

    def _add(self, best: dict[str, Match], candidate: Match) -> None:
        current = best.get(candidate.id)
        if current is None or _better_name(candidate, current):
            best[candidate.id] = candidate

    def _match(self, entity_id: str, key: str, tier: MatchTier, score: float) -> Match:
        entity = self._entities[entity_id]
        written, rank = entity.names[key]
        return Match(entity_id, entity.kind, entity.name, written, score, tier, rank, entity.weight)

    def _exact_matches(self, key: str, kinds: list[Kind], best: dict[str, Match]) -> None:
        for entity_id in self._exact.get(key, ()):
            entity = self._entities[entity_id]
            if entity.kind in kinds:
                rank = entity.names[key][1]
                self._add(best, self._match(entity_id, key, MatchTier.EXACT, 100.0 - rank))

    def _prefix_matches(self, key: str, kinds: list[Kind], best: dict[str, Match]) -> None:
        for kind in kinds:
            entries = self._prefix[kind]
            at = bisect_left(entries, (key,))
            end = min(len(entries), at + PREFIX_SCAN_LIMIT)
            while at < end:
                suffix, entity_id, name_key = entries[at]
                if not suffix.startswith(key):
                    break
                at += 1
                if suffix == name_key == key:
                    continue  # already an exact match
                # Whole words typed ("control" in "control law") beat a word cut short
                # ("control" in "controls"); then the more of the name typed, the better.
                whole = (
                    WHOLE_WORD_BONUS if len(suffix) == len(key) or suffix[len(key)] == " " else 0.0
                )
                if len(suffix) == len(name_key):
                    score = 70.0 + 20.0 * len(key) / len(name_key) + whole
                else:
                    score = 60.0 + 18.0 * len(key) / len(suffix) + whole
                match = self._match(entity_id, name_key, MatchTier.PREFIX, score)
                # A name in some other language weighs less than the names people use here.
                score -= RANK_PENALTY * match.alias_rank
                self._add(best, replace(match, score=score))

    def _typo_matches(
        self, key: str, kinds: list[Kind], best: dict[str, Match], limit: int
    ) -> None:
        for kind in kinds:
            table = self._typo[kind]
            found = process.extract(
                key, table.keys, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF, limit=limit * 4
            )
            for name_key, similarity, slot in found:
                for entity_id in table.owners[slot]:
                    # Scores of typo matches sit below every prefix match (30..65 for 70..100).
                    score = 30.0 + 0.35 * similarity
                    self._add(best, self._match(entity_id, name_key, MatchTier.TYPO, score))

    def _popular_entities(self, kind: Kind | None) -> list[Match]:
        ids = self._popular.get(kind)
        if ids is None:
            candidates = [
                (entity_id, e) for entity_id, e in self._entities.items() if kind in (None, e.kind)
            ]
            candidates.sort(key=lambda item: (-item[1].weight, item[1].name.casefold()))
            ids = self._popular[kind] = [entity_id for entity_id, _ in candidates[:25]]
        out = []
        for entity_id in ids:
            entity = self._entities[entity_id]
            out.append(
                Match(
                    entity_id,
                    entity.kind,
                    entity.name,
                    entity.name,
                    0.0,
                    MatchTier.PREFIX,
                    0,
                    entity.weight,
                )
            )
        return out
