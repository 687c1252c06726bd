"""Cards as Discord embeds, split into pages that respect every Discord limit."""

from __future__ import annotations

from dataclasses import dataclass, field

import discord

from armsbot.bot.markdown import escape, link, truncate
from armsbot.cards.model import Card, CardLine, CardSource

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
LINE_LIMIT = 900
SOURCE_LINE_LIMIT = 300

COLOURS = {
    "country": discord.Colour.blue(),
    "firm": discord.Colour.dark_orange(),
    "law": discord.Colour.dark_green(),
    "search": discord.Colour.light_grey(),
}
STATUS_MARK = {
    "confirmed": "✅ confirmed",
    "reported": "📰 reported",
    "alleged": "❔ alleged",
    "denied": "🚫 denied",
}


@dataclass(slots=True)
class _Block:
    """A piece of the description, with the headings it needs repeated when a page starts there."""

    text: str
    context: list[str]
    sources: list[int] = field(default_factory=list)


def _line_text(line: CardLine) -> str:
    status = f"**{STATUS_MARK[line.status.value]}** · " if line.status else ""
    detail = f" — *{escape(line.detail)}*" if line.detail else ""
    refs = " " + " ".join(f"[{n}]" for n in line.sources) if line.sources else ""
    return truncate(f"• {status}{escape(line.text)}{detail}", LINE_LIMIT - len(refs)) + refs


def _blocks(card: Card) -> list[_Block]:
    blocks: list[_Block] = []
    intro = []
    if card.summary:
        intro.append(escape(card.summary))
    intro += [f"**{escape(label)}:** {escape(value)}" for label, value in card.facts]
    if intro:
        blocks.append(_Block(truncate("\n".join(intro), 1500), []))
    for section in card.sections:
        heading = f"\n__**{escape(section.title)}**__"
        for group in section.groups:
            sub = f"**{escape(group.heading)}**" if group.heading else None
            context = [heading] + ([sub] if sub else [])
            for line in group.lines:
                blocks.append(_Block(_line_text(line), context, list(line.sources)))
    return blocks


def _source_line(source: CardSource) -> str:
    extra = ", ".join(part for part in (source.publisher, source.date) if part)
    label = truncate(source.title, 150)
    text = f"[{source.number}] {link(label, source.url)}"
    if extra:
        text += f" — {escape(extra)}"
    return truncate(text, SOURCE_LINE_LIMIT) if not source.url else text


def _source_fields(sources: list[CardSource]) -> list[tuple[str, str]]:
    fields: list[tuple[str, str]] = []
    current: list[str] = []
    size = 0
    for source in sources:
        line = _source_line(source)
        if current and size + len(line) + 1 > FIELD_VALUE_LIMIT:
            fields.append(("Sources" if not fields else "Sources (continued)", "\n".join(current)))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        fields.append(("Sources" if not fields else "Sources (continued)", "\n".join(current)))
    return fields


@dataclass(slots=True)
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
        embed.set_footer(text=self.footer)
        return embed


def card_pages(card: Card, footer_note: str | None = None) -> list[Page]:
    """The card split into pages, each within Discord's limits for one message."""
    title = truncate(escape(card.title) if card.kind == "search" else card.title, TITLE_LIMIT)
    sources = {s.number: s for s in card.sources}
    footer_base = truncate(card.footer or "", FOOTER_LIMIT - 40)
    colour = COLOURS.get(card.kind, discord.Colour.default())

    pages: list[tuple[list[str], list[int]]] = []
    text: list[str] = []
    cited: list[int] = []
    context: list[str] = []  # the section and group headings in force at the end of the page

    def headings_for(block: _Block, current: list[str]) -> list[str]:
        if current[:1] != block.context[:1]:
            return block.context
        return block.context[1:] if current != block.context else []

    def fits(lines: list[str], numbers: list[int]) -> bool:
        description = len("\n".join(lines))
        fields = sum(len(n) + len(v) for n, v in _source_fields([sources[i] for i in numbers]))
        total = description + fields + len(title) + len(footer_base) + 60
        return description <= DESCRIPTION_BUDGET and total <= TOTAL_BUDGET

    for block in _blocks(card):
        numbers = cited + [n for n in dict.fromkeys(block.sources) if n not in cited]
        addition = [*headings_for(block, context), block.text]
        if text and not fits([*text, *addition], numbers):
            pages.append((text, cited))
            text, cited = [], []
            numbers = list(dict.fromkeys(block.sources))
            addition = [*block.context, block.text]
        text.extend(addition)
        cited = numbers
        context = block.context
    if text or not pages:
        pages.append((text, cited))

    out = []
    for number, (lines, numbers) in enumerate(pages, start=1):
        counter = f" · page {number}/{len(pages)}" if len(pages) > 1 else ""
        note = f" {footer_note}" if footer_note else ""
        out.append(
            Page(
                title=title,
                description=truncate("\n".join(lines).strip("\n"), DESCRIPTION_LIMIT),
                fields=_source_fields([sources[i] for i in sorted(numbers)])[:FIELD_COUNT_LIMIT],
                footer=truncate(f"{footer_base}{note}{counter}", FOOTER_LIMIT),
                colour=colour,
            )
        )
    return out
