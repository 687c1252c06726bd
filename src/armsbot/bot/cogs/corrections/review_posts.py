"""Review posts: a new correction posted to each home server's review channel, its Approve and
Reject buttons (which survive restarts), and the outcome shown on the posts and told by DM."""

from __future__ import annotations

import logging
import re
import secrets
from typing import TYPE_CHECKING, Any

import discord

from armsbot.bot.cogs.corrections.embeds import correction_embed, decision_text
from armsbot.bot.errors import database_failure, report_failure
from armsbot.bot.markdown import truncate
from armsbot.bot.permissions import Privilege, actor_id, require
from armsbot.bot.replies import NO_MENTIONS, send_ephemeral
from armsbot.bot.review_posts import held_home_guilds, posting_lock, review_nonce
from armsbot.i18n import text
from armsbot.services.corrections import Decision, Outcome
from armsbot.storage.corrections import CorrectionRow

if TYPE_CHECKING:
    from armsbot.bot.client import ArmsBot

log = logging.getLogger("armsbot.bot.corrections")

Interaction = discord.Interaction["ArmsBot"]
REJECT_TOKEN_BYTES = 12  # 16 characters in the form's custom id


class ReviewButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"armsbot:review:(?P<action>approve|reject):(?P<id>\d{1,12})",
):
    """Approve or Reject on a review post; survives restarts, checked on every click."""

    def __init__(self, action: str, correction_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Approve" if action == "approve" else "Reject",
                style=discord.ButtonStyle.success
                if action == "approve"
                else discord.ButtonStyle.danger,
                custom_id=f"armsbot:review:{action}:{correction_id}",
            )
        )
        self.action = action
        self.correction_id = correction_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ReviewButton:
        """Rebuild the button from a click (a crafted id is checked like any other)."""
        return cls(match["action"], int(match["id"]))

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        """Check the clicker, then approve, or ask a rejection's reason."""
        if not await require(interaction, Privilege.MODERATOR):
            return
        if self.action == "reject":
            await interaction.response.send_modal(
                RejectModal(self.correction_id, interaction.user.id)
            )
            return
        try:
            decision = await interaction.client.services.corrections.approve(
                self.correction_id, actor_id(interaction.user)
            )
        except Exception as exc:
            if not database_failure(exc):
                raise
            await report_failure(interaction, exc)
            return
        await announce_decision(interaction, decision)


def review_buttons(correction_id: int) -> discord.ui.View:
    """Approve and Reject for one pending correction."""
    view = discord.ui.View(timeout=None)
    view.add_item(ReviewButton("approve", correction_id))
    view.add_item(ReviewButton("reject", correction_id))
    return view


class RejectModal(discord.ui.Modal, title="Reject correction"):
    """Asks the moderator why a correction is rejected; only the moderator who opened it may
    submit it.

    Its custom id carries a token made for this opening, so nobody can address the form by
    guessing (a modified client can submit any custom id), and a submission by anyone but the
    opener is refused and leaves the form open.
    """

    reason: discord.ui.TextInput[RejectModal] = discord.ui.TextInput(
        label="Why is it rejected?", style=discord.TextStyle.paragraph, max_length=1000
    )

    def __init__(self, correction_id: int, opener_id: int) -> None:
        token = secrets.token_urlsafe(REJECT_TOKEN_BYTES)
        # A form left unsubmitted is forgotten after the timeout, like the correction forms.
        super().__init__(custom_id=f"armsbot:reject-reason:{correction_id}:{token}", timeout=900)
        self.correction_id = correction_id
        self.opener_id = opener_id

    async def interaction_check(self, interaction: Interaction) -> bool:  # type: ignore[override]
        """Only the moderator who opened the form; refusing keeps it open for them."""
        if interaction.user.id == self.opener_id:
            return True
        await send_ephemeral(interaction, text("mod.not_opener", interaction.locale))
        return False

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        """Check the moderator again (the role may be gone since the form opened), then reject."""
        if not await require(interaction, Privilege.MODERATOR):
            return
        decision = await interaction.client.services.corrections.reject(
            self.correction_id, actor_id(interaction.user), self.reason.value
        )
        await announce_decision(interaction, decision)

    async def on_error(self, interaction: Interaction, error: Exception) -> None:  # type: ignore[override]
        """Tell the moderator what failed (the database out of reach: nothing was changed)."""
        await report_failure(interaction, error)


async def announce_decision(interaction: Interaction, decision: Decision) -> None:
    """Tell the moderator, update the review posts, and tell the submitter by DM if possible."""
    await send_ephemeral(interaction, decision_text(decision, interaction.locale))
    correction = decision.correction
    if correction is None or decision.outcome is Outcome.ALREADY_DECIDED:
        return
    await refresh_review_posts(interaction.client, correction)
    await notify_submitter(interaction.client, correction)


async def refresh_review_posts(bot: ArmsBot, correction: CorrectionRow) -> None:
    """Show the outcome on every review post of a correction, without its buttons."""
    services = bot.services.corrections
    before, after = await services.before_after(correction)
    embed = correction_embed(correction, before, after, "Correction")
    for channel_id, message_id in await services.review_posts(correction.id):
        try:
            channel = bot.get_partial_messageable(int(channel_id))
            await channel.get_partial_message(int(message_id)).edit(embed=embed, view=None)
        except discord.HTTPException:
            log.warning("could not update the review post of correction #%s", correction.id)


async def notify_submitter(bot: ArmsBot, correction: CorrectionRow) -> None:
    """Send the submitter the outcome by DM; a closed DM is no failure."""
    kind, _, ident = correction.submitter_id.partition(":")
    if kind != "discord" or not ident.isdigit():
        return
    target = correction.entity_id or "a new entry"
    message = f"Your correction #{correction.id} to {target} was {correction.status}."
    if correction.decision_reason:
        message += f" Reason: {truncate(correction.decision_reason, 500)}"
    try:
        user = await bot.fetch_user(int(ident))
        await user.send(message, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as exc:
        log.info("could not tell the submitter of #%s by DM: %s", correction.id, exc)


async def post_for_review(bot: ArmsBot, correction: CorrectionRow) -> int:
    """Post a correction to the review channel of each home server this process's shards hold,
    where it has no post yet (``bot/review_posts.py``); return how many posts."""
    services = bot.services.corrections
    before, after = await services.before_after(correction)
    view = review_buttons(correction.id)
    posted = 0
    async with posting_lock(bot):
        already = {channel for channel, _ in await services.review_posts(correction.id)}
        for guild_id in held_home_guilds(bot):
            settings = await services.guild_settings(str(guild_id))
            channel_id = settings.review_channel_id
            if channel_id is None or channel_id in already:
                continue
            try:
                channel = bot.get_partial_messageable(int(channel_id))
                message = await channel.send(
                    embed=correction_embed(correction, before, after, "Correction"),
                    view=view,
                    allowed_mentions=NO_MENTIONS,
                    nonce=review_nonce(correction.id, channel_id),
                )
            except discord.HTTPException:
                log.exception("could not post correction #%s for review", correction.id)
                continue
            await services.add_review_post(correction.id, str(message.channel.id), str(message.id))
            posted += 1
    return posted
