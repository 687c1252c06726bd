"""The seed knowledge base: every claim of the seed article, the firms, laws and countries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from armsbot.models import Kind, Status
from armsbot.search import SearchIndex
from armsbot.storage import KnowledgeBase
from tests.conftest import REPO, TEST_DATA, shared_file

ARTICLE_URL = "https://www.timesofisrael.com/nso-group-affair-is-latest-in-israels-long-history-of-arming-shady-regimes/"
SEED_CLAIMS = yaml.safe_load(
    (REPO / "tests" / "data" / "seed_article_claims.yaml").read_text("utf-8")
)


def test_the_seed_list_quotes_the_article() -> None:
    article = shared_file("reference/seed/nso-affair-article.txt").read_text(encoding="utf-8")
    assert len(SEED_CLAIMS) >= 30
    missing = [item["quote"] for item in SEED_CLAIMS if item["quote"] not in article]
    assert missing == []


@pytest.mark.parametrize("item", SEED_CLAIMS, ids=[i["claim"] for i in SEED_CLAIMS])
async def test_each_seed_claim_is_in_the_knowledge_base(
    kb: KnowledgeBase, item: dict[str, str]
) -> None:
    claims = {c.id: c for c in await kb.claims_by_id([item["claim"]])}
    claim = claims.get(item["claim"])
    assert claim is not None, f"{item['claim']} is not in the knowledge base"
    assert claim.status is Status(item["status"])
    assert claim.sources
    assert any(s.url == ARTICLE_URL for s in claim.sources)


def test_every_claim_of_facts_jsonl_has_its_subject(index: SearchIndex) -> None:
    kinds = {"country": Kind.COUNTRY, "firm": Kind.FIRM, "law": Kind.LAW}
    missing = []
    for line in (TEST_DATA / "facts.jsonl").read_text(encoding="utf-8").splitlines():
        fact = json.loads(line)
        if not index.search(fact["subject"], kinds[fact["kind"]], limit=5):
            missing.append(fact["subject"])
    assert missing == []


@pytest.mark.parametrize(
    ("alias", "entity"),
    [
        ("Pegasus", "nso-group"),
        ("Harop", "israel-aerospace-industries"),
        ("FinSpy", "finfisher"),
        ("UFED", "cellebrite"),
        ("Q Cyber Technologies", "nso-group"),
    ],
)
def test_products_and_former_names_find_their_firm(
    index: SearchIndex, alias: str, entity: str
) -> None:
    top = index.search(alias, Kind.FIRM, limit=1)[0]
    assert top.id == entity
    assert top.matched == alias


def test_historical_states_that_claims_need_exist(index: SearchIndex) -> None:
    assert index.search("Yugoslavia", Kind.COUNTRY, limit=1)[0].id == "YU"


async def test_every_claim_has_a_status_a_party_and_a_linked_source(
    kb: KnowledgeBase, data_dir: Path
) -> None:
    assert await kb.integrity_problems() == []
    counts = await kb.count()
    assert counts["claims"] >= 80
    assert counts["firm"] >= 9
    assert counts["law"] >= 15
