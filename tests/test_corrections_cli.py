"""Moderation from the host's shell, the audit log, erasure, and crash safety under SIGKILL."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pycountry
import pytest

from armsbot.changes import AddAlias, Submission
from armsbot.search.index import SearchIndex
from armsbot.services.corrections import CorrectionService, Limits
from armsbot.storage import KnowledgeBase
from tests.test_cli import run

URL = "https://example.org/source"


async def _submit_each(database: Path | str, entities: list[str]) -> list[int]:
    """One pending alias correction per entity (or several on one), in one session."""
    async with await KnowledgeBase.open(database) as kb:
        service = CorrectionService(
            kb, SearchIndex.build(await kb.index_rows()), Limits(10**6, 10**6)
        )
        ids = []
        for i, entity in enumerate(entities):
            sub = Submission.model_validate(
                {
                    "entity_id": entity,
                    "change": AddAlias(name=f"Test alias {i:04d}").model_dump(),
                    "what_is_wrong": f"Missing name {i}.",
                    "source_url": URL,
                }
            )
            ids.append((await service.submit(sub, f"discord:{1000 + i}")).id)
        return ids


async def _submit(database: Path, count: int, *, entity: str = "AZ") -> list[int]:
    return await _submit_each(database, [entity] * count)


def test_review_approve_reject_audit_and_erase_from_the_shell(db_copy: Path) -> None:
    first, second = asyncio.run(_submit(db_copy, 2))
    listed = run("review", "list", "--json", database=db_copy)
    assert [c["id"] for c in json.loads(listed.stdout)] == [first, second]
    shown = run("review", "show", str(first), database=db_copy)
    assert "Proposed: add alias: Test alias 0000" in shown.stdout
    approved = run("review", "approve", str(first), database=db_copy)
    assert approved.returncode == 0, approved.stderr
    assert "is applied" in approved.stdout
    twice = run("review", "approve", str(first), database=db_copy)
    assert twice.returncode == 1
    assert "already approved by cli:" in twice.stdout
    rejected = run(
        "review", "reject", str(second), "--reason", "Not in the source.", database=db_copy
    )
    assert rejected.returncode == 0
    answer = run("search", "Test alias 0000", "--json", database=db_copy)
    assert json.loads(answer.stdout)[0]["id"] == "AZ"
    audit = json.loads(run("audit", "--json", database=db_copy).stdout)
    assert [e["action"] for e in audit] == ["submit", "submit", "approve", "reject"]
    erased = run("db", "erase-user", "1000", database=db_copy)
    assert "in 2 stored rows" in erased.stdout
    audit = json.loads(run("audit", "--json", database=db_copy).stdout)
    assert "discord:1000" not in {e["actor_id"] for e in audit}
    assert audit[-1]["action"] == "erase_user"


def test_review_audit_and_erase_load_no_search_index(
    db_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """They only read and decide corrections: reading 36,000 names for them was wasted."""
    (number,) = asyncio.run(_submit(db_copy, 1))
    built: list[int] = []
    build = SearchIndex.build

    def counted(rows: Any) -> SearchIndex:
        built.append(1)
        return build(rows)

    monkeypatch.setattr(SearchIndex, "build", counted)
    for args in (
        ("review", "list"),
        ("review", "show", str(number)),
        ("review", "approve", str(number)),
        ("audit",),
        ("db", "erase-user", "1000"),
    ):
        assert run(*args, database=db_copy).returncode == 0, args
    assert built == []
    # What the approval changed is found by the next command that searches.
    answer = run("search", "Test alias 0000", "--json", database=db_copy)
    assert json.loads(answer.stdout)[0]["id"] == "AZ"
    assert built == [1]


APPROVER = """
import asyncio, sys
from pathlib import Path
from armsbot.search.index import SearchIndex
from armsbot.services.corrections import CorrectionService
from armsbot.storage import KnowledgeBase

async def main(path, ids):
    async with await KnowledgeBase.open(path if "://" in path else Path(path)) as kb:
        service = CorrectionService(kb, SearchIndex.build(await kb.index_rows()))
        print("ready", flush=True)
        for number in ids:
            await service.approve(number, "discord:1")
            print(number, flush=True)

asyncio.run(main(sys.argv[1], [int(x) for x in sys.argv[2:]]))
"""


async def _submit_alias(database: Path, name: str, submitter: str) -> int:
    async with await KnowledgeBase.open(database) as kb:
        service = CorrectionService(kb, SearchIndex.build(await kb.index_rows()))
        sub = Submission.model_validate(
            {
                "entity_id": "AZ",
                "change": AddAlias(name=name).model_dump(),
                "what_is_wrong": "Missing name.",
                "source_url": URL,
            }
        )
        return (await service.submit(sub, submitter)).id


def test_a_superseded_correction_is_listed_and_says_by_which(db_copy: Path) -> None:
    first = asyncio.run(_submit_alias(db_copy, "Azeri Republic (test)", "discord:1001"))
    assert run("review", "approve", str(first), database=db_copy).returncode == 0
    second = asyncio.run(_submit_alias(db_copy, "Azeri Republic (test)", "discord:1002"))
    superseded = run("review", "approve", str(second), database=db_copy)
    assert superseded.returncode == 1
    assert f"correction #{first} already made this change" in superseded.stdout
    listed = run("review", "list", "--status", "superseded", database=db_copy)
    assert listed.stdout.startswith(f"#{second:<5} superseded AZ")
    shown = run("review", "show", str(second), database=db_copy)
    assert "Superseded by cli:" in shown.stdout
    assert f": correction #{first} already made this change" in shown.stdout


@pytest.mark.slow  # multi-process: a child killed mid-approval
def test_sigkill_while_approving_leaves_a_consistent_database(database: Path | str) -> None:
    # One correction per country, so no approval makes another stale.
    codes = sorted(c.alpha_2 for c in pycountry.countries)[:60]
    ids = asyncio.run(_submit_each(database, codes))
    child = subprocess.Popen(
        [sys.executable, "-c", APPROVER, str(database), *map(str, ids)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    done = [child.stdout.readline() for _ in range(6)]
    assert all(line.strip() for line in done)
    time.sleep(0.005)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL

    check = run("db", "check", database=database)
    assert check.returncode == 0, check.stdout + check.stderr
    rows = asyncio.run(_approval_rows(database))
    approved = [r for r in rows if r[1] == "approved"]
    assert len(approved) >= 6
    for number, status, revision_id, revisions, audits in rows:
        if status == "approved":
            assert (revision_id is not None, revisions, audits) == (True, 1, 1), number
        else:
            assert status == "pending", (number, status)
            assert (revision_id, revisions, audits) == (None, 0, 0), number


async def _approval_rows(database: Path | str) -> list[tuple[Any, ...]]:
    """Each correction: status, revision, and how many revisions and audit entries name it."""
    async with (
        await KnowledgeBase.open(database, read_only=True) as kb,
        kb.db.execute(
            "SELECT c.id, c.status, c.revision_id,"
            " (SELECT count(*) FROM revisions r WHERE r.correction_id = c.id),"
            " (SELECT count(*) FROM audit_log a"
            "  WHERE a.correction_id = c.id AND a.action = 'approve')"
            " FROM corrections c ORDER BY c.id"
        ) as cursor,
    ):
        return [tuple(row) for row in await cursor.fetchall()]
