"""Importing the Surveillance Industry Index's 688 transfer records, on the real file."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from armsbot.changes import AddAlias, Submission
from armsbot.imports.core import DatasetFileInvalid, ImportReport
from armsbot.imports.countries import COUNTRY_SPELLINGS, resolve_country
from armsbot.imports.sii import DATASET_NAME, import_sii, remove_sii
from armsbot.models import Kind, Role, Status
from armsbot.search.index import MatchTier, SearchIndex
from armsbot.services import data
from armsbot.services.corrections import CorrectionService, Outcome
from armsbot.services.lookup import LookupService
from armsbot.services.quality import strict_problems
from armsbot.storage import KnowledgeBase
from tests.conftest import run_cli

RECORDS = 688
# Records that repeat another word for word (62 groups): cited by the first one's claim.
MERGED = 126
# The bundled firms the file's suppliers match by one of their exact names.
MATCHED = [
    "finfisher",
    "hacking-team",
    "huawei",
    "nso-group",
    "sandvine",
    "trovicor",
    "verint-systems",
    "zte",
]
CREATED = 44  # suppliers that match no bundled firm

# Every country spelling in the file (recipient_country, and each part of supplier_company_hq),
# with the ISO code it means, checked by hand.
SPELLINGS = {
    "Afghanistan": "AF",
    "Albania": "AL",
    "Algeria": "DZ",
    "Angola": "AO",
    "Argentina": "AR",
    "Australia": "AU",
    "Austria": "AT",
    "Azerbaijan": "AZ",
    "Bahrain": "BH",
    "Bangladesh": "BD",
    "Belarus": "BY",
    "Belgium": "BE",
    "Bermuda": "BM",
    "Bolivia": "BO",
    "Bosnia and Herzegovina": "BA",
    "Botswana": "BW",
    "Brazil": "BR",
    "Brunei": "BN",
    "Bulgaria": "BG",
    "Cambodia": "KH",
    "Cameroon": "CM",
    "Canada": "CA",
    "Chile": "CL",
    "China": "CN",
    "Colombia": "CO",
    "Costa rica": "CR",
    "Cote d'ivoire": "CI",
    "Cyprus": "CY",
    "Czech Republic": "CZ",
    "Democratic Republic of Congo": "CD",
    "Denmark": "DK",
    "Dominican republic": "DO",
    "Ecuador": "EC",
    "Egypt": "EG",
    "El Salvador": "SV",
    "Estonia": "EE",
    "Ethiopia": "ET",
    "Finland": "FI",
    "France": "FR",
    "Gabon": "GA",
    "Gambia": "GM",
    "Georgia": "GE",
    "Germany": "DE",
    "Ghana": "GH",
    "Guatemala": "GT",
    "Guyana": "GY",
    "Honduras": "HN",
    "Hong Kong": "HK",
    "Hong kong": "HK",
    "Hungary": "HU",
    "India": "IN",
    "Indonesia": "ID",
    "Iran": "IR",
    "Iraq": "IQ",
    "Ireland": "IE",
    "Israel": "IL",
    "Italia": "IT",
    "Italy": "IT",
    "Jamaica": "JM",
    "Japan": "JP",
    "Jordan": "JO",
    "Kazakhstan": "KZ",
    "Kenya": "KE",
    "Kosovo": "XK",
    "Kuwait": "KW",
    "Latvia": "LV",
    "Lebanon": "LB",
    "Libya": "LY",
    "Lithuania": "LT",
    "Luxembourg": "LU",
    "Macao": "MO",
    "Macedonia": "MK",
    "Malaysia": "MY",
    "Maldives": "MV",
    "Mauritius": "MU",
    "Mexico": "MX",
    "Monaco": "MC",
    "Mongolia": "MN",
    "Morocco": "MA",
    "Mozambique": "MZ",
    "Namibia": "NA",
    "Netherlands": "NL",
    "New Zealand": "NZ",
    "Nicaragua": "NI",
    "Nigeria": "NG",
    "Norwat": "NO",
    "Norway": "NO",
    "Oman": "OM",
    "Pakistan": "PK",
    "Palestine": "PS",
    "Panama": "PA",
    "Paraguay": "PY",
    "Peru": "PE",
    "Philippines": "PH",
    "Poland": "PL",
    "Portugal": "PT",
    "Qatar": "QA",
    "Romania": "RO",
    "Russia": "RU",
    "Rwanda": "RW",
    "Saudi Arabia": "SA",
    "Serbia": "RS",
    "Seychelles": "SC",
    "Singapore": "SG",
    "Slovakia": "SK",
    "Slovenia": "SI",
    "Solomon islands": "SB",
    "South Africa": "ZA",
    "South Korea": "KR",
    "South africa": "ZA",
    "Spain": "ES",
    "Sri Lanka": "LK",
    "Sudan": "SD",
    "Suriname": "SR",
    "Swaziland": "SZ",
    "Sweden": "SE",
    "Switzerland": "CH",
    "Syria": "SY",
    "Taiwan": "TW",
    "Tajikistan": "TJ",
    "Tanzania": "TZ",
    "Thailand": "TH",
    "Trinidad and Tobago": "TT",
    "Tunisia": "TN",
    "Turkey": "TR",
    "Turkmenistan": "TM",
    "Uganda": "UG",
    "United Arab Emirates": "AE",
    "United Kingdom": "GB",
    "United States of America": "US",
    "United kingdom": "GB",
    "Uruguay": "UY",
    "Uzbekistan": "UZ",
    "Venezuela": "VE",
    "Vietnam": "VN",
    "Yemen": "YE",
    "Zambia": "ZM",
}


@pytest.fixture(scope="module")
def sii_records(sii_path: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(sii_path.read_text(encoding="utf-8"))
    return records


@pytest.fixture
async def imported(sii_imported_db: Path, tmp_path: Path) -> Any:
    """An open private copy of the imported knowledge base."""
    target = tmp_path / "imported.sqlite3"
    shutil.copy(sii_imported_db, target)
    async with await KnowledgeBase.open(target) as kb:
        yield kb


@pytest.fixture(scope="module")
def imported_snapshot(sii_imported_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """What ``imported`` holds before a test changes it, taken once (on a copy of its own)."""
    target = tmp_path_factory.mktemp("snapshot") / "imported.sqlite3"
    shutil.copy(sii_imported_db, target)

    async def take() -> Any:
        async with await KnowledgeBase.open(target) as kb:
            return await kb.snapshot()

    return asyncio.run(take())


def write_records(tmp_path: Path, records: list[dict[str, Any]], name: str = "t.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def records_of(sii_records: list[dict[str, Any]], ids: Iterable[str]) -> list[dict[str, Any]]:
    """The file's own records with these ids, in the file's order: a part of the real file."""
    wanted = set(ids)
    found = [r for r in sii_records if r["unique_id"] in wanted]
    assert {r["unique_id"] for r in found} == wanted, "a record left the file: choose another"
    return found


def record(uid: str, **fields: Any) -> dict[str, Any]:
    """A small valid record in the file's format."""
    base: dict[str, Any] = {
        "supplier_company": "NICE Systems",
        "supplier_company_hq": "Israel",
        "recipient_country": "Uganda",
        "enduser": None,
        "export_data_or_open_source": "Open",
        "transfer_to_enduser_reported_as_complete": "Unknown",
        "order_year": 2015,
        "sources": "A citation, <https://example.org/a>",
        "goods": ["Lawful interception"],
        "source_links": ["https://example.org/a"],
        "title": f"Record {uid}",
        "unique_id": uid,
    }
    return base | fields


