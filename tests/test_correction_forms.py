"""What the correction forms make of typed text, without Discord: services/correction_forms.py."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from armsbot.changes import AddClaim, ClaimStatusChange, EditField, NewEntity, RetireClaim
from armsbot.models import LawType, Status
from armsbot.search.index import SearchIndex
from armsbot.services.correction_forms import (
    FormChange,
    FormProblem,
    correction_submission,
    new_claim_submission,
    new_entry_submission,
)

URL = "https://example.org/report"


def test_each_change_of_the_form_becomes_its_change() -> None:
    def made(kind: FormChange, proposed: str) -> object:
        return correction_submission(
            kind,
            "AZ",
            "az-claim" if kind.needs_claim else None,
            proposed=proposed,
            what_is_wrong="Out of date.",
            source_url=URL,
            source_title=" ",
            note="",
        ).change

    assert made(FormChange.SUMMARY, "  New text. ") == EditField(field="summary", value="New text.")
    assert made(FormChange.CLAIM_STATUS, "Confirmed") == ClaimStatusChange(
        claim_id="az-claim", status=Status.CONFIRMED
    )
    assert made(FormChange.RETIRE_CLAIM, "ignored") == RetireClaim(claim_id="az-claim")
    assert [k for k in FormChange if k.needs_claim] == [
        FormChange.CLAIM_STATUS,
        FormChange.CLAIM_TEXT,
        FormChange.RETIRE_CLAIM,
    ]
    with pytest.raises(ValidationError, match="status"):
        made(FormChange.CLAIM_STATUS, "probably")


def test_a_new_claim_reads_status_and_date_as_typed() -> None:
    submission = new_claim_submission(
        "nso-group",
        text="A reported sale.",
        status=" Reported ",
        category="transfer",
        date=" ",
        source_url=URL,
        source_title="",
    )
    assert isinstance(submission.change, AddClaim)
    assert (submission.change.status, submission.change.date) == (Status.REPORTED, None)
    assert submission.source_title is None


def test_a_new_entry_resolves_its_country_or_says_which_name_failed(index: SearchIndex) -> None:
    def entry(kind: str, place: str) -> NewEntity:
        change = new_entry_submission(
            index,
            kind,
            name="Example Intercept SA",
            summary="A firm.",
            aliases="Example, , EI SA",
            place=place,
            source_url=URL,
            source_title="",
        ).change
        assert isinstance(change, NewEntity)
        return change

    firm = entry("firm", "Israel")
    assert (firm.headquarters, firm.aliases) == ("IL", ["Example", "EI SA"])
    assert entry("firm", "").headquarters is None
    with pytest.raises(FormProblem, match="no single country matches “Atlantis”"):
        entry("firm", "Atlantis")
    law = entry("law", "Israel, executive order")
    assert (law.jurisdiction, law.law_type) == ("Israel", LawType.EXECUTIVE_ORDER)
    assert entry("law", "Mexico").law_type is LawType.STATUTE
