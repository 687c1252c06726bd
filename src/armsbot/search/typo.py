"""Typo candidates: which folded names could be ``TYPO_CUTOFF`` similar to a query, found fast.

rapidfuzz's ``fuzz.ratio`` is ``200 * LCS / (len(a) + len(b))``. The longest common subsequence
can be no longer than the shorter string, nor than the characters both strings share counted
with multiplicity (the "bag" intersection). So a name can reach the cutoff only if

* its length is within ``[7/13, 13/7]`` of the query's (for a cutoff of 70), and
* ``20 * bag(query, name) >= 7 * (len(query) + len(name))``.

Both are upper bounds, so filtering on them loses nothing: rapidfuzz then scores only the few
names that pass, instead of every name of a kind. Names are kept sorted by length (the length
window is one slice) with a column of character counts per bucket (numpy, one byte per name and
bucket); the frequent characters each have a bucket of their own, rarer ones share, which only
loosens the bound. A query touches one column per distinct character it has.

Names added after the table was built go to a short overflow list that rapidfuzz scores whole;
names that lose their last owner stay in the arrays but are left out of what rapidfuzz scores, so
an update never touches the arrays.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

BUCKETS = 128
_BITS = 64  # buckets (the most frequent characters) also kept as presence bits
_SHARED = 16  # buckets shared by rarer characters (by code point)
_OWN = BUCKETS - _SHARED


class CharBuckets:
    """Which count column each character goes to: frequent characters alone, rare ones shared."""

    def __init__(self, names: list[str]) -> None:
        counts = Counter("".join(names))
        own = [ch for ch, _ in counts.most_common(_OWN)]
        self.of: dict[str, int] = {ch: i for i, ch in enumerate(own)}
        self._own_codes = np.array(sorted(ord(ch) for ch in own), dtype=np.uint32)
        self._own_buckets = np.array(
            [self.of[chr(code)] for code in self._own_codes.tolist()], dtype=np.uint8
        )

    def bucket(self, ch: str) -> int:
        """The column of one character."""
        found = self.of.get(ch)
        return found if found is not None else _OWN + ord(ch) % _SHARED

    def buckets(self, codes: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint8]:
        """The columns of many code points at once."""
        out = (_OWN + codes % _SHARED).astype(np.uint8)
        if len(self._own_codes):
            at = np.searchsorted(self._own_codes, codes)
            at[at == len(self._own_codes)] = 0
            hit = self._own_codes[at] == codes
            out[hit] = self._own_buckets[at[hit]]
        return out


class TypoTable:
    """The distinct folded names of one kind, ready for filtered rapidfuzz scoring."""

    def __init__(self, names: list[str], buckets: CharBuckets, cutoff: int) -> None:
        """``names`` distinct, in the order they were first indexed (ties keep that order).

        ``cutoff`` is the least ``fuzz.ratio`` (a whole number) a candidate must be able to reach.
        """
        self._buckets = buckets
        self.cutoff = cutoff
        # ratio >= c  <=>  200 * LCS >= c * total  <=>  num * LCS >= den * total (in lowest terms).
        whole = math.gcd(200, cutoff)
        self._num, self._den = 200 // whole, cutoff // whole
        order = sorted(range(len(names)), key=lambda i: len(names[i]))
        self.keys: list[str] = [names[i] for i in order]
        self._seq = np.array(order, dtype=np.int32)
        self._next_seq = len(names)
        lengths = np.array([len(k) for k in self.keys], dtype=np.int32)
        self._lens = lengths.astype(np.intp)
        longest = int(lengths[-1]) if len(lengths) else 0
        # _start[n]: index of the first name at least n long (n = 0 .. longest + 1).
        self._start = np.searchsorted(lengths, np.arange(longest + 2), side="left").tolist()
        self._longest = longest
        self.counts = self._count(self.keys, lengths)
        self._present = np.zeros(len(self.keys), dtype=np.uint64)
        for bucket in range(_BITS):
            self._present |= (self.counts[bucket] > 0).astype(np.uint64) << np.uint64(bucket)
        self._keys = np.empty(len(self.keys), dtype=object)
        self._keys[:] = self.keys
        self._needs: dict[int, npt.NDArray[np.int16]] = {}
        self._known: set[str] = set(names)
        self._gone: set[str] = set()  # names nobody has any more
        # Names first met after the build: scored whole, in the order they came.
        self.overflow: list[str] = []

    def _count(self, keys: list[str], lengths: npt.NDArray[np.int32]) -> npt.NDArray[np.uint8]:
        n = len(keys)
        if n == 0:
            return np.zeros((BUCKETS, 0), dtype=np.uint8)
        codes = np.frombuffer("".join(keys).encode("utf-32-le"), dtype=np.uint32)
        owner = np.repeat(np.arange(n, dtype=np.int64), lengths)
        cells = self._buckets.buckets(codes).astype(np.int64) * n + owner
        # Names are at most a few hundred characters: a count never passes 255.
        flat = np.bincount(cells, minlength=BUCKETS * n)
        return np.minimum(flat, 255).astype(np.uint8).reshape(BUCKETS, n)

    def ordered_keys(self) -> list[str]:
        """Every name still someone's, in the order names were first indexed."""
        built = [self.keys[i] for i in np.argsort(self._seq, kind="stable").tolist()]
        return [k for k in built + self.overflow if k not in self._gone]

    def __len__(self) -> int:
        return len(self.keys) + len(self.overflow)

    def add(self, key: str) -> None:
        """Make sure ``key`` can be found (a no-op for names already there)."""
        if key not in self._known:
            self._known.add(key)
            self.overflow.append(key)
        else:
            self._gone.discard(key)

    def discard(self, key: str) -> None:
        """``key`` is nobody's name any more: leave it out of the candidates."""
        if key in self._known:
            self._gone.add(key)

    def candidates(self, key: str) -> list[str]:
        """Every known name that might be ``TYPO_CUTOFF`` similar to ``key``, in index order."""
        length = len(key)
        cutoff = self.cutoff
        # LCS <= the shorter length: the other length is within [c/(200-c), (200-c)/c] of it.
        shortest = (cutoff * length) // (200 - cutoff)
        longest = -(-(200 - cutoff) * length // cutoff)
        out: list[str] = []
        if shortest <= self._longest:
            lo = self._start[shortest]
            hi = self._start[min(longest + 1, self._longest + 1)]
            if hi > lo:
                hits = self._filter(key, lo, hi)
                if len(hits):
                    if len(hits) > 1:
                        hits = hits[np.argsort(self._seq[hits], kind="stable")]
                    out = self._keys[hits].tolist()
        if self.overflow:
            out.extend(self.overflow)
        if self._gone:
            gone = self._gone
            out = [k for k in out if k not in gone]
        return out

    def _filter(self, key: str, lo: int, hi: int) -> npt.NDArray[np.intp]:
        """Names lo..hi that share enough letters with ``key`` to reach the cutoff.

        ``num * shared >= den * (len + length)``, one below so that a score that rounds to the
        cutoff is kept too (the right side per name length, looked up).
        """
        wanted = Counter(self._buckets.bucket(ch) for ch in key)
        # A letter the query has once adds 1 if the name has it at all: one bit per bucket for
        # the 64 most frequent, counted together; the others, one count column each.
        single = 0
        for bucket, times in wanted.items():
            if times == 1 and bucket < _BITS:
                single |= 1 << bucket
        # Letters shared (names are at most a few hundred long: bytes hold the sums).
        shared = np.zeros(hi - lo, dtype=np.uint8)
        if single:
            both = np.bitwise_and(self._present[lo:hi], np.uint64(single))
            np.bitwise_count(both, out=shared)
        part = np.empty(hi - lo, dtype=np.uint8)
        counts = self.counts
        for bucket, times in wanted.items():
            if times > 1 or bucket >= _BITS:
                np.minimum(counts[bucket, lo:hi], times, out=part)
                shared += part
        return np.flatnonzero(shared >= self._need(len(key))[self._lens[lo:hi]]) + lo

    def _need(self, length: int) -> npt.NDArray[np.int16]:
        """For each name length, the least letters shared that could reach the cutoff."""
        need = self._needs.get(length)
        if need is None:
            lengths = np.arange(self._longest + 1, dtype=np.int32)
            bound = self._den * (lengths + length) - 1
            need = self._needs[length] = (-(-bound // self._num)).astype(np.int16)
        return need

    def extract(self, key: str, limit: int) -> list[tuple[str, float, int]]:
        """The ``limit`` names most similar to ``key`` at the cutoff or above, best first."""
        return process.extract(
            key, self.candidates(key), scorer=fuzz.ratio, score_cutoff=self.cutoff, limit=limit
        )
