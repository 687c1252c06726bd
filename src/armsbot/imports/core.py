"""The import core: any dataset's records planned into claims and firms, applied, reported, removed.

An :class:`Adapter` knows one file format and nothing of the database: it reads the file into
records and maps them to :class:`ClaimDraft` s and the :class:`NewFirm` s they need, resolving
names through the :class:`PlanContext` it is given (exact names only; countries through the one
shared resolver). Everything else is done here, the same way for every dataset:

- the file is read and validated whole before the database is touched; records with a hidden
  character or a repeated id are reported as not imported;
- firms to create get stable ids and their group as ``parent``; claims get stable ids and
  provenance (dataset, the file's sha256, the record, and the other records it stands for);
- records that say word for word what another says make one claim citing them all
  (``provenance.merged``); records of one event that differ are kept, marked ``distinct_from``;
- a record of what a hand-written claim already says (the adapter knows what "the same" is for its
  records) is left out and reported; one that only looks like a hand-written claim says so in
  ``distinct_from``, so ``db check --strict`` stays clean;
- an import is one transaction: it adds new records, rewrites changed ones, removes records the
  file no longer has and the firms only they needed, leaves hand-written claims alone, keeps what
  a correction now uses, and records what it did (``db datasets``). Importing the same file again
  changes nothing; ``--remove`` takes out everything the dataset brought, but what a correction
  or a hand-written claim now uses.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError

from armsbot.hidden_text import escape_hidden, hidden_character, hidden_reason
from armsbot.imports.countries import CountryResolver
from armsbot.models import Category, Claim, Kind, Party, Provenance, Role, Source, Status
from armsbot.search.index import Match, MatchTier, SearchIndex
from armsbot.services.quality import particulars
from armsbot.storage import KnowledgeBase
from armsbot.storage.datasets import DatasetEntity, DatasetImport, DatasetStore, StoredClaim

MAX_PROBLEMS_SHOWN = 20

R = TypeVar("R")


class DatasetFileInvalid(Exception):
    """A file that cannot be imported at all; ``problems`` say where and why."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True, slots=True)
class DatasetInfo:
    """What a dataset is called, whose it is and on which terms, and what its records are called."""

    dataset: str  # the slug in provenance and entities.dataset: "sii", "targets-pegasus"
    name: str  # for readers: "Surveillance Industry Index (Privacy International)"
    format: str  # the adapter: "sii", "targets"
    licence: str
    attribution: str
    claim_prefix: str  # claim ids are this and the record's slug: "sii-nice-systems-uganda-2015"
    id_field: str = "id"  # what the file calls a record's identity ("unique_id")
    record_word: str = "record"  # what the file calls one record ("row")


@dataclass(frozen=True, slots=True)
class NewFirmRef:
    """A firm the import will create, by the adapter's key for it (its id is decided later)."""

    key: str


EntityRef = str | NewFirmRef


@dataclass(slots=True)
class NewFirm:
    """A firm a dataset names that the knowledge base does not have, to be created for it."""

    key: str  # a slug; the firm's id unless another entity has it
    name: str
    summary: str
    aliases: tuple[str, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)
    parent: str | None = None  # the exact name of the firm's group, created or existing


@dataclass(slots=True)
class ClaimDraft:
    """A claim as an adapter makes it of its records, before ids are given."""

    record: str  # the record (or, for an aggregate, the group) the claim is found again by
    home: EntityRef
    parties: list[tuple[EntityRef, Role]]
    text: str
    status: Status
    category: Category
    sources: list[Source]
    date: str | None = None
    date_text: str | None = None
    reported: str | None = None
    product: str | None = None
    end_user: str | None = None
    goods: list[str] = field(default_factory=list)
    # The records an aggregate claim counts (rows of a table, by hash); empty when the claim is
    # one record's. Kept in provenance.merged, so re-import and --remove find each of them.
    counts: list[str] = field(default_factory=list)


