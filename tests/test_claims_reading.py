"""Reading a query that names several things: entities, choices, demonyms and leftover words."""

from __future__ import annotations

import pytest

from armsbot.countries import iso_countries
from armsbot.search.demonyms import DEMONYMS, demonym_country, demonym_table
from armsbot.search.folding import fold
from armsbot.search.index import SearchIndex
from armsbot.search.reading import read_query, tokens
from armsbot.search.stopwords import STOP_WORDS, is_stop_word


@pytest.mark.parametrize(
    ("query", "entities", "words"),
    [
        ("NSO Morocco", ["nso-group", "MA"], []),
        ("pegasus saudi arabia", ["nso-group", "SA"], []),
        ("israeli drones azerbaijan", ["IL", "AZ"], ["drones"]),
        ("hacking team sudan", ["hacking-team", "SD"], []),
        ("who sold spyware to mexico", ["MX"], ["spyware"]),
        ("nso uganda", ["nso-group", "UG"], []),
        ("macron pegasus morocco", ["nso-group", "MA"], ["macron"]),
        ("monitoring centre", [], ["monitoring", "centre"]),
        ("ayman nour", [], ["ayman", "nour"]),
        ("emirati spyware", ["AE"], ["spyware"]),
        ("Saudis and Emiratis", ["SA", "AE"], []),
        ("saudi arbia pegasus", ["SA", "nso-group"], []),
        ("israel aerospace azerbaijan", ["israel-aerospace-industries", "AZ"], []),
        ("Bosnia and Herzegovina arms", ["BA"], ["arms"]),
        ("US spyware", ["US"], ["spyware"]),
        ("Saudi Arabia's spyware", ["SA"], ["spyware"]),
        # Other languages: stop words skipped, names in every script.
        ("qui a vendu des logiciels espions au Mexique", ["MX"], ["logiciels", "espions"]),
        ("quién vendió Pegasus a Marruecos", ["nso-group", "MA"], []),
        ("wer hat Pegasus an Marokko verkauft", ["nso-group", "MA"], []),
        ("кто продал пегас Марокко", ["MA"], ["пегас"]),
        ("מי מכר את פגסוס למרוקו", ["MA"], ["פגסוס"]),  # "to Morocco": the prefix split off
        ("من باع بيغاسوس إلى المغرب", ["MA"], ["بيغاسوس"]),
        ("ישראל ומרוקו", ["IL", "MA"], []),  # "Israel and Morocco"
        ("بيغاسوس والمغرب", ["MA"], ["بيغاسوس"]),  # "Pegasus and Morocco"
        ("הטלפון", [], ["הטלפון"]),  # "the phone": no name once "ה" is split off, so a word
        ("ולמרוקו", [], ["ולמרוקו"]),  # two prefixes ("and to"): only one is split off
    ],
)
def test_queries_are_read_into_entities_and_words(
    index: SearchIndex, query: str, entities: list[str], words: list[str]
) -> None:
    reading = read_query(index, query)
    assert [e.id for e in reading.entities] == entities
    assert list(reading.words) == words
    assert reading.ambiguous == ()


def test_a_middle_word_or_a_single_topic_word_is_not_a_name(index: SearchIndex) -> None:
    # "team" is a word of Hacking Team, "spyware" of the alias "Pegasus spyware", "arms" starts
    # "Arms Trade Treaty": none of them names an entity inside a question.
    reading = read_query(index, "team spyware arms")
    assert reading.entities == ()
    assert reading.words == ("team", "spyware", "arms")


def test_a_run_of_words_is_not_a_typo_of_a_shorter_or_longer_name(index: SearchIndex) -> None:
    assert [e.said for e in read_query(index, "hacking team sudan").entities] == [
        "hacking team",
        "sudan",
    ]


def test_a_name_of_several_entities_is_offered_as_a_choice(index: SearchIndex) -> None:
    reading = read_query(index, "congo nso")
    assert [e.id for e in reading.entities] == ["nso-group"]
    [choice] = reading.ambiguous
    assert choice.said == "congo"
    assert [m.id for m in choice.candidates] == ["CG", "CD"]
    assert choice.rest == "nso"
    korea = read_query(index, "korea drones").ambiguous[0]
    assert {m.id for m in korea.candidates} == {"KP", "KR"}


def test_capitals_keep_a_code_that_is_also_a_stop_word(index: SearchIndex) -> None:
    assert [t.stop for t in tokens("us US in IN")] == [True, False, True, False]
    assert [e.id for e in read_query(index, "IN drones").entities] == ["IN"]
    assert read_query(index, "in drones").entities == ()


def test_demonyms_name_their_country(index: SearchIndex) -> None:
    for said, code in (("israeli", "IL"), ("Saudi", "SA"), ("Emirati", "AE"), ("azeri", "AZ")):
        [entity] = read_query(index, said).entities
        assert (entity.id, entity.demonym) == (code, True), said
    assert demonym_country("israelis") == "IL"
    assert demonym_country("swiss") == "CH"
    assert demonym_country("congolese") is None  # two countries: not guessed


def test_every_demonym_names_a_registry_country_and_no_other_country() -> None:
    registry = iso_countries()
    assert set(DEMONYMS) <= set(registry)
    assert len(DEMONYMS) >= 180
    names = {fold(n.name): code for code, c in registry.items() for n in c.names}
    names |= {fold(c.name): code for code, c in registry.items()}
    for key, code in demonym_table().items():
        assert names.get(key, code) == code, (key, code, names.get(key))
        assert not is_stop_word(key), key


def test_stop_words_cover_every_bot_language() -> None:
    assert set(STOP_WORDS) == {"en", "es", "fr", "de", "ru", "he", "ar"}
    for words in ("who sold to in", "quién vendió a en", "qui a vendu au", "wer hat an nach"):
        assert all(is_stop_word(fold(w)) for w in words.split()), words
    assert all(is_stop_word(fold(w)) for w in ("кто", "продал", "מי", "מכר", "من", "باع"))
    for name in ("israel", "morocco", "nso", "pegasus", "drones", "spyware"):
        assert not is_stop_word(name)
