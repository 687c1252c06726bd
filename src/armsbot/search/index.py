"""An in-memory index that answers exact, prefix and typo queries over all names of all entities.

Layout, chosen so that a keystroke costs a dictionary lookup and a binary search rather than a scan
(``bench/RESULTS.md`` has the figures):

* ``_exact``: folded name -> the entities that carry it;
* per kind, a sorted list of every word start of every name (its suffix from that word on, with
  the entity and the name), so "arabia" and "saudi ar" both land in "saudi arabia" with one
  ``bisect``. A query reads only the entries that start with it;
* per kind, for each *short* prefix whose entries are too many to read per keystroke ("a", "s",
  "sec"), the entities that match it already ranked (``_Ranked``), so the first letters typed cost
  as little as the later ones;
* per kind, a :class:`~armsbot.search.typo.TypoTable` of the distinct names: rapidfuzz scores
  only the names that could reach the typo cutoff (a bound on length and shared letters), and only
  when exact and prefix matching found too little.

Each structure takes one entity's change in place without a rebuild: a removed entity's entries
in the big sorted lists are left behind dead (skipped when read) rather than moved, added names go
to a small sorted list beside the big one (merged into it once it grows), and the ranked prefix
lists take and lose the entity's one item per prefix.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, insort
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from armsbot.models import AliasType, Kind
from armsbot.records import IndexRow
from armsbot.search.folding import fold
from armsbot.search.prefix import (
    WHOLE_WORD_BONUS,
    Entities,
    Found,
    PrefixTable,
    word_entries,
)
from armsbot.search.typo import CharBuckets, TypoTable

MIN_TYPO_LENGTH = 4
TYPO_CUTOFF = 70.0
# A typo match is chosen alone only when it is this similar and this far ahead of the next entity.
TYPO_ACCEPT = 80.0
TYPO_MARGIN = 5.0
PREFIX_MARGIN = 5.0
# A word-prefix match at least this good means the query is a whole word of another entity's name.
WHOLE_WORD_SCORE = 60.0 + 18.0 + WHOLE_WORD_BONUS
TYPO_OVERFLOW_LIMIT = 4096
POPULAR = 25
_POPULAR_KEPT = 64


class MatchTier(IntEnum):
    """How a query met a name: typo < prefix < exact."""

    TYPO = 1
    PREFIX = 2
    EXACT = 3


# How much a name says about its entity: the canonical name first, a code or a translation last.
_ALIAS_RANK = {
    "canonical": 0,
    AliasType.NAME.value: 1,
    AliasType.ABBREVIATION.value: 1,
    AliasType.PRODUCT.value: 1,
    AliasType.FORMER.value: 1,
    AliasType.CODE.value: 2,
    AliasType.TRANSLATION.value: 2,
}


@dataclass(frozen=True, slots=True)
class Match:
    """One entity found for a query, with the name that matched and how well."""

    id: str
    kind: Kind
    name: str
    matched: str
    score: float
    tier: MatchTier
    alias_rank: int = 0
    weight: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form the CLI prints."""
        return {
            "id": self.id,
            "kind": self.kind.value,
            "name": self.name,
            "matched": self.matched,
            "score": round(self.score, 1),
            "match": self.tier.name.lower(),
        }


@dataclass(frozen=True, slots=True)
class Resolution:
    """The answer to "which entity did they mean?": one entity, or candidates to choose from."""

    chosen: Match | None
    candidates: list[Match]


@dataclass(slots=True)
class _Entity:
    id: str
    kind: Kind
    name: str
    weight: int
    slot: int
    row: IndexRow
    # folded name -> (name as written, rank of that name)
    names: dict[str, tuple[str, int]] = field(default_factory=dict)

    def entries(self) -> list[tuple[str, str, int]]:
        """Its prefix entries: (suffix, folded name, slot) for each name and later word start."""
        out: list[tuple[str, str, int]] = []
        for key in self.names:
            out.extend(word_entries(key, self.slot))
        return out


