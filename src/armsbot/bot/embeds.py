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


def _field_name(index: int) -> str:
    return "Sources" if index == 0 else "Sources (continued)"


def _source_fields(lines: list[str]) -> list[tuple[str, str]]:
    """Source lines packed into as few embed fields as Discord's 1,024 characters allow."""
    fields: list[tuple[str, str]] = []
    current: list[str] = []
    size = 0
    for line in lines:
        if current and size + len(line) + 1 > FIELD_VALUE_LIMIT:
            fields.append((_field_name(len(fields)), "\n".join(current)))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        fields.append((_field_name(len(fields)), "\n".join(current)))
    return fields


def _source_fields_size(lengths: list[int]) -> int:
    """What ``_source_fields`` of lines of these lengths counts towards the message total."""
    total = fields = size = 0
    for length in lengths:
        if size and size + length + 1 > FIELD_VALUE_LIMIT:
            total += len(_field_name(fields)) + size - 1
            fields += 1
            size = 0
        size += length + 1
    if size:
        total += len(_field_name(fields)) + size - 1
    return total


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
        embed.set_footer(text=self.footer)
        return embed


def card_pages(card: Card, footer_note: str | None = None) -> list[Page]:
    """The card split into pages, each within Discord's limits for one message.

    Made once per card and note (kept in ``card.renderings``; pages are not changed once made).
    """
    key = f"discord-pages:{footer_note or ''}"
    pages = card.renderings.get(key)
    if pages is None:
        pages = card.renderings[key] = _paginate(card, footer_note)
    return pages


def _paginate(card: Card, footer_note: str | None) -> list[Page]:
    """Linear in the card's size: each source line is rendered once, and whether a block still
    fits on the page is worked out from lengths (a card can have thousands of lines)."""
    title = truncate(escape(card.title) if card.kind == "search" else card.title, TITLE_LIMIT)
    sources = {s.number: s for s in card.sources}
    source_lines: dict[int, str] = {}
    footer_base = truncate(card.footer or "", FOOTER_LIMIT - 40)
    colour = COLOURS.get(card.kind, discord.Colour.default())
    fixed = len(title) + len(footer_base) + 60

    def source_line(number: int) -> str:
        line = source_lines.get(number)
        if line is None:
            line = source_lines[number] = _source_line(sources[number])
        return line

    pages: list[tuple[list[str], list[int]]] = []
    text: list[str] = []
    text_size = -1  # len("\n".join(text))
    cited: list[int] = []
    cited_set: set[int] = set()
    cited_lengths: list[int] = []
    context: list[str] = []  # the section and group headings in force at the end of the page

    def headings_for(block: _Block, current: list[str]) -> list[str]:
        if current[:1] != block.context[:1]:
            return block.context
        return block.context[1:] if current != block.context else []

    for block in _blocks(card):
        new = [n for n in dict.fromkeys(block.sources) if n not in cited_set]
        addition = [*headings_for(block, context), block.text]
        if text:
            description = text_size + sum(len(line) + 1 for line in addition)
            lengths = cited_lengths + [len(source_line(n)) for n in new]
            total = description + _source_fields_size(lengths) + fixed
            if description > DESCRIPTION_BUDGET or total > TOTAL_BUDGET:
                pages.append((text, cited))
                text, text_size, cited, cited_set, cited_lengths = [], -1, [], set(), []
                new = list(dict.fromkeys(block.sources))
                addition = [*block.context, block.text]
        text.extend(addition)
        text_size += sum(len(line) + 1 for line in addition)
        cited.extend(new)
        cited_set.update(new)
        cited_lengths.extend(len(source_line(n)) for n in new)
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
                fields=_source_fields([source_line(n) for n in sorted(numbers)])[
                    :FIELD_COUNT_LIMIT
                ],
                footer=truncate(f"{footer_base}{note}{counter}", FOOTER_LIMIT),
                colour=colour,
            )
        )
    return out
