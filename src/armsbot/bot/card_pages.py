"""A card as pages of embeds: all at once for a built card, one at a time for a card feed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from armsbot.bot.card_layout import PageLayout, card_blocks, intro_block, line_block
from armsbot.bot.embeds import Page
from armsbot.cards.feed import WHOLE_LINES, CardFeed
from armsbot.cards.model import Card


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
    for block in card_blocks(card):
        layout.add(block)
    layout.finish()
    return [layout.page(n, footer_note) for n in range(layout.complete)]


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
