"""The test run's index memo (tests/index_memo.py) hands out independent, equal indexes."""

from __future__ import annotations

import asyncio
from pathlib import Path

from armsbot.models import Kind
from armsbot.records import IndexRow
from armsbot.search.index import SearchIndex
from armsbot.storage import KnowledgeBase
from tests.index_memo import memoised_index_builds


def _rows(database: Path) -> list[IndexRow]:
    async def read() -> list[IndexRow]:
        async with await KnowledgeBase.open(database) as kb:
            return await kb.index_rows()

    return asyncio.run(read())


def test_a_second_build_from_equal_rows_is_an_equal_but_independent_copy(built_db: Path) -> None:
    rows = _rows(built_db)
    with memoised_index_builds():
        first = SearchIndex.build(rows)
        second = SearchIndex.build(list(rows))
    assert second is not first
    for query in ("azerbajan", "nso", "pegasus", "Марокко", "wassenaar"):
        assert [m.id for m in second.search(query)] == [m.id for m in first.search(query)]
    [morocco] = [r for r in rows if r.id == "MA"]
    renamed = IndexRow(
        morocco.id,
        morocco.kind,
        morocco.name,
        morocco.weight,
        (*morocco.aliases, ("Qzxland", "alias")),
    )
    second.upsert(renamed)
    assert [m.id for m in second.search("qzxland", kind=Kind.COUNTRY)][:1] == ["MA"]
    assert "MA" not in [m.id for m in first.search("qzxland", kind=Kind.COUNTRY)]
