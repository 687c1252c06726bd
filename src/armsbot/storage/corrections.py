"""Corrections, revisions, the audit log and server settings (SQLite or PostgreSQL).

The methods that change the knowledge base are meant to run inside one ``kb.transaction()``
opened by the service, so a correction, its revision, the entity's new content and the audit entry
are committed together or not at all.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from armsbot.changes import CorrectionStatus
from armsbot.models import Kind, SourceKey
from armsbot.records import AliasRecord, EntityRecord
from armsbot.storage.knowledge_base import Database, KnowledgeBase, first_row


@dataclass(frozen=True, slots=True)
class CorrectionRow:
    """A stored correction."""

    id: int
    entity_id: str | None
    change: dict[str, Any]
    base_revision: int | None
    what_is_wrong: str
    source_url: str
    source_title: str | None
    note: str | None
    submitter_id: str
    guild_id: str | None
    status: CorrectionStatus
    created_at: str
    decided_at: str | None
    decided_by: str | None
    decision_reason: str | None
    revision_id: int | None


@dataclass(frozen=True, slots=True)
class RevisionRow:
    """A stored revision of one entity."""

    id: int
    entity_id: str
    number: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    actor_id: str
    reason: str | None
    correction_id: int | None
    reverts: int | None
    created_at: str


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One audit-log entry."""

    id: int
    at: str
    actor_id: str
    action: str
    correction_id: int | None
    entity_id: str | None
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class GuildSettingsRow:
    """A server's moderation settings."""

    guild_id: str
    moderator_role_id: str | None
    review_channel_id: str | None


def _correction(row: Any) -> CorrectionRow:
    return CorrectionRow(
        id=int(row["id"]),
        entity_id=row["entity_id"],
        change=json.loads(row["change"]),
        base_revision=row["base_revision"],
        what_is_wrong=str(row["what_is_wrong"]),
        source_url=str(row["source_url"]),
        source_title=row["source_title"],
        note=row["note"],
        submitter_id=str(row["submitter_id"]),
        guild_id=row["guild_id"],
        status=CorrectionStatus(row["status"]),
        created_at=str(row["created_at"]),
        decided_at=row["decided_at"],
        decided_by=row["decided_by"],
        decision_reason=row["decision_reason"],
        revision_id=row["revision_id"],
    )


def _revision(row: Any) -> RevisionRow:
    return RevisionRow(
        id=int(row["id"]),
        entity_id=str(row["entity_id"]),
        number=int(row["number"]),
        before=None if row["before"] is None else json.loads(row["before"]),
        after=None if row["after"] is None else json.loads(row["after"]),
        actor_id=str(row["actor_id"]),
        reason=row["reason"],
        correction_id=row["correction_id"],
        reverts=row["reverts"],
        created_at=str(row["created_at"]),
    )


