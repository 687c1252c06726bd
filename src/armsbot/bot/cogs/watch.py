"""/watch add, list and remove: a channel follows entries, and gets a notice when they change.

A server command (``guild_only``). Who may change a channel's watches is checked here, on the
server side: members with Manage Channels in that channel (Discord's permissions for the member
in the channel, as the interaction carries them). Anyone may list them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from armsbot.bot.entity_options import entity_choices, resolve_entity
from armsbot.bot.markdown import clip, escape, truncate
from armsbot.bot.notifier import watch_service
from armsbot.bot.replies import NO_MENTIONS, send_ephemeral
from armsbot.i18n import text
from armsbot.search.folding import fold
from armsbot.services.watch import WatchOutcome, WatchService

if TYPE_CHECKING:
    from armsbot.bot.client import ArmsBot

Interaction = discord.Interaction["ArmsBot"]
Entry = app_commands.Range[str, 1, 100]
LIST_LIMIT = 4000  # of an embed description's 4,096 characters
FIELD_LIMIT = 1024


class WatchCog(commands.Cog):
    """Channels that follow entries."""

    watch = app_commands.Group(
        name=_("watch"),
        description=_("Follow changes to entries in this channel"),
        guild_only=True,
    )

    def __init__(self, bot: ArmsBot) -> None:
        self.bot = bot
        self._service: WatchService | None = None

    @property
    def service(self) -> WatchService:
        """The watch service (made on first use: building the manifest opens no database)."""
        if self._service is None:
            self._service = watch_service(self.bot)
        return self._service

    def _name(self, entity_id: str) -> str:
        return escape(self.bot.services.index.entity_name(entity_id) or entity_id)

    async def _may_change(self, interaction: Interaction) -> bool:
        """Manage Channels in this channel, checked here whatever the client showed."""
        if interaction.guild_id is None:
            await send_ephemeral(interaction, text("watch.guild_only", interaction.locale))
            return False
        permissions = interaction.permissions
        if permissions.manage_channels or permissions.administrator:
            return True
        await send_ephemeral(interaction, text("watch.refused", interaction.locale))
        return False

    @watch.command(name=_("add"), description=_("Post a notice here when an entry's card changes"))
    @app_commands.rename(entity=_("entry"))
    @app_commands.describe(entity=_("The country, firm or law to follow"))
    @app_commands.autocomplete(entity=entity_choices)
    async def watch_add(self, interaction: Interaction, entity: Entry) -> None:
        """Make this channel follow an entry."""
        if not await self._may_change(interaction):
            return
        entity_id = resolve_entity(interaction, entity)
        if entity_id is None:
            await send_ephemeral(interaction, text("correct.pick_entry", interaction.locale))
            return
        bot_may = interaction.app_permissions
        if not (bot_may.view_channel and bot_may.send_messages):
            await send_ephemeral(interaction, text("watch.cannot_post", interaction.locale))
            return
        assert interaction.guild_id is not None
        result = await self.service.add(
            str(interaction.guild_id),
            str(interaction.channel_id),
            entity_id,
            f"discord:{interaction.user.id}",
        )
        locale = interaction.locale
        name = self._name(entity_id)
        replies = {
            WatchOutcome.ADDED: lambda: text(
                "watch.added", locale, entity=name, count=result.count, limit=result.limit
            ),
            WatchOutcome.ALREADY: lambda: text("watch.already", locale, entity=name),
            WatchOutcome.LIMIT: lambda: text("watch.limit", locale, limit=result.limit),
            WatchOutcome.UNKNOWN: lambda: text("correct.pick_entry", locale),
        }
        reply = replies[result.outcome]()
        if result.resumed:
            reply += "\n" + text("watch.resumed", locale)
        await send_ephemeral(interaction, reply)

    @watch.command(name=_("remove"), description=_("Stop posting notices about an entry here"))
    @app_commands.rename(entity=_("entry"))
    @app_commands.describe(entity=_("The entry this channel follows"))
    async def watch_remove(self, interaction: Interaction, entity: Entry) -> None:
        """Stop this channel following an entry."""
        if not await self._may_change(interaction):
            return
        assert interaction.guild_id is not None
        watched = await self._watched_here(interaction, entity)  # the entry may be gone
        entity_id = entity if watched else resolve_entity(interaction, entity)
        removed = entity_id is not None and await self.service.remove(
            str(interaction.guild_id),
            str(interaction.channel_id),
            entity_id,
            f"discord:{interaction.user.id}",
        )
        shown = self._name(entity_id) if entity_id else escape(truncate(entity, 80))
        key = "watch.removed" if removed else "watch.not_watched"
        await send_ephemeral(interaction, text(key, interaction.locale, entity=shown))

    async def _watched_here(self, interaction: Interaction, entity_id: str) -> bool:
        watches = await self.service.of_guild(str(interaction.guild_id))
        channel = str(interaction.channel_id)
        return any(w.entity_id == entity_id and w.channel_id == channel for w in watches.watches)

    @watch_remove.autocomplete("entity")
    async def _followed_here(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        if interaction.guild_id is None:
            return []
        watches = await self.service.of_guild(str(interaction.guild_id))
        wanted = fold(current)
        choices = []
        for watch in watches.watches:
            if watch.channel_id != str(interaction.channel_id):
                continue
            name = self.bot.services.index.entity_name(watch.entity_id) or watch.entity_id
            if wanted in fold(name) or wanted in fold(watch.entity_id):
                choices.append(app_commands.Choice(name=truncate(name, 100), value=watch.entity_id))
        return choices[:25]

    @watch.command(name=_("list"), description=_("What this server's channels follow"))
    async def watch_list(self, interaction: Interaction) -> None:
        """List the server's watches by channel, and the channels where notices are paused."""
        if interaction.guild_id is None:
            await send_ephemeral(interaction, text("watch.guild_only", interaction.locale))
            return
        locale = interaction.locale
        listed = await self.service.of_guild(str(interaction.guild_id))
        by_channel: dict[str, list[str]] = {}
        for watch in listed.watches:
            by_channel.setdefault(watch.channel_id, []).append(self._name(watch.entity_id))
        lines = [f"<#{channel}>: {', '.join(names)}" for channel, names in by_channel.items()]
        embed = discord.Embed(
            title=text("watch.list.title", locale, count=len(listed.watches), limit=listed.limit),
            description=clip("\n".join(lines), LIST_LIMIT) or text("watch.list.none", locale),
            colour=discord.Colour.dark_grey(),
        )
        problems = []
        for state in listed.channels:
            error = escape(truncate(state.last_error or "?", 120))
            key = "watch.list.disabled" if state.disabled_at else "watch.list.failing"
            problems.append(
                text(
                    key,
                    locale,
                    channel=f"<#{state.channel_id}>",
                    failures=state.failures,
                    error=error,
                    since=(state.disabled_at or "")[:16],
                )
            )
        if problems:
            embed.add_field(
                name=text("watch.list.problems", locale),
                value=clip("\n".join(problems), FIELD_LIMIT),
                inline=False,
            )
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
        )
