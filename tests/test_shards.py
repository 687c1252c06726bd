"""Shards: the settings, and the double routing each server to its shard as Discord does."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from pydantic import ValidationError

from armsbot.bot.client import ArmsBot
from armsbot.cli import main
from armsbot.config import Settings
from tests.bot_harness import button_ids, embeds_text, running_bot, settings_for
from tests.discord_double import (
    HOME_CHANNEL_ID,
    HOME_GUILD_ID,
    MEMBER_ID,
    MODERATOR_ID,
    MODERATOR_ROLE_ID,
    OWNER_ID,
    DiscordDouble,
    default_guild,
    guild_on_shard,
    shard_of,
)

#: A server on shard 0 of 2 (the home server is on shard 1 of 2).
EVEN = guild_on_shard(0, 2)
EVEN_GUILD_ID = EVEN.id


def test_the_test_servers_sit_on_different_shards() -> None:
    assert shard_of(HOME_GUILD_ID, 2) == 1
    assert shard_of(EVEN_GUILD_ID, 2) == 0
    assert shard_of(None, 2) == 0  # DMs


# -- settings --------------------------------------------------------------------------------------


def test_shard_settings_name_the_shards_of_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARMSBOT_SHARD_COUNT", "4")
    monkeypatch.setenv("ARMSBOT_SHARD_IDS", "0, 1")
    settings = Settings()
    assert (settings.shard_count, settings.shard_ids) == (4, [0, 1])
    monkeypatch.delenv("ARMSBOT_SHARD_IDS")
    assert Settings().shard_ids is None  # all four
    monkeypatch.delenv("ARMSBOT_SHARD_COUNT")
    assert (Settings().shard_count, Settings().shard_ids) == (None, None)  # discord.py decides


@pytest.mark.parametrize(
    ("count", "ids", "problem"),
    [
        (None, "0,1", "needs ARMSBOT_SHARD_COUNT"),
        ("4", "1,1", "names a shard twice"),
        ("4", "0,4", "[4] not among the 4 shards (ids 0 to 3)"),
        ("2", "-1", "[-1] not among the 2 shards"),
        ("0", None, "greater than or equal to 1"),
    ],
)
def test_inconsistent_shard_settings_are_refused(
    monkeypatch: pytest.MonkeyPatch, count: str | None, ids: str | None, problem: str
) -> None:
    for name, value in (("ARMSBOT_SHARD_COUNT", count), ("ARMSBOT_SHARD_IDS", ids)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=re.escape(problem)):
        Settings()


def test_the_cli_says_what_is_wrong_with_the_shards_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], db_copy: Path
) -> None:
    monkeypatch.setenv("ARMSBOT_DATABASE", str(db_copy))
    monkeypatch.delenv("ARMSBOT_SHARD_COUNT", raising=False)
    monkeypatch.setenv("ARMSBOT_SHARD_IDS", "0,1")
    assert main(["run"]) != 0
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith("ARMSBOT_SHARD_IDS:")
    assert "needs ARMSBOT_SHARD_COUNT" in err


# -- the double ------------------------------------------------------------------------------------


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble(guilds=[default_guild(), EVEN], shard_count=2) as running:
        yield running


async def identify_raw(double: DiscordDouble, shard: object) -> tuple[int | None, list[str]]:
    """IDENTIFY on a bare websocket; return the close code (None: still open) and events seen."""
    events: list[str] = []
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(double.gateway_url) as ws,
    ):
        hello = await ws.receive_json(timeout=5)
        assert hello["op"] == 10
        data = {"token": double.token, "intents": 1, "properties": {}}
        if shard is not None:
            data["shard"] = shard
        await ws.send_str(json.dumps({"op": 2, "d": data}))
        try:
            async with asyncio.timeout(2):
                async for message in ws:
                    if message.type is not aiohttp.WSMsgType.TEXT:
                        break
                    payload = json.loads(message.data)
                    events.append(str(payload.get("t")))
                    if payload.get("t") == "GUILD_CREATE" and len(events) > 1:
                        return None, events
        except TimeoutError:
            return None, events
        return ws.close_code, events


@pytest.mark.parametrize("shard", [[2, 2], [-1, 2], [0, 0], [0], "0,2", [0.0, 2], [True, 2]])
async def test_the_double_refuses_an_identify_with_an_invalid_shard(
    double: DiscordDouble, shard: object
) -> None:
    code, events = await identify_raw(double, shard)
    assert code == 4010
    assert events == []
    assert double.sessions == []


async def test_the_double_sends_each_shard_only_its_servers(double: DiscordDouble) -> None:
    gateway = await (await _rest(double, "/gateway/bot")).json()
    assert gateway["shards"] == 2
    code, events = await identify_raw(double, [0, 2])
    assert code is None
    assert events == ["READY", "GUILD_CREATE"]
    ready = double.sessions[-1]
    assert ready.shard == (0, 2)
    guild_creates = [
        p["d"]["id"]
        for conn in double.connections
        for p in conn.sent
        if p.get("t") == "GUILD_CREATE"
    ]
    assert guild_creates == [str(EVEN_GUILD_ID)]


async def _rest(double: DiscordDouble, path: str) -> aiohttp.ClientResponse:
    async with aiohttp.ClientSession() as session:
        response = await session.get(
            double.rest_base + path, headers={"Authorization": f"Bot {double.token}"}
        )
        await response.read()
        return response


# -- two bot processes' clients, each with one shard -----------------------------------------------


@pytest.fixture
async def two_shards(
    double: DiscordDouble, db_copy: Path
) -> AsyncIterator[tuple[ArmsBot, ArmsBot]]:
    async with (
        running_bot(double, settings_for(double, db_copy, shard_count=2, shard_ids=[0])) as zero,
        running_bot(
            double, settings_for(double, db_copy, shard_count=2, shard_ids=[1], sync_commands=False)
        ) as one,
    ):
        yield zero, one


async def test_each_client_holds_the_servers_of_its_shard_and_answers_them(
    double: DiscordDouble, two_shards: tuple[ArmsBot, ArmsBot]
) -> None:
    zero, one = two_shards
    assert [g.id for g in zero.guilds] == [EVEN_GUILD_ID]
    assert [g.id for g in one.guilds] == [HOME_GUILD_ID]
    assert sorted(double.shard_sessions()) == [(0, 2), (1, 2)]

    at_home = await double.slash_command("country", {"name": "azerbajan"})
    even = await double.slash_command("country", {"name": "azerbajan"}, guild_id=EVEN_GUILD_ID)
    in_dm = await double.private_command("country", {"name": "azerbajan"}, user=MEMBER_ID)
    for handle in (at_home, even, in_dm):
        assert "NSO Group" in embeds_text(await double.wait_for_response(handle))
    sessions = {s.session_id: s.shard for s in double.sessions}
    delivered = {
        p["d"].get("guild_id"): sessions[conn.session.session_id]
        for conn in double.connections
        if conn.session is not None
        for p in conn.sent
        if p.get("t") == "INTERACTION_CREATE"
    }
    assert delivered == {str(HOME_GUILD_ID): (1, 2), str(EVEN_GUILD_ID): (0, 2), None: (0, 2)}
    assert double.unknown_requests == []


async def submit_summary_in(double: DiscordDouble, guild_id: int, text: str) -> None:
    handle = await double.slash_command(
        "correct", {"entry": "AZ", "change": "summary"}, user=MEMBER_ID, guild_id=guild_id
    )
    assert (await double.wait_for_callback(handle))["type"] == 9
    submitted = await double.submit_modal(
        handle,
        {
            "What is wrong": "The entry has no summary.",
            "Proposed change": text,
            "Source URL": "https://example.org/azerbaijan-report",
        },
        user=MEMBER_ID,
    )
    receipt = await double.wait_for_callback(submitted)
    assert "is waiting for a moderator" in receipt["data"]["content"]


def review_posts(double: DiscordDouble) -> list[dict[str, object]]:
    return [m for m in double.channel_messages(HOME_CHANNEL_ID) if m.get("embeds")]


async def test_a_review_post_is_made_once_by_the_process_holding_the_home_server(
    double: DiscordDouble, two_shards: tuple[ArmsBot, ArmsBot]
) -> None:
    zero, one = two_shards  # the home server is on shard 1
    configured = await double.slash_command(
        "config",
        {"moderator-role": MODERATOR_ROLE_ID, "review-channel": HOME_CHANNEL_ID},
        user=OWNER_ID,
    )
    assert "review channel" in (await double.wait_for_callback(configured))["data"]["content"]

    # Submitted where shard 0 answers: the process of shard 1 posts it, through the change feed.
    await submit_summary_in(double, EVEN_GUILD_ID, "A summary sent from the other shard.")
    await double.wait_until(lambda: len(review_posts(double)) == 1, timeout=10, what="the post")
    # Submitted at home: shard 1 posts it at once, and its catch-up does not post it again.
    await submit_summary_in(double, HOME_GUILD_ID, "A summary sent from the home server.")
    await double.wait_until(lambda: len(review_posts(double)) == 2, timeout=10, what="2 posts")
    for bot in (zero, one):  # both processes have looked at both corrections since
        await _catch_up_round(bot)
    posts = review_posts(double)
    assert [button_ids(p)[0] for p in posts] == [
        "armsbot:review:approve:1",
        "armsbot:review:approve:2",
    ]
    assert zero.review_catch_up is not None
    assert one.review_catch_up is not None
    assert zero.review_catch_up.posted == 0  # it holds no home server
    assert one.review_catch_up.posted >= 1  # #1 at least (#2 too if it looked first)

    # Shard 0's process has AZ's card built; the approval made by shard 1's drops it at once.
    before = await double.slash_command("country", {"name": "AZ"}, guild_id=EVEN_GUILD_ID)
    assert "other shard" not in embeds_text(await double.wait_for_response(before))
    assert len(zero.services.lookup.feeds) > 0
    # The click reaches shard 1's process, which holds the server the post is in.
    click = await double.click(posts[0], "armsbot:review:approve:1", user=MODERATOR_ID)
    assert "is applied" in (await double.wait_for_callback(click))["data"]["content"]
    await double.wait_until(
        lambda: "approved by" in embeds_text(double.message(posts[0]["id"])), what="the update"
    )
    answer = await double.slash_command("country", {"name": "AZ"}, guild_id=EVEN_GUILD_ID)
    assert "sent from the other shard" in embeds_text(await double.wait_for_response(answer))
    assert double.unknown_requests == []


async def _catch_up_round(bot: ArmsBot) -> None:
    assert bot.review_catch_up is not None
    await bot.review_catch_up.run_once()


@pytest.mark.usefixtures("two_shards")
async def test_a_button_works_on_the_shard_that_holds_its_server(double: DiscordDouble) -> None:
    ask = await double.wait_for_response(
        await double.slash_command("country", {"name": "congo"}, guild_id=EVEN_GUILD_ID)
    )
    assert button_ids(ask) == ["armsbot:open:CG", "armsbot:open:CD"]
    click = await double.click(ask, "armsbot:open:CD")
    await double.wait_for_callback(click)
    assert double.message(ask["id"])["embeds"][0]["title"] == "Democratic Republic of the Congo"
    # The same button on a message in the other shard's server, answered there.
    home = await double.wait_for_response(await double.slash_command("country", {"name": "congo"}))
    again = await double.click(home, "armsbot:open:CD")
    await double.wait_for_callback(again)
    assert double.message(home["id"])["embeds"][0]["title"] == "Democratic Republic of the Congo"
    assert double.unknown_requests == []
