"""What a correction proposes, and how the change is applied to an entity's hand-written content.

A change is data (pydantic, stored as JSON with the correction) and applying it is a pure function
from one :class:`EntityFile` to the next, so the same change gives the same result in the service,
in tests and when a revision is replayed.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from anyascii import anyascii
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from armsbot.models import (
    MAX_CLAIM,
    MAX_ENTITY_ID,
    MAX_NAME,
    MAX_SUMMARY,
    Alias,
    AliasType,
    Category,
    Claim,
    Clean,
    EntityFile,
    Kind,
    LawType,
    Party,
    Role,
    Source,
    Status,
    Strict,
    check_http_url,
)

MAX_REASON = 1000
# A new entity's id, leaving room under MAX_ENTITY_ID for "-community-<n>" in its claims' ids.
MAX_SLUG = 60
MAX_NOTE = 1000


class CorrectionStatus(StrEnum):
    """Where a correction stands: waiting for review, or how it was closed."""

    PENDING = "pending"
    APPROVED = "approved"  # applied: a revision of the entry carries it
    REJECTED = "rejected"  # a moderator said no, with a reason
    WITHDRAWN = "withdrawn"  # its submitter took it back
    STALE = "stale"  # the entry changed after it was made, so nothing was applied
    SUPERSEDED = "superseded"  # another approved correction had already made the same change


ClaimId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80)]
Text = Annotated[str, Clean, StringConstraints(min_length=1, max_length=MAX_CLAIM)]
Name = Annotated[str, Clean, StringConstraints(min_length=1, max_length=MAX_NAME)]
LongText = Annotated[str, Clean, StringConstraints(min_length=1, max_length=MAX_SUMMARY)]


class ChangeModel(BaseModel):
    """Base of the change types: unknown keys are errors; text fields are checked by type."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class EditField(ChangeModel):
    """Replace the entity's name or summary."""

    type: Literal["edit_field"] = "edit_field"
    field: Literal["name", "summary"]
    value: LongText


class AddAlias(ChangeModel):
    """Add another name (former name, product, abbreviation ...)."""

    type: Literal["add_alias"] = "add_alias"
    name: Name
    alias_type: AliasType = AliasType.NAME


class ClaimStatusChange(ChangeModel):
    """Change how sure a claim is."""

    type: Literal["claim_status"] = "claim_status"
    claim_id: ClaimId
    status: Status


class ClaimTextChange(ChangeModel):
    """Reword a claim."""

    type: Literal["claim_text"] = "claim_text"
    claim_id: ClaimId
    text: Text


class RetireClaim(ChangeModel):
    """Remove a claim from the current answer (its revisions keep it)."""

    type: Literal["retire_claim"] = "retire_claim"
    claim_id: ClaimId


class AddClaim(ChangeModel):
    """A new claim about the entity."""

    type: Literal["add_claim"] = "add_claim"
    text: Text
    status: Status
    category: Category = Category.BACKGROUND
    role: Role = Role.SUBJECT
    date: str | None = None
    product: Name | None = None

    @field_validator("date")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", value):
            msg = "must be a year (2021), a month (2021-07) or a day (2021-07-18)"
            raise ValueError(msg)
        return value


class NewEntity(ChangeModel):
    """A firm or law the knowledge base does not have yet."""

    type: Literal["new_entity"] = "new_entity"
    kind: Literal[Kind.FIRM, Kind.LAW]
    name: Name
    summary: LongText | None = None
    aliases: list[Name] = Field(default_factory=list, max_length=20)
    law_type: LawType | None = None
    jurisdiction: Name | None = None
    headquarters: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = None


Change = Annotated[
    EditField | AddAlias | ClaimStatusChange | ClaimTextChange | RetireClaim | AddClaim | NewEntity,
    Field(discriminator="type"),
]


