"""What a member is told when a command, a form or a button fails: the database out of reach
gets its own message (nothing was changed; try again), anything else the generic one."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import discord

from armsbot.i18n import text
from armsbot.storage.connection import DatabaseUnavailable

log = logging.getLogger("armsbot.bot")


def database_failure(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) is the database failing rather than a bug.

    SQLite's operational errors (I/O, a lock held too long, a closed connection) and
    ``DatabaseUnavailable``; a PostgreSQL driver's connection errors are named by their module.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DatabaseUnavailable | sqlite3.OperationalError):
            return True
        kind = type(current)
        if kind.__module__.startswith("asyncpg") and "Connection" in kind.__name__:
            return True
        current = getattr(current, "original", None) or current.__cause__ or current.__context__
    return False


def failure_text(error: BaseException, locale: object) -> str:
    """The message for a failure: the database's own, or the generic one."""
    return text("error.database" if database_failure(error) else "error.generic", locale)


async def report_failure(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """Log a failure and tell the member, ephemerally, whether or not they were answered."""
    if database_failure(error):
        log.warning("the database failed during an interaction: %s", error)
    else:
        log.error("an interaction failed", exc_info=error)
    message = failure_text(error, interaction.locale)
    allowed = discord.AllowedMentions.none()
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True, allowed_mentions=allowed)
        else:
            await interaction.response.send_message(
                message, ephemeral=True, allowed_mentions=allowed
            )
    except discord.HTTPException:
        log.warning("could not tell the member that the interaction failed")
