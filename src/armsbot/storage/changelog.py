"""The per-entity change log that watch notices are made from, written inside each transaction.

Triggers (migration 7) stage what a transaction touches, as it was before: claims (their status,
text and parties), entities (name, summary, attributes, hand-written names) and the revisions it
records. Every write path (an approval, a revert, an import or ``--remove``, a rebuild, a path
added later) goes through those tables, so none can forget to log. Before the transaction commits,
:func:`record_changes` compares the staged rows with what the tables hold now, writes one
``entity_changes`` row per change to a watched entity, and empties the staging tables: the log
is committed with the change, or neither is.

Who decided a change: the revision the transaction recorded for the entry the claim is filed
under (a moderator, ``cli:<login>``, ``build``); else the writer the transaction declared
(``KnowledgeBase.attribute_changes``); else the dataset the claim came from (``dataset:sii``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from armsbot.storage.knowledge_base import Database

UNKNOWN_ACTOR = "unknown"
CLAIM_TEXT_KEPT = 300  # characters of a claim's text kept with its change, for the notice


class ChangeKind(StrEnum):
    """What happened to an entity's card."""

    CLAIM_ADDED = "claim_added"
    CLAIM_REMOVED = "claim_removed"
    CLAIM_STATUS = "claim_status"
    CLAIM_TEXT = "claim_text"
    ENTRY_CREATED = "entry_created"
    ENTRY_REMOVED = "entry_removed"
    ENTRY_EDITED = "entry_edited"


@dataclass(frozen=True, slots=True)
class EntityChange:
    """One logged change to one entity's card."""

    id: int
    entity_id: str
    entity_name: str
    change: ChangeKind
    claim_id: str | None
    claim_text: str | None
    status_before: str | None
    status_after: str | None
    detail: str | None
    actor_id: str
    correction_id: int | None
    revision_id: int | None
    at: datetime


@dataclass(frozen=True, slots=True)
class _Decider:
    actor_id: str
    correction_id: int | None = None
    revision_id: int | None = None


@dataclass(frozen=True, slots=True)
class _ClaimState:
    status: str
    text: str
    home: str
    dataset: str | None
    parties: frozenset[str]


