"""Review posts with several processes: each correction is posted once in each home server, by
the process whose shard holds that server.

The process that takes a submission posts it at once in the home servers its shards hold; for
the others, the process holding them sees the new correction through the change feed and posts
it there (:class:`ReviewCatchUp`). Within a process one lock covers "is there a post already?",
the post and its record, so the two paths never both post; a post carries a nonce Discord
enforces, so a process stopped between posting and recording it does not post twice on restart.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from armsbot.bot.shards import holds_guild
from armsbot.storage.corrections import CorrectionRow

if TYPE_CHECKING:
    from armsbot.bot.client import ArmsBot

log = logging.getLogger("armsbot.bot.review_posts")

#: How far back a process looks for corrections still without a post (a restart included).
CATCH_UP = timedelta(hours=1)
PAGE = 50


def posting_lock(bot: ArmsBot) -> asyncio.Lock:
    """The lock a process holds while it checks, makes and records a review post."""
    return bot.review_lock


def review_nonce(correction_id: int, channel_id: int | str) -> str:
    """The nonce of a correction's post in a channel (Discord takes up to 25 characters)."""
    digest = hashlib.sha1(f"{correction_id}:{channel_id}".encode(), usedforsecurity=False)
    return "rv" + digest.hexdigest()[:20]


def held_home_guilds(bot: ArmsBot) -> list[int]:
    """The home servers this process's shards hold."""
    return [g for g in bot.settings.home_guild_ids if holds_guild(bot, g)]


class ReviewCatchUp:
    """Posts, in the home servers this process holds, corrections another process took in."""

    def __init__(
        self, bot: ArmsBot, post: Callable[[ArmsBot, CorrectionRow], Awaitable[int]]
    ) -> None:
        self.bot = bot
        self._post = post
        self.since = datetime.now(UTC) - CATCH_UP
        self.settled: set[int] = set()  # corrections already looked at
        self.posted = 0  # posts made by the catch-up

    async def run_once(self) -> int:
        """Post the pending corrections submitted on Discord since ``since`` that have no post
        yet in a held home server; return how many posts were made."""
        if not held_home_guilds(self.bot):
            return 0
        service = self.bot.services.corrections
        pending: list[CorrectionRow] = []
        while page := await service.pending(limit=PAGE, offset=len(pending)):
            pending += page
        made = 0
        for correction in pending:
            if correction.id in self.settled:
                continue
            self.settled.add(correction.id)
            if not correction.submitter_id.startswith("discord:"):
                continue  # as before: corrections made with the CLI are not posted
            if datetime.fromisoformat(correction.created_at) < self.since:
                continue
            made += await self._post(self.bot, correction)
        if made:
            log.info("posted %d review post(s) for corrections taken in elsewhere", made)
        self.posted += made
        return made
