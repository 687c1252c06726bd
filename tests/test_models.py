"""The data-file models accept what people write and refuse, with a reason, what they must not."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from armsbot.models import AliasType, EntityFile, Status


def firm(**overrides: Any) -> dict[str, Any]:
    claim = {
        "id": "acme-sale",
        "text": "Acme reportedly sold a system to a ministry.",
        "status": "reported",
        "category": "transfer",
        "date": 2021,
        "parties": [{"entity": "acme", "role": "supplier"}, {"entity": "AZ", "role": "recipient"}],
        "sources": [{"url": "https://example.org/a", "title": "A report", "date": "2021-07-18"}],
    }
    base: dict[str, Any] = {
        "kind": "firm",
        "id": "acme",
        "name": "Acme",
        "aliases": ["Acme Ltd", {"name": "Snoop", "type": "product"}],
        "firm": {"headquarters": "IL", "founded": 2010},
        "claims": [claim],
    }
    base.update(overrides)
    return base


def errors(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        EntityFile.model_validate(data)
    return {".".join(map(str, e["loc"])): e["msg"] for e in caught.value.errors()}


def with_claim(**changes: Any) -> dict[str, Any]:
    data = firm()
    data["claims"] = [{**data["claims"][0], **changes}]
    return data


def test_a_valid_file_keeps_dates_as_text_and_expands_alias_shorthand() -> None:
    entity = EntityFile.model_validate(firm())
    assert entity.claims[0].date == "2021"
    assert entity.claims[0].status is Status.REPORTED
    assert entity.firm is not None
    assert entity.firm.founded == "2010"
    assert [(a.name, a.type) for a in entity.aliases] == [
        ("Acme Ltd", AliasType.NAME),
        ("Snoop", AliasType.PRODUCT),
    ]


@pytest.mark.parametrize(
    ("changes", "field", "reason"),
    [
        (
            {"status": "rumoured"},
            "claims.0.status",
            "'confirmed', 'reported', 'alleged' or 'denied'",
        ),
        ({"sources": []}, "claims.0.sources", "at least 1"),
        ({"sources": [{"url": "ftp://x.org/a", "title": "t"}]}, "claims.0.sources.0.url", "http"),
        (
            {"sources": [{"url": "https://u:p@x.org/", "title": "t"}]},
            "claims.0.sources.0.url",
            "password",
        ),
        ({"sources": [{"url": "https:///nohost", "title": "t"}]}, "claims.0.sources.0.url", "host"),
        ({"sources": [{"title": "t"}]}, "claims.0", "needs a url"),
        ({"date": "July 2021"}, "claims.0.date", "must be a year"),
        ({"date": "2021-13"}, "claims.0.date", "must be a year"),
        ({"text": "Acme\u202esold"}, "claims.0.text", "direction-changing"),
        ({"text": "Acme\x07sold"}, "claims.0.text", "control character"),
        ({"parties": []}, "claims.0.parties", "at least 1"),
        ({"id": "Not A Slug"}, "claims.0.id", "pattern"),
        ({"colour": "red"}, "claims.0.colour", "Extra inputs"),
    ],
)
def test_bad_claims_are_refused_with_field_and_reason(
    changes: dict[str, Any], field: str, reason: str
) -> None:
    found = errors(with_claim(**changes))
    assert field in found, found
    assert reason in found[field]


def test_entity_level_rules() -> None:
    assert "ISO 3166-1" in errors({"kind": "country", "id": "azerbaijan"})[""]
    assert "slug" in errors(firm(id="NS"))[""]
    assert "'law' section" in errors({"kind": "law", "id": "x", "name": "X"})[""]
    assert (
        "cannot have a 'law' section"
        in errors(firm(law={"type": "statute", "jurisdiction": "Israel"}))[""]
    )
    assert "share an id" in errors(firm(claims=[firm()["claims"][0]] * 2))[""]
    assert "needs a name" in errors({"kind": "firm", "id": "nameless"})[""]


def test_imported_claims_may_cite_without_a_link() -> None:
    data = with_claim(
        sources=[{"title": "Privacy International, 2016"}],
        provenance={"dataset": "sii", "checksum": "0" * 64, "record": "42"},
    )
    entity = EntityFile.model_validate(data)
    assert entity.claims[0].sources[0].url is None


@given(st.text(max_size=60))
def test_any_claim_text_is_accepted_cleanly_or_refused(text: str) -> None:
    try:
        entity = EntityFile.model_validate(with_claim(text=text))
    except ValidationError:
        return
    stored = entity.claims[0].text
    assert stored == stored.strip()
    assert stored
    assert "\u202e" not in stored
    assert "\u200b" not in stored
