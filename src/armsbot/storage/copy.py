"""Copying a whole knowledge base between databases, SQLite or PostgreSQL (``armsbot db copy``).

Every row is copied with its id: entities, names, claims and sources, the corrections with their
revisions, review posts and audit log, server settings, imported datasets, watches and their
notices. The source is read in one snapshot; the target is written in one transaction, which
then reads back what it wrote and compares the row counts and a content hash with the source's
before it commits: a copy is whole and the same, or nothing changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from armsbot.storage.connection import DatabaseUnavailable
from armsbot.storage.knowledge_base import Database, KnowledgeBase

# (table, columns in the order read and written, order of the rows), parents before children.
# corrections.revision_id is written once the revisions are (the two tables refer to each other).
TABLES: Final[Sequence[tuple[str, tuple[str, ...], str]]] = (
    ("kb_meta", ("key", "value"), "key"),
    (
        "entities",
        ("id", "kind", "name", "name_origin", "summary", "attributes", "curated", "revision",
         "dataset"),
        "id",
    ),
    (
        "aliases",
        ("id", "entity_id", "position", "name", "folded", "type", "lang", "origin"),
        "id",
    ),
    ("sources", ("id", "url", "title", "publisher", "date", "link"), "id"),
    (
        "claims",
        ("id", "home_entity_id", "position", "text", "status", "category", "date", "date_text",
         "product", "end_user", "goods", "provenance_dataset", "provenance_checksum",
         "provenance_record", "reported", "distinct_from", "provenance_merged", "party_roles"),
        "id",
    ),
    ("claim_parties", ("claim_id", "position", "entity_id", "role"), "claim_id, position"),
    ("claim_sources", ("claim_id", "position", "source_id"), "claim_id, position"),
    (
        "corrections",
        ("id", "entity_id", "change", "base_revision", "what_is_wrong", "source_url",
         "source_title", "note", "submitter_id", "guild_id", "status", "created_at",
         "decided_at", "decided_by", "decision_reason", "revision_id"),
        "id",
    ),
    (
        "revisions",
        ("id", "entity_id", "number", "before", "after", "actor_id", "reason", "correction_id",
         "reverts", "created_at"),
        "id",
    ),
    ("review_posts", ("correction_id", "channel_id", "message_id"), "correction_id, channel_id"),
    (
        "audit_log",
        ("id", "at", "actor_id", "action", "correction_id", "entity_id", "details"),
        "id",
    ),
    (
        "guild_settings",
        ("guild_id", "moderator_role_id", "review_channel_id", "updated_at", "updated_by"),
        "guild_id",
    ),
    (
        "datasets",
        ("id", "name", "licence", "attribution", "source", "checksum", "imported_at",
         "records_read", "claims", "records_merged", "firms_created", "firms_matched",
         "left_out"),
        "id",
    ),
    (
        "entity_changes",
        ("id", "entity_id", "entity_name", "change", "claim_id", "claim_text", "status_before",
         "status_after", "detail", "actor_id", "correction_id", "revision_id", "at"),
        "id",
    ),
    (
        "watch_notices",
        ("id", "channel_id", "guild_id", "entity_id", "first_change", "last_change", "nonce",
         "state", "claimed_at", "attempts", "sent_at", "message_id"),
        "id",
    ),
    (
        "watch_channels",
        ("channel_id", "guild_id", "failures", "last_error", "retry_at", "disabled_at"),
        "channel_id",
    ),
    # Last: while a table of watches is empty, the triggers stage nothing of the rows above.
    (
        "watches",
        ("channel_id", "entity_id", "guild_id", "created_by", "created_at", "reported_through"),
        "channel_id, entity_id",
    ),
)  # fmt: skip
_STAGING = ("watch_staged_claims", "watch_staged_entities", "watch_staged_revisions")
# Tables whose ids PostgreSQL numbers: its sequences continue after the copied ids.
_NUMBERED = ("aliases", "sources", "corrections", "revisions", "audit_log", "entity_changes",
             "watch_notices")  # fmt: skip
# SQLite's audit log refuses deletes (migration 2): replacing a base lifts that for its own
# transaction only, and puts the same trigger back before it commits.
_SQLITE_AUDIT_TRIGGER = (
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
    " BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
)


class TargetNotEmpty(DatabaseUnavailable):
    """The target already holds a knowledge base, and it was not to be replaced."""


class CopyMismatch(DatabaseUnavailable):
    """What the target holds after the copy differs from the source: nothing was committed."""


@dataclass(frozen=True, slots=True)
class CopyReport:
    """What a copy moved: rows per table, and the content hash both sides agree on."""

    rows: dict[str, int]
    digest: str


async def holds_anything(kb: KnowledgeBase) -> bool:
    """Whether the database holds any knowledge, correction or audit entry."""
    checks = " OR ".join(f"EXISTS (SELECT 1 FROM {table})" for table, _, _ in TABLES)
    async with kb.db.execute(f"SELECT {checks}") as cursor:
        row = await cursor.fetchone()
    return bool(row and row[0])


async def content(kb: KnowledgeBase) -> dict[str, list[tuple[Any, ...]]]:
    """Every copied table's rows, in a stable order (read inside one snapshot by the caller)."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    for table, columns, order in TABLES:
        async with kb.db.execute(
            f"SELECT {', '.join(columns)} FROM {table} ORDER BY {order}"
        ) as cursor:
            rows[table] = [tuple(r) for r in await cursor.fetchall()]
    return rows


