"""The command manifest: the JSON the bot registers with Discord, kept in ``commands/``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

from armsbot.app import Services
from armsbot.bot.client import ArmsBot
from armsbot.config import Settings
from armsbot.i18n import commands_dir


def manifest_path() -> Path:
    """Where the manifest lives in the checkout (and in the package)."""
    return commands_dir() / "commands.json"


async def command_payload() -> list[dict[str, Any]]:
    """The payload ``tree.sync()`` sends, computed without logging in."""
    # Building the commands needs no knowledge base: the cogs only read it when invoked.
    bot = ArmsBot(cast(Services, None), Settings(sync_commands=False))
    async with bot:  # sets up what closing a sharded client needs, and closes it
        await bot.install()
        return await bot.command_payload()


def render(payload: list[dict[str, Any]]) -> str:
    """The manifest file's text: stable key order so a diff shows only real changes."""
    return json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
