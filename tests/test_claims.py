"""Claims that link the names in a query: the acceptance checks of issue 13, the CLI in process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from armsbot import cli
from armsbot.changes import AddClaim, Submission
from armsbot.models import Category, Claim, Party, Role, Source, Status
from armsbot.search.index import SearchIndex
from armsbot.services.claims import ClaimQuery, ClaimsService
from armsbot.services.corrections import CorrectionService, Limits, Outcome
from armsbot.services.lookup import QueryError
from armsbot.storage import KnowledgeBase
from armsbot.storage.claim_search import ORDER, ClaimFilter, ClaimSearch, _where
from armsbot.storage.datasets import DatasetStore
from tests.conftest import problems_without_trigger, sqlite_only
from tests.test_cli import run

MOD = "discord:1"
MEMBER = "discord:2"
# What only SQLite has: its full-text index, and migration 9's claim_order and card_places.


@pytest.fixture
def claims_cli(
    db_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> object:
    """Run ``armsbot claims ...`` in this process on a copy of the bundled knowledge base."""
    monkeypatch.setenv("ARMSBOT_DATABASE", str(db_copy))
    monkeypatch.setenv("NO_COLOR", "1")

    def run(*args: str) -> tuple[int, str, str]:
        try:
            code = cli.main(["claims", *args])
        except SystemExit as exc:  # argparse refuses an argument
            code = int(str(exc.code))
        out, err = capsys.readouterr()
        return code, out, err

    return run


def _ids(claims: list[dict[str, object]]) -> list[str]:
    return [str(c["id"]) for c in claims]


def _party_ids(claim: dict[str, object]) -> set[str]:
    parties = claim["parties"]
    assert isinstance(parties, list)
    return {p["id"] for p in parties}


def test_nso_morocco_returns_only_claims_linking_both(claims_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = claims_cli("NSO Morocco", "--json")
    assert code == 0
    claims = json.loads(out)
    assert claims
    assert all({"nso-group", "MA"} <= _party_ids(c) for c in claims)
    assert any(c["product"] == "Pegasus" for c in claims)
    first = claims[0]
    assert set(first) == {
        "id",
        "text",
        "status",
        "category",
        "date",
        "reported",
        "product",
        "parties",
        "sources",
    }
    assert set(first["parties"][0]) == {"id", "kind", "name", "role"}
    assert set(first["sources"][0]) == {"url", "title", "publisher", "date"}
    nso = next(p for p in first["parties"] if p["id"] == "nso-group")
    assert (nso["kind"], nso["name"]) == ("firm", "NSO Group")


def test_israeli_drones_azerbaijan_reaches_the_harop_claims(claims_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = claims_cli("israeli drones azerbaijan", "--json")
    assert code == 0
    claims = json.loads(out)
    harop = [c for c in claims if c["product"] == "Harop"]
    assert sorted(str(c["date"])[:4] for c in harop) == ["2016", "2020"]
    # Newest first, and the parties are IAI (based in Israel) and Azerbaijan, not Israel itself.
    assert [c["date"] for c in claims] == sorted((c["date"] for c in claims), reverse=True)
    assert all("AZ" in _party_ids(c) for c in claims)
    code, text, _ = claims_cli("israeli drones azerbaijan")
    assert text.startswith(
        "Claims linking Israel (or firms based there) and Azerbaijan that mention “drones”, 2 of"
    )


def test_hacking_team_sudan_returns_the_2012_invoice(claims_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = claims_cli("hacking team sudan", "--json")
    assert code == 0
    [claim] = json.loads(out)
    assert claim["date"] == "2012"
    assert "invoice" in claim["text"]
    assert {"hacking-team", "SD"} <= _party_ids(claim)


def test_party_and_status_filters(claims_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = claims_cli("--party", "Saudi Arabia", "--status", "confirmed", "--json")
    assert code == 0
    claims = json.loads(out)
    assert claims
    assert all(c["status"] == "confirmed" and "SA" in _party_ids(c) for c in claims)
    code, out, _ = claims_cli("--party", "SA", "--json")
    everything = json.loads(out)
    assert len(everything) > len(claims)
    assert {c["status"] for c in everything} > {"confirmed"}
    code, out, _ = claims_cli("--party", "SA", "--status", "confirmed,alleged", "--json")
    assert {c["status"] for c in json.loads(out)} <= {"confirmed", "alleged"}


def test_years_category_and_product_filters(claims_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = claims_cli("nso", "--since", "2021", "--until", "2021", "--json")
    assert code == 0
    for claim in json.loads(out):
        assert str(claim["date"] or claim["reported"]).startswith("2021")
    code, out, _ = claims_cli("nso", "--category", "legal", "--json")
    assert {c["category"] for c in json.loads(out)} == {"legal"}
    code, out, _ = claims_cli("--product", "harop", "--json")
    assert code == 0
    assert {c["product"] for c in json.loads(out)} == {"Harop"}


def test_nothing_links_them_is_said(claims_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = claims_cli("nso uganda")
    assert code == 1
    assert out.startswith("Claims linking NSO Group and Uganda, 0 of 0")
    assert "No claim links NSO Group and Uganda." in out
    code, out, _ = claims_cli("zebrafish")
    assert code == 1
    assert out.startswith(
        "Claims that mention “zebrafish”, 0 of 219\nNo claim mentions “zebrafish”."
    )


def test_words_that_match_nothing_are_dropped_with_a_note(claims_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = claims_cli("pegasus morocco zebrafish")
    assert code == 0
    assert out.startswith("Claims linking NSO Group and Morocco, ")
    assert "No claim linking NSO Group and Morocco mentions “zebrafish”" in out
    assert "Pegasus" in out


def test_without_a_name_the_words_are_searched_in_full_text(claims_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = claims_cli("monitoring centre", "--json")
    assert code == 0
    claims = json.loads(out)
    assert claims
    for claim in claims:
        blob = f"{claim['text']} {claim['product']}".lower()
        assert "monitoring" in blob
        assert "centre" in blob
    code, out, _ = claims_cli("ayman nour", "--json")
    assert any("Ayman Nour" in c["text"] for c in json.loads(out))


def test_who_sold_spyware_to_mexico(claims_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = claims_cli("who sold spyware to mexico", "--json")
    assert code == 0
    claims = json.loads(out)
    assert claims
    assert all("MX" in _party_ids(c) for c in claims)
    assert all("spyware" in c["text"].lower() for c in claims)


def test_an_ambiguous_name_lists_the_candidates(claims_cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = claims_cli("congo nso")
    assert code == 1
    assert "“congo” names several entries" in out
    assert "Republic of the Congo (country, id CG)" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nso", "--since", "2020", "--until", "2010"], "Since 2020 is after until 2010"),
        ([], "Nothing to look for"),
        (["nso\u202e"], "invisible"),
        (["x" * 101], "101 characters long"),
        (["   "], "Nothing to look for"),
        (["nso", "--since", "1800"], "too small"),
        (["nso", "--status", "maybe"], "'maybe' is not a status"),
        (["nso", "--category", "gossip"], "invalid choice"),
        (["nso", "--limit", "0"], "too small"),
        (["--party", " "], "the name is empty"),
    ],
)
def test_bad_queries_say_what_is_wrong(claims_cli, args: list[str], message: str) -> None:  # type: ignore[no-untyped-def]
    code, out, err = claims_cli(*args)
    assert code == 2
    assert message in err
    assert out == ""


def test_an_unknown_party_is_not_found(claims_cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = claims_cli("--party", "qqqqqqqqqq")
    assert code == 1
    assert "Nothing matched" in err


async def _service(kb: KnowledgeBase) -> tuple[ClaimsService, CorrectionService]:
    index = SearchIndex.build(await kb.index_rows())
    return ClaimsService(kb, index), CorrectionService(kb, index, Limits(100, 100))


async def _found(claims: ClaimsService, text: str) -> list[str]:
    answer = await claims.answer(ClaimQuery.make(text))
    return [c.id for c in await claims.page(answer, 0, 100)] if not answer.words_dropped else []


def _cli_finds(database: Path | str, query: str) -> list[str]:
    """The ids ``armsbot claims QUERY --json`` prints (the CLI: its own connection and index)."""
    result = run("claims", query, "--json", database=database)
    assert result.returncode in (0, 1), result.stderr
    return _ids(json.loads(result.stdout)) if result.returncode == 0 else []


async def test_an_approved_claim_is_found_at_once_and_a_reverted_one_disappears(
    kb: KnowledgeBase, database: Path | str
) -> None:
    claims, corrections = await _service(kb)
    assert await _found(claims, "zebrafish") == []
    submitted = await corrections.submit(
        Submission(
            entity_id="nso-group",
            change=AddClaim(
                text="NSO Group sold a zebrafish tracker.", status=Status.ALLEGED, date="2024"
            ),
            what_is_wrong="Missing.",
            source_url="https://example.org/zebrafish",
            source_title="Zebrafish report",
        ),
        MEMBER,
    )
    assert (await corrections.approve(submitted.id, MOD)).outcome is Outcome.APPLIED
    added = f"nso-group-community-{submitted.id}"
    assert await _found(claims, "zebrafish") == [added]
    assert await _found(claims, "nso zebrafish") == [added]
    assert _cli_finds(database, "zebrafish") == [added]  # another connection, at once
    [revision, *_] = await corrections.history("nso-group")
    reverted = await corrections.revert("nso-group", revision.number, MOD, "Not sourced well.")
    assert reverted.outcome is Outcome.APPLIED
    assert await _found(claims, "zebrafish") == []
    assert _cli_finds(database, "zebrafish") == []
    assert await kb.integrity_problems() == []


def _imported(claim_id: str, text: str) -> Claim:
    return Claim.model_validate(
        {
            "id": claim_id,
            "text": text,
            "status": Status.REPORTED,
            "category": Category.TRANSFER,
            "parties": [
                Party(entity="hacking-team", role=Role.SUPPLIER),
                Party(entity="UG", role=Role.RECIPIENT),
            ],
            "goods": ["Intrusion software"],
            "end_user": "Zanzibar Gendarmerie Unit",
            "sources": [Source(title="A dataset record", url=None)],
            "provenance": {"dataset": "test", "checksum": "0" * 64, "record": claim_id},
        }
    )


async def test_full_text_follows_dataset_inserts_and_deletes(kb: KnowledgeBase) -> None:
    search = ClaimSearch(kb)
    store = DatasetStore(kb)
    police = ClaimFilter(words=("gendarmerie",), groups=(("UG",),))
    assert await search.count(police) == 0
    async with kb.transaction():
        await store.insert_claim("hacking-team", 900, _imported("test-1", "A sale to Uganda."))
    assert await search.ids(police, 0, 10) == ["test-1"]  # the end user is searched
    intrusion = ClaimFilter(words=("intrusion",), groups=(("hacking-team",), ("UG",)))
    assert await search.ids(intrusion, 0, 10) == ["test-1"]  # and the goods
    async with kb.transaction():
        await store.delete_claims(["test-1"])
        await store.delete_unused_sources()
    assert await search.count(police) == 0
    assert await kb.integrity_problems() == []


@sqlite_only  # PostgreSQL's is an index
async def test_db_check_reports_a_full_text_index_out_of_step(kb: KnowledgeBase) -> None:
    problems = await problems_without_trigger(
        kb, "claims_fts_delete", "DELETE FROM claims WHERE id = (SELECT min(id) FROM claims)"
    )
    assert any("full-text index of claims is out of step (218 claims, 219" in p for p in problems)


def test_query_state_round_trips_and_crafted_states_are_refused() -> None:
    query = ClaimQuery.make(
        "NSO Morocco",
        parties=["AZ"],
        statuses=["confirmed", "alleged"],
        category="transfer",
        since=2015,
        until=2021,
        product="Pegasus",
        kind="firm",
    )
    assert ClaimQuery.from_state(query.state()) == query
    assert ClaimQuery.make("nso").state() == '["nso"]'
    for crafted in ('{"a": 1}', '["x", [1]]', '["x", [], "q"]', '["x", [], "", "", true]', "[1]"):
        with pytest.raises(ValueError):
            ClaimQuery.from_state(crafted)
    with pytest.raises(QueryError):
        ClaimQuery.from_state('["x", [], "", "", 2030, 2010]')


def test_ask_search_reads_several_names_as_the_bot_does(
    db_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ARMSBOT_DATABASE", str(db_copy))
    assert cli.main(["ask", "search", "NSO", "Morocco"]) == 0
    assert capsys.readouterr().out.startswith("Claims linking NSO Group and Morocco, ")
    assert cli.main(["ask", "search", "pegasus", "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["kind"] == "search"
    assert card["sections"][0]["groups"][0]["lines"][0]["entity_id"] == "nso-group"


# A query of each kind that the search reads differently (tests/test_postgres.py runs them too).
KINDS_OF_QUERY = [
    ClaimFilter(),
    ClaimFilter(words=("pegasus",)),
    ClaimFilter(words=("drones",), statuses=(Status.CONFIRMED, Status.REPORTED)),
    ClaimFilter(words=("spyware",), since=2015, until=2022),
    ClaimFilter(words=("pegasus",), groups=(("nso-group",), ("MA", "SA", "MX"))),
    ClaimFilter(words=("sold",), category=Category.TRANSFER),
    ClaimFilter(product=("pegasus",)),
    ClaimFilter(groups=(("nso-group",),)),
    ClaimFilter(groups=(("nso-group",),), statuses=(Status.CONFIRMED,)),
    ClaimFilter(groups=(("IL",), ("AZ", "MA")), since=2016),
]


@pytest.mark.parametrize("query", KINDS_OF_QUERY)
async def test_claims_are_ordered_and_counted_as_the_claims_table_orders_them(
    kb: KnowledgeBase, query: ClaimFilter
) -> None:
    """Full-text matches are ordered from claim_order (migration 9) and counted with the first
    page: the same claims, in the same order, as selecting and ordering the claims themselves
    (on PostgreSQL, which reads the claims themselves, its count and page agree with its order)."""
    where, params = _where(query, kb.dialect)
    async with kb.db.execute(
        f"SELECT c.id FROM claims c WHERE {where} ORDER BY {ORDER}", params
    ) as c:
        expected = [str(r[0]) for r in await c.fetchall()]
    assert expected  # each query finds claims on the bundled data
    search = ClaimSearch(kb)
    assert await search.ids(query, 0, 500) == expected
    assert await search.ids(query, 2, 3) == expected[2:5]
    assert await search.count(query) == len(expected)
    assert await search.first(query, 2) == (len(expected), expected[:2])


async def test_answers_read_their_first_claims_with_the_count(kb: KnowledgeBase) -> None:
    claims, _ = await _service(kb)
    answer = await claims.answer(ClaimQuery.make("nso pegasus"))
    ids = await claims.search.ids(answer.filter, 0, 500)
    assert answer.total == len(ids) > 1
    assert list(answer.first) == ids  # all of them: fewer than an answer laid out whole
    assert [c.id for c in await claims.page(answer, 1, 2)] == ids[1:3]


async def test_parties_alone_are_counted_once(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "NSO Morocco": the claims that link them are the answer; with a word they are counted apart.
    claims, _ = await _service(kb)
    counted: list[ClaimFilter] = []
    count = claims.search.count

    async def counting(query: ClaimFilter) -> int:
        counted.append(query)
        return await count(query)

    monkeypatch.setattr(claims.search, "count", counting)
    answer = await claims.answer(ClaimQuery.make("NSO Morocco"))
    assert answer.linking == answer.total == await count(answer.filter) > 0
    assert counted == []
    narrowed = await claims.answer(ClaimQuery.make("NSO Morocco", statuses=["confirmed"]))
    assert counted == [narrowed.filter.parties_only()]
    assert narrowed.linking == answer.total >= narrowed.total
    assert [c.id for c in await claims.listed(answer, 0, 500)] == [
        c.id for c in await claims.page(answer, 0, 500)
    ]


@sqlite_only  # PostgreSQL orders the claims themselves: it has no claim_order
async def test_claim_order_follows_every_write_to_claims(kb: KnowledgeBase) -> None:
    """claim_order (migration 9) is kept by triggers: inserts, updates and deletes of claims."""

    async def rows() -> list[tuple[object, ...]]:
        async with kb.db.execute(
            "SELECT o.id, o.rank, o.w, o.category, o.status FROM claim_order o"
            " JOIN claims c ON c.rowid = o.rid WHERE o.id = 'test-1'"
        ) as cursor:
            return [tuple(r) for r in await cursor.fetchall()]

    store = DatasetStore(kb)
    async with kb.transaction():
        await store.insert_claim("hacking-team", 900, _imported("test-1", "A sale to Uganda."))
    assert await rows() == [("test-1", 0, None, "transfer", "reported")]
    async with kb.transaction() as db:
        await db.execute(
            "UPDATE claims SET category = 'use', reported = '2019', status = 'denied'"
            " WHERE id = 'test-1'"
        )
    assert await rows() == [("test-1", 1, "2019", "use", "denied")]
    async with kb.transaction() as db:
        await db.execute("UPDATE claims SET date = '2018-05' WHERE id = 'test-1'")
    assert await rows() == [("test-1", 1, "2018-05", "use", "denied")]
    assert await kb.integrity_problems() == []
    async with kb.transaction():
        await store.delete_claims(["test-1"])
        await store.delete_unused_sources()
    async with kb.db.execute("SELECT count(*) FROM claims") as cursor:
        claims = (await cursor.fetchone() or [0])[0]
    async with kb.db.execute("SELECT count(*) FROM claim_order") as cursor:
        assert (await cursor.fetchone() or [0])[0] == claims
    assert await kb.integrity_problems() == []


@sqlite_only  # PostgreSQL has no claim_order to check
async def test_db_check_reports_claim_order_out_of_step(kb: KnowledgeBase) -> None:
    problems = await problems_without_trigger(
        kb,
        "claim_order_update",
        "UPDATE claims SET status = 'denied' WHERE id = (SELECT min(id) FROM claims)",
    )
    assert any("1 claims are out of step with claim_order" in p for p in problems)


def _dated(i: int) -> Claim:
    """A claim with the word "zephyr", in one of four categories, dated every way a claim can
    be: a year, a month, a day, only when it was reported, or not at all."""
    category = [Category.TRANSFER, Category.USE, Category.DESIGNATION, Category.BACKGROUND][i % 4]
    year = 2000 + (i * 7) % 6
    shape = i % 5
    date = [str(year), f"{year}-{1 + i % 12:02d}", f"{year}-{1 + i % 12:02d}-{1 + i % 28:02d}"]
    return Claim.model_validate(
        {
            "id": f"zephyr-{(i * 37) % 1000:03d}-{i}",
            "text": f"Zephyr radar sale number {i}.",
            "status": Status.REPORTED,
            "category": category,
            "parties": [Party(entity="hacking-team", role=Role.SUPPLIER)],
            "date": date[shape] if shape < 3 else None,
            "reported": str(year) if shape == 3 else None,
            "sources": [Source(title=f"Record {i}", url=None)],
            "provenance": {"dataset": "test", "checksum": "0" * 64, "record": str(i)},
        }
    )


async def _insert_dated(kb: KnowledgeBase, count: int) -> DatasetStore:
    """``count`` claims of :func:`_dated` inserted as a dataset does; its store."""
    store = DatasetStore(kb)
    async with kb.transaction():
        for i in range(count):
            await store.insert_claim("hacking-team", 1000 + i, _dated(i))
    return store


async def _ordered_by_the_claims(kb: KnowledgeBase, query: ClaimFilter) -> list[str]:
    where, params = _where(query, kb.dialect)
    async with kb.db.execute(
        f"SELECT c.id FROM claims c WHERE {where} ORDER BY {ORDER}", params
    ) as cursor:
        return [str(r[0]) for r in await cursor.fetchall()]


@sqlite_only  # PostgreSQL orders the matches of its tsvector index from the claims
async def test_words_alone_come_in_order_from_the_full_text_index(
    kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: the ten thousand matches of a common word were all joined to claim_order and
    sorted for a page of them; claims_fts_order (migration 10) gives them in order, and only
    the claims of the years a page spans are sorted."""
    store = await _insert_dated(kb, 300)
    search = ClaimSearch(kb)
    query = ClaimFilter(words=("zephyr",))
    expected = await _ordered_by_the_claims(kb, query)
    assert len(expected) == 300

    def not_joined(*_: object, **__: object) -> tuple[str, list[object]]:
        raise AssertionError("joined every match to claim_order")

    monkeypatch.setattr(search, "_select", not_joined)
    for offset, limit in [(0, 80), (0, 24), (24, 24), (59, 13), (150, 100), (290, 24), (300, 5)]:
        assert await search.ids(query, offset, limit) == expected[offset : offset + limit]
    assert await search.first(query, 80) == (300, expected[:80])
    radar = ClaimFilter(words=("zephyr", "radar"), product=())
    assert await search.ids(radar, 100, 50) == expected[100:150]

    # Every write moves a claim's key: a new date, a new category, a deletion.
    monkeypatch.undo()
    async with kb.transaction() as db:
        await db.execute("UPDATE claims SET date = '1999-12-31' WHERE id = ?", (expected[0],))
        await db.execute("UPDATE claims SET category = 'use' WHERE id = ?", (expected[5],))
        await db.execute(
            "UPDATE claims SET date = NULL, reported = NULL WHERE id = ?", (expected[9],)
        )
    async with kb.transaction():
        await store.delete_claims([expected[20]])
        await store.delete_unused_sources()
    expected = await _ordered_by_the_claims(kb, query)
    assert len(expected) == 299
    assert await search._ids_in_key_order(query, 0, 299) == (299, expected)
    assert await search.ids(query, 40, 30) == expected[40:70]
    assert await kb.integrity_problems() == []