def counts_add_up(report: ImportReport) -> bool:
    imported = report.claims_added + report.claims_updated + report.claims_unchanged
    left_out = len(report.records_merged) + len(report.not_imported)
    return imported + left_out == report.records_read


def claims_made(report: ImportReport) -> int:
    """How many claims the whole file makes: a record each, but for repeats and hand-written."""
    return RECORDS - MERGED - len(report.not_imported)


async def sii_claims(kb: KnowledgeBase) -> int:
    """How many claims the SII import made in ``kb``."""
    ((count,),) = await kb.db.execute_fetchall(
        "SELECT count(*) FROM claims WHERE provenance_dataset = 'sii'"
    )
    return int(count)


# -- the whole file ----------------------------------------------------------------------------


async def test_the_whole_file_imports_with_provenance_and_counts_that_add_up(
    kb: KnowledgeBase, sii_path: Path, sii_records: list[dict[str, Any]]
) -> None:
    progress: list[tuple[int, int]] = []
    report = await import_sii(
        kb, sii_path, progress=lambda done, total: progress.append((done, total))
    )
    assert report.records_read == RECORDS
    assert counts_add_up(report)
    assert len(report.records_merged) == MERGED
    # A record of a transfer that a hand-written claim has already is left out, and says so.
    assert (
        "Elbit_Systems_Nigeria_",
        "already on record by hand as elbit-systems-nigeria-monitoring-centre",
    ) in report.not_imported
    assert all(r.startswith("already on record by hand as ") for _, r in report.not_imported)
    assert report.claims_added == claims_made(report)
    assert report.firms_matched == MATCHED
    assert len(report.firms_created) == CREATED
    assert progress[-1] == (RECORDS, RECORDS)
    assert report.seconds < 10
    checksum = hashlib.sha256(sii_path.read_bytes()).hexdigest()
    assert report.checksum == checksum
    claims = await kb.claims_by_id([f"sii-{r}" for r in ("nice-systems-uganda-2015",)])
    assert claims[0].provenance is not None
    stored = await kb.db.execute_fetchall(
        "SELECT provenance_record, provenance_checksum FROM claims WHERE provenance_dataset = 'sii'"
    )
    stored_records = {str(r[0]) for r in stored}
    merged = {uid for uid, _ in report.records_merged}
    left_out = {uid for uid, _ in report.not_imported}
    assert stored_records == {r["unique_id"] for r in sii_records} - merged - left_out
    assert {str(r[1]) for r in stored} == {checksum}
    assert await kb.integrity_problems() == []


