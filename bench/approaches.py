"""The search approaches the benchmark compares, behind one small interface.

* ``armsbot``: :class:`armsbot.search.SearchIndex`, as committed.
* ``armsbot-before``: the index as it was before issue 5 (``bench/reference_index.py``).
* ``rapidfuzz-wratio``: the naive approach: ``rapidfuzz.process.extract`` with ``WRatio`` (and
  rapidfuzz's default processor) over every alias as written.
* ``fts5-trigram``: SQLite FTS5 with the trigram tokenizer over every folded alias: a substring
  (phrase) match ranked by bm25, then, when that finds too little, any of the query's trigrams
  (which is how trigram search tolerates typos); ``LIKE 'q%'`` for queries under three letters.
* ``difflib``: ``difflib.get_close_matches`` over every folded alias of the kind.

Each can build from index rows, search, replace one entity, and stand in for the index in the
lookup service and the bot (:class:`IndexAdapter`), so every figure is measured the same way.
"""

from __future__ import annotations

import difflib
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from rapidfuzz import fuzz, process, utils

from armsbot.models import Kind
from armsbot.records import IndexRow
from armsbot.search import SearchIndex, fold
from armsbot.search.index import Match, MatchTier, Resolution
from bench import reference_index


class Approach(Protocol):
    name: str

    def build(self, rows: list[IndexRow]) -> None: ...

    def search(self, query: str, kind: Kind | None, limit: int) -> list[tuple[str, str]]:
        """(entity id, canonical name), best first."""
        ...

    def upsert(self, row: IndexRow) -> None: ...

    def index(self) -> Any:
        """What LookupService and the bot use as ``index``."""
        ...


class Armsbot:
    name = "armsbot"
    description = "armsbot.search.SearchIndex (this commit)"
    index_class: Any = SearchIndex

    def __init__(self) -> None:
        self._index: Any = None

    def build(self, rows: list[IndexRow]) -> None:
        self._index = self.index_class.build(rows)

    def search(self, query: str, kind: Kind | None, limit: int) -> list[tuple[str, str]]:
        return [(m.id, m.name) for m in self._index.autocomplete(query, kind, limit)]

    def upsert(self, row: IndexRow) -> None:
        self._index.upsert(row)

    def index(self) -> Any:
        return self._index


class ArmsbotBefore(Armsbot):
    name = "armsbot-before"
    description = "the index before issue 5 (bench/reference_index.py)"
    index_class = reference_index.SearchIndex


class _Names:
    """Every alias of every entity as (text, entity id), per kind and for all kinds."""

    def __init__(self, prepare: Callable[[str], str]) -> None:
        self.prepare = prepare
        self.rows: dict[str, IndexRow] = {}
        self.texts: dict[Kind | None, list[str]] = {}
        self.owners: dict[Kind | None, list[str]] = {}

    def fill(self, rows: Iterable[IndexRow]) -> None:
        self.rows = {row.id: row for row in rows}
        self._lay_out()

    def _lay_out(self) -> None:
        self.texts = {k: [] for k in (None, *Kind)}
        self.owners = {k: [] for k in (None, *Kind)}
        for row in self.rows.values():
            self._append(row)

    def _append(self, row: IndexRow) -> None:
        seen = set()
        for text in (row.name, *(a for a, _ in row.aliases)):
            prepared = self.prepare(text)
            if not prepared or prepared in seen:
                continue
            seen.add(prepared)
            for kind in (None, row.kind):
                self.texts[kind].append(prepared)
                self.owners[kind].append(row.id)

    def replace(self, row: IndexRow) -> None:
        """Drop the entity's names (one pass over the lists) and append its new ones."""
        for kind in (None, *Kind):
            keep = [i for i, owner in enumerate(self.owners[kind]) if owner != row.id]
            if len(keep) != len(self.owners[kind]):
                self.texts[kind] = [self.texts[kind][i] for i in keep]
                self.owners[kind] = [self.owners[kind][i] for i in keep]
        self.rows[row.id] = row
        self._append(row)

    def ranked(self, owners: Iterable[str], limit: int) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        seen: set[str] = set()
        for owner in owners:
            if owner not in seen:
                seen.add(owner)
                out.append((owner, self.rows[owner].name))
                if len(out) >= limit:
                    break
        return out


class RapidfuzzWRatio:
    name = "rapidfuzz-wratio"
    description = "process.extract(WRatio) over every alias as written"

    def __init__(self) -> None:
        self.names = _Names(lambda text: text)

    def build(self, rows: list[IndexRow]) -> None:
        self.names.fill(rows)

    def search(self, query: str, kind: Kind | None, limit: int) -> list[tuple[str, str]]:
        if not utils.default_process(query):
            return []
        owners = self.names.owners[kind]
        found = process.extract(
            query,
            self.names.texts[kind],
            scorer=fuzz.WRatio,
            processor=utils.default_process,
            limit=limit * 5,
        )
        return self.names.ranked((owners[i] for _, _, i in found), limit)

    def upsert(self, row: IndexRow) -> None:
        self.names.replace(row)

    def index(self) -> Any:
        return IndexAdapter(self, self.names)


