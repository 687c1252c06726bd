"""Discord's embed limits, a page of an embed, and lists (fields, history) paged within them.

Cards are laid out by :mod:`armsbot.bot.card_layout` and paged by :mod:`armsbot.bot.card_pages`.
"""

from __future__ import annotations

from dataclasses import dataclass

import discord

from armsbot.bot.markdown import clip, escape, truncate
from armsbot.bot.permissions import member_label
from armsbot.storage.corrections import RevisionRow

# Discord's limits on embeds (https://discord.com/developers/docs/resources/message#embed-object).
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_COUNT_LIMIT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
MESSAGE_TOTAL_LIMIT = 6000
EMBEDS_PER_MESSAGE = 10

# Head room under the hard limits for the page counter and the "continued" marks.
DESCRIPTION_BUDGET = 3800
TOTAL_BUDGET = 5600
HISTORY_REASON_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a card: the embed's parts before they become a ``discord.Embed``."""

    title: str
    description: str
    fields: list[tuple[str, str]]
    footer: str
    colour: discord.Colour
    url: str | None = None

    def size(self) -> int:
        """Characters Discord counts towards the 6,000 limit."""
        return (
            len(self.title)
            + len(self.description)
            + len(self.footer)
            + sum(len(n) + len(v) for n, v in self.fields)
        )

    def embed(self) -> discord.Embed:
        """The page as a Discord embed."""
        embed = discord.Embed(
            title=self.title, description=self.description or None, colour=self.colour
        )
        for name, value in self.fields:
            embed.add_field(name=name, value=value, inline=False)
        if self.footer:
            embed.set_footer(text=self.footer)
        return embed


def field_pages(
    title: str,
    fields: list[tuple[str, str]],
    *,
    colour: discord.Colour,
    empty: str = "",
    footer: str = "",
) -> list[Page]:
    """Whole fields on as many pages as Discord's limits need: 25 a page, and the 6,000 total."""
    title = truncate(title, TITLE_LIMIT)
    footer = truncate(footer, FOOTER_LIMIT - 40)
    budget = TOTAL_BUDGET - len(title) - len(footer) - 40  # 40: the page counter
    chunks: list[list[tuple[str, str]]] = [[]]
    size = 0
    for raw_name, raw_value in fields:
        name, value = truncate(raw_name, FIELD_NAME_LIMIT), clip(raw_value, FIELD_VALUE_LIMIT)
        if chunks[-1] and (
            size + len(name) + len(value) > budget or len(chunks[-1]) == FIELD_COUNT_LIMIT
        ):
            chunks.append([])
            size = 0
        chunks[-1].append((name, value))
        size += len(name) + len(value)
    pages = []
    for number, chunk in enumerate(chunks, start=1):
        counter = f"page {number}/{len(chunks)}" if len(chunks) > 1 else ""
        pages.append(
            Page(
                title=title,
                description="" if chunk else empty,
                fields=chunk,
                footer=" · ".join(part for part in (footer, counter) if part),
                colour=colour,
            )
        )
    return pages


def history_pages(name: str, revisions: list[RevisionRow], empty: str) -> list[Page]:
    """An entry's revisions, newest first, on pages within Discord's limits."""
    fields = []
    for revision in revisions:
        if revision.correction_id:
            what = f"correction #{revision.correction_id}"
        else:
            what = "revert" if revision.reverts else "change"
        reason = escape(clip(revision.reason or "", HISTORY_REASON_LIMIT))
        fields.append(
            (
                f"Revision {revision.number} · {revision.created_at}",
                f"{what} by {member_label(revision.actor_id)}\n{reason}",
            )
        )
    return field_pages(f"History: {name}", fields, colour=discord.Colour.dark_grey(), empty=empty)
