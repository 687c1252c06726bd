"""Cards and lists as Discord embeds, split into pages that respect every Discord limit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

import discord

from armsbot.bot.markdown import clip, escape, fitted_link, truncate
from armsbot.bot.permissions import member_label
from armsbot.cards.feed import WHOLE_LINES, CardFeed
from armsbot.cards.model import Card, CardLine, CardSource
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
LINE_LIMIT = 900
INTRO_LIMIT = 1500
HEADING_LIMIT = 256
# A source line holds its link when the (percent-encoded) address fits in it, else the title and
# a shortened address as plain text (see markdown.fitted_link).
SOURCE_LINE_LIMIT = 500
HISTORY_REASON_LIMIT = 1000

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


def _blocks(card: Card) -> list[_Block]:
    intro = intro_block(card)
    blocks: list[_Block] = [intro] if intro is not None else []
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

    def _sources_size(self, extra: list[int], more: int = 0) -> int:
        lengths = [self.listed[n] for n in sorted(self.listed)] + extra
        if more:
            lengths.append(len(_more_sources(more)))
        return _source_fields_size(lengths)

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
            self.listed[number] = length(number)
            taken += 1
        rest = numbers[taken:]
        # Room for the line that says how many continue on the next page.
        while rest and taken and text + self._sources_size([], len(rest)) > self.budget:
            number = numbers[taken - 1]
            del self.listed[number]
            taken -= 1
            rest = numbers[taken:]
        self.more = len(rest)
        return rest


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
    """Whole lines on pages within every limit, each page listing the sources its lines cite."""
    layout = PageLayout(card, {s.number: s for s in card.sources})
    for block in _blocks(card):
        layout.add(block)
    layout.finish()
    return [layout.page(n, footer_note) for n in range(layout.complete)]


def intro_block(card: Card) -> _Block | None:
    """The block of a card's summary and facts, which opens its first page."""
    intro = []
    if card.summary:
        intro.append(escape(card.summary))
    intro += [f"**{escape(label)}:** {escape(value)}" for label, value in card.facts]
    return _Block(clip("\n".join(intro), INTRO_LIMIT), []) if intro else None


def line_block(section: str, heading: str | None, line: CardLine) -> _Block:
    """The block of one line under its section title and group heading."""
    title = f"\n__**{clip(escape(section), HEADING_LIMIT)}**__"
    sub = [f"**{clip(escape(heading), HEADING_LIMIT)}**"] if heading else []
    return _Block(_line_text(line), [title, *sub], list(dict.fromkeys(line.sources)))


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

    def add(self, block: _Block) -> None:
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


# A card with at most this many lines is laid out whole (see WHOLE_LINES).
WHOLE_LAYOUT_LINES = WHOLE_LINES
_LAYOUT = "discord-layout"


@dataclass(slots=True)
class _FeedLayout:
    """A feed's pages as far as laid out: the layout, how many lines it took, and a lock."""

    layout: PageLayout
    walked: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


async def feed_page(feed: CardFeed, number: int) -> tuple[Page, int, int | None]:
    """Page ``number`` (0-based, clamped) of a feed's card: the page, its number, and how many
    pages there are when that is known (None: more follow, not yet laid out)."""
    kept = feed.renderings.get(_LAYOUT)
    if not isinstance(kept, _FeedLayout):
        kept = feed.renderings[_LAYOUT] = _FeedLayout(PageLayout(feed.head, feed.sources))
        intro = intro_block(feed.head)
        if intro is not None:
            kept.layout.add(intro)
    layout = kept.layout
    async with kept.lock:
        whole = feed.total <= WHOLE_LAYOUT_LINES
        while not layout.finished and (whole or layout.complete <= number):
            if kept.walked < len(feed.items):
                section, heading, line = feed.items[kept.walked]
                layout.add(line_block(section, heading, line))
                kept.walked += 1
            elif feed.exhausted:
                layout.finish()
            else:  # a short card is read in one go
                await feed.ensure(feed.total if whole else len(feed.items) + 1)
        if kept.walked == len(feed.items) and feed.exhausted:
            layout.finish()
        number = max(0, min(number, layout.complete - 1))
        page = layout.page(number, of_lines=feed.total)
    return page, number, layout.complete if layout.finished else None


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
