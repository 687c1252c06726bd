"""Cards made a page at a time are the cards made whole, page for page."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from armsbot.bot.card_layout import _Draft, _more_sources, _source_fields_size
from armsbot.bot.card_pages import WHOLE_LAYOUT_LINES, card_pages, feed_page
from armsbot.bot.embeds import TOTAL_BUDGET
from armsbot.cards.feed import CardFeed
from armsbot.cards.model import Card, CardGroup, CardLine, CardSection, CardSource
from armsbot.models import Category, Claim, Party, Role, Source, Status
from armsbot.services.lookup import LookupService
from armsbot.storage import KnowledgeBase
from tests.conftest import problems_without_trigger, sqlite_only


async def test_every_bundled_card_is_the_same_made_a_page_at_a_time(
    lookup: LookupService, kb: KnowledgeBase
) -> None:
    entities = [row.id for row in await kb.index_rows()]
    assert len(entities) > 300
    for entity_id in entities:
        card = await lookup.card(entity_id)
        assert card is not None
        whole = card_pages(card)
        feed = await lookup.card_feed(entity_id)
        assert feed is not None
        assert feed.head.title == card.title
        made = []
        for number in range(len(whole)):
            page, at, total = await feed_page(feed, number)
            assert (at, total) == (number, len(whole)), entity_id
            made.append(page)
        assert made == whole, entity_id
        # Past the end: the last page.
        assert (await feed_page(feed, len(whole) + 5))[1] == len(whole) - 1


def _big_card(lines: int) -> Card:
    sources = [CardSource(i, f"Report {i}", f"https://example.org/{i}") for i in range(1, 41)]
    rows = [
        CardLine(f"Sale number {i} of a radar system.", Status.REPORTED, "2020", [1 + i % 40])
        for i in range(lines)
    ]
    groups = [CardGroup(f"Supplier {g}", rows[g * 50 : (g + 1) * 50]) for g in range(lines // 50)]
    return Card(
        kind="country",
        title="Busy",
        entity_id="BZ",
        sections=[CardSection("Acquisitions", groups)],
        sources=sources,
        footer="footer",
    )


async def test_a_long_card_reads_only_as_far_as_the_page_asked_for() -> None:
    card = _big_card(2000)
    whole = card_pages(card)
    feed = CardFeed.of_card(card)
    items = feed.items
    served: list[int] = []

    async def read(count: int) -> list[tuple[str, str | None, CardLine]]:
        start = sum(served)
        served.append(min(count, len(items) - start))
        return items[start : start + count]

    lazy = CardFeed(feed.head, len(items), read, feed.sources)
    page, number, total = await feed_page(lazy, 0)
    assert (number, total) == (0, None)  # more follow; how many is not worked out
    assert sum(served) < 100  # a few dozen lines read, of 2,000
    assert page.description == whole[0].description
    assert page.fields == whole[0].fields
    assert page.footer == "footer · page 1 · 2,000 claims"
    page, number, total = await feed_page(lazy, 3)
    assert page.description == whole[3].description
    assert len(whole) > 4
    assert WHOLE_LAYOUT_LINES < 2000


async def test_pages_follow_claims_imported_and_removed(
    lookup: LookupService, kb: KnowledgeBase
) -> None:
    from armsbot.storage.datasets import DatasetStore  # noqa: PLC0415
    from tests.test_claims import _imported  # noqa: PLC0415

    store = DatasetStore(kb)
    async with kb.transaction():
        await store.insert_claim("hacking-team", 900, _imported("test-1", "A sale to Uganda."))
    async with kb.db.execute("SELECT party_roles FROM claims WHERE id = 'test-1'") as cursor:
        assert (await cursor.fetchone())[0] == "supplier hacking-team recipient UG"
    for entity_id in ("UG", "hacking-team"):
        card = await lookup.card(entity_id)
        feed = await lookup.card_feed(entity_id)
        assert card is not None
        assert feed is not None
        whole = card_pages(card)
        assert [(await feed_page(feed, n))[0] for n in range(len(whole))] == whole
        assert "Zanzibar Gendarmerie Unit" in "".join(p.description for p in whole)
    async with kb.transaction() as db:
        await db.execute(
            "UPDATE claim_parties SET entity_id = 'SD' WHERE claim_id = 'test-1'"
            " AND role = 'recipient'"
        )
    async with kb.db.execute("SELECT party_roles FROM claims WHERE id = 'test-1'") as cursor:
        assert (await cursor.fetchone())[0] == "supplier hacking-team recipient SD"
    assert await kb.integrity_problems() == []
    async with kb.transaction() as db:
        await db.execute("UPDATE claims SET party_roles = NULL WHERE id = 'test-1'")
    assert await kb.integrity_problems() == [
        "claim test-1 lists its parties out of step with claim_parties: run `armsbot db build"
        " --force`"
    ]


async def test_a_dropped_feed_is_freed_without_the_garbage_collector(
    lookup: LookupService, kb: KnowledgeBase
) -> None:
    # A reference cycle (the reader holding its feed) left every card dropped from the cache to
    # the collector's full passes, which stalled a busy bot for tens of milliseconds.
    import gc  # noqa: PLC0415
    import weakref  # noqa: PLC0415

    from armsbot.services.claims import ClaimQuery, ClaimsService  # noqa: PLC0415

    claims = ClaimsService(kb, lookup.index)
    gc.collect()
    gc.disable()
    try:
        feed = await lookup.card_feed("IL")
        assert feed is not None
        await feed_page(feed, 1)
        answer = await claims.answer(ClaimQuery.make("nso morocco"))
        answered = claims.feed(answer)
        await feed_page(answered, 0)
        refs = [weakref.ref(feed), weakref.ref(answered)]
        lookup.feeds.clear()
        del feed, answered
        await asyncio.sleep(0)  # the build task lets go of its result
        assert [ref() for ref in refs] == [None, None]
    finally:
        gc.enable()


async def _places_from_the_claims(kb: KnowledgeBase, entity_id: str) -> list[tuple[object, ...]]:
    """What ``claim_places`` gives, worked out from claim_parties and the claims themselves."""
    async with kb.db.execute(
        "SELECT p.claim_id, p.role, c.category, coalesce(c.date, c.reported, ''), c.goods,"
        " c.party_roles, p.position"
        " FROM claim_parties p JOIN claims c ON c.id = p.claim_id WHERE p.entity_id = ?",
        (entity_id,),
    ) as cursor:
        rows = [tuple(r) for r in await cursor.fetchall()]
    first: dict[object, tuple[object, ...]] = {}
    for row in sorted(rows, key=lambda r: r[6]):  # type: ignore[arg-type,return-value]
        first.setdefault(row[0], row)
    return sorted(first.values(), key=lambda r: (r[3] == "", r[3], r[0]))  # type: ignore[arg-type,return-value]


# Migration 9's card_places and its triggers are SQLite's: PostgreSQL reads claim_parties itself.
@sqlite_only
async def test_card_places_follow_every_write(kb: KnowledgeBase) -> None:
    """card_places (migration 9), read for the first page of a card, is kept by triggers."""
    from armsbot.storage.datasets import DatasetStore  # noqa: PLC0415
    from tests.test_claims import _imported  # noqa: PLC0415

    async def same(*entities: str) -> None:
        for entity_id in entities:
            places = [tuple(r) for r in await kb.claim_places(entity_id)]
            assert places == await _places_from_the_claims(kb, entity_id), entity_id
        assert await kb.integrity_problems() == []

    await same("IL", "nso-group", "UG", "SD", "hacking-team", "AZ")
    store = DatasetStore(kb)
    async with kb.transaction():
        await store.insert_claim("hacking-team", 900, _imported("test-1", "A sale to Uganda."))
    await same("UG", "hacking-team")
    async with kb.transaction() as db:
        await db.execute(
            "UPDATE claims SET date = '1999', goods = '[\"Radar\"]', category = 'use'"
            " WHERE id = 'test-1'"
        )
    await same("UG", "hacking-team")
    async with kb.transaction() as db:
        await db.execute(
            "UPDATE claim_parties SET entity_id = 'SD' WHERE claim_id = 'test-1'"
            " AND role = 'recipient'"
        )
    await same("UG", "SD", "hacking-team")
    async with kb.transaction():
        await store.delete_claims(["test-1"])
        await store.delete_unused_sources()
    await same("UG", "SD", "hacking-team")
    async with kb.db.execute("SELECT count(*) FROM card_places WHERE claim_id = 'test-1'") as c:
        assert (await c.fetchone())[0] == 0


@sqlite_only
async def test_db_check_reports_card_places_out_of_step(kb: KnowledgeBase) -> None:
    problems = await problems_without_trigger(
        kb,
        "card_places_claim",
        "UPDATE claims SET date = '1901' WHERE id = (SELECT min(id) FROM claims)",
    )
    assert any("are out of step with card_places" in p for p in problems), problems


def _placed(
    claim_id: str, category: Category, parties: list[tuple[str, Role]], goods: list[str], year: int
) -> Claim:
    return Claim.model_validate(
        {
            "id": claim_id,
            "text": f"Claim {claim_id}.",
            "status": Status.REPORTED,
            "category": category,
            "parties": [Party(entity=e, role=r) for e, r in parties],
            "goods": goods,
            "date": str(year),
            "sources": [Source(title=f"Record {claim_id}", url=None)],
            "provenance": {"dataset": "test", "checksum": "0" * 64, "record": claim_id},
        }
    )


async def _busy(kb: KnowledgeBase, entity_id: str = "MQ", claims: int = 400) -> None:
    """Many claims about ``entity_id`` in a few hundred groups: transfers from several firms
    with many kinds of goods (and some with no supplier, a broker only, two recipients, the
    entity twice), listings under several laws, uses."""
    from armsbot.storage.datasets import DatasetStore  # noqa: PLC0415

    async with kb.db.execute("SELECT id FROM entities WHERE kind = 'law' ORDER BY id") as cursor:
        laws = [str(r[0]) for r in await cursor.fetchall()][:5]
    firms = ["hacking-team", "nso-group", "cellebrite", "finfisher"]
    store = DatasetStore(kb)
    async with kb.transaction():
        for i in range(claims):
            firm = firms[i % len(firms)]
            year = 1990 + (i * 7) % 35
            kind = i % 10
            parties = [(firm, Role.SUPPLIER), (entity_id, Role.RECIPIENT)]
            category = Category.TRANSFER
            if kind == 1:
                parties = [("finfisher", Role.BROKER), (entity_id, Role.RECIPIENT)]
            elif kind == 2:
                parties = [(entity_id, Role.RECIPIENT)]
            elif kind == 3:
                parties = [
                    (firm, Role.SUPPLIER),
                    ("UG", Role.RECIPIENT),
                    (entity_id, Role.RECIPIENT),
                ]
            elif kind == 4:
                parties = [(entity_id, Role.SUPPLIER), (entity_id, Role.RECIPIENT)]
            elif kind == 5:
                category = Category.DESIGNATION
                parties = [(entity_id, Role.SUBJECT), (laws[i % len(laws)], Role.INSTRUMENT)]
            elif kind == 6:
                category = Category.USE
            goods = [f"Radar model {i % 37}"] if i % 3 else []
            claim = _placed(f"busy-{i:04d}", category, parties, goods, year)
            await store.insert_claim(firm, 1000 + i, claim)


async def test_a_busy_card_is_the_same_read_a_page_at_a_time(
    lookup: LookupService, kb: KnowledgeBase
) -> None:
    await _busy(kb)
    card = await lookup.card("MQ")
    assert card is not None
    whole = card_pages(card)
    assert len(whole) > 5
    feed = await lookup.card_feed("MQ")
    assert feed is not None
    for number, page in enumerate(whole):
        made = (await feed_page(feed, number))[0]
        # The footer of a long feed counts claims, not pages ("page 2 · 400 claims").
        assert (made.description, made.fields) == (page.description, page.fields), number


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # PostgreSQL places all at once
async def test_the_first_page_of_a_busy_card_reads_a_few_of_its_claims(
    lookup: LookupService, kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: a cold card of thousands of claims placed every one of them in Python (tens of
    milliseconds, and garbage for the collector) to show 24 of them."""
    await _busy(kb, claims=600)
    read: list[int] = []
    card_rows = kb.card_rows

    async def counted(*args: Any, **kwargs: Any) -> list[Any]:
        rows = await card_rows(*args, **kwargs)
        read.append(len(rows))
        return rows

    async def every_place(entity_id: str) -> list[Any]:
        raise AssertionError("read the places of every claim")

    monkeypatch.setattr(kb, "card_rows", counted)
    monkeypatch.setattr(kb, "claim_places", every_place)
    feed = await lookup.card_feed("MQ")
    assert feed is not None
    assert feed.total == 600
    _, number, total = await feed_page(feed, 0)
    assert (number, total) == (0, None)
    # A window of the oldest claims, and the claims of their groups' counterparts (four firms
    # here, so a fair share of them): not every claim.
    assert 0 < sum(read) < 300, read
    assert len(feed.items) < 100


