"""Following the knowledge base: when another process commits, the bot's index and cards follow.

Processes share one knowledge base: ``armsbot review approve``, an import, or another shard's
bot approving a correction. :class:`ChangeFeed` says when the knowledge base may have changed.
On SQLite it polls ``KnowledgeBase.version()`` (``PRAGMA data_version`` moves the moment another
connection commits); a backend that pushes changes (PostgreSQL's LISTEN/NOTIFY) calls
:meth:`ChangeFeed.notify`, and the poll stays as the fallback after a lost connection.

While the database cannot be reached, the feed backs off (doubling up to ``max_backoff``) and
reports it once; lookups keep answering from the in-memory index and the cards already built.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

log = logging.getLogger("armsbot.bot.following")

POLL_SECONDS = 0.25  # how often SQLite's data_version is read: a change shows within this
MAX_BACKOFF_SECONDS = 30.0


class ChangeFeed:
    """Yields once each time the knowledge base may have changed, from any process."""

    def __init__(
        self,
        read_version: Callable[[], Awaitable[object]],
        *,
        poll: float = POLL_SECONDS,
        fallback: float = 5.0,
        max_backoff: float = MAX_BACKOFF_SECONDS,
    ) -> None:
        self._read_version = read_version
        self.poll = poll
        self.fallback = fallback  # a look however quiet the version is
        self.max_backoff = max_backoff
        self.available = True  # whether the last read of the version succeeded
        self.failures = 0  # reads that failed in a row
        self._pushed = asyncio.Event()

    def notify(self) -> None:
        """A backend's push: another process committed (wakes the feed at once)."""
        self._pushed.set()

    def backoff(self) -> float:
        """Seconds before the next try while the database cannot be reached."""
        return float(min(self.max_backoff, self.poll * 2.0 ** min(self.failures, 16)))

    async def changes(self) -> AsyncIterator[None]:
        """Yield after each change, after the database is reachable again, and every
        ``fallback`` seconds; never raises for a failing read (it backs off and tries again)."""
        loop = asyncio.get_running_loop()
        last: object = None  # a first read that fails is retried like any other
        with contextlib.suppress(Exception):
            last = await self._read_version()
        quiet_since = loop.time()
        while True:
            wait = self.poll if self.available else self.backoff()
            try:
                async with asyncio.timeout(wait):
                    await self._pushed.wait()
            except TimeoutError:
                pass
            self._pushed.clear()
            try:
                version = await self._read_version()
            except Exception as exc:  # any failure of the database is the same here
                self.failures += 1
                if self.available:
                    log.warning("the knowledge base cannot be reached, retrying: %s", exc)
                self.available = False
                continue
            if not self.available:
                log.info("the knowledge base is reachable again after %d tries", self.failures)
            changed = version != last or not self.available
            self.available, self.failures, last = True, 0, version
            if changed or loop.time() - quiet_since >= self.fallback:
                quiet_since = loop.time()
                yield None