class Submission(Strict):
    """A correction as a member submits it: the change, why, and the source."""

    entity_id: Annotated[str, StringConstraints(max_length=MAX_ENTITY_ID)] | None
    change: Change
    what_is_wrong: Annotated[str, StringConstraints(min_length=1, max_length=MAX_REASON)]
    source_url: Annotated[str, StringConstraints(max_length=500)]
    source_title: Name | None = None
    note: Annotated[str, StringConstraints(max_length=MAX_NOTE)] | None = None

    _url = field_validator("source_url")(check_http_url)

    @field_validator("source_title", "note", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


class ChangeNotApplicable(Exception):
    """The change no longer fits the entity (the claim it edits is gone, say)."""


def slugify(text: str, limit: int = MAX_SLUG) -> str:
    """A lower-case ASCII slug for an entity or claim id; other scripts are transliterated.

    Names that transliterate to nothing, and long names cut to ``limit``, end in a short hash of
    the whole name, so two different names do not get the same id.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", anyascii(text).lower()).strip("-")
    if slug and len(slug) <= limit:
        return slug
    digest = hashlib.sha256(text.casefold().encode()).hexdigest()[:8]
    if not slug:
        return f"entity-{digest}"
    return f"{slug[: limit - len(digest) - 1].rstrip('-')}-{digest}"


def source_of(submission_url: str, title: str | None) -> Source:
    """The source a correction cites, titled by the submitter or by the site's name."""
    host = urlsplit(submission_url).hostname or submission_url
    return Source(url=submission_url, title=title or host.removeprefix("www."))


def target_entity_id(entity_id: str | None, change: Change) -> str:
    """The entity a change applies to (a new entity's id comes from its name)."""
    if isinstance(change, NewEntity):
        return slugify(change.name)
    if entity_id is None:
        msg = "this change needs an entity"
        raise ChangeNotApplicable(msg)
    return entity_id


def _find_claim(entity: EntityFile, claim_id: str) -> int:
    for i, claim in enumerate(entity.claims):
        if claim.id == claim_id:
            return i
    msg = f"the claim {claim_id} is not (or no longer) filed under {entity.id}"
    raise ChangeNotApplicable(msg)


def apply_change(
    entity: EntityFile | None, change: Change, source: Source, correction_id: int
) -> EntityFile:
    """The entity's hand-written content after the change; raises ChangeNotApplicable."""
    if isinstance(change, NewEntity):
        if entity is not None:
            msg = f"an entry with the id {entity.id} already exists"
            raise ChangeNotApplicable(msg)
        fresh: dict[str, Any] = {
            "kind": change.kind,
            "id": slugify(change.name),
            "name": change.name,
            "summary": change.summary,
            "aliases": [Alias(name=a) for a in change.aliases],
        }
        if change.kind is Kind.LAW:
            fresh["law"] = {
                "type": change.law_type or LawType.STATUTE,
                "jurisdiction": change.jurisdiction or "unknown",
            }
        elif change.headquarters:
            fresh["firm"] = {"headquarters": change.headquarters}
        return _validated(fresh)
    if entity is None:
        msg = "the entry no longer exists"
        raise ChangeNotApplicable(msg)
    data: dict[str, Any] = entity.model_dump(mode="python")
    claims: list[dict[str, Any]] = data["claims"]
    if isinstance(change, EditField):
        data[change.field] = change.value
    elif isinstance(change, AddAlias):
        data["aliases"].append({"name": change.name, "type": change.alias_type})
    elif isinstance(change, ClaimStatusChange):
        claims[_find_claim(entity, change.claim_id)]["status"] = change.status
    elif isinstance(change, ClaimTextChange):
        claims[_find_claim(entity, change.claim_id)]["text"] = change.text
    elif isinstance(change, RetireClaim):
        del claims[_find_claim(entity, change.claim_id)]
    else:
        claim = Claim(
            id=community_claim_id(entity.id, correction_id),
            text=change.text,
            status=change.status,
            category=change.category,
            date=change.date,
            product=change.product,
            parties=[Party(entity=entity.id, role=change.role)],
            sources=[source],
        )
        claims.append(claim.model_dump(mode="python"))
    return _validated(data)


def community_claim_id(entity_id: str, correction_id: int) -> str:
    """The id of the claim a correction adds to an entity."""
    return f"{slugify(entity_id)}-community-{correction_id}"


def in_effect(change: Change, entity: EntityFile | None, correction_id: int) -> bool:
    """Whether the entity still says what the change, applied by correction ``correction_id``,
    made it say (nothing has undone or overwritten it since)."""
    if isinstance(change, NewEntity):
        return entity is not None
    if entity is None:
        return False
    if isinstance(change, EditField):
        return bool(getattr(entity, change.field) == change.value)
    if isinstance(change, AddAlias):
        return any(alias.name == change.name for alias in entity.aliases)
    if isinstance(change, AddClaim):
        added = community_claim_id(entity.id, correction_id)
        return any(claim.id == added for claim in entity.claims)
    claim = next((c for c in entity.claims if c.id == change.claim_id), None)
    if isinstance(change, RetireClaim):
        return claim is None
    if claim is None:
        return False
    if isinstance(change, ClaimStatusChange):
        return claim.status == change.status
    return claim.text == change.text


def _validated(data: dict[str, Any]) -> EntityFile:
    try:
        return EntityFile.model_validate(data)
    except ValidationError as exc:
        reasons = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise ChangeNotApplicable(reasons) from None


def describe(change: Change, entity: EntityFile | None) -> tuple[str, str]:
    """The change as (before, after) text for a reviewer."""
    if isinstance(change, NewEntity):
        after = f"new {change.kind.value}: {change.name}"
        if change.summary:
            after += f"\n{change.summary}"
        if change.aliases:
            after += f"\nalso known as: {', '.join(change.aliases)}"
        return "(nothing)", after
    if isinstance(change, EditField):
        current = getattr(entity, change.field, None) if entity else None
        return f"{change.field}: {current or '(empty)'}", f"{change.field}: {change.value}"
    if isinstance(change, AddAlias):
        names = ", ".join(a.name for a in entity.aliases) if entity else ""
        return (
            f"aliases: {names or '(none)'}",
            f"add alias: {change.name} ({change.alias_type.value})",
        )
    if isinstance(change, AddClaim):
        return "(no such claim)", f"[{change.status.value}] {change.text}"
    claim = next((c for c in entity.claims if c.id == change.claim_id), None) if entity else None
    before = (
        f"[{claim.status.value}] {claim.text}" if claim else f"(claim {change.claim_id} not found)"
    )
    if isinstance(change, ClaimStatusChange):
        return before, f"status: {change.status.value}"
    if isinstance(change, ClaimTextChange):
        status = claim.status.value if claim else "?"
        return before, f"[{status}] {change.text}"
    return before, "(claim retired)"


def change_target(change: Change) -> str:
    """What a change touches, so two corrections of the same thing can be recognised."""
    if isinstance(change, EditField):
        return f"field:{change.field}"
    if isinstance(change, ClaimStatusChange | ClaimTextChange | RetireClaim):
        return f"claim:{change.claim_id}"
    if isinstance(change, NewEntity):
        return f"new:{slugify(change.name)}"
    return change.type


def change_text(change: Change) -> str:
    """The proposed content of a change, for spotting near-duplicate submissions."""
    for attribute in ("value", "name", "text", "status"):
        value = getattr(change, attribute, None)
        if value is not None:
            return str(value)
    return change.type