def test_every_country_spelling_in_the_file_resolves_to_its_code(
    index: SearchIndex, sii_records: list[dict[str, Any]]
) -> None:
    in_file = {r["recipient_country"] for r in sii_records if r["recipient_country"]}
    for r in sii_records:
        in_file |= {p.strip() for p in (r["supplier_company_hq"] or "").split(",") if p.strip()}
    assert in_file == set(SPELLINGS), "a spelling was added to or left the file: list it here"
    resolved = {spelling: resolve_country(index, spelling)[0] for spelling in SPELLINGS}
    assert resolved == SPELLINGS


def test_hand_mapped_spellings_are_only_those_the_index_cannot_name_exactly(
    index: SearchIndex,
) -> None:
    assert COUNTRY_SPELLINGS == {
        "Norwat": "NO",
        "Democratic Republic of Congo": "CD",
        "Palestine": "PS",
    }
    for spelling in COUNTRY_SPELLINGS:
        chosen = index.resolve(spelling, Kind.COUNTRY).chosen
        assert chosen is None or chosen.tier is not MatchTier.EXACT, spelling


def test_a_spelling_the_index_only_guesses_is_not_taken(index: SearchIndex) -> None:
    # "Azerbajan" finds Azerbaijan as a typo when people search; an import must not guess.
    assert index.resolve("Azerbajan", Kind.COUNTRY).chosen is not None
    code, reason = resolve_country(index, "Azerbajan")
    assert code is None
    assert reason is not None
    assert "not the exact name" in reason
    assert "Azerbaijan (AZ)" in reason


async def test_reimporting_the_same_file_changes_nothing(
    imported: KnowledgeBase, imported_snapshot: Any, sii_path: Path
) -> None:
    before = imported_snapshot
    report = await import_sii(imported, sii_path)
    unchanged = claims_made(report)
    assert (report.claims_added, report.claims_updated, report.claims_unchanged) == (
        0,
        0,
        unchanged,
    )
    assert (report.claims_removed, report.firms_created, report.firms_removed) == ([], [], [])
    assert report.claims_restamped == 0
    assert len(report.firms_unchanged) == CREATED
    assert report.firms_matched == MATCHED
    assert not report.changed
    assert await imported.snapshot() == before


async def test_remove_restores_the_database_as_it_was_before_the_import(
    kb: KnowledgeBase, imported: KnowledgeBase, imported_snapshot: Any
) -> None:
    """``kb`` is the bundled knowledge base that ``imported`` was before the import."""
    before = await kb.snapshot()
    counts = await kb.count()
    assert imported_snapshot != before
    made = await sii_claims(imported)
    removed = await remove_sii(imported)
    assert removed.claims_removed == made > 0
    assert len(removed.firms_removed) == CREATED
    assert removed.firms_kept == []
    assert await imported.snapshot() == before
    assert await imported.count() == counts  # no stray sources either
    assert await imported.integrity_problems() == []


# -- mapping -----------------------------------------------------------------------------------


async def test_nice_systems_uganda_becomes_a_sourced_reported_transfer(
    imported: KnowledgeBase,
) -> None:
    (claim,) = await imported.claims_by_id(["sii-nice-systems-uganda-2015"])
    assert claim.status is Status.REPORTED  # "Open": open sources
    assert [(p.entity, p.role) for p in claim.parties] == [
        ("nice-systems", Role.SUPPLIER),
        ("UG", Role.RECIPIENT),
    ]
    assert claim.date == "2015"
    assert claim.goods == ["Lawful interception", "Monitoring centre"]
    assert claim.end_user == (
        "Chieftaincy of Military Intelligence, Special Forces Command Counter Intelligence"
    )
    assert claim.text.startswith("NICE Systems (Israel) supplied lawful interception and")
    assert "Uganda" in claim.text
    assert "reported as complete" in claim.text
    (source,) = claim.sources
    assert source.url is not None
    assert source.url.startswith("http://www.africaintelligence.com/ION/politics-power/2015/11/06/")
    assert source.title.startswith("Africa Intelligence,“Museveni commits $85.5 million")
    assert source.publisher == DATASET_NAME
    nice = await imported.entity("nice-systems")
    assert nice is not None
    assert nice.attributes == {"headquarters": "IL"}
    assert not nice.curated  # export leaves it out


