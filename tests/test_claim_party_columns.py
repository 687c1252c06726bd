"""A claim's party columns (party_roles, party_keys): written whole with the claim, kept by the
triggers of its parties after every other write, the same in Python and in SQL (migration 12)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from armsbot.models import Category, Claim, Party, Role, Source, Status
from armsbot.storage import KnowledgeBase
from armsbot.storage.datasets import DatasetStore
from armsbot.storage.migrations import (
    LATEST,
    MIGRATIONS,
    party_keys,
    party_keys_of,
    party_roles,
    party_roles_of,
)
from tests.conftest import sqlite_only

# Parties as (entity id, role), in order: ids in other scripts than Latin, roles that place a
# claim on a card and roles that do not, before, between and after them, or none at all.
PARTY_LISTS: list[list[tuple[str, str]]] = [
    [],
    [("UG", "target")],
    [("hacking-team", "supplier"), ("UG", "recipient")],
    [("MX", "subject"), ("société-écoute", "supplier"), ("MX", "recipient"), ("ŽP", "court")],
    [("日本", "member"), ("北京-电子", "broker"), ("ünter", "instrument"), ("🛰-sat", "target")],
    [("a", "supplier"), ("a", "recipient"), ("ab", "broker"), ("abc", "instrument")],
]


@pytest.mark.parametrize("parties", PARTY_LISTS)
def test_python_and_sql_give_the_same_party_columns(parties: list[tuple[str, str]]) -> None:
    """insert_claim writes the columns computed in Python; the triggers and `db check` compute
    them in SQL. Any difference would be stored, and never mended by the triggers."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE claim_parties (claim_id TEXT, position INTEGER, entity_id, role)")
    db.executemany(
        "INSERT INTO claim_parties VALUES ('c', ?, ?, ?)",
        [(i, entity, role) for i, (entity, role) in reversed(list(enumerate(parties)))],
    )
    claim = "'c'"
    row = db.execute(f"SELECT {party_roles_of(claim)}, {party_keys_of(claim)}").fetchone()
    assert row == (party_roles(parties), party_keys(entity for entity, _ in parties))


def _claim(claim_id: str, parties: list[tuple[str, str]]) -> Claim:
    return Claim.model_validate(
        {
            "id": claim_id,
            "text": "Interception kit sold to a ministry.",
            "status": Status.REPORTED,
            "category": Category.TRANSFER,
            "date": "2019-03",
            "parties": [Party(entity=e, role=Role(r)) for e, r in parties],
            "sources": [Source(title="A dataset record", url=None)],
            "provenance": {"dataset": "test", "checksum": "0" * 64, "record": claim_id},
        }
    )


async def log_rewrites(kb: KnowledgeBase) -> None:
    """Log every write of a claim's party columns (a temporary trigger, this connection only)."""
    await kb.db.execute("CREATE TEMP TABLE rewrites (claim_id TEXT)")
    await kb.db.execute(
        "CREATE TEMP TRIGGER log_rewrites AFTER UPDATE OF party_roles, party_keys ON main.claims"
        " BEGIN INSERT INTO rewrites VALUES (new.id); END"
    )


async def rewrites(kb: KnowledgeBase) -> list[str]:
    """The claims whose party columns were written since :func:`log_rewrites`, in order."""
    return [str(r[0]) for r in await kb.db.execute_fetchall("SELECT claim_id FROM rewrites")]


async def _out_of_step(kb: KnowledgeBase) -> list[object]:
    """The claims whose party columns, card places or index entry differ from their parties'."""
    found: list[object] = [
        tuple(r)
        for r in await kb.db.execute_fetchall(
            f"SELECT c.id FROM claims c WHERE c.party_roles IS NOT {party_roles_of('c.id')}"
            f" OR c.party_keys != {party_keys_of('c.id')}"
            " OR EXISTS (SELECT 1 FROM card_places k WHERE k.claim_id = c.id"
            " AND k.party_roles IS NOT c.party_roles)"
            " OR (SELECT count(*) FROM card_places k WHERE k.claim_id = c.id)"
            " != (SELECT count(*) FROM claim_parties p WHERE p.claim_id = c.id)"
        )
    ]
    try:  # the index of words and parties' keys, against the claims it indexes
        await kb.db.execute(
            "INSERT INTO claims_linked (claims_linked, rank) VALUES ('integrity-check', 1)"
        )
    except sqlite3.DatabaseError as exc:
        found.append(str(exc))
    return found


