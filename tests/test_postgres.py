"""PostgreSQL as the knowledge base: the same answers as SQLite, `db copy` both ways, what the
database itself enforces, following other processes' commits, and its failures in one line."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from armsbot.changes import AddAlias, AddClaim, EditField, Submission
from armsbot.imports.sii import import_sii
from armsbot.search.index import SearchIndex
from armsbot.services.corrections import CorrectionService, Limits, Outcome
from armsbot.storage import KnowledgeBase
from armsbot.storage.claim_search import ClaimSearch
from armsbot.storage.connection import DatabaseUnavailable
from armsbot.storage.copy import TargetNotEmpty, copy_knowledge_base, snapshot_content
from armsbot.storage.postgres import numbered, shown_url
from tests.conftest import run_cli
from tests.test_claims import KINDS_OF_QUERY

pytestmark = pytest.mark.postgres
MOD = "discord:900"
MEMBER = "discord:100"
URL = "https://example.org/report"


def sii_file(tmp_path: Path) -> Path:
    """A small file in the SII's format: a new firm, a known one, a repeat."""
    base: dict[str, Any] = {
        "supplier_company": "NICE Systems",
        "supplier_company_hq": "Israel",
        "recipient_country": "Uganda",
        "enduser": None,
        "export_data_or_open_source": "Open",
        "transfer_to_enduser_reported_as_complete": "Unknown",
        "order_year": 2015,
        "sources": "A citation, <https://example.org/a>",
        "goods": ["Lawful interception"],
        "source_links": ["https://example.org/a"],
    }
    records = [
        base | {"title": "Record 1", "unique_id": "r1"},
        base
        | {
            "title": "Record 2",
            "unique_id": "r2",
            "supplier_company": "Tinyfirm Surveillance Ltd",
            "supplier_company_hq": "Germany",
            "recipient_country": "Azerbaijan",
            "order_year": 2019,
        },
        base | {"title": "Record 3", "unique_id": "r3"},
    ]
    path = tmp_path / "transfers.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def submission(entity_id: str, change: object) -> Submission:
    return Submission.model_validate(
        {
            "entity_id": entity_id,
            "change": change,
            "what_is_wrong": "Out of date.",
            "source_url": URL,
        }
    )


async def _history(database: Path | str, tmp_path: Path) -> None:
    """An SII import, two approved corrections and a rejected one, on ``database``."""
    async with await KnowledgeBase.open(database) as kb:
        report = await import_sii(kb, sii_file(tmp_path))
        assert report.claims_added >= 2
        service = CorrectionService(kb, SearchIndex.build(await kb.index_rows()), Limits(100, 100))
        changes = [
            ("AZ", EditField(field="summary", value="Écrit par un membre — “quoted”.")),
            ("nso-group", AddAlias(name="Spywarefirm Zed")),
        ]
        for entity_id, change in changes:
            correction = await service.submit(submission(entity_id, change), MEMBER, "1")
            decision = await service.approve(correction.id, MOD)
            assert decision.outcome is Outcome.APPLIED
        claim = AddClaim.model_validate(
            {"text": "A claim nobody approved.", "status": "alleged", "category": "transfer"}
        )
        rejected = await service.submit(submission("AZ", claim), MEMBER, "1")
        await service.reject(rejected.id, MOD, "not sourced well enough")


def _cli_ok(*args: str, database: Path | str) -> str:
    if isinstance(database, str):
        done = run_cli(*args, database=Path("/nonexistent"), env={"ARMSBOT_DATABASE": database})
    else:
        done = run_cli(*args, database=database)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_ask_gives_the_same_card_on_postgresql_as_on_sqlite(pg_empty: str, tmp_path: Path) -> None:
    built = run_cli("db", "build", database=tmp_path / "x", env={"ARMSBOT_DATABASE_URL": pg_empty})
    assert built.returncode == 0, built.stderr
    assert "postgresql://" in built.stderr
    on_pg = run_cli(
        "ask",
        "country",
        "azerbajan",
        database=tmp_path / "x",
        env={"ARMSBOT_DATABASE_URL": pg_empty},
    )
    sqlite = tmp_path / "kb.sqlite3"
    assert run_cli("db", "build", database=sqlite).returncode == 0
    on_sqlite = run_cli("ask", "country", "azerbajan", database=sqlite)
    assert on_pg.returncode == 0, on_pg.stderr
    assert "Azerbaijan" in on_pg.stdout
    assert on_pg.stdout == on_sqlite.stdout
    assert not (tmp_path / "x").exists()  # the URL won over the file


