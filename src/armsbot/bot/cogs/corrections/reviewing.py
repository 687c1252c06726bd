"""/review queue and /review show: moderators read the corrections that wait for them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from armsbot.bot.cogs.corrections.embeds import correction_embed
from armsbot.bot.cogs.corrections.review_posts import review_buttons
from armsbot.bot.markdown import escape, truncate
from armsbot.bot.permissions import Privilege, require
from armsbot.bot.replies import NO_MENTIONS, send_ephemeral
from armsbot.changes import CorrectionStatus

if TYPE_CHECKING:
    from armsbot.bot.client import ArmsBot

Interaction = discord.Interaction["ArmsBot"]
QUEUE_PAGE = 10


class ReviewingCog(commands.Cog):
    """The review queue and one correction in full."""

    def __init__(self, bot: ArmsBot) -> None:
        self.bot = bot

    # /review carries no default_permissions (see /revert); ``require`` decides who may use it.
    review = app_commands.Group(
        name=_("review"), description=_("Moderators: the corrections waiting for review")
    )

    @review.command(name=_("queue"), description=_("Pending corrections, oldest first"))
    @app_commands.rename(page=_("page"))
    @app_commands.describe(page=_("Page number"))
    async def review_queue(
        self, interaction: Interaction, page: app_commands.Range[int, 1, 1000] = 1
    ) -> None:
        """List pending corrections, ten a page."""
        if not await require(interaction, Privilege.MODERATOR):
            return
        services = self.bot.services.corrections
        total = await services.pending_count()
        rows = await services.pending(QUEUE_PAGE, (page - 1) * QUEUE_PAGE)
        pages = max(1, -(-total // QUEUE_PAGE))
        embed = discord.Embed(
            title=f"Review queue · page {page}/{pages} · {total} pending",
            colour=discord.Colour.gold(),
        )
        embed.description = (
            "\n".join(
                f"#{c.id} · {c.entity_id or 'new entry'} · {c.created_at[:16]} · "
                f"{escape(truncate(c.what_is_wrong, 80))}"
                for c in rows
            )
            or "Nothing is waiting."
        )
        await interaction.response.send_message(
            embed=embed, ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @review.command(name=_("show"), description=_("One correction, before and after"))
    @app_commands.rename(number=_("number"))
    @app_commands.describe(number=_("The correction's number"))
    async def review_show(
        self, interaction: Interaction, number: app_commands.Range[int, 1, 10**12]
    ) -> None:
        """Show one correction with Approve and Reject when it is pending."""
        if not await require(interaction, Privilege.MODERATOR):
            return
        services = self.bot.services.corrections
        correction = await services.get(number)
        if correction is None:
            await send_ephemeral(interaction, f"There is no correction #{number}.")
            return
        before, after = await services.before_after(correction)
        kwargs: dict[str, Any] = {
            "embed": correction_embed(correction, before, after, "Correction"),
            "ephemeral": True,
            "allowed_mentions": NO_MENTIONS,
        }
        if correction.status is CorrectionStatus.PENDING:
            kwargs["view"] = review_buttons(correction.id)
        await interaction.response.send_message(**kwargs)