class SearchIndex:
    """Exact, prefix and typo search over every name of every entity, updatable in place."""

    def __init__(self) -> None:
        self._entities: dict[str, _Entity] = {}
        self._slots: list[_Entity | None] = []
        self._store = Entities()
        # Tuples, not lists: the garbage collector stops looking at tuples of plain ints.
        self._exact: dict[str, tuple[int, ...]] = {}
        self._prefix: dict[Kind, PrefixTable] = {kind: PrefixTable(self._store) for kind in Kind}
        self._typo: dict[Kind, TypoTable | None] = dict.fromkeys(Kind)
        self._buckets = CharBuckets([])
        # While building: each kind's names in the order first met, for its typo table.
        self._typo_order: dict[Kind, list[str]] = {kind: [] for kind in Kind}
        # kind (None: all) -> the first entities by content, and whether that is all of them.
        self._popular: dict[Kind | None, tuple[list[tuple[tuple[int, str], str]], bool]] = {}

    @classmethod
    def build(cls, rows: Iterable[IndexRow]) -> SearchIndex:
        """An index over ``rows``."""
        index = cls()
        entries: dict[Kind, list[tuple[str, str, int]]] = {kind: [] for kind in Kind}
        for row in rows:
            entity = index._register(row, None)
            entries[row.kind].extend(entity.entries())
        index._buckets = CharBuckets([k for names in index._typo_order.values() for k in names])
        for kind in Kind:
            index._prefix[kind].layout(entries[kind])
            names = list(dict.fromkeys(index._typo_order[kind]))
            index._typo[kind] = TypoTable(names, index._buckets, int(TYPO_CUTOFF))
        index._typo_order = {kind: [] for kind in Kind}
        return index

    def __len__(self) -> int:
        return len(self._entities)

    @staticmethod
    def _names(row: IndexRow, previous: _Entity | None) -> dict[str, tuple[str, int]]:
        """Folded name -> (name as written, rank) for every name of ``row``."""
        names: dict[str, tuple[str, int]] = {}
        # Names unchanged since the previous version need no folding again.
        known = {} if previous is None else {w: k for k, (w, _) in previous.names.items()}
        for name, alias_type in ((row.name, "canonical"), *row.aliases):
            key = known.get(name)
            if key is None:
                key = fold(name)
            rank = _ALIAS_RANK.get(alias_type, 1)
            if key and (key not in names or rank < names[key][1]):
                names[key] = (name, rank)
        return names

    def _register(
        self,
        row: IndexRow,
        previous: _Entity | None,
        names: dict[str, tuple[str, int]] | None = None,
    ) -> _Entity:
        if names is None:
            names = self._names(row, previous)
        slot = self._store.add(row.id, row.name, row.weight, names)
        entity = _Entity(row.id, row.kind, row.name, row.weight, slot, row, names)
        self._entities[row.id] = entity
        self._slots.append(entity)
        typo = self._typo[row.kind]
        order = self._typo_order[row.kind]
        exact = self._exact
        for key in names:
            exact[key] = (*exact.get(key, ()), slot)
            if typo is None:
                order.append(key)  # while building: the table is made at the end
            else:
                typo.add(key)
        self._popular_add(entity)
        return entity

    def upsert(self, row: IndexRow) -> None:
        """Add an entity, or replace everything the index knows of it."""
        previous = self._entities.get(row.id)
        if previous is not None:
            if previous.row == row:
                return
            if (previous.kind, previous.name) == (row.kind, row.name):
                # The same entity under the same name: it keeps its slot, and only what changed
                # (names, weight) is re-indexed.
                if previous.row.aliases != row.aliases:
                    names = self._names(row, previous)
                    if names != previous.names:
                        self._change_names(previous, row, names)
                if previous.weight != row.weight:
                    self._reweigh(previous, row)
                previous.row = row
                return
            names = self._names(row, previous)
            self._forget(previous)
        else:
            names = None
        entity = self._register(row, previous, names)
        table = self._prefix[row.kind]
        table.add(entity.entries())

    def _change_names(
        self, entity: _Entity, row: IndexRow, names: dict[str, tuple[str, int]]
    ) -> None:
        """Only names changed (an alias added or dropped): index those, keep everything else.

        A country has about 200 names; re-indexing all of them for one more took milliseconds.
        """
        before = dict(entity.names)
        removed = [k for k, v in before.items() if names.get(k) != v]
        added = [k for k, v in names.items() if before.get(k) != v]
        slot = entity.slot
        old_names = list(before)

        def entries_before() -> list[tuple[str, str, int]]:
            return [e for key in old_names for e in word_entries(key, slot)]

        entity.names.clear()  # the same dict the prefix tables read as ranks[slot]
        entity.names.update(names)
        entity.row = row
        kind = entity.kind
        typo = self._typo[kind]
        exact = self._exact
        for key in removed:
            owners = tuple(s for s in exact.get(key, ()) if s != slot)
            if owners:
                exact[key] = owners
            else:
                exact.pop(key, None)
            if typo is not None and key not in names and not self._owned(key, kind):
                typo.discard(key)
        for key in added:
            exact[key] = (*exact.get(key, ()), slot)
            if typo is not None:
                typo.add(key)
        self._prefix[kind].change_names(
            entries_before,
            [e for key in removed for e in word_entries(key, slot)],
            [e for key in added for e in word_entries(key, slot)],
            before,
        )

    # -- compaction ---------------------------------------------------------------------------
    # An update only does what makes the change searchable at once (well under a millisecond):
    # added entries go to small side lists read beside the big tables. Folding them into the big
    # tables is compaction, a few milliseconds once per thousands of added names, which the
    # caller runs when the update is done (the corrections service does after applying one).

    def compaction_due(self) -> bool:
        """Whether updates have left enough on the side that ``compact`` should run."""
        return any(table.tidy_due() for table in self._prefix.values()) or any(
            typo is not None and len(typo.overflow) > TYPO_OVERFLOW_LIMIT
            for typo in self._typo.values()
        )

    def compact(self) -> bool:
        """Fold what updates left on the side into the big tables; False if nothing was due.

        Answers are the same before and after; only reading gets faster again.
        """
        done = False
        for kind, table in self._prefix.items():
            if table.tidy_due():
                table.tidy()
                done = True
            typo = self._typo[kind]
            if typo is not None and len(typo.overflow) > TYPO_OVERFLOW_LIMIT:
                # Names added since the build are scored whole; once many, lay the table out again.
                self._typo[kind] = TypoTable(typo.ordered_keys(), self._buckets, int(TYPO_CUTOFF))
                done = True
        return done

    def _reweigh(self, entity: _Entity, row: IndexRow) -> None:
        """Only the weight changed: move the entity's ranked items, nothing else."""
        self._popular_remove(entity)

        def set_weight() -> None:
            entity.weight = row.weight
            self._store.weight[entity.slot] = row.weight

        self._prefix[entity.kind].reweigh(entity.entries(), set_weight)
        entity.row = row
        self._popular_add(entity)

    def remove(self, entity_id: str) -> None:
        """Forget an entity (nothing happens if it is not indexed)."""
        entity = self._entities.get(entity_id)
        if entity is not None:
            self._forget(entity)

    def _forget(self, entity: _Entity) -> None:
        self._prefix[entity.kind].remove(entity.entries())
        self._popular_remove(entity)
        del self._entities[entity.id]
        self._slots[entity.slot] = None
        self._store.kill(entity.slot)
        typo = self._typo[entity.kind]
        for key in entity.names:
            owners = self._exact.get(key)
            if owners is not None:
                owners = tuple(slot for slot in owners if slot != entity.slot)
                if owners:
                    self._exact[key] = owners
                else:
                    del self._exact[key]
                    if typo is not None:
                        typo.discard(key)
                        continue
            if typo is not None and not self._owned(key, entity.kind):
                typo.discard(key)

    def _owned(self, key: str, kind: Kind) -> bool:
        entities = self._slots
        return any(
            (e := entities[slot]) is not None and e.kind is kind
            for slot in self._exact.get(key, ())
        )

    def entity_name(self, entity_id: str) -> str | None:
        """The canonical name of an indexed entity."""
        entity = self._entities.get(entity_id)
        return None if entity is None else entity.name

    def entity_kind(self, entity_id: str) -> Kind | None:
        """The kind of an indexed entity."""
        entity = self._entities.get(entity_id)
        return None if entity is None else entity.kind

    # -- querying -----------------------------------------------------------------------------

    def search(
        self, query: str, kind: Kind | None = None, limit: int = 10, *, typos: bool = True
    ) -> list[Match]:
        """Entities matching ``query``, best first: exact names, then prefixes, then typos
        (without ``typos``, none: they rank below every other match, so the others are the same)."""
        key = fold(query)
        if not key or limit <= 0:
            return []
        kinds = list(Kind) if kind is None else [kind]
        best: dict[int, Found] = {}
        self._exact_matches(key, kind, best)
        for one in kinds:
            self._prefix[one].find(key, best, limit)
        if typos and len(best) < limit and len(key) >= MIN_TYPO_LENGTH:
            for one in kinds:
                self._typo_matches(key, one, best, limit)
        return self._ranked_matches(best, limit)

    def autocomplete(self, query: str, kind: Kind | None = None, limit: int = 25) -> list[Match]:
        """Choices for a half-typed name; an empty query gets the entities with most content."""
        if fold(query):
            return self.search(query, kind, limit)
        return self._popular_entities(kind)[:limit]

    def exact(self, query: str, kind: Kind | None = None) -> list[Match]:
        """The entities with a name that is ``query`` once folded (one dictionary hit), best
        first."""
        key = fold(query)
        best: dict[int, Found] = {}
        if key:
            self._exact_matches(key, kind, best)
        return self._ranked_matches(best, len(best))

    def name_type(self, entity_id: str, name: str) -> str | None:
        """What one of an entity's names is: "canonical", or its alias type ("product" ...)."""
        entity = self._entities.get(entity_id)
        if entity is None:
            return None
        if name == entity.name:
            return "canonical"
        return next((kind for alias, kind in entity.row.aliases if alias == name), None)

    def resolve(
        self, query: str, kind: Kind | None = None, limit: int = 10, *, typos: bool = True
    ) -> Resolution:
        """Pick the one entity ``query`` means when the margin is clear; otherwise candidates.

        Without ``typos``, only exact names and prefixes: the same answer whenever one of them
        matches (a typo never outranks them, nor stands in the way of one's margin).
        """
        matches = self.search(query, kind, limit, typos=typos)
        if not matches:
            return Resolution(None, [])
        top = matches[0]
        second = matches[1] if len(matches) > 1 else None
        if _clear_winner(top, second):
            return Resolution(top, matches)
        # Offer typo guesses only when nothing matched by name or prefix.
        floor = min(top.tier, MatchTier.PREFIX)
        return Resolution(None, [m for m in matches if m.tier >= floor])

    def _ranked_matches(self, best: dict[int, Found], limit: int) -> list[Match]:
        entities = self._slots
        # tier, score, alias rank, then more content, shorter name, id.
        keyed = []
        for found in best.values():
            entity = entities[found[3]]
            assert entity is not None
            keyed.append(
                (-found[0], -found[2], found[1], -entity.weight, len(entity.name), entity.id, found)
            )
        top = heapq.nsmallest(limit, keyed) if len(keyed) > limit else sorted(keyed)
        out = []
        for item in top:
            tier, rank, score, slot, key, _ = item[-1]
            entity = entities[slot]
            assert entity is not None
            out.append(
                Match(
                    entity.id,
                    entity.kind,
                    entity.name,
                    entity.names[key][0],
                    score,
                    MatchTier(tier),
                    rank,
                    entity.weight,
                )
            )
        return out

    def _exact_matches(self, key: str, kind: Kind | None, best: dict[int, Found]) -> None:
        entities = self._slots
        for slot in self._exact.get(key, ()):
            entity = entities[slot]
            if entity is not None and kind in (None, entity.kind):
                rank = entity.names[key][1]
                best[slot] = (MatchTier.EXACT.value, rank, 100.0 - rank, slot, key, key)

    def _typo_matches(self, key: str, kind: Kind, best: dict[int, Found], limit: int) -> None:
        table = self._typo[kind]
        if table is None:
            return
        entities = self._slots
        exact = self._exact
        found = table.extract(key, limit * 4)
        orders = _orders(len(found))
        for position, (name_key, similarity, _) in enumerate(found):
            for slot in exact.get(name_key, ()):
                entity = entities[slot]
                if entity is None or entity.kind is not kind:
                    continue
                rank = entity.names[name_key][1]
                # Scores of typo matches sit below every prefix match (30..65 for 70..100).
                score = 30.0 + 0.35 * similarity
                current = best.get(slot)
                if current is not None and (
                    current[0] > _TYPO
                    or current[1] < rank
                    or (current[1] == rank and current[2] >= score)
                ):
                    continue  # as good or better already (on a tie rapidfuzz's first stays)
                best[slot] = (_TYPO, rank, score, slot, name_key, orders[position])

    # -- the entities with most content, for an empty query ----------------------------------

    def _popular_lists(
        self, entity: _Entity
    ) -> list[tuple[Kind | None, list[tuple[tuple[int, str], str]], bool]]:
        """The cached lists of popular entities ``entity`` may be in: all kinds, and its own."""
        found = ((kind, self._popular.get(kind)) for kind in (None, entity.kind))
        return [(kind, *cached) for kind, cached in found if cached is not None]

    def _popular_add(self, entity: _Entity) -> None:
        item = (_popular_order(entity), entity.id)
        for kind, kept, whole in self._popular_lists(entity):
            # The list is the true first len(kept): an entity after its last belongs only when
            # the list holds every entity of the kind.
            if whole or (kept and item < kept[-1]):
                insort(kept, item)
                if len(kept) > _POPULAR_KEPT:
                    del kept[_POPULAR_KEPT:]
                    self._popular[kind] = (kept, False)

    def _popular_remove(self, entity: _Entity) -> None:
        item = (_popular_order(entity), entity.id)
        for kind, kept, whole in self._popular_lists(entity):
            at = bisect_left(kept, item)
            if at < len(kept) and kept[at] == item:
                del kept[at]
                if len(kept) < POPULAR and not whole:
                    del self._popular[kind]  # too few left to be sure: count again when asked

    def _popular_entities(self, kind: Kind | None) -> list[Match]:
        cached = self._popular.get(kind)
        if cached is None:
            everyone = [
                (_popular_order(e), e.id) for e in self._entities.values() if kind in (None, e.kind)
            ]
            kept = heapq.nsmallest(_POPULAR_KEPT, everyone)
            cached = self._popular[kind] = (kept, len(kept) == len(everyone))
        out = []
        for _, entity_id in cached[0][:POPULAR]:
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