def test_db_copy_round_trips_imports_corrections_and_audit_log(
    db_copy: Path, pg_empty: str, tmp_path: Path
) -> None:
    asyncio.run(_history(db_copy, tmp_path))
    there = _cli_ok("db", "copy", str(db_copy), pg_empty, "--json", database=db_copy)
    back = tmp_path / "back.sqlite3"
    again = _cli_ok("db", "copy", pg_empty, str(back), "--json", database=db_copy)
    assert json.loads(there)["sha256"] == json.loads(again)["sha256"]
    rows = json.loads(there)["rows"]
    assert rows["audit_log"] == 6  # 3 submissions, 2 approvals, 1 rejection
    assert rows["revisions"] == 2
    assert rows["datasets"] == 1
    exports = {}
    for name, database in (("first", db_copy), ("postgresql", pg_empty), ("back", back)):
        folder = tmp_path / f"export-{name}"
        _cli_ok("db", "export", str(folder), database=database)
        audit = _cli_ok("audit", "--json", database=database)
        exports[name] = (_tree(folder), audit)
    assert exports["first"][0]
    assert json.loads(exports["first"][1])
    assert exports["first"] == exports["postgresql"] == exports["back"]
    # A copy into SQLite fills what its triggers keep (migration 9's claim_order and card_places)
    # as it writes the claims, also over a base it replaces; PostgreSQL has no such tables.
    _cli_ok("db", "copy", pg_empty, str(db_copy), "--replace", database=db_copy)
    for database in (pg_empty, back, db_copy):
        check = json.loads(_cli_ok("db", "check", "--json", database=database))
        assert check["problems"] == [], database
        assert check["counts"]["claims"] == rows["claims"]


async def test_claims_and_card_places_are_the_same_as_on_sqlite(
    pg_copy: str, db_copy: Path
) -> None:
    """SQLite reads claim_order and card_places (its migration 9), PostgreSQL the claims and
    claim_parties themselves: the same claims, counted alike, in the same order."""
    async with (
        await KnowledgeBase.open(db_copy) as sqlite,
        await KnowledgeBase.open(pg_copy) as postgresql,
    ):
        assert (sqlite.dialect, postgresql.dialect) == ("sqlite", "postgresql")
        for query in KINDS_OF_QUERY:
            found = []
            for kb in (sqlite, postgresql):
                search = ClaimSearch(kb)
                found.append(
                    (
                        await search.ids(query, 0, 500),
                        await search.ids(query, 2, 3),
                        await search.count(query),
                        await search.first(query, 4),
                    )
                )
            assert found[0][0], query  # each finds claims in the bundled data
            assert found[0] == found[1], query
        for row in await sqlite.index_rows():
            on_sqlite = [tuple(r) for r in await sqlite.claim_places(row.id)]
            assert on_sqlite == [tuple(r) for r in await postgresql.claim_places(row.id)], row.id


async def test_db_copy_refuses_a_target_that_holds_a_base_unless_told_to_replace(
    pg_copy: str, db_copy: Path, tmp_path: Path
) -> None:
    await _history(db_copy, tmp_path)
    async with (
        await KnowledgeBase.open(db_copy) as source,
        await KnowledgeBase.open(pg_copy) as target,
    ):
        before = await snapshot_content(target)
        with pytest.raises(TargetNotEmpty, match="--replace"):
            await copy_knowledge_base(source, target)
        assert await snapshot_content(target) == before
        report = await copy_knowledge_base(source, target, replace=True)
        copied = await snapshot_content(target)
        assert copied["audit_log"] == (await snapshot_content(source))["audit_log"]
        assert report.rows["audit_log"] == len(copied["audit_log"]) == 6
        # Numbering goes on after the copied ids.
        service = CorrectionService(target, SearchIndex.build(await target.index_rows()))
        correction = await service.submit(
            submission("AZ", EditField(field="summary", value="After the copy.")), MEMBER
        )
        assert correction.id == 4


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # SQLite: test_corrections
async def test_the_audit_log_is_append_only_on_postgresql(kb: KnowledgeBase) -> None:
    service = CorrectionService(kb, SearchIndex.build(await kb.index_rows()))
    await service.submit(submission("AZ", EditField(field="summary", value="x")), MEMBER)
    for sql in (
        "DELETE FROM audit_log",
        "UPDATE audit_log SET action = 'forged'",
        "TRUNCATE audit_log",
    ):
        with pytest.raises(Exception, match="append-only"):
            async with kb.transaction() as db:
                await db.execute(sql)
    assert [e.action for e in await service.audit_log()] == ["submit"]


async def test_another_process_commit_is_seen_at_once_and_announced(kb: KnowledgeBase) -> None:
    """``version`` moves with a commit from elsewhere; ``changes`` yields for it."""
    changes = kb.changes(poll_seconds=60 if kb.dialect == "postgresql" else 0.05)
    waiting = asyncio.ensure_future(anext(changes))
    await asyncio.sleep(0.2)  # listening
    before = await kb.version()
    async with await KnowledgeBase.open(kb.path) as other:
        await other.set_meta("written elsewhere", "1")
    assert await kb.version() != before
    # PostgreSQL: the notification, long before the 60 s poll.
    await asyncio.wait_for(waiting, timeout=30)
    await changes.aclose()


