"""Questions about connections: the claims that link the entities a query names.

"NSO Morocco" names NSO Group and Morocco: the answer is every claim in which both are parties.
A country read from the query also stands for the firms based there ("israeli drones" reaches
IAI's claims), words left over narrow the claims through full-text search (and are dropped, with
a note, when they would leave nothing), and filters (status, category, years, product) apply in
SQL. The answer says how the query was read and how many claims it found of how many.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from armsbot.cards.build import CATEGORY_TITLES, FOOTER, SourceNumbers
from armsbot.cards.feed import WHOLE_LINES, CardFeed, FeedItem
from armsbot.cards.model import Card
from armsbot.models import Category, Claim, Kind, Status
from armsbot.search.index import Match, MatchTier, Resolution, SearchIndex
from armsbot.search.reading import AmbiguousName, read_query
from armsbot.services.lookup import QueryError, clean_query
from armsbot.storage import KnowledgeBase
from armsbot.storage.claim_search import ClaimFilter, ClaimSearch
from armsbot.storage.knowledge_base import ListedClaim

MIN_YEAR = 1900
# Claims whose ids an answer reads with its count: all of those of an answer laid out whole, else
# more than its first page.
FIRST_READ = WHOLE_LINES
MAX_YEAR = 2100


@dataclass(frozen=True, slots=True)
class ClaimQuery:
    """A question about connections: free text, exact parties and filters, validated."""

    text: str = ""
    parties: tuple[str, ...] = ()  # entity ids that must be parties themselves
    statuses: tuple[Status, ...] = ()
    category: Category | None = None
    since: int | None = None
    until: int | None = None
    product: str | None = None
    kind: Kind | None = None  # read only names of this kind from the text

    @classmethod
    def make(
        cls,
        text: str = "",
        *,
        parties: Sequence[str] = (),
        statuses: Sequence[str | Status] = (),
        category: str | Category | None = None,
        since: int | None = None,
        until: int | None = None,
        product: str | None = None,
        kind: str | Kind | None = None,
    ) -> ClaimQuery:
        """A query from what a person typed; :class:`QueryError` says what is wrong with it."""
        cleaned = clean_query(text) if text.strip() else ""
        shown_product = clean_query(product) if product is not None and product.strip() else None
        for year in (since, until):
            if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
                raise QueryError("claims.year", year=year, low=MIN_YEAR, high=MAX_YEAR)
        if since is not None and until is not None and since > until:
            raise QueryError("claims.years", since=since, until=until)
        if not cleaned and not parties and shown_product is None:
            raise QueryError("claims.nothing")
        return cls(
            text=cleaned,
            parties=tuple(dict.fromkeys(parties)),
            statuses=tuple(sorted({Status(s) for s in statuses}, key=list(Status).index)),
            category=Category(category) if category is not None else None,
            since=since,
            until=until,
            product=shown_product,
            kind=Kind(kind) if kind is not None else None,
        )

    def state(self) -> str:
        """The query as compact JSON, for a button to carry (see :meth:`from_state`)."""
        values: list[Any] = [
            self.text,
            list(self.parties),
            "".join(s.value[0] for s in self.statuses),
            self.category.value if self.category else "",
            self.since or 0,
            self.until or 0,
            self.product or "",
            self.kind.value if self.kind else "",
        ]
        while values and values[-1] in ("", 0, []):
            values.pop()
        return json.dumps(values, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_state(cls, state: str) -> ClaimQuery:
        """The query a button's state describes; ValueError (or QueryError) if it is not one."""
        values = json.loads(state)
        if not isinstance(values, list) or len(values) > 8:
            raise ValueError("not a query state")
        defaults: list[Any] = ["", [], "", "", 0, 0, "", ""]
        padded: list[Any] = values + defaults[len(values) :]
        text, parties, statuses, category, since, until, product, kind = padded
        initials = {s.value[0]: s for s in Status}
        if not (
            isinstance(text, str)
            and isinstance(parties, list)
            and all(isinstance(p, str) and 0 < len(p) <= 80 for p in parties)
            and len(parties) <= 10
            and isinstance(statuses, str)
            and set(statuses) <= set(initials)
            and all(isinstance(y, int) and not isinstance(y, bool) for y in (since, until))
            and all(isinstance(v, str) for v in (category, product, kind))
        ):
            raise ValueError("not a query state")
        return cls.make(
            text,
            parties=parties,
            statuses=[initials[s] for s in statuses],
            category=category or None,
            since=since or None,
            until=until or None,
            product=product or None,
            kind=kind or None,
        )

    def choosing(self, choice: AmbiguousName, entity_id: str) -> ClaimQuery:
        """This query with an ambiguous name replaced by the entity chosen for it."""
        return replace(self, text=choice.rest, parties=(*self.parties, entity_id))

    def filters_text(self) -> str:
        """The filters in words: 'confirmed or reported; transfer; 2015–2020; product “X”'."""
        parts = []
        if self.statuses:
            parts.append(" or ".join(s.value for s in self.statuses))
        if self.category:
            parts.append(self.category.value)
        if self.since and self.until:
            parts.append(
                f"{self.since}–{self.until}" if self.since != self.until else f"{self.since}"
            )
        elif self.since:
            parts.append(f"since {self.since}")
        elif self.until:
            parts.append(f"until {self.until}")
        if self.product:
            parts.append(f"product “{self.product}”")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class LinkedEntity:
    """An entity the question names, and the firms based there that stand with it."""

    id: str
    kind: Kind
    name: str
    firms: tuple[str, ...] = ()