@sqlite_only
async def test_a_date_without_a_year_orders_words_the_other_way(kb: KnowledgeBase) -> None:
    """A date written around armsbot that does not start with a year has no place in the keys
    of claims_fts_order: the matches are then ordered from claim_order, as before."""
    await _insert_dated(kb, 40)
    search = ClaimSearch(kb)
    query = ClaimFilter(words=("zephyr",))
    async with kb.transaction() as db:
        await db.execute("UPDATE claims SET date = 'Spring 2003' WHERE id = 'zephyr-000-0'")
    expected = await _ordered_by_the_claims(kb, query)
    assert expected[0] == "zephyr-000-0"  # a transfer, "S" after the digits: newest first
    assert await search._ids_in_key_order(query, 0, 10) is None
    assert await search.ids(query, 0, 10) == expected[:10]
    assert await search.first(query, 5) == (40, expected[:5])


@sqlite_only
async def test_db_check_reports_the_ordered_full_text_index_out_of_step(kb: KnowledgeBase) -> None:
    problems = await problems_without_trigger(
        kb,
        "claims_fts_order_update",
        "UPDATE claims SET date = '1901' WHERE id = (SELECT min(id) FROM claims)",
    )
    assert any("full-text index of claims in their order is out of step" in p for p in problems)


@sqlite_only  # PostgreSQL joins the parties to the claims: it has no claims_linked
async def test_words_and_parties_follow_every_write_to_claims_and_parties(
    kb: KnowledgeBase,
) -> None:
    """claims_linked (migration 11) indexes the words and the parties' keys, kept by triggers:
    the claims a party and a word select are those the claims themselves give, after each write."""
    search = ClaimSearch(kb)
    queries = [
        ClaimFilter(groups=(("hacking-team",),), words=("uganda",)),
        ClaimFilter(groups=(("MX",), ("hacking-team", "nso-group")), words=("sale",)),
        ClaimFilter(groups=(("hacking-team",),), product=("galileo",)),
    ]

    async def agree() -> list[list[str]]:
        found = []
        for query in queries:
            where, params = _where(query, kb.dialect)
            async with kb.db.execute(
                f"SELECT c.id FROM claims c WHERE {where} ORDER BY {ORDER}", params
            ) as cursor:
                expected = [str(r[0]) for r in await cursor.fetchall()]
            assert await search.ids(query, 0, 500) == expected
            assert await search.first(query, 3) == (len(expected), expected[:3])
            found.append(expected)
        assert await kb.integrity_problems() == []
        return found

    store = DatasetStore(kb)
    before = await agree()
    async with kb.transaction():
        await store.insert_claim("hacking-team", 900, _imported("test-1", "A sale to Uganda."))
    assert "test-1" in (await agree())[0]
    async with kb.transaction() as db:
        await db.execute("INSERT INTO claim_parties VALUES ('test-1', 9, 'MX', 'recipient')")
    assert "test-1" in (await agree())[1]
    async with kb.transaction() as db:
        await db.execute(
            "UPDATE claim_parties SET entity_id = 'BR' WHERE claim_id = 'test-1' AND position = 9"
        )
    assert "test-1" not in (await agree())[1]
    async with kb.transaction() as db:
        await db.execute("UPDATE claims SET text = 'A sale to Mexico.' WHERE id = 'test-1'")
    assert "test-1" not in (await agree())[0]
    async with kb.transaction() as db:
        await db.execute("DELETE FROM claim_parties WHERE claim_id = 'test-1' AND position = 9")
        await db.execute("UPDATE claims SET product = 'Galileo RCS' WHERE id = 'test-1'")
    assert "test-1" in (await agree())[2]
    async with kb.transaction():
        await store.delete_claims(["test-1"])
        await store.delete_unused_sources()
    assert await agree() == before


@sqlite_only
async def test_db_check_reports_the_index_of_words_and_parties_out_of_step(
    kb: KnowledgeBase,
) -> None:
    problems = await problems_without_trigger(
        kb, "claims_linked_delete", "DELETE FROM claims WHERE id = (SELECT min(id) FROM claims)"
    )
    assert any("full-text index of claims and their parties is out of step" in p for p in problems)


@sqlite_only
async def test_db_check_reports_parties_keys_out_of_step(kb: KnowledgeBase) -> None:
    problems = await problems_without_trigger(
        kb,
        "claim_parties_keys_insert",
        "INSERT INTO claim_parties SELECT id, 99, 'UG', 'recipient' FROM claims"
        " WHERE id = (SELECT min(id) FROM claims)",
    )
    assert any("parties' keys out of step with claim_parties" in p for p in problems)
