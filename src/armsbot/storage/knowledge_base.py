"""The knowledge base (SQLite or PostgreSQL): entities, aliases, claims, sources and their links."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import Any, Final, NamedTuple, Self, TypeAlias, TypeVar

import aiosqlite
from pydantic import BaseModel

from armsbot.models import (
    Category,
    Claim,
    Kind,
    LinkKind,
    Party,
    Provenance,
    Role,
    Source,
    SourceKey,
    Status,
)
from armsbot.records import AliasRecord, EntityRecord, IndexRow
from armsbot.search.folding import fold
from armsbot.storage.changelog import record_changes
from armsbot.storage.connection import (
    BUSY_TIMEOUT_S,
    DatabaseUnavailable,
    connect,
    database_failure,
    use_wal,
)
from armsbot.storage.migrations import (
    LATEST,
    MIGRATIONS,
    claim_order_key,
    first_after,
    party_keys,
    party_keys_of,
    party_roles,
)
from armsbot.storage.pg_migrations import PG_LATEST, PG_MIGRATIONS, STATE_TABLE
from armsbot.storage.postgres import (
    CHANGES_CHANNEL,
    PgConnection,
    is_postgres_url,
    shown_url,
)

GENERATION_KEY = "generation"  # see KnowledgeBase.bump_generation
# One writer at a time, as SQLite has: every write transaction on PostgreSQL takes this lock
# first, so what it reads before it writes (the next revision number) is still true at COMMIT.
_WRITER_LOCK: Final = 0x61726D73  # "arms"
CHANGES_POLL_S: Final = 5.0  # see KnowledgeBase.changes

# The connection the storage modules run their SQL on: rows read by name and by index on both.
Database: TypeAlias = aiosqlite.Connection | PgConnection


class SchemaTooNew(DatabaseUnavailable):
    """The database was written by a newer armsbot than this one."""


class NotArmsbotDatabase(DatabaseUnavailable):
    """The file is an SQLite database, but not armsbot's (or not yet, when opened read-only)."""


# SQLite: a claim's key in claims_fts_order (migration 10, which spells it out for its
# triggers): its category's rank, undated or not, its year (later first), then its rowid.
_ORDER_KEY = claim_order_key("c.")


def _first_after(role: str) -> str:
    """PostgreSQL: the id after the first ``role`` in ``c.party_roles``."""
    return first_after(role, "c.party_roles", "strpos")


# PostgreSQL: SQLite's virtual column card_places.lead (migration 10), the same expression.
_LEAD = (
    "CASE WHEN c.category = 'transfer' AND p.role IN ('supplier', 'broker')"
    f" THEN {_first_after('recipient')}"
    f" WHEN c.category = 'transfer' THEN coalesce({_first_after('supplier')},"
    f" {_first_after('broker')})"
    f" WHEN c.category IN ('embargo', 'designation') THEN {_first_after('instrument')} END"
)