@dataclass(slots=True)
class ClaimsAnswer:
    """The claims a question asks for: how it was read, how many there are, what the pages read."""

    query: ClaimQuery
    entities: tuple[LinkedEntity, ...] = ()
    ambiguous: tuple[AmbiguousName, ...] = ()
    words: tuple[str, ...] = ()
    words_dropped: bool = False  # the words matched nothing: the claims are shown without them
    linking: int = 0  # claims that link the entities (every claim, without entities)
    total: int = 0  # claims in the answer
    filter: ClaimFilter = field(default_factory=ClaimFilter)
    first: tuple[str, ...] = ()  # the ids of its first claims, in order, read with the count

    @property
    def searched(self) -> bool:
        """Whether there was anything to look for (entities, words or a product)."""
        return bool(self.entities or self.words or self.query.product)

    def heading(self) -> str:
        """How the query was read: 'Claims linking NSO Group and Morocco, 3 of 3'."""
        if not self.searched:
            return f"Nothing to look for in “{self.query.text}”"
        about = self._about(with_words=not self.words_dropped)
        return f"{about}, {self.total} of {self.linking}"

    def notes(self) -> list[str]:
        """What the reader should know besides the heading: dropped words, empty answers."""
        notes = []
        linked = self._linked()
        if self.words_dropped:
            notes.append(
                f"No claim {linked} mentions {_words(self.words)}; these are the claims"
                f" that {'link them' if len(self.entities) > 1 else 'name it'} without"
                f" {'those words' if len(self.words) > 1 else 'that word'}."
            )
        elif self.total == 0 and self.searched:
            if len(self.entities) > 1 and self.linking == 0:
                notes.append(f"No claim links {_names([e.name for e in self.entities])}.")
            elif not self.entities and self.words and not self.query.filters_text():
                notes.append(f"No claim mentions {_words(self.words)}.")
            else:
                notes.append("No claim matches all of that.")
        if self.query.filters_text():
            notes.append(f"Filters: {self.query.filters_text()}.")
        return notes

    def _linked(self) -> str:
        """'linking NSO Group and Morocco', 'about Mexico', or '' without entities."""
        names = [f"{e.name} (or firms based there)" if e.firms else e.name for e in self.entities]
        if len(names) > 1:
            return f"linking {_names(names)}"
        return f"about {names[0]}" if names else ""

    def _about(self, *, with_words: bool) -> str:
        parts = ["Claims"]
        linked = self._linked()
        if linked:
            parts.append(linked)
        if with_words and self.words:
            parts.append(f"that mention {_words(self.words)}")
        if self.query.product:
            parts.append(f"with product “{self.query.product}”")
        return " ".join(parts)


def wants_claims(answer: ClaimsAnswer) -> bool:
    """Whether a search is a question about connections rather than a lookup of one name.

    One name and nothing else ("pegasus") is answered with the entities it matches, as before;
    two names, a name and words, words alone, or any filter are answered with claims.
    """
    query = answer.query
    filters = query.statuses or query.category or query.since or query.until or query.product
    return bool(
        answer.ambiguous or len(answer.entities) > 1 or answer.words or filters or query.parties
    )


