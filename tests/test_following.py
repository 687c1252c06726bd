"""The bot follows changes other processes commit: the change feed, and the CLI's approvals."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Generator
from pathlib import Path

import pytest

from armsbot.bot.following import ChangeFeed
from armsbot.changes import AddAlias, Submission
from armsbot.search.index import SearchIndex
from armsbot.services.corrections import CorrectionService, Limits
from armsbot.storage import KnowledgeBase
from tests.bot_harness import running_bot, settings_for
from tests.conftest import run_cli
from tests.discord_double import (
    HOME_GUILD_ID,
    MODERATOR_ROLE_ID,
    OWNER_ID,
    DiscordDouble,
    default_guild,
)


class FakeVersions:
    """A knowledge base's version that a test moves, or makes unreachable."""

    def __init__(self) -> None:
        self.version = 0
        self.reachable = True
        self.reads = 0

    async def read(self) -> int:
        self.reads += 1
        if not self.reachable:
            msg = "the database is gone"
            raise OSError(msg)
        return self.version


async def until(condition: object, what: str) -> None:
    """Let the feed run until ``condition()`` holds (a generous bound; no timing is asserted)."""
    for _ in range(1000):
        if condition():  # type: ignore[operator]
            return
        await asyncio.sleep(0.01)
    raise AssertionError(what)


async def test_the_feed_yields_on_a_change_and_stays_quiet_otherwise() -> None:
    versions = FakeVersions()
    feed = ChangeFeed(versions.read, poll=0.01, fallback=3600)
    changes: AsyncIterator[None] = feed.changes()
    waiting = asyncio.create_task(anext(changes))
    await until(lambda: versions.reads >= 5, "the feed reading the version")
    assert not waiting.done()  # nothing changed: nothing to do
    versions.version = 1
    await asyncio.wait_for(waiting, 10)
    await changes.aclose()


async def test_the_feed_backs_off_while_the_database_is_lost_and_says_when_it_is_back() -> None:
    versions = FakeVersions()
    feed = ChangeFeed(versions.read, poll=0.002, fallback=3600, max_backoff=0.016)
    changes = feed.changes()
    waiting = asyncio.create_task(anext(changes))
    await until(lambda: versions.reads >= 2, "a first look")
    versions.reachable = False
    await until(lambda: feed.failures >= 4, "several failed looks")
    assert not feed.available
    assert feed.backoff() == 0.016  # doubled from 0.002 up to the ceiling
    assert not waiting.done()  # a failure is no change, and the feed does not raise
    versions.reachable = True
    await asyncio.wait_for(waiting, 10)  # back: everything derived is checked again
    assert feed.available
    assert feed.failures == 0
    await changes.aclose()


async def test_a_push_wakes_the_feed_before_its_next_poll() -> None:
    versions = FakeVersions()
    feed = ChangeFeed(versions.read, poll=3600, fallback=3600)
    changes = feed.changes()
    waiting = asyncio.create_task(anext(changes))
    await until(lambda: versions.reads >= 1, "the first read")
    versions.version = 7
    feed.notify()
    await asyncio.wait_for(waiting, 10)
    assert versions.reads == 2
    await changes.aclose()


async def submit_alias(database: Path | str, entity_id: str, name: str) -> int:
    """A pending correction, submitted through another connection."""
    async with await KnowledgeBase.open(database) as other:
        service = CorrectionService(other, SearchIndex.build(await other.index_rows()), Limits())
        submission = Submission.model_validate(
            {
                "entity_id": entity_id,
                "change": AddAlias(name=name),
                "what_is_wrong": "A name people use is missing.",
                "source_url": "https://example.org/names",
            }
        )
        return (await service.submit(submission, "discord:1")).id


async def test_an_approval_with_the_cli_reaches_the_running_bots_autocomplete(
    db_copy: Path,
) -> None:
    # The periodic look is an hour away: only the change feed can bring the approval in time.
    async with DiscordDouble(guilds=[default_guild()]) as double:
        settings = settings_for(double, db_copy, index_refresh_seconds=3600)
        async with running_bot(double, settings) as bot:

            async def first_choice() -> str | None:
                handle = await double.autocomplete("country", {"name": "Azeristan Republic"})
                choices = await double.autocomplete_choices(handle)
                return choices[0]["value"] if choices else None

            assert await first_choice() != "AZ"
            assert bot.feed is not None
            bot.feed.poll = 0.01  # the version is read every 0.25 s by default
            number = await submit_alias(db_copy, "AZ", "Azeristan Republic")
            # The CLI's own connection commits; the bot waits meanwhile (run_cli).
            approved = run_cli("review", "approve", str(number), database=db_copy)
            assert approved.returncode == 0, approved.stderr
            for _ in range(1000):  # generous
                if await first_choice() == "AZ":
                    break
                await asyncio.sleep(0.01)
            assert await first_choice() == "AZ"
            assert bot.feed.available


class Unreachable:
    """What a connection's ``execute`` gives while the disk fails: an I/O error, awaited or
    entered (the knowledge base uses both)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        self.error = sqlite3.OperationalError("disk I/O error")

    def __await__(self) -> Generator[None, None, None]:
        raise self.error
        yield

    async def __aenter__(self) -> None:
        raise self.error

    async def __aexit__(self, *exc: object) -> None:
        return None


async def eventually(condition: Callable[[], bool], what: str) -> None:
    for _ in range(400):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def test_a_lost_database_keeps_lookups_answering_and_refuses_writes_in_one_message(
    db_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with (
        DiscordDouble(guilds=[default_guild()]) as double,
        running_bot(double, settings_for(double, db_copy)) as bot,
    ):
        before = await double.wait_for_response(
            await double.slash_command("country", {"name": "azerbajan"})
        )
        assert bot.feed is not None
        # Looks every 0.01 s and backs off to 0.05 s at most: the defaults (0.25 s, doubling up to
        # 30 s) would only make the test wait.
        bot.feed.poll, bot.feed.max_backoff = 0.01, 0.05
        for name in ("execute", "execute_fetchall", "executemany"):
            monkeypatch.setattr(bot.services.kb.db, name, Unreachable)
        await eventually(lambda: not bot.feed.available, "the feed noticing the lost database")  # type: ignore[union-attr]

        completion = await double.autocomplete("country", {"name": "azerb"})
        assert (await double.autocomplete_choices(completion))[0]["value"] == "AZ"
        again = await double.wait_for_response(
            await double.slash_command("country", {"name": "azerbajan"})
        )
        assert again["embeds"] == before["embeds"]  # the card kept from before

        refused = await double.slash_command(
            "config", {"moderator-role": MODERATOR_ROLE_ID}, user=OWNER_ID
        )
        callback = await double.wait_for_callback(refused)
        assert callback["data"]["content"] == (
            "The knowledge base cannot be reached just now, so nothing was changed. "
            "Please try again in a minute."
        )

        monkeypatch.undo()
        await eventually(lambda: bot.feed.available, "the feed finding the database again")  # type: ignore[union-attr]
        done = await double.slash_command(
            "config", {"moderator-role": MODERATOR_ROLE_ID}, user=OWNER_ID
        )
        answer = (await double.wait_for_callback(done))["data"]["content"]
        assert answer.startswith(f"Moderators: <@&{MODERATOR_ROLE_ID}>")
        settings = await bot.services.corrections.guild_settings(str(HOME_GUILD_ID))
        assert settings.moderator_role_id == str(MODERATOR_ROLE_ID)
