"""Looking things up: search, resolve a name to an entity, and build its card."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from armsbot.cards.build import (
    GroupKey,
    Names,
    SourceNumbers,
    entity_card,
    entity_head,
    heading,
    key_entities,
    search_card,
)
from armsbot.cards.feed import CardFeed, FeedItem
from armsbot.cards.model import Card
from armsbot.hidden_text import character_label, hidden_character
from armsbot.i18n import ENGLISH
from armsbot.models import Kind
from armsbot.search.index import Match, SearchIndex
from armsbot.services.card_order import CardOrder
from armsbot.storage import KnowledgeBase
from armsbot.storage.datasets import DatasetStore

T = TypeVar("T")
MAX_QUERY_LENGTH = 100
MAX_RESULTS = 25
# Cards kept built, counted in lines: about 60 MB at most (a line and its share of the card's
# sources and renderings is under 1 kB), whatever the size of the knowledge base.
CARD_CACHE_LINES = 60_000


class QueryError(ValueError):
    """A query the user must fix; ``key`` and ``params`` let an adapter translate the message."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(ENGLISH[key].format(**params))


def clean_query(query: str) -> str:
    """The query trimmed, or :class:`QueryError` when it is empty, too long or has hidden text."""
    hidden = hidden_character(query)
    if hidden is not None:
        raise QueryError("query.hidden", character=character_label(hidden))
    cleaned = query.strip()
    if not cleaned:
        raise QueryError("query.empty")
    if len(cleaned) > MAX_QUERY_LENGTH:
        raise QueryError("query.too_long", length=len(cleaned), limit=MAX_QUERY_LENGTH)
    return cleaned


@dataclass(frozen=True, slots=True)
class Answer:
    """A card for the entity the query meant, or the candidates when it is not clear which."""

    query: str
    card: Card | None
    candidates: list[Match]


class LookupService:
    """Search and lookup over one knowledge base and its index."""

    def __init__(
        self, kb: KnowledgeBase, index: SearchIndex, cache_lines: int = CARD_CACHE_LINES
    ) -> None:
        self.kb = kb
        self.index = index
        self.cache: CardCache[Card] = CardCache(cache_lines)
        self.feeds: CardCache[CardFeed] = CardCache(cache_lines, lambda feed: 1 + feed.total)
        # Builds under way, by entity id and the version they read: requests for a card that is
        # not built yet wait for the one build instead of each starting their own.
        self._building: dict[tuple[str, object], asyncio.Task[Card | None]] = {}
        self._feeding: dict[tuple[str, object], asyncio.Task[CardFeed | None]] = {}

    def search(self, query: str, kind: Kind | None = None, limit: int = 10) -> list[Match]:
        """Ranked matches for ``query``; raises :class:`QueryError` on unusable input."""
        cleaned = clean_query(query)
        return self.index.search(cleaned, kind, max(1, min(limit, MAX_RESULTS)))

    def search_card(self, query: str, kind: Kind | None = None, limit: int = 10) -> Card:
        """The search results as a card."""
        return search_card(clean_query(query), self.search(query, kind, limit))

    def choose(self, kind: Kind, query: str) -> tuple[str, str | None, list[Match]]:
        """The query cleaned, the id of the ``kind`` entity it names, and the candidates."""
        cleaned = clean_query(query)
        if self.index.entity_kind(cleaned) is kind:
            return cleaned, cleaned, []
        resolution = self.index.resolve(cleaned, kind)
        chosen = resolution.chosen.id if resolution.chosen is not None else None
        return cleaned, chosen, resolution.candidates

    async def ask(self, kind: Kind, query: str) -> Answer:
        """The card for the ``kind`` entity ``query`` names (an id or a name)."""
        cleaned, chosen, candidates = self.choose(kind, query)
        if chosen is None:
            return Answer(cleaned, None, candidates)
        return Answer(cleaned, await self.card(chosen), candidates)

    async def card_feed(self, entity_id: str) -> CardFeed | None:
        """An entity's card to be read a page at a time, or None if there is no such entity.

        Only how many claims each section has is read at first (:class:`CardOrder`); the order
        of the claims, and the claims themselves, are read as pages ask for them. Kept, and
        shared by concurrent requests, as :meth:`card` keeps whole cards.
        """
        return await self._shared(self.feeds, self._feeding, entity_id, self._build_feed)

    async def _build_feed(self, entity_id: str) -> CardFeed | None:
        entity = await self.kb.entity(entity_id, claims=False)
        if entity is None:
            return None
        order = await CardOrder.read(self.kb, entity)
        if not order.total:  # the card that says nothing is on record, and where armsbot looked
            card = await self._build_card(entity_id)
            return CardFeed.of_card(card) if card is not None else None
        facts = {
            str(entity.attributes[k])
            for k in ("headquarters", "parent")
            if entity.attributes.get(k)
        }
        names = Names(await self.kb.entity_names(facts), {})
        feed = CardFeed(entity_head(entity, names), order.total)
        # The reader refers to the feed's sources, not to the feed: no reference cycle, so a
        # feed dropped from the cache is freed at once rather than by the garbage collector
        # (whose full passes over thousands of dropped lines stalled requests for 20 ms).
        sources = feed.sources
        numbers = SourceNumbers()
        kb = self.kb
        headings: dict[GroupKey, str | None] = {}

        async def read(count: int) -> list[FeedItem]:
            chunk = await order.next(count)
            keys = {key for _, key, _ in chunk if key not in headings}
            named: set[str] = set()
            shown: set[str] = set()
            for key in keys:
                ids, with_attributes = key_entities(key)
                named |= ids
                shown |= with_attributes
            if keys:
                group_names = Names(await kb.entity_names(named), await kb.entity_attributes(shown))
                headings.update((key, heading(key, group_names)) for key in keys)
            claims = await kb.listed_claims([c for _, _, c in chunk])
            items = [
                (section, headings[key], numbers.line(claims[claim_id]))
                for section, key, claim_id in chunk
                if claim_id in claims  # gone since the order was read: left out
            ]
            for source in numbers.numbered.values():
                sources.setdefault(source.number, source)
            return items

        feed.read = read
        return feed

    async def card(self, entity_id: str) -> Card | None:
        """The card of one entity by id, or None if there is no such entity.

        Built cards are kept until the knowledge base changes (here or in another process); an
        entity with thousands of claims takes tens of milliseconds to build, and the same few
        entities are asked for again and again, and paged through. Requests that find the card
        not built share one build (a busy server asks for the same card many times at once
        right after a change); a build that fails fails for those waiting on it, and the next
        request builds again.
        """
        return await self._shared(self.cache, self._building, entity_id, self._build_card)

    async def _shared(
        self,
        cache: CardCache[T],
        building: dict[tuple[str, object], asyncio.Task[T | None]],
        entity_id: str,
        build: Callable[[str], Awaitable[T | None]],
    ) -> T | None:
        """What ``build`` makes for an entity: kept in ``cache`` for the knowledge base's version,
        and built once for all the requests that find it missing (see :meth:`card`).

        While the database cannot be read, what is kept is answered as it was last built.
        """
        try:
            version = await self.kb.version()
        except Exception:
            kept = cache.kept(entity_id)
            if kept is None:
                raise
            return kept
        cached = cache.get(entity_id, version)
        if cached is not None:
            return cached
        key = (entity_id, version)

        async def build_and_keep() -> T | None:
            made = await build(entity_id)
            if made is not None:
                cache.put(entity_id, version, made)
            return made

        task = building.get(key)
        if task is None or task.done():
            task = asyncio.create_task(build_and_keep())
            building[key] = task

            def forget(done: asyncio.Task[T | None]) -> None:
                if building.get(key) is done:
                    del building[key]

            task.add_done_callback(forget)
        # Shielded: a request that gives up (its interaction timed out) does not cancel the
        # build the other requests are waiting for.
        return await asyncio.shield(task)

    async def _build_card(self, entity_id: str) -> Card | None:
        entity = await self.kb.entity(entity_id, claims=False)
        if entity is None:
            return None
        claims = await self.kb.claims_about(entity_id)
        mentioned = {p.entity for c in claims for p in c.parties}
        for key in ("headquarters", "parent"):
            if entity.attributes.get(key):
                mentioned.add(str(entity.attributes[key]))
        names = Names(
            await self.kb.entity_names(mentioned), await self.kb.entity_attributes(mentioned)
        )
        datasets = [] if claims else await self._dataset_names()
        return entity_card(entity, claims, names, datasets)

    async def _dataset_names(self) -> list[str]:
        """The readers' names of the datasets imported into the knowledge base."""
        names = {i.dataset: i.name for i in await DatasetStore(self.kb).imports()}
        return [names.get(d, d) for d in await self.kb.imported_datasets()]


