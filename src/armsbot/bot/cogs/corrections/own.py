"""/mycorrections: a member's own corrections and their status, and a button to withdraw each
pending one (which survives restarts and is checked against the clicker on every click)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from armsbot.bot.cogs.corrections.embeds import decision_text
from armsbot.bot.cogs.corrections.review_posts import refresh_review_posts
from armsbot.bot.markdown import truncate
from armsbot.bot.permissions import actor_id
from armsbot.bot.replies import NO_MENTIONS, send_ephemeral
from armsbot.changes import CorrectionStatus
from armsbot.i18n import text
from armsbot.services.corrections import Outcome

if TYPE_CHECKING:
    from armsbot.bot.client import ArmsBot

Interaction = discord.Interaction["ArmsBot"]
LISTED = 20  # the newest corrections /mycorrections lists
LIST_LIMIT = 1900  # of a message's 2,000 characters
MAX_WITHDRAW_BUTTONS = 20  # four rows of five, under Discord's 25 components


class WithdrawButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"armsbot:withdraw:(?P<id>\d{1,12})",
):
    """Withdraws one pending correction of the member who clicks (the service checks that it is
    theirs, so a crafted or forwarded id withdraws nothing of anyone else's)."""

    def __init__(self, correction_id: int, label: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"armsbot:withdraw:{correction_id}",
            )
        )
        self.correction_id = correction_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> WithdrawButton:
        """Rebuild the button from a click, after a restart too."""
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(int(match["id"]), label or "")

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        """Withdraw, then show the list again with the outcome above it."""
        bot = interaction.client
        decision = await bot.services.corrections.withdraw(
            self.correction_id, actor_id(interaction.user)
        )
        outcome = decision_text(decision, interaction.locale)
        if decision.outcome is Outcome.WITHDRAWN and decision.correction is not None:
            await refresh_review_posts(bot, decision.correction)
        listing, view = await own_corrections(bot, actor_id(interaction.user), interaction.locale)
        if listing is None:
            await send_ephemeral(interaction, outcome)
            return
        content = truncate(f"{outcome}\n\n{listing}", LIST_LIMIT)
        await interaction.response.edit_message(content=content, view=view)


async def own_corrections(
    bot: ArmsBot, submitter_id: str, locale: discord.Locale
) -> tuple[str | None, discord.ui.View | None]:
    """A member's newest corrections, one line each, and a withdraw button per pending one
    (None when they have sent none)."""
    services = bot.services.corrections
    rows = await services.of_submitter(submitter_id, LISTED)
    if not rows:
        return None, None
    lines = []
    for c in rows:
        status = f"**{c.status}**"
        superseding = await services.superseded_by(c)
        if superseding is not None:
            status += f" by #{superseding}"
        lines.append(f"#{c.id} · {c.entity_id or 'new entry'} · {status} · {c.created_at[:10]}")
    pending = [c.id for c in rows if c.status is CorrectionStatus.PENDING]
    view = None
    if pending:
        view = discord.ui.View(timeout=None)
        for number in pending[:MAX_WITHDRAW_BUTTONS]:
            view.add_item(WithdrawButton(number, text("correct.withdraw", locale, number=number)))
    return truncate("\n".join(lines), LIST_LIMIT), view


class OwnCorrectionsCog(commands.Cog):
    """A member's own corrections."""

    def __init__(self, bot: ArmsBot) -> None:
        self.bot = bot

    @app_commands.command(
        name=_("mycorrections"), description=_("Your corrections and their status")
    )
    async def my_corrections(self, interaction: Interaction) -> None:
        """List the member's own corrections (ephemeral), with a withdraw button per pending
        one."""
        listing, view = await own_corrections(
            self.bot, actor_id(interaction.user), interaction.locale
        )
        if listing is None:
            await send_ephemeral(interaction, text("correct.none_yet", interaction.locale))
            return
        kwargs: dict[str, Any] = {"ephemeral": True, "allowed_mentions": NO_MENTIONS}
        if view is not None:
            kwargs["view"] = view
        await interaction.response.send_message(listing, **kwargs)
