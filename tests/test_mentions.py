"""Which entities a text names (the message command's reading): exact names over word spans."""

from __future__ import annotations

from armsbot.search.index import SearchIndex
from armsbot.search.mentions import mentions


def named(index: SearchIndex, text: str) -> list[tuple[str, str, bool]]:
    return [(m.match.id, m.match.matched, m.product) for m in mentions(index, text)]


def test_products_count_for_the_firm_that_makes_them(index: SearchIndex) -> None:
    assert named(index, "Reports say Pegasus was used by Azerbaijan against journalists.") == [
        ("nso-group", "Pegasus", True),
        ("AZ", "Azerbaijan", False),
    ]


def test_the_longest_name_wins_and_each_entity_is_listed_once(index: SearchIndex) -> None:
    text = "Saudi Arabia signed the Arms Trade Treaty? No: Saudi Arabia did not, says NSO Group."
    assert [i for i, _, _ in named(index, text)] == ["SA", "arms-trade-treaty", "nso-group"]


def test_short_names_count_only_in_capitals_and_codes_never(index: SearchIndex) -> None:
    assert named(index, "let us see, it is in the news") == []
    assert [i for i, _, _ in named(index, "the US and the UAE")] == ["US", "AE"]
    assert named(index, "AZ IN DE ARM") == []  # ISO codes are ordinary words as often as names


def test_names_in_other_languages_are_found(index: SearchIndex) -> None:
    assert [i for i, _, _ in named(index, "Марокко и Иран; le Maroc")] == ["MA", "IR"]


def test_a_text_of_thousands_of_words_is_read_whole(index: SearchIndex) -> None:
    text = "an ordinary word " * 2000 + "and finally Hacking Team"
    assert [i for i, _, _ in named(index, text)] == ["hacking-team"]