@dataclass(slots=True)
class AdapterPlan:
    """What an adapter made of the records: claims, firms to create, records left out, notes."""

    drafts: list[ClaimDraft] = field(default_factory=list)
    firms: list[NewFirm] = field(default_factory=list)
    not_imported: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class PlanContext:
    """What an adapter may ask of the knowledge base while it plans: exact names only."""

    def __init__(self, index: SearchIndex, firm_headquarters: Mapping[str, str | None]) -> None:
        self.index = index
        self._headquarters = firm_headquarters
        self.country = CountryResolver(index)
        self._firms: dict[str, tuple[str | None, list[Match]]] = {}

    def firm(self, name: str) -> tuple[str | None, list[Match]]:
        """The firm ``name`` is an exact name or alias of, and every firm it names exactly."""
        found = self._firms.get(name)
        if found is None:
            # Without typo guesses: they never make or stop an exact choice, and most names a
            # dataset repeats are new firms, each of which would be matched against every name.
            resolution = self.index.resolve(name, Kind.FIRM, typos=False)
            chosen = resolution.chosen
            exact = [m for m in resolution.candidates if m.tier is MatchTier.EXACT]
            firm_id = chosen.id if chosen is not None and chosen.tier is MatchTier.EXACT else None
            found = self._firms[name] = (firm_id, exact)
        return found[0], list(found[1])

    def headquarters(self, firm_id: str) -> str | None:
        """Where an existing firm is based, when known."""
        return self._headquarters.get(firm_id)

    def name(self, entity_id: str) -> str:
        """An entity's display name (its id when unknown)."""
        return self.index.entity_name(entity_id) or entity_id


class Adapter(Protocol[R]):
    """One file format: reads records and maps them to claims; knows nothing of the database."""

    @property
    def info(self) -> DatasetInfo:
        """The dataset this adapter imports."""
        ...

    def read(self, raw: bytes, path: Path) -> list[R]:
        """The file's records; raise :class:`DatasetFileInvalid` when it cannot be read at all."""
        ...

    def record_id(self, record: R) -> str:
        """The record's identity in the file (unique in a sound file)."""
        ...

    def fields(self, record: R) -> Iterable[tuple[str, object]]:
        """The fields the import reads, by name, for the hidden-character check."""
        ...

    def plan(self, records: Sequence[R], context: PlanContext) -> AdapterPlan:
        """The claims and firms the records make, and the records left out with the reason."""
        ...

    def already_on_record(
        self, claims: Mapping[str, Claim], hand_written: Sequence[Claim]
    ) -> dict[str, Claim]:
        """For planned claims (by record) that a hand-written claim already states, that claim."""
        ...


# -- the report --------------------------------------------------------------------------------


@dataclass(slots=True)
class ImportReport:
    """What one import did. Every record read is in a claim, said twice, or not imported:
    ``records_in_claims`` + ``len(records_merged)`` + ``len(not_imported)`` = ``records_read``
    (a record an aggregate counts twice, under two governments, is one record in claims)."""

    path: str
    checksum: str
    records_read: int
    claims_added: int = 0
    claims_updated: int = 0
    claims_unchanged: int = 0
    # Unchanged claims whose provenance now names this file (imported before from another one).
    claims_restamped: int = 0
    # Records of an earlier import that this file no longer has; their claims were removed.
    claims_removed: list[str] = field(default_factory=list)
    firms_created: list[str] = field(default_factory=list)
    firms_updated: list[str] = field(default_factory=list)
    firms_unchanged: list[str] = field(default_factory=list)
    firms_matched: list[str] = field(default_factory=list)
    firms_removed: list[str] = field(default_factory=list)
    firms_kept: list[tuple[str, str]] = field(default_factory=list)
    not_imported: list[tuple[str, str]] = field(default_factory=list)
    # Records that say word for word what another says, cited by that record's claim.
    records_merged: list[tuple[str, str]] = field(default_factory=list)
    records_in_claims: int = 0
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    dataset: str = ""
    name: str = ""
    licence: str = ""
    attribution: str = ""

    @property
    def changed(self) -> bool:
        """Whether the import changed the knowledge base at all."""
        return bool(
            self.claims_added
            or self.claims_updated
            or self.claims_removed
            or self.firms_created
            or self.firms_updated
            or self.firms_removed
        )

    @property
    def claims(self) -> int:
        """How many claims the dataset has in the knowledge base after the import."""
        return self.claims_added + self.claims_updated + self.claims_unchanged

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        out = asdict(self)
        out["not_imported"] = [{"record": u, "reason": r} for u, r in self.not_imported]
        out["records_merged"] = [{"record": u, "into": i} for u, i in self.records_merged]
        out["firms_kept"] = [{"id": i, "reason": r} for i, r in self.firms_kept]
        out["seconds"] = round(self.seconds, 2)
        return out


