"""The per-entity change log behind watch notices: every write path logs, in its own transaction."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from armsbot.changes import AddAlias, AddClaim, ClaimStatusChange, EditField, NewEntity, Submission
from armsbot.imports.sii import import_sii, remove_sii
from armsbot.search.index import SearchIndex
from armsbot.services import data
from armsbot.services.corrections import CorrectionService, Limits
from armsbot.services.watch import WatchOutcome, WatchService, notice_nonce
from armsbot.storage import KnowledgeBase
from armsbot.storage.changelog import ChangeKind, EntityChange, change_from_row
from tests.test_sii_import import record, write_records

GUILD = "700"
CHANNEL = "701"
MOD = "discord:900"
MEMBER = "discord:100"
# A claim filed under Azerbaijan that also names Israel Aerospace Industries and Armenia.
DRONES = "azerbaijan-hajiyev-israeli-drones-2020"


def submission(entity_id: str | None, change: object) -> Submission:
    return Submission.model_validate(
        {
            "entity_id": entity_id,
            "change": change,
            "what_is_wrong": "It is out of date.",
            "source_url": "https://example.org/report",
        }
    )


@pytest.fixture
async def corrections(kb: KnowledgeBase) -> CorrectionService:
    return CorrectionService(kb, SearchIndex.build(await kb.index_rows()), Limits(50, 50))


@pytest.fixture
def watches(kb: KnowledgeBase) -> WatchService:
    return WatchService(kb, limit_per_guild=3, batch_seconds=120)


async def logged(kb: KnowledgeBase) -> list[EntityChange]:
    async with kb.db.execute("SELECT * FROM entity_changes ORDER BY id") as cursor:
        rows = await cursor.fetchall()
    return [change_from_row(r) for r in rows]


async def staged(kb: KnowledgeBase) -> int:
    total = 0
    for table in ("watch_staged_claims", "watch_staged_entities", "watch_staged_revisions"):
        async with kb.db.execute(f"SELECT count(*) FROM {table}") as cursor:
            row = await cursor.fetchone()
        total += int(row[0]) if row else 0
    return total


async def approve(service: CorrectionService, entity_id: str | None, change: object) -> int:
    correction = await service.submit(submission(entity_id, change), MEMBER)
    decision = await service.approve(correction.id, MOD)
    assert decision.revision is not None, decision.message
    return correction.id


def summary(changes: list[EntityChange]) -> list[tuple[str, str, str | None, str | None]]:
    return [(c.entity_id, c.change.value, c.status_before, c.status_after) for c in changes]


async def test_nothing_is_staged_or_logged_while_nobody_watches(
    kb: KnowledgeBase, corrections: CorrectionService
) -> None:
    await approve(corrections, "AZ", ClaimStatusChange(claim_id=DRONES, status="reported"))
    assert await logged(kb) == []
    assert await staged(kb) == 0


async def test_an_approval_logs_each_watched_party_with_the_moderator(
    kb: KnowledgeBase, corrections: CorrectionService, watches: WatchService
) -> None:
    for entity in ("AZ", "AM"):
        assert (await watches.add(GUILD, CHANNEL, entity, MEMBER)).outcome is WatchOutcome.ADDED
    number = await approve(corrections, "AZ", ClaimStatusChange(claim_id=DRONES, status="reported"))
    changes = await logged(kb)
    assert summary(changes) == [
        ("AM", "claim_status", "confirmed", "reported"),
        ("AZ", "claim_status", "confirmed", "reported"),
    ]
    assert {c.actor_id for c in changes} == {MOD}
    assert {c.correction_id for c in changes} == {number}
    assert changes[1].entity_name == "Azerbaijan"
    assert changes[1].claim_id == DRONES
    assert changes[1].claim_text is not None
    assert "Hajiyev" in changes[1].claim_text
    # Israel Aerospace Industries is a party too, but nobody watches it.
    assert await staged(kb) == 0


async def test_added_claims_names_and_summaries_are_logged(
    kb: KnowledgeBase, corrections: CorrectionService, watches: WatchService
) -> None:
    await watches.add(GUILD, CHANNEL, "AZ", MEMBER)
    await approve(
        corrections,
        "AZ",
        AddClaim(text="A new claim about a purchase of radars in 2024.", status="alleged"),
    )
    await approve(corrections, "AZ", EditField(field="summary", value="A new summary."))
    await approve(corrections, "AZ", AddAlias(name="Azeristan Republic"))
    changes = await logged(kb)
    assert [(c.change, c.status_after, c.detail) for c in changes] == [
        (ChangeKind.CLAIM_ADDED, "alleged", None),
        (ChangeKind.ENTRY_EDITED, None, "summary"),
        (ChangeKind.ENTRY_EDITED, None, "names"),
    ]
    assert changes[0].claim_text == "A new claim about a purchase of radars in 2024."


async def test_a_revert_is_logged_as_the_moderator_who_reverted(
    kb: KnowledgeBase, corrections: CorrectionService, watches: WatchService
) -> None:
    await watches.add(GUILD, CHANNEL, "AZ", MEMBER)
    await approve(corrections, "AZ", ClaimStatusChange(claim_id=DRONES, status="alleged"))
    decision = await corrections.revert("AZ", 2, "discord:901", "Premature.")
    assert decision.revision == 3
    changes = await logged(kb)
    assert summary(changes) == [
        ("AZ", "claim_status", "confirmed", "alleged"),
        ("AZ", "claim_status", "alleged", "confirmed"),
    ]
    assert changes[1].actor_id == "discord:901"
    assert changes[1].correction_id is None


async def test_removing_a_watched_entry_is_logged(
    kb: KnowledgeBase, corrections: CorrectionService, watches: WatchService
) -> None:
    await approve(corrections, None, NewEntity(kind="firm", name="Example Optics Ltd"))
    await watches.add(GUILD, CHANNEL, "example-optics-ltd", MEMBER)
    decision = await corrections.revert("example-optics-ltd", 1, MOD, "Not a real firm.")
    assert "removed" in decision.message
    changes = await logged(kb)
    assert [(c.change, c.entity_name, c.actor_id) for c in changes] == [
        (ChangeKind.ENTRY_REMOVED, "Example Optics Ltd", MOD)
    ]


async def test_a_failed_transaction_logs_nothing(kb: KnowledgeBase, watches: WatchService) -> None:
    await watches.add(GUILD, CHANNEL, "AZ", MEMBER)

    class Boom(Exception):
        pass

    async def change_then_fail() -> None:
        async with kb.transaction() as db:
            await db.execute("UPDATE claims SET status = 'denied' WHERE id = ?", (DRONES,))
            raise Boom

    with pytest.raises(Boom):
        await change_then_fail()
    assert await logged(kb) == []
    assert await staged(kb) == 0
    async with kb.transaction() as db:  # the next transaction reports only its own change
        await db.execute("UPDATE claims SET status = 'alleged' WHERE id = ?", (DRONES,))
    changes = await logged(kb)
    assert summary(changes) == [("AZ", "claim_status", "confirmed", "alleged")]
    assert changes[0].actor_id == "unknown"


async def test_a_rebuild_logs_what_it_changed_as_the_build(
    kb: KnowledgeBase, watches: WatchService, data_dir: Path, tmp_path: Path
) -> None:
    await watches.add(GUILD, CHANNEL, "AZ", MEMBER)
    await data.build(kb, data_dir, force=True)  # the same files: nothing changes
    assert await logged(kb) == []
    edited = tmp_path / "data"
    shutil.copytree(data_dir, edited)
    path = edited / "countries" / "AZ.yaml"
    text = path.read_text(encoding="utf-8")
    position = text.index(f"id: {DRONES}")
    status_at = text.index("status: confirmed", position)
    path.write_text(
        text[:status_at] + "status: alleged" + text[status_at + len("status: confirmed") :],
        encoding="utf-8",
    )
    await data.build(kb, edited, force=True)
    changes = await logged(kb)
    assert summary(changes) == [("AZ", "claim_status", "confirmed", "alleged")]
    assert changes[0].actor_id == "build"
    assert changes[0].revision_id is not None


async def test_an_import_and_its_removal_are_logged_as_the_dataset(
    kb: KnowledgeBase, watches: WatchService, tmp_path: Path
) -> None:
    # Records in the SII's format: two transfers to the watched country, one to another.
    transfers = write_records(
        tmp_path,
        [
            record("To_Azerbaijan_2015", recipient_country="Azerbaijan"),
            record("To_Uganda_2015"),
            record("To_Azerbaijan_2016", recipient_country="Azerbaijan", order_year=2016),
        ],
    )
    await watches.add(GUILD, CHANNEL, "AZ", MEMBER)
    await import_sii(kb, transfers)
    added = await logged(kb)
    assert {c.claim_id for c in added} == {"sii-to-azerbaijan-2015", "sii-to-azerbaijan-2016"}
    assert {c.change for c in added} == {ChangeKind.CLAIM_ADDED}
    assert {c.actor_id for c in added} == {"dataset:sii"}
    assert {c.entity_id for c in added} == {"AZ"}
    await import_sii(kb, transfers)  # the same file again changes nothing
    assert len(await logged(kb)) == len(added)
    await remove_sii(kb)
    removed = (await logged(kb))[len(added) :]
    assert sorted(c.claim_id or "" for c in removed) == sorted(c.claim_id or "" for c in added)
    assert {(c.change, c.actor_id) for c in removed} == {(ChangeKind.CLAIM_REMOVED, "dataset:sii")}


async def test_a_server_has_at_most_its_limit_of_watches(
    kb: KnowledgeBase, watches: WatchService
) -> None:
    for entity in ("AZ", "AM", "nso-group"):
        assert (await watches.add(GUILD, CHANNEL, entity, MEMBER)).outcome is WatchOutcome.ADDED
    again = await watches.add(GUILD, CHANNEL, "AZ", MEMBER)
    assert again.outcome is WatchOutcome.ALREADY
    full = await watches.add(GUILD, "702", "MA", MEMBER)
    assert (full.outcome, full.count, full.limit) == (WatchOutcome.LIMIT, 3, 3)
    assert (await watches.add("other", "703", "MA", MEMBER)).outcome is WatchOutcome.ADDED
    assert (await watches.add(GUILD, CHANNEL, "no-such", MEMBER)).outcome is WatchOutcome.UNKNOWN
    assert await watches.remove(GUILD, CHANNEL, "AZ", MEMBER)
    assert not await watches.remove(GUILD, CHANNEL, "AZ", MEMBER)
    assert (await watches.add(GUILD, "702", "MA", MEMBER)).outcome is WatchOutcome.ADDED
    actions = [e.action for e in await CorrectionService(kb, SearchIndex()).audit_log()]
    assert actions.count("watch_add") == 5
    assert actions.count("watch_remove") == 1


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


async def test_a_notice_covers_the_changes_within_the_window_of_the_first(
    kb: KnowledgeBase, corrections: CorrectionService
) -> None:
    clock = Clock(datetime.now(UTC))
    watches = WatchService(kb, batch_seconds=60, clock=clock)
    await watches.add(GUILD, CHANNEL, "AZ", MEMBER)
    await approve(corrections, "AZ", ClaimStatusChange(claim_id=DRONES, status="alleged"))
    await approve(corrections, "AZ", EditField(field="summary", value="A new summary."))
    assert (await watches.due([GUILD]))[0] == []  # the window is still open
    clock.now += timedelta(seconds=61)
    ready, _ = await watches.due([GUILD])
    assert [(b.channel_id, b.entity_id) for b in ready] == [(CHANNEL, "AZ")]
    assert await watches.due(["another server"]) == ([], None)
    notice = await watches.claim(ready[0])
    assert notice is not None
    assert [c.change for c in await watches.changes_of(notice)] == [
        ChangeKind.CLAIM_STATUS,
        ChangeKind.ENTRY_EDITED,
    ]
    assert notice.nonce == notice_nonce(CHANNEL, "AZ", notice.first_change, notice.last_change)
    assert len(notice.nonce) <= 25
    assert await watches.claim(ready[0]) is None  # claimed once
    assert (await watches.due([GUILD]))[0] == []
    sending, _ = await watches.sending([GUILD])
    assert [n.id for n in sending] == [notice.id]
    await watches.sent(notice, "123")
    assert (await watches.sending([GUILD]))[0] == []


async def test_a_channel_that_refuses_posts_is_disabled_after_repeated_failures(
    kb: KnowledgeBase, corrections: CorrectionService
) -> None:
    clock = Clock(datetime.now(UTC) + timedelta(seconds=10))
    watches = WatchService(kb, batch_seconds=1, clock=clock)
    await watches.add(GUILD, CHANNEL, "AZ", MEMBER)
    await approve(corrections, "AZ", ClaimStatusChange(claim_id=DRONES, status="alleged"))
    ready, _ = await watches.due([GUILD])
    notice = await watches.claim(ready[0])
    assert notice is not None
    assert not await watches.failed(notice, "503 Service Unavailable", permanent=False)
    assert not await watches.failed(notice, "403 Missing Permissions", permanent=True)
    assert (await watches.sending([GUILD]))[0] == []  # waiting to try again
    clock.now += timedelta(hours=2)
    assert not await watches.failed(notice, "403 Missing Permissions", permanent=True)
    assert await watches.failed(notice, "403 Missing Permissions", permanent=True)
    listed = await watches.of_guild(GUILD)
    assert [(c.channel_id, c.failures, c.last_error) for c in listed.channels] == [
        (CHANNEL, 3, "403 Missing Permissions")
    ]
    assert listed.channels[0].disabled_at is not None
    clock.now += timedelta(hours=2)
    assert (await watches.sending([GUILD]))[0] == []  # dropped with the channel
    await approve(corrections, "AZ", EditField(field="summary", value="Changed while disabled."))
    assert await watches.due([GUILD]) == ([], None)
    resumed = await watches.add(GUILD, CHANNEL, "AZ", MEMBER)
    assert (resumed.outcome, resumed.resumed) == (WatchOutcome.ALREADY, True)
    assert (await watches.of_guild(GUILD)).channels == []
    assert await watches.due([GUILD]) == ([], None)  # what changed meanwhile is not sent


@pytest.mark.parametrize(
    ("settings", "waits"),
    [
        ({}, [120, 240, 480, 960, 1920, 3600, 3600]),  # the window, doubling up to an hour
        ({"batch_seconds": 0}, [1, 2, 4]),  # at least a second
        ({"batch_seconds": 0, "min_retry_seconds": 0.01}, [0.01, 0.02, 0.04]),  # for tests
    ],
)
async def test_a_refused_post_is_tried_again_after_the_window_doubling_up_to_an_hour(
    kb: KnowledgeBase,
    corrections: CorrectionService,
    settings: dict[str, Any],
    waits: list[float],
) -> None:
    """The back-off docs/using.md gives ("Channels that refuse"), with the defaults."""
    clock = Clock(datetime.now(UTC) + timedelta(hours=1))
    watches = WatchService(kb, clock=clock, failure_limit=len(waits) + 1, **settings)
    await watches.add(GUILD, CHANNEL, "AZ", MEMBER)
    await approve(corrections, "AZ", ClaimStatusChange(claim_id=DRONES, status="alleged"))
    ready, _ = await watches.due([GUILD])
    notice = await watches.claim(ready[0])
    assert notice is not None
    seen = []
    for _ in waits:
        assert not await watches.failed(notice, "403 Missing Permissions", permanent=True)
        sending, wait = await watches.sending([GUILD])
        assert sending == []
        seen.append(wait)
    assert seen == pytest.approx(waits, abs=0.002)
