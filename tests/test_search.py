"""Search: folding, ranking, the labelled queries, clear-margin choice and in-place updates."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from armsbot.models import Kind
from armsbot.records import IndexRow
from armsbot.search import SearchIndex, fold
from armsbot.search.index import MatchTier

from .conftest import shared_file


@dataclass(frozen=True)
class LabelledQuery:
    kind: Kind | None
    query: str
    expected: str
    rank: str

    def accepts(self, entity_id: str, name: str) -> bool:
        if self.kind is Kind.COUNTRY or re.fullmatch(r"[A-Z]{2}", self.expected):
            return entity_id == self.expected
        return re.search(self.expected, name, re.IGNORECASE) is not None


def labelled_queries() -> list[LabelledQuery]:
    """The queries of shared/eval/search_queries.tsv, read as its header describes."""
    out = []
    for line in shared_file("eval/search_queries.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, query, expected, rank = line.split("\t")
        out.append(LabelledQuery(None if kind == "any" else Kind(kind), query, expected, rank))
    return out


QUERIES = labelled_queries()


def test_the_labelled_file_was_read_whole() -> None:
    assert len(QUERIES) >= 50
    assert {q.rank for q in QUERIES} == {"top1", "top5"}


@pytest.mark.parametrize("case", QUERIES, ids=[f"{q.kind}:{q.query}" for q in QUERIES])
def test_labelled_query(index: SearchIndex, case: LabelledQuery) -> None:
    results = index.search(case.query, case.kind, limit=5)
    window = results[:1] if case.rank == "top1" else results[:5]
    assert any(case.accepts(m.id, m.name) for m in window), [(m.id, m.name) for m in results]


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("U.A.E.", "uae"),
        ("México", "mexico"),
        ("Côte d’Ivoire", "cote divoire"),
        ("Dual-Use Regulation (EU) 2021/821", "dual use regulation eu 2021 821"),
        ("  Saudi   ARABIA ", "saudi arabia"),
        ("ٱلْمَغْرِب", "المغرب"),
        ("Straße", "strasse"),
        ("Ελλάδα", "ελλαδα"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


@given(st.text(max_size=40))
def test_fold_is_idempotent_and_search_never_fails(text: str) -> None:
    once = fold(text)
    assert fold(once) == once
    assert once == once.strip()
    assert "  " not in once


@settings(max_examples=200)
@given(st.text(max_size=30))
def test_any_query_gives_a_well_formed_ranking(index: SearchIndex, text: str) -> None:
    results = index.search(text, None, limit=10)
    assert len(results) <= 10
    assert len({m.id for m in results}) == len(results)
    keys = [(-m.tier, -m.score) for m in results]
    assert keys == sorted(keys)


def test_results_carry_kind_id_name_matched_and_score(index: SearchIndex) -> None:
    top = index.search("pegasus", None, limit=3)[0]
    assert top.to_dict() == {
        "id": "nso-group",
        "kind": "firm",
        "name": "NSO Group",
        "matched": "Pegasus",
        "score": top.to_dict()["score"],
        "match": "exact",
    }
    assert 0 < top.score <= 100


def test_kind_filter(index: SearchIndex) -> None:
    assert all(m.kind is Kind.LAW for m in index.search("israel", Kind.LAW, limit=10))
    assert index.search("israel", Kind.COUNTRY, limit=1)[0].id == "IL"


@pytest.mark.parametrize(
    ("query", "kind", "expected"),
    [
        ("azerbajan", Kind.COUNTRY, "AZ"),
        ("guinea", Kind.COUNTRY, "GN"),
        ("defense export control", Kind.LAW, "defense-export-control-law-2007"),
        ("sudan", Kind.COUNTRY, "SD"),
        ("UAE", Kind.COUNTRY, "AE"),
        ("Harop", Kind.FIRM, "israel-aerospace-industries"),
        ("FinSpy", Kind.FIRM, "finfisher"),
    ],
)
def test_a_clear_margin_chooses_one_entity(
    index: SearchIndex, query: str, kind: Kind, expected: str
) -> None:
    chosen = index.resolve(query, kind).chosen
    assert chosen is not None
    assert chosen.id == expected


@pytest.mark.parametrize("query", ["congo", "korea", "south"])
def test_an_unclear_query_offers_candidates(index: SearchIndex, query: str) -> None:
    resolution = index.resolve(query, Kind.COUNTRY)
    assert resolution.chosen is None
    assert len(resolution.candidates) >= 2


def test_abbreviations_people_type(index: SearchIndex) -> None:
    for query, code in [
        ("UAE", "AE"),
        ("KSA", "SA"),
        ("DRC", "CD"),
        ("DPRK", "KP"),
        ("USA", "US"),
        ("UK", "GB"),
        ("U.S.", "US"),
    ]:
        assert index.search(query, Kind.COUNTRY, limit=1)[0].id == code, query


def test_exact_beats_prefix_beats_typo(index: SearchIndex) -> None:
    results = index.search("niger", Kind.COUNTRY, limit=5)
    assert results[0].id == "NE"
    assert results[0].tier is MatchTier.EXACT
    assert results[1].id == "NG"
    assert results[1].tier is MatchTier.PREFIX
    typo = index.search("nigerria", Kind.COUNTRY, limit=1)[0]
    assert (typo.id, typo.tier) == ("NG", MatchTier.TYPO)


def test_autocomplete_on_empty_input_offers_entities_with_content(index: SearchIndex) -> None:
    choices = index.autocomplete("", Kind.FIRM, limit=25)
    assert 0 < len(choices) <= 25
    assert choices[0].weight >= choices[-1].weight
    assert "nso-group" in [c.id for c in choices[:5]]


def _rows() -> list[IndexRow]:
    return [
        IndexRow("acme", Kind.FIRM, "Acme Systems", 2, (("Snoopware", "product"),)),
        IndexRow("zeta", Kind.FIRM, "Zeta Intelligence", 1, ()),
        IndexRow("AZ", Kind.COUNTRY, "Azerbaijan", 3, (("Azerbaïdjan", "translation"),)),
    ]


def _answers(index: SearchIndex) -> dict[str, list[tuple[str, str]]]:
    queries = ["acme", "snoop", "snoopwre", "zeta", "intel", "trackr", "tracker", "azer", "systems"]
    return {q: [(m.id, m.matched) for m in index.search(q, None, limit=5)] for q in queries}


def test_in_place_update_equals_a_rebuild() -> None:
    index = SearchIndex.build(_rows())
    renamed = IndexRow("acme", Kind.FIRM, "Acme Systems", 2, (("Trackr", "product"),))
    index.upsert(renamed)
    index.remove("zeta")
    index.upsert(IndexRow("omega", Kind.FIRM, "Omega Tracker", 0, ()))
    rebuilt = SearchIndex.build(
        [renamed, _rows()[2], IndexRow("omega", Kind.FIRM, "Omega Tracker", 0, ())]
    )
    assert _answers(index) == _answers(rebuilt)
    assert index.search("snoopware", None, limit=5) == []
    assert index.search("trackr", None, limit=1)[0].id == "acme"


def test_candidates_leave_out_typo_guesses_when_names_match(index: SearchIndex) -> None:
    resolution = index.resolve("congo", Kind.COUNTRY)
    assert resolution.chosen is None
    assert [m.id for m in resolution.candidates] == ["CG", "CD"]
    guesses = index.resolve("xqzlandia", Kind.COUNTRY)
    assert all(m.tier is MatchTier.TYPO for m in guesses.candidates)
