"""Corrections on Discord: /correct, /propose, /mycorrections, /history, and moderator review.

Thin by design: modals and options become a :class:`Submission`; buttons and commands become
service calls; every moderation path checks the user's privilege on the server side first.
"""

from __future__ import annotations

import logging
import re
import secrets
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands
from pydantic import ValidationError

from armsbot.bot.client import NO_MENTIONS, send_ephemeral
from armsbot.bot.components import show_history
from armsbot.bot.errors import database_failure, report_failure
from armsbot.bot.markdown import clip, escape, fitted_link, short_address, truncate
from armsbot.bot.permissions import Privilege, actor_id, member_label, require
from armsbot.bot.review_posts import held_home_guilds, posting_lock, review_nonce
from armsbot.changes import Submission
from armsbot.i18n import text
from armsbot.models import MAX_NAME, MAX_SUMMARY, Category, Kind, LawType, Status
from armsbot.search.index import Match
from armsbot.services.corrections import Decision, Outcome, SubmissionRefused, submission_problems
from armsbot.storage.corrections import CorrectionRow

if TYPE_CHECKING:
    from armsbot.bot.client import ArmsBot

log = logging.getLogger("armsbot.bot.corrections")

Interaction = discord.Interaction["ArmsBot"]
QUEUE_PAGE = 10
REJECT_TOKEN_BYTES = 12  # 16 characters in the form's custom id
FIELD_LIMIT = 1024

CHANGES = {
    "summary": "Edit the summary",
    "name": "Edit the name",
    "alias": "Add another name",
    "claim_status": "Change a claim's status",
    "claim_text": "Reword a claim",
    "retire_claim": "Retire a claim",
}


def _choice_label(match: Match) -> str:
    return truncate(f"{match.name} · {match.kind.value}", 100)