async def test_export_data_is_confirmed_and_a_country_supplies_when_no_company_is_named(
    imported: KnowledgeBase,
) -> None:
    (norwat,) = await imported.claims_by_id(["sii-norwat-2009"])
    assert norwat.status is Status.CONFIRMED
    assert [(p.entity, p.role) for p in norwat.parties] == [
        ("DE", Role.SUPPLIER),
        ("NO", Role.RECIPIENT),
    ]
    assert norwat.goods == []  # the record has no goods list
    assert "Norway" in norwat.text
    assert "Norwat" not in norwat.text
    home = await imported.entity("NO")
    assert home is not None
    assert "sii-norwat-2009" in {c.id for c in home.claims}


async def test_odd_years_missing_parties_and_citations_without_links(
    imported: KnowledgeBase,
) -> None:
    (siemens,) = await imported.claims_by_id(["sii-siemens-bahrain-mid-2000s"])
    assert (siemens.date, siemens.date_text) == (None, "mid-2000s")
    assert "order year: mid-2000s" in siemens.text
    # Network infrastructure is the SII's "network infrastructure and services"; the stray space
    # in " Lawful interception" goes.
    assert siemens.goods == [
        "Network infrastructure and services",
        "Lawful interception",
        "Monitoring centre",
    ]
    assert [s.title for s in siemens.sources] == [
        "Silver, V. And Elgin, B., 'Torture in Bahrain becomes routine with help of Nokia "
        "Siemens', Bloomberg, 23 Aug. 2011",
        "Silver, V., 'EU may probe Bahrain spy gear abuses', Bloomberg, 24 Aug. 2011",
    ]
    (datong,) = await imported.claims_by_id(["sii-datong-2015"])  # no recipient
    assert [(p.entity, p.role) for p in datong.parties] == [("datong", Role.SUPPLIER)]
    assert "an unnamed recipient" in datong.text
    (egypt,) = await imported.claims_by_id(["sii-egypt-2014"])  # no supplier at all
    assert [(p.entity, p.role) for p in egypt.parties] == [("EG", Role.RECIPIENT)]
    assert egypt.text.startswith("An unnamed supplier supplied deep packet inspection to Egypt")
    (tns,) = await imported.claims_by_id(["sii-tns-service-reseller-kazakhstan-2013"])
    assert [(s.url, s.title, s.publisher) for s in tns.sources] == [
        (
            None,
            "'Private Interests: Monitoring Central Asia', Privacy International, Nov. 2014",
            DATASET_NAME,
        )
    ]
    (broker,) = await imported.claims_by_id(["sii-mi-marathon-broker-nigeria"])
    assert [(p.entity, p.role) for p in broker.parties] == [
        ("mi-marathon", Role.BROKER),
        ("NG", Role.RECIPIENT),
    ]
    (www,) = [
        s.url
        for s in (await imported.claims_by_id(["sii-vastech-libya"]))[0].sources
        if s.url and "wired.com" in s.url
    ]
    assert www == "http://www.wired.com/2012/05/ff_libya/"  # written without a scheme


