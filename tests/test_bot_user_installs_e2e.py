"""armsbot wherever members talk: the lookups installed to a user's account and used in DMs, and
the "Look up in armsbot" message command, end to end through the Discord API double."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from armsbot.bot.client import ArmsBot
from armsbot.bot.manifest import manifest_path
from tests.bot_harness import button_ids, embeds_text, running_bot, settings_for
from tests.discord_double import (
    HOME_CHANNEL_ID,
    MEMBER_ID,
    OUTSIDER_ID,
    DiscordDouble,
    default_guild,
)

EPHEMERAL = 1 << 6
LOOKUPS = {"country", "firm", "law", "search", "about", "Look up in armsbot"}
SERVER_ONLY = {"correct", "propose", "mycorrections", "history", "revert", "review", "config"}


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble(guilds=[default_guild()]) as running:
        yield running


@pytest.fixture
async def bot(double: DiscordDouble, db_copy: Path) -> AsyncIterator[ArmsBot]:
    async with running_bot(double, settings_for(double, db_copy)) as started:
        yield started


def test_the_manifest_installs_the_lookups_anywhere_and_the_rest_in_servers() -> None:
    manifest = {c["name"]: c for c in json.loads(manifest_path().read_text(encoding="utf-8"))}
    for name in LOOKUPS:
        assert manifest[name]["integration_types"] == [0, 1], name
        assert manifest[name]["contexts"] == [0, 1, 2], name
    for name in {*SERVER_ONLY, "watch"}:
        assert manifest[name]["integration_types"] is None, name  # the server install only
        assert manifest[name]["contexts"] in (None, [0]), name
    assert manifest["watch"]["dm_permission"] is False
    for name in ("country", "firm", "law", "search", "about"):
        share = next(o for o in manifest[name]["options"] if o["name"] == "share")
        assert (share["type"], share.get("required", False)) == (5, False)
    assert manifest["Look up in armsbot"]["type"] == 3


async def answer(double: DiscordDouble, handle: Any) -> dict[str, Any]:
    callback = await double.wait_for_callback(handle)
    assert callback["type"] == 4
    return dict(callback["data"])


async def test_the_lookups_answer_in_a_dm_privately_unless_shared(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    private = await answer(
        double, await double.private_command("country", {"name": "azerbajan"}, user=OUTSIDER_ID)
    )
    assert private["flags"] & EPHEMERAL
    assert "NSO Group" in embeds_text(private)
    shared = await answer(
        double,
        await double.private_command("firm", {"name": "nso", "share": True}, user=OUTSIDER_ID),
    )
    assert not shared.get("flags", 0) & EPHEMERAL
    assert shared["embeds"][0]["title"].startswith("NSO Group")
    found = await answer(
        double, await double.private_command("search", {"query": "pegasus"}, user=OUTSIDER_ID)
    )
    assert found["flags"] & EPHEMERAL
    assert "armsbot:open:nso-group" in button_ids(found)
    law = await answer(
        double, await double.private_command("law", {"name": "arms trade treaty"}, user=MEMBER_ID)
    )
    assert law["flags"] & EPHEMERAL
    about = await answer(double, await double.private_command("about", user=OUTSIDER_ID, context=1))
    assert about["flags"] & EPHEMERAL  # the DM with the bot is outside a server too
    assert about["embeds"][0]["title"] == "About armsbot"
    # In a server that added armsbot, answers stay public, as before.
    public = await answer(double, await double.slash_command("country", {"name": "azerbajan"}))
    assert not public.get("flags", 0) & EPHEMERAL


async def test_moderation_and_watch_are_not_offered_outside_servers(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    for name, options in (("watch", {}), ("review", {}), ("correct", {}), ("config", {})):
        with pytest.raises(AssertionError, match="not installable"):
            await double.private_command(name, options, user=OUTSIDER_ID)


async def test_the_message_command_lists_what_a_message_names(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    message = double.post_user_message(
        HOME_CHANNEL_ID,
        MEMBER_ID,
        "New report: Pegasus was used against journalists in Azerbaijan, and let us see what the "
        "UAE says.",
    )
    handle = await double.message_command("Look up in armsbot", message, user=MEMBER_ID)
    listed = await answer(double, handle)
    assert listed["flags"] & EPHEMERAL
    shown = re.sub(r"\\(.)", r"\1", listed["content"])
    assert shown.splitlines() == [
        "This message mentions:",
        "Countries: Azerbaijan, United Arab Emirates",
        "Products: Pegasus (NSO Group)",
    ]
    assert button_ids(listed) == ["armsbot:card:nso-group", "armsbot:card:AZ", "armsbot:card:AE"]
    card = await double.click(handle, "armsbot:card:AZ", user=MEMBER_ID)
    opened = await answer(double, card)
    assert opened["flags"] & EPHEMERAL
    assert opened["embeds"][0]["title"].startswith("Azerbaijan")

    plain = double.post_user_message(HOME_CHANNEL_ID, MEMBER_ID, "See you all tomorrow at noon.")
    nothing = await answer(double, await double.message_command("Look up in armsbot", plain))
    assert nothing["flags"] & EPHEMERAL
    assert "names no country, firm, law or product" in nothing["content"]
