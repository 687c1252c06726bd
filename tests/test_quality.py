"""What readers meet: report dates, copies, empty cards, and ``db check --strict``."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from armsbot.cards.build import NOTHING_ON_RECORD
from armsbot.cards.text import render_text
from armsbot.countries import iso_countries
from armsbot.datafiles import DataFilesInvalid, load_data_dir
from armsbot.models import Kind
from armsbot.search.index import SearchIndex
from armsbot.services import data
from armsbot.services.lookup import LookupService
from armsbot.services.quality import strict_problems
from armsbot.storage import KnowledgeBase
from armsbot.storage.migrations import LATEST

SOURCE = '{url: "https://example.org/a", title: A report, publisher: Example}'


def firm(slug: str, claims: str, extra: str = "") -> str:
    return (
        f"kind: firm\nid: {slug}\nname: {slug.title()}\nfirm: {{headquarters: IL{extra}}}\n"
        f"claims:\n{claims}"
    )


def claim(
    cid: str, text: str, *, status: str = "reported", source: str = SOURCE, more: str = ""
) -> str:
    lines = [
        f"  - id: {cid}",
        f"    text: {text}",
        f"    status: {status}",
        "    category: transfer",
        "    parties: [{entity: acme, role: supplier}, {entity: AZ, role: recipient}]",
        f"    sources: [{source}]",
    ]
    return "\n".join(lines) + "\n" + "".join(f"    {m}\n" for m in more.splitlines() if m)


async def build(tmp_path: Path, files: dict[str, str]) -> KnowledgeBase:
    root = tmp_path / "data"
    for relative, text in files.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    kb = await KnowledgeBase.open(tmp_path / "kb.sqlite3")
    await data.build(kb, root, force=True)
    return kb


async def test_strict_check_is_clean_on_the_bundled_data(kb: KnowledgeBase) -> None:
    assert [str(p) for p in await strict_problems(kb)] == []


async def test_strict_check_finds_what_readers_would_trip_over(tmp_path: Path) -> None:
    claims = (
        claim("acme-one", "Acme sold a system to Azerbaijan.", more="date: 2019\nproduct: Snoop")
        + claim("acme-two", "ACME sold a system, to Azerbaijan!")  # the same text, folded
        + claim("acme-three", "A different sentence.", more="date: 2019\nproduct: Snoop")
        + claim("acme-four", "The seed article notes that Acme sold it.")
        + claim("acme-five", "A sale dated to a day that does not exist.", more="date: 2021-02-30")
        + claim(
            "acme-six",
            "A confirmed sale read only on a copy.",
            status="confirmed",
            source='{url: "https://copy.example.net/a", title: A copy, publisher: Example,'
            " link: copy}",
        )
    )
    law = (
        "kind: law\nid: some-law\nname: Some law\nlaw: {type: statute, jurisdiction: X}\n"
        "claims:\n  - id: some-law-bought\n    text: The law bought drones.\n"
        "    status: reported\n    category: transfer\n"
        "    parties: [{entity: some-law, role: recipient}]\n"
        f"    sources: [{SOURCE}]\n"
    )
    kb = await build(tmp_path, {"firms/acme.yaml": firm("acme", claims), "laws/some-law.yaml": law})
    async with kb:
        found = [str(p) for p in await strict_problems(kb)]
    assert any(
        p.startswith("firms/acme.yaml: acme-two: says word for word what acme-one says")
        for p in found
    )
    assert any(
        p.startswith("firms/acme.yaml: acme-three: has the same parties, category, product, date")
        for p in found
    )
    assert "firms/acme.yaml: acme-four: speaks to editors, not to readers" in found
    assert "firms/acme.yaml: acme-five: date '2021-02-30' is not a real date" in found
    assert "firms/acme.yaml: acme-six: is confirmed but every source is a copy or archive" in found
    assert (
        "laws/some-law.yaml: some-law-bought: gives some-law the role recipient, which a law"
        " cannot have" in found
    )
    assert len(found) == 6


async def test_distinct_from_lets_two_similar_claims_stand(tmp_path: Path) -> None:
    claims = claim("acme-one", "Acme sold a radar in 2019.", more="date: 2019") + claim(
        "acme-two",
        "Acme sold a second radar in 2019, under another contract.",
        more="date: 2019\ndistinct_from: [acme-one]",
    )
    kb = await build(tmp_path, {"firms/acme.yaml": firm("acme", claims)})
    async with kb:
        assert await strict_problems(kb) == []
        await data.export(kb, tmp_path / "out")
    again = load_data_dir(tmp_path / "out", known_ids=iso_countries())
    acme = next(e for e in again if e.id == "acme")
    assert acme.claims[1].distinct_from == ["acme-one"]


async def test_report_date_copy_links_and_parent_survive_a_round_trip(tmp_path: Path) -> None:
    claims = claim(
        "acme-one",
        "Acme was reported to have sold a system to Azerbaijan.",
        more="reported: 2021-07",
        source='{url: "https://copy.example.net/a", title: A report,'
        " publisher: The Washington Post, link: copy}",
    )
    files = {
        "firms/acme.yaml": firm("acme", claims, extra=", parent: acme-group"),
        "firms/acme-group.yaml": "kind: firm\nid: acme-group\nname: Acme Group\n",
    }
    kb = await build(tmp_path, files)
    async with kb:
        lookup = LookupService(kb, SearchIndex.build(await kb.index_rows()))
        card = await lookup.card("acme")
        assert card is not None
        text = render_text(card)
        await data.export(kb, tmp_path / "out")
    # The event date is unknown: the card says when it was reported, never as the event's date.
    assert "(reported 2021-07)" in text
    assert "A report (The Washington Post; copy on copy.example.net)" in text
    again = load_data_dir(tmp_path / "out", known_ids=iso_countries())
    acme = next(e for e in again if e.id == "acme")
    assert acme.firm is not None
    assert acme.firm.parent == "acme-group"
    assert acme.claims[0].reported == "2021-07"
    assert acme.claims[0].date is None
    assert acme.claims[0].sources[0].link.value == "copy"


def test_a_parent_must_be_another_firm(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (root / "firms").mkdir(parents=True)
    (root / "firms/acme.yaml").write_text(
        "kind: firm\nid: acme\nname: Acme\nfirm: {parent: nobody}\n", encoding="utf-8"
    )
    with pytest.raises(DataFilesInvalid) as caught:
        load_data_dir(root, known_ids=iso_countries())
    assert [str(p) for p in caught.value.problems] == [
        "firms/acme.yaml: firm.parent: no other firm has the id 'nobody'"
    ]


async def test_a_card_with_nothing_on_record_says_so_and_how_to_add(
    lookup: LookupService,
) -> None:
    card = await lookup.card("TV")
    assert card is not None
    assert [s.title for s in card.sections] == [NOTHING_ON_RECORD]
    text = render_text(card)
    assert "Nothing is on record about Tuvalu yet" in text
    assert "/propose claim" in text
    assert "armsbot db import sii" in text  # nothing imported in the bundled knowledge base


def test_a_database_from_before_report_dates_is_migrated(tmp_path: Path) -> None:
    """A version-3 database gains the new columns; its sources stay the publishers' own links."""
    path = tmp_path / "old.sqlite3"
    from armsbot.storage.migrations import MIGRATIONS  # noqa: PLC0415

    db = sqlite3.connect(path)
    for number, script in MIGRATIONS:
        if number <= 3:
            db.executescript(script)
    db.execute("PRAGMA user_version = 3")
    db.execute("INSERT INTO sources (url, title) VALUES ('https://example.org', 'Old')")
    db.commit()
    db.close()

    async def reopen() -> tuple[int, str]:
        async with await KnowledgeBase.open(path) as kb:
            async with kb.db.execute("SELECT link FROM sources") as cursor:
                row = await cursor.fetchone()
            assert row is not None
            return await kb.schema_version(), str(row[0])

    import asyncio  # noqa: PLC0415

    assert asyncio.run(reopen()) == (LATEST, "original")


