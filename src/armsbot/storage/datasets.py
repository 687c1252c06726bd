"""The SQL behind imported datasets: what a dataset brought, writing it, and taking it out again.

Imported claims carry ``provenance_dataset``; firms an import had to create carry the dataset in
``entities.dataset`` (migration 3); what each dataset's last import read, brought and left out is
a row of ``datasets`` (migration 5). The write methods run inside one ``kb.transaction()`` opened
by the import core, so an import or a removal is committed whole or not at all. Claims are written
only through ``KnowledgeBase.insert_claim`` and deleted only through :meth:`delete_claims`.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from armsbot.models import (
    Category,
    Claim,
    Kind,
    LinkKind,
    Party,
    Provenance,
    Role,
    Source,
    SourceKey,
    Status,
)
from armsbot.records import AliasRecord
from armsbot.storage.knowledge_base import Database, KnowledgeBase, first_row


@dataclass(frozen=True, slots=True)
class StoredClaim:
    """An imported claim as stored: the claim, the entity it is filed under, and its position."""

    claim: Claim
    home: str
    position: int


@dataclass(frozen=True, slots=True)
class DatasetEntity:
    """An entity a dataset created, as stored (or as an import wants it stored)."""

    id: str
    kind: Kind
    name: str
    summary: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    curated: bool = False


@dataclass(frozen=True, slots=True)
class DatasetImport:
    """What ``db datasets`` shows of a dataset's last import."""

    dataset: str
    name: str
    licence: str
    attribution: str
    source: str  # the file's path, or the URL it was downloaded from
    checksum: str
    imported_at: str
    records_read: int
    claims: int
    records_merged: int
    firms_created: list[str]
    firms_matched: list[str]
    left_out: list[tuple[str, str]]  # (record, reason)

    def same_import(self, other: DatasetImport) -> bool:
        """Whether two imports read the same and brought the same, whenever they ran."""
        return dataclasses.replace(self, imported_at="") == dataclasses.replace(
            other, imported_at=""
        )


@dataclass(frozen=True, slots=True)
class DatasetHolding:
    """What a dataset has in the knowledge base now (a rebuild from data/ drops it all)."""

    claims: int
    firms_created: int


