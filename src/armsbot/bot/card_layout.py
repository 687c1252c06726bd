"""A card laid out on pages: whole lines, their headings, and the sources each page cites."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import discord

from armsbot.bot.embeds import (
    DESCRIPTION_BUDGET,
    DESCRIPTION_LIMIT,
    FIELD_VALUE_LIMIT,
    FOOTER_LIMIT,
    TITLE_LIMIT,
    TOTAL_BUDGET,
    Page,
)
from armsbot.bot.markdown import clip, escape, fitted_link, truncate
from armsbot.cards.model import Card, CardLine, CardSource

LINE_LIMIT = 900
INTRO_LIMIT = 1500
HEADING_LIMIT = 256
# A source line holds its link when the (percent-encoded) address fits in it, else the title and
# a shortened address as plain text (see markdown.fitted_link).
SOURCE_LINE_LIMIT = 500

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
class Block:
    """A piece of the description, with the headings it needs repeated when a page starts there."""

    text: str
    context: list[str]
    sources: list[int] = field(default_factory=list)


def _refs(numbers: list[int]) -> str:
    """A line's source numbers, runs of three or more written as a range: [4] [7]–[12]."""
    parts: list[str] = []
    run: list[int] = []
    for number in [*numbers, -1]:
        if run and number == run[-1] + 1:
            run.append(number)
            continue
        if len(run) >= 3:
            parts.append(f"[{run[0]}]–[{run[-1]}]")
        else:
            parts += [f"[{n}]" for n in run]
        run = [number]
    return " ".join(parts)


