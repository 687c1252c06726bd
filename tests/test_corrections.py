"""Corrections at service level: every state transition, stale detection, races, revert, limits."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
from pydantic import ValidationError

from armsbot.changes import (
    AddAlias,
    AddClaim,
    ClaimStatusChange,
    CorrectionStatus,
    EditField,
    NewEntity,
    RetireClaim,
    Submission,
    in_effect,
)
from armsbot.models import Kind, Status
from armsbot.search.index import SearchIndex
from armsbot.services.corrections import (
    CorrectionService,
    Limits,
    Outcome,
    SubmissionRefused,
    submission_problems,
)
from armsbot.services.lookup import LookupService
from armsbot.storage import KnowledgeBase

URL = "https://example.org/report"
MOD = "discord:900"
MEMBER = "discord:100"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def fresh_index(kb: KnowledgeBase) -> SearchIndex:
    """A private index: these tests change the knowledge base."""
    return SearchIndex.build(await kb.index_rows())


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(kb: KnowledgeBase, fresh_index: SearchIndex, clock: Clock) -> CorrectionService:
    return CorrectionService(
        kb, fresh_index, Limits(submissions_per_hour=5, pending_per_user=10), clock
    )


def submission(entity_id: str | None, change: object, **extra: str) -> Submission:
    return Submission.model_validate(
        {
            "entity_id": entity_id,
            "change": change,
            "what_is_wrong": "It is out of date.",
            "source_url": URL,
            **extra,
        }
    )


async def test_submit_then_approve_changes_the_answer_and_records_a_revision(
    service: CorrectionService, kb: KnowledgeBase, fresh_index: SearchIndex
) -> None:
    lookup = LookupService(kb, fresh_index)
    sub = submission("AZ", EditField(field="summary", value="A summary written by a member."))
    correction = await service.submit(sub, MEMBER, "1")
    assert correction.status == "pending"
    assert (await lookup.card("AZ")).summary != "A summary written by a member."

    decision = await service.approve(correction.id, MOD)
    assert decision.outcome is Outcome.APPLIED
    assert decision.correction.status == "approved"
    assert decision.correction.decided_by == MOD
    assert (await lookup.card("AZ")).summary == "A summary written by a member."
    [revision] = await service.history("AZ")
    assert revision.correction_id == correction.id
    assert revision.actor_id == MOD
    assert revision.after["summary"] == "A summary written by a member."
    assert "summary" not in (revision.before or {})
    actions = [(e.action, e.correction_id) for e in await service.audit_log()]
    assert actions == [("submit", correction.id), ("approve", correction.id)]
    assert await kb.integrity_problems() == []


async def test_an_approved_alias_is_searchable_at_once(
    service: CorrectionService, fresh_index: SearchIndex
) -> None:
    assert fresh_index.search("Spywarefirm Zed", Kind.FIRM, 1) == [] or (
        fresh_index.search("Spywarefirm Zed", Kind.FIRM, 1)[0].matched != "Spywarefirm Zed"
    )
    correction = await service.submit(
        submission("nso-group", AddAlias(name="Spywarefirm Zed")), MEMBER
    )
    await service.approve(correction.id, MOD)
    top = fresh_index.search("Spywarefirm Zed", Kind.FIRM, 1)[0]
    assert (top.id, top.matched) == ("nso-group", "Spywarefirm Zed")


async def test_reject_keeps_the_correction_and_changes_nothing(
    service: CorrectionService, kb: KnowledgeBase
) -> None:
    before = await kb.snapshot()
    correction = await service.submit(submission("AZ", AddAlias(name="Azeristan")), MEMBER)
    assert (await service.reject(correction.id, MOD, "  ")).outcome is Outcome.NOT_ALLOWED
    decision = await service.reject(correction.id, MOD, "No source says so.")
    assert decision.outcome is Outcome.REJECTED
    kept = await service.get(correction.id)
    assert kept.status == "rejected"
    assert kept.decision_reason == "No source says so."
    assert await kb.snapshot() == before
    again = await service.approve(correction.id, MOD)
    assert again.outcome is Outcome.ALREADY_DECIDED
    assert MOD in again.message


async def test_withdraw_only_by_the_submitter(service: CorrectionService) -> None:
    correction = await service.submit(submission("AZ", AddAlias(name="Azeristan")), MEMBER)
    assert (await service.withdraw(correction.id, "discord:555")).outcome is Outcome.NOT_FOUND
    assert (await service.withdraw(correction.id, MEMBER)).outcome is Outcome.WITHDRAWN
    assert (await service.get(correction.id)).status is CorrectionStatus.WITHDRAWN


async def test_a_correction_against_an_older_revision_is_stale(
    service: CorrectionService, kb: KnowledgeBase
) -> None:
    first = await service.submit(submission("nso-group", AddAlias(name="First Alias")), MEMBER)
    second = await service.submit(
        submission("nso-group", EditField(field="summary", value="Other text.")), "discord:101"
    )
    await service.approve(first.id, MOD)
    before = await kb.snapshot()
    decision = await service.approve(second.id, MOD)
    assert decision.outcome is Outcome.STALE
    assert "changed after this correction was made" in decision.message
    assert (await service.get(second.id)).status is CorrectionStatus.STALE
    assert await kb.snapshot() == before


async def test_a_change_another_approved_correction_already_made_is_superseded_not_stale(
    service: CorrectionService, kb: KnowledgeBase
) -> None:
    change = EditField(field="summary", value="A summary two members both proposed.")
    first = await service.submit(submission("AZ", change), MEMBER)
    assert (await service.approve(first.id, MOD)).outcome is Outcome.APPLIED
    # Not a near-duplicate any more (the first is closed), so the second one is stored ...
    second = await service.submit(submission("AZ", change), "discord:101")
    before = await kb.snapshot()
    revisions = len(await service.history("AZ"))
    # ... and approving it applies nothing: it says which correction made the change.
    decision = await service.approve(second.id, MOD)
    assert decision.outcome is Outcome.SUPERSEDED
    assert decision.message == (
        f"Nothing was applied: correction #{first.id} already made this change. "
        f"Correction #{second.id} is marked superseded."
    )
    stored = await service.get(second.id)
    assert stored is not None
    assert stored.status is CorrectionStatus.SUPERSEDED
    assert stored.decision_reason == f"correction #{first.id} already made this change"
    assert await service.superseded_by(stored) == first.id
    assert await service.superseded_by(await service.get(first.id)) is None
    assert await kb.snapshot() == before
    assert len(await service.history("AZ")) == revisions  # no empty revision
    entry = (await service.audit_log())[-1]
    assert (entry.action, entry.details["superseded_by"]) == ("superseded", first.id)
    # Closed is closed: a second click says so and changes nothing.
    assert (await service.approve(second.id, MOD)).outcome is Outcome.ALREADY_DECIDED


async def test_in_effect_says_whether_the_entry_still_says_what_a_change_made(
    service: CorrectionService,
) -> None:
    document = await service.document("nso-group")
    assert document is not None
    claim = document.claims[0]
    assert in_effect(EditField(field="name", value=document.name), document, 1)
    assert not in_effect(EditField(field="summary", value="Something else."), document, 1)
    assert in_effect(AddAlias(name=document.aliases[0].name), document, 1)
    assert not in_effect(AddAlias(name="Never Called So"), document, 1)
    assert in_effect(ClaimStatusChange(claim_id=claim.id, status=claim.status), document, 1)
    assert not in_effect(RetireClaim(claim_id=claim.id), document, 1)
    assert in_effect(RetireClaim(claim_id="no-such-claim"), document, 1)
    # An added claim is known by the id the correction gave it.
    assert not in_effect(AddClaim(text=claim.text, status=claim.status), document, 1)
    assert in_effect(NewEntity(kind=Kind.FIRM, name="NSO Group"), document, 1)
    assert not in_effect(NewEntity(kind=Kind.FIRM, name="NSO Group"), None, 1)


async def test_a_change_undone_since_is_not_superseded(
    service: CorrectionService, kb: KnowledgeBase
) -> None:
    """Superseded means the entry still says it: a later change or a retired claim in between
    leaves the usual rules (stale, or applied)."""
    wanted = EditField(field="summary", value="The summary first approved.")
    first = await service.submit(submission("AZ", wanted), MEMBER)
    await service.approve(first.id, MOD)
    other = EditField(field="summary", value="A different summary approved after it.")
    second = await service.submit(submission("AZ", other), "discord:101")
    await service.approve(second.id, MOD)
    again = await service.submit(submission("AZ", wanted), "discord:102")
    assert (await service.approve(again.id, MOD)).outcome is Outcome.APPLIED
    assert (await kb.entity("AZ")).summary == wanted.value


async def test_many_approvals_at_once_apply_once(
    service: CorrectionService, kb: KnowledgeBase, database: Path | str, fresh_index: SearchIndex
) -> None:
    correction = await service.submit(
        submission("MX", AddAlias(name="Estados Unidos Mexicanos (test)")), MEMBER
    )
    # Ten moderators in this process, and five more on their own connections.
    others = [await KnowledgeBase.open(database) for _ in range(5)]
    try:
        services = [service] * 10 + [CorrectionService(o, fresh_index) for o in others]
        decisions = await asyncio.gather(
            *(s.approve(correction.id, f"discord:{700 + i}") for i, s in enumerate(services))
        )
    finally:
        for other in others:
            await other.close()
    applied = [d for d in decisions if d.outcome is Outcome.APPLIED]
    assert len(applied) == 1
    winner = (await service.get(correction.id)).decided_by
    assert all(
        d.outcome is Outcome.ALREADY_DECIDED and winner in d.message
        for d in decisions
        if d not in applied
    )
    assert len(await service.history("MX")) == 1
    assert [e.action for e in await service.audit_log()].count("approve") == 1


async def test_claim_changes_new_claims_and_retirement(
    service: CorrectionService, kb: KnowledgeBase
) -> None:
    claims = (await kb.entity("nso-group")).claims
    target = next(c for c in claims if c.status is Status.REPORTED)
    c1 = await service.submit(
        submission("nso-group", ClaimStatusChange(claim_id=target.id, status=Status.CONFIRMED)),
        MEMBER,
    )
    await service.approve(c1.id, MOD)
    assert (
        next(c for c in (await kb.entity("nso-group")).claims if c.id == target.id).status
        is Status.CONFIRMED
    )

    c2 = await service.submit(
        submission(
            "nso-group",
            AddClaim(text="A new sourced claim.", status=Status.ALLEGED, date="2024"),
            source_title="A report",
        ),
        MEMBER,
    )
    await service.approve(c2.id, MOD)
    added = next(
        c for c in (await kb.entity("nso-group")).claims if c.id == f"nso-group-community-{c2.id}"
    )
    assert added.status is Status.ALLEGED
    assert [(s.url, s.title) for s in added.sources] == [(URL, "A report")]

    c3 = await service.submit(submission("nso-group", RetireClaim(claim_id=target.id)), MEMBER)
    await service.approve(c3.id, MOD)
    assert target.id not in {c.id for c in (await kb.entity("nso-group")).claims}
    assert await kb.integrity_problems() == []


async def test_revert_restores_the_previous_answer(
    service: CorrectionService, kb: KnowledgeBase
) -> None:
    original = await kb.snapshot()
    correction = await service.submit(
        submission("AZ", EditField(field="summary", value="Changed.")), MEMBER
    )
    await service.approve(correction.id, MOD)
    [change] = await service.history("AZ")
    assert change.number == 2  # revision 1 is the knowledge base as built from data/
    assert (await service.revert("AZ", 2, MOD, "")).outcome is Outcome.NOT_ALLOWED
    assert (await service.revert("AZ", 7, MOD, "No such.")).outcome is Outcome.NOT_FOUND
    decision = await service.revert("AZ", 2, MOD, "The change was wrong.")
    assert decision.outcome is Outcome.APPLIED
    assert decision.revision == 3
    restored = await kb.snapshot()
    assert restored["claims"] == original["claims"]
    assert restored["aliases"] == original["aliases"]
    assert (await kb.entity("AZ")).summary is None
    newest = (await service.history("AZ"))[0]
    assert newest.reverts is not None
    assert newest.reason == "The change was wrong."


async def test_new_entities_can_be_proposed_and_reverted(
    service: CorrectionService, kb: KnowledgeBase, fresh_index: SearchIndex
) -> None:
    change = NewEntity(
        kind=Kind.FIRM, name="Example Interception Ltd", aliases=["ExInt"], headquarters="GB"
    )
    correction = await service.submit(submission(None, change), MEMBER)
    assert correction.entity_id is None
    await service.approve(correction.id, MOD)
    assert fresh_index.search("ExInt", Kind.FIRM, 1)[0].id == "example-interception-ltd"
    assert (await kb.entity("example-interception-ltd")).attributes == {"headquarters": "GB"}
    with pytest.raises(SubmissionRefused, match="already exists"):
        await service.submit(submission(None, change), "discord:102")
    decision = await service.revert(
        "example-interception-ltd", 1, MOD, "Duplicate of another firm."
    )
    assert decision.outcome is Outcome.APPLIED
    assert await kb.entity("example-interception-ltd") is None
    assert (
        fresh_index.search("ExInt", Kind.FIRM, 1) == []
        or fresh_index.search("ExInt", Kind.FIRM, 1)[0].id != "example-interception-ltd"
    )


async def test_abuse_limits_and_near_duplicates(
    service: CorrectionService, clock: Clock, kb: KnowledgeBase
) -> None:
    first = await service.submit(submission("AZ", AddAlias(name="Azerbaijan Republic")), MEMBER)
    with pytest.raises(SubmissionRefused) as twin:
        await service.submit(submission("AZ", AddAlias(name="Azerbaijan Republic.")), "discord:103")
    assert twin.value.existing == first.id
    for i in range(4):
        await service.submit(submission("FR", AddAlias(name=f"Alias number {i}")), MEMBER)
    before = await kb.snapshot()
    with pytest.raises(SubmissionRefused, match="past hour"):
        await service.submit(submission("FR", AddAlias(name="One too many")), MEMBER)
    assert await kb.snapshot() == before
    clock.now += timedelta(hours=2)
    for i in range(5):
        await service.submit(submission("DE", AddAlias(name=f"Other alias {i}")), MEMBER)
    clock.now += timedelta(hours=2)
    with pytest.raises(SubmissionRefused, match="waiting for review"):
        await service.submit(submission("IT", AddAlias(name="Eleventh")), MEMBER)


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"source_url": "javascript:alert(1)"}, "Source URL: must start with http"),
        (
            {"source_url": "https://user:pw@example.org/"},
            "Source URL: must not contain a user name",
        ),
        ({"source_url": "https://"}, "Source URL: must name a host"),
        ({"what_is_wrong": ""}, "What is wrong"),
        ({"what_is_wrong": "x" * 1001}, "What is wrong"),
        ({"note": "hidden\u200bspace"}, "Note: contains an invisible"),
        ({"what_is_wrong": "bell\x07"}, "What is wrong: contains a control character"),
        (
            {"change": {"type": "claim_status", "claim_id": "x", "status": "rumour"}},
            "Proposed change",
        ),
    ],
)
def test_invalid_submissions_say_why(fields: dict[str, object], problem: str) -> None:
    data = {
        "entity_id": "AZ",
        "change": {"type": "add_alias", "name": "Azeri"},
        "what_is_wrong": "Missing name.",
        "source_url": URL,
        **fields,
    }
    with pytest.raises(ValidationError) as caught:
        Submission.model_validate(data)
    assert any(p.startswith(problem) for p in submission_problems(caught.value)), (
        submission_problems(caught.value)
    )


async def test_a_change_that_does_not_fit_is_refused_at_submission(
    service: CorrectionService, kb: KnowledgeBase
) -> None:
    before = await kb.snapshot()
    with pytest.raises(SubmissionRefused, match=r"not \(or no longer\) filed under"):
        await service.submit(submission("AZ", RetireClaim(claim_id="no-such-claim")), MEMBER)
    with pytest.raises(SubmissionRefused, match="no entry with the id"):
        await service.submit(submission("nowhere-firm", AddAlias(name="X")), MEMBER)
    assert await kb.snapshot() == before
    assert await service.audit_log() == []


async def test_erasing_a_user_replaces_their_id_everywhere(
    service: CorrectionService, kb: KnowledgeBase
) -> None:
    correction = await service.submit(submission("AZ", AddAlias(name="Azeri land")), MEMBER)
    await service.approve(correction.id, MEMBER)  # a moderator who also submitted
    placeholder, changed = await service.erase_user(MEMBER)
    assert changed >= 4
    assert (await service.get(correction.id)).submitter_id == placeholder
    assert MEMBER not in {e.actor_id for e in await service.audit_log()}
    assert MEMBER not in {r.actor_id for r in await service.history("AZ")}


async def test_the_audit_log_is_append_only(service: CorrectionService, kb: KnowledgeBase) -> None:
    await service.submit(submission("AZ", AddAlias(name="Azeri state")), MEMBER)
    refused = (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)
    with pytest.raises(refused, match="append-only"):
        async with kb.transaction() as db:
            await db.execute("DELETE FROM audit_log")
    with pytest.raises(refused, match="append-only"):
        async with kb.transaction() as db:
            await db.execute("UPDATE audit_log SET action = 'approve'")
    assert len(await service.audit_log()) == 1


async def test_approved_changes_are_exported_and_a_rebuild_does_not_drop_them_silently(
    service: CorrectionService, kb: KnowledgeBase, data_dir: Path, tmp_path: Path
) -> None:
    from armsbot.services import data  # noqa: PLC0415

    correction = await service.submit(
        submission("nso-group", AddAlias(name="Exported Alias")), MEMBER
    )
    await service.approve(correction.id, MOD)
    edited = tmp_path / "edited"
    shutil.copytree(data_dir, edited)
    with (edited / "laws" / "arms-trade-treaty.yaml").open("a", encoding="utf-8") as file:
        file.write("# an unrelated edit\n")
    with pytest.raises(data.UnexportedChanges, match="1 approved change"):
        await data.build(kb, edited)
    assert "Exported Alias" in {a.name for a in (await kb.entity("nso-group")).aliases}
    exported = tmp_path / "data"
    await data.export(kb, exported)
    assert "Exported Alias" in (exported / "firms" / "nso-group.yaml").read_text(encoding="utf-8")
    report = await data.build(kb, exported)
    assert report.built
    assert "Exported Alias" in {a.name for a in (await kb.entity("nso-group")).aliases}


async def test_the_limits_hold_across_processes(
    database: Path | str, fresh_index: SearchIndex, clock: Clock
) -> None:
    # Two processes (two connections, two services) share one base: a member's submissions in
    # one count in the other, as with sharded bots on one database.
    limits = Limits(submissions_per_hour=5, pending_per_user=10)
    async with (
        await KnowledgeBase.open(database) as one,
        await KnowledgeBase.open(database) as other,
    ):
        first = CorrectionService(one, fresh_index, limits, clock)
        second = CorrectionService(other, fresh_index, limits, clock)
        for i in range(5):
            await (first if i % 2 else second).submit(
                submission("FR", AddAlias(name=f"Shared alias {i}")), MEMBER
            )
        before = await one.snapshot()
        with pytest.raises(SubmissionRefused, match="past hour"):
            await first.submit(submission("FR", AddAlias(name="One too many")), MEMBER)
        with pytest.raises(SubmissionRefused, match="past hour"):
            await second.submit(submission("FR", AddAlias(name="One too many")), MEMBER)
        assert await other.snapshot() == before
