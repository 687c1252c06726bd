"""Who may moderate this deployment's knowledge base, decided on the server side in one place.

The knowledge base is shared by every server the bot is in, so only these may change it:
the application's owners (and ``ARMSBOT_OWNER_IDS``), and members of a home server
(``ARMSBOT_HOME_GUILD_IDS``) who hold its configured moderator role or have Manage Server there.
Manage Server counts whether or not a role is set: such a member may set the moderator role to
one of their own roles anyway, so pretending otherwise would protect nothing. Discord's
``default_permissions`` on a command is only a hint to clients (and the moderation commands carry
none, so role moderators see them); every command, button and modal calls these checks itself.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING

import discord

from armsbot.bot.replies import send_ephemeral
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
    if interaction.permissions.manage_guild or interaction.permissions.administrator:
        return Privilege.ADMIN  # which includes moderating, with or without a role set
    settings = await bot.services.corrections.guild_settings(str(guild_id))
    role = settings.moderator_role_id
    if role is not None and any(str(held.id) == role for held in user.roles):
        return Privilege.MODERATOR
    return Privilege.NONE


async def require(interaction: discord.Interaction[ArmsBot], level: Privilege) -> bool:
    """True when the user holds ``level``; otherwise answer with an ephemeral refusal."""
    if await privilege(interaction) >= level:
        return True
    key = "mod.refused_config" if level >= Privilege.ADMIN else "mod.refused"
    await send_ephemeral(interaction, text(key, interaction.locale))
    return False


def member_label(user_id: str) -> str:
    """A recorded actor as Discord shows it (a mention renders the name and never pings here)."""
    kind, _, ident = user_id.partition(":")
    return f"<@{ident}>" if kind == "discord" and ident.isdigit() else user_id
