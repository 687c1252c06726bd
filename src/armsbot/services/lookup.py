"""Looking things up: search, resolve a name to an entity, and build its card."""

from __future__ import annotations

from dataclasses import dataclass

from armsbot.cards.build import Names, entity_card, search_card
from armsbot.cards.model import Card
from armsbot.models import Kind, check_clean_text
from armsbot.search.index import Match, SearchIndex
from armsbot.storage import KnowledgeBase

MAX_QUERY_LENGTH = 100
MAX_RESULTS = 25


QUERY_MESSAGES = {
    "query.hidden": "The query {reason}; type it again in plain text.",
    "query.empty": "The query is empty: type a name, such as Azerbaijan or NSO Group.",
    "query.too_long": "The query is {length} characters long; names are at most {limit}.",
}


class QueryError(ValueError):
    """A query the user must fix; ``key`` and ``params`` let an adapter translate the message."""

    def __init__(self, key: str, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(QUERY_MESSAGES[key].format(**params))


def clean_query(query: str) -> str:
    """The query trimmed, or :class:`QueryError` when it is empty, too long or has hidden text."""
    try:
        cleaned = check_clean_text(query)
    except ValueError as exc:
        raise QueryError("query.hidden", reason=str(exc)) from None
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

    def __init__(self, kb: KnowledgeBase, index: SearchIndex) -> None:
        self.kb = kb
        self.index = index

    def search(self, query: str, kind: Kind | None = None, limit: int = 10) -> list[Match]:
        """Ranked matches for ``query``; raises :class:`QueryError` on unusable input."""
        cleaned = clean_query(query)
        return self.index.search(cleaned, kind, max(1, min(limit, MAX_RESULTS)))

    def search_card(self, query: str, kind: Kind | None = None, limit: int = 10) -> Card:
        """The search results as a card."""
        return search_card(clean_query(query), self.search(query, kind, limit))

    async def ask(self, kind: Kind, query: str) -> Answer:
        """The card for the ``kind`` entity ``query`` names (an id or a name)."""
        cleaned = clean_query(query)
        if self.index.entity_kind(cleaned) is kind:
            card = await self.card(cleaned)
            return Answer(cleaned, card, [])
        resolution = self.index.resolve(cleaned, kind)
        if resolution.chosen is None:
            return Answer(cleaned, None, resolution.candidates)
        return Answer(cleaned, await self.card(resolution.chosen.id), resolution.candidates)

    async def card(self, entity_id: str) -> Card | None:
        """The card of one entity by id, or None if there is no such entity."""
        entity = await self.kb.entity(entity_id)
        if entity is None:
            return None
        claims = await self.kb.claims_about(entity_id)
        mentioned = {p.entity for c in claims for p in c.parties}
        if entity.attributes.get("headquarters"):
            mentioned.add(str(entity.attributes["headquarters"]))
        names = Names(
            await self.kb.entity_names(mentioned), await self.kb.entity_attributes(mentioned)
        )
        return entity_card(entity, claims, names)