@dataclass(slots=True)
class RemoveReport:
    """What removing a dataset did."""

    dataset: str
    claims_removed: int = 0
    firms_removed: list[str] = field(default_factory=list)
    firms_kept: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        out = asdict(self)
        out["firms_kept"] = [{"id": i, "reason": r} for i, r in self.firms_kept]
        return out


# -- planning ----------------------------------------------------------------------------------


def slug(text: str) -> str:
    """Lower-case ASCII words joined by hyphens: the form of firm and claim ids."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


@dataclass(slots=True)
class Plan:
    """What the database should hold for the dataset after the import."""

    claims: dict[str, tuple[str, Claim]] = field(default_factory=dict)  # record -> (home, claim)
    firms: dict[str, DatasetEntity] = field(default_factory=dict)
    matched: set[str] = field(default_factory=set)
    not_imported: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    merged: list[tuple[str, str]] = field(default_factory=list)  # (record, into record)

    def records_in_claims(self) -> int:
        """How many records of the file the planned claims stand for (repeats apart)."""
        records: set[str] = set()
        merged = {record for record, _ in self.merged}
        for record, (_, claim) in self.claims.items():
            assert claim.provenance is not None
            counted = set(claim.provenance.merged) - merged
            records |= counted or {record}
        return len(records)


def _hidden_field(fields: Iterable[tuple[str, object]]) -> str | None:
    """The field that holds a character the knowledge base refuses, and why."""
    for name, value in fields:
        texts = value if isinstance(value, list | tuple) else [value]
        for text in texts:
            found = hidden_character(text) if isinstance(text, str) else None
            if found is not None:
                return f"{name}: {hidden_reason(found)}"
    return None


def _sound_records(adapter: Adapter[R], records: Sequence[R], plan: Plan) -> list[R]:
    """The records the adapter may map: those with a hidden character or a repeated id go."""
    info = adapter.info
    first_seen: dict[str, int] = {}
    sound: list[R] = []
    for number, record in enumerate(records, start=1):
        record_id = adapter.record_id(record)
        hidden = _hidden_field(adapter.fields(record))
        if hidden is not None:
            # Shown escaped: the report must print, whatever the record holds.
            plan.not_imported.append((escape_hidden(record_id), hidden))
            continue
        if record_id in first_seen:
            word = info.record_word
            plan.not_imported.append(
                (
                    record_id,
                    f"duplicate {info.id_field}: {word} {number} repeats {word}"
                    f" {first_seen[record_id]}",
                )
            )
            continue
        first_seen[record_id] = number
        sound.append(record)
    return sound


def _firm_ids(
    info: DatasetInfo,
    firms: Sequence[NewFirm],
    taken: set[str],
    context: PlanContext,
    plan: Plan,
) -> dict[str, str]:
    """Give each firm to create its id and its parent; return firm key -> entity id."""
    ids: dict[str, str] = {}
    for firm in sorted(firms, key=lambda f: f.key):
        entity_id = firm.key[:70]
        suffix = 1
        while entity_id in taken:
            suffix += 1
            entity_id = f"{firm.key[:60]}-{info.dataset[:16]}" + (
                "" if suffix == 2 else f"-{suffix - 1}"
            )
        taken.add(entity_id)
        ids[firm.key] = entity_id
        plan.firms[entity_id] = DatasetEntity(
            id=entity_id,
            kind=Kind.FIRM,
            name=firm.name,
            summary=firm.summary,
            attributes=dict(firm.attributes),
            aliases=tuple(sorted(set(firm.aliases) - {firm.name})),
        )
    created = {plan.firms[ids[f.key]].name: ids[f.key] for f in firms}
    for firm in sorted(firms, key=lambda f: ids[f.key]):
        if firm.parent is None:
            continue
        firm_id = ids[firm.key]
        parent = created.get(firm.parent) or context.firm(firm.parent)[0]
        if parent is None or parent == firm_id:
            plan.notes.append(
                f"{firm.name} belongs to {firm.parent}, which is not a firm here: no parent set"
            )
            continue
        plan.firms[firm_id].attributes["parent"] = parent
        plan.notes.append(f"parent: {firm.name} ({firm_id}) belongs to {parent}")
    return ids


def _claim_ids(info: DatasetInfo, records: Iterable[str], taken: set[str]) -> dict[str, str]:
    """A stable, unique claim id for each record (or group)."""
    by_base: dict[str, list[str]] = defaultdict(list)
    for record in sorted(set(records)):
        base = info.claim_prefix + (slug(record)[:64].strip("-") or "record")
        by_base[base].append(record)
    ids: dict[str, str] = {}
    for base, records_here in by_base.items():
        for position, record in enumerate(records_here):
            if position == 0 and base not in taken:
                ids[record] = base
            else:
                # Two records (or a hand-written claim) share the slug: the record's own hash
                # keeps the id stable whatever else the file holds.
                ids[record] = f"{base}-{hashlib.sha256(record.encode()).hexdigest()[:8]}"
    return ids


def _claim(
    info: DatasetInfo, draft: ClaimDraft, claim_id: str, firm_ids: dict[str, str], checksum: str
) -> tuple[str, Claim]:
    """The draft as a claim, with the entity it is filed under; raises ValidationError."""

    def entity(ref: EntityRef) -> str:
        return firm_ids[ref.key] if isinstance(ref, NewFirmRef) else ref

    parties: list[Party] = []
    for ref, role in draft.parties:
        party = Party(entity=entity(ref), role=role)
        if party not in parties:
            parties.append(party)
    claim = Claim(
        id=claim_id,
        text=draft.text,
        status=draft.status,
        category=draft.category,
        date=draft.date,
        date_text=draft.date_text,
        reported=draft.reported,
        parties=parties,
        product=draft.product,
        end_user=draft.end_user,
        goods=draft.goods,
        sources=draft.sources,
        provenance=Provenance(
            dataset=info.dataset, checksum=checksum, record=draft.record, merged=draft.counts
        ),
    )
    return entity(draft.home), claim


def plan_import(
    adapter: Adapter[R],
    records: Sequence[R],
    *,
    checksum: str,
    index: SearchIndex,
    firm_headquarters: Mapping[str, str | None],
    taken_entity_ids: set[str],
    taken_claim_ids: set[str],
    hand_written: Sequence[Claim] = (),
) -> Plan:
    """What the database should hold for the records: claims, firms to create, records left out.

    ``hand_written``: the knowledge base's own claims; a record of what one of them says is left
    out (and reported) rather than shown twice.
    """
    info = adapter.info
    plan = Plan()
    context = PlanContext(index, firm_headquarters)
    mapped = adapter.plan(_sound_records(adapter, records, plan), context)
    plan.not_imported += mapped.not_imported
    plan.notes += mapped.notes
    firm_ids = _firm_ids(info, mapped.firms, set(taken_entity_ids), context, plan)
    claim_ids = _claim_ids(info, (d.record for d in mapped.drafts), taken_claim_ids)
    for draft in mapped.drafts:
        if draft.record in plan.claims:
            msg = f"the {info.format} adapter made two claims of {draft.record!r}"
            raise ValueError(msg)
        try:
            home, claim = _claim(info, draft, claim_ids[draft.record], firm_ids, checksum)
        except ValidationError as exc:
            reasons = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'claim'}: {e['msg']}" for e in exc.errors()
            )
            plan.not_imported.append((draft.record, f"does not make a valid claim ({reasons})"))
            continue
        plan.claims[draft.record] = (home, claim)
    _collapse_identical(plan)
    _leave_out_hand_written(adapter, plan, hand_written)
    used = {p.entity for _, claim in plan.claims.values() for p in claim.parties}
    # A firm whose only record could not be imported is not created.
    plan.firms = {i: f for i, f in plan.firms.items() if i in used}
    plan.matched = {i for i in used if index.entity_kind(i) is Kind.FIRM} - set(plan.firms)
    return plan


def _content(home: str, claim: Claim) -> tuple[Any, ...]:
    """What a reader sees of a claim, apart from its sources."""
    return (
        home,
        claim.text,
        claim.status,
        claim.category,
        claim.date,
        claim.date_text,
        claim.reported,
        claim.product,
        claim.end_user,
        tuple(claim.goods),
        tuple(claim.parties),
    )


def _collapse_identical(plan: Plan) -> None:
    """Records that say word for word what an earlier one says: one claim that cites them all."""
    first_of: dict[tuple[Any, ...], str] = {}
    merged: dict[str, list[str]] = defaultdict(list)
    for record, (home, claim) in list(plan.claims.items()):
        first = first_of.setdefault(_content(home, claim), record)
        if first == record:
            continue
        del plan.claims[record]
        merged[first].append(record)
        first_home, first_claim = plan.claims[first]
        sources = list(first_claim.sources)
        sources += [s for s in claim.sources if s not in sources]
        assert first_claim.provenance is not None
        provenance = first_claim.provenance.model_copy(
            update={"merged": [*first_claim.provenance.merged, record]}
        )
        plan.claims[first] = (
            first_home,
            first_claim.model_copy(update={"sources": sources, "provenance": provenance}),
        )
    for first, others in merged.items():
        plan.merged += [(record, first) for record in others]
        plan.notes.append(
            f"{first}: {len(others)} other record(s) say the same ({', '.join(others)}):"
            " one claim cites them all"
        )
    _mark_distinct(plan)


def _mark_distinct(plan: Plan) -> None:
    """Records of one event that say different things (two licences of a year, one delivered and
    one not) stay two claims, each saying it is distinct from the first: the dataset lists them
    as separate records, and db check --strict then knows they are not a duplicate."""
    first_of: dict[tuple[object, ...], tuple[str, Claim]] = {}
    for record, (home, claim) in list(plan.claims.items()):
        key = particulars(claim)
        if key is None:
            continue
        first = first_of.setdefault(key, (record, claim))
        if first[0] == record:
            continue
        plan.claims[record] = (home, claim.model_copy(update={"distinct_from": [first[1].id]}))
        plan.notes.append(
            f"{record}: the same event as {first[0]} but the records differ (delivery, sources):"
            " kept as two claims"
        )


def _leave_out_hand_written(adapter: Adapter[R], plan: Plan, hand_written: Sequence[Claim]) -> None:
    """Leave out records of what a hand-written claim says; mark those that only look alike.

    What "the same" is depends on the records (the adapter says); the hand-written claim stands
    (a person wrote and checked it), and the record is reported as not imported, with the claim
    that has it. A planned claim with the same particulars as a hand-written one that is not the
    same (an aggregate count beside one report) says so in ``distinct_from``.
    """
    written = [c for c in hand_written if c.provenance is None]
    claims = {record: claim for record, (_, claim) in plan.claims.items()}
    for record, other in adapter.already_on_record(claims, written).items():
        del plan.claims[record]
        plan.not_imported.append((record, f"already on record by hand as {other.id}"))
    by_particulars: dict[tuple[object, ...], str] = {}
    for claim in written:
        key = particulars(claim)
        if key is not None:
            by_particulars.setdefault(key, claim.id)
    for record, (home, claim) in list(plan.claims.items()):
        key = particulars(claim)
        other_id = by_particulars.get(key) if key is not None else None
        if other_id is None or other_id in claim.distinct_from:
            continue
        update = {"distinct_from": [*claim.distinct_from, other_id]}
        plan.claims[record] = (home, claim.model_copy(update=update))
        plan.notes.append(f"{record}: looks like hand-written {other_id} but is not it: kept")


# -- applying ----------------------------------------------------------------------------------


def _claim_key(home: str, claim: Claim) -> tuple[Any, ...]:
    provenance = claim.provenance
    return (
        home,
        claim.id,
        claim.text,
        claim.status.value,
        claim.category.value,
        claim.date,
        claim.date_text,
        claim.reported,
        claim.product,
        claim.end_user,
        tuple(claim.goods),
        # Not the checksum: a record that a newer file repeats word for word is unchanged.
        (provenance.dataset, provenance.record, tuple(provenance.merged)) if provenance else None,
        tuple((p.entity, p.role.value) for p in claim.parties),
        tuple(s.key() for s in claim.sources),
        tuple(claim.distinct_from),
    )


def _entity_key(entity: DatasetEntity) -> tuple[Any, ...]:
    attributes = json.dumps(entity.attributes, sort_keys=True)
    return (entity.kind, entity.name, entity.summary, attributes, tuple(entity.aliases))


def read_file(adapter: Adapter[R], path: Path) -> tuple[str, list[R]]:
    """The file's sha256 and its records; raises :class:`DatasetFileInvalid`."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetFileInvalid([f"{path}: cannot be read ({exc.strerror or exc})"]) from None
    return hashlib.sha256(raw).hexdigest(), adapter.read(raw, path)