class DatasetStore:
    """SQL for the rows one dataset brought into a knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        # Source rows found or inserted during one transaction, shared by the claims written in it.
        self._sources: dict[SourceKey, int] = {}

    @property
    def _db(self) -> Database:
        return self.kb.db

    # -- reading ------------------------------------------------------------------------------

    async def claims(self, dataset: str) -> dict[str, StoredClaim]:
        """The dataset's claims, by the record id they came from."""
        rows = await self._db.execute_fetchall(
            "SELECT * FROM claims WHERE provenance_dataset = ? ORDER BY id", (dataset,)
        )
        parties: dict[str, list[Party]] = defaultdict(list)
        async with self._db.execute(
            "SELECT p.claim_id, p.entity_id, p.role FROM claim_parties p"
            " JOIN claims c ON c.id = p.claim_id WHERE c.provenance_dataset = ?"
            " ORDER BY p.claim_id, p.position",
            (dataset,),
        ) as cursor:
            async for r in cursor:
                parties[str(r[0])].append(Party.model_construct(entity=str(r[1]), role=Role(r[2])))
        sources: dict[str, list[Source]] = defaultdict(list)
        async with self._db.execute(
            "SELECT cs.claim_id, s.url, s.title, s.publisher, s.date, s.link FROM claim_sources cs"
            " JOIN sources s ON s.id = cs.source_id JOIN claims c ON c.id = cs.claim_id"
            " WHERE c.provenance_dataset = ? ORDER BY cs.claim_id, cs.position",
            (dataset,),
        ) as cursor:
            async for r in cursor:
                sources[str(r[0])].append(
                    Source.model_construct(
                        url=r[1], title=str(r[2]), publisher=r[3], date=r[4], link=LinkKind(r[5])
                    )
                )
        stored: dict[str, StoredClaim] = {}
        for row in rows:
            claim_id = str(row["id"])
            claim = Claim.model_construct(
                id=claim_id,
                text=str(row["text"]),
                status=Status(row["status"]),
                category=Category(row["category"]),
                date=row["date"],
                date_text=row["date_text"],
                parties=parties[claim_id],
                product=row["product"],
                end_user=row["end_user"],
                goods=json.loads(row["goods"]),
                sources=sources[claim_id],
                reported=row["reported"],
                distinct_from=json.loads(row["distinct_from"]),
                provenance=Provenance.model_construct(
                    dataset=str(row["provenance_dataset"]),
                    checksum=str(row["provenance_checksum"]),
                    record=str(row["provenance_record"]),
                    merged=json.loads(row["provenance_merged"]),
                ),
            )
            stored[str(row["provenance_record"])] = StoredClaim(
                claim, str(row["home_entity_id"]), int(row["position"])
            )
        return stored

    async def entities(self, dataset: str) -> dict[str, DatasetEntity]:
        """The entities the dataset created, by id."""
        aliases: dict[str, list[str]] = defaultdict(list)
        async with self._db.execute(
            "SELECT a.entity_id, a.name FROM aliases a JOIN entities e ON e.id = a.entity_id"
            " WHERE e.dataset = ? ORDER BY a.entity_id, a.position",
            (dataset,),
        ) as cursor:
            async for r in cursor:
                aliases[str(r[0])].append(str(r[1]))
        async with self._db.execute(
            "SELECT id, kind, name, summary, attributes, curated FROM entities WHERE dataset = ?"
            " ORDER BY id",
            (dataset,),
        ) as cursor:
            return {
                str(r[0]): DatasetEntity(
                    id=str(r[0]),
                    kind=Kind(r[1]),
                    name=str(r[2]),
                    summary=r[3],
                    attributes=json.loads(r[4]),
                    aliases=tuple(aliases.get(str(r[0]), ())),
                    curated=bool(r[5]),
                )
                for r in await cursor.fetchall()
            }

    async def entity_ids(self) -> set[str]:
        """The id of every entity."""
        return {str(r[0]) for r in await self._db.execute_fetchall("SELECT id FROM entities")}

    async def claim_ids_outside(self, dataset: str) -> set[str]:
        """The ids of every claim that did not come from ``dataset`` (an import must avoid them)."""
        return {
            str(r[0])
            for r in await self._db.execute_fetchall(
                "SELECT id FROM claims WHERE provenance_dataset IS NULL OR provenance_dataset != ?",
                (dataset,),
            )
        }

    async def next_positions(self) -> dict[str, int]:
        """For each entity with claims, the position after its last claim."""
        return {
            str(r[0]): int(r[1])
            for r in await self._db.execute_fetchall(
                "SELECT home_entity_id, max(position) + 1 FROM claims GROUP BY home_entity_id"
            )
        }

    async def still_needed(self, entity_id: str, dataset: str) -> list[str]:
        """Why a dataset-created entity must stay: everything else that still refers to it."""
        reasons: list[str] = []
        row = await first_row(self._db, "SELECT curated FROM entities WHERE id = ?", (entity_id,))
        if row is not None and row[0]:
            reasons.append("it was edited by an approved correction")
        row = await first_row(
            self._db,
            "SELECT count(DISTINCT c.id) FROM claims c WHERE (c.provenance_dataset IS NULL"
            " OR c.provenance_dataset != ?) AND (c.home_entity_id = ? OR c.id IN"
            " (SELECT claim_id FROM claim_parties WHERE entity_id = ?))",
            (dataset, entity_id, entity_id),
        )
        if row is not None and row[0]:
            reasons.append(f"{row[0]} claim(s) not from {dataset} name it")
        for table, what in (("corrections", "correction(s)"), ("revisions", "revision(s)")):
            row = await first_row(
                self._db, f"SELECT count(*) FROM {table} WHERE entity_id = ?", (entity_id,)
            )
            if row is not None and row[0]:
                reasons.append(f"{row[0]} {what} refer to it")
        return reasons

    async def mentioned_by_dataset(self, entity_id: str, dataset: str) -> bool:
        """Whether any of the dataset's claims still name the entity."""
        return (
            await first_row(
                self._db,
                "SELECT 1 FROM claim_parties p JOIN claims c ON c.id = p.claim_id"
                " WHERE p.entity_id = ? AND c.provenance_dataset = ? LIMIT 1",
                (entity_id, dataset),
            )
            is not None
        )

    async def imports(self) -> list[DatasetImport]:
        """Every dataset imported, by id."""
        rows = await self._db.execute_fetchall("SELECT * FROM datasets ORDER BY id")
        return [
            DatasetImport(
                dataset=str(r["id"]),
                name=str(r["name"]),
                licence=str(r["licence"]),
                attribution=str(r["attribution"]),
                source=str(r["source"]),
                checksum=str(r["checksum"]),
                imported_at=str(r["imported_at"]),
                records_read=int(r["records_read"]),
                claims=int(r["claims"]),
                records_merged=int(r["records_merged"]),
                firms_created=json.loads(r["firms_created"]),
                firms_matched=json.loads(r["firms_matched"]),
                left_out=[(str(a), str(b)) for a, b in json.loads(r["left_out"])],
            )
            for r in rows
        ]

    async def holdings(self) -> dict[str, DatasetHolding]:
        """For each dataset with claims or firms in the knowledge base, how many it has now."""
        claims: dict[str, int] = {}
        claims = {
            str(r[0]): int(r[1])
            for r in await self._db.execute_fetchall(
                "SELECT provenance_dataset, count(*) FROM claims"
                " WHERE provenance_dataset IS NOT NULL GROUP BY 1"
            )
        }
        firms = {
            str(r[0]): int(r[1])
            for r in await self._db.execute_fetchall(
                "SELECT dataset, count(*) FROM entities WHERE dataset IS NOT NULL GROUP BY 1"
            )
        }
        return {
            dataset: DatasetHolding(claims.get(dataset, 0), firms.get(dataset, 0))
            for dataset in sorted({*claims, *firms})
        }

    # -- writing (inside the caller's transaction) --------------------------------------------

    async def record_import(self, summary: DatasetImport) -> None:
        """Keep what an import did; an import that read and brought the same leaves the row."""
        previous = {i.dataset: i for i in await self.imports()}.get(summary.dataset)
        if previous is not None and previous.same_import(summary):
            return  # importing the same file again changes nothing, not even the date
        await self._db.execute(
            "INSERT INTO datasets (id, name, licence, attribution, source, checksum,"
            " imported_at, records_read, claims, records_merged, firms_created, firms_matched,"
            " left_out) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE"
            " SET name = excluded.name, licence = excluded.licence,"
            " attribution = excluded.attribution, source = excluded.source,"
            " checksum = excluded.checksum, imported_at = excluded.imported_at,"
            " records_read = excluded.records_read, claims = excluded.claims,"
            " records_merged = excluded.records_merged, firms_created = excluded.firms_created,"
            " firms_matched = excluded.firms_matched, left_out = excluded.left_out",
            (
                summary.dataset,
                summary.name,
                summary.licence,
                summary.attribution,
                summary.source,
                summary.checksum,
                summary.imported_at,
                summary.records_read,
                summary.claims,
                summary.records_merged,
                json.dumps(summary.firms_created),
                json.dumps(summary.firms_matched),
                json.dumps([list(item) for item in summary.left_out], ensure_ascii=False),
            ),
        )

    async def forget_import(self, dataset: str) -> None:
        """Drop the record of a dataset's import (it was removed)."""
        await self._db.execute("DELETE FROM datasets WHERE id = ?", (dataset,))

    async def insert_entity(self, entity: DatasetEntity, dataset: str) -> None:
        """Create an entity owned by ``dataset`` (not curated: export leaves it out)."""
        # Revision 1, or one past what a removed entity with this id had: numbers only grow.
        await self._db.execute(
            "INSERT INTO entities (id, kind, name, name_origin, summary, attributes, curated,"
            " revision, dataset) VALUES (?, ?, ?, 'data', ?, ?, 0,"
            " (SELECT coalesce(max(number), 0) + 1 FROM revisions WHERE entity_id = ?), ?)",
            (
                entity.id,
                entity.kind.value,
                entity.name,
                entity.summary,
                _attributes(entity.attributes),
                entity.id,
                dataset,
            ),
        )
        await self._insert_aliases(entity)

    async def update_entity(self, entity: DatasetEntity) -> None:
        """Rewrite the name, summary, attributes and aliases of a dataset-created entity."""
        await self._db.execute(
            "UPDATE entities SET name = ?, summary = ?, attributes = ? WHERE id = ?",
            (entity.name, entity.summary, _attributes(entity.attributes), entity.id),
        )
        await self._db.execute("DELETE FROM aliases WHERE entity_id = ?", (entity.id,))
        await self._insert_aliases(entity)

    async def _insert_aliases(self, entity: DatasetEntity) -> None:
        await KnowledgeBase.insert_aliases(
            self._db,
            entity.id,
            [AliasRecord(name, "name", None, "data") for name in entity.aliases],
        )

    async def delete_entity(self, entity_id: str) -> None:
        """Delete an entity (its aliases follow); the caller checked that nothing names it."""
        await self._db.execute("DELETE FROM entities WHERE id = ?", (entity_id,))

    async def insert_claim(self, home: str, position: int, claim: Claim) -> None:
        """Insert a claim with its parties and sources."""
        await KnowledgeBase.insert_claim(self._db, home, position, claim, self._sources)

    async def set_checksum(self, claim_ids: list[str], dataset: str, checksum: str) -> None:
        """Record that these claims of ``dataset`` now come from the file with ``checksum``."""
        await self._db.executemany(
            "UPDATE claims SET provenance_checksum = ? WHERE id = ? AND provenance_dataset = ?",
            [(checksum, claim_id, dataset) for claim_id in claim_ids],
        )

    async def delete_claims(self, claim_ids: list[str]) -> None:
        """Delete claims (their parties and source links follow)."""
        await self._db.executemany("DELETE FROM claims WHERE id = ?", [(i,) for i in claim_ids])

    async def delete_unused_sources(self) -> None:
        """Delete sources no claim cites any more."""
        await self._db.execute(
            "DELETE FROM sources WHERE id NOT IN (SELECT source_id FROM claim_sources)"
        )
        self._sources.clear()


def _attributes(attributes: dict[str, Any]) -> str:
    return json.dumps(attributes, sort_keys=True, ensure_ascii=False)
