"""/history and /revert: the revisions of an entry, and a moderator undoing one of them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from armsbot.bot.components import show_history
from armsbot.bot.entity_options import entity_choices, resolve_entity
from armsbot.bot.markdown import escape
from armsbot.bot.permissions import Privilege, actor_id, require
from armsbot.bot.replies import send_ephemeral
from armsbot.i18n import text

if TYPE_CHECKING:
    from armsbot.bot.client import ArmsBot

Interaction = discord.Interaction["ArmsBot"]


class HistoryCog(commands.Cog):
    """An entry's history, and undoing a revision."""

    def __init__(self, bot: ArmsBot) -> None:
        self.bot = bot

    @app_commands.command(
        name=_("history"), description=_("The changes made to an entry, who made them and why")
    )
    @app_commands.rename(entity=_("entry"))
    @app_commands.describe(entity=_("The country, firm or law"))
    @app_commands.autocomplete(entity=entity_choices)
    async def history(
        self, interaction: Interaction, entity: app_commands.Range[str, 1, 100]
    ) -> None:
        """List an entry's revisions."""
        entity_id = resolve_entity(interaction, entity)
        if entity_id is None:
            await send_ephemeral(interaction, text("correct.pick_entry", interaction.locale))
            return
        await show_history(interaction, entity_id, 0, edit=False)

    # /revert carries no default_permissions (nor does /review): Discord would hide it from role
    # moderators who lack that permission until an admin changed the integration's settings.
    # ``require`` decides who may use it.
    @app_commands.command(
        name=_("revert"), description=_("Moderators: undo a revision of an entry")
    )
    @app_commands.rename(entity=_("entry"), revision=_("revision"), reason=_("reason"))
    @app_commands.describe(
        entity=_("The entry"), revision=_("The revision to undo"), reason=_("Why")
    )
    @app_commands.autocomplete(entity=entity_choices)
    async def revert(
        self,
        interaction: Interaction,
        entity: app_commands.Range[str, 1, 100],
        revision: app_commands.Range[int, 1, 1_000_000],
        reason: app_commands.Range[str, 1, 500],
    ) -> None:
        """Restore the entry to its state before that revision, as a new revision."""
        if not await require(interaction, Privilege.MODERATOR):
            return
        entity_id = resolve_entity(interaction, entity)
        if entity_id is None:
            await send_ephemeral(interaction, text("correct.pick_entry", interaction.locale))
            return
        decision = await self.bot.services.corrections.revert(
            entity_id, revision, actor_id(interaction.user), reason
        )
        await send_ephemeral(interaction, escape(decision.message))
