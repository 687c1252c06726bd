"""The forms behind /correct and /propose: text inputs, and a modal that stores what they make."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import discord
from pydantic import ValidationError

from armsbot.bot.cogs.corrections.review_posts import post_for_review
from armsbot.bot.errors import report_failure
from armsbot.bot.markdown import escape, truncate
from armsbot.bot.permissions import actor_id
from armsbot.bot.replies import send_ephemeral
from armsbot.changes import Submission
from armsbot.i18n import text
from armsbot.models import Status
from armsbot.services.corrections import SubmissionRefused, submission_problems

if TYPE_CHECKING:
    from armsbot.bot.client import ArmsBot

Interaction: TypeAlias = discord.Interaction["ArmsBot"]

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


class CorrectionModal(discord.ui.Modal):
    """The form behind /correct and /propose: ``build`` turns what was typed into a Submission
    (raising pydantic's ValidationError, or a ValueError, for what cannot be stored)."""

    def __init__(
        self,
        title: str,
        build: Callable[[CorrectionModal], Submission],
        inputs: list[discord.ui.TextInput[Any]],
    ) -> None:
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
            submission = self.build(self)
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


def form_input(
    label: str,
    *,
    long: bool = False,
    required: bool = True,
    default: str | None = None,
    max_length: int = 1000,
    placeholder: str | None = None,
) -> discord.ui.TextInput[Any]:
    """One text input of a correction form."""
    return LabelledInput(
        label,
        style=discord.TextStyle.paragraph if long else discord.TextStyle.short,
        required=required,
        default=truncate(default, max_length) if default else None,
        max_length=max_length,
        placeholder=placeholder,
    )


def source_inputs() -> list[discord.ui.TextInput[Any]]:
    """The source's address and title, which every form asks for."""
    return [
        form_input(SOURCE, max_length=500),
        form_input(TITLE, required=False, max_length=200),
    ]
