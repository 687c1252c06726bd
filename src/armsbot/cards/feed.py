"""A card read a batch of lines at a time, in the order it shows them.

An entity with thousands of claims, or a question that many claims answer, has a card of
hundreds of pages; a reader sees the first and perhaps turns a few. A :class:`CardFeed` has the
card's head (title, summary, facts, footer) and how many lines it will have, and reads its lines
from the knowledge base only as far as a page asks (the claims themselves, their sources
numbered as they first appear, which is how a card read from the top numbers them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from armsbot.cards.model import Card, CardLine, CardSource

# (section title, group heading, line)
FeedItem = tuple[str, str | None, CardLine]
# Reads the next lines, at most that many; none at the end.
Reader = Callable[[int], Awaitable[list[FeedItem]]]
BATCH = 24  # lines read at a time: about a page and a half of claims
# A feed of at most this many lines is read and laid out whole, so its pages can say "page 2/9";
# a longer one only as far as the page asked for ("page 2 · 1,999 claims"), which is what keeps
# the first page of an entity with thousands of claims fast.
WHOLE_LINES = 80


@dataclass(slots=True, weakref_slot=True)
class CardFeed:
    """A card's head, and its lines as far as they have been read."""

    head: Card
    total: int  # the lines the card has
    read: Reader | None = None  # None: every line is there already
    sources: dict[int, CardSource] = field(default_factory=dict)  # by number, as read
    items: list[FeedItem] = field(default_factory=list)
    # What adapters render from the feed (Discord pages), kept with it, as on a card.
    renderings: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    @classmethod
    def of_card(cls, card: Card) -> CardFeed:
        """A feed of a card already built whole."""
        items = [
            (section.title, group.heading, line)
            for section in card.sections
            for group in section.groups
            for line in group.lines
        ]
        head = Card(
            kind=card.kind,
            title=card.title,
            entity_id=card.entity_id,
            summary=card.summary,
            facts=card.facts,
            footer=card.footer,
        )
        return cls(head, len(items), None, {s.number: s for s in card.sources}, items)

    @property
    def exhausted(self) -> bool:
        """Whether every line has been read."""
        return self.read is None or len(self.items) >= self.total

    async def ensure(self, count: int) -> None:
        """Read lines until ``count`` are there (or all of them)."""
        async with self._lock:
            while len(self.items) < min(count, self.total) and self.read is not None:
                batch = await self.read(max(BATCH, count - len(self.items)))
                self.items.extend(batch)
                if not batch:  # fewer lines than counted (the knowledge base changed): done
                    self.total = len(self.items)
