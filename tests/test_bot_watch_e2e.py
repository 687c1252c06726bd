"""/watch and its notices end to end, through the Discord API double.

Approvals come from the CLI in another process (``armsbot review approve``) and from a moderator
on Discord; the bot notices both from the change log, batches them per entity and channel, and
posts each notice once, with a nonce that makes a repeat after a crash return the same message.
"""

from __future__ import annotations

import asyncio
import getpass
import inspect
import re
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from armsbot.bot.client import ArmsBot
from armsbot.changes import ClaimStatusChange, EditField, Submission
from armsbot.search.index import SearchIndex
from armsbot.services.corrections import CorrectionService, Limits
from armsbot.storage import KnowledgeBase
from armsbot.storage.watches import WatchStore
from tests.bot_harness import button_ids, running_bot, settings_for
from tests.discord_double import (
    HOME_BOT_ROLE_ID,
    MEMBER_ID,
    MODERATOR_ID,
    MODERATOR_ROLE_ID,
    OWNER_ID,
    DiscordDouble,
    FakeChannel,
    FakeGuild,
    PermissionOverwrite,
    default_guild,
)
from tests.test_bot_process import start
from tests.test_cli import run

EPHEMERAL = 1 << 6
SEND_MESSAGES = 1 << 11
WATCH_CHANNEL_ID = 1_100_000_000_000_000_150
DRONES = "azerbaijan-hajiyev-israeli-drones-2020"  # filed under AZ, confirmed
TEN_GOVERNMENTS = "nso-group-pegasus-project-ten-governments"  # filed under NSO, names AZ


def guild_with_a_campaign_channel() -> FakeGuild:
    guild = default_guild()
    guild.channels.append(FakeChannel(WATCH_CHANNEL_ID, "campaign"))
    return guild


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble(guilds=[guild_with_a_campaign_channel()]) as running:
        yield running


def submission(entity_id: str, change: object) -> Submission:
    return Submission.model_validate(
        {
            "entity_id": entity_id,
            "change": change,
            "what_is_wrong": "A new report says otherwise.",
            "source_url": "https://example.org/new-report",
        }
    )


async def submit(database: Path, *pending: tuple[str, object]) -> list[int]:
    """Corrections as members submit them (their own connection, as another process would)."""
    async with await KnowledgeBase.open(database) as kb:
        service = CorrectionService(kb, SearchIndex.build(await kb.index_rows()), Limits(50, 50))
        return [
            (await service.submit(submission(entity, change), f"discord:{MEMBER_ID}")).id
            for entity, change in pending
        ]


async def approve_elsewhere(database: Path, number: int) -> None:
    """What `armsbot review approve` does, without a process start (for the restart tests)."""
    async with await KnowledgeBase.open(database) as kb:
        service = CorrectionService(kb, SearchIndex.build(await kb.index_rows()), Limits())
        decision = await service.approve(number, "cli:tester")
        assert decision.revision is not None, decision.message


