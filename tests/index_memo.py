"""One search index build per distinct set of rows in a test run; later builds share it.

Most tests open services on a copy of the same knowledge base (the bundled one, or with the SII
file imported), and each opening built the same 36,000-name index again: about 0.25 s, some 190
times a run. ``SearchIndex.build`` is wrapped for the test run so that rows equal to rows already
built give an index that reads that build, and makes its own copy of it (a pickle round trip) the
first time it is changed (``upsert``, ``remove``, ``compact``): as private to the caller as a fresh
build, changes included, and most callers only read. Rows not seen before are built for real, so
every distinct knowledge base a test makes (every import, approval elsewhere or rebuild with other
data) still goes through ``build``; the search tests call it on their own rows too.
``ARMSBOT_TEST_INDEX_MEMO=0`` turns it off.
"""

from __future__ import annotations

import os
import pickle
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from armsbot.records import IndexRow
from armsbot.search.index import SearchIndex

_KEPT = 6  # distinct row sets kept (about 10 MB each, and the build itself)


class SharedIndex(SearchIndex):
    """An index that reads a build it shares until it is first changed, then copies it."""

    _shared: bytes | None

    @classmethod
    def over(cls, index: SearchIndex, made: bytes) -> SharedIndex:
        """An index reading ``index`` (never changed itself), copied from ``made`` on a change."""
        shared = cls.__new__(cls)
        shared.__dict__.update(index.__dict__)
        shared._shared = made
        return shared

    def _own(self) -> None:
        made = self._shared
        if made is not None:
            self._shared = None
            self.__dict__.update(pickle.loads(made).__dict__)  # bytes this process made

    def upsert(self, row: IndexRow) -> None:
        self._own()
        super().upsert(row)

    def remove(self, entity_id: str) -> None:
        self._own()
        super().remove(entity_id)

    def compact(self) -> bool:
        self._own()
        return super().compact()


@contextmanager
def memoised_index_builds() -> Iterator[None]:
    """Within the block, ``SearchIndex.build`` shares an index already built from equal rows."""
    if os.environ.get("ARMSBOT_TEST_INDEX_MEMO", "1") == "0":
        yield
        return
    original: Any = SearchIndex.__dict__["build"]
    build = original.__func__
    kept: OrderedDict[tuple[int, int], tuple[SearchIndex, bytes]] = OrderedDict()

    def memoised(cls: type[SearchIndex], rows: Iterable[IndexRow]) -> SearchIndex:
        listed = tuple(rows)
        # The rows' hash stands for them (comparing 36,000 names again cost as much as hashing).
        key = (len(listed), hash(listed))
        found = kept.get(key)
        if found is None:
            index = build(cls, listed)
            found = kept[key] = (index, pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL))
            if len(kept) > _KEPT:
                kept.popitem(last=False)
        kept.move_to_end(key)
        return SharedIndex.over(*found)

    SearchIndex.build = classmethod(memoised)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        SearchIndex.build = original  # type: ignore[method-assign]