@sqlite_only  # only SQLite has party_keys, card_places and claims_linked
async def test_a_claim_and_its_parties_are_written_once(kb: KnowledgeBase) -> None:
    """Issue (session 6): each party's insert wrote the claim's party columns again, and so
    indexed the claim's words again and rewrote its card places, once per party."""
    async with kb.transaction() as db:
        for entity in ("ecoute-sa", "beijing-dianzi"):
            await db.execute(
                "INSERT INTO entities (id, kind, name) VALUES (?, 'firm', ?)", (entity, entity)
            )
    await log_rewrites(kb)
    store = DatasetStore(kb)
    lists = [
        [("ecoute-sa", "supplier"), ("MX", "recipient"), ("UG", "target")],
        [("MX", "subject"), ("beijing-dianzi", "broker"), ("MX", "recipient"), ("UG", "recipient")],
        [("MX", "target")],
    ]
    async with kb.transaction():
        for i, parties in enumerate(lists):
            await store.insert_claim("MX", 900 + i, _claim(f"test-{i}", parties))
    assert await rewrites(kb) == []
    stored = await kb.db.execute_fetchall(
        "SELECT party_roles, party_keys FROM claims WHERE id LIKE 'test-%' ORDER BY id"
    )
    assert [tuple(r) for r in stored] == [
        (party_roles(p), party_keys(e for e, _ in p)) for p in lists
    ]
    assert await _out_of_step(kb) == []

    # Any other write of a party still writes the columns: at the end, at the start, and
    # a party that places nothing, which leaves party_roles as it was.
    async with kb.transaction() as db:
        await db.execute("INSERT INTO claim_parties VALUES ('test-0', 9, 'BR', 'recipient')")
        await db.execute("INSERT INTO claim_parties VALUES ('test-1', -1, 'BR', 'supplier')")
        await db.execute("INSERT INTO claim_parties VALUES ('test-2', 5, 'BR', 'subject')")
    assert await rewrites(kb) == ["test-0", "test-0", "test-1", "test-1", "test-2"]
    roles = await kb.db.execute_fetchall(
        "SELECT party_roles FROM claims WHERE id LIKE 'test-%' ORDER BY id"
    )
    assert [r[0] for r in roles] == [
        "supplier ecoute-sa recipient MX recipient BR",
        "supplier BR broker beijing-dianzi recipient MX recipient UG",
        None,
    ]
    assert await _out_of_step(kb) == []
    async with kb.transaction() as db:
        await db.execute("DELETE FROM claim_parties WHERE claim_id = 'test-0' AND position = 0")
        await db.execute("UPDATE claim_parties SET role = 'supplier' WHERE claim_id = 'test-2'")
    assert await _out_of_step(kb) == []
    async with kb.transaction():
        await store.delete_claims(["test-0", "test-1", "test-2"])
        await store.delete_unused_sources()
    assert await _out_of_step(kb) == []
    assert await kb.integrity_problems() == []


def test_a_database_from_migration_11_keeps_its_claims_party_columns(tmp_path: Path) -> None:
    """Migration 12 replaces the triggers of inserted parties: the claims already stored keep
    their columns, and the triggers go on keeping them after every write."""
    path = tmp_path / "eleven.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA foreign_keys = ON")
    for number, script in MIGRATIONS:
        if number <= 11:
            db.executescript(script)
    db.execute("PRAGMA user_version = 11")
    db.executemany(
        "INSERT INTO entities (id, kind, name) VALUES (?, ?, ?)",
        [("MX", "country", "Mexico"), ("UG", "country", "Uganda"), ("société-x", "firm", "X")],
    )
    db.execute("INSERT INTO sources (url, title) VALUES ('https://example.org', 'A report')")
    for claim_id, parties in [
        ("old-1", [("société-x", "supplier"), ("MX", "recipient")]),
        ("old-2", [("UG", "subject"), ("MX", "recipient"), ("UG", "recipient")]),
    ]:
        db.execute(
            "INSERT INTO claims (id, home_entity_id, position, text, status, category)"
            " VALUES (?, 'MX', 0, 'Spyware sold.', 'reported', 'transfer')",
            (claim_id,),
        )
        db.execute("INSERT INTO claim_sources VALUES (?, 0, 1)", (claim_id,))
        db.executemany(
            "INSERT INTO claim_parties VALUES (?, ?, ?, ?)",
            [(claim_id, i, entity, role) for i, (entity, role) in enumerate(parties)],
        )
    before = db.execute("SELECT id, party_roles, party_keys FROM claims ORDER BY id").fetchall()
    assert before == [
        ("old-1", "supplier société-x recipient MX", party_keys(["société-x", "MX"])),
        ("old-2", "recipient MX recipient UG", party_keys(["UG", "MX", "UG"])),
    ]
    db.close()

    async def migrate_and_write() -> None:
        async with await KnowledgeBase.open(path) as kb:
            assert await kb.schema_version() == LATEST
            after = await kb.db.execute_fetchall(
                "SELECT id, party_roles, party_keys FROM claims ORDER BY id"
            )
            assert [tuple(r) for r in after] == before
            assert await _out_of_step(kb) == []
            await log_rewrites(kb)
            async with kb.transaction() as db:
                await db.execute("INSERT INTO claim_parties VALUES ('old-1', 2, 'UG', 'broker')")
                await DatasetStore(kb).insert_claim(
                    "UG", 1, _claim("new-1", [("UG", "target"), ("MX", "supplier")])
                )
            assert await rewrites(kb) == ["old-1", "old-1"]
            assert await _out_of_step(kb) == []
            assert await kb.integrity_problems() == []

    asyncio.run(migrate_and_write())
