"""The import core knows no format: a made-up "pipe" format, read by a tiny adapter written here,
goes through the whole of it (plan, apply, report, re-import, a newer file, --remove)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from armsbot.changes import AddAlias, Submission
from armsbot.imports.core import (
    AdapterPlan,
    ClaimDraft,
    DatasetFileInvalid,
    DatasetInfo,
    EntityRef,
    NewFirm,
    NewFirmRef,
    Plan,
    PlanContext,
    import_dataset,
    plan_import,
    remove_dataset,
    slug,
)
from armsbot.imports.status import dataset_statuses
from armsbot.models import Category, Claim, Kind, Role, Source, Status
from armsbot.search.index import Resolution, SearchIndex
from armsbot.services.corrections import CorrectionService, Outcome
from armsbot.services.quality import strict_problems
from armsbot.storage import KnowledgeBase

# Groups the made-up format's sellers belong to (a firm's ``parent``).
GROUPS = {"Acme Optics Kenya": "Acme Optics"}


@dataclass(frozen=True)
class PipeRecord:
    """One line of the pipe format: ``id | seller | buyer | year | source [| remark]``."""

    line: int
    id: str
    seller: str
    buyer: str
    year: str
    source: str
    remark: str = ""


class PipeAdapter:
    """The smallest adapter: reads lines, maps each to one transfer; no database, no SQL."""

    info = DatasetInfo(
        dataset="pipes",
        name="Pipe sightings (made up for the tests)",
        format="pipe",
        licence="CC0 (made up)",
        attribution="the armsbot tests",
        claim_prefix="pipe-",
    )

    def read(self, raw: bytes, path: Path) -> list[PipeRecord]:
        records = []
        for number, line in enumerate(raw.decode().splitlines(), start=1):
            if not line.strip() or line.startswith("#"):
                continue
            cells = [cell.strip() for cell in line.split("|")]
            if len(cells) not in (5, 6):
                raise DatasetFileInvalid([f"{path.name}: line {number}: has {len(cells)} fields"])
            records.append(PipeRecord(number, *cells))
        return records

    def record_id(self, record: PipeRecord) -> str:
        return record.id

    def fields(self, record: PipeRecord) -> Iterable[tuple[str, object]]:
        return [("seller", record.seller), ("buyer", record.buyer), ("remark", record.remark)]

    def plan(self, records: Sequence[PipeRecord], context: PlanContext) -> AdapterPlan:
        out = AdapterPlan()
        new: dict[str, NewFirm] = {}
        for record in records:
            buyer, problem = context.country(record.buyer)
            if buyer is None:
                out.not_imported.append((record.id, f"buyer {problem}"))
                continue
            seller: EntityRef
            found, _ = context.firm(record.seller)
            if found is not None:
                seller = found
            else:
                key = slug(record.seller)
                new.setdefault(
                    key,
                    NewFirm(
                        key=key,
                        name=record.seller,
                        summary="A seller in the pipe file.",
                        parent=GROUPS.get(record.seller),
                    ),
                )
                seller = NewFirmRef(key)
            remark = f" ({record.remark})" if record.remark else ""
            out.drafts.append(
                ClaimDraft(
                    record=record.id,
                    home=seller,
                    parties=[(seller, Role.SUPPLIER), (buyer, Role.RECIPIENT)],
                    text=f"{record.seller} sold optics to {context.name(buyer)} in"
                    f" {record.year}{remark}, according to a pipe file.",
                    status=Status.REPORTED,
                    category=Category.TRANSFER,
                    sources=[Source(url=record.source, title="Pipe file", publisher="Tests")],
                    date=record.year,
                    goods=["Optics"],
                )
            )
        out.firms = list(new.values())
        return out

    def already_on_record(
        self, claims: Mapping[str, Claim], hand_written: Sequence[Claim]
    ) -> dict[str, Claim]:
        """The same supplier, recipient and year as a hand-written transfer."""

        def ends(claim: Claim) -> tuple[frozenset[tuple[str, Role]], str | None]:
            parties = frozenset(
                (p.entity, p.role)
                for p in claim.parties
                if p.role in (Role.SUPPLIER, Role.RECIPIENT)
            )
            return parties, claim.date

        written = {ends(c): c for c in hand_written if c.category is Category.TRANSFER}
        return {r: written[ends(c)] for r, c in claims.items() if ends(c) in written}


ADAPTER = PipeAdapter()

LINES = [
    "# id | seller | buyer | year | source | remark",
    "a1 | Acme Optics | Uganda | 2015 | https://example.org/a1",
    "a2 | Acme Optics Kenya | Kenya | 2016 | https://example.org/a2",
    "a3 | Acme Optics | Uganda | 2015 | https://example.org/a3",  # says what a1 says
    "a4 | Acme Optics | Uganda | 2015 | https://example.org/a4 | a second contract",
    "a5 | Hacking Team | Sudan | 2012 | https://example.org/a5",  # written by hand already
    "a6 | NSO Group | Atlantis | 2019 | https://example.org/a6",
    "a7 | Lens\u200bWorks | Kenya | 2017 | https://example.org/a7",  # a hidden character
    "a1 | Somebody Else | Kenya | 2018 | https://example.org/dup",
    "a8 | NSO Group | UAE | 2019 | https://example.org/a8",
]


def pipe_file(tmp_path: Path, lines: list[str], name: str = "sightings.pipe") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def plan_of_lines(index: SearchIndex) -> Plan:
    """The plan of :data:`LINES` over ``index``, on a knowledge base with no ids taken."""
    records = ADAPTER.read("\n".join(LINES).encode(), Path("sightings.pipe"))
    return plan_import(
        ADAPTER,
        records,
        checksum="0" * 64,
        index=index,
        firm_headquarters={},
        taken_entity_ids=set(),
        taken_claim_ids=set(),
    )


def test_the_plan_collapses_marks_leaves_out_and_creates_firms_with_their_group(
    index: SearchIndex,
) -> None:
    plan = plan_of_lines(index)
    assert set(plan.claims) == {"a1", "a2", "a4", "a5", "a8"}
    assert plan.merged == [("a3", "a1")]
    home, a1 = plan.claims["a1"]
    assert home == "acme-optics"
    assert a1.provenance is not None
    assert (a1.provenance.dataset, a1.provenance.record, a1.provenance.merged) == (
        "pipes",
        "a1",
        ["a3"],
    )
    assert [s.url for s in a1.sources] == ["https://example.org/a1", "https://example.org/a3"]
    assert plan.claims["a4"][1].distinct_from == ["pipe-a1"]  # same event, different record
    assert plan.claims["a8"][1].parties[1].entity == "AE"  # "UAE", through the shared resolver
    assert plan.firms["acme-optics-kenya"].attributes == {"parent": "acme-optics"}
    assert plan.matched == {"hacking-team", "nso-group"}
    reasons = dict(plan.not_imported)
    assert reasons["a6"].startswith("buyer 'Atlantis' is not the exact name of one country")
    assert reasons["a7"] == (
        "seller: contains an invisible or direction-changing character (U+200B ZERO WIDTH SPACE)"
    )
    assert reasons["a1"] == "duplicate id: record 8 repeats record 1"
    assert plan.records_in_claims() == 5


def test_planning_resolves_each_name_once_and_guesses_only_to_say_why_not(
    index: SearchIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[str, Kind | None, bool]] = []
    resolve = index.resolve

    def counted(
        query: str, kind: Kind | None = None, limit: int = 10, *, typos: bool = True
    ) -> Resolution:
        asked.append((query, kind, typos))
        return resolve(query, kind, limit, typos=typos)

    monkeypatch.setattr(index, "resolve", counted)
    plan = plan_of_lines(index)
    assert plan.matched == {"hacking-team", "nso-group"}
    assert plan.claims["a8"][1].parties[1].entity == "AE"
    firms = [query for query, kind, _ in asked if kind is Kind.FIRM]
    assert sorted(firms) == ["Acme Optics", "Acme Optics Kenya", "Hacking Team", "NSO Group"]
    # Typo guesses never decide an exact name: they are looked for only to say why one failed.
    assert [(query, kind) for query, kind, typos in asked if typos] == [("Atlantis", Kind.COUNTRY)]


async def test_apply_reimport_newer_file_and_remove_through_the_core(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    before = await kb.snapshot()
    path = pipe_file(tmp_path, LINES)
    report = await import_dataset(kb, ADAPTER, path)
    assert (report.records_read, report.claims_added) == (9, 4)
    assert report.not_imported[-1] == (
        "a5",
        "already on record by hand as hacking-team-sudan-invoice-2012",
    )
    assert report.records_in_claims + len(report.records_merged) + len(report.not_imported) == 9
    as_json = report.to_dict()
    assert as_json["records_merged"] == [{"record": "a3", "into": "a1"}]
    assert {"record": "a1", "reason": "duplicate id: record 8 repeats record 1"} in (
        as_json["not_imported"]
    )
    assert report.firms_created == ["acme-optics", "acme-optics-kenya"]
    assert report.firms_matched == ["nso-group"]
    assert "parent: Acme Optics Kenya (acme-optics-kenya) belongs to acme-optics" in report.notes
    assert await strict_problems(kb) == []
    (status,) = await dataset_statuses(kb)
    assert (status.last_import.dataset, status.last_import.claims, status.firms) == ("pipes", 4, 3)
    assert status.last_import.left_out == report.not_imported
    assert status.last_import.licence == "CC0 (made up)"

    imported = await kb.snapshot()
    again = await import_dataset(kb, ADAPTER, path)
    assert (again.claims_added, again.claims_updated, again.claims_unchanged) == (0, 0, 4)
    assert not again.changed
    assert await kb.snapshot() == imported
    assert await dataset_statuses(kb) == [status]  # not even the date moves

    newer = [line for line in LINES if not line.startswith("a2 ")]  # Acme Optics Kenya goes
    newer = [
        line.replace("2019 | https://example.org/a8", "2020 | https://example.org/a8")
        for line in newer
    ]
    newer.append("a9 | Acme Optics | Kenya | 2021 | https://example.org/a9")
    changed = await import_dataset(kb, ADAPTER, pipe_file(tmp_path, newer, "newer.pipe"))
    assert (changed.claims_added, changed.claims_updated, changed.claims_unchanged) == (1, 1, 2)
    assert changed.claims_removed == ["a2"]
    assert changed.firms_removed == ["acme-optics-kenya"]
    (a8,) = await kb.claims_by_id(["pipe-a8"])
    assert a8.date == "2020"
    assert await strict_problems(kb) == []

    removed = await remove_dataset(kb, "pipes")
    assert (removed.claims_removed, removed.firms_removed) == (4, ["acme-optics"])
    assert await kb.snapshot() == before
    assert await dataset_statuses(kb) == []


async def test_a_firm_a_correction_adopted_is_kept_by_remove(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    # The service searches with the index it had before the import, as a bot does until it
    # reloads; the approval brings the firm's entry up to date.
    service = CorrectionService(kb, SearchIndex.build(await kb.index_rows()))
    await import_dataset(kb, ADAPTER, pipe_file(tmp_path, LINES))
    correction = await service.submit(
        Submission(
            entity_id="acme-optics",
            change=AddAlias(name="Acme"),
            what_is_wrong="Its short name is missing.",
            source_url="https://example.org/acme",
        ),
        "discord:1",
    )
    assert (await service.approve(correction.id, "discord:2")).outcome is Outcome.APPLIED
    removed = await remove_dataset(kb, "pipes")
    assert [firm for firm, _ in removed.firms_kept] == ["acme-optics"]
    kept = await kb.entity("acme-optics")
    assert kept is not None
    assert kept.claims == []
    assert await kb.integrity_problems() == []


async def test_a_file_the_adapter_refuses_changes_nothing(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    before = await kb.snapshot()
    with pytest.raises(DatasetFileInvalid) as refused:
        await import_dataset(kb, ADAPTER, pipe_file(tmp_path, ["b1 | only | three"]))
    assert refused.value.problems == ["sightings.pipe: line 1: has 3 fields"]
    assert await kb.snapshot() == before
    assert await dataset_statuses(kb) == []
