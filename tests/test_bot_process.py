"""`armsbot run` as its own process against the Discord API double."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.bot_harness import embeds_text, run_environment
from tests.discord_double import HOME_GUILD_ID, DiscordDouble, default_guild

pytestmark = pytest.mark.slow  # multi-process: `armsbot run` as its own process


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble(guilds=[default_guild()]) as running:
        yield running


def bot_env(double: DiscordDouble, database: Path, token: str | None) -> dict[str, str]:
    env = run_environment(double, database, home_guild_ids=str(HOME_GUILD_ID))
    if token is not None:
        env["ARMSBOT_TOKEN"] = token
    return env


async def start(
    double: DiscordDouble, database: Path, token: str | None, **settings: str
) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "armsbot",
        "run",
        env=bot_env(double, database, token) | settings,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=database.parent,
    )


async def test_run_answers_and_stops_cleanly_on_sigterm(
    double: DiscordDouble, db_copy: Path
) -> None:
    process = await start(double, db_copy, double.token)
    assert process.stderr is not None
    lines: list[str] = []

    async def read_until(text: str) -> None:
        while not any(text in line for line in lines):
            line = await process.stderr.readline()  # type: ignore[union-attr]
            assert line, f"armsbot run exited before logging {text!r}: {lines}"
            lines.append(line.decode())

    try:
        await asyncio.wait_for(read_until("ready as"), timeout=60)
        handle = await double.slash_command("country", {"name": "azerbajan"})
        message = await double.wait_for_response(handle, timeout=15)
        assert "NSO Group" in embeds_text(message)
    finally:
        process.send_signal(signal.SIGTERM)
        _, rest = await asyncio.wait_for(process.communicate(), timeout=30)
    log = "".join(lines) + rest.decode()
    assert process.returncode == 0, log
    assert "synced" in log
    assert "SIGTERM received: shutting down" in log
    assert log.rstrip().endswith("stopped")
    assert double.unknown_requests == []


@pytest.mark.parametrize(
    ("token", "message"), [(None, "No bot token"), ("wrong-token", "Discord rejected the token")]
)
async def test_a_missing_or_rejected_token_is_a_clear_error(
    double: DiscordDouble, db_copy: Path, token: str | None, message: str
) -> None:
    process = await start(double, db_copy, token)
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2
    assert message in err.decode()
    assert "Traceback" not in err.decode()
