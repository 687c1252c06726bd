"""/about shows what each imported dataset brought, as `armsbot db datasets` counts it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from armsbot.bot.client import ArmsBot
from armsbot.imports.core import import_dataset
from armsbot.imports.targets import PINNED, TargetsAdapter
from armsbot.storage import KnowledgeBase
from tests.bot_harness import embeds_text, running_bot, settings_for
from tests.conftest import shared_file
from tests.discord_double import DiscordDouble, default_guild


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble(guilds=[default_guild()]) as running:
        yield running


async def test_about_lists_each_imported_dataset_with_its_counts(
    double: DiscordDouble, db_copy: Path
) -> None:
    candiru = PINNED["candiru"]
    async with await KnowledgeBase.open(db_copy) as kb:
        await import_dataset(
            kb,
            TargetsAdapter(candiru.product, candiru),
            shared_file("datasets/granitt/data-candiru-victims.csv"),
        )
    async with running_bot(double, settings_for(double, db_copy)) as bot:
        assert isinstance(bot, ArmsBot)
        about = await double.wait_for_response(await double.slash_command("about"))
    # As Discord shows it: the name is escaped for markdown.
    fields = {f["name"]: re.sub(r"\\(.)", r"\1", f["value"]) for f in about["embeds"][0]["fields"]}
    assert fields["Imported datasets"] == (
        "Candiru Victim Database (Granitt): 4 records read · 2 claims · 1 firms · 0 left out"
    )
    assert "Candiru Victim Database" in embeds_text(about)
    assert double.unknown_requests == []


async def test_about_has_no_dataset_field_when_nothing_is_imported(
    double: DiscordDouble, db_copy: Path
) -> None:
    async with running_bot(double, settings_for(double, db_copy)):
        about = await double.wait_for_response(await double.slash_command("about"))
    names = [f["name"] for f in about["embeds"][0]["fields"]]
    assert "Imported datasets" not in names
    assert names[0] == "Knowledge base"
