"""One search index build per distinct set of rows in a test run; later builds are copies.

Most tests open services on a copy of the same knowledge base (the bundled one, or with the SII
file imported), and each opening built the same 36,000-name index again: about 0.25 s, some 190
times a run. ``SearchIndex.build`` is wrapped for the test run so that rows equal to rows already
built give an independent copy of that index (a pickle round trip, about a fifth of a build):
the same objects a build makes, as private to the caller as a fresh build, changes included.
Rows not seen before are built for real, so every distinct knowledge base a test makes (every
import, approval elsewhere or rebuild with other data) still goes through ``build``; the search
tests call it on their own rows too. ``ARMSBOT_TEST_INDEX_MEMO=0`` turns it off.
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

_KEPT = 6  # distinct row sets kept (about 10 MB each)


@contextmanager
def memoised_index_builds() -> Iterator[None]:
    """Within the block, ``SearchIndex.build`` copies an index already built from equal rows."""
    if os.environ.get("ARMSBOT_TEST_INDEX_MEMO", "1") == "0":
        yield
        return
    original: Any = SearchIndex.__dict__["build"]
    build = original.__func__
    kept: OrderedDict[tuple[int, int], bytes] = OrderedDict()

    def memoised(cls: type[SearchIndex], rows: Iterable[IndexRow]) -> SearchIndex:
        listed = tuple(rows)
        # The rows' hash stands for them (comparing 36,000 names again cost as much as hashing).
        key = (len(listed), hash(listed))
        made = kept.get(key)
        if made is None:
            index = build(cls, listed)
            kept[key] = pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)
            if len(kept) > _KEPT:
                kept.popitem(last=False)
            return index
        kept.move_to_end(key)
        copy: SearchIndex = pickle.loads(made)  # bytes this process just made
        return copy

    SearchIndex.build = classmethod(memoised)  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        SearchIndex.build = original  # type: ignore[method-assign]
