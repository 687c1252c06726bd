"""Watches, the channels that hold them, and the notices sent for them (SQLite or PostgreSQL).

The write methods run inside one ``kb.transaction()`` opened by the watch service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from armsbot.storage.changelog import EntityChange, change_from_row
from armsbot.storage.knowledge_base import Database, KnowledgeBase, first_row


@dataclass(frozen=True, slots=True)
class WatchRow:
    """A channel following an entity."""

    guild_id: str
    channel_id: str
    entity_id: str
    created_by: str
    created_at: str
    reported_through: int


@dataclass(frozen=True, slots=True)
class ChannelState:
    """How posting notices in a channel has gone."""

    channel_id: str
    guild_id: str
    failures: int
    last_error: str | None
    retry_at: str | None
    disabled_at: str | None


@dataclass(frozen=True, slots=True)
class PendingBatch:
    """Changes to one entity that one channel has not been told of yet."""

    guild_id: str
    channel_id: str
    entity_id: str
    first_at: str


@dataclass(frozen=True, slots=True)
class NoticeRow:
    """A notice: the changes it reports are fixed when it is claimed, before it is sent."""

    id: int
    guild_id: str
    channel_id: str
    entity_id: str
    first_change: int
    last_change: int
    nonce: str
    state: str
    claimed_at: str
    attempts: int
    message_id: str | None


def _watch(row: Any) -> WatchRow:
    return WatchRow(
        guild_id=str(row["guild_id"]),
        channel_id=str(row["channel_id"]),
        entity_id=str(row["entity_id"]),
        created_by=str(row["created_by"]),
        created_at=str(row["created_at"]),
        reported_through=int(row["reported_through"]),
    )


def _notice(row: Any) -> NoticeRow:
    return NoticeRow(
        id=int(row["id"]),
        guild_id=str(row["guild_id"]),
        channel_id=str(row["channel_id"]),
        entity_id=str(row["entity_id"]),
        first_change=int(row["first_change"]),
        last_change=int(row["last_change"]),
        nonce=str(row["nonce"]),
        state=str(row["state"]),
        claimed_at=str(row["claimed_at"]),
        attempts=int(row["attempts"]),
        message_id=row["message_id"],
    )


def _channel(row: Any) -> ChannelState:
    return ChannelState(
        channel_id=str(row["channel_id"]),
        guild_id=str(row["guild_id"]),
        failures=int(row["failures"]),
        last_error=row["last_error"],
        retry_at=row["retry_at"],
        disabled_at=row["disabled_at"],
    )


class WatchStore:
    """SQL for watches and their notices, on one knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    @property
    def _db(self) -> Database:
        return self.kb.db

    # -- watches --------------------------------------------------------------------------------

    async def watch(self, channel_id: str, entity_id: str) -> WatchRow | None:
        """One channel's watch of one entity."""
        row = await first_row(
            self._db,
            "SELECT * FROM watches WHERE channel_id = ? AND entity_id = ?",
            (channel_id, entity_id),
        )
        return None if row is None else _watch(row)

    async def watches_of_guild(self, guild_id: str) -> list[WatchRow]:
        """A server's watches, by channel and entity."""
        return [
            _watch(r)
            for r in await self._db.execute_fetchall(
                "SELECT * FROM watches WHERE guild_id = ? ORDER BY channel_id, entity_id",
                (guild_id,),
            )
        ]

    async def count_of_guild(self, guild_id: str) -> int:
        """How many watches a server has."""
        row = await first_row(
            self._db, "SELECT count(*) FROM watches WHERE guild_id = ?", (guild_id,)
        )
        return int(row[0]) if row else 0

    async def newest_change(self) -> int:
        """The id of the newest logged change, 0 when there is none."""
        row = await first_row(self._db, "SELECT coalesce(max(id), 0) FROM entity_changes")
        return int(row[0]) if row else 0

    async def insert_watch(
        self, guild_id: str, channel_id: str, entity_id: str, actor_id: str, now: str
    ) -> None:
        """Start a watch; it reports changes logged from now on."""
        await self._db.execute(
            "INSERT INTO watches (channel_id, entity_id, guild_id, created_by, created_at,"
            " reported_through) VALUES (?, ?, ?, ?, ?, ?)",
            (channel_id, entity_id, guild_id, actor_id, now, await self.newest_change()),
        )

    async def delete_watch(self, channel_id: str, entity_id: str) -> bool:
        """End a watch and drop its notices not yet sent; False when there was none."""
        cursor = await self._db.execute(
            "DELETE FROM watches WHERE channel_id = ? AND entity_id = ?", (channel_id, entity_id)
        )
        await self._db.execute(
            "UPDATE watch_notices SET state = 'dropped'"
            " WHERE channel_id = ? AND entity_id = ? AND state = 'sending'",
            (channel_id, entity_id),
        )
        return cursor.rowcount == 1

    # -- channels -------------------------------------------------------------------------------

    async def channel(self, channel_id: str) -> ChannelState | None:
        """How posting in a channel has gone (None: never failed)."""
        row = await first_row(
            self._db, "SELECT * FROM watch_channels WHERE channel_id = ?", (channel_id,)
        )
        return None if row is None else _channel(row)

    async def channels_of_guild(self, guild_id: str) -> list[ChannelState]:
        """The channels of a server where posting notices has failed."""
        return [
            _channel(r)
            for r in await self._db.execute_fetchall(
                "SELECT * FROM watch_channels WHERE guild_id = ? ORDER BY channel_id", (guild_id,)
            )
        ]

    async def reset_channel(self, channel_id: str) -> bool:
        """Forget a channel's failures; True when it was disabled, and then its watches start
        again from now (what changed while it was disabled is not sent)."""
        state = await self.channel(channel_id)
        await self._db.execute("DELETE FROM watch_channels WHERE channel_id = ?", (channel_id,))
        if state is None or state.disabled_at is None:
            return False
        await self._db.execute(
            "UPDATE watches SET reported_through = ? WHERE channel_id = ?",
            (await self.newest_change(), channel_id),
        )
        return True

    async def record_failure(
        self, guild_id: str, channel_id: str, error: str, *, counted: bool, retry_at: str
    ) -> int:
        """Note a failed post; return the channel's failures in a row (``counted`` ones only)."""
        row = await first_row(
            self._db,
            "INSERT INTO watch_channels (channel_id, guild_id, failures, last_error, retry_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_id) DO UPDATE SET"
            " failures = watch_channels.failures + excluded.failures,"
            " last_error = excluded.last_error,"
            " retry_at = excluded.retry_at RETURNING failures",
            (channel_id, guild_id, int(counted), error, retry_at),
        )
        return int(row[0]) if row else 0

    async def disable_channel(self, channel_id: str, now: str) -> None:
        """Stop posting in a channel, and drop the notices waiting for it."""
        await self._db.execute(
            "UPDATE watch_channels SET disabled_at = ?, retry_at = NULL WHERE channel_id = ?",
            (now, channel_id),
        )
        await self._db.execute(
            "UPDATE watch_notices SET state = 'dropped' WHERE channel_id = ? AND state = 'sending'",
            (channel_id,),
        )

    async def clear_failures(self, channel_id: str) -> None:
        """A post went through: the channel's failures are over."""
        await self._db.execute(
            "DELETE FROM watch_channels WHERE channel_id = ? AND disabled_at IS NULL",
            (channel_id,),
        )

    # -- notices --------------------------------------------------------------------------------

    async def pending(self, guild_ids: list[str]) -> list[PendingBatch]:
        """Per channel and entity, changes not reported yet, in channels still enabled."""
        if not guild_ids:
            return []
        marks = ",".join("?" * len(guild_ids))
        async with self._db.execute(
            "SELECT w.guild_id, w.channel_id, w.entity_id, min(c.at) FROM watches w"
            " JOIN entity_changes c ON c.entity_id = w.entity_id AND c.id > w.reported_through"
            f" WHERE w.guild_id IN ({marks}) AND w.channel_id NOT IN"
            " (SELECT channel_id FROM watch_channels WHERE disabled_at IS NOT NULL)"
            " GROUP BY w.channel_id, w.entity_id ORDER BY min(c.id)",
            guild_ids,
        ) as cursor:
            return [
                PendingBatch(str(r[0]), str(r[1]), str(r[2]), str(r[3]))
                for r in await cursor.fetchall()
            ]

    async def unreported(self, channel_id: str, entity_id: str) -> list[EntityChange]:
        """The changes to an entity that a channel's watch has not reported yet, oldest first."""
        return [
            change_from_row(r)
            for r in await self._db.execute_fetchall(
                "SELECT c.* FROM entity_changes c JOIN watches w ON w.entity_id = c.entity_id"
                " WHERE w.channel_id = ? AND w.entity_id = ? AND c.id > w.reported_through"
                " ORDER BY c.id",
                (channel_id, entity_id),
            )
        ]

    async def insert_notice(
        self, watch: WatchRow, first: int, last: int, nonce: str, now: str
    ) -> int:
        """Claim changes ``first``..``last`` for one notice, and move the watch past them."""
        row = await first_row(
            self._db,
            "INSERT INTO watch_notices (channel_id, guild_id, entity_id, first_change,"
            " last_change, nonce, claimed_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (watch.channel_id, watch.guild_id, watch.entity_id, first, last, nonce, now),
        )
        assert row is not None
        await self._db.execute(
            "UPDATE watches SET reported_through = ? WHERE channel_id = ? AND entity_id = ?",
            (last, watch.channel_id, watch.entity_id),
        )
        return int(row[0])

    async def notice(self, notice_id: int) -> NoticeRow | None:
        """One notice."""
        row = await first_row(self._db, "SELECT * FROM watch_notices WHERE id = ?", (notice_id,))
        return None if row is None else _notice(row)

    async def notices(self, channel_id: str | None = None) -> list[NoticeRow]:
        """Every notice (of one channel), oldest first."""
        where, params = ("WHERE channel_id = ?", (channel_id,)) if channel_id else ("", ())
        return [
            _notice(r)
            for r in await self._db.execute_fetchall(
                f"SELECT * FROM watch_notices {where} ORDER BY id", params
            )
        ]

    async def sending(self, guild_ids: list[str]) -> list[NoticeRow]:
        """Claimed notices not yet marked sent, in these servers, oldest first."""
        if not guild_ids:
            return []
        marks = ",".join("?" * len(guild_ids))
        return [
            _notice(r)
            for r in await self._db.execute_fetchall(
                f"SELECT * FROM watch_notices WHERE state = 'sending' AND guild_id IN ({marks})"
                " ORDER BY id",
                guild_ids,
            )
        ]

    async def notice_changes(self, notice: NoticeRow) -> list[EntityChange]:
        """The changes a notice reports."""
        return [
            change_from_row(r)
            for r in await self._db.execute_fetchall(
                "SELECT * FROM entity_changes WHERE entity_id = ? AND id BETWEEN ? AND ?"
                " ORDER BY id",
                (notice.entity_id, notice.first_change, notice.last_change),
            )
        ]

    async def count_attempt(self, notice_id: int) -> None:
        """Note that a notice is being sent (once more)."""
        await self._db.execute(
            "UPDATE watch_notices SET attempts = attempts + 1 WHERE id = ?", (notice_id,)
        )

    async def mark_sent(self, notice_id: int, message_id: str, now: str) -> None:
        """Record that a notice is in its channel."""
        await self._db.execute(
            "UPDATE watch_notices SET state = 'sent', sent_at = ?, message_id = ?"
            " WHERE id = ? AND state = 'sending'",
            (now, message_id, notice_id),
        )