async def entity_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete over every kind of entity."""
    matches = interaction.client.services.index.autocomplete(current[:100], None, 25)
    return [app_commands.Choice(name=_choice_label(m), value=m.id) for m in matches]


def resolve_entity(interaction: Interaction, value: str) -> str | None:
    """An entity id from an autocomplete value or free text (None when unclear)."""
    index = interaction.client.services.index
    if index.entity_kind(value) is not None:
        return value
    chosen = index.resolve(value[:100]).chosen
    return chosen.id if chosen else None


# What each part of a review post may take: together under Discord's 6,000 characters a message
# (title 150 + description 1,200 + Now and Proposed 1,024 each + Source 600 + Note 700 + Status
# 600 + field names, submitter and footer under 150 = 5,448), whatever the forms let through.
# The whole text stays in the database (``armsbot review show``).
REVIEW_TITLE_LIMIT = 150
REVIEW_WHAT_LIMIT = 1200
REVIEW_SOURCE_LIMIT = 600
REVIEW_NOTE_LIMIT = 700
REVIEW_STATUS_LIMIT = 600


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
    status = correction.status
    if correction.decided_by:
        status += f" by {member_label(correction.decided_by)}"
        if correction.decision_reason:
            status += f": {escape(correction.decision_reason)}"
    embed.add_field(name="Status", value=clip(status, REVIEW_STATUS_LIMIT), inline=False)
    embed.set_footer(text=f"Submitted {correction.created_at}")
    embed.add_field(name="Submitted by", value=member_label(correction.submitter_id), inline=True)
    return embed


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
    return escape(decision.message)


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
    text = f"Your correction #{correction.id} to {target} was {correction.status}."
    if correction.decision_reason:
        text += f" Reason: {truncate(correction.decision_reason, 500)}"
    try:
        user = await bot.fetch_user(int(ident))
        await user.send(text, allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as exc:
        log.info("could not tell the submitter of #%s by DM: %s", correction.id, exc)


async def post_for_review(bot: ArmsBot, correction: CorrectionRow) -> int:
    """Post a correction to the review channel of each home server this process's shards hold,
    where it has no post yet (``bot/review_posts.py``); return how many posts."""
    services = bot.services.corrections
    before, after = await services.before_after(correction)
    view = discord.ui.View(timeout=None)
    view.add_item(ReviewButton("approve", correction.id))
    view.add_item(ReviewButton("reject", correction.id))
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


class CorrectionModal(discord.ui.Modal):
    """The form behind /correct and /propose: builds a Submission from what was typed."""

    def __init__(self, title: str, build: Any, inputs: list[discord.ui.TextInput[Any]]) -> None:
        super().__init__(title=truncate(title, 45), timeout=900)
        self.build = build
        for item in inputs:
            self.add_item(item)
        self.inputs = {getattr(item, "caption", ""): item for item in inputs}

    def value(self, label: str) -> str:
        """What the member typed into the field with this label ("" when absent)."""
        item = self.inputs.get(label)
        return item.value if item is not None else ""

    async def on_submit(self, interaction: Interaction) -> None:  # type: ignore[override]
        """Validate and store; the receipt (or the reasons) are ephemeral."""
        services = interaction.client.services.corrections
        loc = interaction.locale
        try:
            submission = Submission.model_validate(self.build(self))
        except ValidationError as exc:
            reasons = "\n".join(f"• {escape(r)}" for r in submission_problems(exc))
            await send_ephemeral(
                interaction, text("correct.not_stored", loc, reasons=f"\n{reasons}")
            )
            return
        except ValueError as exc:
            await send_ephemeral(
                interaction, text("correct.not_stored", loc, reasons=escape(str(exc)))
            )
            return
        try:
            correction = await services.submit(
                submission, actor_id(interaction.user), str(interaction.guild_id or "")
            )
        except SubmissionRefused as exc:
            await send_ephemeral(
                interaction, text("correct.not_stored", loc, reasons=escape(str(exc)))
            )
            return
        await send_ephemeral(interaction, text("correct.receipt", loc, number=correction.id))
        await post_for_review(interaction.client, correction)

    async def on_error(self, interaction: Interaction, error: Exception) -> None:  # type: ignore[override]
        """Tell the member what failed (the database out of reach: nothing was stored)."""
        await report_failure(interaction, error)


class LabelledInput(discord.ui.TextInput[Any]):
    """A text input that remembers its label (reading ``TextInput.label`` is deprecated)."""

    def __init__(self, caption: str, **options: Any) -> None:
        super().__init__(label=caption, **options)
        self.caption = caption


def _input(
    label: str,
    *,
    long: bool = False,
    required: bool = True,
    default: str | None = None,
    max_length: int = 1000,
    placeholder: str | None = None,
) -> discord.ui.TextInput[Any]:
    return LabelledInput(
        label,
        style=discord.TextStyle.paragraph if long else discord.TextStyle.short,
        required=required,
        default=truncate(default, max_length) if default else None,
        max_length=max_length,
        placeholder=placeholder,
    )


WHAT = "What is wrong"
PROPOSED = "Proposed change"
SOURCE = "Source URL"
TITLE = "Source title (optional)"
NOTE = "Note (optional)"
# Discord refuses a whole form whose input label is over 45 characters: the choices go in the
# placeholder, which may hold 100.
STATUS = "Status"
NEW_STATUS = "New status"
STATUS_CHOICES = ", ".join(status.value for status in Status)


class CorrectionsCog(commands.Cog):
    """Submitting, reviewing and undoing corrections."""

    def __init__(self, bot: ArmsBot) -> None:
        self.bot = bot

    # -- submitting -----------------------------------------------------------------------------

    @app_commands.command(
        name=_("correct"), description=_("Propose a correction to an entry, with a source")
    )
    @app_commands.rename(entity=_("entry"), change=_("change"), claim=_("claim"))
    @app_commands.describe(
        entity=_("The country, firm or law to correct"),
        change=_("What to change"),
        claim=_("The claim to change (for claim changes)"),
    )
    @app_commands.choices(
        change=[app_commands.Choice(name=label, value=key) for key, label in CHANGES.items()]
    )
    @app_commands.autocomplete(entity=entity_choices)
    async def correct(
        self,
        interaction: Interaction,
        entity: app_commands.Range[str, 1, 100],
        change: app_commands.Choice[str],
        claim: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        """Open the correction form for one entry."""
        entity_id = resolve_entity(interaction, entity)
        if entity_id is None:
            await send_ephemeral(interaction, text("correct.pick_entry", interaction.locale))
            return
        document = await self.bot.services.corrections.document(entity_id)
        assert document is not None
        key = change.value
        current_claim = None
        if key.startswith("claim") or key == "retire_claim":
            current_claim = next((c for c in document.claims if c.id == claim), None)
            if current_claim is None:
                await send_ephemeral(interaction, text("correct.pick_claim", interaction.locale))
                return
        proposed: discord.ui.TextInput[Any] | None = None
        if key == "summary":
            proposed = _input(
                PROPOSED, long=True, default=document.summary or "", max_length=MAX_SUMMARY
            )
        elif key == "name":
            # The form takes no more than a name may hold, so nothing typed is refused after.
            proposed = _input(PROPOSED, default=document.name or "", max_length=MAX_NAME)
        elif key == "alias":
            proposed = _input(PROPOSED, max_length=MAX_NAME)
        elif key == "claim_status":
            proposed = _input(NEW_STATUS, max_length=20, placeholder=STATUS_CHOICES)
        elif key == "claim_text" and current_claim is not None:
            proposed = _input(PROPOSED, long=True, default=current_claim.text)
        inputs = (
            [_input(WHAT, long=True)]
            + ([proposed] if proposed else [])
            + [
                _input(SOURCE, max_length=500),
                _input(TITLE, required=False, max_length=200),
                _input(NOTE, long=True, required=False),
            ]
        )

        def build(modal: CorrectionModal) -> dict[str, Any]:
            typed = proposed.value.strip() if proposed else ""
            changes: dict[str, dict[str, Any]] = {
                "summary": {"type": "edit_field", "field": "summary", "value": typed},
                "name": {"type": "edit_field", "field": "name", "value": typed},
                "alias": {"type": "add_alias", "name": typed},
                "claim_status": {
                    "type": "claim_status",
                    "claim_id": claim,
                    "status": typed.casefold(),
                },
                "claim_text": {"type": "claim_text", "claim_id": claim, "text": typed},
                "retire_claim": {"type": "retire_claim", "claim_id": claim},
            }
            return {
                "entity_id": entity_id,
                "change": changes[key],
                "what_is_wrong": modal.value(WHAT),
                "source_url": modal.value(SOURCE),
                "source_title": modal.value(TITLE),
                "note": modal.value(NOTE),
            }

        await interaction.response.send_modal(
            CorrectionModal(f"{CHANGES[key]}: {document.name or entity_id}", build, inputs)
        )

    @correct.autocomplete("claim")
    async def _claims(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        entity = getattr(interaction.namespace, "entity", None) or getattr(
            interaction.namespace, "entry", None
        )
        entity_id = resolve_entity(interaction, str(entity)) if entity else None
        if entity_id is None:
            return []
        document = await self.bot.services.corrections.document(entity_id)
        claims = document.claims if document else []
        wanted = current.casefold()
        return [
            app_commands.Choice(name=truncate(f"[{c.status.value}] {c.text}", 100), value=c.id)
            for c in claims
            if wanted in c.text.casefold() or wanted in c.id
        ][:25]

    propose = app_commands.Group(
        name=_("propose"), description=_("Propose a new claim or a new entry")
    )

    @propose.command(name=_("claim"), description=_("Propose a new claim about an entry"))
    @app_commands.rename(entity=_("entry"), category=_("category"))
    @app_commands.describe(
        entity=_("The country, firm or law it is about"), category=_("What kind of claim")
    )
    @app_commands.choices(
        category=[app_commands.Choice(name=c.value, value=c.value) for c in Category]
    )
    @app_commands.autocomplete(entity=entity_choices)
    async def propose_claim(
        self,
        interaction: Interaction,
        entity: app_commands.Range[str, 1, 100],
        category: app_commands.Choice[str],
    ) -> None:
        """Open the form for a new claim."""
        entity_id = resolve_entity(interaction, entity)
        if entity_id is None:
            await send_ephemeral(interaction, text("correct.pick_entry", interaction.locale))
            return
        claim_text = _input("The claim, in neutral words", long=True)
        status = _input(STATUS, max_length=20, placeholder=STATUS_CHOICES)
        year = _input("Year or date (optional)", required=False, max_length=10)

        def build(modal: CorrectionModal) -> dict[str, Any]:
            return {
                "entity_id": entity_id,
                "change": {
                    "type": "add_claim",
                    "text": claim_text.value,
                    "status": status.value.strip().casefold(),
                    "category": category.value,
                    "date": year.value.strip() or None,
                },
                "what_is_wrong": "A claim the entry is missing.",
                "source_url": modal.value(SOURCE),
                "source_title": modal.value(TITLE),
            }

        name = self.bot.services.index.entity_name(entity_id) or entity_id
        await interaction.response.send_modal(
            CorrectionModal(
                f"New claim: {name}",
                build,
                [
                    claim_text,
                    status,
                    year,
                    _input(SOURCE, max_length=500),
                    _input(TITLE, required=False, max_length=200),
                ],
            )
        )

    @propose.command(
        name=_("entry"), description=_("Propose a firm or law the knowledge base lacks")
    )
    @app_commands.rename(kind=_("kind"), name=_("name"))
    @app_commands.describe(kind=_("Firm or law"), name=_("Its name"))
    @app_commands.choices(
        kind=[
            app_commands.Choice(name=_("firm"), value="firm"),
            app_commands.Choice(name=_("law"), value="law"),
        ]
    )
    async def propose_entity(
        self,
        interaction: Interaction,
        kind: app_commands.Choice[str],
        name: app_commands.Range[str, 1, 100],
    ) -> None:
        """Open the form for a new entry."""
        summary = _input("Summary (neutral, one or two sentences)", long=True)
        aliases = _input("Other names, comma-separated (optional)", required=False, max_length=500)
        place = _input(
            "Headquarters country (optional)"
            if kind.value == "firm"
            else "Jurisdiction and type (e.g. Israel, statute)",
            required=kind.value == "law",
            max_length=100,
        )

        def build(modal: CorrectionModal) -> dict[str, Any]:
            change: dict[str, Any] = {
                "type": "new_entity",
                "kind": kind.value,
                "name": name,
                "summary": summary.value,
                "aliases": [a.strip() for a in aliases.value.split(",") if a.strip()],
            }
            if kind.value == "firm" and place.value.strip():
                found = self.bot.services.index.resolve(place.value.strip(), Kind.COUNTRY).chosen
                if found is None:
                    msg = f"no single country matches “{place.value.strip()}”"
                    raise ValueError(msg)
                change["headquarters"] = found.id
            elif kind.value == "law":
                jurisdiction, _, law_type = place.value.partition(",")
                change["jurisdiction"] = jurisdiction.strip()
                typed = law_type.strip().casefold().replace(" ", "_") or LawType.STATUTE.value
                change["law_type"] = typed
            return {
                "entity_id": None,
                "change": change,
                "what_is_wrong": "A missing entry.",
                "source_url": modal.value(SOURCE),
                "source_title": modal.value(TITLE),
            }

        await interaction.response.send_modal(
            CorrectionModal(
                f"New {kind.value}: {name}",
                build,
                [
                    summary,
                    aliases,
                    place,
                    _input(SOURCE, max_length=500),
                    _input(TITLE, required=False, max_length=200),
                ],
            )
        )

    @app_commands.command(
        name=_("mycorrections"), description=_("Your corrections and their status")
    )
    async def my_corrections(self, interaction: Interaction) -> None:
        """List the member's own corrections (ephemeral)."""
        rows = await self.bot.services.corrections.of_submitter(actor_id(interaction.user), 20)
        if not rows:
            await send_ephemeral(interaction, text("correct.none_yet", interaction.locale))
            return
        lines = [
            f"#{c.id} · {c.entity_id or 'new entry'} · **{c.status}** · {c.created_at[:10]}"
            for c in rows
        ]
        await send_ephemeral(interaction, truncate("\n".join(lines), 1900))

    # -- history and revert ---------------------------------------------------------------------

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

    # -- review ---------------------------------------------------------------------------------

    # /review and /revert carry no default_permissions: Discord would hide them from role
    # moderators who lack that permission until an admin changed the integration's settings.
    # ``require`` decides who may use them.
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
        if correction.status == "pending":
            view = discord.ui.View(timeout=None)
            view.add_item(ReviewButton("approve", correction.id))
            view.add_item(ReviewButton("reject", correction.id))
            kwargs["view"] = view
        await interaction.response.send_message(**kwargs)

    # -- configuration --------------------------------------------------------------------------

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