def change_stamp(moment: datetime) -> str:
    """How a change's time is stored: UTC, to the millisecond (batching windows can be short)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


async def staged_anything(db: Database) -> bool:
    """Whether the open transaction touched anything the triggers staged."""
    rows = await db.execute_fetchall(
        "SELECT EXISTS (SELECT 1 FROM watch_staged_claims)"
        " OR EXISTS (SELECT 1 FROM watch_staged_entities)"
        " OR EXISTS (SELECT 1 FROM watch_staged_revisions)"
    )
    return any(row[0] for row in rows)


async def record_changes(db: Database, writer: str | None) -> int:
    """Log what the open transaction changed on watched entities; empty the staging tables.

    Returns how many changes were logged. Call it last in the transaction, before COMMIT.
    """
    if not await staged_anything(db):
        return 0
    watched = {
        str(r[0]) for r in await db.execute_fetchall("SELECT DISTINCT entity_id FROM watches")
    }
    rows: list[dict[str, Any]] = []
    if watched:
        deciders = await _deciders(db)
        rows += await _entity_changes(db, watched, deciders, writer)
        rows += await _claim_changes(db, watched, deciders, writer)
    if rows:
        names = {r["entity_id"]: str(r["name"]) for r in rows if r.get("name")}
        names |= await _names(db, {r["entity_id"] for r in rows})
        at = change_stamp(datetime.now(UTC))
        await db.executemany(
            "INSERT INTO entity_changes (entity_id, entity_name, change, claim_id, claim_text,"
            " status_before, status_after, detail, actor_id, correction_id, revision_id, at)"
            " VALUES (:entity_id, :entity_name, :change, :claim_id, :claim_text,"
            " :status_before, :status_after, :detail, :actor_id, :correction_id, :revision_id,"
            " :at)",
            [
                {
                    "claim_id": None,
                    "claim_text": None,
                    "status_before": None,
                    "status_after": None,
                    "detail": None,
                    **row,
                    "entity_name": names.get(row["entity_id"], row["entity_id"]),
                    "at": at,
                }
                for row in rows
            ],
        )
    for table in ("watch_staged_claims", "watch_staged_entities", "watch_staged_revisions"):
        await db.execute(f"DELETE FROM {table}")
    return len(rows)


async def _deciders(db: Database) -> dict[str, _Decider]:
    """The revisions this transaction recorded, by entity (the last one when there are several)."""
    return {
        str(r[1]): _Decider(str(r[2]), r[3], int(r[0]))
        for r in await db.execute_fetchall(
            "SELECT r.id, r.entity_id, r.actor_id, r.correction_id FROM revisions r"
            " JOIN watch_staged_revisions s ON s.revision_id = r.id ORDER BY r.id"
        )
    }


def _decider(
    entity_id: str, dataset: str | None, deciders: dict[str, _Decider], writer: str | None
) -> dict[str, Any]:
    found = deciders.get(entity_id)
    if found is None:
        if writer is not None:
            found = _Decider(writer)
        elif dataset is not None:
            found = _Decider(f"dataset:{dataset}")
        else:
            found = _Decider(UNKNOWN_ACTOR)
    return {
        "actor_id": found.actor_id,
        "correction_id": found.correction_id,
        "revision_id": found.revision_id,
    }


async def _entity_changes(
    db: Database,
    watched: set[str],
    deciders: dict[str, _Decider],
    writer: str | None,
) -> list[dict[str, Any]]:
    staged = await db.execute_fetchall(
        "SELECT s.entity_id, s.existed, s.name, s.summary, s.attributes, s.dataset, s.aliases,"
        " e.id IS NOT NULL, e.name, e.summary, e.attributes, e.dataset,"
        " (SELECT json_group_array(name) FROM aliases"
        "  WHERE entity_id = s.entity_id AND origin = 'data')"
        " FROM watch_staged_entities s LEFT JOIN entities e ON e.id = s.entity_id"
        " ORDER BY s.entity_id"
    )
    rows: list[dict[str, Any]] = []
    for r in staged:
        entity_id = str(r[0])
        if entity_id not in watched:
            continue
        existed, exists = bool(r[1]), bool(r[7])
        dataset = r[11] if exists else r[5]
        base = {"entity_id": entity_id, "name": r[8] if exists else r[2]}
        base |= _decider(entity_id, dataset, deciders, writer)
        if not existed and exists:
            rows.append(base | {"change": ChangeKind.ENTRY_CREATED.value})
        elif existed and not exists:
            rows.append(base | {"change": ChangeKind.ENTRY_REMOVED.value})
        elif existed and exists:
            fields = [
                label
                for label, before, after in (
                    ("name", r[2], r[8]),
                    ("summary", r[3], r[9]),
                    ("details", _json(r[4], {}), _json(r[10], {})),
                    ("names", sorted(_json(r[6], [])), sorted(_json(r[12], []))),
                )
                if before != after
            ]
            if fields:
                detail = ",".join(fields)
                rows.append(base | {"change": ChangeKind.ENTRY_EDITED.value, "detail": detail})
    return rows


async def _claim_changes(
    db: Database,
    watched: set[str],
    deciders: dict[str, _Decider],
    writer: str | None,
) -> list[dict[str, Any]]:
    staged = await db.execute_fetchall(
        "SELECT s.claim_id, s.existed, s.status, s.text, s.home, s.dataset, s.parties,"
        " c.id IS NOT NULL, c.status, c.text, c.home_entity_id, c.provenance_dataset,"
        " (SELECT json_group_array(entity_id) FROM claim_parties WHERE claim_id = s.claim_id)"
        " FROM watch_staged_claims s LEFT JOIN claims c ON c.id = s.claim_id"
        " ORDER BY s.claim_id"
    )
    rows: list[dict[str, Any]] = []
    for r in staged:
        claim_id = str(r[0])
        before = _ClaimState(r[2], r[3], r[4], r[5], _parties(r[6])) if r[1] else None
        after = _ClaimState(r[8], r[9], r[10], r[11], _parties(r[12])) if r[7] else None
        for entity_id, change in _claim_diff(before, after, watched):
            state = after or before
            assert state is not None
            rows.append(
                {
                    "entity_id": entity_id,
                    "change": change.value,
                    "claim_id": claim_id,
                    "claim_text": _kept(state.text),
                    "status_before": before.status if before else None,
                    "status_after": after.status if after else None,
                }
                | _decider(state.home, state.dataset, deciders, writer)
            )
    return rows


def _claim_diff(
    before: _ClaimState | None, after: _ClaimState | None, watched: set[str]
) -> Iterable[tuple[str, ChangeKind]]:
    """Each watched entity's change from one claim's staged state to its current one."""
    was = before.parties if before else frozenset()
    now = after.parties if after else frozenset()
    for entity_id in sorted((was | now) & watched):
        if entity_id not in was:
            yield entity_id, ChangeKind.CLAIM_ADDED
        elif entity_id not in now:
            yield entity_id, ChangeKind.CLAIM_REMOVED
        else:
            assert before is not None
            assert after is not None
            if before.status != after.status:
                yield entity_id, ChangeKind.CLAIM_STATUS
            elif before.text != after.text:
                yield entity_id, ChangeKind.CLAIM_TEXT


async def _names(db: Database, entity_ids: set[str]) -> dict[str, str]:
    wanted = sorted(entity_ids)
    marks = ",".join("?" * len(wanted))
    async with db.execute(f"SELECT id, name FROM entities WHERE id IN ({marks})", wanted) as cur:
        return {str(r[0]): str(r[1]) for r in await cur.fetchall()}


def _parties(raw: str | None) -> frozenset[str]:
    return frozenset(str(p) for p in _json(raw, []))


def _json(raw: str | None, empty: Any) -> Any:
    return empty if raw is None else json.loads(raw)


def _kept(text: str | None) -> str | None:
    if text is None or len(text) <= CLAIM_TEXT_KEPT:
        return text
    return text[: CLAIM_TEXT_KEPT - 1].rstrip() + "…"


def change_from_row(row: Any) -> EntityChange:
    """A logged change from its ``entity_changes`` row."""
    return EntityChange(
        id=int(row["id"]),
        entity_id=str(row["entity_id"]),
        entity_name=str(row["entity_name"]),
        change=ChangeKind(row["change"]),
        claim_id=row["claim_id"],
        claim_text=row["claim_text"],
        status_before=row["status_before"],
        status_after=row["status_after"],
        detail=row["detail"],
        actor_id=str(row["actor_id"]),
        correction_id=row["correction_id"],
        revision_id=row["revision_id"],
        at=datetime.fromisoformat(str(row["at"])),
    )
