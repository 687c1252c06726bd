"""``armsbot run``: start the bot, and stop it cleanly on SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import signal

import discord

from armsbot.app import open_services, settle_heap
from armsbot.bot.client import ArmsBot, point_discord_at
from armsbot.config import Settings

log = logging.getLogger("armsbot")


class StartupError(Exception):
    """The bot cannot start; the message says what to fix."""


async def run_bot(settings: Settings) -> None:
    """Run until Discord closes the connection for good or a signal asks the bot to stop."""
    if settings.token is None or not settings.token.get_secret_value().strip():
        msg = "No bot token: set ARMSBOT_TOKEN (in the environment or a .env file)."
        raise StartupError(msg)
    point_discord_at(settings)
    # Before any login: a database that cannot be opened stops the process here, with its reason.
    services = await open_services(settings)
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()

    def request_stop(name: str) -> None:
        log.info("%s received: shutting down", name)
        stopping.set()

    # Everything after the open is inside the try: the database is closed however it ends (an
    # open connection's worker thread would keep the process from exiting).
    try:
        log.info(
            "knowledge base %s loaded: %d entities indexed", services.kb.where, len(services.index)
        )
        settle_heap()
        bot = ArmsBot(services, settings)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, request_stop, sig.name)
        async with bot:
            runner = asyncio.create_task(bot.start(settings.token.get_secret_value()))
            waiter = asyncio.create_task(stopping.wait())
            done, _ = await asyncio.wait({runner, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if runner in done:
                waiter.cancel()
                runner.result()  # re-raise a login failure
            else:
                await bot.close()
                await asyncio.wait_for(runner, timeout=10)
    except discord.LoginFailure as exc:
        msg = f"Discord rejected the token ({exc}). Check ARMSBOT_TOKEN."
        raise StartupError(msg) from None
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await services.close()
        log.info("stopped")
