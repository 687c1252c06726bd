"""Community corrections: submit, review, approve or reject, withdraw, revert, history, audit.

Who may do what is decided by the caller (the bot checks moderators server-side; the CLI runs on
the host). Every state change here is one transaction: the correction's status, the entity's new
content, its revision and the audit entry are committed together, or nothing is.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import TypeAdapter, ValidationError
from rapidfuzz import fuzz

from armsbot.changes import (
    Change,
    ChangeNotApplicable,
    CorrectionStatus,
    NewEntity,
    Submission,
    apply_change,
    change_target,
    change_text,
    describe,
    in_effect,
    source_of,
    target_entity_id,
)
from armsbot.models import EntityFile
from armsbot.search.folding import fold
from armsbot.search.index import SearchIndex
from armsbot.services.data import curated_json, file_to_record, record_to_file
from armsbot.storage import KnowledgeBase
from armsbot.storage.corrections import (
    AuditRow,
    CorrectionRow,
    CorrectionStore,
    GuildSettingsRow,
    RevisionRow,
)

CHANGE_ADAPTER: TypeAdapter[Change] = TypeAdapter(Change)
# The audit log's name for closing a correction with each status.
AUDIT_ACTIONS = {
    CorrectionStatus.APPROVED: "approve",
    CorrectionStatus.REJECTED: "reject",
    CorrectionStatus.WITHDRAWN: "withdraw",
    CorrectionStatus.STALE: "stale",
    CorrectionStatus.SUPERSEDED: "superseded",
}
NEAR_DUPLICATE = 92.0
NEAR_DUPLICATE_MIN_LENGTH = 40


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class Outcome(StrEnum):
    """What happened to a moderation request."""

    APPLIED = "applied"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    STALE = "stale"
    SUPERSEDED = "superseded"
    ALREADY_DECIDED = "already_decided"
    NOT_FOUND = "not_found"
    NOT_ALLOWED = "not_allowed"


@dataclass(frozen=True, slots=True)
class Decision:
    """The result of approve, reject or withdraw, with a sentence for the person who asked."""

    outcome: Outcome
    correction: CorrectionRow | None
    message: str
    revision: int | None = None
    superseded_by: int | None = None  # the correction that had already made the change


class SubmissionRefused(Exception):
    """A submission that was not stored; ``reasons`` say why, ``existing`` points at a twin."""

    def __init__(self, reasons: list[str], existing: int | None = None) -> None:
        self.reasons = reasons
        self.existing = existing
        super().__init__("; ".join(reasons))


# The defaults of ARMSBOT_SUBMISSIONS_PER_HOUR and ARMSBOT_PENDING_PER_USER.
SUBMISSIONS_PER_HOUR = 5
PENDING_PER_USER = 10


@dataclass(frozen=True, slots=True)
class Limits:
    """Per-user abuse limits."""

    submissions_per_hour: int = SUBMISSIONS_PER_HOUR
    pending_per_user: int = PENDING_PER_USER


@dataclass(slots=True)
class CorrectionService:
    """The correction use cases over one knowledge base and its search index."""

    kb: KnowledgeBase
    index: SearchIndex
    limits: Limits = field(default_factory=Limits)
    clock: Callable[[], datetime] = utc_now

    @property
    def store(self) -> CorrectionStore:
        """The SQL behind corrections."""
        return CorrectionStore(self.kb)

    # -- reading ------------------------------------------------------------------------------

    async def get(self, correction_id: int) -> CorrectionRow | None:
        """One correction."""
        return await self.store.correction(correction_id)

    async def pending(self, limit: int = 10, offset: int = 0) -> list[CorrectionRow]:
        """Pending corrections, oldest first."""
        return await self.store.corrections(
            status=CorrectionStatus.PENDING, limit=limit, offset=offset
        )

    async def pending_count(self) -> int:
        """How many corrections wait for review."""
        return await self.store.count_corrections(status=CorrectionStatus.PENDING)

    async def of_submitter(self, submitter_id: str, limit: int = 25) -> list[CorrectionRow]:
        """A member's own corrections, newest first."""
        return await self.store.corrections(
            submitter_id=submitter_id, limit=limit, newest_first=True
        )

    async def history(self, entity_id: str) -> list[RevisionRow]:
        """An entity's revisions, newest first."""
        return await self.store.revisions(entity_id)

    async def audit_log(self, limit: int = 1000, offset: int = 0) -> list[AuditRow]:
        """The audit log, oldest first."""
        return await self.store.audit_entries(limit=limit, offset=offset)

    async def document(self, entity_id: str) -> EntityFile | None:
        """An entity's hand-written content, as a data file would hold it."""
        record = await self.kb.entity(entity_id)
        return None if record is None else record_to_file(record)

    async def before_after(self, correction: CorrectionRow) -> tuple[str, str]:
        """The correction as (current, proposed) text for review."""
        change = CHANGE_ADAPTER.validate_python(correction.change)
        current = await self.document(correction.entity_id) if correction.entity_id else None
        return describe(change, current)

    # -- submitting ---------------------------------------------------------------------------

    async def submit(
        self, submission: Submission, submitter_id: str, guild_id: str | None = None
    ) -> CorrectionRow:
        """Store a valid submission as a pending correction; raise SubmissionRefused otherwise."""
        change = submission.change
        now = self.clock()
        entity_id = submission.entity_id
        if isinstance(change, NewEntity):
            entity_id = None
            if self.index.entity_kind(target_entity_id(None, change)) is not None:
                reasons = [f"an entry with the id {target_entity_id(None, change)} already exists"]
                raise SubmissionRefused(reasons)
        async with self.kb.transaction():
            base_revision = None
            if entity_id is not None:
                base_revision = await self.store.entity_revision(entity_id)
                if base_revision is None:
                    raise SubmissionRefused([f"there is no entry with the id {entity_id}"])
                current = await self.document(entity_id)
                try:
                    apply_change(current, change, source_of(submission.source_url, None), 0)
                except ChangeNotApplicable as exc:
                    raise SubmissionRefused([str(exc)]) from None
            await self._check_limits(submitter_id, now)
            twin = await self._near_duplicate(entity_id, change)
            if twin is not None:
                raise SubmissionRefused(
                    [f"correction #{twin} already proposes this and is waiting for review"], twin
                )
            correction_id = await self.store.insert_correction(
                entity_id=entity_id,
                change=change.model_dump(mode="json"),
                base_revision=base_revision,
                what_is_wrong=submission.what_is_wrong,
                source_url=submission.source_url,
                source_title=submission.source_title,
                note=submission.note,
                submitter_id=submitter_id,
                guild_id=guild_id,
                now=_stamp(now),
            )
            await self.store.audit(
                actor_id=submitter_id,
                action="submit",
                now=_stamp(now),
                correction_id=correction_id,
                entity_id=entity_id or target_entity_id(None, change),
                details={"change": change.type},
            )
        stored = await self.store.correction(correction_id)
        assert stored is not None
        return stored

    async def _check_limits(self, submitter_id: str, now: datetime) -> None:
        hour_ago = _stamp(now - timedelta(hours=1))
        recent = await self.store.submissions_since(submitter_id, hour_ago)
        if recent >= self.limits.submissions_per_hour:
            raise SubmissionRefused(
                [
                    f"you have sent {recent} corrections in the past hour; the limit is "
                    f"{self.limits.submissions_per_hour}, please wait a while"
                ]
            )
        pending = await self.store.corrections(
            status=CorrectionStatus.PENDING,
            submitter_id=submitter_id,
            limit=self.limits.pending_per_user + 1,
        )
        if len(pending) >= self.limits.pending_per_user:
            raise SubmissionRefused(
                [
                    f"you have {len(pending)} corrections waiting for review; the limit is "
                    f"{self.limits.pending_per_user}"
                ]
            )

    async def _near_duplicate(self, entity_id: str | None, change: Change) -> int | None:
        candidates = await self.store.corrections(
            status=CorrectionStatus.PENDING, entity_id=entity_id, limit=500
        )
        for other in candidates:
            if same_change(change, CHANGE_ADAPTER.validate_python(other.change)):
                return other.id
        return None

    async def _made_by(
        self, entity_id: str, change: Change, current: EntityFile | None
    ) -> tuple[int, int] | None:
        """The approved correction that made this same change to the entity, which still says
        so: (its number, the id of the revision that applied it); None when there is none."""
        for revision in await self.store.revisions(entity_id):
            if revision.correction_id is None:
                continue
            other = await self.store.correction(revision.correction_id)
            if other is None:
                continue
            made = CHANGE_ADAPTER.validate_python(other.change)
            if same_change(change, made) and in_effect(made, current, other.id):
                return other.id, revision.id
        return None

    async def superseded_by(self, correction: CorrectionRow) -> int | None:
        """The approved correction that had already made a superseded correction's change."""
        if correction.status is not CorrectionStatus.SUPERSEDED or correction.revision_id is None:
            return None
        change = CHANGE_ADAPTER.validate_python(correction.change)
        entity_id = target_entity_id(correction.entity_id, change)
        for revision in await self.store.revisions(entity_id):
            if revision.id == correction.revision_id:
                return revision.correction_id
        return None

    # -- deciding -----------------------------------------------------------------------------

    async def approve(self, correction_id: int, moderator_id: str) -> Decision:
        """Apply a pending correction once, if its entity has not changed since it was made."""
        now = _stamp(self.clock())
        async with self.kb.transaction():
            correction = await self.store.correction(correction_id)
            if correction is None:
                return Decision(
                    Outcome.NOT_FOUND, None, f"There is no correction #{correction_id}."
                )
            if correction.status is not CorrectionStatus.PENDING:
                return self._already(correction)
            change = CHANGE_ADAPTER.validate_python(correction.change)
            entity_id = target_entity_id(correction.entity_id, change)
            before = await self.document(entity_id)
            made = await self._made_by(entity_id, change, before)
            if made is not None:
                number, revision_id = made
                reason = f"correction #{number} already made this change"
                superseded = await self._close_unapplied(
                    correction_id,
                    CorrectionStatus.SUPERSEDED,
                    moderator_id,
                    now,
                    entity_id,
                    reason=reason,
                    revision_id=revision_id,
                    details={"superseded_by": number},
                )
                return Decision(
                    Outcome.SUPERSEDED,
                    superseded,
                    f"Nothing was applied: {reason}. Correction #{correction_id} is marked "
                    "superseded.",
                    superseded_by=number,
                )
            after, stale_reason = await self._applied(correction, change, entity_id, before)
            if after is None:
                stale = await self._close_unapplied(
                    correction_id,
                    CorrectionStatus.STALE,
                    moderator_id,
                    now,
                    entity_id,
                    reason=stale_reason,
                )
                return Decision(
                    Outcome.STALE,
                    stale,
                    f"Nothing was applied: {stale_reason}. The correction is marked stale; "
                    "the submitter can send it again against the current entry.",
                )
            revision, revision_id = await self._write(
                entity_id,
                before,
                after,
                actor_id=moderator_id,
                reason=correction.what_is_wrong,
                correction_id=correction_id,
                reverts=None,
                now=now,
            )
            await self._decide(
                correction_id,
                CorrectionStatus.APPROVED,
                moderator_id,
                now,
                entity_id,
                revision_id=revision_id,
                details={"revision": revision},
            )
        await self._reindex(entity_id, before, after)
        approved = await self.store.correction(correction_id)
        return Decision(
            Outcome.APPLIED,
            approved,
            f"Correction #{correction_id} is applied: {entity_id} is now at revision {revision}.",
            revision,
        )

    async def _applied(
        self,
        correction: CorrectionRow,
        change: Change,
        entity_id: str,
        before: EntityFile | None,
    ) -> tuple[EntityFile | None, str]:
        """The entity with the change applied, or None and why it cannot be (stale)."""
        current_revision = await self.store.entity_revision(entity_id)
        if current_revision != correction.base_revision:
            if correction.base_revision is None:
                return None, f"an entry with the id {entity_id} was created meanwhile"
            return None, (
                f"the entry changed after this correction was made (revision "
                f"{correction.base_revision} then, {current_revision} now)"
            )
        source = source_of(correction.source_url, correction.source_title)
        try:
            return apply_change(before, change, source, correction.id), ""
        except ChangeNotApplicable as exc:
            return None, str(exc)

    async def _close_unapplied(
        self,
        correction_id: int,
        status: CorrectionStatus,
        moderator_id: str,
        now: str,
        entity_id: str,
        *,
        reason: str,
        revision_id: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> CorrectionRow | None:
        """Close a correction that applies nothing (inside the caller's transaction)."""
        await self._decide(
            correction_id,
            status,
            moderator_id,
            now,
            entity_id,
            reason=reason,
            revision_id=revision_id,
            details=details,
        )
        return await self.store.correction(correction_id)

    async def reject(self, correction_id: int, moderator_id: str, reason: str) -> Decision:
        """Reject a pending correction with a reason (it is kept)."""
        reason = reason.strip()
        if not reason:
            return Decision(Outcome.NOT_ALLOWED, None, "A rejection needs a reason.")
        return await self._close(correction_id, moderator_id, CorrectionStatus.REJECTED, reason)

    async def withdraw(self, correction_id: int, submitter_id: str) -> Decision:
        """The submitter takes back a pending correction."""
        correction = await self.store.correction(correction_id)
        if correction is None or correction.submitter_id != submitter_id:
            return Decision(Outcome.NOT_FOUND, None, f"You have no correction #{correction_id}.")
        return await self._close(correction_id, submitter_id, CorrectionStatus.WITHDRAWN, None)

    async def _close(
        self, correction_id: int, actor_id: str, status: CorrectionStatus, reason: str | None
    ) -> Decision:
        now = _stamp(self.clock())
        async with self.kb.transaction():
            correction = await self.store.correction(correction_id)
            if correction is None:
                return Decision(
                    Outcome.NOT_FOUND, None, f"There is no correction #{correction_id}."
                )
            if correction.status is not CorrectionStatus.PENDING:
                return self._already(correction)
            await self._decide(
                correction_id, status, actor_id, now, correction.entity_id, reason=reason
            )
        closed = await self.store.correction(correction_id)
        outcome = Outcome.REJECTED if status is CorrectionStatus.REJECTED else Outcome.WITHDRAWN
        return Decision(outcome, closed, f"Correction #{correction_id} is {status}.")

    async def _decide(
        self,
        correction_id: int,
        status: CorrectionStatus,
        actor_id: str,
        now: str,
        entity_id: str | None,
        *,
        reason: str | None = None,
        revision_id: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Close a pending correction and log it (inside the caller's transaction)."""
        await self.store.decide(
            correction_id,
            status=status,
            actor_id=actor_id,
            now=now,
            reason=reason,
            revision_id=revision_id,
        )
        action = AUDIT_ACTIONS[status]
        await self.store.audit(
            actor_id=actor_id,
            action=action,
            now=now,
            correction_id=correction_id,
            entity_id=entity_id,
            details=(details or {}) | ({"reason": reason} if reason else {}),
        )

    @staticmethod
    def _already(correction: CorrectionRow) -> Decision:
        who = correction.decided_by or "someone"
        return Decision(
            Outcome.ALREADY_DECIDED,
            correction,
            f"Correction #{correction.id} was already {correction.status} by {who} "
            f"at {correction.decided_at}.",
        )

    async def _write(
        self,
        entity_id: str,
        before: EntityFile | None,
        after: EntityFile,
        *,
        actor_id: str,
        reason: str | None,
        correction_id: int | None,
        reverts: int | None,
        now: str,
    ) -> tuple[int, int]:
        existing = await self.kb.entity(entity_id)
        record = file_to_record(after, existing)
        number = await self.store.write_entity(record, create=existing is None)
        revision_id = await self.store.insert_revision(
            entity_id=entity_id,
            number=number,
            before=None if before is None else curated_json(before),
            after=curated_json(after),
            actor_id=actor_id,
            reason=reason,
            correction_id=correction_id,
            reverts=reverts,
            now=now,
        )
        return number, revision_id

    async def _reindex(
        self, entity_id: str, before: EntityFile | None, after: EntityFile | None
    ) -> None:
        """Update the search index in place: the entity and every entity its claims name."""
        touched = {entity_id}
        for document in (before, after):
            if document is not None:
                touched |= {p.entity for c in document.claims for p in c.parties}
        await reindex(self.kb, self.index, touched)

    # -- reverting ----------------------------------------------------------------------------

    async def revert(self, entity_id: str, number: int, moderator_id: str, reason: str) -> Decision:
        """A new revision that restores the entity to how it was before revision ``number``."""
        reason = reason.strip()
        if not reason:
            return Decision(Outcome.NOT_ALLOWED, None, "A revert needs a reason.")
        now = _stamp(self.clock())
        async with self.kb.transaction():
            target = await self.store.revision(entity_id, number)
            if target is None:
                return Decision(Outcome.NOT_FOUND, None, f"{entity_id} has no revision {number}.")
            before = await self.document(entity_id)
            if target.before is None:
                if before is None:
                    return Decision(
                        Outcome.NOT_ALLOWED,
                        None,
                        f"{entity_id} is not in the knowledge base now; nothing is removed.",
                    )
                if await self.store.mentions_elsewhere(entity_id):
                    return Decision(
                        Outcome.NOT_ALLOWED,
                        None,
                        f"{entity_id} was created by revision {number} and other entries now "
                        "mention it; it cannot be removed.",
                    )
                # The removal is a revision too: /history shows it, and the number it takes
                # keeps what was made against the removed entry stale if it is proposed again.
                new_number = await self.store.next_revision(entity_id)
                await self.store.delete_entity(entity_id)
                await self.store.insert_revision(
                    entity_id=entity_id,
                    number=new_number,
                    before=curated_json(before),
                    after=None,
                    actor_id=moderator_id,
                    reason=reason,
                    correction_id=None,
                    reverts=target.id,
                    now=now,
                )
                details = {"revision": number, "new_revision": new_number, "removed": True}
            else:
                restored = EntityFile.model_validate(target.before)
                new_number, _ = await self._write(
                    entity_id,
                    before,
                    restored,
                    actor_id=moderator_id,
                    reason=reason,
                    correction_id=None,
                    reverts=target.id,
                    now=now,
                )
                details = {"revision": number, "new_revision": new_number}
            await self.store.audit(
                actor_id=moderator_id,
                action="revert",
                now=now,
                entity_id=entity_id,
                details=details | {"reason": reason},
            )
        after = None if target.before is None else EntityFile.model_validate(target.before)
        await self._reindex(entity_id, before, after)
        if after is None:
            return Decision(
                Outcome.APPLIED,
                None,
                f"Revision {number} is undone: {entity_id} is removed (revision {new_number}).",
                new_number,
            )
        return Decision(
            Outcome.APPLIED,
            None,
            f"{entity_id} is restored to its state before revision {number} "
            f"(new revision {new_number}).",
            new_number,
        )

    # -- settings and privacy -----------------------------------------------------------------

    async def guild_settings(self, guild_id: str) -> GuildSettingsRow:
        """A server's moderation settings."""
        return await self.store.guild_settings(guild_id)

    async def configure(
        self,
        guild_id: str,
        actor_id: str,
        *,
        moderator_role_id: str | None = None,
        review_channel_id: str | None = None,
    ) -> GuildSettingsRow:
        """Set a home server's moderator role and/or review channel."""
        now = _stamp(self.clock())
        async with self.kb.transaction():
            current = await self.store.guild_settings(guild_id)
            updated = GuildSettingsRow(
                guild_id,
                moderator_role_id or current.moderator_role_id,
                review_channel_id or current.review_channel_id,
            )
            await self.store.set_guild_settings(updated, actor_id=actor_id, now=now)
            await self.store.audit(
                actor_id=actor_id,
                action="config",
                now=now,
                details={
                    "guild": guild_id,
                    "moderator_role": updated.moderator_role_id,
                    "review_channel": updated.review_channel_id,
                },
            )
        return updated

    async def add_review_post(self, correction_id: int, channel_id: str, message_id: str) -> None:
        """Remember a review post so it can show the outcome later."""
        async with self.kb.transaction():
            await self.store.add_review_post(correction_id, channel_id, message_id)

    async def review_posts(self, correction_id: int) -> list[tuple[str, str]]:
        """Where a correction was posted for review."""
        return await self.store.review_posts(correction_id)

    async def erase_user(self, user_id: str) -> tuple[str, int]:
        """Replace a user's id everywhere it is stored with a random placeholder."""
        placeholder = f"erased:{secrets.token_hex(6)}"
        async with self.kb.transaction():
            changed = await self.store.replace_user_id(user_id, placeholder)
            await self.store.audit(
                actor_id="system",
                action="erase_user",
                now=_stamp(self.clock()),
                details={"rows": changed, "placeholder": placeholder},
            )
        return placeholder, changed


def same_change(change: Change, other: Change) -> bool:
    """Whether two changes propose the same thing: the same target and the same text once folded
    (long texts may differ by a few characters)."""
    if change_target(change) != change_target(other):
        return False
    mine, theirs = fold(change_text(change)), fold(change_text(other))
    long_enough = min(len(mine), len(theirs)) >= NEAR_DUPLICATE_MIN_LENGTH
    return mine == theirs or (long_enough and fuzz.ratio(mine, theirs) >= NEAR_DUPLICATE)


def submission_problems(error: ValidationError) -> list[str]:
    """A pydantic error as short reasons a member can act on."""
    labels = {
        "what_is_wrong": "What is wrong",
        "source_url": "Source URL",
        "source_title": "Source title",
        "note": "Note",
    }
    reasons = []
    for item in error.errors():
        field_name = str(item["loc"][0]) if item["loc"] else ""
        label = labels.get(field_name, "Proposed change" if field_name == "change" else field_name)
        reasons.append(f"{label}: {item['msg'].removeprefix('Value error, ')}")
    return reasons


def revision_touches(revision: RevisionRow) -> set[str]:
    """The entities whose index entries a stored revision may change: its own and every entity
    its claims name, before and after (as ``CorrectionService`` reindexes when applying it)."""
    touched = {revision.entity_id}
    for document in (revision.before, revision.after):
        for claim in (document or {}).get("claims", []):
            touched |= {str(party["entity"]) for party in claim.get("parties", [])}
    return touched


async def reindex(kb: KnowledgeBase, index: SearchIndex, entity_ids: set[str]) -> None:
    """Bring these entities' index entries up to the database, in place, then compact if due."""
    for entity_id in sorted(entity_ids):
        row = await kb.index_row(entity_id)
        if row is None:
            index.remove(entity_id)
        else:
            index.upsert(row)
    index.compact()  # usually nothing to do; see SearchIndex.compact
