"""Claims read from the knowledge base's rows without validation: the same as validated ones."""

from __future__ import annotations

from armsbot.models import Category, Claim, Party, Provenance, Role, Source, Status
from armsbot.storage import KnowledgeBase
from armsbot.storage.knowledge_base import ListedClaim, trusted


async def _claim_ids(kb: KnowledgeBase) -> list[str]:
    async with kb.db.execute("SELECT id FROM claims ORDER BY id") as cursor:
        return [str(r[0]) for r in await cursor.fetchall()]


async def test_claims_read_from_rows_equal_the_validated_claims(kb: KnowledgeBase) -> None:
    claims = await kb.claims_by_id(await _claim_ids(kb))
    assert len(claims) > 100
    for claim in claims:
        again = Claim.model_validate(claim.model_dump())
        assert again == claim
        assert again.model_fields_set == claim.model_fields_set == set(Claim.model_fields)
        assert [type(p) for p in claim.parties] == [Party] * len(claim.parties)
        assert [type(s) for s in claim.sources] == [Source] * len(claim.sources)


def test_trusted_models_are_what_model_construct_makes() -> None:
    values = {
        "id": "acme-bz-2020",
        "text": "Acme sold Belize a thing.",
        "status": Status.REPORTED,
        "category": Category.TRANSFER,
        "date": "2020",
        "date_text": None,
        "reported": None,
        "parties": [Party(entity="acme", role="supplier")],
        "product": None,
        "end_user": None,
        "goods": ["drones"],
        "sources": [Source(url="https://example.org/a", title="A")],
        "provenance": Provenance(dataset="sii", checksum="0" * 64, record="r1"),
        "distinct_from": [],
    }
    party = {"entity": "acme", "role": Role.SUPPLIER}
    for model, fields in ((Claim, values), (Party, party)):
        made = trusted(model, dict(fields))
        constructed = model.model_construct(**fields)
        assert made == constructed
        assert made.model_fields_set == constructed.model_fields_set
        assert made.model_dump() == constructed.model_dump()
    # Frozen, so a party is a dictionary key (the claim reader shares them) alike either way.
    assert hash(trusted(Party, dict(party))) == hash(Party.model_construct(**party))
    # Every model it makes has no post-init or private attributes to set up.
    assert all(
        not m.__pydantic_post_init__ and not m.__private_attributes__
        for m in (Claim, Party, Source, Provenance)
    )


async def test_listed_claims_show_what_the_claims_hold(kb: KnowledgeBase) -> None:
    ids = await _claim_ids(kb)
    claims = {c.id: c for c in await kb.claims_by_id(ids)}
    listed = await kb.listed_claims([*ids, "no-such-claim"])
    assert listed.keys() == claims.keys()
    for claim_id, claim in claims.items():
        assert listed[claim_id]._asdict() == {f: getattr(claim, f) for f in ListedClaim._fields}
    assert await kb.listed_claims([]) == {}
