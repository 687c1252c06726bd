"""Entity ids: unique for names in any script (F6), short enough for Discord's custom ids (F4)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from armsbot.bot.claim_buttons import ClaimsButton, query_payload
from armsbot.bot.components import CardButton, OpenEntityButton, PageButton
from armsbot.bot.persistent import LOOKUP_BUTTONS
from armsbot.changes import MAX_SLUG, NewEntity, Submission, slugify
from armsbot.datafiles import read_entity_file
from armsbot.models import MAX_ENTITY_ID, EntityFile, Kind
from armsbot.search.index import SearchIndex
from armsbot.services.claims import ClaimQuery
from armsbot.services.corrections import CorrectionService, Limits, Outcome
from armsbot.storage import KnowledgeBase

CUSTOM_ID_LIMIT = 100  # Discord's limit on a component's custom id
MOD = "discord:900"
MEMBER = "discord:100"


@pytest.fixture
async def service(kb: KnowledgeBase) -> CorrectionService:
    index = SearchIndex.build(await kb.index_rows())
    return CorrectionService(kb, index, Limits(submissions_per_hour=50, pending_per_user=50))


async def add_firm(service: CorrectionService, name: str, submitter: str = MEMBER) -> str:
    submission = Submission.model_validate(
        {
            "entity_id": None,
            "change": NewEntity(kind=Kind.FIRM, name=name),
            "what_is_wrong": "The firm is missing.",
            "source_url": "https://example.org/report",
        }
    )
    correction = await service.submit(submission, submitter)
    decision = await service.approve(correction.id, MOD)
    assert decision.outcome is Outcome.APPLIED, decision.message
    return slugify(name)


# -- F4: ids within Discord's limits -----------------------------------------------------------


def test_f4_the_longest_custom_id_built_from_the_longest_id_fits_discord() -> None:
    longest_id = "nso-" + "a" * (MAX_ENTITY_ID - 4)
    assert len(longest_id) == MAX_ENTITY_ID
    EntityFile.model_validate({"kind": "firm", "id": longest_id, "name": "Long"})
    built = [
        OpenEntityButton(longest_id, "Long").custom_id,
        CardButton(longest_id, "Long").custom_id,
        PageButton(longest_id, 999, "Next").custom_id,  # the template allows three digits
    ]
    # A claims button carries its query inline up to 100 characters, or else a key to it.
    inline = query_payload(ClaimQuery.make("x" * 80))
    keyed = query_payload(ClaimQuery.make("x" * 81, parties=[longest_id]))
    assert (inline[0], keyed[0]) == ("=", "#")
    claims_ids = [ClaimsButton(p, 999, "Next").custom_id for p in (inline, keyed)]
    assert len(claims_ids[0]) == CUSTOM_ID_LIMIT
    assert len(built) + 1 == len(LOOKUP_BUTTONS)  # every kind of button, built
    for custom_id in (*built, *claims_ids):
        assert len(custom_id) <= CUSTOM_ID_LIMIT, custom_id
        # ... and every button is rebuilt from its id after a restart.
        assert any(
            item.__discord_ui_compiled_template__.fullmatch(custom_id)  # type: ignore[attr-defined]
            for item in LOOKUP_BUTTONS
        )
    assert max(map(len, built)) == len(f"armsbot:page:{longest_id}:999")


def test_f4_an_entity_id_longer_than_the_cap_is_refused_in_a_data_file(tmp_path: Path) -> None:
    long_id = "a" * 95  # the attack's firm id, whose page button id was 108 characters
    path = tmp_path / "firms" / f"{long_id}.yaml"
    path.parent.mkdir()
    path.write_text(f"kind: firm\nid: {long_id}\nname: Long\n", encoding="utf-8")
    entity, problems = read_entity_file(path, tmp_path)
    assert entity is None
    assert [str(p) for p in problems] == [
        f"firms/{long_id}.yaml: id: String should have at most {MAX_ENTITY_ID} characters"
    ]
    with pytest.raises(ValidationError, match=f"at most {MAX_ENTITY_ID} characters"):
        EntityFile.model_validate(
            {
                "kind": "country",
                "id": "AZ",
                "claims": [
                    {
                        "id": "c",
                        "text": "t",
                        "status": "reported",
                        "category": "use",
                        "parties": [
                            {"entity": "AZ", "role": "subject"},
                            {"entity": long_id, "role": "supplier"},
                        ],
                        "sources": [{"url": "https://example.org/", "title": "t"}],
                    }
                ],
            }
        )


def test_f4_slugs_of_long_names_fit_and_stay_distinct() -> None:
    first, second = "Very Long Name " * 10 + "One", "Very Long Name " * 10 + "Two"
    assert len(slugify(first)) == MAX_SLUG
    assert slugify(first) != slugify(second)
    assert slugify(first) == slugify(first.upper())
    # A claim id built on the longest slug still fits the claim id's own limit.
    assert len(f"{slugify(first)}-community-{10**9 - 1}") <= MAX_ENTITY_ID


# -- F6: names in other scripts ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("NSO Group", "nso-group"),
        ("Société Générale", "societe-generale"),
        ("Ростех", "rostekh"),
        ("Рособоронэкспорт", "rosoboroneksport"),
        ("Укрспецекспорт", "ukrspetseksport"),
        ("中国电子科技集团", "zhongguodianzikejijituan"),
        ("الصناعات العسكرية", "lsn-t-l-skryh"),
        ("Ελληνικά Αμυντικά Συστήματα", "ellinika-amyntika-systimata"),
    ],
)
def test_f6_names_in_any_script_get_a_readable_id(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_f6_a_name_with_nothing_to_transliterate_gets_an_id_of_its_own() -> None:
    first, second = slugify("\U000f0001"), slugify("\U000f0002")  # private-use characters
    assert re.fullmatch(r"entity-[0-9a-f]{8}", first)
    assert first != second


async def test_f6_several_non_latin_firms_can_be_added(
    service: CorrectionService, kb: KnowledgeBase
) -> None:
    names = ["Ростех", "Рособоронэкспорт", "中国电子科技集团", "\U000f0001\U000f0002"]
    ids = []
    for number, name in enumerate(names):
        ids.append(await add_firm(service, name, f"discord:{200 + number}"))
    assert ids == [
        "rostekh",
        "rosoboroneksport",
        "zhongguodianzikejijituan",
        slugify(names[3]),
    ]
    assert ids[3].startswith("entity-")
    for entity_id, name in zip(ids, names, strict=True):
        entity = await kb.entity(entity_id)
        assert entity is not None
        assert entity.name == name
    for entity_id, name in zip(ids[:3], names, strict=False):
        assert service.index.search(name, Kind.FIRM, 1)[0].id == entity_id
