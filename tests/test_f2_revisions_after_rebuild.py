"""F2: revision numbers only grow across rebuilds, so approvals after `db export` and
`db build --data` (or `db build --force`) work, and corrections made against an older state stay
stale. At service level, from the shell, through the Discord double, and in `db check`."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from armsbot.changes import AddAlias, EditField, NewEntity, Submission
from armsbot.imports.sii import import_sii
from armsbot.models import Kind
from armsbot.search.index import SearchIndex
from armsbot.services import data
from armsbot.services.corrections import CorrectionService, Limits, Outcome
from armsbot.storage import KnowledgeBase
from armsbot.storage.corrections import CorrectionStore
from tests.bot_harness import embeds_text, running_bot, settings_for
from tests.discord_double import HOME_CHANNEL_ID, MODERATOR_ID, DiscordDouble, default_guild
from tests.test_bot_corrections_e2e import configure, ephemeral_reply, submit_summary
from tests.test_cli import run
from tests.test_sii_import import record, write_records

URL = "https://example.org/report"
MOD = "discord:900"
MEMBER = "discord:100"
OTHER = "discord:101"


@pytest.fixture
async def service(kb: KnowledgeBase) -> CorrectionService:
    return CorrectionService(kb, SearchIndex.build(await kb.index_rows()), Limits(100, 100))


def submission(entity_id: str | None, change: object) -> Submission:
    return Submission.model_validate(
        {
            "entity_id": entity_id,
            "change": change,
            "what_is_wrong": "It is out of date.",
            "source_url": URL,
        }
    )


async def approved(service: CorrectionService, sub: Submission, who: str = MEMBER) -> int:
    """Submit and approve; the revision it made."""
    correction = await service.submit(sub, who)
    decision = await service.approve(correction.id, MOD)
    assert decision.outcome is Outcome.APPLIED, decision.message
    assert decision.revision is not None
    return decision.revision


async def export_and_build(kb: KnowledgeBase, folder: Path) -> None:
    await data.export(kb, folder)
    assert (await data.build(kb, folder)).built


async def numbers(service: CorrectionService, entity_id: str) -> list[int]:
    return [r.number for r in await service.history(entity_id)]


# -- service level ----------------------------------------------------------------------------


async def test_f2_approve_after_export_and_build_data(
    service: CorrectionService, kb: KnowledgeBase, tmp_path: Path
) -> None:
    first = submission("AZ", EditField(field="summary", value="A summary before the rebuild."))
    assert await approved(service, first) == 2
    await export_and_build(kb, tmp_path / "data")
    # The rebuild gave AZ what it had: same content, same revision, nothing recorded.
    assert (await kb.entity("AZ")).revision == 2
    assert await numbers(service, "AZ") == [2]

    assert await approved(service, submission("AZ", AddAlias(name="Azeri Republic"))) == 3
    assert await numbers(service, "AZ") == [3, 2]
    assert "Azeri Republic" in {a.name for a in (await kb.entity("AZ")).aliases}
    assert await kb.integrity_problems() == []


async def test_f2_approve_after_a_forced_rebuild(
    service: CorrectionService, kb: KnowledgeBase, data_dir: Path
) -> None:
    changed = "A summary that the forced rebuild drops."
    assert await approved(service, submission("AZ", EditField(field="summary", value=changed))) == 2
    report = await data.build(kb, data_dir, force=True)
    assert report.built
    az = await kb.entity("AZ")
    assert az.summary is None
    # The rebuild changed AZ, so it is a new revision, recorded as made by the build.
    assert az.revision == 3
    newest = (await service.history("AZ"))[0]
    assert (newest.number, newest.actor_id, newest.correction_id) == (3, "build", None)
    assert newest.before["summary"] == changed
    assert "summary" not in newest.after
    assert "rebuilt from" in (newest.reason or "").lower()

    assert await approved(service, submission("AZ", AddAlias(name="Azeri Republic"))) == 4
    assert await numbers(service, "AZ") == [4, 3, 2]
    assert await kb.integrity_problems() == []


async def test_f2_a_correction_made_before_the_rebuild_is_stale(
    service: CorrectionService, kb: KnowledgeBase, data_dir: Path, tmp_path: Path
) -> None:
    # Both made against revision 1; the first is approved, then the data round-trips.
    first = await service.submit(submission("AZ", AddAlias(name="Azeri Republic")), MEMBER)
    against_one = await service.submit(
        submission("AZ", EditField(field="summary", value="Written against revision 1.")), OTHER
    )
    await service.approve(first.id, MOD)
    # Made against revision 2, which the export and rebuild leave as it is.
    against_two = await service.submit(submission("AZ", AddAlias(name="Azeri State")), OTHER)
    await export_and_build(kb, tmp_path / "data")

    before = await kb.snapshot()
    stale = await service.approve(against_one.id, MOD)
    assert stale.outcome is Outcome.STALE
    assert "revision 1 then, 2 now" in stale.message
    assert await kb.snapshot() == before
    # An entry the rebuild did not change keeps its revision, and what was made against it
    # still applies.
    assert (await service.approve(against_two.id, MOD)).revision == 3

    # A rebuild that changes the entry makes what was made against it stale.
    against_three = await service.submit(submission("AZ", AddAlias(name="Azeri Land")), MEMBER)
    await data.build(kb, data_dir, force=True)
    dropped = await service.approve(against_three.id, MOD)
    assert dropped.outcome is Outcome.STALE
    assert "revision 3 then, 4 now" in dropped.message
    assert await kb.integrity_problems() == []


async def test_f2_revert_creation_then_propose_again(
    service: CorrectionService, kb: KnowledgeBase
) -> None:
    firm = NewEntity(kind=Kind.FIRM, name="Example Interception Ltd", aliases=["ExInt"])
    assert await approved(service, submission(None, firm)) == 1
    removed = await service.revert("example-interception-ltd", 1, MOD, "Proposed too early.")
    assert removed.outcome is Outcome.APPLIED
    assert await kb.entity("example-interception-ltd") is None
    # The removal is a revision too, so /history explains it.
    [removal, creation] = await service.history("example-interception-ltd")
    assert (removal.number, removal.after, removal.reverts) == (2, None, creation.id)

    assert await approved(service, submission(None, firm), OTHER) == 3
    assert (await kb.entity("example-interception-ltd")).revision == 3
    assert (
        await approved(service, submission("example-interception-ltd", AddAlias(name="EIL Group")))
        == 4
    )
    assert await numbers(service, "example-interception-ltd") == [4, 3, 2, 1]
    assert await kb.integrity_problems() == []


async def test_f2_an_entry_dropped_by_a_rebuild_comes_back_with_a_higher_number(
    service: CorrectionService, kb: KnowledgeBase, data_dir: Path, tmp_path: Path
) -> None:
    firm = NewEntity(kind=Kind.FIRM, name="Example Interception Ltd")
    assert await approved(service, submission(None, firm)) == 1
    saved = tmp_path / "saved"
    await data.export(kb, saved)
    pending = await service.submit(
        submission("example-interception-ltd", AddAlias(name="ExInt")), MEMBER
    )
    await data.build(kb, data_dir, force=True)  # data_dir does not have the firm
    assert await kb.entity("example-interception-ltd") is None
    [dropped, _] = await service.history("example-interception-ltd")
    assert (dropped.number, dropped.actor_id, dropped.after) == (2, "build", None)

    assert (await data.build(kb, saved)).built
    back = await kb.entity("example-interception-ltd")
    assert back.revision == 3  # the same content as revision 1, but not revision 1
    assert (await service.approve(pending.id, MOD)).outcome is Outcome.STALE
    assert await kb.integrity_problems() == []


async def test_f2_a_rebuild_of_unchanged_data_records_no_revision(
    kb: KnowledgeBase, data_dir: Path
) -> None:
    assert (await data.build(kb, data_dir, force=True)).built
    assert await CorrectionStore(kb).revision_count() == 0
    async with kb.db.execute("SELECT DISTINCT revision FROM entities") as cursor:
        assert [r[0] for r in await cursor.fetchall()] == [1]


async def test_f2_an_imported_firm_dropped_by_a_rebuild_is_imported_with_a_higher_number(
    service: CorrectionService, kb: KnowledgeBase, data_dir: Path, tmp_path: Path
) -> None:
    transfers = write_records(
        tmp_path,
        [
            record(
                "X_2015", supplier_company="Example Intercept GmbH", supplier_company_hq="Germany"
            )
        ],
    )
    await import_sii(kb, transfers)
    firm = "example-intercept-gmbh"
    assert (await kb.entity(firm)).revision == 1
    assert await approved(service, submission(firm, AddAlias(name="EIG"))) == 2
    await data.build(kb, data_dir, force=True)  # drops the import and the approved alias
    assert [r.number for r in await service.history(firm)] == [3, 2]

    await import_sii(kb, transfers)
    assert (await kb.entity(firm)).revision == 4
    assert await kb.integrity_problems() == []
    assert await approved(service, submission(firm, AddAlias(name="EIG"))) == 5


# -- db check ---------------------------------------------------------------------------------


async def test_f2_check_reports_an_entry_behind_its_history(
    service: CorrectionService, kb: KnowledgeBase, tmp_path: Path
) -> None:
    await approved(service, submission("AZ", AddAlias(name="Azeri Republic")))
    pending = await service.submit(submission("AZ", AddAlias(name="Azeri State")), OTHER)
    assert await kb.integrity_problems() == []
    # What a rebuild did before F2 was fixed: the entry back at revision 1, its history kept.
    async with kb.transaction() as db:
        await db.execute("UPDATE entities SET revision = 1 WHERE id = 'AZ'")
    problems = await kb.integrity_problems()
    assert any("AZ is at revision 1" in p and "revision 2" in p for p in problems), problems
    assert any(f"correction #{pending.id}" in p for p in problems), problems

    # What the problem says to do mends it: the entry gets a new, higher revision.
    await data.export(kb, tmp_path / "data")
    await data.build(kb, tmp_path / "data", force=True)
    assert await kb.integrity_problems() == []
    assert (await kb.entity("AZ")).revision == 3
    assert "renumbered" in ((await service.history("AZ"))[0].reason or "")
    assert (await service.approve(pending.id, MOD)).outcome is Outcome.STALE


def test_f2_db_check_says_what_is_wrong_with_the_revisions(db_copy: Path) -> None:
    asyncio.run(_break_revisions(db_copy))
    checked = run("db", "check", database=db_copy)
    assert checked.returncode == 3
    assert "AZ is at revision 1" in checked.stdout
    assert not checked.stdout.startswith("ok")
    as_json = json.loads(run("db", "check", "--json", database=db_copy).stdout)
    assert as_json["ok"] is False


async def _break_revisions(database: Path) -> None:
    async with await KnowledgeBase.open(database) as kb:
        service = CorrectionService(kb, SearchIndex.build(await kb.index_rows()), Limits(9, 9))
        await approved(service, submission("AZ", AddAlias(name="Azeri Republic")))
        async with kb.transaction() as db:
            await db.execute("UPDATE entities SET revision = 1 WHERE id = 'AZ'")


# -- from the shell ---------------------------------------------------------------------------


async def _submit(database: Path, entity_id: str, alias: str, who: str) -> int:
    async with await KnowledgeBase.open(database) as kb:
        service = CorrectionService(kb, SearchIndex.build(await kb.index_rows()), Limits(9, 9))
        return (await service.submit(submission(entity_id, AddAlias(name=alias)), who)).id


def test_f2_cli_approve_after_export_and_build_data(db_copy: Path, tmp_path: Path) -> None:
    first = asyncio.run(_submit(db_copy, "AZ", "Azeri Republic", MEMBER))
    before_rebuild = asyncio.run(_submit(db_copy, "AZ", "Azeri State", OTHER))
    assert run("review", "approve", str(first), database=db_copy).returncode == 0
    folder = tmp_path / "data"
    exported = run("db", "export", str(folder), database=db_copy)
    assert exported.returncode == 0, exported.stderr
    built = run("db", "build", "--data", str(folder), database=db_copy)
    assert built.returncode == 0, built.stderr
    assert built.stderr.startswith("Built")

    stale = run("review", "approve", str(before_rebuild), database=db_copy)
    assert "Traceback" not in stale.stderr
    assert stale.returncode == 1
    assert "revision 1 then, 2 now" in stale.stdout

    after = asyncio.run(_submit(db_copy, "AZ", "Azeri Land", MEMBER))
    approved_now = run("review", "approve", str(after), database=db_copy)
    assert "Traceback" not in approved_now.stderr
    assert approved_now.returncode == 0, approved_now.stderr
    assert "AZ is now at revision 3" in approved_now.stdout
    checked = run("db", "check", database=db_copy)
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.startswith("ok")


# -- through Discord ----------------------------------------------------------------------------


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble(guilds=[default_guild()]) as running:
        yield running


@pytest.mark.slow  # multi-process: the CLI rebuilds beside the bot
async def test_f2_bot_approve_after_export_and_build_data(
    double: DiscordDouble, db_copy: Path, tmp_path: Path
) -> None:
    async with running_bot(double, settings_for(double, db_copy)) as bot:
        await configure(double)
        await submit_summary(double, text="The first summary, approved before the rebuild.")
        await submit_summary(double, text="A second summary, made against revision 1.")
        first = await double.wait_for_channel_message(
            HOME_CHANNEL_ID, lambda m: "Correction #1" in embeds_text(m)
        )
        before_rebuild = await double.wait_for_channel_message(
            HOME_CHANNEL_ID, lambda m: "Correction #2" in embeds_text(m)
        )
        click = await double.click(first, "armsbot:review:approve:1", user=MODERATOR_ID)
        assert "AZ is now at revision 2" in await ephemeral_reply(double, click)

        folder = tmp_path / "data"
        for command in (("db", "export", str(folder)), ("db", "build", "--data", str(folder))):
            done = await asyncio.to_thread(run, *command, database=db_copy)
            assert done.returncode == 0, done.stderr

        click = await double.click(before_rebuild, "armsbot:review:approve:2", user=MODERATOR_ID)
        assert "revision 1 then, 2 now" in await ephemeral_reply(double, click)

        third = "A summary proposed after the rebuild, and approved."
        assert "correction #3" in await submit_summary(double, text=third)
        post = await double.wait_for_channel_message(
            HOME_CHANNEL_ID, lambda m: "Correction #3" in embeds_text(m)
        )
        click = await double.click(post, "armsbot:review:approve:3", user=MODERATOR_ID)
        assert "AZ is now at revision 3" in await ephemeral_reply(double, click)
        answer = await double.wait_for_response(
            await double.slash_command("country", {"name": "AZ"})
        )
        assert third in embeds_text(answer)
        assert (await bot.services.corrections.get(2)).status == "stale"

        # A rebuild that drops what was approved shows in /history as a revision of its own.
        forced = await asyncio.to_thread(run, "db", "build", "--force", database=db_copy)
        assert forced.returncode == 0, forced.stderr
        history = await double.wait_for_response(
            await double.slash_command("history", {"entry": "AZ"})
        )
        shown = embeds_text(history)
        assert "Revision 4" in shown
        assert "Rebuilt from data/" in shown
        assert shown.index("Revision 4") < shown.index("Revision 3") < shown.index("Revision 2")
        assert double.unknown_requests == []