async def eventually(what: str, check: Callable[[], Any], timeout: float = 60) -> Any:  # noqa: ASYNC109
    """Wait for ``check()`` (or what it awaits) to be true: state the double does not see, such
    as the bot's own or the database's. Fails after ``timeout``, which is generous."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                found = check()
                if inspect.isawaitable(found):
                    found = await found
                if found:
                    return found
                await asyncio.sleep(0.05)
    except TimeoutError:
        msg = f"timed out after {timeout:.0f}s waiting for {what}"
        raise AssertionError(msg) from None


async def after_more_rounds(bot: ArmsBot, rounds: int = 2) -> None:
    """Wait until the notifier has looked for due notices ``rounds`` more times."""
    assert bot.notifier is not None
    target = bot.notifier.rounds + rounds
    await eventually("notifier rounds", lambda: bot.notifier and bot.notifier.rounds >= target)


async def reply_text(double: DiscordDouble, handle: object) -> str:
    callback = await double.wait_for_callback(handle)  # type: ignore[arg-type]
    assert callback["data"]["flags"] & EPHEMERAL
    return re.sub(r"\\(.)", r"\1", str(callback["data"].get("content") or ""))


async def watch(double: DiscordDouble, entry: str, user: int = OWNER_ID) -> str:
    handle = await double.slash_command(
        "watch add", {"entry": entry}, user=user, channel_id=WATCH_CHANNEL_ID
    )
    return await reply_text(double, handle)


def is_notice(message: dict[str, Any]) -> bool:
    """A message the bot posted in the channel itself (not an answer to a command)."""
    return "interaction_metadata" not in message


def notices(double: DiscordDouble) -> list[dict[str, Any]]:
    return [m for m in double.channel_messages(WATCH_CHANNEL_ID) if is_notice(m)]


def shown(message: dict[str, Any]) -> str:
    return re.sub(r"\\(.)", r"\1", str(message["content"]))


async def stored_notices(database: Path) -> list[tuple[str, str]]:
    async with await KnowledgeBase.open(database) as kb:
        return [(n.state, n.nonce) for n in await WatchStore(kb).notices()]


@pytest.mark.slow  # multi-process: the CLI approves beside the bot
async def test_a_cli_approval_and_a_second_within_the_window_make_one_notice(
    double: DiscordDouble, db_copy: Path
) -> None:
    first, second, elsewhere = await submit(
        db_copy,
        ("AZ", ClaimStatusChange(claim_id=DRONES, status="reported")),
        ("nso-group", ClaimStatusChange(claim_id=TEN_GOVERNMENTS, status="confirmed")),
        ("MA", EditField(field="summary", value="A summary of Morocco nobody follows.")),
    )
    settings = settings_for(double, db_copy, watch_batch_seconds=8, index_refresh_seconds=0.2)
    async with running_bot(double, settings) as bot:
        assert "now follows Azerbaijan" in await watch(double, "AZ")
        config = await double.slash_command(
            "config", {"moderator-role": MODERATOR_ROLE_ID}, user=OWNER_ID
        )
        await double.wait_for_callback(config)

        approved = await asyncio.to_thread(run, "review", "approve", str(first), database=db_copy)
        assert approved.returncode == 0, approved.stderr
        show = await double.slash_command("review show", {"number": second}, user=MODERATOR_ID)
        await double.wait_for_response(show)
        click = await double.click(show, f"armsbot:review:approve:{second}", user=MODERATOR_ID)
        assert "is applied" in await reply_text(double, click)
        elsewhere_done = await asyncio.to_thread(
            run, "review", "approve", str(elsewhere), database=db_copy
        )
        assert elsewhere_done.returncode == 0, elsewhere_done.stderr

        notice = await double.wait_for_channel_message(WATCH_CHANNEL_ID, is_notice, timeout=90)
        text = shown(notice)
        assert text.startswith("**Azerbaijan** changed:")
        assert "status confirmed → reported: During the September-October 2020 war" in text
        assert "status reported → confirmed: " in text
        assert f"moderator cli:{getpass.getuser()} (correction #{first})" in text
        assert f"moderator <@{MODERATOR_ID}> (correction #{second})" in text
        assert notice["mentions"] == []  # never pings
        assert button_ids(notice) == ["armsbot:card:AZ"]
        assert notice["nonce"] == (await stored_notices(db_copy))[0][1]

        await eventually("the sent-marker", lambda: bot.notifier and bot.notifier.sent == 1)
        await after_more_rounds(bot)
        assert len(notices(double)) == 1  # the two approvals in one notice, sent once
        assert [
            m for m in double.channel_messages(WATCH_CHANNEL_ID) if "Morocco" in m["content"]
        ] == []
        assert await stored_notices(db_copy) == [("sent", notice["nonce"])]

        card = await double.click(notice, "armsbot:card:AZ", user=MEMBER_ID)
        opened = await double.wait_for_callback(card)
        assert opened["type"] == 4
        assert opened["data"]["flags"] & EPHEMERAL
        assert opened["data"]["embeds"][0]["title"].startswith("Azerbaijan")
        assert double.message(notice["id"])["content"] == notice["content"]  # left as it was
    async with (
        await KnowledgeBase.open(db_copy) as kb,
        kb.db.execute("SELECT count(*) FROM entity_changes WHERE entity_id = 'MA'") as cursor,
    ):
        assert (await cursor.fetchone())[0] == 0  # nobody watches Morocco: nothing logged


async def test_a_change_made_while_the_bot_is_down_is_sent_once_after_a_restart(
    double: DiscordDouble, db_copy: Path
) -> None:
    (number,) = await submit(db_copy, ("AZ", ClaimStatusChange(claim_id=DRONES, status="alleged")))
    settings = settings_for(double, db_copy, watch_batch_seconds=0, index_refresh_seconds=0.05)
    async with running_bot(double, settings):
        assert "now follows" in await watch(double, "AZ")
    await approve_elsewhere(db_copy, number)
    async with running_bot(double, settings) as bot:
        notice = await double.wait_for_channel_message(WATCH_CHANNEL_ID, is_notice, timeout=60)
        assert "status confirmed → alleged" in shown(notice)
        await eventually("the sent-marker", lambda: bot.notifier and bot.notifier.sent == 1)
        await after_more_rounds(bot)
    async with running_bot(double, settings) as bot:  # and once more: nothing is repeated
        await after_more_rounds(bot)
    assert len(notices(double)) == 1
    assert len(double.find_requests(f"POST /channels/{WATCH_CHANNEL_ID}/messages")) == 1


@pytest.mark.slow  # multi-process: `armsbot run` killed, then started again
async def test_a_crash_between_sending_and_recording_still_makes_one_message(
    double: DiscordDouble, db_copy: Path
) -> None:
    (number,) = await submit(db_copy, ("AZ", ClaimStatusChange(claim_id=DRONES, status="denied")))
    env = {"ARMSBOT_WATCH_BATCH_SECONDS": "0.5", "ARMSBOT_INDEX_REFRESH_SECONDS": "0.2"}
    process = await start(double, db_copy, double.token, **env)
    try:
        await double.wait_for_identify(1, timeout=90)
        await double.wait_until(lambda: bool(double.registered_commands()), 30, "the sync")
        assert "now follows" in await watch(double, "AZ")
        double.hold_next_messages(WATCH_CHANNEL_ID)
        await approve_elsewhere(db_copy, number)
        await double.wait_until(lambda: bool(double.held_messages), 60, "the notice's post")
        process.send_signal(signal.SIGKILL)  # Discord made the message; the bot never heard
        await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert await stored_notices(db_copy) == [("sending", double.held_messages[0]["nonce"])]

    again = await start(double, db_copy, double.token, **env)
    try:
        await double.wait_for_identify(2, timeout=90)
        posts = f"POST /channels/{WATCH_CHANNEL_ID}/messages"
        await double.wait_until(lambda: len(double.find_requests(posts)) == 2, 60, "the resend")
        sent = await eventually("the sent-marker", lambda: _sent(db_copy))
        assert sent == double.held_messages[0]["id"]
    finally:
        again.send_signal(signal.SIGTERM)
        await asyncio.wait_for(again.communicate(), 30)
    requests = double.find_requests(f"POST /channels/{WATCH_CHANNEL_ID}/messages")
    assert [r.body["nonce"] for r in requests] == [double.held_messages[0]["nonce"]] * 2
    assert all(r.body["enforce_nonce"] is True for r in requests)
    assert [m["id"] for m in notices(double)] == [double.held_messages[0]["id"]]


async def _sent(database: Path) -> str | None:
    async with await KnowledgeBase.open(database) as kb:
        stored = await WatchStore(kb).notices()
    return stored[0].message_id if stored and stored[0].state == "sent" else None


async def test_only_members_who_manage_the_channel_change_its_watches(
    double: DiscordDouble, db_copy: Path
) -> None:
    async with running_bot(double, settings_for(double, db_copy, watch_limit=2)) as bot:
        for user in (MEMBER_ID, MODERATOR_ID):
            assert "Manage Channels" in await watch(double, "AZ", user)
        choices = await double.autocomplete_choices(
            await double.autocomplete(
                "watch add", {"entry": "pegasus"}, channel_id=WATCH_CHANNEL_ID
            )
        )
        assert choices[0]["value"] == "nso-group"  # every entity, by any name
        added = await watch(double, "nso-group")
        assert "now follows NSO Group" in added
        assert "(1 of 2 watches in this server)" in added
        assert "already follows" in await watch(double, "nso-group")
        assert "(2 of 2 watches in this server)" in await watch(double, "AZ")
        assert "already has 2 watches" in await watch(double, "MA")

        listing = await double.slash_command("watch list", user=MEMBER_ID)
        listed = (await double.wait_for_callback(listing))["data"]["embeds"][0]
        assert listed["title"] == "Watches in this server (2 of 2)"
        assert listed["description"] == f"<#{WATCH_CHANNEL_ID}>: Azerbaijan, NSO Group"

        refused = await double.slash_command(
            "watch remove", {"entry": "AZ"}, user=MEMBER_ID, channel_id=WATCH_CHANNEL_ID
        )
        assert "Manage Channels" in await reply_text(double, refused)
        left = await double.autocomplete(
            "watch remove", {"entry": ""}, user=OWNER_ID, channel_id=WATCH_CHANNEL_ID
        )
        assert [c["value"] for c in await double.autocomplete_choices(left)] == ["AZ", "nso-group"]
        removed = await double.slash_command(
            "watch remove", {"entry": "AZ"}, user=OWNER_ID, channel_id=WATCH_CHANNEL_ID
        )
        assert "no longer follows Azerbaijan" in await reply_text(double, removed)
        async with bot.services.kb.db.execute("SELECT entity_id FROM watches") as cursor:
            assert [r[0] for r in await cursor.fetchall()] == ["nso-group"]
        guild = double.guilds[next(iter(double.guilds))]
        guild.channel(WATCH_CHANNEL_ID).overwrites.append(  # type: ignore[union-attr]
            PermissionOverwrite(HOME_BOT_ROLE_ID, deny=SEND_MESSAGES)
        )
        assert "cannot post in this channel" in await watch(double, "AZ")


async def test_a_channel_the_bot_can_no_longer_post_in_is_disabled_and_listed(
    double: DiscordDouble, db_copy: Path
) -> None:
    settings = settings_for(double, db_copy, watch_batch_seconds=0, index_refresh_seconds=0.05)
    async with running_bot(double, settings) as bot:
        assert bot.notifier is not None
        bot.notifier.service.min_retry_seconds = 0.02  # the tries, not the default second between
        assert "now follows" in await watch(double, "AZ")
        guild = double.guilds[next(iter(double.guilds))]
        guild.channel(WATCH_CHANNEL_ID).overwrites.append(  # type: ignore[union-attr]
            PermissionOverwrite(HOME_BOT_ROLE_ID, deny=SEND_MESSAGES)
        )
        (number,) = await submit(
            db_copy, ("AZ", ClaimStatusChange(claim_id=DRONES, status="alleged"))
        )
        await approve_elsewhere(db_copy, number)
        posts = f"POST /channels/{WATCH_CHANNEL_ID}/messages"
        await double.wait_until(lambda: len(double.find_requests(posts)) == 3, 60, "3 tries")
        await after_more_rounds(bot)
        assert [r.status for r in double.find_requests(posts)] == [403, 403, 403]
        listing = await double.slash_command("watch list", user=MEMBER_ID)
        listed = (await double.wait_for_callback(listing))["data"]["embeds"][0]
        problems = listed["fields"][0]["value"]
        assert f"<#{WATCH_CHANNEL_ID}>: paused since" in problems
        assert "after 3 failed posts (403 Missing Permissions)" in problems

        guild.channel(WATCH_CHANNEL_ID).overwrites.clear()  # type: ignore[union-attr]
        assert "posted in this channel again" in await watch(double, "AZ")
        await after_more_rounds(bot)
        assert len(double.find_requests(posts)) == 3  # what changed meanwhile is not sent
