"""Who may moderate this deployment's knowledge base, decided on the server side in one place.

The knowledge base is shared by every server the bot is in, so only these may change it:
the application's owners (and ``ARMSBOT_OWNER_IDS``), and members of a home server
(``ARMSBOT_HOME_GUILD_IDS``) who hold its configured moderator role — or, where no role is
configured, who have Manage Server there. Discord's ``default_permissions`` on a command is only a
hint to clients; every command, button and modal calls these checks itself.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

import discord

from armsbot.i18n import text

if TYPE_CHECKING:
    from armsbot.bot.client import ArmsBot


class Privilege(IntEnum):
    """The privilege ladder: each level includes the ones below it."""

    NONE = 0
    MODERATOR = 1
    ADMIN = 2  # may configure the moderator role and review channel
    OWNER = 3


def actor_id(user: discord.abc.User) -> str:
    """How a Discord user is recorded as the author of an action."""
    return f"discord:{user.id}"


async def privilege(interaction: discord.Interaction[ArmsBot]) -> Privilege:
    """The highest privilege the interaction's user holds for this deployment."""
    bot = interaction.client
    user = interaction.user
    if user.id in bot.settings.owner_ids or await bot.is_owner(user):
        return Privilege.OWNER
    guild_id = interaction.guild_id
    if guild_id is None or guild_id not in bot.settings.home_guild_ids:
        return Privilege.NONE
    if not isinstance(user, discord.Member):
        return Privilege.NONE
    manages = interaction.permissions.manage_guild or interaction.permissions.administrator
    settings = await bot.services.corrections.guild_settings(str(guild_id))
    if settings.moderator_role_id is None:
        has_role = manages
    else:
        has_role = any(str(role.id) == settings.moderator_role_id for role in user.roles)
    if manages:
        return Privilege.ADMIN
    return Privilege.MODERATOR if has_role else Privilege.NONE


async def require(interaction: discord.Interaction[ArmsBot], level: Privilege) -> bool:
    """True when the user holds ``level``; otherwise answer with an ephemeral refusal."""
    if await privilege(interaction) >= level:
        return True
    from armsbot.bot.client import send_ephemeral  # noqa: PLC0415 - avoid an import cycle

    key = "mod.refused_config" if level >= Privilege.ADMIN else "mod.refused"
    await send_ephemeral(interaction, text(key, interaction.locale))
    return False


def member_label(user_id: str) -> str:
    """A recorded actor as Discord shows it (a mention renders the name and never pings here)."""
    kind, _, ident = user_id.partition(":")
    return f"<@{ident}>" if kind == "discord" and ident.isdigit() else user_id
