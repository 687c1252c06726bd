"""What a member typed into a correction form, turned into a :class:`Submission`.

The forms (the bot's modals) only collect text; which change it makes, and how a typed country or
law type is read, is decided here, so every front end builds the same submission from the same
words. Each function raises pydantic's ``ValidationError`` for text a submission cannot hold and
:class:`FormProblem` for a typed value that names nothing.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from armsbot.changes import Submission
from armsbot.models import Kind, LawType
from armsbot.search.index import SearchIndex


class FormChange(StrEnum):
    """The changes the correction form offers for an existing entry."""

    SUMMARY = "summary"
    NAME = "name"
    ALIAS = "alias"
    CLAIM_STATUS = "claim_status"
    CLAIM_TEXT = "claim_text"
    RETIRE_CLAIM = "retire_claim"

    @property
    def needs_claim(self) -> bool:
        """Whether the change is to one claim (the member must pick it)."""
        return self in {FormChange.CLAIM_STATUS, FormChange.CLAIM_TEXT, FormChange.RETIRE_CLAIM}


class FormProblem(ValueError):
    """A value typed into a form that names nothing the knowledge base knows."""


def _change(kind: FormChange, claim_id: str | None, proposed: str) -> dict[str, Any]:
    typed = proposed.strip()
    if kind in (FormChange.SUMMARY, FormChange.NAME):
        return {"type": "edit_field", "field": kind.value, "value": typed}
    if kind is FormChange.ALIAS:
        return {"type": "add_alias", "name": typed}
    if kind is FormChange.CLAIM_STATUS:
        return {"type": "claim_status", "claim_id": claim_id, "status": typed.casefold()}
    if kind is FormChange.CLAIM_TEXT:
        return {"type": "claim_text", "claim_id": claim_id, "text": typed}
    return {"type": "retire_claim", "claim_id": claim_id}


def correction_submission(
    kind: FormChange,
    entity_id: str,
    claim_id: str | None,
    *,
    proposed: str,
    what_is_wrong: str,
    source_url: str,
    source_title: str,
    note: str,
) -> Submission:
    """A change to an existing entry (``proposed`` is the new text; unused to retire a claim)."""
    return Submission.model_validate(
        {
            "entity_id": entity_id,
            "change": _change(kind, claim_id, proposed),
            "what_is_wrong": what_is_wrong,
            "source_url": source_url,
            "source_title": source_title,
            "note": note,
        }
    )


def new_claim_submission(
    entity_id: str,
    *,
    text: str,
    status: str,
    category: str,
    date: str,
    source_url: str,
    source_title: str,
) -> Submission:
    """A claim the entry lacks (``date``: a year, month or day, or blank)."""
    return Submission.model_validate(
        {
            "entity_id": entity_id,
            "change": {
                "type": "add_claim",
                "text": text,
                "status": status.strip().casefold(),
                "category": category,
                "date": date.strip() or None,
            },
            "what_is_wrong": "A claim the entry is missing.",
            "source_url": source_url,
            "source_title": source_title,
        }
    )


def new_entry_submission(
    index: SearchIndex,
    kind: str,
    *,
    name: str,
    summary: str,
    aliases: str,
    place: str,
    source_url: str,
    source_title: str,
) -> Submission:
    """A firm or law the knowledge base lacks.

    ``aliases`` are comma-separated; ``place`` is a firm's headquarters country (optional, any
    name the index resolves to one country) or a law's "jurisdiction, type" (the type defaults
    to statute).
    """
    change: dict[str, Any] = {
        "type": "new_entity",
        "kind": kind,
        "name": name,
        "summary": summary,
        "aliases": [a.strip() for a in aliases.split(",") if a.strip()],
    }
    typed_place = place.strip()
    if kind == Kind.FIRM.value and typed_place:
        found = index.resolve(typed_place, Kind.COUNTRY).chosen
        if found is None:
            msg = f"no single country matches “{typed_place}”"
            raise FormProblem(msg)
        change["headquarters"] = found.id
    elif kind == Kind.LAW.value:
        jurisdiction, _, law_type = typed_place.partition(",")
        change["jurisdiction"] = jurisdiction.strip()
        change["law_type"] = law_type.strip().casefold().replace(" ", "_") or LawType.STATUTE.value
    return Submission.model_validate(
        {
            "entity_id": None,
            "change": change,
            "what_is_wrong": "A missing entry.",
            "source_url": source_url,
            "source_title": source_title,
        }
    )
