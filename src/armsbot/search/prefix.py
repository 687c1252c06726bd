"""Prefix matching for one kind: every word start of every name, sorted, with three ways to read it.

A query reads the entries whose suffix starts with it (one ``bisect`` finds them) and keeps, for
each entity, its best match (see :func:`prefix_score`). How it reads them depends on how many:

* a few (``PYTHON_RANGE`` or fewer): one at a time in Python;
* more: the scores of the whole range at once with numpy, from per-entry columns (suffix length,
  name length, alias rank, where the suffix has spaces), then the best per entity and the top;
* a crowded short prefix ("a", "s", "sec", more than ``RANKED_RANGE`` entries when the table was
  laid out): its entities ranked ahead of time, so the query takes the first few.

In-place changes: a removed entity's entries stay in the big sorted lists, dead (the caller's
``alive`` column says so); added entries go to a small sorted ``delta`` list read beside them, and
the ranked lists take and lose the entity's one item per prefix. :meth:`PrefixTable.needs_layout`
says when the leftovers are worth a fresh layout.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

WHOLE_WORD_BONUS = 7.0
RANK_PENALTY = 3.0
PYTHON_RANGE = 48
RANKED_RANGE = 2048
DELTA_LIMIT = 2048
_TOP = "\U0010ffff"  # sorts after every character a folded name can hold
_WORD_BITS = 64  # where a suffix has spaces, as bits; queries this long are read in Python
_WORD_MASK = (1 << _WORD_BITS) - 1

# What a query found for one entity while it runs:
# (tier, alias rank, score, slot, folded name matched, tie-break text).
Found = tuple[int, int, float, int, str, str]
PREFIX_TIER = 2


def prefix_score(key_length: int, suffix: str, name_key: str, rank: int) -> float:
    """The score of a ``key_length``-long query met at the start of ``suffix`` of ``name_key``."""
    # Whole words typed ("control" in "control law") beat a word cut short ("control" in
    # "controls"); then the more of the name typed, the better.
    whole = WHOLE_WORD_BONUS if len(suffix) == key_length or suffix[key_length] == " " else 0.0
    if len(suffix) == len(name_key):
        score = 70.0 + 20.0 * key_length / len(name_key) + whole
    else:
        score = 60.0 + 18.0 * key_length / len(suffix) + whole
    # A name in some other language weighs less than the names people use here.
    return score - RANK_PENALTY * rank


def better(candidate: Found, current: Found) -> bool:
    """Of two matches of one entity, the one to show: best tier, best-known name, then score.

    On a full tie the one met first while reading the sorted entries wins: the smaller suffix,
    then the smaller name (for typos, the text holds rapidfuzz's order).
    """
    return (-candidate[0], candidate[1], -candidate[2], candidate[5], candidate[4]) < (
        -current[0],
        current[1],
        -current[2],
        current[5],
        current[4],
    )


class Entities:
    """What prefix tables need to know of every entity, by slot (kept by the index)."""

    def __init__(self) -> None:
        self.alive = np.zeros(0, dtype=np.bool_)
        self.weight = np.zeros(0, dtype=np.int64)
        self.name_length = np.zeros(0, dtype=np.int64)
        self.ids: list[str] = []
        # slot -> folded name -> alias rank (None for a removed entity)
        self.ranks: list[dict[str, tuple[str, int]] | None] = []

    def add(self, entity_id: str, name: str, weight: int, names: dict[str, tuple[str, int]]) -> int:
        """A new slot for an entity."""
        slot = len(self.ids)
        if slot >= len(self.alive):
            size = max(1024, 2 * len(self.alive))
            self.alive = np.resize(self.alive, size)
            self.weight = np.resize(self.weight, size)
            self.name_length = np.resize(self.name_length, size)
        self.alive[slot] = True
        self.weight[slot] = weight
        self.name_length[slot] = len(name)
        self.ids.append(entity_id)
        self.ranks.append(names)
        return slot

    def kill(self, slot: int) -> None:
        """The entity in ``slot`` is gone."""
        self.alive[slot] = False
        self.ranks[slot] = None

    def order(self, slot: int) -> tuple[int, int, str]:
        """How entities with equal matches are ordered: more content, shorter name, id."""
        return (-int(self.weight[slot]), int(self.name_length[slot]), self.ids[slot])


@dataclass(slots=True)
class _Ranked:
    """A crowded prefix's entities, best first: parallel columns, one item per entity."""

    slots: array[int]
    scores: array[float]
    ranks: array[int]
    keys: list[str]

    def key(self, at: int, entities: Entities) -> tuple[float, int, int, int, str]:
        return (-self.scores[at], self.ranks[at], *entities.order(self.slots[at]))

    def find(self, wanted: tuple[float, int, int, int, str], entities: Entities) -> int:
        lo, hi = 0, len(self.keys)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.key(mid, entities) < wanted:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def insert(self, at: int, slot: int, score: float, rank: int, key: str) -> None:
        self.slots.insert(at, slot)
        self.scores.insert(at, score)
        self.ranks.insert(at, rank)
        self.keys.insert(at, key)

    def delete(self, at: int) -> None:
        del self.slots[at], self.scores[at], self.ranks[at], self.keys[at]

    def put(self, found: Found, entities: Entities) -> None:
        """Insert an entity's best match for this prefix in its place."""
        _, rank, score, slot, key, _ = found
        at = self.find((-score, rank, *entities.order(slot)), entities)
        self.insert(at, slot, score, rank, key)

    def take(self, found: Found, entities: Entities) -> None:
        """Remove the item ``put`` made of ``found`` (the entity's order unchanged since)."""
        _, rank, score, slot, _, _ = found
        at = self.find((-score, rank, *entities.order(slot)), entities)
        if at < len(self.keys) and self.slots[at] == slot:
            self.delete(at)


def _objects(texts: list[str]) -> npt.NDArray[np.object_]:
    out = np.empty(len(texts), dtype=object)
    out[:] = texts
    return out


def _space_bits(key: str) -> int:
    """Bit i set where key[i] is a space."""
    bits, at = 0, key.find(" ")
    while at >= 0:
        bits |= 1 << at
        at = key.find(" ", at + 1)
    return bits


def word_entries(key: str, slot: int) -> list[tuple[str, str, int]]:
    """The entries of one name: (suffix, name, slot) for the name and each later word start."""
    out = [(key, key, slot)]
    at = key.find(" ")
    while at >= 0:
        out.append((key[at + 1 :], key, slot))
        at = key.find(" ", at + 1)
    return out


class PrefixTable:
    """Every word start of every name of one kind, and the ways to read them."""

    def __init__(self, entities: Entities) -> None:
        self._entities = entities
        # The big sorted lists, as numpy columns (object arrays for the text): a splice or a
        # layout copies them in C, and the garbage collector has nothing in them to walk.
        self.suffixes: npt.NDArray[np.object_] = np.zeros(0, dtype=object)
        self.keys: npt.NDArray[np.object_] = np.zeros(0, dtype=object)
        self.delta: list[tuple[str, str, int]] = []
        self.dead = 0
        self.dead_entries = 0  # of those dead, entries of live entities (``_live`` False)
        self.ranked: dict[str, _Ranked] = {}
        self.ranked_depth = 0
        self._slot = np.zeros(0, dtype=np.int32)
        self._suffix_length = np.zeros(0, dtype=np.int16)
        self._key_length = np.zeros(0, dtype=np.int16)
        self._rank = np.zeros(0, dtype=np.float64)
        self._spaces = np.zeros(0, dtype=np.uint64)
        # False where an entry of a live entity was taken out (a name it no longer has).
        self._live = np.ones(0, dtype=np.bool_)

    # -- laying out ---------------------------------------------------------------------------

    def layout(self, entries: list[tuple[str, str, int]]) -> None:
        """Sort ``entries`` (suffix, name, slot) into the big lists and rank crowded prefixes."""
        entries.sort()
        ranks = self._entities.ranks
        suffixes = [e[0] for e in entries]
        keys = [e[1] for e in entries]
        slots = [e[2] for e in entries]
        self.delta = []
        self.dead = 0
        self.dead_entries = 0
        n = len(entries)
        self.suffixes = _objects(suffixes)
        self.keys = _objects(keys)
        self._slot = np.array(slots, dtype=np.int32)
        self._suffix_length = np.fromiter(map(len, suffixes), dtype=np.int16, count=n)
        self._key_length = np.fromiter(map(len, keys), dtype=np.int16, count=n)
        self._rank = np.fromiter(
            (ranks[slot][key][1] for slot, key in zip(slots, keys, strict=True)),  # type: ignore[index]
            dtype=np.float64,
            count=n,
        )
        bits: dict[str, int] = {}
        spaces = []
        for suffix, key, _ in entries:
            mask = bits.get(key)
            if mask is None:
                mask = bits[key] = _space_bits(key)
            # Where the suffix has spaces, among its first _WORD_BITS characters.
            spaces.append((mask >> (len(key) - len(suffix))) & _WORD_MASK if mask else 0)
        self._spaces = np.array(spaces, dtype=np.uint64)
        self._live = np.ones(n, dtype=np.bool_)
        self.ranked = {}
        self.ranked_depth = 0
        ids = self._entities.ids
        id_rank = np.zeros(len(ids), dtype=np.int64)
        id_rank[sorted(range(len(ids)), key=ids.__getitem__)] = np.arange(len(ids))
        self._rank_crowded("", 0, n, id_rank)

    def _rank_crowded(self, prefix: str, lo: int, hi: int, id_rank: npt.NDArray[np.int64]) -> None:
        suffixes = self.suffixes
        depth = len(prefix)
        at = lo
        while at < hi:
            if len(suffixes[at]) <= depth:
                at += 1
                continue
            child = suffixes[at][: depth + 1]
            end = bisect_left(suffixes, child + _TOP, at, hi)
            if end - at > RANKED_RANGE and depth + 1 < _WORD_BITS:
                slots, scores, ranks, positions = self._best_per_entity(child, at, end)
                entities = self._entities
                order = np.lexsort(
                    (
                        id_rank[slots],
                        entities.name_length[slots],
                        -entities.weight[slots],
                        ranks,
                        -scores,
                    )
                )
                self.ranked[child] = _Ranked(
                    array("q", slots[order].tolist()),
                    array("d", scores[order].tolist()),
                    array("b", ranks[order].astype(np.int64).tolist()),
                    self.keys[positions[order]].tolist(),
                )
                self.ranked_depth = max(self.ranked_depth, depth + 1)
                self._rank_crowded(child, at, end, id_rank)
            at = end

    def _best_per_entity(
        self, key: str, lo: int, hi: int
    ) -> tuple[
        npt.NDArray[np.int32],
        npt.NDArray[np.float64],
        npt.NDArray[np.float64],
        npt.NDArray[np.intp],
    ]:
        """For entries lo..hi (all starting with ``key``): each live entity's best match.

        Returns slots, scores, alias ranks and entry positions, one per entity, in no order.
        """
        length = len(key)
        slot = self._slot[lo:hi]
        suffix_length = self._suffix_length[lo:hi]
        key_length = self._key_length[lo:hi]
        rank = self._rank[lo:hi]
        full = suffix_length == key_length
        ends = suffix_length == length
        # The name itself is an exact match, not a prefix one.
        keep = self._entities.alive[slot] & self._live[lo:hi] & ~(full & ends)
        whole = ends | ((self._spaces[lo:hi] >> np.uint64(length)) & np.uint64(1)).astype(np.bool_)
        bonus = np.where(whole, WHOLE_WORD_BONUS, 0.0)
        # The same operations in the same order as prefix_score, so the floats are equal.
        score = (
            np.where(
                full,
                70.0 + 20.0 * length / key_length + bonus,
                60.0 + 18.0 * length / suffix_length + bonus,
            )
            - RANK_PENALTY * rank
        )
        positions = np.flatnonzero(keep)
        slot, score, rank = slot[positions], score[positions], rank[positions]
        # Per entity: best rank, then best score, then first in the list (positions ascend).
        order = np.lexsort((positions, -score, rank, slot))
        sorted_slots = slot[order]
        first = np.ones(len(order), dtype=np.bool_)
        first[1:] = sorted_slots[1:] != sorted_slots[:-1]
        best = order[first]
        return slot[best], score[best], rank[best], positions[best] + lo

    # -- reading ------------------------------------------------------------------------------

    def find(self, key: str, best: dict[int, Found], limit: int) -> None:
        """Add to ``best`` the entities with a name or word starting with ``key``.

        Entities already in ``best`` (exact matches) are left as they are. At most ``limit``
        others are added, the best ones: no entity beyond them could rank among the first
        ``limit``.
        """
        ranked = self.ranked.get(key)
        if ranked is not None:
            taken = 0
            slots, scores, ranks, keys = ranked.slots, ranked.scores, ranked.ranks, ranked.keys
            for at in range(len(keys)):
                slot = slots[at]
                if slot in best:
                    continue
                best[slot] = (PREFIX_TIER, ranks[at], scores[at], slot, keys[at], "")
                taken += 1
                if taken >= limit:
                    break
            return
        suffixes = self.suffixes
        lo = bisect_left(suffixes, key)
        hi = bisect_left(suffixes, key + _TOP, lo)
        if hi - lo <= PYTHON_RANGE or len(key) >= _WORD_BITS:
            entries = zip(
                suffixes[lo:hi].tolist(),
                self.keys[lo:hi].tolist(),
                self._slot[lo:hi].tolist(),
                strict=True,
            )
            if self.dead_entries:
                live = self._live[lo:hi].tolist()
                entries = (e for e, ok in zip(entries, live, strict=True) if ok)  # type: ignore[assignment]
            self._read(key, entries, best)
        else:
            self._read_many(key, lo, hi, best, limit)
        if self.delta:
            at = bisect_left(self.delta, (key,))
            end = bisect_left(self.delta, (key + _TOP,), at)
            self._read(key, self.delta[at:end], best)

    def _read(
        self, key: str, entries: Iterable[tuple[str, str, int]], best: dict[int, Found]
    ) -> None:
        length = len(key)
        ranks = self._entities.ranks
        for suffix, name_key, slot in entries:
            names = ranks[slot]
            if names is None or (len(suffix) == length and len(name_key) == length):
                continue  # a removed entity, or the name itself (an exact match)
            rank = names[name_key][1]
            found = (
                PREFIX_TIER,
                rank,
                prefix_score(length, suffix, name_key, rank),
                slot,
                name_key,
                suffix,
            )
            current = best.get(slot)
            if current is None or better(found, current):
                best[slot] = found

    def _read_many(self, key: str, lo: int, hi: int, best: dict[int, Found], limit: int) -> None:
        slots, scores, ranks, positions = self._best_per_entity(key, lo, hi)
        if not len(slots):
            return
        entities = self._entities
        weight = -entities.weight[slots]
        name_length = entities.name_length[slots]
        order = np.lexsort((name_length, weight, ranks, -scores))
        # The first limit (plus room for entities already in best), and everything tied with
        # the last of them but for the id, which Python orders.
        wanted = min(len(order), limit + len(best))
        last = order[wanted - 1]
        tied = (
            (scores == scores[last])
            & (ranks == ranks[last])
            & (weight == weight[last])
            & (name_length == name_length[last])
        )
        chosen = np.union1d(order[:wanted], np.flatnonzero(tied)).tolist()
        ids, keys = entities.ids, self.keys
        slot_of = slots[chosen].tolist()
        score_of = scores[chosen].tolist()
        rank_of = ranks[chosen].astype(np.int64).tolist()
        weight_of = weight[chosen].tolist()
        length_of = name_length[chosen].tolist()
        position_of = positions[chosen].tolist()
        picked = sorted(
            (-score_of[i], rank_of[i], weight_of[i], length_of[i], ids[slot_of[i]], i)
            for i in range(len(chosen))
        )
        taken = 0
        for item in picked:
            at = item[5]
            slot = slot_of[at]
            if slot in best:
                continue
            best[slot] = (PREFIX_TIER, rank_of[at], score_of[at], slot, keys[position_of[at]], "")
            taken += 1
            if taken >= limit:
                break

    # -- changing -----------------------------------------------------------------------------

    def add(self, entries: list[tuple[str, str, int]]) -> None:
        """Index a new entity's entries (all of one slot)."""
        for entry in entries:
            insort(self.delta, entry)
        self._rank_entity(entries, insert=True)

    def remove(self, entries: list[tuple[str, str, int]]) -> None:
        """Forget an entity's entries (call before its slot is marked dead)."""
        self._rank_entity(entries, insert=False)
        delta = self.delta
        for entry in entries:
            at = bisect_left(delta, entry) if delta else 0
            if at < len(delta) and delta[at] == entry:
                del delta[at]
            else:
                self.dead += 1  # left in the big lists, dead

    def reweigh(self, entries: list[tuple[str, str, int]], set_weight: Callable[[], None]) -> None:
        """Move an entity's ranked items for a new weight, which ``set_weight`` stores."""
        best = self._best_by_prefix(entries)  # the items stay; only their order changes
        self._rank_entity(entries, insert=False, best=best)
        set_weight()
        self._rank_entity(entries, insert=True, best=best)

    def tidy_due(self) -> bool:
        """Whether ``tidy`` has work to do."""
        return self.dead * 2 > max(len(self.suffixes), 4096) or len(self.delta) > DELTA_LIMIT

    def tidy(self) -> None:
        """Keep the small list small and the dead few, so reading stays as fast as after a build.

        Past ``DELTA_LIMIT`` added entries, they are spliced into the big lists (a copy of the
        lists in C, a few milliseconds for 190,000 entries; the ranked lists already hold them).
        Once dead entries are half of the big lists, the kind is laid out afresh.
        """
        if self.dead * 2 > max(len(self.suffixes), 4096):
            self.layout(self.live_entries())
        elif len(self.delta) > DELTA_LIMIT:
            self._splice()

    def _splice(self) -> None:
        delta, self.delta = self.delta, []
        suffixes = [e[0] for e in delta]
        keys = [e[1] for e in delta]
        slots = [e[2] for e in delta]
        # Where each added entry goes in the merged lists (the entries are sorted).
        at = np.array([bisect_left(self.suffixes, x) for x in suffixes], dtype=np.int64)
        at += np.arange(len(delta))
        taken = np.zeros(len(self._slot) + len(delta), dtype=np.bool_)
        taken[at] = True
        kept = ~taken

        def merged(old: npt.NDArray[Any], new: npt.NDArray[Any] | list[Any]) -> npt.NDArray[Any]:
            out = np.empty(len(taken), dtype=old.dtype)
            out[at] = new
            out[kept] = old
            return out

        ranks = self._entities.ranks
        self.suffixes = merged(self.suffixes, _objects(suffixes))
        self.keys = merged(self.keys, _objects(keys))
        self._slot = merged(self._slot, slots)
        self._suffix_length = merged(self._suffix_length, [len(x) for x in suffixes])
        self._key_length = merged(self._key_length, [len(x) for x in keys])
        self._rank = merged(
            self._rank,
            [ranks[slot][key][1] for key, slot in zip(keys, slots, strict=True)],  # type: ignore[index]
        )
        self._live = merged(self._live, np.ones(len(delta), dtype=np.bool_))
        self._spaces = merged(
            self._spaces,
            np.array(
                [
                    (_space_bits(k) >> (len(k) - len(x))) & _WORD_MASK
                    for x, k in zip(suffixes, keys, strict=True)
                ],
                dtype=np.uint64,
            ),
        )

    def live_entries(self) -> list[tuple[str, str, int]]:
        """Every live entry, for a fresh layout."""
        alive = self._entities.alive
        out = [
            entry
            for entry, live in zip(
                zip(self.suffixes.tolist(), self.keys.tolist(), self._slot.tolist(), strict=True),
                self._live.tolist(),
                strict=True,
            )
            if live and alive[entry[2]]
        ]
        out.extend(self.delta)
        return out

    def change_names(
        self,
        entries_before: Callable[[], list[tuple[str, str, int]]],
        removed: list[tuple[str, str, int]],
        added: list[tuple[str, str, int]],
        names_before: dict[str, tuple[str, int]],
    ) -> None:
        """A live entity's names changed, nothing else: take out ``removed``, put in ``added``.

        ``entries_before`` gives all its entries before the change, ``names_before`` its names
        (the entities already hold the new ones). Its item in a crowded prefix's ranked list is
        touched only where its best match for that prefix changed.
        """
        affected = self._crowded_prefixes(removed) | self._crowded_prefixes(added)
        old: list[tuple[str, str, int]] = []
        before: dict[str, Found] = {}
        if affected:
            old = entries_before()
            before = self._best_by_prefix(old, names_before, affected)
        delta = self.delta
        for entry in removed:
            at = bisect_left(delta, entry)
            if at < len(delta) and delta[at] == entry:
                del delta[at]
            else:
                self._kill_entry(entry)
        for entry in added:
            insort(delta, entry)
        if not affected:
            return
        gone = {key for _, key, _ in removed}
        new = [e for e in old if e[1] not in gone] + added
        after = self._best_by_prefix(new, None, affected)
        for prefix in affected:
            was, now = before.get(prefix), after.get(prefix)
            if was == now:
                continue
            if was is not None:
                self.ranked[prefix].take(was, self._entities)
            if now is not None:
                self.ranked[prefix].put(now, self._entities)

    def _kill_entry(self, entry: tuple[str, str, int]) -> None:
        """Mark one entry of the big lists dead (its entity lives on without that name)."""
        suffix, key, slot = entry
        suffixes = self.suffixes
        at = bisect_left(suffixes, suffix)
        while at < len(suffixes) and suffixes[at] == suffix:
            if self.keys[at] == key and self._slot[at] == slot and self._live[at]:
                self._live[at] = False
                self.dead += 1
                self.dead_entries += 1
                return
            at += 1

    def _crowded(self, suffix: str) -> Iterator[str]:
        """The crowded (ranked) prefixes of ``suffix``, shortest first."""
        for length in range(1, min(len(suffix), self.ranked_depth) + 1):
            prefix = suffix[:length]
            if prefix not in self.ranked:
                return
            yield prefix

    def _crowded_prefixes(self, entries: list[tuple[str, str, int]]) -> set[str]:
        return {prefix for suffix, _, _ in entries for prefix in self._crowded(suffix)}

    def _best_by_prefix(
        self,
        entries: list[tuple[str, str, int]],
        names: dict[str, tuple[str, int]] | None = None,
        only: set[str] | None = None,
    ) -> dict[str, Found]:
        """For each crowded prefix of one entity's ``entries`` (those in ``only``, if given): its
        best match for it. ``names``: the entity's names, if not those the entities hold now."""
        best: dict[str, Found] = {}
        if not entries:
            return best
        slot = entries[0][2]
        if names is None:
            names = self._entities.ranks[slot]
            assert names is not None
        initials = None if only is None else {prefix[:1] for prefix in only}
        for suffix, key, _ in entries:
            if initials is not None and suffix[:1] not in initials:
                continue
            rank = names[key][1]
            for prefix in self._crowded(suffix):
                length = len(prefix)
                if len(suffix) == length and len(key) == length:
                    continue  # the name itself: an exact match, not a prefix
                if only is not None and prefix not in only:
                    continue
                score = prefix_score(length, suffix, key, rank)
                found = (PREFIX_TIER, rank, score, slot, key, suffix)
                current = best.get(prefix)
                if current is None or better(found, current):
                    best[prefix] = found
        return best

    def _rank_entity(
        self,
        entries: list[tuple[str, str, int]],
        *,
        insert: bool,
        best: dict[str, Found] | None = None,
    ) -> None:
        """Put one entity in, or take it out of, the ranked list of each crowded prefix it has."""
        if not self.ranked or not entries:
            return
        if best is None:
            best = self._best_by_prefix(entries)
        for prefix, found in best.items():
            if insert:
                self.ranked[prefix].put(found, self._entities)
            else:
                self.ranked[prefix].take(found, self._entities)
