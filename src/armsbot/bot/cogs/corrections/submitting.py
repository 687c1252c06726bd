"""/correct and /propose: the forms a member fills in to propose a change, with a source."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from armsbot.bot.cogs.corrections.forms import (
    NEW_STATUS,
    NOTE,
    PROPOSED,
    SOURCE,
    STATUS,
    STATUS_CHOICES,
    TITLE,
    WHAT,
    CorrectionModal,
    form_input,
    source_inputs,
)
from armsbot.bot.entity_options import entity_choices, resolve_entity
from armsbot.bot.markdown import truncate
from armsbot.bot.replies import send_ephemeral
from armsbot.changes import Submission
from armsbot.i18n import text
from armsbot.models import MAX_NAME, MAX_SUMMARY, Category
from armsbot.services.correction_forms import (
    FormChange,
    correction_submission,
    new_claim_submission,
    new_entry_submission,
)

if TYPE_CHECKING:
    from armsbot.bot.client import ArmsBot

Interaction = discord.Interaction["ArmsBot"]

CHANGES = {
    FormChange.SUMMARY: "Edit the summary",
    FormChange.NAME: "Edit the name",
    FormChange.ALIAS: "Add another name",
    FormChange.CLAIM_STATUS: "Change a claim's status",
    FormChange.CLAIM_TEXT: "Reword a claim",
    FormChange.RETIRE_CLAIM: "Retire a claim",
}


class SubmittingCog(commands.Cog):
    """Proposing corrections, claims and entries."""

    def __init__(self, bot: ArmsBot) -> None:
        self.bot = bot

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
        change=[app_commands.Choice(name=label, value=key.value) for key, label in CHANGES.items()]
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
        kind = FormChange(change.value)
        current_claim = None
        if kind.needs_claim:
            current_claim = next((c for c in document.claims if c.id == claim), None)
            if current_claim is None:
                await send_ephemeral(interaction, text("correct.pick_claim", interaction.locale))
                return
        proposed: discord.ui.TextInput[Any] | None = None
        if kind is FormChange.SUMMARY:
            proposed = form_input(
                PROPOSED, long=True, default=document.summary or "", max_length=MAX_SUMMARY
            )
        elif kind is FormChange.NAME:
            # The form takes no more than a name may hold, so nothing typed is refused after.
            proposed = form_input(PROPOSED, default=document.name or "", max_length=MAX_NAME)
        elif kind is FormChange.ALIAS:
            proposed = form_input(PROPOSED, max_length=MAX_NAME)
        elif kind is FormChange.CLAIM_STATUS:
            proposed = form_input(NEW_STATUS, max_length=20, placeholder=STATUS_CHOICES)
        elif kind is FormChange.CLAIM_TEXT and current_claim is not None:
            proposed = form_input(PROPOSED, long=True, default=current_claim.text)
        inputs = [
            form_input(WHAT, long=True),
            *([proposed] if proposed else []),
            *source_inputs(),
            form_input(NOTE, long=True, required=False),
        ]

        def build(modal: CorrectionModal) -> Submission:
            return correction_submission(
                kind,
                entity_id,
                claim,
                proposed=proposed.value if proposed else "",
                what_is_wrong=modal.value(WHAT),
                source_url=modal.value(SOURCE),
                source_title=modal.value(TITLE),
                note=modal.value(NOTE),
            )

        await interaction.response.send_modal(
            CorrectionModal(f"{CHANGES[kind]}: {document.name or entity_id}", build, inputs)
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
        claim_text = form_input("The claim, in neutral words", long=True)
        status = form_input(STATUS, max_length=20, placeholder=STATUS_CHOICES)
        year = form_input("Year or date (optional)", required=False, max_length=10)

        def build(modal: CorrectionModal) -> Submission:
            return new_claim_submission(
                entity_id,
                text=claim_text.value,
                status=status.value,
                category=category.value,
                date=year.value,
                source_url=modal.value(SOURCE),
                source_title=modal.value(TITLE),
            )

        name = self.bot.services.index.entity_name(entity_id) or entity_id
        await interaction.response.send_modal(
            CorrectionModal(
                f"New claim: {name}", build, [claim_text, status, year, *source_inputs()]
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
        summary = form_input("Summary (neutral, one or two sentences)", long=True)
        aliases = form_input(
            "Other names, comma-separated (optional)", required=False, max_length=500
        )
        place = form_input(
            "Headquarters country (optional)"
            if kind.value == "firm"
            else "Jurisdiction and type (e.g. Israel, statute)",
            required=kind.value == "law",
            max_length=100,
        )

        def build(modal: CorrectionModal) -> Submission:
            return new_entry_submission(
                self.bot.services.index,
                kind.value,
                name=name,
                summary=summary.value,
                aliases=aliases.value,
                place=place.value,
                source_url=modal.value(SOURCE),
                source_title=modal.value(TITLE),
            )

        await interaction.response.send_modal(
            CorrectionModal(
                f"New {kind.value}: {name}", build, [summary, aliases, place, *source_inputs()]
            )
        )