class KnowledgeBase:
    """Async access to one armsbot database: an SQLite file or a PostgreSQL database."""

    def __init__(self, connection: Database, path: Path | str) -> None:
        self._db: Database = connection
        self.path = path  # the SQLite file, or the PostgreSQL URL
        self.dialect = "postgresql" if isinstance(connection, PgConnection) else "sqlite"
        self._listener: PgConnection | None = None  # see ``changes``
        self._notified = asyncio.Event()
        # One connection runs one transaction at a time; coroutines queue for it here, and other
        # processes wait on SQLite's lock (busy_timeout).
        self._transaction_lock = asyncio.Lock()
        self._commits = 0  # write transactions this connection committed (see ``version``)
        self._writer: str | None = None  # see ``attribute_changes``

    @classmethod
    async def open(cls, path: Path | str, *, read_only: bool = False) -> Self:
        """Open (creating if needed) and migrate the database at ``path``.

        ``path`` is an SQLite file, or a ``postgresql://`` URL. With ``read_only``, the database
        refuses every write and nothing is created or migrated: it must exist and be at this
        armsbot's schema. One that cannot be used raises ``DatabaseUnavailable`` with a one-line
        message.
        """
        if isinstance(path, str) and is_postgres_url(path):
            return await cls._open_postgres(path, read_only=read_only)
        path = Path(path)
        connection = await connect(path, read_only=read_only)
        kb = cls(connection, path)
        try:
            await kb._check_schema(read_only=read_only)  # before anything is written
            if not read_only:
                await use_wal(connection)
                await kb._migrate()
        except BaseException as exc:
            await connection.close()
            if isinstance(exc, sqlite3.Error):
                raise database_failure(path, exc) or exc from None
            raise
        return kb

    @classmethod
    async def _open_postgres(cls, url: str, *, read_only: bool) -> Self:
        connection = await PgConnection.connect(url, read_only=read_only)
        kb = cls(connection, url)
        try:
            await kb._check_schema(read_only=read_only)
            if not read_only:
                await kb._migrate()
        except BaseException:
            await connection.close()
            raise
        return kb

    @property
    def db(self) -> Database:
        """The connection, for the other storage modules (SQL stays in ``armsbot.storage``)."""
        return self._db

    @property
    def where(self) -> str:
        """The database as messages name it: the file, or the URL without its password."""
        return shown_url(self.path) if isinstance(self.path, str) else str(self.path)

    async def close(self) -> None:
        """Close the connection (and the one that listens for other processes' changes)."""
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        await self._db.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self, *, log_changes: bool = True) -> AsyncIterator[Database]:
        """Run a block in one write transaction: all of it is committed, or none of it.

        What it changed on watched entities is logged in the same commit (``changelog``). On
        PostgreSQL the commit also moves ``armsbot_state.commits`` (``version``) and notifies
        the other processes (``changes``).
        """
        async with self._transaction_lock:
            await self._begin()
            try:
                yield self._db
                if log_changes:
                    await record_changes(self._db, self._writer)
                if self.dialect == "postgresql":
                    await self._db.execute(
                        "UPDATE armsbot_state SET commits = commits + 1 WHERE id = 1"
                    )
                    await self._db.execute("SELECT pg_notify(?, '')", (CHANGES_CHANNEL,))
                await self._db.execute("COMMIT")
            except BaseException:
                # SQLite has already rolled back after some errors (a full disk, an I/O error);
                # the error that says what happened is the one to raise, not ROLLBACK's.
                if self._db.in_transaction:
                    with suppress(sqlite3.Error, DatabaseUnavailable):
                        await self._db.execute("ROLLBACK")
                raise
            finally:
                self._writer = None
            self._commits += 1

    @asynccontextmanager
    async def consistent_read(self) -> AsyncIterator[Database]:
        """Read in one snapshot: no commit, from any process, shows part-way through."""
        begin = (
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
            if self.dialect == "postgresql"
            else "BEGIN"
        )
        async with self._transaction_lock:
            await self._db.execute(begin)
            try:
                yield self._db
            finally:
                if self._db.in_transaction:
                    with suppress(sqlite3.Error, DatabaseUnavailable):
                        await self._db.execute("ROLLBACK")

    def attribute_changes(self, actor_id: str) -> None:
        """Name who decided the open transaction's changes where no revision says (``build``)."""
        self._writer = actor_id

    async def _begin(self) -> None:
        """BEGIN IMMEDIATE, waiting for other writers.

        On PostgreSQL: BEGIN, then the writers' lock (``_WRITER_LOCK``), waiting for it up to
        ``lock_timeout``.

        SQLite waits up to ``busy_timeout`` for a writer in another process, but in WAL mode it
        can also answer "database is locked" at once (while another connection checkpoints or
        resets the log, seen with 15 concurrent approvals on a loaded machine); nothing has been
        done yet then, so it is tried again, for as long as ``busy_timeout`` would have waited.
        """
        if isinstance(self._db, PgConnection):
            await self._db.execute("BEGIN")
            try:
                await self._db.execute("SELECT pg_advisory_xact_lock(?)", (_WRITER_LOCK,))
            except BaseException:
                with suppress(DatabaseUnavailable):
                    await self._db.execute("ROLLBACK")
                raise
            return
        deadline = asyncio.get_running_loop().time() + BUSY_TIMEOUT_S
        delay = 0.005
        while True:
            try:
                await self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or asyncio.get_running_loop().time() > deadline:
                    raise
            else:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.1)

    async def version(self) -> tuple[int, int]:
        """A value that changes whenever the knowledge base may have changed, from any process.

        The commits of this connection, and SQLite's ``data_version``, which changes when another
        connection (the CLI approving a correction, an import) commits to the same file. Whatever
        is derived from the knowledge base, such as a rendered card, is valid while this holds.
        On PostgreSQL, ``armsbot_state.commits`` plays ``data_version``'s part: every write
        transaction moves it in its own commit.
        """
        sql = (
            "SELECT commits FROM armsbot_state WHERE id = 1"
            if self.dialect == "postgresql"
            else "PRAGMA data_version"
        )
        rows = list(await self._db.execute_fetchall(sql))  # one trip to its thread, not three
        return self._commits, int(rows[0][0]) if rows else 0

    async def changes(self, *, poll_seconds: float = CHANGES_POLL_S) -> AsyncIterator[None]:
        """Yield each time the knowledge base may have changed, whichever process changed it.

        PostgreSQL: at once, on the notification every commit sends (``LISTEN armsbot_changes``
        on a connection of its own), and at least every ``poll_seconds`` too, which covers a
        notification lost with the listening connection (reconnected with back-off). SQLite:
        ``version`` is polled every ``poll_seconds``. The caller compares what it holds with the
        database again; a yield does not promise that anything changed.
        """
        last = await self.version()
        backoff = 0.5
        while True:
            if self.dialect == "postgresql" and (
                self._listener is None or self._listener.is_closed
            ):
                try:
                    await self._listen()
                except DatabaseUnavailable:
                    backoff = min(backoff * 2, 30.0)
                else:
                    backoff = 0.5
                    # A commit between the loss and the new LISTEN sent no notification here.
                    self._notified.set()
            lost = self.dialect == "postgresql" and (
                self._listener is None or self._listener.is_closed
            )
            timeout = min(poll_seconds, backoff) if lost else poll_seconds
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation
            # that arrives as the event is set, and the caller's task would never end.
            with suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._notified.wait()
            self._notified.clear()
            try:
                now = await self.version()
            except DatabaseUnavailable:
                continue  # the lookups keep answering from what is loaded; try again later
            if now != last:
                last = now
                yield None

    async def _listen(self) -> None:
        assert isinstance(self.path, str)
        listener = await PgConnection.connect(self.path, read_only=True)
        await listener.listen(CHANGES_CHANNEL, self._notified.set)
        listener.on_lost(self._notified.set)  # look at once, and reconnect
        self._listener = listener

    async def schema_version(self) -> int:
        """The migration the database is at (of its own dialect's series)."""
        if self.dialect == "postgresql":
            exists = await first_row(self._db, "SELECT to_regclass('armsbot_state') IS NOT NULL")
            if exists is None or not exists[0]:
                return 0
            sql = "SELECT schema_version FROM armsbot_state WHERE id = 1"
        else:
            sql = "PRAGMA user_version"
        row = await first_row(self._db, sql)
        return int(row[0]) if row else 0

    async def _check_schema(self, *, read_only: bool) -> None:
        """Refuse a file this armsbot must not use: newer, another program's, or not migrated."""
        version = await self.schema_version()
        latest = self.latest_schema
        if version > latest:
            msg = f"{self.where} has schema version {version}; this armsbot knows up to {latest}"
            raise SchemaTooNew(msg)
        if version == 0:
            tables = (
                "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"
                if self.dialect == "postgresql"
                else "SELECT count(*) FROM sqlite_master"
            )
            row = await first_row(self._db, tables)
            if row is not None and row[0]:
                msg = f"{self.where} holds another program's tables: not an armsbot database"
                raise NotArmsbotDatabase(msg)
        if read_only and version == 0:
            msg = f"{self.where} has no armsbot schema, and opened read-only it cannot be given one"
            raise NotArmsbotDatabase(msg)
        if read_only and version < latest:
            msg = (
                f"{self.where} is at schema version {version}, older than this armsbot's {latest},"
                " and opened read-only it cannot be upgraded"
            )
            raise NotArmsbotDatabase(msg)

    @property
    def latest_schema(self) -> int:
        """The newest migration this armsbot has for the database's dialect."""
        return PG_LATEST if self.dialect == "postgresql" else LATEST

    async def _migrate(self) -> None:
        if self.dialect == "postgresql":
            await self._migrate_postgres()
            return
        version = await self.schema_version()
        for number, script in MIGRATIONS:
            if number <= version:
                continue
            # executescript would commit on its own; run statements inside one transaction instead.
            async with self.transaction(log_changes=False) as db:
                for statement in _split_sql(script):
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {number}")

    async def _migrate_postgres(self) -> None:
        """Apply PostgreSQL's migrations, each in one transaction (DDL is transactional there)."""
        if await self.schema_version() == PG_LATEST:
            return  # nothing to wait for the writers' lock for
        async with self._transaction_lock:
            # Two processes starting on a new database: the second waits, then finds it done.
            await self._db.execute("BEGIN")
            try:
                await self._db.execute("SELECT pg_advisory_xact_lock(?)", (_WRITER_LOCK,))
                await self._db.execute(STATE_TABLE)
                await self._db.execute(
                    "INSERT INTO armsbot_state (id, schema_version, commits) VALUES (1, 0, 0)"
                    " ON CONFLICT (id) DO NOTHING"
                )
                version = await self.schema_version()
                for number, script in PG_MIGRATIONS:
                    if number <= version:
                        continue
                    await self._db.executescript(script)
                    await self._db.execute(
                        "UPDATE armsbot_state SET schema_version = ?, commits = commits + 1",
                        (number,),
                    )
                await self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    with suppress(DatabaseUnavailable):
                        await self._db.execute("ROLLBACK")
                raise

    # -- metadata -----------------------------------------------------------------------------

    async def meta(self, key: str) -> str | None:
        """A value from the knowledge base's key-value metadata."""
        row = await first_row(self._db, "SELECT value FROM kb_meta WHERE key = ?", (key,))
        return None if row is None else str(row[0])

    async def refresh_statistics(self) -> None:
        """Let the query planner see the tables as they are after a bulk write (a build, a copy).

        PostgreSQL plans a fresh table with no statistics as whole-table scans until autovacuum
        analyses it (a minute or so later): a card's first page took 50 ms instead of 1 ms then.
        SQLite plans from its indexes without statistics; nothing to do there.
        """
        if self.dialect == "postgresql":
            await self._db.execute("ANALYZE")

    async def bump_generation(self) -> None:
        """Record, inside the open transaction, a change that revisions do not describe.

        Builds from data/ and dataset imports and removals change many entities at once; a
        running bot that sees the generation move reloads its search index whole (approved
        corrections are followed revision by revision instead).
        """
        await self._db.execute(
            "INSERT INTO kb_meta (key, value) VALUES (?, '1') ON CONFLICT (key)"
            " DO UPDATE SET value = CAST(CAST(kb_meta.value AS INTEGER) + 1 AS TEXT)",
            (GENERATION_KEY,),
        )

    async def generation(self) -> int:
        """How many changes not described by revisions the knowledge base has had."""
        return int(await self.meta(GENERATION_KEY) or 0)

    async def set_meta(self, key: str, value: str) -> None:
        """Store a metadata value."""
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO kb_meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- writing ------------------------------------------------------------------------------

    async def replace_knowledge(
        self,
        entities: Sequence[EntityRecord],
        meta: dict[str, str],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Replace every entity, alias, claim and source with ``entities`` (inside the caller's
        transaction, which can then record what the replacement changed in the same commit).

        Claims and sources are written anew; entities are updated in place and their names
        rewritten only where they differ, so a rebuild of the bundled data does not delete and
        insert again 36,000 names that are the same (half of its time, with their indexes and
        triggers). What is stored afterwards is the same either way.
        """
        db = self._db
        await self.bump_generation()
        # The claims first: their parties and sources go with them (ON DELETE CASCADE), after
        # them, when no claim is left for the parties' triggers to write (deleting the parties
        # first wrote each claim's party columns again once per party, and indexed it again).
        tables = ["claims", "claim_sources", "claim_parties", "sources"]
        if self.dialect == "sqlite":
            # Emptied by the triggers already, unless a row was left behind (migration 9).
            tables += ["claim_order", "card_places"]
        for table in tables:
            await db.execute(f"DELETE FROM {table}")
        stored_names = await self._stored_names()
        kept = {e.id for e in entities}
        await db.executemany(
            "DELETE FROM entities WHERE id = ?",
            [(i,) for i in sorted(stored_names) if i not in kept],
        )
        await db.executemany(
            "INSERT INTO entities (id, kind, name, name_origin, summary, attributes, curated,"
            " revision, dataset) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)"
            " ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name,"
            " name_origin = excluded.name_origin, summary = excluded.summary,"
            " attributes = excluded.attributes, curated = excluded.curated,"
            " revision = excluded.revision, dataset = NULL",
            [
                (
                    e.id,
                    e.kind.value,
                    e.name,
                    e.name_origin,
                    e.summary,
                    json.dumps(e.attributes, sort_keys=True, ensure_ascii=False),
                    int(e.curated),
                    e.revision,
                )
                for e in entities
            ],
        )
        for entity in entities:
            rows = _alias_rows(entity.id, entity.aliases)
            if stored_names.get(entity.id) != [row[1:] for row in rows]:
                await db.execute("DELETE FROM aliases WHERE entity_id = ?", (entity.id,))
                await db.executemany(_INSERT_ALIAS, rows)
        sources: dict[SourceKey, int] = {}
        for done, entity in enumerate(entities, start=1):
            for position, claim in enumerate(entity.claims):
                await self.insert_claim(db, entity.id, position, claim, sources)
            if progress is not None:
                progress(done)
        await db.executemany(
            "INSERT INTO kb_meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            sorted(meta.items()),
        )
        # The triggers kept the full-text index in step; rebuilding it here also mends an index
        # that something outside armsbot put out of step (what `db check` reports). PostgreSQL's
        # index is an index of the claims table itself, always in step.
        if self.dialect == "sqlite":
            await db.execute("INSERT INTO claims_fts (claims_fts) VALUES ('rebuild')")
            await db.execute("INSERT INTO claims_linked (claims_linked) VALUES ('rebuild')")
            await db.execute(
                "INSERT INTO claims_fts_order (claims_fts_order) VALUES ('delete-all')"
            )
            await db.execute(
                "INSERT INTO claims_fts_order (rowid, text, product, goods, end_user)"
                f" SELECT {_ORDER_KEY}, c.text, c.product, c.goods, c.end_user FROM claims c"
            )

    async def _stored_names(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every entity's id with its alias rows as stored, in order (empty for none)."""
        names: dict[str, list[tuple[Any, ...]]] = {}
        async with self._db.execute("SELECT id FROM entities") as cursor:
            for (entity_id,) in await cursor.fetchall():
                names[str(entity_id)] = []
        names.update(await self._aliases_by_entity("name, folded, type, lang, origin"))
        return names

    async def _aliases_by_entity(
        self, columns: str, *, written_only: bool = False
    ) -> dict[str, list[tuple[Any, ...]]]:
        """Each entity's aliases as ``(position, *columns)`` rows, in order (``written_only``: the
        names written in the data, without the registry's; entities with none are left out).

        SQLite hands them over one row per entity: its module gives up and takes back the
        interpreter lock for every row it reads, and 36,000 rows took three times as long as
        their time alone while the bot's other work ran beside the read.
        """
        where = " WHERE origin = 'data'" if written_only else ""
        if self.dialect == "sqlite":
            grouped = await self._db.execute_fetchall(
                f"SELECT entity_id, json_group_array(json_array(position, {columns}))"
                f" FROM aliases{where} GROUP BY entity_id"
            )
            return {
                str(entity_id): [tuple(row) for row in sorted(json.loads(rows))]
                for entity_id, rows in grouped
            }
        found = await self._db.execute_fetchall(
            f"SELECT entity_id, position, {columns} FROM aliases{where}"
            " ORDER BY entity_id, position"
        )
        return {
            str(entity_id): [tuple(row)[1:] for row in group]
            for entity_id, group in groupby(found, key=itemgetter(0))
        }

    @staticmethod
    async def insert_aliases(db: Database, entity_id: str, aliases: Iterable[AliasRecord]) -> None:
        """Insert an entity's aliases in order (inside the caller's transaction)."""
        await db.executemany(_INSERT_ALIAS, _alias_rows(entity_id, aliases))

    @staticmethod
    async def insert_claim(
        db: Database,
        entity_id: str,
        position: int,
        claim: Claim,
        sources: dict[SourceKey, int],
    ) -> None:
        """Insert a claim with its parties and sources (inside the caller's transaction).

        SQLite: the claim is written with its parties' columns whole (party_roles, party_keys),
        which the triggers of its parties then leave as they are (migration 12) instead of
        writing them, and indexing the claim again, once per party.
        """
        provenance = claim.provenance
        parties = [(p.entity, p.role.value) for p in claim.parties]
        derived: tuple[Any, ...] = ()
        if not isinstance(db, PgConnection):
            derived = (party_roles(parties), party_keys(entity for entity, _ in parties))
        await db.execute(
            "INSERT INTO claims (id, home_entity_id, position, text, status, category, date,"
            " date_text, reported, product, end_user, goods, provenance_dataset,"
            " provenance_checksum, provenance_record, provenance_merged, distinct_from"
            + (", party_roles, party_keys" if derived else "")
            + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
            + (", ?, ?" if derived else "")
            + ")",
            (
                claim.id,
                entity_id,
                position,
                claim.text,
                claim.status.value,
                claim.category.value,
                claim.date,
                claim.date_text,
                claim.reported,
                claim.product,
                claim.end_user,
                json.dumps(claim.goods, ensure_ascii=False),
                provenance.dataset if provenance else None,
                provenance.checksum if provenance else None,
                provenance.record if provenance else None,
                json.dumps(provenance.merged if provenance else []),
                json.dumps(claim.distinct_from),
                *derived,
            ),
        )
        await db.executemany(
            "INSERT INTO claim_parties (claim_id, position, entity_id, role) VALUES (?, ?, ?, ?)",
            [(claim.id, i, entity, role) for i, (entity, role) in enumerate(parties)],
        )
        for i, source in enumerate(claim.sources):
            key = source.key()
            source_id = sources.get(key)
            if source_id is None:
                source_id = sources[key] = await _source_id(db, key)
            await db.execute(
                "INSERT INTO claim_sources (claim_id, position, source_id) VALUES (?, ?, ?)",
                (claim.id, i, source_id),
            )

    # -- reading ------------------------------------------------------------------------------

    async def count(self) -> dict[str, int]:
        """How many entities of each kind, claims, aliases and sources the knowledge base holds."""
        figures: dict[str, int] = {}
        async with self._db.execute("SELECT kind, count(*) FROM entities GROUP BY kind") as cursor:
            async for row in cursor:
                figures[str(row[0])] = int(row[1])
        for table in ("claims", "aliases", "sources"):
            total = await first_row(self._db, f"SELECT count(*) FROM {table}")
            figures[table] = int(total[0]) if total else 0
        return figures

    async def index_rows(self) -> list[IndexRow]:
        """Every entity with its names, for building the search index (36,000 names in the
        bundled data, read by every command that searches: see ``_aliases_by_entity``)."""
        weights = {
            str(entity_id): int(count)
            for entity_id, count in await self._db.execute_fetchall(
                "SELECT entity_id, count(DISTINCT claim_id) FROM claim_parties GROUP BY entity_id"
            )
        }
        aliases = {
            entity_id: tuple((name, type_) for _, name, type_ in rows)
            for entity_id, rows in (await self._aliases_by_entity("name, type")).items()
        }
        entities = await self._db.execute_fetchall(
            "SELECT id, kind, name FROM entities ORDER BY id"
        )
        return [
            IndexRow(
                id=entity_id,
                kind=Kind(kind),
                name=name,
                weight=weights.get(entity_id, 0),
                aliases=aliases.get(entity_id, ()),
            )
            for entity_id, kind, name in entities
        ]

    async def index_row(self, entity_id: str) -> IndexRow | None:
        """One entity's names, for updating the search index in place."""
        rows = await self._index_rows_for([entity_id])
        return rows[0] if rows else None

    async def _index_rows_for(self, ids: Sequence[str]) -> list[IndexRow]:
        marks = ",".join("?" * len(ids))
        result = []
        entities = [
            (str(r[0]), Kind(r[1]), str(r[2]))
            for r in await self._db.execute_fetchall(
                f"SELECT id, kind, name FROM entities WHERE id IN ({marks})", tuple(ids)
            )
        ]
        for entity_id, kind, name in entities:
            aliases = tuple(
                (str(r[0]), str(r[1]))
                for r in await self._db.execute_fetchall(
                    "SELECT name, type FROM aliases WHERE entity_id = ? ORDER BY position",
                    (entity_id,),
                )
            )
            row = await first_row(
                self._db,
                "SELECT count(DISTINCT claim_id) FROM claim_parties WHERE entity_id = ?",
                (entity_id,),
            )
            weight = int(row[0]) if row else 0
            result.append(IndexRow(entity_id, kind, name, weight, aliases))
        return result

    async def entity(self, entity_id: str, *, claims: bool = True) -> EntityRecord | None:
        """One entity with its aliases and (unless ``claims`` is false) home claims, or None."""
        row = await first_row(self._db, "SELECT * FROM entities WHERE id = ?", (entity_id,))
        if row is None:
            return None
        record = _entity_from_row(row)
        record.aliases = [
            AliasRecord(str(r[0]), str(r[1]), r[2], str(r[3]))
            for r in await self._db.execute_fetchall(
                "SELECT name, type, lang, origin FROM aliases WHERE entity_id = ?"
                " ORDER BY position",
                (entity_id,),
            )
        ]
        if claims:
            record.claims = await self._claims("c.home_entity_id = ?", (entity_id,))
        return record

    async def entity_names(self, ids: Iterable[str]) -> dict[str, tuple[Kind, str]]:
        """Kind and display name of each of ``ids`` that exists."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        return {
            str(r[0]): (Kind(r[1]), str(r[2]))
            for r in await self._db.execute_fetchall(
                f"SELECT id, kind, name FROM entities WHERE id IN ({marks})", wanted
            )
        }

    async def entity_attributes(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The kind-specific attributes of each of ``ids`` that exists."""
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        return {
            str(r[0]): json.loads(r[1])
            for r in await self._db.execute_fetchall(
                f"SELECT id, attributes FROM entities WHERE id IN ({marks})", wanted
            )
        }

    async def entity_overview(self) -> list[EntityRecord]:
        """Every entity without its names and claims, by id."""
        return [
            _entity_from_row(r)
            for r in await self._db.execute_fetchall("SELECT * FROM entities ORDER BY id")
        ]

    async def every_claim(self) -> list[tuple[str, Claim]]:
        """Every claim with the id of the entity it is filed under, in file order."""
        homes = {
            str(r[0]): str(r[1])
            for r in await self._db.execute_fetchall("SELECT id, home_entity_id FROM claims")
        }
        return [(homes[c.id], c) for c in await self._claims("1 = 1", ())]

    async def hand_written_claims(self) -> list[Claim]:
        """Every claim written in data/ or by a correction (none that a dataset brought)."""
        return await self._claims("c.provenance_dataset IS NULL", ())

    async def imported_datasets(self) -> list[str]:
        """The datasets whose records are in the knowledge base, by name."""
        return [
            str(r[0])
            for r in await self._db.execute_fetchall(
                "SELECT DISTINCT provenance_dataset FROM claims"
                " WHERE provenance_dataset IS NOT NULL ORDER BY 1"
            )
        ]

    async def claims_about(self, entity_id: str) -> list[Claim]:
        """Every claim in which the entity is a party, wherever the claim lives."""
        return await self._claims(
            "c.id IN (SELECT claim_id FROM claim_parties WHERE entity_id = ?)", (entity_id,)
        )

    async def claim_places(
        self, entity_id: str
    ) -> list[tuple[str, str, str, str, str, str | None, int]]:
        """What places each claim about the entity on its card, without reading the claims.

        Per claim, oldest first (undated last): its id, the entity's role (its first, when it
        has two), category, when (the event's date, else the report's, else ""), goods as JSON,
        and "role id role id ..." of
        its suppliers, brokers, recipients and instruments in order (``claims.party_roles``,
        kept by triggers). A card of thousands of claims is shown a page at a time, and only the
        claims on that page are read whole. SQLite reads one range of ``card_places`` (migration
        9), stored in this order; PostgreSQL, which has no such table, reads ``claim_parties``
        joined to the claims and sorts them here.
        """
        if self.dialect == "postgresql":
            return await self._claim_places_from_claims(entity_id)
        rows: list[Any] = list(
            await self._db.execute_fetchall(
                "SELECT claim_id, role, category, w, goods, party_roles, position FROM card_places"
                " WHERE entity_id = ? ORDER BY undated, w, claim_id, position",
                (entity_id,),
            )
        )
        # One row per claim, the entity's first role in it (its rows are next to each other).
        return [row for at, row in enumerate(rows) if not at or rows[at - 1][0] != row[0]]

    async def _claim_places_from_claims(
        self, entity_id: str
    ) -> list[tuple[str, str, str, str, str, str | None, int]]:
        """``claim_places`` read from claim_parties and the claims (PostgreSQL)."""
        rows = await self._db.execute_fetchall(
            "SELECT p.claim_id, p.role, c.category, coalesce(c.date, c.reported, ''), c.goods,"
            " c.party_roles, p.position"
            " FROM claim_parties p JOIN claims c ON c.id = p.claim_id WHERE p.entity_id = ?",
            (entity_id,),
        )
        # One row per claim, the entity's first role in it; oldest first (undated last), as
        # cards list claims, in the order SQLite's card_places keeps them.
        first: dict[str, Any] = {}
        for row in rows:
            kept = first.get(row[0])
            if kept is None or row[6] < kept[6]:
                first[row[0]] = row
        return sorted(first.values(), key=lambda r: (r[3] == "", r[3], r[0]))

    def _places(self, index: str | None = None) -> str:
        """What places each party of a claim on its entity's card, as ``k``: SQLite's
        ``card_places`` (migrations 9 and 10), read through ``index`` if given; on PostgreSQL,
        which has no such table, claim_parties joined to the claims."""
        if self.dialect != "postgresql":
            return f"card_places k INDEXED BY {index}" if index else "card_places k"
        return (
            "(SELECT p.entity_id, p.claim_id, p.role, p.position, c.category, c.goods,"
            f" c.party_roles, {_LEAD} AS lead, coalesce(c.date, c.reported, '') AS w,"
            " coalesce(c.date, c.reported, '') = '' AS undated"
            " FROM claim_parties p JOIN claims c ON c.id = p.claim_id) k"
        )

    async def card_sections(
        self, entity_id: str
    ) -> tuple[list[tuple[str, str, int]], frozenset[tuple[str, int]], bool]:
        """How the claims about the entity fall on its card, without reading them: how many each
        (role, category) places; the (claim id, position) of the entity's later parties in
        claims where it is a party twice (a claim is placed by the entity's first role in it);
        and whether ``card_places.lead`` can be trusted (no entity has a role's name as its id).

        One statement: a range of the index ``card_places_lead`` (migration 10), whatever the
        number of claims, and the entity's claims in ``claim_parties``'s index.
        """
        roles = ("supplier", "broker", "recipient", "instrument")
        rows = list(
            await self._db.execute_fetchall(
                f"SELECT 0, k.role, k.category, count(*), NULL FROM {self._places()}"
                " WHERE k.entity_id = ? GROUP BY k.role, k.category"
                " UNION ALL"
                f" SELECT 1, k.role, k.category, k.position, k.claim_id FROM {self._places()}"
                " WHERE k.entity_id = ? AND k.claim_id IN (SELECT claim_id FROM claim_parties"
                " WHERE entity_id = ? GROUP BY claim_id HAVING count(*) > 1)"
                " UNION ALL"
                f" SELECT 2, NULL, NULL, count(*), NULL FROM entities WHERE id IN (?, ?, ?, ?)",
                (entity_id, entity_id, entity_id, *roles),
            )
        )
        counts = {(str(r[1]), str(r[2])): int(r[3]) for r in rows if r[0] == 0}
        later: set[tuple[str, int]] = set()
        previous = None
        for _, role, category, position, claim_id in sorted(
            (r for r in rows if r[0] == 1), key=lambda r: (str(r[4]), int(r[3]))
        ):
            if claim_id == previous:
                later.add((str(claim_id), int(position)))
                counts[(str(role), str(category))] -= 1
            previous = claim_id
        trusted = not any(r[0] == 2 and r[3] for r in rows)
        return [(r, c, n) for (r, c), n in counts.items() if n], frozenset(later), trusted

    @property
    def card_places_indexed(self) -> bool:
        """Whether the claims of a card's group are one look-up (SQLite's ``card_places``, with
        the index of migration 10), so a card's order is best worked out a page at a time."""
        return self.dialect != "postgresql"

    async def card_rows(
        self,
        entity_id: str,
        pairs: Sequence[tuple[str, str]] | None,
        *,
        leads: Sequence[str | None] | None = None,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[tuple[str, str, str, str, str, str | None, int]]:
        """Rows as :meth:`claim_places` gives them (with the entity's later parties too), of the
        claims in which the entity's role and the claim's category are one of ``pairs``, in the
        card's order (oldest first, undated last), from ``offset``, at most ``limit``.

        ``pairs`` None: every claim about the entity. ``leads``: only the claims whose first
        counterpart (``card_places.lead``, migration 10) is one of these (None: those with
        none), read from an index.
        """
        columns = (
            "SELECT k.claim_id, k.role, k.category, k.w, k.goods, k.party_roles, k.position,"
            " k.undated FROM "
        )
        selects = []
        params: list[Any] = []
        if pairs is None:
            selects.append(f"{columns}{self._places()} WHERE k.entity_id = ?")
            params.append(entity_id)
        for role, category in pairs or ():
            where = " WHERE k.entity_id = ? AND k.role = ? AND k.category = ?"
            if leads is None:
                selects.append(columns + self._places() + where)
                params += [entity_id, role, category]
                continue
            # One look-up in the index of migration 10 for each kind of lead (which SQLite's
            # planner, unaware of the index's statistics, would otherwise leave for the range).
            source = self._places("card_places_lead")
            named = [lead for lead in leads if lead is not None]
            if named:
                selects.append(
                    f"{columns}{source}{where} AND k.lead IN ({','.join('?' * len(named))})"
                )
                params += [entity_id, role, category, *named]
            if len(named) < len(leads):
                selects.append(f"{columns}{source}{where} AND k.lead IS NULL")
                params += [entity_id, role, category]
        if not selects:
            return []
        sql = " UNION ALL ".join(selects) + " ORDER BY 8, 4, 1, 7"
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        return [
            (str(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4]), r[5], int(r[6]))
            for r in await self._db.execute_fetchall(sql, params)
        ]

    async def claims_by_id(self, claim_ids: Sequence[str]) -> list[Claim]:
        """The claims with these ids (those that exist)."""
        if not claim_ids:
            return []
        marks = ",".join("?" * len(claim_ids))
        return await self._claims(f"c.id IN ({marks})", tuple(claim_ids))

    async def listed_claims(self, claim_ids: Sequence[str]) -> dict[str, ListedClaim]:
        """The claims with these ids (those that exist) as a list of claims shows them, by id.

        One statement, of the claims with their sources: no parties, provenance or validation,
        which reading every field of a :class:`Claim` costs (four times as long for a page).
        """
        if not claim_ids:
            return {}
        marks = ",".join("?" * len(claim_ids))
        claims: dict[str, ListedClaim] = {}
        source_of: dict[int, Source] = {}
        # execute_fetchall: one trip to the connection's thread, where a cursor takes three.
        rows = await self._db.execute_fetchall(
            "SELECT c.id, c.text, c.status, c.category, c.date, c.date_text, c.reported,"
            " c.product, c.end_user, c.goods, s.id, s.url, s.title, s.publisher, s.date, s.link"
            " FROM claims c LEFT JOIN claim_sources cs ON cs.claim_id = c.id"
            " LEFT JOIN sources s ON s.id = cs.source_id"
            f" WHERE c.id IN ({marks}) ORDER BY c.id, cs.position",
            tuple(claim_ids),
        )
        for (
            claim_id,
            text,
            status,
            category,
            date,
            date_text,
            reported,
            product,
            end_user,
            goods,
            source_id,
            url,
            title,
            publisher,
            published,
            link,
        ) in rows:
            claim = claims.get(claim_id)
            if claim is None:
                claim = claims[claim_id] = ListedClaim(
                    str(claim_id),
                    str(text),
                    _STATUSES[status],
                    _CATEGORIES[category],
                    date,
                    date_text,
                    reported,
                    product,
                    end_user,
                    [] if goods == "[]" else json.loads(goods),
                    [],
                )
            if source_id is not None:
                source = source_of.get(source_id)
                if source is None:
                    source = source_of[source_id] = _source(url, title, publisher, published, link)
                claim.sources.append(source)
        return claims

    async def hand_written_entities(self) -> list[EntityRecord]:
        """Every entity with what people wrote: the names written in the data (not the registry's
        ISO and CLDR names, which a build adds again: 35,000 of the bundled base's 36,000) and
        the hand-written claims (imported claims left out)."""
        records = {
            str(r["id"]): _entity_from_row(r)
            for r in await self._db.execute_fetchall("SELECT * FROM entities ORDER BY id")
        }
        written = await self._aliases_by_entity("name, type, lang, origin", written_only=True)
        for entity_id, rows in written.items():
            records[entity_id].aliases.extend(
                AliasRecord(name, type_, lang, origin) for _, name, type_, lang, origin in rows
            )
        for home, claim in await self._homed_claims("c.provenance_dataset IS NULL", ()):
            records[home].claims.append(claim)
        return list(records.values())

    async def _claims(self, where: str, params: tuple[Any, ...]) -> list[Claim]:
        return [claim for _, claim in await self._homed_claims(where, params)]

    async def _homed_claims(self, where: str, params: tuple[Any, ...]) -> list[tuple[str, Claim]]:
        """The claims selected by ``where``, each with the id of the entity it is filed under."""
        # Three queries, each selecting by ``where`` again (not by a list of ids, which could pass
        # SQLite's limit of 32,766 parameters for an entity with that many claims). fetchall:
        # iterating an aiosqlite cursor costs a round trip to its thread per 64 rows. Parties and
        # sources are frozen models, so the same one is shared by every claim that has it.
        rows = await self._db.execute_fetchall(
            f"SELECT c.* FROM claims c WHERE {where} ORDER BY c.home_entity_id, c.position", params
        )
        if not rows:
            return []
        parties: dict[str, list[Party]] = defaultdict(list)
        party_of: dict[tuple[str, str], Party] = {}
        for claim_id, entity_id, role in await self._db.execute_fetchall(
            "SELECT claim_id, entity_id, role FROM claim_parties"
            f" WHERE claim_id IN (SELECT c.id FROM claims c WHERE {where})"
            " ORDER BY claim_id, position",
            params,
        ):
            party = party_of.get((entity_id, role))
            if party is None:
                party = trusted(Party, {"entity": str(entity_id), "role": _ROLES[role]})
                party_of[(entity_id, role)] = party
            parties[claim_id].append(party)
        sources: dict[str, list[Source]] = defaultdict(list)
        source_of: dict[int, Source] = {}
        for claim_id, source_id, *fields in await self._db.execute_fetchall(
            "SELECT cs.claim_id, s.id, s.url, s.title, s.publisher, s.date, s.link"
            " FROM claim_sources cs"
            " JOIN sources s ON s.id = cs.source_id"
            f" WHERE cs.claim_id IN (SELECT c.id FROM claims c WHERE {where})"
            " ORDER BY cs.claim_id, cs.position",
            params,
        ):
            source = source_of.get(source_id)
            if source is None:
                source = source_of[source_id] = _source(*fields)
            sources[claim_id].append(source)
        return [
            (str(r["home_entity_id"]), _claim_from_row(r, parties[r["id"]], sources[r["id"]]))
            for r in rows
        ]

    async def curated_entities(self) -> list[EntityRecord]:
        """Every entity that has (or should have) a file in data/, with its data-file content."""
        ids = [
            str(r[0])
            for r in await self._db.execute_fetchall(
                "SELECT id FROM entities WHERE curated = 1 ORDER BY id"
            )
        ]
        records = []
        for entity_id in ids:
            record = await self.entity(entity_id)
            assert record is not None
            records.append(record)
        return records

    # -- checking -----------------------------------------------------------------------------

    async def integrity_problems(self) -> list[str]:
        """Everything wrong with the database, in words; empty when it is sound."""
        problems: list[str] = []
        if self.dialect == "sqlite":
            # PostgreSQL checks its pages and foreign keys itself, as it writes them.
            try:
                results = [
                    str(r[0]) for r in await self._db.execute_fetchall("PRAGMA integrity_check")
                ]
            except sqlite3.DatabaseError as exc:
                # Some damage stops the check itself (which page it hits depends on the layout).
                return [f"SQLite integrity: {exc}"]
            if results != ["ok"]:
                # The checks below read every table, and would stop at the first damaged page.
                return [f"SQLite integrity: {r}" for r in results]
            async with self._db.execute("PRAGMA foreign_key_check") as cursor:
                problems.extend(
                    f"row {r[1]} of {r[0]} points at a missing row of {r[2]}"
                    for r in await cursor.fetchall()
                )
        version = await self.schema_version()
        if version != self.latest_schema:
            problems.append(f"schema version is {version}, expected {self.latest_schema}")
        two_letters = (
            "id !~ '^[A-Z][A-Z]$'" if self.dialect == "postgresql" else "id NOT GLOB '[A-Z][A-Z]'"
        )
        checks = [
            (
                "SELECT id FROM claims WHERE id NOT IN (SELECT claim_id FROM claim_sources)",
                "claim {} has no source",
            ),
            (
                "SELECT id FROM claims WHERE id NOT IN (SELECT claim_id FROM claim_parties)",
                "claim {} names no entity",
            ),
            (
                "SELECT c.id FROM claims c WHERE NOT EXISTS (SELECT 1 FROM claim_parties p"
                " WHERE p.claim_id = c.id AND p.entity_id = c.home_entity_id)",
                "claim {} is not about the entity it is filed under",
            ),
            (
                "SELECT id FROM claims WHERE provenance_dataset IS NULL AND id IN"
                " (SELECT cs.claim_id"
                " FROM claim_sources cs JOIN sources s ON s.id = cs.source_id WHERE s.url IS NULL)",
                "hand-written claim {} has a source without a URL",
            ),
            (
                "SELECT id FROM sources WHERE id NOT IN (SELECT source_id FROM claim_sources)",
                "source {} is cited by no claim",
            ),
            (
                f"SELECT id FROM entities WHERE kind = 'country' AND {two_letters}",
                "country {} does not have a two-letter code as its id",
            ),
            (
                # claims.party_roles, kept by the triggers of migration 6 (what places a claim
                # on a card read a page at a time).
                "SELECT c.id FROM claims c WHERE coalesce(c.party_roles, '') != coalesce(("
                "SELECT group_concat(pair, ' ') FROM (SELECT q.role || ' ' || q.entity_id AS pair"
                " FROM claim_parties q WHERE q.claim_id = c.id"
                " AND q.role IN ('supplier', 'broker', 'recipient', 'instrument')"
                " ORDER BY q.position) AS pairs), '')",
                "claim {} lists its parties out of step with claim_parties: run `armsbot db"
                " build --force`",
            ),
        ]
        if self.dialect == "sqlite":
            checks.insert(
                len(checks) - 1,  # before the parties check, as it always ran
                (
                    # One full-text entry per claim row (the triggers of migration 6); a file
                    # changed without them (or renumbered by VACUUM) is out of step.
                    "SELECT (SELECT count(*) FROM claims),"
                    " (SELECT count(*) FROM claims_fts_docsize)"
                    " WHERE (SELECT count(*) FROM claims)"
                    " != (SELECT count(*) FROM claims_fts_docsize)"
                    " OR EXISTS (SELECT 1 FROM claims_fts_docsize d"
                    " WHERE d.id NOT IN (SELECT rowid FROM claims))",
                    "the full-text index of claims is out of step ({} claims, {} indexed): run"
                    " `armsbot db build --force` to rebuild it",
                ),
            )
            checks.insert(
                len(checks) - 1,
                (
                    # The index of the words and the parties' keys (migration 11), likewise.
                    "SELECT (SELECT count(*) FROM claims),"
                    " (SELECT count(*) FROM claims_linked_docsize)"
                    " WHERE (SELECT count(*) FROM claims)"
                    " != (SELECT count(*) FROM claims_linked_docsize)"
                    " OR EXISTS (SELECT 1 FROM claims_linked_docsize d"
                    " WHERE d.id NOT IN (SELECT rowid FROM claims))",
                    "the full-text index of claims and their parties is out of step ({} claims,"
                    " {} indexed): run `armsbot db build --force` to rebuild it",
                ),
            )
            checks.insert(
                len(checks) - 1,
                (
                    # Each claim's parties as words (migration 11), kept by triggers.
                    f"SELECT c.id FROM claims c WHERE c.party_keys != {party_keys_of('c.id')}",
                    "claim {} has its parties' keys out of step with claim_parties: run `armsbot"
                    " db build --force`",
                ),
            )
            checks.insert(
                len(checks) - 1,
                (
                    # The same index in the order claims are listed (migration 10): one entry
                    # per claim, under the key of its category, date and rowid.
                    "SELECT (SELECT count(*) FROM claims),"
                    " (SELECT count(*) FROM claims_fts_order_docsize)"
                    " WHERE (SELECT count(*) FROM claims)"
                    " != (SELECT count(*) FROM claims_fts_order_docsize)"
                    " OR EXISTS (SELECT 1 FROM claims_fts_order_docsize d"
                    f" WHERE d.id NOT IN (SELECT {_ORDER_KEY} FROM claims c))",
                    "the full-text index of claims in their order is out of step ({} claims, {}"
                    " indexed): run `armsbot db build --force` to rebuild it",
                ),
            )
            checks += [
                (
                    # claim_order, kept by the triggers of migration 9 (what orders full-text
                    # matches): one row per claim, with its id, category, date and status.
                    "SELECT count(*) FROM claims c LEFT JOIN claim_order o ON o.rid = c.rowid"
                    " WHERE o.rid IS NULL OR o.id != c.id OR o.category != c.category"
                    " OR o.status != c.status OR o.w IS NOT coalesce(c.date, c.reported)"
                    " HAVING count(*) > 0"
                    " UNION ALL SELECT count(*) FROM claim_order o"
                    " WHERE o.rid NOT IN (SELECT rowid FROM claims) HAVING count(*) > 0",
                    "{} claims are out of step with claim_order (what orders full-text matches):"
                    " run `armsbot db build --force`",
                ),
                (
                    # card_places, kept by the triggers of migration 9 (what places a claim on a
                    # card read a page at a time): a row per party, copying its claim's columns.
                    "SELECT count(*) FROM claim_parties p JOIN claims c ON c.id = p.claim_id"
                    " WHERE NOT EXISTS (SELECT 1 FROM card_places k WHERE k.claim_id = p.claim_id"
                    " AND k.position = p.position AND k.entity_id = p.entity_id AND k.role = p.role"
                    " AND k.rid = c.rowid"
                    " AND k.category = c.category AND k.w = coalesce(c.date, c.reported, '')"
                    " AND k.undated = (k.w = '') AND k.goods = c.goods"
                    " AND k.party_roles IS c.party_roles) HAVING count(*) > 0"
                    " UNION ALL SELECT count(*) FROM card_places k WHERE NOT EXISTS (SELECT 1"
                    " FROM claim_parties p"
                    " WHERE p.claim_id = k.claim_id AND p.position = k.position)"
                    " HAVING count(*) > 0",
                    "{} parties of claims are out of step with card_places (what orders a card's"
                    " claims): run `armsbot db build --force`",
                ),
            ]
        checks += [
            (
                # An entry set back below its history (as rebuilds did before they kept the
                # numbers): corrections made against its older states would pass as current.
                "SELECT e.id, e.revision, max(r.number) FROM entities e"
                " JOIN revisions r ON r.entity_id = e.id GROUP BY e.id"
                " HAVING max(r.number) > e.revision",
                "entry {} is at revision {}, but revision {} of it is already recorded: its"
                " numbering went back (run `armsbot db export DIR`, then `armsbot db build"
                " --data DIR --force` to give it a new revision)",
            ),
            (
                "SELECT entity_id, number, count(*) FROM revisions"
                " GROUP BY entity_id, number HAVING count(*) > 1",
                "entry {} has revision {} recorded {} times",
            ),
            (
                "SELECT c.id, c.base_revision, c.entity_id, e.revision FROM corrections c"
                " JOIN entities e ON e.id = c.entity_id"
                " WHERE c.status = 'pending' AND c.base_revision > e.revision",
                "pending correction #{} was made against revision {} of {}, which is now at"
                " revision {}: its numbering went back",
            ),
        ]
        for sql, template in checks:
            problems.extend(template.format(*r) for r in await self._db.execute_fetchall(sql))
        async with self._db.execute("SELECT id, name, folded FROM aliases") as cursor:
            for r in await cursor.fetchall():  # one hop to the database's thread, not 600
                if fold(str(r[1])) != r[2]:
                    problems.append(f"alias {r[0]} ({r[1]!r}) is indexed under a stale folded form")
        return problems

    async def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        """All knowledge rows in a stable order, without row ids: for comparing two databases."""
        queries = {
            "entities": "SELECT id, kind, name, name_origin, summary, attributes, curated, dataset"
            " FROM entities ORDER BY id",
            "claims": "SELECT id, home_entity_id, position, text, status, category, date,"
            " date_text, reported,"
            " product, end_user, goods, provenance_dataset, provenance_checksum, provenance_record,"
            " provenance_merged, distinct_from FROM claims ORDER BY id",
            "claim_parties": "SELECT * FROM claim_parties ORDER BY claim_id, position",
            "claim_sources": "SELECT cs.claim_id, cs.position, s.url, s.title, s.publisher, s.date,"
            " s.link FROM claim_sources cs JOIN sources s ON s.id = cs.source_id"
            " ORDER BY cs.claim_id, cs.position",
        }
        result = {}
        for name, sql in queries.items():
            result[name] = [tuple(r) for r in await self._db.execute_fetchall(sql)]
        # (entity_id, position, name, folded, type, lang, origin), by entity and position
        names = await self._aliases_by_entity("name, folded, type, lang, origin")
        result["aliases"] = [(e, *row) for e in sorted(names) for row in names[e]]
        return result


_INSERT_ALIAS = (
    "INSERT INTO aliases (entity_id, position, name, folded, type, lang, origin)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)


def _alias_rows(entity_id: str, aliases: Iterable[AliasRecord]) -> list[tuple[Any, ...]]:
    """The rows ``_INSERT_ALIAS`` takes for an entity's aliases, in order."""
    return [
        (entity_id, position, a.name, fold(a.name), a.type, a.lang, a.origin)
        for position, a in enumerate(aliases)
    ]


def _source(url: Any, title: Any, publisher: Any, date: Any, link: Any) -> Source:
    """A source from its stored columns (url, title, publisher, date, link), unvalidated: what
    armsbot wrote was validated then."""
    return trusted(
        Source,
        {
            "url": url,
            "title": str(title),
            "publisher": publisher,
            "date": date,
            "link": _LINKS[link],
        },
    )


async def first_row(db: Database, sql: str, parameters: Any = ()) -> Any:
    """The first row of one statement, or None: one trip to the database's thread (a cursor
    takes three: the statement, its rows and its closing)."""
    for row in await db.execute_fetchall(sql, parameters):
        return row
    return None


async def _source_id(db: Database, key: SourceKey) -> int:
    """The id of the source with exactly these fields, inserting it when it is new."""
    row = await first_row(
        db,
        "SELECT id FROM sources WHERE coalesce(url, '') = coalesce(?, '') AND title = ?"
        " AND coalesce(publisher, '') = coalesce(?, '') AND coalesce(date, '') = coalesce(?, '')"
        " AND link = ?",
        key,
    )
    if row is not None:
        return int(row[0])
    row = await first_row(
        db,
        "INSERT INTO sources (url, title, publisher, date, link) VALUES (?, ?, ?, ?, ?)"
        " RETURNING id",
        key,
    )
    assert row is not None
    return int(row[0])


def _split_sql(script: str) -> list[str]:
    """Split a migration into complete statements (a trigger's body holds semicolons too)."""
    statements: list[str] = []
    buffer = ""
    for part in script.split(";"):
        buffer += part + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n;"):
                statements.append(buffer.strip())
            buffer = ""
    return statements


def _entity_from_row(row: Any) -> EntityRecord:
    return EntityRecord(
        id=str(row["id"]),
        kind=Kind(row["kind"]),
        name=str(row["name"]),
        name_origin=str(row["name_origin"]),
        summary=row["summary"],
        attributes=json.loads(row["attributes"]),
        curated=bool(row["curated"]),
        revision=int(row["revision"]),
    )


def _claim_from_row(row: Any, parties: list[Party], sources: list[Source]) -> Claim:
    provenance = None
    if row["provenance_dataset"] is not None:
        provenance = trusted(
            Provenance,
            {
                "dataset": row["provenance_dataset"],
                "checksum": row["provenance_checksum"],
                "record": row["provenance_record"],
                "merged": json.loads(row["provenance_merged"]),
            },
        )
    goods = row["goods"]
    distinct_from = row["distinct_from"]
    return trusted(
        Claim,
        {
            "id": str(row["id"]),
            "text": str(row["text"]),
            "status": _STATUSES[row["status"]],
            "category": _CATEGORIES[row["category"]],
            "date": row["date"],
            "date_text": row["date_text"],
            "reported": row["reported"],
            "parties": parties,
            "product": row["product"],
            "end_user": row["end_user"],
            "goods": [] if goods == "[]" else json.loads(goods),
            "sources": sources,
            "provenance": provenance,
            "distinct_from": [] if distinct_from == "[]" else json.loads(distinct_from),
        },
    )


class ListedClaim(NamedTuple):
    """A claim as a list of claims shows it (its lines on a card): a :class:`Claim`'s fields of
    the same names, without its parties or provenance."""

    id: str
    text: str
    status: Status
    category: Category
    date: str | None
    date_text: str | None
    reported: str | None
    product: str | None
    end_user: str | None
    goods: list[str]
    sources: list[Source]


Model = TypeVar("Model", bound=BaseModel)
_ROLES: Final = {r.value: r for r in Role}
_STATUSES: Final = {s.value: s for s in Status}
_CATEGORIES: Final = {c.value: c for c in Category}
_LINKS: Final = {k.value: k for k in LinkKind}
_set = object.__setattr__


def trusted(cls: type[Model], values: dict[str, Any]) -> Model:
    """A model of rows the knowledge base wrote (validated then), without validating them again.

    ``cls.model_construct(**values)`` for ``values`` that give every field, without its walk over
    the fields for aliases and defaults: a quarter of its time, which counts when a page reads
    hundreds of claims, parties and sources. Only for models without a post-init or private
    attributes (checked by the tests against ``model_construct``).
    """
    model = cls.__new__(cls)
    _set(model, "__dict__", values)
    _set(model, "__pydantic_fields_set__", set(values))
    _set(model, "__pydantic_extra__", None)
    _set(model, "__pydantic_private__", None)
    return model
