"""Following entities: watches per channel, and the notices that report what changed.

A notice reports one entity's changes to one channel. It is *claimed* first, in one transaction:
the changes it covers are fixed and the watch moves past them, and its nonce is derived from them.
Then it is sent with that nonce (Discord's ``enforce_nonce`` returns the message already made for
a nonce instead of making another), and marked sent. A crash between sending and marking leaves
it claimed, and it is sent again with the same nonce: the channel still gets one message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from armsbot.storage import KnowledgeBase
from armsbot.storage.changelog import EntityChange, change_stamp
from armsbot.storage.corrections import CorrectionStore
from armsbot.storage.watches import ChannelState, NoticeRow, PendingBatch, WatchRow, WatchStore

FAILURE_LIMIT = 3  # failed posts in a row (refused, or the channel gone) before it is disabled
# The defaults of ARMSBOT_WATCH_LIMIT and ARMSBOT_WATCH_BATCH_SECONDS.
WATCH_LIMIT = 50
WATCH_BATCH_SECONDS = 120.0
# A refused post is tried again after the batching window, but at least this long, doubling with
# each refusal in a row up to RETRY_CAP (docs/using.md, "Channels that refuse").
MIN_RETRY_SECONDS = 1.0
RETRY_CAP = timedelta(hours=1)


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def notice_nonce(channel_id: str, entity_id: str, first: int, last: int) -> str:
    """The nonce a notice is sent with: derived from the changes it reports and where it goes,
    so sending it again sends the same one. Discord allows 25 characters, unique per author."""
    digest = hashlib.sha256(f"{channel_id}/{entity_id}/{first}-{last}".encode()).hexdigest()
    return "w" + digest[:24]


class WatchOutcome(StrEnum):
    """What ``/watch add`` did."""

    ADDED = "added"
    ALREADY = "already"
    LIMIT = "limit"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class WatchResult:
    """The result of adding a watch, with what the member needs to be told."""

    outcome: WatchOutcome
    count: int  # the server's watches now
    limit: int
    resumed: bool = False  # the channel had been disabled and takes notices again


@dataclass(frozen=True, slots=True)
class GuildWatches:
    """A server's watches and the state of its channels, for ``/watch list``."""

    watches: list[WatchRow]
    channels: list[ChannelState]
    limit: int


