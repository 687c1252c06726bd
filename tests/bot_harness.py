"""Running the real armsbot client against the Discord API double, in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import yarl

from armsbot.app import Services, open_services
from armsbot.bot.client import ArmsBot, point_discord_at
from armsbot.config import Settings
from tests.discord_double import (
    AWAY_CHANNEL_ID,
    AWAY_GUILD_ID,
    HOME_GUILD_ID,
    OUTSIDER_ID,
    DiscordDouble,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    default_bot_user,
    default_users,
    wait_for_bot_tasks,
)

AWAY_ADMIN_ROLE_ID = 1_100_000_000_000_000_299
ADMINISTRATOR = discord.Permissions(administrator=True).value


def away_guild_with_its_own_admin() -> FakeGuild:
    """Another server the bot is in, where OUTSIDER is an administrator (not a home server)."""
    bot = default_bot_user()
    users = default_users()
    return FakeGuild(
        id=AWAY_GUILD_ID,
        name="Away",
        owner_id=OUTSIDER_ID,
        channels=[FakeChannel(AWAY_CHANNEL_ID, "lobby")],
        roles=[
            FakeRole(AWAY_GUILD_ID, "@everyone", 0),
            FakeRole(AWAY_ADMIN_ROLE_ID, "Admin", ADMINISTRATOR, position=2),
        ],
        members=[
            FakeMember(users["outsider"], [AWAY_ADMIN_ROLE_ID]),
            FakeMember(users["member"]),
            FakeMember(bot),
        ],
    )


def run_environment(double: DiscordDouble, database: Path | str, **settings: str) -> dict[str, str]:
    """The environment of an ``armsbot run`` process against ``double`` on ``database``: this
    process's own, without its ``ARMSBOT_*`` settings, and ``ARMSBOT_<NAME>`` for each of
    ``settings`` (``shard_ids="0"`` is ``ARMSBOT_SHARD_IDS=0``)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARMSBOT_")}
    env |= {
        "ARMSBOT_DATABASE": str(database),
        "ARMSBOT_API_BASE_URL": double.rest_base,
        "ARMSBOT_GATEWAY_URL": double.gateway_url,
    }
    return env | {f"ARMSBOT_{name.upper()}": value for name, value in settings.items()}


def settings_for(double: DiscordDouble, database: Path | str, **extra: Any) -> Settings:
    """Settings that point the bot at the double."""
    return Settings(
        database=database,
        token=double.token,
        api_base_url=double.rest_base,
        gateway_url=double.gateway_url,
        home_guild_ids=[HOME_GUILD_ID],
        **extra,
    )


@contextlib.asynccontextmanager
async def running_bot(double: DiscordDouble, settings: Settings) -> AsyncIterator[ArmsBot]:
    """Start armsbot against the double, wait until it is ready, and stop it afterwards."""
    saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    point_discord_at(settings)
    services: Services = await open_services(settings)
    bot = ArmsBot(services, settings, guild_ready_timeout=0.05)
    assert settings.token is not None
    runner = asyncio.create_task(bot.start(settings.token.get_secret_value()), name="armsbot-test")
    try:
        async with asyncio.timeout(15):
            while not bot.is_ready():
                if runner.done():
                    runner.result()
                await asyncio.sleep(0.01)
        yield bot
    finally:
        await wait_for_bot_tasks(timeout=10)
        await bot.close()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(runner, timeout=10)
        await services.close()
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
        assert isinstance(saved[1], yarl.URL | str)


def embeds_text(message: dict[str, Any]) -> str:
    """Every visible text of a message's embeds, joined (for content assertions)."""
    parts = [message.get("content") or ""]
    for embed in message.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f"{f['name']}\n{f['value']}" for f in embed.get("fields") or []]
        parts.append((embed.get("footer") or {}).get("text") or "")
    # Undo markdown escapes so assertions read like what Discord shows.
    return re.sub(r"\\(.)", r"\1", "\n".join(parts))


def button_ids(message: dict[str, Any]) -> list[str]:
    """The custom ids of a message's buttons, in order."""
    return [
        component["custom_id"]
        for row in message.get("components") or []
        for component in row.get("components") or []
        if "custom_id" in component
    ]
