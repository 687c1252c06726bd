"""/config: a home server's moderator role and review channel."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from armsbot.bot.permissions import Privilege, actor_id, require
from armsbot.bot.replies import send_ephemeral
from armsbot.i18n import text

if TYPE_CHECKING:
    from armsbot.bot.client import ArmsBot

Interaction = discord.Interaction["ArmsBot"]


class ServerSettingsCog(commands.Cog):
    """Moderation settings of a home server."""

    def __init__(self, bot: ArmsBot) -> None:
        self.bot = bot

    @app_commands.command(
        name=_("config"), description=_("Set the moderator role and the review channel")
    )
    @app_commands.rename(moderator_role=_("moderator-role"), review_channel=_("review-channel"))
    @app_commands.describe(
        moderator_role=_("Members with this role review corrections"),
        review_channel=_("Where new corrections are posted"),
    )
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def config(
        self,
        interaction: Interaction,
        moderator_role: discord.Role | None = None,
        review_channel: discord.TextChannel | None = None,
    ) -> None:
        """Configure moderation for a home server (Manage Server there)."""
        if not await require(interaction, Privilege.ADMIN):
            return
        assert interaction.guild_id is not None
        settings = await self.bot.services.corrections.configure(
            str(interaction.guild_id),
            actor_id(interaction.user),
            moderator_role_id=str(moderator_role.id) if moderator_role else None,
            review_channel_id=str(review_channel.id) if review_channel else None,
        )
        role = (
            f"<@&{settings.moderator_role_id}>" if settings.moderator_role_id else "Manage Server"
        )
        channel = f"<#{settings.review_channel_id}>" if settings.review_channel_id else "—"
        await send_ephemeral(
            interaction, text("config.done", interaction.locale, role=role, channel=channel)
        )