def _card_weight(card: Card) -> int:
    return 1 + sum(section.line_count for section in card.sections)


class CardCache(Generic[T]):
    """Built cards by entity id, for one version of the knowledge base, least recently used out.

    Bounded by the lines the cards hold (a card of an entity with 2,000 claims weighs as much as
    2,000 small ones). A card built while the version changed is not kept.
    """

    def __init__(self, max_lines: int, weigh: Callable[[T], int] | None = None) -> None:
        self.max_lines = max_lines
        self._weigh: Callable[[T], int] = weigh or _card_weight  # type: ignore[assignment]
        self.version: object = None
        self.lines = 0
        self.hits = 0
        self.misses = 0
        self._cards: OrderedDict[str, tuple[T, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._cards)

    def _at(self, version: object) -> None:
        """Move to ``version``, dropping every card kept at another."""
        if version != self.version:
            self.clear()
            self.version = version

    def get(self, entity_id: str, version: object) -> T | None:
        """The card kept for ``entity_id`` at ``version``, or None."""
        self._at(version)
        found = self._cards.get(entity_id)
        if found is None:
            self.misses += 1
            return None
        self.hits += 1
        self._cards.move_to_end(entity_id)
        return found[0]

    def kept(self, entity_id: str) -> T | None:
        """The card kept for ``entity_id`` at whatever version the cache is at (for a database
        out of reach, whose version cannot be read)."""
        found = self._cards.get(entity_id)
        return None if found is None else found[0]

    def put(self, entity_id: str, version: object, card: T) -> None:
        """Keep ``card`` if it was built at the current version and is not larger than the cache."""
        if version != self.version:
            return
        weight = self._weigh(card)
        if weight > self.max_lines:
            return
        previous = self._cards.pop(entity_id, None)
        if previous is not None:
            self.lines -= previous[1]
        self._cards[entity_id] = (card, weight)
        self.lines += weight
        while self.lines > self.max_lines:
            _, (_, dropped) = self._cards.popitem(last=False)
            self.lines -= dropped

    def clear(self) -> None:
        """Forget every card."""
        self._cards.clear()
        self.lines = 0
