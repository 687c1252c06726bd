"""F9: a cold card is built once, however many requests wait for it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from armsbot.cards.model import Card
from armsbot.search.index import SearchIndex
from armsbot.services.lookup import LookupService
from armsbot.storage import KnowledgeBase

WAITERS = 30


class BuildFailed(RuntimeError):
    """What the counting builder raises when told to fail."""


class CountingBuilds:
    """Wraps the service's card builder and its version reads, so a test can count and gate.

    Every build waits until ``WAITERS`` requests have read the knowledge base's version: by then
    each of them has either joined a build or started its own, so the count does not depend on
    how the event loop happened to interleave them.
    """

    def __init__(self, lookup: LookupService, monkeypatch: pytest.MonkeyPatch, waiters: int):
        self.builds = 0
        self.fail_next = False
        self.versions_read = 0
        self.waiters = waiters
        self.all_arrived = asyncio.Event()
        self.started = asyncio.Event()
        build: Callable[[str], Awaitable[Card | None]] = lookup._build_card
        version = lookup.kb.version

        async def counted_version() -> tuple[int, int]:
            found = await version()
            self.versions_read += 1
            if self.versions_read >= self.waiters:
                self.all_arrived.set()
            return found

        async def counted_build(entity_id: str) -> Card | None:
            self.builds += 1
            self.started.set()
            await self.all_arrived.wait()
            if self.fail_next:
                self.fail_next = False
                raise BuildFailed(entity_id)
            return await build(entity_id)

        monkeypatch.setattr(lookup, "_build_card", counted_build)
        monkeypatch.setattr(lookup.kb, "version", counted_version)

    def expect(self, waiters: int) -> None:
        """Gate the next builds on ``waiters`` more version reads."""
        self.waiters = self.versions_read + waiters
        self.all_arrived.clear()


async def test_f9_concurrent_requests_for_a_cold_card_share_one_build(
    kb: KnowledgeBase, index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookup = LookupService(kb, index)
    counter = CountingBuilds(lookup, monkeypatch, WAITERS)
    cards = await asyncio.gather(*(lookup.card("MX") for _ in range(WAITERS)))
    assert counter.builds == 1
    first = cards[0]
    assert first is not None
    assert first.title == "Mexico"
    assert all(card is first for card in cards)
    assert await lookup.card("MX") is first  # kept, as before
    assert counter.builds == 1


async def test_f9_a_failed_build_reaches_every_waiter_and_the_next_request_builds_again(
    kb: KnowledgeBase, index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookup = LookupService(kb, index)
    counter = CountingBuilds(lookup, monkeypatch, WAITERS)
    counter.fail_next = True
    results = await asyncio.gather(
        *(lookup.card("MX") for _ in range(WAITERS)), return_exceptions=True
    )
    assert counter.builds == 1
    assert all(isinstance(result, BuildFailed) for result in results)
    assert len(lookup.cache) == 0

    counter.expect(1)
    card = await lookup.card("MX")
    assert counter.builds == 2
    assert card is not None
    assert card.title == "Mexico"


async def test_f9_a_waiter_that_gives_up_does_not_cancel_the_build_for_the_others(
    kb: KnowledgeBase, index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookup = LookupService(kb, index)
    counter = CountingBuilds(lookup, monkeypatch, 3)
    first = asyncio.create_task(lookup.card("MX"))
    others = [asyncio.create_task(lookup.card("MX")) for _ in range(2)]
    await counter.all_arrived.wait()
    first.cancel()
    cards = await asyncio.gather(*others)
    assert first.cancelled()
    assert counter.builds == 1
    assert cards[0] is not None
    assert cards[0] is cards[1]
    assert await lookup.card("MX") is cards[0]


async def test_f9_a_request_after_a_change_does_not_join_a_build_of_older_data(
    kb: KnowledgeBase, index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    lookup = LookupService(kb, index)
    counter = CountingBuilds(lookup, monkeypatch, 2)
    before = asyncio.create_task(lookup.card("MX"))
    await counter.started.wait()  # the first build is under way, at the version before the change
    await kb.set_meta("touched", "yes")  # any commit: the knowledge base may have changed
    after = asyncio.create_task(lookup.card("MX"))
    old, new = await asyncio.gather(before, after)
    assert counter.builds == 2  # the request after the change built from the new data
    assert old is not None
    assert new is not None
    assert old is not new
    assert await lookup.card("MX") is new  # the older card was not kept for the new version
    assert counter.builds == 2