async def import_dataset(
    kb: KnowledgeBase,
    adapter: Adapter[R],
    path: Path,
    *,
    source: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import (or re-import) a dataset's file in one transaction; report what changed.

    ``source``: where the file came from, when it was downloaded (its URL); the path otherwise.
    """
    started = time.perf_counter()
    info = adapter.info
    checksum, records = await asyncio.to_thread(read_file, adapter, path)
    report = ImportReport(
        source or str(path),
        checksum,
        len(records),
        dataset=info.dataset,
        name=info.name,
        licence=info.licence,
        attribution=info.attribution,
    )
    store = DatasetStore(kb)
    async with kb.transaction():
        own = await store.entities(info.dataset)
        # Firms this dataset created are found again by id, not by name: matching them would count
        # them as "matched" and would let an earlier import decide what this one means.
        own_free = {i for i, e in own.items() if not e.curated}
        rows = [r for r in await kb.index_rows() if r.id not in own_free]
        index = SearchIndex.build(rows)
        attributes = await kb.entity_attributes(r.id for r in rows if r.kind is Kind.FIRM)
        plan = plan_import(
            adapter,
            records,
            checksum=checksum,
            index=index,
            firm_headquarters={i: a.get("headquarters") for i, a in attributes.items()},
            taken_entity_ids=(await store.entity_ids()) - own_free,
            taken_claim_ids=await store.claim_ids_outside(info.dataset),
            hand_written=await kb.hand_written_claims(),
        )
        await _apply(
            store,
            plan,
            info=info,
            existing=await store.claims(info.dataset),
            own=own,
            positions=await store.next_positions(),
            report=report,
            progress=progress,
            total=len(records),
        )
        await store.record_import(_summary(report, source or str(path)))
        if report.changed:
            await kb.bump_generation()  # a running bot reloads its index
    report.seconds = time.perf_counter() - started
    return report


def _summary(report: ImportReport, source: str) -> DatasetImport:
    """What ``db datasets`` keeps of an import."""
    return DatasetImport(
        dataset=report.dataset,
        name=report.name,
        licence=report.licence,
        attribution=report.attribution,
        source=source,
        checksum=report.checksum,
        imported_at=datetime.now(UTC).isoformat(timespec="seconds"),
        records_read=report.records_read,
        claims=report.claims,
        records_merged=len(report.records_merged),
        firms_created=sorted(
            [*report.firms_created, *report.firms_updated, *report.firms_unchanged]
        ),
        firms_matched=list(report.firms_matched),
        left_out=list(report.not_imported),
    )


def _unchanged(plan: Plan, existing: dict[str, StoredClaim]) -> set[str]:
    """The records whose stored claim already says what the plan says."""
    unchanged = {
        record
        for record, (home, claim) in plan.claims.items()
        if record in existing
        and _claim_key(existing[record].home, existing[record].claim) == _claim_key(home, claim)
    }
    # A claim id may move from one record to another (two records whose ids slugify alike): the
    # record that held it is rewritten too, so the id is free when it is inserted again.
    wanted_ids = {claim.id: record for record, (_, claim) in plan.claims.items()}
    for record in sorted(unchanged):
        holder = wanted_ids.get(existing[record].claim.id)
        if holder is not None and holder != record:
            unchanged.discard(record)
    return unchanged


async def _apply(
    store: DatasetStore,
    plan: Plan,
    *,
    info: DatasetInfo,
    existing: dict[str, StoredClaim],
    own: dict[str, DatasetEntity],
    positions: dict[str, int],
    report: ImportReport,
    progress: Callable[[int, int], None] | None,
    total: int,
) -> None:
    """Bring the stored dataset to ``plan`` (inside the caller's transaction), counting changes."""
    unchanged = _unchanged(plan, existing)
    rewritten = [r for r in plan.claims if r in existing and r not in unchanged]
    report.claims_removed = sorted(r for r in existing if r not in plan.claims)
    await store.delete_claims([existing[r].claim.id for r in [*report.claims_removed, *rewritten]])
    # Unchanged claims follow the file now imported, so every claim names the same file.
    restamped = [
        existing[r].claim.id
        for r in sorted(unchanged)
        if getattr(existing[r].claim.provenance, "checksum", None) != report.checksum
    ]
    await store.set_checksum(restamped, info.dataset, report.checksum)
    report.claims_restamped = len(restamped)
    await _write_firms(store, plan, own, report, info.dataset)
    for done, (record, (home, claim)) in enumerate(plan.claims.items(), start=1):
        old = existing.get(record)
        if record in unchanged:
            report.claims_unchanged += 1
        else:
            if old is not None and old.home == home:
                position = old.position  # an updated claim keeps its place
            else:
                position = positions.get(home, 0)
                positions[home] = position + 1
            await store.insert_claim(home, position, claim)
            if old is None:
                report.claims_added += 1
            else:
                report.claims_updated += 1
        if progress is not None:
            progress(min(done, total), total)
    await _drop_unused_firms(store, plan, own, report, info.dataset)
    await store.delete_unused_sources()
    report.not_imported = plan.not_imported
    report.records_merged = plan.merged
    report.records_in_claims = plan.records_in_claims()
    report.notes = plan.notes
    if progress is not None:
        progress(total, total)


async def _write_firms(
    store: DatasetStore,
    plan: Plan,
    own: dict[str, DatasetEntity],
    report: ImportReport,
    dataset: str,
) -> None:
    """Create the firms the plan needs and refresh the ones an earlier import created."""
    report.firms_matched = sorted(plan.matched)
    for firm_id, firm in sorted(plan.firms.items()):
        old = own.get(firm_id)
        if old is None:
            await store.insert_entity(firm, dataset)
            report.firms_created.append(firm_id)
        elif _entity_key(old) != _entity_key(firm):
            await store.update_entity(firm)
            report.firms_updated.append(firm_id)
        else:
            report.firms_unchanged.append(firm_id)


async def _drop_unused_firms(
    store: DatasetStore,
    plan: Plan,
    own: dict[str, DatasetEntity],
    report: ImportReport,
    dataset: str,
) -> None:
    """Delete the firms an earlier import created that no record needs now, unless in use."""
    for firm_id in sorted(set(own) - set(plan.firms)):
        if own[firm_id].curated or await store.mentioned_by_dataset(firm_id, dataset):
            continue  # adopted by a correction, or matched by name now: it is not ours to drop
        reasons = await store.still_needed(firm_id, dataset)
        if reasons:
            report.firms_kept.append((firm_id, "; ".join(reasons)))
        else:
            await store.delete_entity(firm_id)
            report.firms_removed.append(firm_id)


async def remove_dataset(kb: KnowledgeBase, dataset: str) -> RemoveReport:
    """Remove every claim a dataset brought and every firm it created that nothing else needs."""
    store = DatasetStore(kb)
    report = RemoveReport(dataset)
    async with kb.transaction():
        claims = await store.claims(dataset)
        await store.delete_claims([c.claim.id for c in claims.values()])
        report.claims_removed = len(claims)
        for firm_id in sorted(await store.entities(dataset)):
            reasons = await store.still_needed(firm_id, dataset)
            if reasons:
                report.firms_kept.append((firm_id, "; ".join(reasons)))
            else:
                await store.delete_entity(firm_id)
                report.firms_removed.append(firm_id)
        await store.delete_unused_sources()
        await store.forget_import(dataset)
        if report.claims_removed or report.firms_removed:
            await kb.bump_generation()  # a running bot reloads its index
    return report


def validation_problems(error: ValidationError, data: Sequence[Any], id_field: str) -> list[str]:
    """A pydantic error over a file's list of records, one line per problem, the first 20."""
    problems = []
    for item in error.errors():
        loc = item["loc"]
        index = loc[0] if loc and isinstance(loc[0], int) else None
        where = "the file"
        if index is not None:
            record = data[index]
            uid = record.get(id_field) if isinstance(record, dict) else None
            where = f"record {index + 1}" + (
                f" ({escape_hidden(uid)})" if isinstance(uid, str) else ""
            )
        path = ".".join(str(p) for p in loc[1:]) or "the record"
        problems.append(f"{where}: {path}: {item['msg']}")
    return shorten_problems(problems)


def shorten_problems(problems: list[str]) -> list[str]:
    """At most :data:`MAX_PROBLEMS_SHOWN` problems, and how many more there were."""
    if len(problems) > MAX_PROBLEMS_SHOWN:
        hidden = len(problems) - MAX_PROBLEMS_SHOWN
        problems = [*problems[:MAX_PROBLEMS_SHOWN], f"... and {hidden} more"]
    return problems