async def test_existing_firms_are_matched_by_name_and_headquarters_not_duplicated(
    imported: KnowledgeBase,
) -> None:
    rows = await imported.db.execute_fetchall(
        "SELECT id FROM entities WHERE kind = 'firm' AND name IN ('Hacking Team', 'FinFisher')"
    )
    assert sorted(str(r[0]) for r in rows) == ["finfisher", "hacking-team"]
    claims = await imported.claims_about("hacking-team")
    # 68 records name Hacking Team; its Sudan invoice is on record by hand, so 67 are imported.
    assert sum(1 for c in claims if c.provenance is not None) == 67
    (both,) = await imported.claims_by_id(["sii-hacking-team-nice-systems-nigeria-2012"])
    assert {p.entity for p in both.parties} == {"hacking-team", "nice-systems", "NG"}
    # "Gamma International, FinFisher" (United Kingdom, Germany) is FinFisher, based in Germany;
    # "Gamma International" alone, placed in the United Kingdom, is FinFisher too (one of its
    # names): the firm is kept and the disagreement reported, never a twin created.
    (group,) = await imported.claims_by_id(["sii-gamma-international-finfisher-bahrain-2010"])
    assert [p.entity for p in group.parties] == ["finfisher", "BH"]
    (oman,) = await imported.claims_by_id(["sii-gamma-international-oman"])
    assert [p.entity for p in oman.parties] == ["finfisher", "OM"]
    assert await imported.entity("gamma-international") is None
    # Nokia Siemens Networks is placed in "Germany, Finland" and in "Germany": no single country.
    nsn = await imported.entity("nokia-siemens-networks")
    assert nsn is not None
    assert "headquarters" not in nsn.attributes
    # "ZTE" and "ZTE Corporation" (China) are both the bundled ZTE, whose names stay as written.
    zte = await imported.entity("zte")
    assert zte is not None
    assert [a.name for a in zte.aliases] == ["ZTE Corp", "ZTE Corporation"]
    spellings = await imported.claims_by_id(
        ["sii-zte-iran-2010", "sii-zte-corporation-mozambique-2012"]
    )
    assert [c.parties[0].entity for c in spellings] == ["zte", "zte"]


async def test_cards_group_imported_transfers_by_supplier_and_goods(
    imported: KnowledgeBase,
) -> None:
    lookup = LookupService(imported, SearchIndex.build(await imported.index_rows()))
    answer = await lookup.ask(Kind.COUNTRY, "Uganda")
    assert answer.card is not None
    (acquisitions,) = [s for s in answer.card.sections if s.title == "Acquisitions"]
    groups = {g.heading: [line.claim_id for line in g.lines] for g in acquisitions.groups}
    assert groups["NICE Systems — lawful interception, monitoring centre"] == [
        "sii-nice-systems-uganda-2015"
    ]
    firm = await lookup.ask(Kind.FIRM, "Hacking Team")
    assert firm.card is not None
    (customers,) = [s for s in firm.card.sections if s.title == "Customers"]
    headings = {g.heading for g in customers.groups}
    assert {"Mexico — intrusion software", "Ethiopia — intrusion software"} <= headings
    hand_written = [
        line.claim_id
        for g in customers.groups
        for line in g.lines
        if line.claim_id and not line.claim_id.startswith("sii-")
    ]
    assert hand_written, "the seed's own claims stay on the card beside the dataset's"


async def test_export_writes_no_imported_claim_or_firm(
    kb: KnowledgeBase, imported: KnowledgeBase, tmp_path: Path
) -> None:
    """``kb`` is the bundled knowledge base that ``imported`` was before the import."""
    await data.export(kb, tmp_path / "before")
    await data.export(imported, tmp_path / "after")
    before = {
        p.relative_to(tmp_path / "before"): p.read_text()
        for p in (tmp_path / "before").rglob("*.yaml")
    }
    after = {
        p.relative_to(tmp_path / "after"): p.read_text()
        for p in (tmp_path / "after").rglob("*.yaml")
    }
    assert after == before


# -- changes between files, removal, and what stays ---------------------------------------------


# Records of the file that a newer file changes (NICE Systems), drops (Semptian, which no other
# record names) and keeps.
OLDER_FILE = (
    "NICE_Systems_Uganda_2015",
    "Semptian_Algeria_2010",
    "Hacking_Team_Mexico_2010",
    "Hacking_Team_Ethiopia_2012",
    "_Norwat_2009",
)


@pytest.fixture
async def older_imported(db_copy: Path, sii_records: list[dict[str, Any]], tmp_path: Path) -> Any:
    """An open private copy of the bundled knowledge base with :data:`OLDER_FILE` imported."""
    older = write_records(tmp_path, records_of(sii_records, OLDER_FILE), "older.json")
    async with await KnowledgeBase.open(db_copy) as kb:
        await import_sii(kb, older)
        yield kb


