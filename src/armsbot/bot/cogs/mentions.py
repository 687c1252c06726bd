"""The message command "Look up in armsbot": what a message names, each with a button to its card.

Ephemeral: only the member who asked sees the list, wherever the message is (the command is
installable to a user's account too, see :mod:`armsbot.bot.installs`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from armsbot.bot.components import CardButton
from armsbot.bot.markdown import clip, escape, truncate
from armsbot.bot.replies import NO_MENTIONS, send_ephemeral
from armsbot.i18n import text
from armsbot.models import Kind
from armsbot.search.mentions import Mention, mentions

if TYPE_CHECKING:
    from armsbot.bot.client import ArmsBot

Interaction = discord.Interaction["ArmsBot"]
MESSAGE_COMMAND = "Look up in armsbot"
MAX_BUTTONS = 25  # 5 rows of 5
LIST_LIMIT = 1900  # of a message's 2,000 characters


def message_text(message: discord.Message) -> str:
    """What a message says: its content and its embeds' text (a news bot's post, a card)."""
    parts = [message.content]
    for embed in message.embeds:
        parts += [embed.title or "", embed.description or ""]
        parts += [f"{field.name}\n{field.value}" for field in embed.fields]
    return "\n".join(part for part in parts if part)


def mentions_text(found: list[Mention], locale: object) -> str:
    """The list: countries, firms, laws, then products with the firm that makes each."""
    groups: dict[str, list[str]] = {"country": [], "firm": [], "law": [], "product": []}
    for mention in found:
        match = mention.match
        name = escape(truncate(match.name, 100))
        if mention.product:
            product = escape(truncate(match.matched, 100))
            groups["product"].append(
                text("mentions.product_of", locale, product=product, firm=name)
            )
        else:
            groups[match.kind.value].append(name)
    lines = [text("mentions.title", locale)]
    lines += [
        text(f"mentions.{group}", locale, names=", ".join(names))
        for group, names in groups.items()
        if names
    ]
    return clip("\n".join(lines), LIST_LIMIT)


class MentionsCog(commands.Cog):
    """Looking up what a message names."""

    def __init__(self, bot: ArmsBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name=_(MESSAGE_COMMAND), callback=self.look_up)
        bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        """Take the message command out of the tree with the cog."""
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    async def look_up(self, interaction: Interaction, message: discord.Message) -> None:
        """List the countries, firms, laws and products the message names, with buttons."""
        found = mentions(self.bot.services.index, message_text(message))
        if not found:
            await send_ephemeral(interaction, text("mentions.none", interaction.locale))
            return
        view = discord.ui.View(timeout=None)
        for mention in found[:MAX_BUTTONS]:
            match = mention.match
            label = match.name if match.kind is not Kind.COUNTRY else f"{match.name} ({match.id})"
            view.add_item(CardButton(match.id, label))
        await interaction.response.send_message(
            mentions_text(found, interaction.locale),
            view=view,
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )
