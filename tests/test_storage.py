"""The store's write transactions: waiting for other writers, and what they tell readers."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from armsbot.storage import KnowledgeBase
from tests.conftest import sqlite_only


class FlakyBegin:
    """Makes BEGIN IMMEDIATE fail ``times`` times with ``error``, as SQLite can in WAL mode."""

    def __init__(self, kb: KnowledgeBase, times: int, error: str) -> None:
        self.real = kb.db.execute
        self.left = times
        self.error = error

    def __call__(self, sql: str, *args: Any) -> Any:
        if sql == "BEGIN IMMEDIATE" and self.left:
            self.left -= 1
            raise sqlite3.OperationalError(self.error)
        return self.real(sql, *args)


@sqlite_only  # SQLite's own busy errors: PostgreSQL waits for its writer lock (lock_timeout)
async def test_a_locked_database_is_waited_for(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky = FlakyBegin(kb, 3, "database is locked")
    monkeypatch.setattr(kb.db, "execute", flaky)
    await kb.set_meta("written", "after waiting")
    assert flaky.left == 0
    assert await kb.meta("written") == "after waiting"


@sqlite_only  # SQLite's own busy errors: PostgreSQL waits for its writer lock (lock_timeout)
async def test_other_errors_are_not_retried(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky = FlakyBegin(kb, 3, "disk I/O error")
    monkeypatch.setattr(kb.db, "execute", flaky)
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        await kb.set_meta("written", "never")
    assert flaky.left == 2
    monkeypatch.undo()
    assert await kb.meta("written") is None


async def test_commits_from_anywhere_change_the_version(kb: KnowledgeBase) -> None:
    first = await kb.version()
    assert await kb.version() == first  # reading changes nothing
    await kb.set_meta("here", "1")
    second = await kb.version()
    assert second != first
    async with await KnowledgeBase.open(kb.path) as other:
        await other.set_meta("there", "1")
    assert await kb.version() != second


async def test_index_rows_keep_each_entitys_names_in_their_order(kb: KnowledgeBase) -> None:
    """SQLite reads them one row per entity: the same names, in the same order, as row by row."""
    async with kb.db.execute(
        "SELECT entity_id, name, type FROM aliases ORDER BY entity_id, position"
    ) as cursor:
        expected: dict[str, list[tuple[str, str]]] = {}
        for entity_id, name, type_ in await cursor.fetchall():
            expected.setdefault(str(entity_id), []).append((str(name), str(type_)))
    rows = await kb.index_rows()
    assert len(rows) > 300
    assert {r.id: list(r.aliases) for r in rows if r.aliases} == expected
    [azerbaijan] = [r for r in rows if r.id == "AZ"]
    assert azerbaijan.name == "Azerbaijan"
    assert len(azerbaijan.aliases) > 100
    assert all(
        isinstance(name, str) and isinstance(type_, str) for name, type_ in azerbaijan.aliases
    )


async def test_a_snapshot_lists_every_name_as_stored_in_order(kb: KnowledgeBase) -> None:
    async with kb.db.execute(
        "SELECT entity_id, position, name, folded, type, lang, origin FROM aliases"
        " ORDER BY entity_id, position"
    ) as cursor:
        stored = [tuple(row) for row in await cursor.fetchall()]
    assert len(stored) > 30_000
    assert (await kb.snapshot())["aliases"] == stored
