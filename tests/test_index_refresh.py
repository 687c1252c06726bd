"""A running bot follows changes made by another process: approvals, imports, builds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from armsbot.app import Refresh, Services, open_services
from armsbot.changes import AddAlias, Submission
from armsbot.config import Settings
from armsbot.datafiles import bundled_data_dir
from armsbot.imports.sii import import_sii, remove_sii
from armsbot.models import Kind
from armsbot.search.index import SearchIndex
from armsbot.services import data
from armsbot.services.corrections import CorrectionService, Limits
from armsbot.storage import KnowledgeBase
from tests.bot_harness import running_bot, settings_for
from tests.discord_double import DiscordDouble, default_guild
from tests.test_sii_import import record, write_records


def alias_for(entity_id: str, name: str) -> Submission:
    return Submission.model_validate(
        {
            "entity_id": entity_id,
            "change": AddAlias(name=name),
            "what_is_wrong": "A name people use is missing.",
            "source_url": "https://example.org/names",
        }
    )


async def approve_elsewhere(database: Path | str, entity_id: str, name: str) -> None:
    """What `armsbot review approve` does in its own process: its own connection and index."""
    async with await KnowledgeBase.open(database) as other:
        service = CorrectionService(other, SearchIndex.build(await other.index_rows()), Limits())
        correction = await service.submit(alias_for(entity_id, name), "discord:1")
        decision = await service.approve(correction.id, "discord:2")
        assert decision.correction is not None
        assert decision.correction.status == "approved"


@pytest.fixture
async def services(database: Path | str) -> AsyncIterator[Services]:
    opened = await open_services(Settings(database=database))
    yield opened
    await opened.close()


def ids(services: Services, query: str, kind: Kind | None = None) -> list[str]:
    return [m.id for m in services.index.search(query, kind, 5)]


async def test_an_approval_from_another_process_is_applied_in_place(
    services: Services, database: Path | str
) -> None:
    assert await services.refresh_index() is Refresh.UNCHANGED
    before = services.index
    await approve_elsewhere(database, "AZ", "Azeristan Republic")
    assert "AZ" not in ids(services, "azeristan republic")  # not yet: another process did it
    assert await services.refresh_index() is Refresh.UPDATED
    assert ids(services, "azeristan republic")[0] == "AZ"
    assert services.index is before  # in place, not rebuilt
    assert await services.refresh_index() is Refresh.UNCHANGED


async def test_an_import_or_a_build_elsewhere_reloads_the_index(
    services: Services, database: Path | str, tmp_path: Path
) -> None:
    # A record in the SII's format that names a firm the knowledge base does not have.
    transfers = write_records(tmp_path, [record("Elsewhere_2015")])
    async with await KnowledgeBase.open(database) as other:
        report = await import_sii(other, transfers)
    (created,) = report.firms_created
    name = (await services.kb.entity(created, claims=False)).name  # type: ignore[union-attr]
    assert created not in ids(services, name, Kind.FIRM)
    assert await services.refresh_index() is Refresh.REBUILT
    assert ids(services, name, Kind.FIRM)[0] == created
    assert services.lookup.index is services.index is services.corrections.index

    async with await KnowledgeBase.open(database) as other:
        await remove_sii(other)
    assert await services.refresh_index() is Refresh.REBUILT
    assert created not in ids(services, name, Kind.FIRM)

    async with await KnowledgeBase.open(database) as other:
        await data.build(other, bundled_data_dir(), force=True)
    assert await services.refresh_index() is Refresh.REBUILT
    assert await services.refresh_index() is Refresh.UNCHANGED


async def test_the_bot_answers_with_what_the_command_line_approved(database: Path | str) -> None:
    async with (
        DiscordDouble(guilds=[default_guild()]) as double,
        running_bot(double, settings_for(double, database, index_refresh_seconds=0.1)),
    ):

        async def first_choice() -> str | None:
            handle = await double.autocomplete("country", {"name": "Azeristan Republic"})
            choices = await double.autocomplete_choices(handle)
            return choices[0]["value"] if choices else None

        assert await first_choice() != "AZ"
        await approve_elsewhere(database, "AZ", "Azeristan Republic")
        for _ in range(100):  # the bot looks every 0.1 s here (every 5 s by default)
            if await first_choice() == "AZ":
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the bot never found the alias approved from the command line")