def _first_counterpart(role: str, category: str, party_roles: str | None) -> str | None:
    """What card_places.lead should hold, worked out in Python."""
    words = (party_roles or "").split()
    pairs = list(zip(words[::2], words[1::2], strict=True))

    def first(wanted: str) -> str | None:
        return next((entity for r, entity in pairs if r == wanted), None)

    if category == "transfer" and role in ("supplier", "broker"):
        return first("recipient")
    if category == "transfer":
        return first("supplier") or first("broker")
    if category in ("embargo", "designation"):
        return first("instrument")
    return None


async def test_each_place_knows_its_first_counterpart(kb: KnowledgeBase) -> None:
    """card_places.lead (SQLite's migration 10; PostgreSQL's same expression), which finds a
    group's claims, is the first counterpart of every claim on every card."""
    await _busy(kb, claims=60)
    async with kb.db.execute(
        f"SELECT k.claim_id, k.position, k.role, k.category, k.party_roles, k.lead"
        f" FROM {kb._places()}"
    ) as cursor:
        rows = list(await cursor.fetchall())
    assert len(rows) > 500
    assert sum(1 for r in rows if r[5] is not None) > 300
    for claim_id, position, role, category, party_roles, lead in rows:
        assert lead == _first_counterpart(role, category, party_roles), (claim_id, position)


