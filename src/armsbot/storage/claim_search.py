"""The SQL behind questions about connections: claims in which several entities are all parties.

A claim matches when, for each group of entity ids, one of its parties is in the group (a group is
one named entity, or a country with the firms based there): an ``INTERSECT`` of the claim ids of
each group, read from the ``claim_parties_entity`` index. Words narrow through the full-text
index ``claims_fts`` (migration 6), filters are plain columns, and the order (category, then
newest first by the event's date or else the report's) and the page (``LIMIT``/``OFFSET``) are
SQL too: nothing reads every claim into Python. On PostgreSQL the same statements run with
``to_tsvector(...) @@ phraseto_tsquery(...)`` in place of ``MATCH``, read from the GIN indexes of
its migration 1 (``SEARCHABLE`` is their expression; the two must stay the same).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from armsbot.models import Category, Claim, Status
from armsbot.storage.knowledge_base import KnowledgeBase

# Claims grouped by category in this order, as cards place them.
CATEGORY_ORDER = [
    Category.TRANSFER,
    Category.USE,
    Category.EMBARGO,
    Category.DESIGNATION,
    Category.LEGAL,
    Category.RESPONSE,
    Category.BACKGROUND,
]
_CATEGORY_RANK = (
    "CASE c.category "
    + " ".join(f"WHEN '{c.value}' THEN {i}" for i, c in enumerate(CATEGORY_ORDER))
    + f" ELSE {len(CATEGORY_ORDER)} END"
)
_WHEN = "coalesce(c.date, c.reported)"
ORDER = f"{_CATEGORY_RANK}, {_WHEN} IS NULL, {_WHEN} DESC, c.id"
# PostgreSQL: what the full-text indexes claims_words and claims_product_words hold.
SEARCHABLE = (
    "to_tsvector('english'::regconfig, c.text || ' ' || coalesce(c.product, '') || ' ' || c.goods"
    " || ' ' || coalesce(c.end_user, ''))"
)
PRODUCT = "to_tsvector('english'::regconfig, coalesce(c.product, ''))"


@dataclass(frozen=True, slots=True)
class ClaimFilter:
    """Which claims a question asks for."""

    groups: tuple[tuple[str, ...], ...] = ()  # a party in each group
    words: tuple[str, ...] = ()  # every word in the text, product, goods or end user
    statuses: tuple[Status, ...] = ()
    category: Category | None = None
    since: int | None = None  # years, of the event or else of the report
    until: int | None = None
    product: tuple[str, ...] = ()  # every word in the product

    def without_words(self) -> ClaimFilter:
        """The same filter with no words to look for."""
        return ClaimFilter(
            self.groups, (), self.statuses, self.category, self.since, self.until, self.product
        )

    def parties_only(self) -> ClaimFilter:
        """Only the parties: every claim that links the groups."""
        return ClaimFilter(self.groups)


def _phrase(word: str) -> str:
    """A word as an FTS5 string: quoted, so no word is read as query syntax."""
    return '"' + word.replace('"', '""') + '"'


def match_expression(words: Sequence[str], product: Sequence[str]) -> str | None:
    """The FTS5 query for ``words`` anywhere and ``product`` words in the product, or None."""
    terms = [_phrase(w) for w in words]
    if product:
        terms.append("{product} : (" + " AND ".join(_phrase(w) for w in product) + ")")
    return " AND ".join(terms) or None


def _words_clause(query: ClaimFilter, dialect: str) -> tuple[str, list[Any]] | None:
    """The condition on ``c`` for the words of ``query`` (each a phrase), or None for none."""
    if dialect != "postgresql":
        expression = match_expression(query.words, query.product)
        if expression is None:
            return None
        return "c.rowid IN (SELECT rowid FROM claims_fts WHERE claims_fts MATCH ?)", [expression]
    clauses = []
    for column, words in ((SEARCHABLE, query.words), (PRODUCT, query.product)):
        if words:
            phrases = " && ".join("phraseto_tsquery('english'::regconfig, ?)" for _ in words)
            clauses.append(f"{column} @@ ({phrases})")
    if not clauses:
        return None
    return " AND ".join(clauses), [*query.words, *query.product]


def _where(query: ClaimFilter, dialect: str) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if query.groups:
        selects = []
        for group in query.groups:
            selects.append(
                "SELECT claim_id FROM claim_parties WHERE entity_id IN"
                f" ({','.join('?' * len(group))})"
            )
            params.extend(group)
        clauses.append(f"c.id IN ({' INTERSECT '.join(selects)})")
    words = _words_clause(query, dialect)
    if words is not None:
        clauses.append(words[0])
        params.extend(words[1])
    if query.statuses:
        clauses.append(f"c.status IN ({','.join('?' * len(query.statuses))})")
        params.extend(s.value for s in query.statuses)
    if query.category is not None:
        clauses.append("c.category = ?")
        params.append(query.category.value)
    if query.since is not None:
        clauses.append(f"substr({_WHEN}, 1, 4) >= ?")
        params.append(f"{query.since:04d}")
    if query.until is not None:
        clauses.append(f"substr({_WHEN}, 1, 4) <= ?")
        params.append(f"{query.until:04d}")
    return " AND ".join(clauses) or "1 = 1", params


class ClaimSearch:
    """Claims by parties, words and filters, counted and paged in SQL."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._total: tuple[object, int] | None = None

    async def count(self, query: ClaimFilter) -> int:
        """How many claims ``query`` selects."""
        only_words = not (
            query.groups or query.statuses or query.category or query.since or query.until
        )
        expression = match_expression(query.words, query.product)
        if only_words and expression is not None and self.kb.dialect == "sqlite":
            # Counted in the full-text index alone, without reading a claim.
            sql, params = "SELECT count(*) FROM claims_fts WHERE claims_fts MATCH ?", [expression]
            async with self.kb.db.execute(sql, params) as cursor:
                row = await cursor.fetchone()
            return int(row[0]) if row else 0
        if query == ClaimFilter():
            return await self.total()
        where, params = _where(query, self.kb.dialect)
        async with self.kb.db.execute(
            f"SELECT count(*) FROM claims c WHERE {where}", params
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def total(self) -> int:
        """How many claims the knowledge base holds (kept until it changes)."""
        version = await self.kb.version()
        if self._total is None or self._total[0] != version:
            async with self.kb.db.execute("SELECT count(*) FROM claims") as cursor:
                row = await cursor.fetchone()
            self._total = (version, int(row[0]) if row else 0)
        return self._total[1]

    async def ids(self, query: ClaimFilter, offset: int, limit: int) -> list[str]:
        """The ids of the claims ``query`` selects, in order, from ``offset``, at most ``limit``."""
        where, params = _where(query, self.kb.dialect)
        async with self.kb.db.execute(
            f"SELECT c.id FROM claims c WHERE {where} ORDER BY {ORDER} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ) as cursor:
            return [str(r[0]) for r in await cursor.fetchall()]

    async def claims(self, query: ClaimFilter, offset: int, limit: int) -> list[Claim]:
        """The claims ``query`` selects, in order, from ``offset``, at most ``limit``."""
        ids = await self.ids(query, offset, limit)
        found = {c.id: c for c in await self.kb.claims_by_id(ids)}
        return [found[i] for i in ids if i in found]

    async def firms_based_in(self, countries: Sequence[str]) -> dict[str, list[str]]:
        """For each of these country ids, the firms whose headquarters it is, by id."""
        if not countries:
            return {}
        based: dict[str, list[str]] = {c: [] for c in countries}
        async with self.kb.db.execute(
            "SELECT json_extract(attributes, '$.headquarters'), id FROM entities"
            " WHERE kind = 'firm' AND json_extract(attributes, '$.headquarters')"
            f" IN ({','.join('?' * len(countries))}) ORDER BY id",
            list(countries),
        ) as cursor:
            for country, firm in await cursor.fetchall():
                based[str(country)].append(str(firm))
        return based