def _line_text(line: CardLine) -> str:
    status = f"**{STATUS_MARK[line.status.value]}** · " if line.status else ""
    detail = f" — *{escape(line.detail)}*" if line.detail else ""
    refs = " " + clip(_refs(line.sources), LINE_LIMIT // 3) if line.sources else ""
    return clip(f"• {status}{escape(line.text)}{detail}", LINE_LIMIT - len(refs)) + refs


def card_blocks(card: Card) -> list[Block]:
    """A card's blocks in order: its intro, then each line under its headings."""
    intro = intro_block(card)
    blocks: list[Block] = [intro] if intro is not None else []
    for section in card.sections:
        for group in section.groups:
            blocks.extend(line_block(section.title, group.heading, line) for line in group.lines)
    return blocks


def _source_line(source: CardSource) -> str:
    """One numbered source in at most SOURCE_LINE_LIMIT characters, its link kept when it fits."""
    head = f"[{source.number}] "
    extra = source.details()
    tail = f" — {escape(truncate(extra, 140))}" if extra else ""
    room = SOURCE_LINE_LIMIT - len(head) - len(tail)
    return head + fitted_link(truncate(source.title, 150), source.url, room) + tail


def _field_name(index: int) -> str:
    return "Sources" if index == 0 else "Sources (continued)"


def _source_fields(lines: list[str]) -> list[tuple[str, str]]:
    """Source lines packed, whole, into as few embed fields as Discord's 1,024 characters allow."""
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


# How far ``_source_fields`` has packed lines: characters of the fields closed, how many, and the
# size of the one open.
_Packed = tuple[int, int, int]
_EMPTY: _Packed = (0, 0, 0)


def _pack(packed: _Packed, lengths: list[int]) -> _Packed:
    """``packed`` with lines of these lengths packed after it, as ``_source_fields`` does."""
    total, fields, size = packed
    for length in lengths:
        if size and size + length + 1 > FIELD_VALUE_LIMIT:
            total += len(_field_name(fields)) + size - 1
            fields += 1
            size = 0
        size += length + 1
    return total, fields, size


def _packed_size(packed: _Packed) -> int:
    """What the fields packed so far count towards the message total."""
    total, fields, size = packed
    return total + len(_field_name(fields)) + size - 1 if size else total


def _source_fields_size(lengths: list[int]) -> int:
    """What ``_source_fields`` of lines of these lengths counts towards the message total."""
    return _packed_size(_pack(_EMPTY, lengths))


def _more_sources(count: int) -> str:
    return f"+ {count} more sources, continued on the next page"


def _continued_from(page: int) -> str:
    return f"*Sources of the last line of page {page}, continued.*"


@dataclass(slots=True)
class _Draft:
    """A page being filled: its description lines and the sources it lists."""

    budget: int  # characters for the description and the source fields together
    text: list[str] = field(default_factory=list)
    text_size: int = -1  # len("\n".join(text))
    listed: dict[int, int] = field(default_factory=dict)  # source number -> its line's length
    context: list[str] = field(default_factory=list)  # headings in force at the end
    more: int = 0  # sources of its last line that continue on the next page
    # The listed sources' lines packed in order (None: to pack again), and the highest number:
    # sources are mostly listed in order, each packed once, not every line's sources again.
    _packed: _Packed | None = _EMPTY
    _top: int = 0

    def _sources_size(self, extra: list[int], more: int = 0) -> int:
        packed = self._packed
        if packed is None:
            packed = self._packed = _pack(_EMPTY, [self.listed[n] for n in sorted(self.listed)])
        if more:
            extra = [*extra, len(_more_sources(more))]
        return _packed_size(_pack(packed, extra) if extra else packed)

    def _list(self, number: int, length: int) -> None:
        self.listed[number] = length
        if number > self._top:
            self._top = number
            if self._packed is not None:
                self._packed = _pack(self._packed, [length])
        else:  # listed before a higher number: its line goes between theirs
            self._packed = None

    def _unlist(self, number: int) -> None:
        del self.listed[number]
        self._packed = None
        self._top = max(self.listed, default=0)

    def fits(self, lines: list[str], lengths: list[int]) -> bool:
        """Whether these description lines and source lines still fit on the page."""
        text = self.text_size + sum(len(line) + 1 for line in lines)
        return text <= DESCRIPTION_BUDGET and text + self._sources_size(lengths) <= self.budget

    def add_text(self, lines: list[str], context: list[str]) -> None:
        """Add description lines (which must fit)."""
        self.text.extend(lines)
        self.text_size += sum(len(line) + 1 for line in lines)
        self.context = context

    def add_sources(self, numbers: list[int], length: Callable[[int], int]) -> list[int]:
        """List as many of these sources as fit, in order; return the ones that did not."""
        text = max(self.text_size, 0)
        taken = 0
        for number in numbers:
            if text + self._sources_size([length(number)]) > self.budget:
                break
            self._list(number, length(number))
            taken += 1
        rest = numbers[taken:]
        # Room for the line that says how many continue on the next page.
        while rest and taken and text + self._sources_size([], len(rest)) > self.budget:
            self._unlist(numbers[taken - 1])
            taken -= 1
            rest = numbers[taken:]
        self.more = len(rest)
        return rest


def intro_block(card: Card) -> Block | None:
    """The block of a card's summary and facts, which opens its first page."""
    intro = []
    if card.summary:
        intro.append(escape(card.summary))
    intro += [f"**{escape(label)}:** {escape(value)}" for label, value in card.facts]
    return Block(clip("\n".join(intro), INTRO_LIMIT), []) if intro else None


def line_block(section: str, heading: str | None, line: CardLine) -> Block:
    """The block of one line under its section title and group heading."""
    title = f"\n__**{clip(escape(section), HEADING_LIMIT)}**__"
    sub = [f"**{clip(escape(heading), HEADING_LIMIT)}**"] if heading else []
    return Block(_line_text(line), [title, *sub], list(dict.fromkeys(line.sources)))


class PageLayout:
    """Lays out a card's blocks on pages as they arrive, so a page is made without the rest.

    Linear in the card's size: each source line is rendered once, and whether a line still fits
    on the page is worked out from lengths (a card can have thousands of lines). A line that
    cites more sources than one page can list is followed by pages that list the rest: a source
    is never dropped. Pages before the one being filled are complete: what comes later never
    changes them, so page ``n`` can be shown once ``complete`` passes it.
    """

    def __init__(self, card: Card, sources: dict[int, CardSource]) -> None:
        self.title = truncate(
            escape(card.title) if card.kind in ("search", "claims") else card.title, TITLE_LIMIT
        )
        self.sources = sources  # by number; the producer adds each before a block cites it
        self.footer_base = truncate(card.footer or "", FOOTER_LIMIT - 40)
        self.colour = COLOURS.get(card.kind, discord.Colour.default())
        self.budget = TOTAL_BUDGET - len(self.title) - len(self.footer_base) - 60
        self.drafts: list[_Draft] = []
        self.draft = _Draft(self.budget)
        self.finished = False
        self.lines = 0  # blocks laid out
        self._source_lines: dict[int, str] = {}

    @property
    def complete(self) -> int:
        """How many pages are final: all of them once ``finish`` has run."""
        return len(self.drafts)

    def source_line(self, number: int) -> str:
        """The source line of one source number, rendered once."""
        line = self._source_lines.get(number)
        if line is None:
            line = self._source_lines[number] = _source_line(self.sources[number])
        return line

    def _length(self, number: int) -> int:
        return len(self.source_line(number))

    def add(self, block: Block) -> None:
        """Put one more block on the pages."""
        length = self._length
        budget = self.budget
        draft = self.draft
        self.lines += 1
        if draft.context[:1] != block.context[:1]:
            headings = block.context
        else:
            headings = block.context[1:] if draft.context != block.context else []
        addition = [*headings, block.text]
        new = [n for n in block.sources if n not in draft.listed]
        lengths = [length(n) for n in new]
        if draft.text and not draft.fits(addition, lengths):
            # A line citing more sources than any page can list starts on this page when it and
            # its first source fit; the rest continue on the next pages either way.
            overflows = not _Draft(budget).fits(
                [*block.context, block.text], [length(n) for n in block.sources]
            )
            starts_here = (
                overflows
                and bool(new)
                and draft.fits(addition, [lengths[0], len(_more_sources(len(new)))])
            )
            if not starts_here:
                self.drafts.append(draft)
                draft = self.draft = _Draft(budget)
                addition, new = [*block.context, block.text], block.sources
        draft.add_text(addition, block.context)
        rest = draft.add_sources(new, length)
        if rest:
            origin = len(self.drafts)
            while rest:
                self.drafts.append(draft)
                draft = _Draft(budget)
                draft.add_text([_continued_from(origin + 1)], [])
                rest = draft.add_sources(rest, length)
            self.drafts.append(draft)
            self.draft = _Draft(budget)

    def finish(self) -> None:
        """No more blocks: the page being filled is the last."""
        if not self.finished:
            if self.draft.text or not self.drafts:
                self.drafts.append(self.draft)
            self.finished = True

    def page(self, number: int, footer_note: str | None = None, of_lines: int = 0) -> Page:
        """Complete page ``number`` (0-based): "page 2/9" once finished, else "page 2" and,
        given ``of_lines``, how many claims the whole card has."""
        draft = self.drafts[number]
        if self.finished:
            total = len(self.drafts)
            counter = f" · page {number + 1}/{total}" if total > 1 else ""
        else:
            counter = f" · page {number + 1}"
            if of_lines:
                counter += f" · {of_lines:,} claims"
        note = f" {footer_note}" if footer_note else ""
        lines = [self.source_line(n) for n in sorted(draft.listed)]
        if draft.more:
            lines.append(_more_sources(draft.more))
        return Page(
            title=self.title,
            description=truncate("\n".join(draft.text).strip("\n"), DESCRIPTION_LIMIT),
            fields=_source_fields(lines),
            footer=truncate(f"{self.footer_base}{note}{counter}", FOOTER_LIMIT),
            colour=self.colour,
        )