_TYPO = MatchTier.TYPO.value
_ORDERS: list[str] = []


def _orders(count: int) -> list[str]:
    """Texts that sort as positions do (ties between typo names keep rapidfuzz's order)."""
    while len(_ORDERS) < count:
        _ORDERS.append(f"{len(_ORDERS):08d}")
    return _ORDERS


def _popular_order(entity: _Entity) -> tuple[int, str]:
    return (-entity.weight, entity.name.casefold())


def _rank(match: Match) -> tuple[int, float, int, int, int, str]:
    return (-match.tier, -match.score, match.alias_rank, -match.weight, len(match.name), match.id)


def _better_name(candidate: Match, current: Match) -> bool:
    """Of two matches of one entity, the one to show: best tier, best-known name, then score."""
    return (-candidate.tier, candidate.alias_rank, -candidate.score) < (
        -current.tier,
        current.alias_rank,
        -current.score,
    )


def _clear_winner(top: Match, second: Match | None) -> bool:
    if second is None:
        return top.tier is not MatchTier.TYPO or top.score >= _typo_score(TYPO_ACCEPT)
    if top.tier is MatchTier.EXACT and second.tier is MatchTier.PREFIX:
        # "korea" is a name of South Korea and a whole word of "North Korea": ask which.
        return top.alias_rank == 0 or second.score < WHOLE_WORD_SCORE
    if top.tier > second.tier:
        return top.tier is not MatchTier.TYPO
    if top.tier is MatchTier.EXACT:
        return top.alias_rank < second.alias_rank
    if top.tier is MatchTier.PREFIX:
        return top.score - second.score >= PREFIX_MARGIN
    return top.score >= _typo_score(TYPO_ACCEPT) and top.score - second.score >= _typo_score(
        TYPO_MARGIN
    ) - _typo_score(0)


def _typo_score(similarity: float) -> float:
    return 30.0 + 0.35 * similarity