async def test_a_newer_file_updates_changed_records_and_removes_missing_ones(
    older_imported: KnowledgeBase, sii_records: list[dict[str, Any]], tmp_path: Path
) -> None:
    kb = older_imported  # a part of the file imported: now a newer one comes
    made = await sii_claims(kb)
    older = records_of(sii_records, OLDER_FILE)
    newer = [dict(r) for r in older if r["unique_id"] != "Semptian_Algeria_2010"]
    changed = next(r for r in newer if r["unique_id"] == "NICE_Systems_Uganda_2015")
    changed["goods"] = ["Lawful interception"]
    newer.append(record("New_Record_2020", order_year=2020))
    path = write_records(tmp_path, newer)
    report = await import_sii(kb, path)
    assert counts_add_up(report)
    assert (report.claims_added, report.claims_updated) == (1, 1)
    assert report.claims_unchanged == made - 2
    assert report.claims_removed == ["Semptian_Algeria_2010"]
    assert report.firms_removed == ["semptian"]  # only that record named it
    assert report.claims_restamped == made - 2
    assert await kb.entity("semptian") is None
    (nice,) = await kb.claims_by_id(["sii-nice-systems-uganda-2015"])
    assert nice.goods == ["Lawful interception"]
    checksum = hashlib.sha256(path.read_bytes()).hexdigest()
    rows = await kb.db.execute_fetchall(
        "SELECT DISTINCT provenance_checksum FROM claims WHERE provenance_dataset = 'sii'"
    )
    assert [str(r[0]) for r in rows] == [checksum]
    assert await kb.integrity_problems() == []


async def test_remove_keeps_hand_written_claims_and_firms_a_correction_adopted(
    kb: KnowledgeBase, imported: KnowledgeBase
) -> None:
    """``kb`` is the bundled knowledge base that ``imported`` was before the import."""
    hand_written = {c.id for c in await kb.claims_about("hacking-team")}
    kb = imported
    service = CorrectionService(kb, SearchIndex.build(await kb.index_rows()))
    correction = await service.submit(
        Submission(
            entity_id="blue-coat",
            change=AddAlias(name="Blue Coat Systems"),
            what_is_wrong="Its full name is missing.",
            source_url="https://example.org/blue-coat",
        ),
        "discord:1",
    )
    assert (await service.approve(correction.id, "discord:2")).outcome is Outcome.APPLIED
    removed = await remove_sii(kb)
    assert [firm for firm, _ in removed.firms_kept] == ["blue-coat"]
    assert "approved correction" in removed.firms_kept[0][1]
    blue_coat = await kb.entity("blue-coat")
    assert blue_coat is not None
    assert "Blue Coat Systems" in [a.name for a in blue_coat.aliases]
    assert blue_coat.claims == []  # its imported claims went
    assert {c.id for c in await kb.claims_about("hacking-team")} == hand_written
    assert await kb.integrity_problems() == []


# -- files that are refused, records that are reported -----------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[{", "is not JSON"),
        ('{"unique_id": "A"}', "must hold a JSON list of transfer records, not a dict"),
        (json.dumps([record("A"), {"goods": []}]), "record 2: unique_id: Field required"),
        (
            json.dumps([record("A"), record("B", goods="Lawful interception")]),
            "record 2 (B): goods: Input should be a valid list",
        ),
        (json.dumps([record("A", order_year=[2015])]), "record 1 (A): order_year"),
        (json.dumps([record(" ")]), "record 1 ( ): unique_id: Value error, must not be empty"),
    ],
    ids=["not-json", "not-a-list", "missing-id", "goods-not-a-list", "year-a-list", "blank-id"],
)
async def test_a_malformed_file_is_refused_and_changes_nothing(
    imported: KnowledgeBase, imported_snapshot: Any, tmp_path: Path, content: str, expected: str
) -> None:
    before = imported_snapshot
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetFileInvalid) as refused:
        await import_sii(imported, path)
    assert any(expected in problem for problem in refused.value.problems), refused.value.problems
    assert await imported.snapshot() == before


