"""A correction as moderators and submitters see it: the review embed and the decision's words."""

from __future__ import annotations

import discord

from armsbot.bot.markdown import clip, escape, fitted_link, short_address, truncate
from armsbot.bot.permissions import member_label
from armsbot.i18n import text
from armsbot.services.corrections import Decision, Outcome
from armsbot.storage.corrections import CorrectionRow

FIELD_LIMIT = 1024
# What each part of a review post may take: together under Discord's 6,000 characters a message
# (title 150 + description 1,200 + Now and Proposed 1,024 each + Source 600 + Note 700 + Status
# 600 + field names, submitter and footer under 150 = 5,448), whatever the forms let through.
# The whole text stays in the database (``armsbot review show``).
REVIEW_TITLE_LIMIT = 150
REVIEW_WHAT_LIMIT = 1200
REVIEW_SOURCE_LIMIT = 600
REVIEW_NOTE_LIMIT = 700
REVIEW_STATUS_LIMIT = 600


def status_text(correction: CorrectionRow) -> str:
    """The status, who decided it and why (user text escaped)."""
    status = str(correction.status)
    if correction.decided_by:
        status += f" by {member_label(correction.decided_by)}"
        if correction.decision_reason:
            status += f": {escape(correction.decision_reason)}"
    return status


def correction_embed(
    correction: CorrectionRow, before: str, after: str, title: str
) -> discord.Embed:
    """A correction as a reviewer sees it: what changes, why, the source, who and when."""
    target = correction.entity_id or "(new entry)"
    embed = discord.Embed(
        title=truncate(f"{title} #{correction.id} · {target}", REVIEW_TITLE_LIMIT),
        description=clip(escape(correction.what_is_wrong), REVIEW_WHAT_LIMIT),
        colour=discord.Colour.gold(),
    )
    embed.add_field(name="Now", value=clip(escape(before), FIELD_LIMIT) or "—", inline=False)
    embed.add_field(name="Proposed", value=clip(escape(after), FIELD_LIMIT) or "—", inline=False)
    label = correction.source_title or short_address(correction.source_url)
    embed.add_field(
        name="Source",
        value=fitted_link(truncate(label, 200), correction.source_url, REVIEW_SOURCE_LIMIT),
        inline=False,
    )
    if correction.note:
        embed.add_field(
            name="Note", value=clip(escape(correction.note), REVIEW_NOTE_LIMIT), inline=False
        )
    embed.add_field(
        name="Status", value=clip(status_text(correction), REVIEW_STATUS_LIMIT), inline=False
    )
    embed.set_footer(text=f"Submitted {correction.created_at}")
    embed.add_field(name="Submitted by", value=member_label(correction.submitter_id), inline=True)
    return embed


def decision_text(decision: Decision, locale: discord.Locale) -> str:
    """A decision's message in the moderator's language (the service's English otherwise)."""
    correction = decision.correction
    if correction is None:
        return escape(decision.message)
    number = correction.id
    if decision.outcome is Outcome.APPLIED:
        return text(
            "decision.applied",
            locale,
            number=number,
            entity=correction.entity_id or "?",
            revision=decision.revision,
        )
    if decision.outcome is Outcome.ALREADY_DECIDED:
        return text(
            "decision.already",
            locale,
            number=number,
            status=correction.status,
            who=member_label(correction.decided_by or "?"),
            when=correction.decided_at,
        )
    if decision.outcome is Outcome.STALE:
        return text(
            "decision.stale", locale, number=number, reason=escape(correction.decision_reason or "")
        )
    if decision.outcome is Outcome.REJECTED:
        return text("decision.rejected", locale, number=number)
    if decision.outcome is Outcome.WITHDRAWN:
        return text("decision.withdrawn", locale, number=number)
    if decision.outcome is Outcome.SUPERSEDED and decision.superseded_by is not None:
        return text("decision.superseded", locale, number=number, by=decision.superseded_by)
    return escape(decision.message)
