"""Watch notices: one short message per entity and channel for what changed, sent exactly once.

The loop claims due batches (``WatchService.claim``), sends each with its nonce and
``enforce_nonce``, then marks it sent. Notices claimed but not marked sent (the bot stopped or
crashed in between) are sent again first, with the same nonce, so Discord returns the message it
already made instead of posting a second. Changes made by other processes (``armsbot review
approve``, an import, a rebuild) are in the same change log, so they are noticed like the bot's own.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp
import discord

from armsbot.bot.components import CardButton
from armsbot.bot.markdown import escape, truncate
from armsbot.bot.permissions import member_label
from armsbot.bot.replies import NO_MENTIONS
from armsbot.i18n import text
from armsbot.services.watch import WatchService
from armsbot.storage.changelog import ChangeKind, EntityChange
from armsbot.storage.watches import NoticeRow

if TYPE_CHECKING:
    from armsbot.bot.client import ArmsBot

log = logging.getLogger("armsbot.bot.notifier")

CONTENT_BUDGET = 1900  # of Discord's 2,000 characters a message
LINE_TEXT_LIMIT = 150  # characters of a claim's text in a notice line
SHOWN_DECIDERS = 5


def watch_service(bot: ArmsBot) -> WatchService:
    """The watch service over the bot's knowledge base, with the deployment's settings."""
    return WatchService(
        bot.services.kb,
        limit_per_guild=bot.settings.watch_limit,
        batch_seconds=bot.settings.watch_batch_seconds,
    )


# -- rendering ------------------------------------------------------------------------------------


def _line(change: EntityChange, locale: object) -> str:
    claim = escape(truncate(change.claim_text or change.claim_id or "", LINE_TEXT_LIMIT))
    status = change.status_after or change.status_before or ""
    if change.change is ChangeKind.CLAIM_STATUS:
        before, after = change.status_before or "", change.status_after or ""
        return text("notice.claim_status", locale, before=before, after=after, text=claim)
    if change.change in (ChangeKind.CLAIM_ADDED, ChangeKind.CLAIM_REMOVED, ChangeKind.CLAIM_TEXT):
        return text(f"notice.{change.change.value}", locale, status=status, text=claim)
    if change.change is ChangeKind.ENTRY_EDITED:
        fields = [text(f"notice.field.{f}", locale) for f in (change.detail or "").split(",") if f]
        return text("notice.entry_edited", locale, fields=", ".join(fields))
    return text(f"notice.{change.change.value}", locale)


@dataclass
class _Decider:
    actor_id: str
    corrections: list[int] = field(default_factory=list)


def _who(decider: _Decider, locale: object) -> str:
    actor = decider.actor_id
    if actor == "build":
        return text("notice.who.build", locale)
    if actor.startswith("dataset:"):
        return text("notice.who.dataset", locale, name=escape(actor.removeprefix("dataset:")))
    if actor in ("unknown", "system"):
        return text("notice.who.unknown", locale)
    label = member_label(actor)
    who = label if label.startswith("<@") else escape(label)
    if decider.corrections:
        numbers = ", ".join(f"#{n}" for n in decider.corrections[:SHOWN_DECIDERS])
        if len(decider.corrections) > SHOWN_DECIDERS:
            numbers += ", …"
        return text("notice.who.correction", locale, who=who, numbers=numbers)
    return text("notice.who.moderator", locale, who=who)


def deciders_text(changes: list[EntityChange], locale: object) -> str:
    """Who decided the changes: moderators (with their corrections), datasets, a rebuild."""
    found: dict[str, _Decider] = {}
    for change in changes:
        decider = found.setdefault(change.actor_id, _Decider(change.actor_id))
        if change.correction_id is not None and change.correction_id not in decider.corrections:
            decider.corrections.append(change.correction_id)
    shown = [_who(d, locale) for d in list(found.values())[:SHOWN_DECIDERS]]
    if len(found) > SHOWN_DECIDERS:
        shown.append(text("notice.who.others", locale, count=len(found) - SHOWN_DECIDERS))
    return text("notice.by", locale, who="; ".join(shown))


def render_notice(entity_name: str, changes: list[EntityChange], locale: object) -> str:
    """The notice: what changed (before → after for statuses), then who decided; under 2,000
    characters however many changes it reports."""
    head = text("notice.title", locale, entity=escape(truncate(entity_name, 100)))
    tail = deciders_text(changes, locale)
    budget = CONTENT_BUDGET - len(head) - len(tail) - 2
    lines: list[str] = []
    for shown, change in enumerate(changes):
        line = "• " + _line(change, locale)
        more = text("notice.more", locale, count=len(changes) - shown)
        if sum(len(x) + 1 for x in lines) + len(line) + 1 + len(more) + 1 > budget:
            lines.append(more)
            break
        lines.append(line)
    return "\n".join([head, *lines, tail])


# -- sending --------------------------------------------------------------------------------------


def _failure(exc: BaseException) -> str:
    if isinstance(exc, discord.HTTPException):
        return truncate(f"{exc.status} {exc.text or exc.response.reason}", 200)
    return truncate(f"{type(exc).__name__}: {exc}", 200)


class Notifier:
    """Sends due watch notices for the servers this bot is in, until cancelled."""

    def __init__(self, bot: ArmsBot) -> None:
        self.bot = bot
        self.service = watch_service(bot)
        self.sent = 0  # notices sent (or found already sent) by this process
        self.rounds = 0  # completed looks for due notices

    async def run(self) -> None:
        """Deliver what is due, then wait for the next due batch or for the next look."""
        await self.bot.wait_until_ready()
        poll = self.bot.settings.index_refresh_seconds
        while True:
            try:
                wait = await self.deliver()
            except Exception:  # the database busy, Discord unreachable: try again next time
                log.exception("could not deliver watch notices")
                wait = None
            await asyncio.sleep(poll if wait is None else max(0.0, min(wait, poll)))

    async def deliver(self) -> float | None:
        """Send claimed notices, then claim and send due batches; return the seconds until the
        next batch or retry is due (None: nothing is waiting)."""
        guilds = sorted(str(g.id) for g in self.bot.guilds)
        ready, retry = await self.service.sending(guilds)
        for notice in ready:
            await self.send(notice)
        batches, due = await self.service.due(guilds)
        for batch in batches:
            claimed = await self.service.claim(batch)
            if claimed is not None:
                await self.send(claimed)
        self.rounds += 1
        waits = [w for w in (retry, due) if w is not None]
        return min(waits) if waits else None

    async def send(self, notice: NoticeRow) -> None:
        """Post one claimed notice with its nonce, then record it sent (or why it failed)."""
        changes = await self.service.changes_of(notice)
        guild = self.bot.get_guild(int(notice.guild_id))
        locale = guild.preferred_locale if guild is not None else None
        name = changes[-1].entity_name if changes else notice.entity_id
        content = render_notice(name, changes, locale)
        view = discord.ui.View(timeout=None)
        if self.bot.services.index.entity_kind(notice.entity_id) is not None:
            view.add_item(CardButton(notice.entity_id, text("notice.open", locale)))
        channel = self.bot.get_partial_messageable(
            int(notice.channel_id), guild_id=int(notice.guild_id)
        )
        await self.service.attempt(notice)
        try:
            message = await channel.send(
                content, view=view, nonce=notice.nonce, allowed_mentions=NO_MENTIONS
            )
        except (discord.Forbidden, discord.NotFound) as exc:
            disabled = await self.service.failed(notice, _failure(exc), permanent=True)
            log.warning(
                "could not post watch notice %d in channel %s (%s)%s",
                notice.id,
                notice.channel_id,
                _failure(exc),
                ": channel disabled" if disabled else "",
            )
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            await self.service.failed(notice, _failure(exc), permanent=False)
            log.warning("watch notice %d not sent, will retry: %s", notice.id, _failure(exc))
        else:
            await self.service.sent(notice, str(message.id))
            self.sent += 1