async def test_duplicates_and_unknown_names_are_reported_not_guessed(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    before = await kb.snapshot()
    path = write_records(
        tmp_path,
        [
            record("Twice"),
            record("Twice", recipient_country="Kenya"),
            record("Guessable", recipient_country="Azerbajan"),
            record("Nowhere", recipient_country="Atlantis"),
            record("Odd_status", export_data_or_open_source="Leak"),
            record("Kept", order_year=2016),
        ],
    )
    report = await import_sii(kb, path)
    assert counts_add_up(report)
    assert report.claims_added == 2
    reasons = dict(report.not_imported)
    assert set(reasons) == {"Twice", "Guessable", "Nowhere", "Odd_status"}
    assert reasons["Twice"] == "duplicate unique_id: record 2 repeats record 1"
    assert "'Azerbajan' is not the exact name of one country" in reasons["Guessable"]
    assert "'Atlantis'" in reasons["Nowhere"]
    assert "'Leak'" in reasons["Odd_status"]
    (kept,) = await kb.claims_by_id(["sii-twice"])
    assert kept.parties[-1].entity == "UG"  # the first of the two records
    await remove_sii(kb)
    assert await kb.snapshot() == before


async def test_a_record_with_no_source_at_all_cites_the_dataset(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    path = write_records(
        tmp_path, [record("Bare", sources="", source_links=[], title="Bare Sales to Uganda")]
    )
    await import_sii(kb, path)
    (claim,) = await kb.claims_by_id(["sii-bare"])
    assert [(s.url, s.title, s.publisher) for s in claim.sources] == [
        (None, "Bare Sales to Uganda", DATASET_NAME)
    ]


# -- the command line --------------------------------------------------------------------------


def armsbot(*args: str, database: Path) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, database=database)


# A part of the file with a record of each kind the command line reports: a firm to create
# (NICE Systems), bundled ones matched (Hacking Team, FinFisher), a country as supplier (Norwat),
# a record already on record by hand (Elbit) and seven that say the same (Qatar).
CLI_PART = (
    "NICE_Systems_Uganda_2015",
    "Gamma_International_FinFisher_Gabon_",
    "Hacking_Team_Mexico_2010",
    "Hacking_Team_Ethiopia_2012",
    "_Norwat_2009",
    "Elbit_Systems_Nigeria_",
    *(f"_Qatar_2016{n}" for n in ("", "_2", "_3", "_4", "_5", "_6", "_7")),
)


def test_cli_imports_answers_reimports_refuses_and_removes(
    db_copy: Path, sii_records: list[dict[str, Any]], tmp_path: Path
) -> None:
    part = write_records(tmp_path, records_of(sii_records, CLI_PART), "transfers.json")
    first = armsbot("db", "import", "sii", str(part), database=db_copy)
    assert first.returncode == 0, first.stderr
    assert f"records read: {len(CLI_PART)}" in first.stdout
    made = 6  # NICE Systems, FinFisher, Hacking Team twice, Norwat, the first Qatar record
    assert f"claims: {made} added, 0 updated, 0 unchanged, 0 removed" in first.stdout
    assert "firms: 1 created, 2 matched (finfisher, hacking-team)" in first.stdout
    assert "records said twice: 6 " in first.stdout
    assert "not imported: 1" in first.stdout
    assert "Elbit_Systems_Nigeria_: already on record by hand as" in first.stdout

    uganda = armsbot("ask", "country", "Uganda", database=db_copy)
    assert uganda.returncode == 0, uganda.stderr
    assert "  NICE Systems — lawful interception, monitoring centre\n" in uganda.stdout
    assert "NICE Systems (Israel) supplied lawful interception and monitoring centre" in (
        uganda.stdout
    )
    assert "order year 2015" in uganda.stdout
    assert "museveni-commits-dollars85.5" in uganda.stdout

    hacking_team = armsbot("ask", "firm", "Hacking Team", database=db_copy)
    assert hacking_team.returncode == 0, hacking_team.stderr
    assert hacking_team.stdout.startswith("Hacking Team (hacking-team) — firm")
    assert "  Mexico — intrusion software\n" in hacking_team.stdout
    assert "  Ethiopia — intrusion software\n" in hacking_team.stdout

    norway = armsbot("ask", "country", "Norway", "--json", database=db_copy)
    assert norway.returncode == 0, norway.stderr
    card = json.loads(norway.stdout)
    lines = {
        line["claim_id"]: line for s in card["sections"] for g in s["groups"] for line in g["lines"]
    }
    assert "sii-norwat-2009" in lines
    assert lines["sii-norwat-2009"]["status"] == "confirmed"
    assert lines["sii-norwat-2009"]["sources"]

    again = armsbot("db", "import", "sii", str(part), "--json", database=db_copy)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert (report["claims_added"], report["claims_updated"], report["claims_unchanged"]) == (
        0,
        0,
        made,
    )

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"unique_id": "A", "goods": "Lawful interception"}]))
    refused = armsbot("db", "import", "sii", str(bad), database=db_copy)
    assert refused.returncode == 3
    assert "nothing was changed" in refused.stderr
    assert "record 1 (A): goods: Input should be a valid list" in refused.stderr

    removed = armsbot("db", "import", "sii", "--remove", database=db_copy)
    assert removed.returncode == 0, removed.stderr
    assert f"Removed {made} claims and 1 firms" in removed.stdout
    check = armsbot("db", "check", database=db_copy)
    assert check.returncode == 0, check.stdout
    after = armsbot("ask", "country", "Uganda", database=db_copy)
    assert "NICE Systems" not in after.stdout


# -- honest wording, one claim per fact, firm identity -----------------------------------------