async def test_an_entity_named_like_a_role_still_gets_its_card_in_order(
    lookup: LookupService, kb: KnowledgeBase
) -> None:
    """A counterpart whose id is a role's name ("supplier") would mislead card_places.lead:
    cards then read each section whole, and stay the same."""
    async with kb.transaction() as db:
        await db.execute(
            "INSERT INTO entities (id, kind, name) VALUES ('supplier', 'firm', 'Supplier Ltd')"
        )
    from armsbot.storage.datasets import DatasetStore  # noqa: PLC0415

    store = DatasetStore(kb)
    async with kb.transaction():
        for i in range(30):
            parties = [("supplier", Role.SUPPLIER), ("nso-group", Role.SUPPLIER)]
            if i % 2:
                parties = [("supplier", Role.RECIPIENT), ("nso-group", Role.SUPPLIER)]
            parties.append(("MQ", Role.RECIPIENT))
            claim = _placed(f"odd-{i:03d}", Category.TRANSFER, parties, [f"Kit {i % 4}"], 2000 + i)
            await store.insert_claim("nso-group", 2000 + i, claim)
    assert (await kb.card_sections("MQ"))[2] is False
    for entity_id in ("MQ", "supplier", "nso-group"):
        card = await lookup.card(entity_id)
        feed = await lookup.card_feed(entity_id)
        assert card is not None
        assert feed is not None
        whole = card_pages(card)
        assert [(await feed_page(feed, n))[0] for n in range(len(whole))] == whole, entity_id


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.integers(1, 60), st.integers(20, 500)), min_size=1, max_size=40
    ),
    st.lists(st.integers(20, 500), max_size=3),
    st.integers(0, 5),
)
def test_a_page_counts_its_source_fields_as_if_packed_anew(
    steps: list[tuple[bool, int, int]], extra: list[int], more: int
) -> None:
    # Sources listed in order are packed once each; one listed out of order, or taken back,
    # packs them again: either way the same size as packing every listed line from scratch.
    draft = _Draft(TOTAL_BUDGET)
    for add, number, length in steps:
        if add and number not in draft.listed:
            draft._list(number, length)
        elif not add and number in draft.listed:
            draft._unlist(number)
        lengths = [draft.listed[n] for n in sorted(draft.listed)] + extra
        if more:
            lengths.append(len(_more_sources(more)))
        assert draft._sources_size(extra, more) == _source_fields_size(lengths)