@dataclass(slots=True)
class WatchService:
    """Watches and notices over one knowledge base.

    ``min_retry_seconds`` is the least wait before a refused post is tried again (the batching
    window when that is longer); only tests that watch the retries happen set it smaller.
    """

    kb: KnowledgeBase
    limit_per_guild: int = WATCH_LIMIT
    batch_seconds: float = WATCH_BATCH_SECONDS
    clock: Callable[[], datetime] = utc_now
    failure_limit: int = FAILURE_LIMIT
    min_retry_seconds: float = MIN_RETRY_SECONDS
    _store: WatchStore | None = field(default=None, repr=False)

    @property
    def store(self) -> WatchStore:
        """The SQL behind watches."""
        if self._store is None:
            self._store = WatchStore(self.kb)
        return self._store

    # -- watches --------------------------------------------------------------------------------

    async def add(
        self, guild_id: str, channel_id: str, entity_id: str, actor_id: str
    ) -> WatchResult:
        """Make a channel follow an entity, within the server's limit."""
        now = change_stamp(self.clock())
        async with self.kb.transaction():
            count = await self.store.count_of_guild(guild_id)
            if await CorrectionStore(self.kb).entity_kind(entity_id) is None:
                return WatchResult(WatchOutcome.UNKNOWN, count, self.limit_per_guild)
            resumed = await self.store.reset_channel(channel_id)
            if await self.store.watch(channel_id, entity_id) is not None:
                return WatchResult(WatchOutcome.ALREADY, count, self.limit_per_guild, resumed)
            if count >= self.limit_per_guild:
                return WatchResult(WatchOutcome.LIMIT, count, self.limit_per_guild, resumed)
            await self.store.insert_watch(guild_id, channel_id, entity_id, actor_id, now)
            await self._audit(
                actor_id=actor_id,
                action="watch_add",
                now=now,
                entity_id=entity_id,
                guild_id=guild_id,
                channel_id=channel_id,
            )
        return WatchResult(WatchOutcome.ADDED, count + 1, self.limit_per_guild, resumed)

    async def remove(self, guild_id: str, channel_id: str, entity_id: str, actor_id: str) -> bool:
        """Stop a channel following an entity; False when it did not."""
        now = change_stamp(self.clock())
        async with self.kb.transaction():
            removed = await self.store.delete_watch(channel_id, entity_id)
            if removed:
                await self._audit(
                    actor_id=actor_id,
                    action="watch_remove",
                    now=now,
                    entity_id=entity_id,
                    guild_id=guild_id,
                    channel_id=channel_id,
                )
        return removed

    async def of_guild(self, guild_id: str) -> GuildWatches:
        """A server's watches and its channels' state."""
        return GuildWatches(
            await self.store.watches_of_guild(guild_id),
            await self.store.channels_of_guild(guild_id),
            self.limit_per_guild,
        )

    async def _audit(
        self,
        *,
        actor_id: str,
        action: str,
        now: str,
        entity_id: str | None,
        guild_id: str,
        channel_id: str,
        **details: object,
    ) -> None:
        await CorrectionStore(self.kb).audit(
            actor_id=actor_id,
            action=action,
            now=now,
            entity_id=entity_id,
            details={"guild": guild_id, "channel": channel_id, **details},
        )

    # -- notices --------------------------------------------------------------------------------

    def _window_end(self, first_at: datetime) -> datetime:
        return first_at + timedelta(seconds=self.batch_seconds)

    async def due(self, guild_ids: list[str]) -> tuple[list[PendingBatch], float | None]:
        """The batches whose window has closed, and the seconds until the next one closes."""
        now = self.clock()
        ready: list[PendingBatch] = []
        wait: float | None = None
        for batch in await self.store.pending(guild_ids):
            left = (self._window_end(datetime.fromisoformat(batch.first_at)) - now).total_seconds()
            if left <= 0:
                ready.append(batch)
            else:
                wait = left if wait is None else min(wait, left)
        return ready, wait

    async def claim(self, batch: PendingBatch) -> NoticeRow | None:
        """Fix the changes one notice reports: those within the window of the first (None when
        the batch is gone, not due, or claimed by another process meanwhile)."""
        now = self.clock()
        async with self.kb.transaction():
            watch = await self.store.watch(batch.channel_id, batch.entity_id)
            changes = await self.store.unreported(batch.channel_id, batch.entity_id)
            if watch is None or not changes:
                return None
            end = self._window_end(changes[0].at)
            if now < end:
                return None
            included = [c for c in changes if c.at <= end]
            first, last = included[0].id, included[-1].id
            nonce = notice_nonce(watch.channel_id, watch.entity_id, first, last)
            notice_id = await self.store.insert_notice(watch, first, last, nonce, change_stamp(now))
        return await self.store.notice(notice_id)

    async def sending(self, guild_ids: list[str]) -> tuple[list[NoticeRow], float | None]:
        """Claimed notices to send now (their channel not waiting to retry), and the seconds
        until the next channel may be tried again."""
        now = self.clock()
        ready: list[NoticeRow] = []
        wait: float | None = None
        states: dict[str, ChannelState | None] = {}
        for notice in await self.store.sending(guild_ids):
            if notice.channel_id not in states:
                states[notice.channel_id] = await self.store.channel(notice.channel_id)
            state = states[notice.channel_id]
            retry_at = datetime.fromisoformat(state.retry_at) if state and state.retry_at else None
            if retry_at is None or retry_at <= now:
                ready.append(notice)
            else:
                left = (retry_at - now).total_seconds()
                wait = left if wait is None else min(wait, left)
        return ready, wait

    async def changes_of(self, notice: NoticeRow) -> list[EntityChange]:
        """The changes a notice reports, oldest first."""
        return await self.store.notice_changes(notice)

    async def attempt(self, notice: NoticeRow) -> None:
        """Record that a notice is about to be sent (once more)."""
        async with self.kb.transaction():
            await self.store.count_attempt(notice.id)

    async def sent(self, notice: NoticeRow, message_id: str) -> None:
        """Record that a notice is in its channel: the sent-marker, after the message exists."""
        now = change_stamp(self.clock())
        async with self.kb.transaction():
            await self.store.mark_sent(notice.id, message_id, now)
            await self.store.clear_failures(notice.channel_id)

    async def failed(self, notice: NoticeRow, error: str, *, permanent: bool) -> bool:
        """Record a failed post and when to try again; True when the channel is now disabled.

        ``permanent`` failures (the bot may not post there, the channel is gone) count towards
        disabling the channel; others (Discord unavailable) are only tried again later.
        """
        now = self.clock()
        async with self.kb.transaction():
            state = await self.store.channel(notice.channel_id)
            failures = (state.failures if state else 0) + int(permanent)
            base = timedelta(seconds=max(self.batch_seconds, self.min_retry_seconds))
            delay = min(base * 2 ** max(failures - 1, 0), RETRY_CAP)
            failures = await self.store.record_failure(
                notice.guild_id,
                notice.channel_id,
                error,
                counted=permanent,
                retry_at=change_stamp(now + delay),
            )
            if not permanent or failures < self.failure_limit:
                return False
            await self.store.disable_channel(notice.channel_id, change_stamp(now))
            await self._audit(
                actor_id="system",
                action="watch_channel_disabled",
                now=change_stamp(now),
                entity_id=None,
                guild_id=notice.guild_id,
                channel_id=notice.channel_id,
                failures=failures,
                error=error,
            )
        return True