async def test_licence_records_say_a_licence_was_granted_never_that_goods_were_supplied(
    imported: KnowledgeBase, sii_records: list[dict[str, Any]]
) -> None:
    claims = [c for _, c in await imported.every_claim() if c.provenance is not None]
    licences = [c for c in claims if c.status is Status.CONFIRMED]
    assert len(licences) > 200
    for claim in licences:
        assert "was licensed to export" in claim.text, claim.id
        assert "supplied" not in claim.text, claim.id
        assert claim.text.endswith(
            (
                "delivery reported as complete.",
                "delivery reported as not complete.",
                "whether it was delivered is not known.",
            )
        ), claim.id
    by_record = {r["unique_id"]: r for r in sii_records}
    not_complete = [
        c
        for c in licences
        if c.provenance is not None
        and (by_record[c.provenance.record]["transfer_to_enduser_reported_as_complete"] or "")
        .strip()
        .lower()
        == "no"
    ]
    assert not_complete
    assert all("delivery reported as not complete" in c.text for c in not_complete)
    # Open-source reports keep their wording and are never confirmed.
    assert all(
        "supplied" in c.text or "brokered" in c.text for c in claims if c.status is Status.REPORTED
    )


async def test_records_that_repeat_each_other_make_one_claim_citing_them_all(
    imported: KnowledgeBase,
) -> None:
    claims = [c for _, c in await imported.every_claim() if c.provenance is not None]
    texts = [c.text for c in claims]
    assert len(texts) == len(set(texts))  # no two imported claims read the same
    (qatar,) = await imported.claims_by_id(["sii-qatar-2016"])
    assert qatar.provenance is not None
    assert qatar.provenance.merged == [f"_Qatar_2016_{n}" for n in range(2, 8)]
    # Re-import and --remove find every record again (the repeats through the first's claim).
    assert await strict_problems(imported) == []


async def test_gamma_international_opens_finfisher_and_licence_countries_are_no_headquarters(
    imported: KnowledgeBase,
) -> None:
    lookup = LookupService(imported, SearchIndex.build(await imported.index_rows()))
    answer = await lookup.ask(Kind.FIRM, "gamma international")
    assert answer.card is not None
    assert answer.card.entity_id == "finfisher"
    # BAE Systems appears only in Danish licence data: Denmark licensed, it is not where BAE
    # Systems is based.
    bae = await imported.entity("bae-systems")
    assert bae is not None
    assert "headquarters" not in bae.attributes
    eti = await imported.entity("eti-a-s")
    assert eti is not None
    assert eti.attributes == {"headquarters": "DK", "parent": "bae-systems"}
    card = await lookup.card("eti-a-s")
    assert card is not None
    assert ("Part of", "BAE Systems") in card.facts


# The records behind the notes below: the Qatar repeats, the firms with a group (and a record of
# each group, which the import creates too), Gamma International placed in the United Kingdom,
# and two Iraq records of one event that differ.
NOTED = (
    *(f"_Qatar_2016{n}" for n in ("", "_2", "_3", "_4", "_5", "_6", "_7")),
    "ETI_AS_Saudi Arabia_",
    "BAE_Systems_China_",
    "Nokia_Siemens_Networks_Bahrain_2007",
    "Siemens_Syria_2000",
    "Alcatel_Shanghai_Bell_Uzbekistan_",
    "Alcatel-Lucent_Pakistan_2005",
    "Gamma_International_Oman_",
    "_Iraq_2015",
    "_Iraq_2015_2",
)


async def test_the_report_lists_merges_parents_and_headquarters_disagreements(
    kb: KnowledgeBase, sii_records: list[dict[str, Any]], tmp_path: Path
) -> None:
    report = await import_sii(kb, write_records(tmp_path, records_of(sii_records, NOTED)))
    notes = "\n".join(report.notes)
    assert (
        "_Qatar_2016: 6 other record(s) say the same (_Qatar_2016_2, _Qatar_2016_3, _Qatar_2016_4,"
        " _Qatar_2016_5, _Qatar_2016_6, _Qatar_2016_7): one claim cites them all" in notes
    )
    assert "parent: ETI A/S (eti-a-s) belongs to bae-systems" in notes
    assert "parent: Nokia Siemens Networks (nokia-siemens-networks) belongs to siemens" in notes
    assert (
        "parent: Alcatel Shanghai Bell (alcatel-shanghai-bell) belongs to alcatel-lucent" in notes
    )
    assert (
        "Gamma_International_Oman_: headquarters disagree: 'Gamma International' is FinFisher"
        " (finfisher), based in Germany; the record places it in United Kingdom" in notes
    )
    assert ("_Iraq_2015_2", "_Iraq_2015") not in report.records_merged  # they differ: two claims
    (second,) = await kb.claims_by_id(["sii-iraq-2015-2"])
    assert second.distinct_from == ["sii-iraq-2015"]