@pytest.mark.parametrize(
    ("kind", "query", "entity_id"),
    [
        (Kind.FIRM, "hikvision", "hikvision"),
        (Kind.FIRM, "circles", "circles"),
        (Kind.LAW, "executive order 14093", "us-executive-order-14093"),
        (Kind.LAW, "pall mall", "pall-mall-process"),
    ],
)
async def test_new_firms_and_instruments_answer_with_sourced_cards(
    lookup: LookupService, kind: Kind, query: str, entity_id: str
) -> None:
    answer = await lookup.ask(kind, query)
    assert answer.card is not None, [m.id for m in answer.candidates]
    assert answer.card.entity_id == entity_id
    lines = [line for s in answer.card.sections for g in s.groups for line in g.lines]
    assert lines
    assert all(line.status is not None and line.sources for line in lines)
    assert all(source.url for source in answer.card.sources)


async def test_the_ten_governments_fact_shows_once_on_each_of_their_cards(
    lookup: LookupService,
) -> None:
    for country in ("RW", "AZ", "MX", "SA"):
        card = await lookup.card(country)
        assert card is not None
        lines = [line for s in card.sections for g in s.groups for line in g.lines]
        ten = [line for line in lines if "ten governments" in line.text]
        assert len(ten) == 1, (country, [line.claim_id for line in ten])
        # When they bought it was not reported: the line says when it was reported instead.
        assert ten[0].detail is not None
        assert "reported 2021-07" in ten[0].detail
