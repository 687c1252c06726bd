"""Importing documented spyware targets (Granitt's CSV format): counts per government and year,
every source, and no person's name or affiliation stored or shown."""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import re
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from armsbot.imports.core import DatasetFileInvalid, import_dataset, remove_dataset
from armsbot.imports.status import dataset_statuses
from armsbot.imports.targets import PINNED, TargetsAdapter, pinned_by_checksum
from armsbot.models import Category, Kind, Role, Status
from armsbot.search.index import SearchIndex
from armsbot.services.lookup import LookupService
from armsbot.services.quality import strict_problems
from armsbot.storage import KnowledgeBase
from tests.conftest import shared_file
from tests.test_sii_import import armsbot

PEGASUS = TargetsAdapter("Pegasus", PINNED["pegasus"])
HEADER = (
    "name,code_name,role,affiliation,occurred,disclosed,disclosed_by,forensics_by,"
    "pegasus_project,tech_notified,device_type,attack_result,lockdown_bypass,attack_vector,"
    "exploit_name,first_activity,last_activity,operator,sources"
)


@pytest.fixture(scope="module")
def pegasus_path() -> Path:
    return shared_file("datasets/granitt/data-pegasus-victims.csv")


@pytest.fixture(scope="module")
def pegasus_rows(pegasus_path: Path) -> list[dict[str, str]]:
    with pegasus_path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def imported_db(
    built_db: Path, pegasus_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The bundled knowledge base with the Pegasus file imported once, for reading."""
    path = tmp_path_factory.mktemp("targets") / "armsbot.sqlite3"
    shutil.copy(built_db, path)

    async def run() -> None:
        async with await KnowledgeBase.open(path) as kb:
            await import_dataset(kb, PEGASUS, pegasus_path)

    asyncio.run(run())
    return path


@pytest.fixture
async def imported(imported_db: Path, tmp_path: Path) -> Any:
    target = tmp_path / "imported.sqlite3"
    shutil.copy(imported_db, target)
    async with await KnowledgeBase.open(target) as kb:
        yield kb


def split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def expected_groups(rows: list[dict[str, str]], codes: dict[str, str]) -> Counter[tuple[str, str]]:
    """Rows per (operator code or "unattributed", year or ""), counted from the file itself."""
    groups: Counter[tuple[str, str]] = Counter()
    for row in rows:
        operators = [codes[o] for o in split(row["operator"])] or ["unattributed"]
        for operator in operators:
            for year in split(row["occurred"]) or [""]:
                groups[(operator, year)] += 1
    return groups


CODES = {
    "Mexico": "MX",
    "India": "IN",
    "UAE": "AE",
    "Saudi Arabia": "SA",
    "Bahrain": "BH",
    "Morocco": "MA",
    "Kenya": "KE",
    "El Salvador": "SV",
}


def write_csv(tmp_path: Path, rows: list[str], name: str = "targets.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def row(
    name: str = "Jane Roe",
    role: str = "Journalist",
    affiliation: str = "Daily Example",
    occurred: str = "2020",
    result: str = "Successful",
    operator: str = "Mexico",
    sources: str = "https://citizenlab.ca/2020/example/",
    disclosed: str = "2021-03-04",
    disclosed_by: str = "Citizen Lab",
) -> str:
    cells = [name, "", role, affiliation, occurred, disclosed, disclosed_by, "", "", "", ""]
    cells += [result, "", "", "", "", "", operator, sources]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue()


# -- the published Pegasus file ----------------------------------------------------------------


async def test_the_pegasus_file_makes_one_claim_per_government_and_year(
    kb: KnowledgeBase, pegasus_path: Path, pegasus_rows: list[dict[str, str]]
) -> None:
    before = await kb.snapshot()
    report = await import_dataset(kb, PEGASUS, pegasus_path)
    groups = expected_groups(pegasus_rows, CODES)
    assert (report.records_read, report.records_in_claims) == (129, 129)
    assert report.claims_added == len(groups) == 27
    assert report.not_imported == []
    assert report.firms_matched == ["nso-group"]
    assert report.firms_created == []
    assert "row 12: attributed to 2 governments (Mexico; El Salvador): counted under each" in (
        report.notes
    )
    claims = [c for _, c in await kb.every_claim() if c.provenance is not None]
    for claim in claims:
        assert claim.category is Category.USE
        assert claim.status is Status.REPORTED  # reported targetings, never confirmed
        assert claim.product == "Pegasus"
        assert claim.provenance is not None
        operator = claim.parties[0].entity if len(claim.parties) == 2 else "unattributed"
        counted = groups[(operator, claim.date or "")]
        assert len(claim.provenance.merged) == counted, claim.id
        assert f": {counted} documented target" in claim.text, claim.id
    assert await strict_problems(kb) == []
    assert await kb.integrity_problems() == []
    # Re-import changes nothing; --remove gives back the database as it was.
    imported = await kb.snapshot()
    again = await import_dataset(kb, PEGASUS, pegasus_path)
    assert (again.claims_unchanged, again.changed) == (27, False)
    assert await kb.snapshot() == imported
    removed = await remove_dataset(kb, PEGASUS.info.dataset)
    assert removed.claims_removed == 27
    assert await kb.snapshot() == before
    assert await dataset_statuses(kb) == []


async def test_mexico_counts_by_role_and_result_and_cites_every_source(
    imported: KnowledgeBase, pegasus_rows: list[dict[str, str]]
) -> None:
    (claim,) = await imported.claims_by_id(["pegasus-targets-mx-2016"])
    assert [(p.entity, p.role) for p in claim.parties] == [
        ("MX", Role.SUBJECT),
        ("nso-group", Role.SUPPLIER),
    ]
    assert claim.text == (
        "Reported targeting with NSO Group's Pegasus in 2016, attributed to the government of"
        " Mexico: 15 documented targets (5 staff members, 3 journalists, 3 lawyers, 3"
        " politicians, 1 group); attacks successful against 5, attempted only against 10."
        " Disclosed by Citizen Lab and New York Times; compiled by Granitt."
    )
    rows = [r for r in pegasus_rows if "Mexico" in r["operator"] and "2016" in r["occurred"]]
    links = list(dict.fromkeys(link for r in rows for link in split(r["sources"])))
    assert [s.url for s in claim.sources[:-1]] == links  # as published, in order
    titles = {s.url: s.title for s in claim.sources}
    assert titles["https://citizenlab.ca/2017/02/bittersweet-nso-mexico-spyware/"] == "Citizen Lab"
    attribution = claim.sources[-1]
    assert (attribution.url, attribution.title, attribution.publisher) == (
        "https://github.com/GranittHQ/data-pegasus-victims",
        "Pegasus Victim Database, CC BY-NC-SA 4.0",
        "Granitt",
    )
    assert claim.reported == min(r["disclosed"] for r in rows)
    (unattributed,) = await imported.claims_by_id(["pegasus-targets-unattributed-2020"])
    assert [(p.entity, p.role) for p in unattributed.parties] == [("nso-group", Role.SUPPLIER)]
    assert ", operator not attributed: 38 documented targets" in unattributed.text
    mexico = await imported.entity("MX")
    assert mexico is not None
    assert "pegasus-targets-mx-2016" in {c.id for c in mexico.claims}
    nso = await imported.entity("nso-group")
    assert nso is not None
    assert "pegasus-targets-unattributed-2020" in {c.id for c in nso.claims}  # the firm's card


async def test_no_name_or_affiliation_is_stored(
    imported: KnowledgeBase, pegasus_rows: list[dict[str, str]]
) -> None:
    # Every text the import could have written, but the links, which are shown as published.
    stored = await imported.db.execute_fetchall(
        "SELECT text, provenance_record, provenance_merged FROM claims"
        " WHERE provenance_dataset = 'targets-pegasus'"
        " UNION ALL SELECT s.title, coalesce(s.publisher, ''), coalesce(s.date, '') FROM sources s"
        " JOIN claim_sources cs ON cs.source_id = s.id JOIN claims c ON c.id = cs.claim_id"
        " WHERE c.provenance_dataset = 'targets-pegasus'"
        " UNION ALL SELECT name, source, left_out FROM datasets"
    )
    text = "\n".join(str(cell) for r in stored for cell in r).casefold()
    disclosers = {d for r in pegasus_rows for d in split(r["disclosed_by"])}
    secrets = {r["name"] for r in pegasus_rows} | {r["code_name"] for r in pegasus_rows}
    # An affiliation that is also a discloser (Amnesty International staff) is named as the
    # discloser; every other affiliation ("Son of ...") must not be there.
    secrets |= {r["affiliation"] for r in pegasus_rows} - disclosers
    found = sorted(s for s in secrets if len(s) > 3 and s.casefold() in text)
    assert found == []
    assert sum(1 for r in pegasus_rows if r["affiliation"].startswith("Son of")) >= 1


# -- made-up files -----------------------------------------------------------------------------


async def test_a_small_file_two_governments_years_roles_results_and_odd_cells(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    rows = [
        row(name='Zyxwv "Quoted", Writer', affiliation="Qwerty Paper, with\na new line"),
        row(name="Bo", role="Activist", occurred="2019; 2020", result="Attempted"),
        row(name="Cy", role="", operator="Mexico; El Salvador", result="Attempted; Successful"),
        row(name="Di", role="Diplomat", operator="", result=""),
        row(name="Ed", operator="Atlantis"),
        row(name="Fi", occurred="mid-2019"),
        row(name="Gu\u200bs", role="Lawyer"),  # a hidden character in the name: never read
        row(name="Ha", role="Law\u200byer"),  # ... and in the role, which is read
    ]
    path = write_csv(tmp_path, rows)
    report = await import_dataset(kb, TargetsAdapter("Pegasus"), path)
    reasons = dict(report.not_imported)
    assert len(reasons) == 3  # Gu\u200bs counts: the name is never read
    assert any(
        r.startswith("row 5: operator 'Atlantis' is not the exact name") for r in reasons.values()
    )
    assert "row 6: occurred 'mid-2019' is not a year" in reasons.values()
    assert "role: contains an invisible or direction-changing character" in " ".join(
        reasons.values()
    )
    (mx,) = await kb.claims_by_id(["pegasus-targets-mx-2020"])
    assert mx.text == (
        "Reported targeting with NSO Group's Pegasus in 2020, attributed to the government of"
        " Mexico: 4 documented targets (1 activist, 1 journalist, 1 lawyer, 1 with no role"
        " given);"
        " attacks successful against 3, attempted only against 1. Disclosed by Citizen Lab;"
        " compiled in the imported file."
    )
    (sv,) = await kb.claims_by_id(["pegasus-targets-sv-2020"])  # "Mexico; El Salvador"
    assert ": 1 documented target (1 with no role given); attacks successful against 1." in sv.text
    (bo,) = await kb.claims_by_id(["pegasus-targets-mx-2019"])  # "2019; 2020": both years
    assert "1 documented target (1 activist)" in bo.text
    (di,) = await kb.claims_by_id(["pegasus-targets-unattributed-2020"])
    assert "operator not attributed: 1 documented target (1 listed as diplomat);" in di.text
    assert "no result given for 1" in di.text
    assert di.sources[-1].title == "Documented Pegasus targets (imported file)"
    assert await strict_problems(kb) == []
    everything = json.dumps(await kb.snapshot(), ensure_ascii=False)
    for secret in ("Zyxwv", "Quoted", "Qwerty Paper", "Daily Example", "Gu\u200bs"):
        assert secret not in everything

    # A corrected row is a new row (its hash changes): the claims that count it follow.
    rows[1] = row(name="Bo", role="Activist", occurred="2019", result="Attempted")
    report = await import_dataset(kb, TargetsAdapter("Pegasus"), write_csv(tmp_path, rows))
    # Mexico 2020 loses the row; Mexico 2019 counts it under its new hash.
    assert (report.claims_updated, report.claims_unchanged) == (2, 2)
    (mx,) = await kb.claims_by_id(["pegasus-targets-mx-2020"])
    assert ": 3 documented targets" in mx.text


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("name,role\nA,Journalist\n", "has no column 'occurred', 'disclosed'"),
        (HEADER + '\n"unclosed,Journalist\n', "is not valid CSV"),
        ("", "is empty"),
    ],
    ids=["missing-columns", "broken-quote", "empty"],
)
async def test_a_file_that_is_not_a_target_table_is_refused_whole(
    kb: KnowledgeBase, tmp_path: Path, content: str, expected: str
) -> None:
    before = await kb.snapshot()
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DatasetFileInvalid) as refused:
        await import_dataset(kb, TargetsAdapter("Pegasus"), path)
    assert any(expected in p for p in refused.value.problems), refused.value.problems
    assert await kb.snapshot() == before


async def test_rows_with_the_wrong_number_of_fields_or_repeated_are_left_out(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, [row(), "A,,Journalist", row(), row(name="Other")])
    report = await import_dataset(kb, TargetsAdapter("Pegasus"), path)
    reasons = sorted(reason for _, reason in report.not_imported)
    assert reasons == ["duplicate row: row 3 repeats row 1", "row 2 has 3 fields, the header 19"]
    assert report.records_in_claims == 2


async def test_a_product_no_firm_has_is_refused(kb: KnowledgeBase, tmp_path: Path) -> None:
    before = await kb.snapshot()
    with pytest.raises(DatasetFileInvalid) as refused:
        await import_dataset(kb, TargetsAdapter("Pegasos"), write_csv(tmp_path, [row()]))
    assert refused.value.problems[0].startswith(
        "--product 'Pegasos' is not the exact name or product of one firm here"
    )
    assert await kb.snapshot() == before


async def test_the_candiru_file_is_known_by_its_checksum_and_counted_on_its_own(
    imported: KnowledgeBase,
) -> None:
    path = shared_file("datasets/granitt/data-candiru-victims.csv")
    published = pinned_by_checksum(hashlib.sha256(path.read_bytes()).hexdigest())
    assert published is PINNED["candiru"]
    report = await import_dataset(imported, TargetsAdapter(published.product, published), path)
    assert (report.dataset, report.claims_added, report.firms_matched) == (
        "targets-candiru",
        2,
        ["candiru"],
    )
    (claim,) = await imported.claims_by_id(["candiru-targets-es-2020"])
    assert claim.text.startswith("Reported targeting with Candiru's spyware in 2020")
    assert claim.product is None
    assert len(await dataset_statuses(imported)) == 2  # Pegasus stays
    assert await strict_problems(imported) == []


async def test_cards_show_the_targeting_per_year(imported: KnowledgeBase) -> None:
    lookup = LookupService(imported, SearchIndex.build(await imported.index_rows()))
    answer = await lookup.ask(Kind.COUNTRY, "mexico")
    assert answer.card is not None
    (use,) = [s for s in answer.card.sections if s.title == "Reported use"]
    years = [line.detail for g in use.groups for line in g.lines if "Granitt" in line.text]
    assert years == [
        "Pegasus · 2014",
        "Pegasus · 2015",
        "Pegasus · 2016",
        "Pegasus · 2017",
        "Pegasus · reported 2017-06-19",
        "Pegasus · 2021",
    ]
    assert "Pegasus Victim Database, CC BY-NC-SA 4.0" in {s.title for s in answer.card.sources}


# -- the command line --------------------------------------------------------------------------


def test_cli_import_ask_datasets_reimport_and_remove(
    db_copy: Path, pegasus_path: Path, pegasus_rows: list[dict[str, str]], tmp_path: Path
) -> None:
    first = armsbot("db", "import", "targets", str(pegasus_path), database=db_copy)
    assert first.returncode == 0, first.stderr
    assert "dataset: targets-pegasus (Pegasus Victim Database (Granitt))" in first.stdout
    assert "claims: 27 added, 0 updated, 0 unchanged, 0 removed" in first.stdout
    assert "licence: CC BY-NC-SA 4.0" in first.stdout

    mexico = armsbot("ask", "country", "mexico", database=db_copy)
    assert mexico.returncode == 0, mexico.stderr
    for year, count in (("2015", 9), ("2016", 15), ("2017", 3)):
        assert re.search(
            rf"NSO Group's Pegasus in {year}, attributed to the government of\s+Mexico:"
            rf" {count} documented\s+targets",
            mexico.stdout,
        ), year
    assert "Citizen Lab https://citizenlab.ca/2017/06/reckless-exploit-mexico-nso/" in (
        mexico.stdout
    )
    assert "Pegasus Victim Database, CC BY-NC-SA 4.0 (Granitt)" in mexico.stdout
    shown = re.sub(r"https?://\S+", "", mexico.stdout)
    names = {r["name"] for r in pegasus_rows if "Mexico" in r["operator"]}
    assert sorted(n for n in names if n in shown) == []

    nso = armsbot("ask", "firm", "nso", database=db_copy)
    assert nso.returncode == 0, nso.stderr
    flat = " ".join(nso.stdout.split())
    for year, operator, count in (
        ("2019", "India", 23),
        ("2020", "the United Arab Emirates", 8),
        ("2020", "Bahrain", 4),
    ):
        assert f"in {year}, attributed to the government of {operator}: {count} documented" in flat
    assert "operator not attributed: 38 documented targets (36 journalists, 2 activists)" in flat

    listing = armsbot("db", "datasets", database=db_copy)
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.startswith("targets-pegasus: Pegasus Victim Database (Granitt)\n")
    assert "  records read: 129; claims: 27; firms: 0 created, 1 matched (nso-group)" in (
        listing.stdout
    )
    assert "  left out: 0\n" in listing.stdout
    assert (
        "  attribution: Granitt, Pegasus Victim Database"
        " (https://github.com/GranittHQ/data-pegasus-victims), CC BY-NC-SA 4.0" in listing.stdout
    )
    (entry,) = json.loads(armsbot("db", "datasets", "--json", database=db_copy).stdout)
    assert entry["checksum"] == PINNED["pegasus"].pinned.sha256
    assert (entry["records_read"], entry["claims"], entry["now"]["claims"]) == (129, 27, 27)

    again = armsbot("db", "import", "targets", str(pegasus_path), database=db_copy)
    assert "Nothing changed: the knowledge base already holds this file." in again.stdout
    check = armsbot("db", "check", "--strict", database=db_copy)
    assert check.returncode == 0, check.stdout

    unknown = tmp_path / "mine.csv"
    unknown.write_text(HEADER + "\n" + row() + "\n", encoding="utf-8")
    refused = armsbot("db", "import", "targets", str(unknown), database=db_copy)
    assert refused.returncode == 2
    assert "is not one of Granitt's published target files" in refused.stderr
    assert "--product Pegasus" in refused.stderr

    removed = armsbot("db", "import", "targets", "pegasus", "--remove", database=db_copy)
    assert removed.returncode == 0, removed.stderr
    assert "Removed 27 claims and 0 firms of the targets-pegasus dataset" in removed.stdout
    empty = armsbot("db", "datasets", database=db_copy)
    assert empty.stdout.startswith("No dataset is imported.")
