"""F7: one hidden-character policy, from Unicode properties, for every field, data file and import.

Refused: Bidi_Control, Default_Ignorable_Code_Point, the line and paragraph separators, control
characters and lone surrogates. Allowed: ZWJ inside emoji sequences, ZWNJ between letters of a
joining script, and variation selectors right after the character they select a form of.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from armsbot.bot.client import ArmsBot
from armsbot.bot.markdown import escape
from armsbot.changes import Submission
from armsbot.datafiles import read_entity_file
from armsbot.i18n import text
from armsbot.imports.sii import import_sii, remove_sii
from armsbot.services.corrections import submission_problems
from armsbot.services.lookup import QueryError, clean_query
from armsbot.storage import KnowledgeBase
from tests import test_bot_corrections_e2e as e2e
from tests.discord_double import MEMBER_ID, DiscordDouble
from tests.test_sii_import import counts_add_up, record, write_records

# Each character the attack got through, with what it is.
NAMED = {
    "\u061c": "ARABIC LETTER MARK (Bidi_Control)",
    "\U000e0001": "LANGUAGE TAG",
    "\U000e0041": "TAG LATIN CAPITAL LETTER A",
    "\U000e007f": "CANCEL TAG",
    "\u00ad": "SOFT HYPHEN",
    "\u3164": "HANGUL FILLER",
    "\u2028": "LINE SEPARATOR",
    "\u2029": "PARAGRAPH SEPARATOR",
}
# Tags outside an emoji tag sequence: a flag cut short, tags after a letter, a tag with no flag.
OUT_OF_TAG_SEQUENCE = {
    "🏴\U000e0067\U000e0062": "flag tags without the cancel tag",
    "A\U000e0067\U000e0062\U000e007f": "tags after a letter",
    "🏴\U000e007f": "a cancel tag with no tag letters",
}
# Joiners and selectors are refused where they do no visible work.
OUT_OF_PLACE = {
    "Acme\u200dCorp": "ZWJ between Latin letters",
    "Acme\u200cCorp": "ZWNJ between Latin letters",
    "\u200d👍": "ZWJ before anything",
    "Acme\ufe0f": "VS16 after a letter",
    "❤\ufe0f\ufe0f": "two VS16 in a row",
}
ALLOWED = {
    "family": "👨\u200d👩\u200d👧",
    "heart": "❤\ufe0f",
    "thumbs up, medium skin tone": "👍🏽",
    "technologist, skin tone": "👩🏽\u200d💻",
    "rainbow flag": "🏳\ufe0f\u200d🌈",
    "keycap": "1\ufe0f\u20e3",
    "Persian, 'I want'": "می\u200cخواهم",
    "Persian plural after a non-joining letter": "در\u200cها",
    "Devanagari explicit virama": "क्\u200cष",
    "flag of Scotland": "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
}
HIDDEN_ONES = [*NAMED, "\ud800"]


def code(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def proposal(**fields: Any) -> dict[str, Any]:
    return {
        "entity_id": "AZ",
        "change": {"type": "add_alias", "name": "Azeri"},
        "what_is_wrong": "A name is missing.",
        "source_url": "https://example.org/a",
        **fields,
    }


def form_problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        Submission.model_validate(data)
    return submission_problems(caught.value)


def yaml_escaped(text: str) -> str:
    """A YAML double-quoted scalar with every non-ASCII character escaped."""
    out = "".join(
        ch if " " <= ch <= "~" and ch not in '"\\' else f"\\U{ord(ch):08x}" for ch in text
    )
    return f'"{out}"'


def firm_file(root: Path, name: str, claim_text: str = "Acme sold a system.") -> Path:
    path = root / "firms" / "acme.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"kind: firm\nid: acme\nname: {yaml_escaped(name)}\nclaims:\n"
        f"  - id: acme-sale\n    text: {yaml_escaped(claim_text)}\n"
        "    status: reported\n    category: transfer\n"
        "    parties: [{entity: acme, role: supplier}]\n"
        '    sources: [{url: "https://example.org/a", title: A report}]\n',
        encoding="utf-8",
    )
    return path


# -- the correction form -----------------------------------------------------------------------


@pytest.mark.parametrize("ch", NAMED, ids=[code(c) for c in NAMED])
def test_f7_every_named_character_is_refused_in_each_correction_form_field(ch: str) -> None:
    text = f"Azeri{ch}land"
    fields = {
        "Proposed change": {"change": {"type": "add_alias", "name": text}},
        "What is wrong": {"what_is_wrong": text},
        "Source title": {"source_title": text},
        "Note": {"note": text},
    }
    for label, field in fields.items():
        problems = form_problems(proposal(**field))
        expected = f"{label}: contains an invisible or direction-changing character ({code(ch)}"
        assert any(p.startswith(expected) for p in problems), (label, problems)
    # A proposed summary and a proposed claim are checked the same way.
    summary = {"type": "edit_field", "field": "summary", "value": text}
    assert any(code(ch) in p for p in form_problems(proposal(change=summary)))
    claim = {"type": "add_claim", "text": text, "status": "reported"}
    assert any(code(ch) in p for p in form_problems(proposal(change=claim)))


def test_f7_a_lone_surrogate_is_refused_as_invalid_text() -> None:
    problems = form_problems(proposal(note="half of a pair: \ud83d"))
    assert problems == ["Note: contains a lone surrogate (U+D83D), which is not valid Unicode text"]


@pytest.mark.parametrize("text", OUT_OF_PLACE, ids=list(OUT_OF_PLACE.values()))
def test_f7_joiners_and_selectors_out_of_place_are_refused(text: str) -> None:
    problems = form_problems(proposal(change={"type": "add_alias", "name": text}))
    assert any("invisible or direction-changing" in p for p in problems), problems


@pytest.mark.parametrize("text", OUT_OF_TAG_SEQUENCE, ids=list(OUT_OF_TAG_SEQUENCE.values()))
def test_f7_tag_characters_outside_an_emoji_tag_sequence_are_refused(text: str) -> None:
    problems = form_problems(proposal(change={"type": "add_alias", "name": text}))
    assert any("invisible or direction-changing" in p for p in problems), problems
    assert "\U000e0067" not in escape(text)


@pytest.mark.parametrize("text", ALLOWED.values(), ids=list(ALLOWED))
def test_f7_emoji_sequences_and_joiners_in_words_are_accepted_and_shown_whole(text: str) -> None:
    submission = Submission.model_validate(
        proposal(change={"type": "add_alias", "name": text}, note=f"It is {text} here.")
    )
    assert submission.change.name == text  # type: ignore[union-attr]
    assert submission.note == f"It is {text} here."
    assert clean_query(text) == text
    assert escape(text) == text


# The bot and its Discord double, as the corrections end-to-end tests run them.
double, bot = e2e.double, e2e.bot


async def propose_alias(double: DiscordDouble, name: str) -> str:
    handle = await double.slash_command(
        "correct", {"entry": "IR", "change": "alias"}, user=MEMBER_ID
    )
    await double.wait_for_callback(handle)
    submitted = await double.submit_modal(
        handle,
        {
            "What is wrong": "The Persian name is missing.",
            "Proposed change": name,
            "Source URL": "https://example.org/iran",
        },
        user=MEMBER_ID,
    )
    return await e2e.ephemeral_reply(double, submitted)


async def test_f7_the_correction_form_on_discord_refuses_a_mark_and_keeps_a_persian_joiner(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    refused = await propose_alias(double, "ایران\u061c")
    assert "Nothing was stored" in refused
    assert "Proposed change: contains an invisible or direction-changing character (U+061C" in (
        refused
    )
    assert await bot.services.corrections.pending_count() == 0
    accepted = await propose_alias(double, "جمهوری\u200cاسلامی")
    assert "correction #1 is waiting for a moderator" in accepted
    correction = await bot.services.corrections.get(1)
    assert correction is not None
    assert correction.change["name"] == "جمهوری\u200cاسلامی"


# -- display and search ------------------------------------------------------------------------


@pytest.mark.parametrize("ch", HIDDEN_ONES, ids=[code(c) for c in HIDDEN_ONES])
def test_f7_shown_text_drops_what_input_refuses(ch: str) -> None:
    assert escape(f"Acme{ch}Corp") == "AcmeCorp"
    with pytest.raises(QueryError) as refused:
        clean_query(f"nso{ch}")
    assert refused.value.key == "query.hidden"
    assert code(ch) in str(refused.value)


@pytest.mark.parametrize("query", ["nso\u202e", "   ", "x" * 101])
def test_a_refused_query_reads_the_same_in_the_cli_and_on_discord(query: str) -> None:
    """One English message per key: the service's error is the bot's English fallback."""
    with pytest.raises(QueryError) as refused:
        clean_query(query)
    error = refused.value
    assert str(error) == text(error.key, "en-US", **error.params)


def test_f7_shown_text_keeps_a_joiner_only_where_it_still_joins() -> None:
    # The VS16 after a letter goes, and with it the context that let the ZWJ stand.
    assert escape("a\ufe0f\u200d👍") == "a👍"
    assert escape("❤\ufe0f\u200d🔥 and \u200bx") == "❤\ufe0f\u200d🔥 and x"


# -- data files --------------------------------------------------------------------------------


@pytest.mark.parametrize("ch", HIDDEN_ONES, ids=[code(c) for c in HIDDEN_ONES])
def test_f7_every_named_character_is_refused_in_a_data_file(tmp_path: Path, ch: str) -> None:
    path = firm_file(tmp_path, f"Acme{ch}Corp", claim_text=f"Acme{ch} sold a system.")
    entity, problems = read_entity_file(path, tmp_path)
    assert entity is None
    found = {p.field: p.reason for p in problems}
    assert set(found) == {"name", "claims[0].text"}, found
    assert all(code(ch) in reason for reason in found.values()), found


def test_f7_a_data_file_may_name_a_firm_with_emoji_and_persian_joiners(tmp_path: Path) -> None:
    name = "می\u200cخواهم ❤\ufe0f 👨\u200d👩\u200d👧"
    entity, problems = read_entity_file(firm_file(tmp_path, name), tmp_path)
    assert problems == []
    assert entity is not None
    assert entity.name == name


# -- the SII import ----------------------------------------------------------------------------


async def test_f7_an_sii_record_with_a_hidden_character_is_not_imported(
    kb: KnowledgeBase, tmp_path: Path
) -> None:
    before = await kb.snapshot()
    # Each character in another field the import reads, including the firm's name.
    fields = ["title", "supplier_company", "enduser", "sources", "recipient_country", "goods"]
    records = [record("Clean")]
    for i, ch in enumerate(NAMED):
        field = fields[i % len(fields)]
        value: Any = f"Acme{ch}Corp"
        if field == "goods":
            value = [f"Lawful{ch} interception"]
        records.append(record(f"Hidden-{i}", **{field: value}))
    records.append(record("Hidden-id-\u202e"))
    records.append(record("Persian", enduser="می\u200cخواهم 👨\u200d👩\u200d👧"))
    report = await import_sii(kb, write_records(tmp_path, records))
    assert counts_add_up(report)
    assert report.claims_added == 2  # Clean and Persian
    reasons = dict(report.not_imported)
    for i, ch in enumerate(NAMED):
        field = fields[i % len(fields)]
        assert reasons[f"Hidden-{i}"].startswith(f"{field}: contains an invisible"), reasons
        assert code(ch) in reasons[f"Hidden-{i}"]
    # The report never carries the character itself: it is shown escaped.
    assert reasons["Hidden-id-\\u202e"].startswith("unique_id: contains an invisible")
    (persian,) = await kb.claims_by_id(["sii-persian"])
    assert persian.end_user == "می\u200cخواهم 👨\u200d👩\u200d👧"
    firm_names = [row.name for row in await kb.index_rows()]
    assert not any("Acme" in name for name in firm_names)
    await remove_sii(kb)
    assert await kb.snapshot() == before
