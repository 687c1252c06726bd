"""Building the knowledge base from ``data/``, writing it back, and checking it."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from armsbot.countries import historic_names, iso_countries
from armsbot.datafiles import FOLDERS, load_data_dir, write_data_dir
from armsbot.models import (
    Alias,
    AliasType,
    CountryInfo,
    EntityFile,
    FirmInfo,
    Kind,
    LawInfo,
)
from armsbot.records import AliasRecord, EntityRecord
from armsbot.storage import KnowledgeBase
from armsbot.storage.corrections import CorrectionStore
from armsbot.storage.migrations import LATEST

DATA_HASH_KEY = "data_hash"
# How many revisions had been built from or exported to data/: approved changes beyond it
# exist only in the database, and a rebuild from data/ would drop them.
REVISIONS_SAVED_KEY = "revisions_saved"
# Who the revisions a rebuild makes are recorded as made by.
BUILD_ACTOR = "build"


class UnexportedChanges(Exception):
    """A rebuild would drop approved changes that were never exported to data/."""

    def __init__(self, count: int) -> None:
        self.count = count
        super().__init__(
            f"{count} approved change(s) exist only in the database; run `armsbot db export "
            "DIR` into your data folder first, or rebuild with --force to drop them"
        )


@dataclass(slots=True)
class BuildReport:
    """What ``db build`` did."""

    built: bool
    counts: dict[str, int] = field(default_factory=dict)


def data_fingerprint(data_dir: Path) -> str:
    """A hash of every data file and of the registries' versions: same hash, same knowledge base."""
    digest = hashlib.sha256()
    for package in ("babel", "pycountry"):
        digest.update(f"{package}={version(package)}\n".encode())
    digest.update(f"schema={LATEST}\n".encode())
    for folder in sorted(FOLDERS.values()):
        for path in sorted((data_dir / folder).glob("*.y*ml")):
            digest.update(f"{folder}/{path.name}\n".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _data_aliases(entity: EntityFile) -> list[AliasRecord]:
    return [AliasRecord(a.name, a.type.value, a.lang, "data") for a in entity.aliases]


def _attributes(entity: EntityFile) -> dict[str, object]:
    section = entity.firm or entity.law or entity.country
    return {} if section is None else section.model_dump(mode="json", exclude_none=True)


@cache
def _registry_aliases(code: str, *, former: bool = False) -> tuple[AliasRecord, ...]:
    """A country's names from the registry (``former``: ISO 3166-3's, of a country that no longer
    exists) as aliases: made once per process, as the registry is (35,000 of them)."""
    names = historic_names(code) if former else iso_countries()[code].names
    return tuple(AliasRecord(n.name, n.type.value, n.lang, "registry") for n in names)


def entity_records(files: list[EntityFile]) -> list[EntityRecord]:
    """Merge the data files with the ISO/CLDR registry into the entities to store."""
    by_id = {entity.id: entity for entity in files}
    records: list[EntityRecord] = []
    for code, country in iso_countries().items():
        curated = by_id.pop(code, None)
        record = EntityRecord(
            id=code,
            kind=Kind.COUNTRY,
            name=country.name,
            name_origin="registry",
            curated=curated is not None,
        )
        if curated is not None:
            if curated.name is not None:
                record.name, record.name_origin = curated.name, "data"
            record.summary = curated.summary
            record.attributes = _attributes(curated)
            record.aliases = _data_aliases(curated)
            record.claims = list(curated.claims)
        record.aliases += _registry_aliases(code)
        records.append(record)
    for entity in by_id.values():
        assert entity.name is not None  # checked when the files were loaded
        record = EntityRecord(
            id=entity.id,
            kind=entity.kind,
            name=entity.name,
            summary=entity.summary,
            attributes=_attributes(entity),
            aliases=_data_aliases(entity),
            claims=list(entity.claims),
        )
        if entity.kind is Kind.COUNTRY:
            record.aliases += _registry_aliases(entity.id, former=True)
        records.append(record)
    return records


def record_to_file(record: EntityRecord) -> EntityFile:
    """The data file that holds what people wrote about an entity (registry names left out)."""
    sections: dict[str, object] = {}
    if record.attributes or record.kind is Kind.LAW:
        models: dict[Kind, type[FirmInfo | LawInfo | CountryInfo]] = {
            Kind.FIRM: FirmInfo,
            Kind.LAW: LawInfo,
            Kind.COUNTRY: CountryInfo,
        }
        sections[record.kind.value] = models[record.kind].model_validate(record.attributes)
    return EntityFile.model_validate(
        {
            "kind": record.kind,
            "id": record.id,
            "name": record.name if record.name_origin == "data" else None,
            "summary": record.summary,
            "aliases": [
                Alias(name=a.name, type=AliasType(a.type), lang=a.lang)
                for a in record.aliases
                if a.origin == "data"
            ],
            **sections,
            "claims": [c for c in record.claims if c.provenance is None],
        }
    )


def file_to_record(entity: EntityFile, existing: EntityRecord | None) -> EntityRecord:
    """The stored form of an edited entity, keeping what the registry gave it (a country's name)."""
    name = entity.name
    name_origin = "data"
    if name is None:
        assert existing is not None, "only registry countries may omit a name"
        name, name_origin = existing.name, "registry"
    return EntityRecord(
        id=entity.id,
        kind=entity.kind,
        name=name,
        name_origin=name_origin,
        summary=entity.summary,
        attributes=_attributes(entity),
        curated=True,
        revision=existing.revision if existing else 1,
        aliases=_data_aliases(entity),
        claims=list(entity.claims),
    )


def curated_json(entity: EntityFile) -> dict[str, Any]:
    """An entity's hand-written content as a revision stores it (its ``before`` and ``after``)."""
    return entity.model_dump(mode="json", exclude_none=True, exclude_defaults=True) | {
        "kind": entity.kind.value,
        "id": entity.id,
    }


@dataclass(frozen=True, slots=True)
class BuildRevision:
    """A revision a rebuild makes: an entity it changed, added back or removed."""

    entity_id: str
    number: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def number_rebuilt(
    old: Sequence[EntityRecord], new: Sequence[EntityRecord], recorded: dict[str, int]
) -> list[BuildRevision]:
    """Give each rebuilt entity its revision number (``record.revision``); return the revisions
    the rebuild makes.

    Revision numbers only grow, so a correction made against an older state stays stale: an
    entity whose hand-written content the rebuild leaves as it was keeps its number; one it
    changes, removes, or brings back after a removal gets one past both its number and every
    number recorded for it (``recorded``), as a revision made by the build. An entity seen for
    the first time is at revision 1, as the first build made everything; an imported entity
    never edited by hand is dropped without a revision (importing again brings it back).
    """
    before_of = {record.id: record for record in old}
    made: list[BuildRevision] = []
    for record in new:
        previous = before_of.pop(record.id, None)
        newest = recorded.get(record.id, 0)
        if previous is None and newest == 0:
            record.revision = 1
            continue
        after = curated_json(record_to_file(record))
        if previous is None:
            before = None
        else:
            before = curated_json(record_to_file(previous))
            if before == after and previous.revision >= newest:
                record.revision = previous.revision
                continue
        record.revision = max(previous.revision if previous else 0, newest) + 1
        made.append(BuildRevision(record.id, record.revision, before, after))
    for previous in before_of.values():
        newest = recorded.get(previous.id, 0)
        if previous.curated or newest:
            number = max(previous.revision, newest) + 1
            made.append(
                BuildRevision(previous.id, number, curated_json(record_to_file(previous)), None)
            )
    return made


async def _unexported(kb: KnowledgeBase) -> tuple[int, int]:
    """(revisions recorded, how many of them came after the last build or export)."""
    revisions = await CorrectionStore(kb).revision_count()
    return revisions, revisions - int(await kb.meta(REVISIONS_SAVED_KEY) or 0)


async def build(
    kb: KnowledgeBase,
    data_dir: Path,
    *,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> BuildReport:
    """Build the knowledge base from ``data_dir``; do nothing when it is already built from it.

    Every file is validated before the database is touched, and the replacement is one
    transaction with the revisions it makes (see ``number_rebuilt``), so a bad file or a crash
    leaves the previous knowledge base as it was.
    """
    fingerprint = await asyncio.to_thread(data_fingerprint, data_dir)
    if not force and await kb.meta(DATA_HASH_KEY) == fingerprint:
        return BuildReport(built=False, counts=await kb.count())
    _, unexported = await _unexported(kb)
    if unexported > 0 and not force:
        raise UnexportedChanges(unexported)
    files = await asyncio.to_thread(load_data_dir, data_dir, iso_countries())
    records = await asyncio.to_thread(entity_records, files)
    total = len(records)
    store = CorrectionStore(kb)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    async with kb.transaction():
        kb.attribute_changes(BUILD_ACTOR)  # watch notices name the rebuild, not the dataset
        revisions, unexported = await _unexported(kb)  # again: an approval may have come since
        if unexported > 0 and not force:
            raise UnexportedChanges(unexported)
        made = number_rebuilt(
            await kb.hand_written_entities(), records, await store.newest_revisions()
        )
        await kb.replace_knowledge(
            records,
            {DATA_HASH_KEY: fingerprint, REVISIONS_SAVED_KEY: str(revisions + len(made))},
            progress=None if progress is None else (lambda done: progress(done, total)),
        )
        for revision in made:
            await store.insert_revision(
                entity_id=revision.entity_id,
                number=revision.number,
                before=revision.before,
                after=revision.after,
                actor_id=BUILD_ACTOR,
                reason=_build_reason(data_dir, revision),
                correction_id=None,
                reverts=None,
                now=now,
            )
    await kb.refresh_statistics()
    return BuildReport(built=True, counts=await kb.count())


def _build_reason(data_dir: Path, revision: BuildRevision) -> str:
    if revision.after is None:
        what = "not in the data files, so removed"
    elif revision.before is None:
        what = "in the data files again, so added back"
    elif revision.before == revision.after:
        what = "unchanged, renumbered after an earlier rebuild had set its number back"
    else:
        what = "the data files differ, so changed"
    return f"Rebuilt from {data_dir.name or data_dir}/: {what}."


async def export(kb: KnowledgeBase, target: Path) -> list[Path]:
    """Write every curated entity back to YAML files under ``target``."""
    records = await kb.curated_entities()
    files = [record_to_file(r) for r in records]
    written = await asyncio.to_thread(write_data_dir, files, target)
    await kb.set_meta(REVISIONS_SAVED_KEY, str(await CorrectionStore(kb).revision_count()))
    return written
