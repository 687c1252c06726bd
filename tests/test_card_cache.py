"""Built cards are kept until the knowledge base changes, from this process or another."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from armsbot.cards.model import Card
from armsbot.changes import EditField, Submission
from armsbot.search.index import SearchIndex
from armsbot.services.corrections import CorrectionService, Limits
from armsbot.services.lookup import CardCache, LookupService
from armsbot.storage import KnowledgeBase

URL = "https://example.org/report"


def summary_edit(entity_id: str, text: str) -> Submission:
    return Submission.model_validate(
        {
            "entity_id": entity_id,
            "change": EditField(field="summary", value=text),
            "what_is_wrong": "It is out of date.",
            "source_url": URL,
        }
    )


async def test_a_card_is_built_once_until_the_knowledge_base_changes(
    kb: KnowledgeBase, index: SearchIndex
) -> None:
    lookup = LookupService(kb, index)
    first = await lookup.card("AZ")
    assert first is not None
    assert await lookup.card("AZ") is first
    assert (lookup.cache.hits, lookup.cache.misses) == (1, 1)
    await kb.set_meta("touched", "yes")  # any commit of this connection
    again = await lookup.card("AZ")
    assert again is not first
    assert again == first


async def test_a_change_committed_by_another_process_shows_at_once(
    kb: KnowledgeBase, database: Path | str, index: SearchIndex
) -> None:
    lookup = LookupService(kb, index)
    before = await lookup.card("AZ")
    assert before is not None
    assert before.summary != "Changed from the command line."
    # Another connection to the same file, as `armsbot review approve` in its own process is.
    async with await KnowledgeBase.open(database) as other:
        service = CorrectionService(other, SearchIndex.build(await other.index_rows()), Limits())
        correction = await service.submit(
            summary_edit("AZ", "Changed from the command line."), "discord:1"
        )
        await service.approve(correction.id, "discord:2")
    after = await lookup.card("AZ")
    assert after is not None
    assert after.summary == "Changed from the command line."


async def test_the_cache_is_bounded_by_lines_and_can_be_off(
    kb: KnowledgeBase, index: SearchIndex
) -> None:
    sizes = {}
    for entity_id in ("nso-group", "AZ", "IL", "MX", "israel-aerospace-industries"):
        card = await LookupService(kb, index, cache_lines=0).card(entity_id)
        assert card is not None
        sizes[entity_id] = 1 + sum(s.line_count for s in card.sections)
    budget = sizes["nso-group"] + sizes["AZ"]
    lookup = LookupService(kb, index, cache_lines=budget)
    for entity_id in sizes:
        await lookup.card(entity_id)
        assert lookup.cache.lines <= budget
    assert len(lookup.cache) < len(sizes)
    newest = await lookup.card("israel-aerospace-industries")
    assert await lookup.card("israel-aerospace-industries") is newest  # most recent stays

    off = LookupService(kb, index, cache_lines=0)
    assert await off.card("AZ") is not await off.card("AZ")
    assert len(off.cache) == 0


async def test_a_card_built_across_a_change_is_not_kept(kb: KnowledgeBase) -> None:
    cache = CardCache(1000)
    assert cache.get("AZ", (0, 1)) is None  # a lookup starts at version (0, 1) ...
    assert cache.get("IL", (1, 1)) is None  # ... another sees a commit meanwhile
    cache.put("AZ", (0, 1), Card(kind="country", title="Azerbaijan"))  # built from older data
    assert len(cache) == 0
    assert cache.get("AZ", (1, 1)) is None


@pytest.mark.slow  # big: 33,000 claims, past what SQLite takes as parameters
async def test_an_entity_with_more_claims_than_sqlite_has_parameters(db_copy: Path) -> None:
    """Claims are selected by a subquery, not by a list of ids SQLite would refuse (32,766)."""
    count = 33_000
    with sqlite3.connect(db_copy) as db:
        source = db.execute("SELECT id FROM sources LIMIT 1").fetchone()[0]
        db.executemany(
            "INSERT INTO claims (id, home_entity_id, position, text, status, category)"
            " VALUES (?, 'MQ', ?, ?, 'reported', 'background')",
            ((f"mq-{i}", 10_000 + i, f"Claim {i}.") for i in range(count)),
        )
        db.executemany(
            "INSERT INTO claim_parties (claim_id, position, entity_id, role) VALUES (?, 0, 'MQ',"
            " 'subject')",
            ((f"mq-{i}",) for i in range(count)),
        )
        db.executemany(
            "INSERT INTO claim_sources (claim_id, position, source_id) VALUES (?, 0, ?)",
            ((f"mq-{i}", source) for i in range(count)),
        )
    async with await KnowledgeBase.open(db_copy) as kb:
        claims = await kb.claims_about("MQ")
        assert len(claims) >= count
        mine = [c for c in claims if c.id.startswith("mq-")]
        assert len(mine) == count
        assert all(len(c.parties) == 1 and len(c.sources) == 1 for c in mine)
        assert mine[0].sources[0] is mine[-1].sources[0]  # one shared source object
