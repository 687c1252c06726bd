"""Three `armsbot run` processes, shards 0, 1 and 2 of 3, on one knowledge base (on SQLite and
on PostgreSQL).

An approval made in one process reaches the other two's autocomplete; a correction taken in by
another connection is posted once per home server, by the process holding it; fifteen racing
approvals of one correction through the three processes apply it once; a process killed with
SIGKILL leaves the others answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from armsbot.search.index import SearchIndex
from armsbot.services.corrections import CorrectionService, Limits
from armsbot.storage.knowledge_base import KnowledgeBase
from tests.bot_harness import button_ids, run_environment
from tests.discord_double import (
    HOME_CHANNEL_ID,
    HOME_GUILD_ID,
    MODERATOR_ID,
    MODERATOR_ROLE_ID,
    OWNER_ID,
    DiscordDouble,
    default_guild,
    guild_on_shard,
    shard_of,
)
from tests.test_following import submit_alias

# Slow: three `armsbot run` processes of their own (the second stage).
pytestmark = pytest.mark.slow

COUNT = 3
NEW_NAME = "Azeristan Republic"


HOME_SHARD = shard_of(HOME_GUILD_ID, COUNT)
OTHERS = {s: guild_on_shard(s, COUNT) for s in range(COUNT) if s != HOME_SHARD}


HOME_GUILDS = [HOME_GUILD_ID, *(guild.id for guild in OTHERS.values())]  # one on each shard


async def start(
    double: DiscordDouble, database: Path | str, folder: Path, shard: int
) -> asyncio.subprocess.Process:
    env = run_environment(
        double,
        database,
        token=double.token or "",
        home_guild_ids=",".join(map(str, HOME_GUILDS)),
        shard_count=str(COUNT),
        shard_ids=str(shard),
        sync_commands="true" if shard == 0 else "false",
        index_refresh_seconds="3600",  # only the change feed can be fast enough
    )
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "armsbot",
        "run",
        env=env,
        cwd=folder,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def wait_ready(process: asyncio.subprocess.Process, log: list[str]) -> None:
    assert process.stderr is not None
    while not any("ready as" in line for line in log):
        line = await process.stderr.readline()
        assert line, f"armsbot run exited before it was ready: {''.join(log)}"
        log.append(line.decode(errors="replace"))


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    guilds = [default_guild(), *OTHERS.values()]
    async with DiscordDouble(guilds=guilds, shard_count=COUNT, interaction_timeout=None) as running:
        yield running


@pytest.fixture
async def processes(
    double: DiscordDouble, database: Path | str, tmp_path: Path
) -> AsyncIterator[dict[int, asyncio.subprocess.Process]]:
    started: dict[int, asyncio.subprocess.Process] = {}
    logs: dict[int, list[str]] = {s: [] for s in range(COUNT)}
    drains: list[asyncio.Task[None]] = []
    try:
        for shard in range(COUNT):
            started[shard] = await start(double, database, tmp_path, shard)
        async with asyncio.timeout(120):
            await asyncio.gather(*(wait_ready(started[s], logs[s]) for s in started))
        for shard, process in started.items():
            drains.append(asyncio.create_task(drain(process, logs[shard])))
        yield started
    finally:
        for process in started.values():
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
        for process in started.values():
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
        for task in drains:
            task.cancel()


async def drain(process: asyncio.subprocess.Process, log: list[str]) -> None:
    assert process.stderr is not None
    while line := await process.stderr.readline():
        log.append(line.decode(errors="replace"))


async def first_choice(double: DiscordDouble, guild_id: int) -> str | None:
    handle = await double.autocomplete("country", {"name": NEW_NAME}, guild_id=guild_id)
    choices = await double.autocomplete_choices(handle, timeout=15)
    return str(choices[0]["value"]) if choices else None


async def test_an_approval_in_one_process_reaches_the_others_and_a_killed_one_stops_nobody(
    double: DiscordDouble, database: Path | str, processes: dict[int, asyncio.subprocess.Process]
) -> None:
    assert sorted(double.shard_sessions()) == [(s, COUNT) for s in range(COUNT)]
    configured = await double.slash_command(
        "config",
        {"moderator-role": MODERATOR_ROLE_ID, "review-channel": HOME_CHANNEL_ID},
        user=OWNER_ID,
    )
    assert "review channel" in (await double.wait_for_callback(configured, 15))["data"]["content"]
    for guild in OTHERS.values():
        assert await first_choice(double, guild.id) != "AZ"

    # Taken in by another connection: the process holding the home server posts it, once.
    number = await submit_alias(database, "AZ", NEW_NAME)
    post = await double.wait_for_channel_message(
        HOME_CHANNEL_ID, lambda m: bool(m.get("embeds")), timeout=30
    )
    assert button_ids(post)[0] == f"armsbot:review:approve:{number}"
    click = await double.click(post, f"armsbot:review:approve:{number}", user=MODERATOR_ID)
    assert "is applied" in (await double.wait_for_callback(click, 15))["data"]["content"]

    # Every other process's autocomplete finds the new name (generous: the feed looks 4 times a
    # second; bench/ measures the delay).
    for guild in OTHERS.values():
        for _ in range(100):
            if await first_choice(double, guild.id) == "AZ":
                break
            await asyncio.sleep(0.1)
        assert await first_choice(double, guild.id) == "AZ", guild.name
    posts = [m for m in double.channel_messages(HOME_CHANNEL_ID) if m.get("embeds")]
    assert len(posts) == 1

    # SIGKILL one process: the others keep answering in their servers.
    killed, *alive = sorted(OTHERS)
    processes[killed].kill()
    await processes[killed].wait()
    for shard in alive:
        assert await first_choice(double, OTHERS[shard].id) == "AZ"
    at_home = await double.autocomplete("country", {"name": NEW_NAME})
    assert (await double.autocomplete_choices(at_home, timeout=15))[0]["value"] == "AZ"


async def test_fifteen_racing_approvals_through_three_processes_apply_once(
    double: DiscordDouble, database: Path | str, processes: dict[int, asyncio.subprocess.Process]
) -> None:
    # A review channel in each home server, each held by another process.
    channels = {HOME_GUILD_ID: HOME_CHANNEL_ID} | {g.id: g.id + 1 for g in OTHERS.values()}
    for guild_id, channel_id in channels.items():
        handle = await double.slash_command(
            "config", {"review-channel": channel_id}, user=OWNER_ID, guild_id=guild_id
        )
        assert "review channel" in (await double.wait_for_callback(handle, 15))["data"]["content"]

    number = await submit_alias(database, "AZ", NEW_NAME)
    posts = [
        await double.wait_for_channel_message(channel, lambda m: bool(m.get("embeds")), timeout=30)
        for channel in channels.values()
    ]
    approve = f"armsbot:review:approve:{number}"
    clicks = [await double.click(post, approve, user=OWNER_ID) for post in posts for _ in range(5)]
    answers = [(await double.wait_for_callback(click, 30))["data"]["content"] for click in clicks]
    applied = [answer for answer in answers if "is applied" in answer]
    assert len(applied) == 1, answers
    assert sum(f"#{number} was already approved" in answer for answer in answers) == 14, answers

    async with await KnowledgeBase.open(database) as kb:
        history = await CorrectionService(
            kb, SearchIndex.build(await kb.index_rows()), Limits()
        ).history("AZ")
    made = [revision for revision in history if revision.correction_id == number]
    assert len(made) == 1
    for channel in channels.values():  # one post per home server, never a second
        assert len([m for m in double.channel_messages(channel) if m.get("embeds")]) == 1
