"""Property tests on every text a member types: accepted cleanly or refused with a reason,
never an exception and never a half-stored correction."""

from __future__ import annotations

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from armsbot.bot.markdown import escape
from armsbot.changes import Submission
from armsbot.models import check_clean_text
from armsbot.search.index import SearchIndex
from armsbot.services.corrections import submission_problems
from armsbot.services.lookup import MAX_QUERY_LENGTH, QueryError, clean_query

# Refused wherever they stand (F7 added the Arabic letter mark, a tag, the soft hyphen, the Hangul
# filler and the line and paragraph separators).
HIDDEN = "\u200b\u200e\u202e\u2066\ufeff\x00\x07\u061c\U000e0041\u00ad\u3164\u2028\u2029"
# Allowed in some places only: joiners, selectors, and what they may stand between.
CONTEXTUAL = "\u200c\u200d\ufe0f\ufe0e👨👩❤👍🏽میخ्क"
typed = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from(HIDDEN) | st.sampled_from(CONTEXTUAL),
    max_size=140,
)
urls = st.one_of(
    typed,
    st.builds(
        lambda host, path: f"https://{host}/{path}",
        st.text(string.ascii_lowercase, min_size=1, max_size=20),
        typed,
    ),
    st.sampled_from(
        [
            "javascript:alert(1)",
            "https://u:p@x.org/",
            "http://",
            "ftp://x.org/a",
            "https://example.org/a b",
        ]
    ),
)


@given(typed)
def test_queries_are_cleaned_or_refused_with_a_reason(text: str) -> None:
    try:
        cleaned = clean_query(text)
    except QueryError as exc:
        refused = exc  # either outcome is legal; its reason is what is checked
    else:
        assert cleaned == cleaned.strip()
        assert 0 < len(cleaned) <= MAX_QUERY_LENGTH
        assert not any(ch in cleaned for ch in HIDDEN)
        return
    assert refused.key in {"query.empty", "query.too_long", "query.hidden"}
    assert str(refused)


@settings(max_examples=300)
@given(what=typed, proposed=typed, url=urls, title=typed, note=typed)
def test_submissions_are_valid_or_refused_with_readable_reasons(
    what: str, proposed: str, url: str, title: str, note: str
) -> None:
    data = {
        "entity_id": "AZ",
        "change": {"type": "add_alias", "name": proposed},
        "what_is_wrong": what,
        "source_url": url,
        "source_title": title,
        "note": note,
    }
    try:
        submission = Submission.model_validate(data)
    except ValidationError as exc:
        reasons = submission_problems(exc)
        assert reasons
        assert all(": " in r and len(r) < 400 for r in reasons)
        return
    assert submission.source_url.startswith(("http://", "https://"))
    assert "@" not in submission.source_url.split("/")[2]
    for text in (submission.what_is_wrong, submission.change.name, submission.note or ""):
        assert not any(ch in text for ch in HIDDEN)


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(typed)
def test_autocomplete_answers_any_keystroke(index: SearchIndex, text: str) -> None:
    choices = index.autocomplete(text[:MAX_QUERY_LENGTH], None, 25)
    assert len(choices) <= 25
    assert len({c.id for c in choices}) == len(choices)


@given(typed)
def test_escaped_text_never_leaves_markup_or_mentions(text: str) -> None:
    shown = escape(text)
    bare = shown
    for ch in "\\*_~`|>[]()#<:@-":
        bare = bare.replace("\\" + ch, "")
    assert not any(ch in bare for ch in "*_~`|>[]()#<@")
    assert not any(ch in shown for ch in HIDDEN)
    # What is shown passes the same policy as what is typed (F7: one policy for both).
    assert check_clean_text(shown) == shown.strip()


@given(typed)
def test_accepted_text_never_holds_a_joiner_or_selector_out_of_place(text: str) -> None:
    try:
        cleaned = check_clean_text(text)
    except ValueError as exc:
        refused = str(exc)  # either outcome is legal; its reason is what is checked
    else:
        refused = ""
    if refused:
        assert refused.startswith(
            ("contains an invisible", "contains a control", "contains a lone")
        )
        return
    assert not any(ch in cleaned for ch in HIDDEN)
    for i, ch in enumerate(cleaned):
        before = cleaned[i - 1] if i else " "
        if ch in "\u200c\u200d":  # joiners work between letters of other scripts, or emoji
            assert not before.isascii(), repr(cleaned)
            assert not before.isspace(), repr(cleaned)
        elif ch in "\ufe0e\ufe0f":  # a selector follows the character it selects a form of
            assert not before.isspace(), repr(cleaned)
            assert not (before.isascii() and before.isalpha()), repr(cleaned)