def _names(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _words(words: Sequence[str]) -> str:
    return _names([f"“{w}”" for w in words])


class ClaimsService:
    """Answers questions about connections from the knowledge base and its index."""

    def __init__(self, kb: KnowledgeBase, index: SearchIndex) -> None:
        self.kb = kb
        self.index = index
        self.search = ClaimSearch(kb)

    def party(self, name: str) -> Resolution:
        """The entity a party name (or id) names, or the candidates when it is not clear which."""
        cleaned = clean_query(name)
        kind = self.index.entity_kind(cleaned)
        if kind is not None:
            match = Match(
                cleaned,
                kind,
                self.index.entity_name(cleaned) or cleaned,
                cleaned,
                100.0,
                MatchTier.EXACT,
            )
            return Resolution(match, [match])
        return self.index.resolve(cleaned)

    async def answer(self, query: ClaimQuery) -> ClaimsAnswer:
        """How ``query`` reads, and how many claims answer it (the claims: :meth:`page`)."""
        reading = read_query(self.index, query.text, query.kind) if query.text else None
        answer = ClaimsAnswer(query)
        if reading is not None and reading.ambiguous:
            answer.ambiguous = reading.ambiguous
            return answer
        entities: list[LinkedEntity] = []
        named = [(e.id, e.kind, e.name) for e in reading.entities] if reading else []
        exact = [(i, self.index.entity_kind(i), self.index.entity_name(i)) for i in query.parties]
        countries = [i for i, kind, _ in named if kind is Kind.COUNTRY]
        based = await self.search.firms_based_in(countries)
        mentioned = {i for i, _, _ in (*named, *exact)}
        for entity_id, kind, name in named:
            firms = tuple(f for f in based.get(entity_id, ()) if f not in mentioned)
            entities.append(LinkedEntity(entity_id, kind, name, firms))
        for entity_id, party_kind, party_name in exact:
            if party_kind is not None and entity_id not in {e.id for e in entities}:
                entities.append(LinkedEntity(entity_id, party_kind, party_name or entity_id))
        answer.entities = tuple(entities)
        answer.words = reading.words if reading else ()
        product = tuple(query.product.split()) if query.product else ()
        wanted = ClaimFilter(
            groups=tuple((e.id, *e.firms) for e in entities),
            words=answer.words,
            statuses=query.statuses,
            category=query.category,
            since=query.since,
            until=query.until,
            product=product,
        )
        if not answer.searched:
            return answer
        answer.total, first = await self.search.first(wanted, FIRST_READ)
        linking = wanted.parties_only()
        # Parties alone ("NSO Morocco"): the claims that link them are the answer, counted once.
        answer.linking = answer.total if wanted == linking else await self.search.count(linking)
        answer.filter = wanted
        if answer.total == 0 and answer.words and entities:
            without = wanted.without_words()
            total, first = await self.search.first(without, FIRST_READ)
            if total:
                answer.words_dropped = True
                answer.total = total
                answer.filter = without
        answer.first = tuple(first)
        return answer

    async def page(self, answer: ClaimsAnswer, offset: int, limit: int) -> list[Claim]:
        """The answer's claims from ``offset`` on, at most ``limit``, in order."""
        return await self.search.in_order(await self._ids(answer, offset, limit))

    async def listed(self, answer: ClaimsAnswer, offset: int, limit: int) -> list[ListedClaim]:
        """:meth:`page`'s claims as a list shows them (no parties: read in one statement)."""
        return await self.search.listed_in_order(await self._ids(answer, offset, limit))

    async def _ids(self, answer: ClaimsAnswer, offset: int, limit: int) -> Sequence[str]:
        if not answer.searched or answer.total == 0:
            return ()
        if offset + limit <= len(answer.first) or len(answer.first) == answer.total:
            # Read with the count: the first pages do not order the claims a second time.
            return answer.first[offset : offset + limit]
        return await self.search.ids(answer.filter, offset, limit)

    def feed(self, answer: ClaimsAnswer) -> CardFeed:
        """The answer as a card read a batch of claims at a time (for pages)."""
        head = Card(kind="claims", title=answer.heading(), summary=" ".join(answer.notes()) or None)
        head.footer = FOOTER
        feed = CardFeed(head, answer.total)
        sources = feed.sources  # not the feed: no reference cycle (see LookupService)
        numbers = SourceNumbers()
        offset = 0

        async def read(count: int) -> list[FeedItem]:
            nonlocal offset
            claims = await self.listed(answer, offset, count)
            offset += len(claims)
            items: list[FeedItem] = [
                (CATEGORY_TITLES[c.category], None, numbers.line(c)) for c in claims
            ]
            for source in numbers.numbered.values():
                sources.setdefault(source.number, source)
            return items

        feed.read = read
        return feed

    async def parties_of(self, claims: Sequence[Claim]) -> dict[str, tuple[Kind, str]]:
        """Kind and name of every party of these claims."""
        return await self.kb.entity_names({p.entity for c in claims for p in c.parties})


def claim_json(claim: Claim, names: dict[str, tuple[Kind, str]]) -> dict[str, Any]:
    """One claim as ``armsbot claims --json`` prints it."""
    return {
        "id": claim.id,
        "text": claim.text,
        "status": claim.status.value,
        "category": claim.category.value,
        "date": claim.date,
        "reported": claim.reported,
        "product": claim.product,
        "parties": [
            {
                "id": p.entity,
                "kind": names[p.entity][0].value if p.entity in names else None,
                "name": names[p.entity][1] if p.entity in names else p.entity,
                "role": p.role.value,
            }
            for p in claim.parties
        ],
        "sources": [
            {"url": s.url, "title": s.title, "publisher": s.publisher, "date": s.date}
            for s in claim.sources
        ],
    }