async def test_changes_are_followed_again_after_the_connections_are_lost(pg_copy: str) -> None:
    async with await KnowledgeBase.open(pg_copy) as kb:
        changes = kb.changes(poll_seconds=120)  # far beyond the wait below: no poll helps
        assert kb.dialect == "postgresql"
        await asyncio.wait_for(_commit_seen(kb, changes, pg_copy, "before"), timeout=30)
        await _drop_connections(pg_copy)  # the lookups' connection and the listening one
        await asyncio.wait_for(_commit_seen(kb, changes, pg_copy, "after"), timeout=30)
        await changes.aclose()


async def _commit_seen(kb: KnowledgeBase, changes: Any, url: str, key: str) -> None:
    waiting = asyncio.ensure_future(anext(changes))
    await asyncio.sleep(0.5)  # listening again
    async with await KnowledgeBase.open(url) as other:
        await other.set_meta(key, "1")
    await waiting
    assert await kb.meta(key) == "1"


async def test_connection_failures_are_one_line_errors(pg_server: Any, tmp_path: Path) -> None:
    nowhere = f"postgresql://postgres@/armsbot?host={tmp_path}&port=1"
    with pytest.raises(DatabaseUnavailable, match="cannot be reached"):
        await KnowledgeBase.open(nowhere)
    missing = pg_server.url("no_such_database")
    with pytest.raises(DatabaseUnavailable, match="does not exist"):
        await KnowledgeBase.open(missing)
    done = run_cli(
        "ask", "country", "AZ", database=tmp_path / "x", env={"ARMSBOT_DATABASE": nowhere}
    )
    assert done.returncode == 3
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


async def _drop_connections(url: str) -> None:
    """End every other armsbot connection to the database, as a server restart would."""
    async with await KnowledgeBase.open(url) as admin:
        await admin.db.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'armsbot' AND pid != pg_backend_pid()"
        )


async def test_a_connection_lost_mid_write_changes_nothing_and_the_next_call_reconnects(
    pg_copy: str,
) -> None:
    async def write_in_two_halves(kb: KnowledgeBase) -> None:
        async with kb.transaction() as db:
            await db.execute("INSERT INTO kb_meta (key, value) VALUES ('first half', '1')")
            await _drop_connections(pg_copy)
            await db.execute("INSERT INTO kb_meta (key, value) VALUES ('second half', '1')")

    async with await KnowledgeBase.open(pg_copy) as kb:
        with pytest.raises(DatabaseUnavailable, match="connection was lost"):
            await write_in_two_halves(kb)
        # The same knowledge base answers again, on a new connection; nothing was half-written.
        assert await kb.meta("first half") is None
        assert await kb.meta("second half") is None
        await kb.set_meta("after", "1")
        assert await kb.meta("after") == "1"


def test_placeholders_are_numbered_outside_quotes_and_casts() -> None:
    assert numbered("SELECT '?', x::json FROM t WHERE a = ? AND b = ?") == (
        "SELECT '?', x::json FROM t WHERE a = $1 AND b = $2",
        2,
    )
    assert numbered("INSERT INTO t VALUES (:a, :b, :a)") == (
        "INSERT INTO t VALUES ($1, $2, $1)",
        ("a", "b"),
    )
    assert shown_url("postgresql://u:secret@h:5/db") == "postgresql://u@h:5/db"


async def test_following_changes_ends_when_cancelled_as_a_notification_arrives(
    kb: KnowledgeBase,
) -> None:
    # On Python 3.11, asyncio.wait_for returns when its awaitable is done even though the task
    # was cancelled in the same step: the bot's listener then never ended and a restart hung.
    async def follow() -> None:
        async for _ in kb.changes(poll_seconds=3600):
            pass

    for _ in range(20):
        task = asyncio.create_task(follow())
        await asyncio.sleep(0.05)  # waiting for a notification now
        kb._notified.set()  # a commit announced...
        task.cancel()  # ...as the bot closes
        done, _ = await asyncio.wait({task}, timeout=5)
        assert task in done, "the follower ignored its cancellation"
        assert task.cancelled()


async def test_a_copy_into_postgresql_leaves_the_planner_statistics_of_what_it_wrote(
    db_copy: Path, pg_empty: str
) -> None:
    # Without them PostgreSQL reads a card's parties and sources with whole-table scans until
    # autovacuum's first analyse (bench/RESULTS.md: 50 ms instead of 1 ms for a busy card).
    async with (
        await KnowledgeBase.open(db_copy) as source,
        await KnowledgeBase.open(pg_empty) as target,
    ):
        await copy_knowledge_base(source, target)
        async with target.db.execute(
            "SELECT c.reltuples, (SELECT count(*) FROM claim_parties)"
            " FROM pg_class c WHERE c.relname = 'claim_parties'"
        ) as cursor:
            row = await cursor.fetchone()
    assert row is not None
    estimated, actual = row
    assert actual > 100
    assert estimated == actual
