"""The SQL behind questions about connections: claims in which several entities are all parties.

A claim matches when, for each group of entity ids, one of its parties is in the group (a group is
one named entity, or a country with the firms based there): an ``INTERSECT`` of the claims of each
group. Words narrow through a full-text index, filters are plain columns, and the order
(category, then newest first by the event's date or else the report's) and the page
(``LIMIT``/``OFFSET``) are SQL too: nothing reads every claim into Python.

The backends differ in what they read (``_selection``). SQLite reads the short rows of
``claim_order`` (migration 9), so ordering the ten thousand matches of a common word does not
read their wide claims rows; the claims of the parties are rowids from ``card_places`` (migration
9: each entity's claims kept together), the words go through ``claims_fts`` (migration 6).
PostgreSQL has neither table: it reads the claims and ``claim_parties`` themselves (``_where``),
the words with ``to_tsvector(...) @@ phraseto_tsquery(...)`` from the GIN indexes of its
migration 1 (``SEARCHABLE`` is their expression; the two must stay the same). Both select the same
claims in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from armsbot.models import Category, Claim, Status
from armsbot.storage.knowledge_base import KnowledgeBase, ListedClaim
from armsbot.storage.migrations import party_key

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


def linked_expression(query: ClaimFilter) -> str:
    """SQLite: the FTS5 query of ``claims_linked`` (migration 11) for the words of ``query`` (in
    what the claim says, not in its parties' keys) and a party of each of its groups."""
    terms = []
    if query.words:
        words = " AND ".join(_phrase(w) for w in query.words)
        terms.append(f"{{text product goods end_user}} : ({words})")
    if query.product:
        terms.append("{product} : (" + " AND ".join(_phrase(w) for w in query.product) + ")")
    terms += ["{party_keys} : (" + " OR ".join(party_key(e) for e in g) + ")" for g in query.groups]
    return " AND ".join(terms)


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


def _filters(
    query: ClaimFilter, status: str, category: str, when: str
) -> tuple[list[str], list[Any]]:
    """The clauses of the statuses, category and years of ``query``, on the columns named (of
    claims or of claim_order)."""
    clauses: list[str] = []
    params: list[Any] = []
    if query.statuses:
        clauses.append(f"{status} IN ({','.join('?' * len(query.statuses))})")
        params.extend(s.value for s in query.statuses)
    if query.category is not None:
        clauses.append(f"{category} = ?")
        params.append(query.category.value)
    if query.since is not None:
        clauses.append(f"substr({when}, 1, 4) >= ?")
        params.append(f"{query.since:04d}")
    if query.until is not None:
        clauses.append(f"substr({when}, 1, 4) <= ?")
        params.append(f"{query.until:04d}")
    return clauses, params


def _linking(groups: Sequence[Sequence[str]], params: list[Any]) -> str:
    """The ids of the claims with a party in each group (distinct), its parameters in ``params``."""
    selects = []
    for group in groups:
        selects.append(
            "SELECT DISTINCT claim_id FROM claim_parties WHERE entity_id IN"
            f" ({','.join('?' * len(group))})"
        )
        params.extend(group)
    return " INTERSECT ".join(selects)


def _linking_rows(groups: Sequence[Sequence[str]], params: list[Any]) -> str:
    """SQLite: the rowids of the claims with a party in each group, read from ``card_places``
    (migration 9), which keeps each entity's claims together with their rowids: no look-up of
    each claim."""
    selects = []
    for group in groups:
        selects.append(
            f"SELECT rid FROM card_places WHERE entity_id IN ({','.join('?' * len(group))})"
        )
        params.extend(group)
    return " INTERSECT ".join(selects)


def _where(query: ClaimFilter, dialect: str) -> tuple[str, list[Any]]:
    """The WHERE clause over ``claims c`` that selects what ``query`` asks for: what PostgreSQL
    reads, and on SQLite the claims themselves that ``claim_order`` must select alike."""
    clauses: list[str] = []
    params: list[Any] = []
    if query.groups:
        clauses.append(f"c.id IN ({_linking(query.groups, params)})")
    words = _words_clause(query, dialect)
    if words is not None:
        clauses.append(words[0])
        params.extend(words[1])
    more, more_params = _filters(query, "c.status", "c.category", _WHEN)
    return " AND ".join([*clauses, *more]) or "1 = 1", [*params, *more_params]


# The order of ORDER, read from claim_order (migration 9).
_NARROW_ORDER = "o.rank, o.w IS NULL, o.w DESC, o.id"


def _narrow_source(query: ClaimFilter) -> tuple[str, list[Any]]:
    """SQLite: FROM and WHERE of the rows of ``claim_order`` (migration 9) that ``query`` selects,
    which the filters and the order read instead of the claims' wide rows. With words, the
    full-text index's matches, each joined to its short row: with parties too, the matches of
    ``claims_linked`` (migration 11), which indexes the parties' keys beside the words; without
    words, the claims of the parties by rowid, from ``card_places``."""
    clauses: list[str] = []
    params: list[Any] = []
    expression = match_expression(query.words, query.product)
    if expression is None:
        source = "claim_order o"
        if query.groups:
            clauses.append(f"o.rid IN ({_linking_rows(query.groups, params)})")
    elif query.groups:
        # Words and parties: the full-text index of both (migration 11) intersects them itself.
        source = "claims_linked f JOIN claim_order o ON o.rid = f.rowid"
        clauses.append("claims_linked MATCH ?")
        params.append(linked_expression(query))
    else:
        source = "claims_fts f JOIN claim_order o ON o.rid = f.rowid"
        clauses.append("claims_fts MATCH ?")
        params.append(expression)
    more, more_params = _filters(query, "o.status", "o.category", "o.w")
    where = " AND ".join([*clauses, *more]) or "1 = 1"
    return f"{source} WHERE {where}", [*params, *more_params]


# SQLite: a page of the claims that words alone match, in order, from ``claims_fts_order``
# (migration 10), whose rowids are keys in the order claims are listed: the category's rank,
# undated or not, the year (later first) in the high bits, the claim's rowid in the low 32. The
# matches come out in that order, so only a page of them is read; the claims of the years the
# page spans (whole) are then put in their exact order (dates, ids) from claim_order, and the
# page is cut from them, after the matches of the years before. Each row also has how many
# match in all, and whether the keys can be trusted: every claim's rowid fits in 32 bits and
# every date starts with a year (``claim_order_odd_dates`` is empty); past the last match, one
# row with no id says so.
_KEY_ORDER = """
WITH page AS (
    SELECT rowid AS k FROM claims_fts_order WHERE claims_fts_order MATCH :m
    ORDER BY rowid LIMIT :limit OFFSET :offset),
bounds AS (SELECT min(k) >> 32 AS lo, max(k) >> 32 AS hi FROM page),
years AS (
    SELECT o.id, o.rank, o.w FROM bounds CROSS JOIN claims_fts_order f
    JOIN claim_order o ON o.rid = (f.rowid & 4294967295)
    WHERE claims_fts_order MATCH :m
    AND f.rowid >= (bounds.lo << 32) AND f.rowid < ((bounds.hi + 1) << 32)),
before AS (
    SELECT count(*) AS n FROM bounds CROSS JOIN claims_fts_order f
    WHERE claims_fts_order MATCH :m AND f.rowid < (bounds.lo << 32)),
cut AS (
    SELECT y.* FROM years y ORDER BY y.rank, y.w IS NULL, y.w DESC, y.id
    LIMIT :limit OFFSET :offset - (SELECT n FROM before)),
meta AS (
    SELECT (SELECT count(*) FROM claims_fts_order WHERE claims_fts_order MATCH :m) AS n,
    (SELECT coalesce(max(rid), 0) < 4294967296 FROM claim_order)
    AND NOT EXISTS (SELECT 1 FROM claim_order
        WHERE w IS NOT NULL AND NOT (w GLOB '[0-9][0-9][0-9][0-9]*')) AS ok)
SELECT cut.id, meta.n, meta.ok FROM meta LEFT JOIN cut
ORDER BY cut.rank, cut.w IS NULL, cut.w DESC, cut.id
"""


class _Selection(NamedTuple):
    """What a backend reads for a query: FROM and WHERE, the claim id column, the ORDER BY."""

    source: str
    id: str
    order: str
    params: list[Any]


def _selection(query: ClaimFilter, dialect: str) -> _Selection:
    """The claims ``query`` selects: on SQLite from ``claim_order`` (migration 9), on PostgreSQL,
    which has no such table, from the claims themselves."""
    if dialect == "postgresql":
        where, params = _where(query, dialect)
        return _Selection(f"claims c WHERE {where}", "c.id", ORDER, params)
    source, params = _narrow_source(query)
    return _Selection(source, "o.id", _NARROW_ORDER, params)


class ClaimSearch:
    """Claims by parties, words and filters, counted and paged in SQL."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._total: tuple[object, int] | None = None

    async def _rows(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()) -> list[Any]:
        """The rows of one statement, in one trip to the connection's thread (a cursor takes
        three: execute, fetch, close; each a wait for another thread on a busy machine)."""
        return list(await self.kb.db.execute_fetchall(sql, params))

    async def count(self, query: ClaimFilter) -> int:
        """How many claims ``query`` selects."""
        filtered = query.statuses or query.category or query.since or query.until
        expression = match_expression(query.words, query.product)
        params: list[Any]
        if (
            expression is not None
            and not (query.groups or filtered)
            and self.kb.dialect == "sqlite"
        ):
            # Counted in the full-text index alone, without reading a claim.
            sql, params = "SELECT count(*) FROM claims_fts WHERE claims_fts MATCH ?", [expression]
        elif query == ClaimFilter():
            return await self.total()
        elif expression is None and not filtered:
            # Only parties: counted in the index of claim_parties, without reading a claim.
            params = []
            sql = f"SELECT count(*) FROM ({_linking(query.groups, params)}) AS linking"
        else:
            selection = _selection(query, self.kb.dialect)
            sql, params = f"SELECT count(*) FROM {selection.source}", selection.params
        rows = await self._rows(sql, params)
        return int(rows[0][0]) if rows else 0

    async def total(self) -> int:
        """How many claims the knowledge base holds (kept until it changes)."""
        version = await self.kb.version()
        if self._total is None or self._total[0] != version:
            rows = await self._rows("SELECT count(*) FROM claims")
            self._total = (version, int(rows[0][0]) if rows else 0)
        return self._total[1]

    def _select(self, query: ClaimFilter, *, counted: bool) -> tuple[str, list[Any]]:
        """The ids of the claims ``query`` selects, in order, up to ``LIMIT ? OFFSET ?``; with
        ``counted``, each with how many there are in all."""
        selection = _selection(query, self.kb.dialect)
        columns = f"{selection.id}, count(*) OVER ()" if counted else selection.id
        return (
            f"SELECT {columns} FROM {selection.source} ORDER BY {selection.order} LIMIT ? OFFSET ?",
            selection.params,
        )

    def _in_key_order(self, query: ClaimFilter) -> bool:
        """Whether ``query``'s claims come in order from ``claims_fts_order`` (words alone, on
        SQLite)."""
        return (
            self.kb.dialect == "sqlite"
            and query == ClaimFilter(words=query.words, product=query.product)
            and bool(query.words or query.product)
        )

    async def _ids_in_key_order(
        self, query: ClaimFilter, offset: int, limit: int
    ) -> tuple[int, list[str]] | None:
        """How many claims the words of ``query`` match, and the ids from ``offset`` (at most
        ``limit``), read in order from ``claims_fts_order`` (migration 10); None when its keys
        cannot order them (a date that does not start with a year)."""
        params = {"m": match_expression(query.words, query.product), "limit": limit}
        rows = await self._rows(_KEY_ORDER, {**params, "offset": offset})
        if not rows[0][2]:
            return None
        return int(rows[0][1]), [str(r[0]) for r in rows if r[0] is not None]

    async def ids(self, query: ClaimFilter, offset: int, limit: int) -> list[str]:
        """The ids of the claims ``query`` selects, in order, from ``offset``, at most ``limit``."""
        if self._in_key_order(query):
            found = await self._ids_in_key_order(query, offset, limit)
            if found is not None:
                return found[1]
        sql, params = self._select(query, counted=False)
        return [str(r[0]) for r in await self._rows(sql, [*params, limit, offset])]

    async def first(self, query: ClaimFilter, limit: int) -> tuple[int, list[str]]:
        """How many claims ``query`` selects, and the ids of the first ``limit`` of them.

        One statement when an index alone cannot count them: a count and then a page of the
        claims that a party and a word select would each intersect the two sets.
        """
        if self._in_key_order(query):
            found = await self._ids_in_key_order(query, 0, limit)
            if found is not None:
                return found
        filtered = query.groups or query.statuses or query.category or query.since or query.until
        if not filtered:  # counted from an index alone (see count)
            return await self.count(query), await self.ids(query, 0, limit)
        sql, params = self._select(query, counted=True)
        rows = await self._rows(sql, [*params, limit, 0])
        return (int(rows[0][1]) if rows else 0), [str(r[0]) for r in rows]

    async def in_order(self, ids: Sequence[str]) -> list[Claim]:
        """The claims with these ids, in this order (those that still exist)."""
        found = {c.id: c for c in await self.kb.claims_by_id(ids)}
        return [found[i] for i in ids if i in found]

    async def listed_in_order(self, ids: Sequence[str]) -> list[ListedClaim]:
        """The claims with these ids as a list shows them, in this order (those that exist)."""
        found = await self.kb.listed_claims(ids)
        return [found[i] for i in ids if i in found]

    async def firms_based_in(self, countries: Sequence[str]) -> dict[str, list[str]]:
        """For each of these country ids, the firms whose headquarters it is, by id."""
        if not countries:
            return {}
        based: dict[str, list[str]] = {c: [] for c in countries}
        for country, firm in await self._rows(
            "SELECT json_extract(attributes, '$.headquarters'), id FROM entities"
            " WHERE kind = 'firm' AND json_extract(attributes, '$.headquarters')"
            f" IN ({','.join('?' * len(countries))}) ORDER BY id",
            list(countries),
        ):
            based[str(country)].append(str(firm))
        return based