class Difflib:
    name = "difflib"
    description = "difflib.get_close_matches over every folded alias"

    def __init__(self) -> None:
        self.names = _Names(fold)
        self._owners: dict[Kind | None, dict[str, list[str]]] = {}

    def build(self, rows: list[IndexRow]) -> None:
        self.names.fill(rows)
        self._index_owners()

    def _index_owners(self) -> None:
        self._owners = {}
        for kind, texts in self.names.texts.items():
            by_text: dict[str, list[str]] = {}
            for text, owner in zip(texts, self.names.owners[kind], strict=True):
                by_text.setdefault(text, []).append(owner)
            self._owners[kind] = by_text

    def search(self, query: str, kind: Kind | None, limit: int) -> list[tuple[str, str]]:
        key = fold(query)
        if not key:
            return []
        close = difflib.get_close_matches(key, self.names.texts[kind], n=limit * 3, cutoff=0.6)
        owners = self._owners[kind]
        return self.names.ranked((o for text in close for o in owners[text]), limit)

    def upsert(self, row: IndexRow) -> None:
        self.names.replace(row)
        self._index_owners()

    def index(self) -> Any:
        return IndexAdapter(self, self.names)


class Fts5Trigram:
    name = "fts5-trigram"
    description = "SQLite FTS5, trigram tokenizer, bm25 (stdlib sqlite3)"

    def __init__(self) -> None:
        self.names = _Names(fold)
        self.db = sqlite3.connect(":memory:", check_same_thread=False)

    def build(self, rows: list[IndexRow]) -> None:
        self.names.rows = {row.id: row for row in rows}
        self.db.execute("DROP TABLE IF EXISTS names")
        self.db.execute(
            "CREATE VIRTUAL TABLE names USING fts5(name, entity UNINDEXED, kind UNINDEXED,"
            " tokenize='trigram')"
        )
        self.db.executemany(
            "INSERT INTO names (name, entity, kind) VALUES (?, ?, ?)",
            (item for row in rows for item in self._items(row)),
        )
        self.db.commit()

    @staticmethod
    def _items(row: IndexRow) -> list[tuple[str, str, str]]:
        texts = dict.fromkeys(fold(t) for t in (row.name, *(a for a, _ in row.aliases)))
        return [(text, row.id, row.kind.value) for text in texts if text]

    def search(self, query: str, kind: Kind | None, limit: int) -> list[tuple[str, str]]:
        key = fold(query)
        if not key:
            return []
        where, params = ("", []) if kind is None else (" AND kind = ?", [kind.value])
        cap = limit * 5
        if len(key) < 3:
            found = self.db.execute(
                f"SELECT entity FROM names WHERE name LIKE ? ESCAPE '\\'{where}"
                " ORDER BY length(name) LIMIT ?",
                [_like_prefix(key), *params, cap],
            ).fetchall()
            return self.names.ranked((r[0] for r in found), limit)
        phrase = '"' + key.replace('"', '""') + '"'
        found = self.db.execute(
            f"SELECT entity FROM names WHERE names MATCH ?{where} ORDER BY rank LIMIT ?",
            [phrase, *params, cap],
        ).fetchall()
        out = self.names.ranked((r[0] for r in found), limit)
        if len(out) < limit:
            grams = dict.fromkeys(key[i : i + 3] for i in range(len(key) - 2))
            either = " OR ".join('"' + g.replace('"', '""') + '"' for g in grams)
            more = self.db.execute(
                f"SELECT entity FROM names WHERE names MATCH ?{where} ORDER BY rank LIMIT ?",
                [either, *params, cap],
            ).fetchall()
            out = self.names.ranked((r[0] for r in [*found, *more]), limit)
        return out

    def upsert(self, row: IndexRow) -> None:
        self.db.execute(
            "DELETE FROM names WHERE rowid IN (SELECT rowid FROM names WHERE entity = ?)", (row.id,)
        )
        self.db.executemany(
            "INSERT INTO names (name, entity, kind) VALUES (?, ?, ?)", self._items(row)
        )
        self.db.commit()
        self.names.rows[row.id] = row

    def index(self) -> Any:
        return IndexAdapter(self, self.names)


def _like_prefix(key: str) -> str:
    return key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass
class IndexAdapter:
    """A baseline dressed as the index the lookup service and the bot call.

    Baselines have no notion of a clear margin: ``resolve`` takes the top result, as a naive bot
    would. Scores are ranks (100, 99, ...), shown only in the bot's /search card.
    """

    approach: Any
    names: _Names

    def __len__(self) -> int:
        return len(self.names.rows)

    def search(self, query: str, kind: Kind | None = None, limit: int = 10) -> list[Match]:
        out = []
        for n, (entity_id, name) in enumerate(self.approach.search(query, kind, limit)):
            row = self.names.rows[entity_id]
            out.append(
                Match(entity_id, row.kind, name, name, 100.0 - n, MatchTier.PREFIX, 0, row.weight)
            )
        return out

    def autocomplete(self, query: str, kind: Kind | None = None, limit: int = 25) -> list[Match]:
        return self.search(query, kind, limit)

    def resolve(self, query: str, kind: Kind | None = None, limit: int = 10) -> Resolution:
        matches = self.search(query, kind, limit)
        return Resolution(matches[0] if matches else None, matches)

    def entity_kind(self, entity_id: str) -> Kind | None:
        row = self.names.rows.get(entity_id)
        return None if row is None else row.kind

    def entity_name(self, entity_id: str) -> str | None:
        row = self.names.rows.get(entity_id)
        return None if row is None else row.name


APPROACHES: dict[str, Callable[[], Any]] = {
    "armsbot": Armsbot,
    "armsbot-before": ArmsbotBefore,
    "rapidfuzz-wratio": RapidfuzzWRatio,
    "fts5-trigram": Fts5Trigram,
    "difflib": Difflib,
}
