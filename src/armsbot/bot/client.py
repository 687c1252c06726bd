"""The discord.py client: settings, intents, command tree, error handling and sync."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from armsbot.app import Refresh, Services, settle_heap
from armsbot.bot import i18n
from armsbot.bot.cogs.corrections import CORRECTION_COGS
from armsbot.bot.cogs.corrections.review_posts import post_for_review
from armsbot.bot.cogs.lookup import LookupCog
from armsbot.bot.cogs.mentions import MentionsCog
from armsbot.bot.cogs.watch import WatchCog
from armsbot.bot.errors import database_failure, failure_text
from armsbot.bot.following import POLL_SECONDS, ChangeFeed
from armsbot.bot.installs import install_anywhere
from armsbot.bot.notifier import Notifier
from armsbot.bot.persistent import DYNAMIC_ITEMS
from armsbot.bot.replies import NO_MENTIONS, send_ephemeral
from armsbot.bot.review_posts import ReviewCatchUp
from armsbot.config import Settings

log = logging.getLogger("armsbot.bot")

PUSHED_POLL_SECONDS = 1.0  # the version read behind PostgreSQL's notifications


def point_discord_at(settings: Settings) -> None:
    """Send REST calls and the gateway connection where the settings say (a proxy, a double)."""
    discord.http.Route.BASE = settings.api_base_url.rstrip("/")
    if settings.gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


class ArmsTree(app_commands.CommandTree["ArmsBot"]):
    """The command tree, with one error handler for every command."""

    async def on_error(
        self, interaction: discord.Interaction[ArmsBot], error: app_commands.AppCommandError
    ) -> None:
        """Tell the user, ephemerally, and log what went wrong; the bot keeps running."""
        if isinstance(error, app_commands.TransformerError) and isinstance(error.value, str):
            message = i18n.text("error.too_long", interaction.locale, limit=100)
        elif database_failure(error):  # writes refused while the database is out of reach
            log.warning("command failed, the database is out of reach: %s", error)
            message = failure_text(error, interaction.locale)
        else:
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error("command /%s failed", command, exc_info=error)
            message = i18n.text("error.generic", interaction.locale)
        await send_ephemeral(interaction, message)


class ArmsBot(commands.AutoShardedBot):
    """armsbot on Discord: slash commands only, no message content, no pings.

    It runs the shards the settings name (``ARMSBOT_SHARD_COUNT``/``ARMSBOT_SHARD_IDS``), or as
    many as Discord recommends when they are unset.
    """

    def __init__(self, services: Services, settings: Settings, **options: Any) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            allowed_mentions=NO_MENTIONS,
            tree_cls=ArmsTree,
            help_command=None,
            shard_count=settings.shard_count,
            **options,
        )
        self.shard_ids = settings.shard_ids  # (Settings checked them against the count)
        self.services = services
        self.settings = settings
        self._refresher: asyncio.Task[None] | None = None
        self._notifier: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None  # PostgreSQL's notifications
        self.notifier: Notifier | None = None  # the watch notices (none when read-only)
        self.feed: ChangeFeed | None = None  # made when the bot starts (bot/following.py)
        self.review_lock = asyncio.Lock()  # see bot/review_posts.py
        self.review_catch_up: ReviewCatchUp | None = None

    async def install(self) -> None:
        """Add the cogs, the persistent buttons and the translator (no network needed)."""
        await self.add_cog(LookupCog(self))
        for cog in CORRECTION_COGS:
            await self.add_cog(cog(self))
        await self.add_cog(WatchCog(self))
        await self.add_cog(MentionsCog(self))
        install_anywhere(self.tree)  # the lookups, in DMs and servers without armsbot too
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        await self.tree.set_translator(i18n.FileTranslator())

    async def setup_hook(self) -> None:
        """Install everything and sync the commands, globally or to the development guilds."""
        await self.install()
        fallback = self.settings.index_refresh_seconds
        kb = self.services.kb
        pushed = kb.dialect == "postgresql"  # LISTEN/NOTIFY: the poll is only the fallback
        self.feed = ChangeFeed(
            kb.version, poll=PUSHED_POLL_SECONDS if pushed else POLL_SECONDS, fallback=fallback
        )
        self._refresher = asyncio.create_task(self._keep_index_fresh(), name="armsbot-refresh")
        if pushed:
            self._listener = asyncio.create_task(self._forward_pushes(), name="armsbot-listen")
        if not self.settings.read_only:  # notices and review posts are recorded in the database
            self.review_catch_up = ReviewCatchUp(self, post_for_review)
            self.notifier = Notifier(self)
            self._notifier = asyncio.create_task(self.notifier.run(), name="armsbot-notices")
        if not self.settings.sync_commands:
            return
        if self.settings.dev_guild_ids:
            for guild_id in self.settings.dev_guild_ids:
                guild = discord.Object(id=guild_id)
                self.tree.copy_global_to(guild=guild)
                synced = await self.tree.sync(guild=guild)
                log.info("synced %d commands to guild %s", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d global commands", len(synced))

    async def _keep_index_fresh(self) -> None:
        """Follow changes made outside the bot (``armsbot review approve``, imports, builds,
        other shards' processes) as the change feed reports them (bot/following.py)."""
        assert self.feed is not None
        async for _ in self.feed.changes():
            try:
                done = await self.services.refresh_index()
            except Exception:  # the database busy or being rebuilt: try again next time
                log.exception("could not refresh the search index")
                continue
            if done is not Refresh.UNCHANGED:
                log.info("search index %s from the database", done)
            if done is Refresh.REBUILT:
                settle_heap()  # the new index out of the collector's sight, as at start-up
            if self.review_catch_up is not None and self.is_ready():
                try:
                    await self.review_catch_up.run_once()
                except Exception:  # as above: the next change or look tries again
                    log.exception("could not post the corrections taken in elsewhere")

    async def _forward_pushes(self) -> None:
        """Wake the change feed on each commit another process announces (PostgreSQL NOTIFY)."""
        assert self.feed is not None
        while True:
            try:
                async for _ in self.services.kb.changes(
                    poll_seconds=self.settings.index_refresh_seconds
                ):
                    self.feed.notify()
            except Exception as exc:  # out of reach at the start: the feed's poll covers it
                log.warning("not listening for other processes' changes just now: %s", exc)
                await asyncio.sleep(PUSHED_POLL_SECONDS)

    async def close(self) -> None:
        """Stop following the database and sending notices, then disconnect."""
        for task in (self._listener, self._refresher, self._notifier):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await super().close()

    async def on_interaction(self, interaction: discord.Interaction[ArmsBot]) -> None:
        """Refuse clicks on armsbot ids that the clicked message does not carry.

        discord.py drops such interactions silently (a dynamic item must exist on the message);
        a crafted or replayed id deserves a clear answer, and it never reaches a handler.
        """
        if interaction.type is not discord.InteractionType.component or interaction.data is None:
            return
        custom_id = str(interaction.data.get("custom_id", ""))
        if not custom_id.startswith("armsbot:") or interaction.message is None:
            return
        carried = {
            getattr(child, "custom_id", None)
            for row in interaction.message.components
            for child in getattr(row, "children", [row])
        }
        if custom_id not in carried:
            log.warning("refused a click on %r, which its message does not carry", custom_id)
            await send_ephemeral(interaction, i18n.text("error.crafted", interaction.locale))

    async def on_ready(self) -> None:
        """Log that the bot is up."""
        log.info("ready as %s in %d servers", self.user, len(self.guilds))

    async def command_payload(self) -> list[dict[str, Any]]:
        """The JSON the bot registers with Discord: the public interface, translations included."""
        translator = self.tree.translator
        assert translator is not None
        return [
            await command.get_translated_payload(self.tree, translator)
            for command in self.tree.get_commands()
        ]