def digest(rows: dict[str, list[tuple[Any, ...]]]) -> str:
    """A SHA-256 of every row of every table, the same for the same content on either backend."""
    hashed = hashlib.sha256()
    for table, _, _ in TABLES:
        hashed.update(table.encode() + b"\n")
        for row in rows[table]:
            hashed.update(json.dumps(list(row), ensure_ascii=False).encode() + b"\n")
    return hashed.hexdigest()


async def snapshot_content(kb: KnowledgeBase) -> dict[str, list[tuple[Any, ...]]]:
    """``content`` read in one snapshot, so a write elsewhere meanwhile cannot tear it."""
    async with kb.consistent_read():
        return await content(kb)


async def copy_knowledge_base(
    source: KnowledgeBase, target: KnowledgeBase, *, replace: bool = False
) -> CopyReport:
    """Copy everything in ``source`` into ``target``, in one transaction, and verify it."""
    if not replace and await holds_anything(target):
        raise TargetNotEmpty(
            f"{target.where} already holds a knowledge base: nothing was copied"
            " (give --replace to replace it)"
        )
    rows = await snapshot_content(source)
    expected = digest(rows)
    async with target.transaction(log_changes=False) as db:
        if replace:
            await _clear(target, db)
        for table, columns, _ in TABLES:
            written = columns
            values = rows[table]
            if table == "corrections":  # revision_id once the revisions are there
                written = tuple(c for c in columns if c != "revision_id")
                values = [row[:-1] for row in values]
            marks = ", ".join("?" * len(written))
            await db.executemany(
                f"INSERT INTO {table} ({', '.join(written)}) VALUES ({marks})", values
            )
            if table == "revisions":
                await db.executemany(
                    "UPDATE corrections SET revision_id = ? WHERE id = ?",
                    [(row[-1], row[0]) for row in rows["corrections"] if row[-1] is not None],
                )
        if target.dialect == "postgresql":
            for table in _NUMBERED:
                await db.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                    f" coalesce(max(id), 0) + 1, false) FROM {table}"
                )
        for table in _STAGING:
            await db.execute(f"DELETE FROM {table}")
        copied = await content(target)
        counts = {table: len(copied[table]) for table, _, _ in TABLES}
        wanted = {table: len(rows[table]) for table, _, _ in TABLES}
        if counts != wanted:
            differ = ", ".join(
                f"{t} {counts[t]} of {wanted[t]}" for t in counts if counts[t] != wanted[t]
            )
            raise CopyMismatch(f"the copy in {target.where} lacks rows ({differ}); nothing changed")
        if digest(copied) != expected:
            raise CopyMismatch(
                f"the copy in {target.where} differs from {source.where} in content;"
                " nothing was changed"
            )
        if replace:
            # Processes already open on the target reload everything, as after a rebuild.
            await target.bump_generation()
    await target.refresh_statistics()
    return CopyReport(wanted, expected)


async def _clear(target: KnowledgeBase, db: Database) -> None:
    """Empty every copied table, inside the copy's transaction."""
    if target.dialect == "postgresql":
        await db.execute("SET LOCAL armsbot.replacing = 'on'")
        tables = ", ".join(table for table, _, _ in TABLES)
        await db.execute(f"TRUNCATE {tables}, {', '.join(_STAGING)} RESTART IDENTITY")
        return
    await db.execute("DROP TRIGGER audit_log_no_delete")
    await db.execute("UPDATE corrections SET revision_id = NULL")
    for table, _, _ in reversed(TABLES):
        await db.execute(f"DELETE FROM {table}")
    await db.execute(_SQLITE_AUDIT_TRIGGER)