class CorrectionStore:
    """SQL for corrections, revisions, audit and settings, on one knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    @property
    def _db(self) -> Database:
        return self.kb.db

    # -- corrections ----------------------------------------------------------------------------

    async def insert_correction(
        self,
        *,
        entity_id: str | None,
        change: dict[str, Any],
        base_revision: int | None,
        what_is_wrong: str,
        source_url: str,
        source_title: str | None,
        note: str | None,
        submitter_id: str,
        guild_id: str | None,
        now: str,
    ) -> int:
        """Store a new pending correction; return its number."""
        row = await first_row(
            self._db,
            "INSERT INTO corrections (entity_id, change, base_revision, what_is_wrong, source_url,"
            " source_title, note, submitter_id, guild_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                entity_id,
                json.dumps(change, ensure_ascii=False, sort_keys=True),
                base_revision,
                what_is_wrong,
                source_url,
                source_title,
                note,
                submitter_id,
                guild_id,
                now,
            ),
        )
        assert row is not None
        return int(row[0])

    async def correction(self, correction_id: int) -> CorrectionRow | None:
        """One correction by number."""
        row = await first_row(self._db, "SELECT * FROM corrections WHERE id = ?", (correction_id,))
        return None if row is None else _correction(row)

    async def corrections(
        self,
        *,
        status: CorrectionStatus | None = None,
        submitter_id: str | None = None,
        entity_id: str | None = None,
        limit: int = 25,
        offset: int = 0,
        newest_first: bool = False,
    ) -> list[CorrectionRow]:
        """Corrections filtered by status, submitter and entity, oldest first unless asked."""
        where, params = [], []
        for column, value in (
            ("status", status),
            ("submitter_id", submitter_id),
            ("entity_id", entity_id),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        order = "DESC" if newest_first else "ASC"
        return [
            _correction(r)
            for r in await self._db.execute_fetchall(
                f"SELECT * FROM corrections {clause} ORDER BY id {order} LIMIT ? OFFSET ?",
                (*params, limit, offset),
            )
        ]

    async def count_corrections(self, *, status: CorrectionStatus | None = None) -> int:
        """How many corrections there are (with this status)."""
        sql = "SELECT count(*) FROM corrections" + (" WHERE status = ?" if status else "")
        row = await first_row(self._db, sql, (status,) if status else ())
        return int(row[0]) if row else 0

    async def submissions_since(self, submitter_id: str, since: str) -> int:
        """How many corrections a user submitted at or after ``since``."""
        row = await first_row(
            self._db,
            "SELECT count(*) FROM corrections WHERE submitter_id = ? AND created_at >= ?",
            (submitter_id, since),
        )
        return int(row[0]) if row else 0

    async def decide(
        self,
        correction_id: int,
        *,
        status: CorrectionStatus,
        actor_id: str,
        now: str,
        reason: str | None = None,
        revision_id: int | None = None,
        from_status: CorrectionStatus = CorrectionStatus.PENDING,
    ) -> bool:
        """Move a correction out of ``from_status``; False if someone else already did."""
        cursor = await self._db.execute(
            "UPDATE corrections SET status = ?, decided_at = ?, decided_by = ?,"
            " decision_reason = ?, revision_id = ? WHERE id = ? AND status = ?",
            (status, now, actor_id, reason, revision_id, correction_id, from_status),
        )
        return cursor.rowcount == 1

    async def add_review_post(self, correction_id: int, channel_id: str, message_id: str) -> None:
        """Remember where a correction was posted for review."""
        await self._db.execute(
            "INSERT INTO review_posts (correction_id, channel_id, message_id) VALUES (?, ?, ?)"
            " ON CONFLICT (correction_id, channel_id)"
            " DO UPDATE SET message_id = excluded.message_id",
            (correction_id, channel_id, message_id),
        )

    async def review_posts(self, correction_id: int) -> list[tuple[str, str]]:
        """(channel id, message id) of each review post of a correction."""
        return [
            (str(r[0]), str(r[1]))
            for r in await self._db.execute_fetchall(
                "SELECT channel_id, message_id FROM review_posts WHERE correction_id = ?",
                (correction_id,),
            )
        ]

    # -- entities -------------------------------------------------------------------------------

    async def entity_revision(self, entity_id: str) -> int | None:
        """The entity's current revision number, or None if it does not exist."""
        row = await first_row(self._db, "SELECT revision FROM entities WHERE id = ?", (entity_id,))
        return None if row is None else int(row[0])

    async def next_revision(self, entity_id: str) -> int:
        """The number the entity's next revision gets: one past both its current revision and
        every revision recorded for it, so numbers only grow, across rebuilds and removals too."""
        row = await first_row(
            self._db,
            "SELECT max(n) + 1 FROM (SELECT revision AS n FROM entities WHERE id = ?"
            " UNION ALL SELECT number FROM revisions WHERE entity_id = ? UNION ALL SELECT 0)"
            " AS numbers",
            (entity_id, entity_id),
        )
        assert row is not None
        return int(row[0])

    async def newest_revisions(self) -> dict[str, int]:
        """For each entity with recorded revisions (existing or not), its highest number."""
        return {
            str(r[0]): int(r[1])
            for r in await self._db.execute_fetchall(
                "SELECT entity_id, max(number) FROM revisions GROUP BY entity_id"
            )
        }

    async def write_entity(self, record: EntityRecord, *, create: bool) -> int:
        """Store an entity's hand-written content as its next revision; return the new number.

        Registry names (ISO, CLDR) and imported claims are kept as they are.
        """
        db = self._db
        attributes = json.dumps(record.attributes, sort_keys=True, ensure_ascii=False)
        revision = await self.next_revision(record.id)
        if create:
            await db.execute(
                "INSERT INTO entities (id, kind, name, name_origin, summary, attributes, curated,"
                " revision) VALUES (?, ?, ?, ?, ?, ?, 1, ?)",
                (
                    record.id,
                    record.kind.value,
                    record.name,
                    record.name_origin,
                    record.summary,
                    attributes,
                    revision,
                ),
            )
        else:
            await db.execute(
                "UPDATE entities SET name = ?, name_origin = ?, summary = ?, attributes = ?,"
                " curated = 1, revision = ? WHERE id = ?",
                (record.name, record.name_origin, record.summary, attributes, revision, record.id),
            )
        async with db.execute(
            "SELECT name, type, lang FROM aliases WHERE entity_id = ? AND origin = 'registry'"
            " ORDER BY position",
            (record.id,),
        ) as cursor:
            registry = [
                AliasRecord(str(r[0]), str(r[1]), r[2], "registry") for r in await cursor.fetchall()
            ]
        await db.execute("DELETE FROM aliases WHERE entity_id = ?", (record.id,))
        data_aliases = [a for a in record.aliases if a.origin == "data"]
        await KnowledgeBase.insert_aliases(db, record.id, [*data_aliases, *registry])
        await db.execute(
            "DELETE FROM claims WHERE home_entity_id = ? AND provenance_dataset IS NULL",
            (record.id,),
        )
        row = await first_row(
            db,
            "SELECT coalesce(max(position) + 1, 0) FROM claims WHERE home_entity_id = ?",
            (record.id,),
        )
        first = int(row[0]) if row else 0
        sources: dict[SourceKey, int] = {}
        for offset, claim in enumerate(c for c in record.claims if c.provenance is None):
            await KnowledgeBase.insert_claim(db, record.id, first + offset, claim, sources)
        await db.execute(
            "DELETE FROM sources WHERE id NOT IN (SELECT source_id FROM claim_sources)"
        )
        return revision

    async def delete_entity(self, entity_id: str) -> None:
        """Remove an entity that nothing else mentions (a reverted creation)."""
        await self._db.execute("DELETE FROM entities WHERE id = ?", (entity_id,))
        await self._db.execute(
            "DELETE FROM sources WHERE id NOT IN (SELECT source_id FROM claim_sources)"
        )

    async def mentions_elsewhere(self, entity_id: str) -> int:
        """How many claims filed under other entities name this one."""
        row = await first_row(
            self._db,
            "SELECT count(*) FROM claim_parties p JOIN claims c ON c.id = p.claim_id"
            " WHERE p.entity_id = ? AND c.home_entity_id != ?",
            (entity_id, entity_id),
        )
        return int(row[0]) if row else 0

    async def entity_kind(self, entity_id: str) -> Kind | None:
        """The kind of an entity, or None when it does not exist."""
        row = await first_row(self._db, "SELECT kind FROM entities WHERE id = ?", (entity_id,))
        return None if row is None else Kind(row[0])

    # -- revisions ------------------------------------------------------------------------------

    async def insert_revision(
        self,
        *,
        entity_id: str,
        number: int,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
        actor_id: str,
        reason: str | None,
        correction_id: int | None,
        reverts: int | None,
        now: str,
    ) -> int:
        """Record a revision; return its id."""
        row = await first_row(
            self._db,
            "INSERT INTO revisions (entity_id, number, before, after, actor_id, reason,"
            " correction_id, reverts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                entity_id,
                number,
                None if before is None else json.dumps(before, ensure_ascii=False, sort_keys=True),
                None if after is None else json.dumps(after, ensure_ascii=False, sort_keys=True),
                actor_id,
                reason,
                correction_id,
                reverts,
                now,
            ),
        )
        assert row is not None
        return int(row[0])

    async def revisions(self, entity_id: str) -> list[RevisionRow]:
        """An entity's revisions, newest first."""
        return [
            _revision(r)
            for r in await self._db.execute_fetchall(
                "SELECT * FROM revisions WHERE entity_id = ? ORDER BY number DESC", (entity_id,)
            )
        ]

    async def revision(self, entity_id: str, number: int) -> RevisionRow | None:
        """One revision of an entity by its number."""
        row = await first_row(
            self._db,
            "SELECT * FROM revisions WHERE entity_id = ? AND number = ?",
            (entity_id, number),
        )
        return None if row is None else _revision(row)

    async def revisions_since(self, revision_id: int) -> list[RevisionRow]:
        """Every revision recorded after ``revision_id``, oldest first."""
        return [
            _revision(r)
            for r in await self._db.execute_fetchall(
                "SELECT * FROM revisions WHERE id > ? ORDER BY id", (revision_id,)
            )
        ]

    async def last_revision_id(self) -> int:
        """The id of the newest revision, 0 when there is none."""
        row = await first_row(self._db, "SELECT coalesce(max(id), 0) FROM revisions")
        return int(row[0]) if row else 0

    async def revision_count(self) -> int:
        """How many revisions the database records."""
        row = await first_row(self._db, "SELECT count(*) FROM revisions")
        return int(row[0]) if row else 0

    # -- audit ----------------------------------------------------------------------------------

    async def audit(
        self,
        *,
        actor_id: str,
        action: str,
        now: str,
        correction_id: int | None = None,
        entity_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append an entry to the audit log."""
        await self._db.execute(
            "INSERT INTO audit_log (at, actor_id, action, correction_id, entity_id, details)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                now,
                actor_id,
                action,
                correction_id,
                entity_id,
                json.dumps(details or {}, ensure_ascii=False, sort_keys=True),
            ),
        )

    async def audit_entries(self, *, limit: int = 100, offset: int = 0) -> list[AuditRow]:
        """Audit entries, oldest first."""
        async with self._db.execute(
            "SELECT * FROM audit_log ORDER BY id LIMIT ? OFFSET ?", (limit, offset)
        ) as cursor:
            return [
                AuditRow(
                    id=int(r["id"]),
                    at=str(r["at"]),
                    actor_id=str(r["actor_id"]),
                    action=str(r["action"]),
                    correction_id=r["correction_id"],
                    entity_id=r["entity_id"],
                    details=json.loads(r["details"]),
                )
                for r in await cursor.fetchall()
            ]

    async def replace_user_id(self, old: str, new: str) -> int:
        """Replace a user's id wherever it is stored; return how many rows changed."""
        changed = 0
        for sql in (
            "UPDATE corrections SET submitter_id = ? WHERE submitter_id = ?",
            "UPDATE corrections SET decided_by = ? WHERE decided_by = ?",
            "UPDATE revisions SET actor_id = ? WHERE actor_id = ?",
            "UPDATE audit_log SET actor_id = ? WHERE actor_id = ?",
            "UPDATE guild_settings SET updated_by = ? WHERE updated_by = ?",
            "UPDATE watches SET created_by = ? WHERE created_by = ?",
            "UPDATE entity_changes SET actor_id = ? WHERE actor_id = ?",
        ):
            cursor = await self._db.execute(sql, (new, old))
            changed += cursor.rowcount
        return changed

    # -- settings -------------------------------------------------------------------------------

    async def guild_settings(self, guild_id: str) -> GuildSettingsRow:
        """A server's moderation settings (empty when never configured)."""
        row = await first_row(
            self._db,
            "SELECT moderator_role_id, review_channel_id FROM guild_settings WHERE guild_id = ?",
            (guild_id,),
        )
        if row is None:
            return GuildSettingsRow(guild_id, None, None)
        return GuildSettingsRow(guild_id, row[0], row[1])

    async def set_guild_settings(
        self, settings: GuildSettingsRow, *, actor_id: str, now: str
    ) -> None:
        """Store a server's moderation settings."""
        await self._db.execute(
            "INSERT INTO guild_settings (guild_id, moderator_role_id, review_channel_id,"
            " updated_at, updated_by) VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET"
            " moderator_role_id = excluded.moderator_role_id,"
            " review_channel_id = excluded.review_channel_id,"
            " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (
                settings.guild_id,
                settings.moderator_role_id,
                settings.review_channel_id,
                now,
                actor_id,
            ),
        )
