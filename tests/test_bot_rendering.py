"""Cards become embeds within every Discord limit; stored text cannot break their formatting."""

from __future__ import annotations

import json
import re
from typing import Any

import discord
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from armsbot import i18n
from armsbot.bot.card_pages import card_pages
from armsbot.bot.components import HISTORY_PAGES, pager
from armsbot.bot.embeds import (
    DESCRIPTION_LIMIT,
    FIELD_COUNT_LIMIT,
    FIELD_VALUE_LIMIT,
    FOOTER_LIMIT,
    MESSAGE_TOTAL_LIMIT,
    TITLE_LIMIT,
    Page,
    history_pages,
)
from armsbot.bot.manifest import command_payload, manifest_path, render
from armsbot.bot.markdown import escape, fitted_link, link
from armsbot.cards.model import Card, CardGroup, CardLine, CardSection, CardSource
from armsbot.models import Status
from armsbot.storage.corrections import RevisionRow
from tests.discord_double.validation import validate_message

texts = st.text(min_size=1, max_size=1200)


@st.composite
def cards(draw: st.DrawFn) -> Card:
    n_sources = draw(st.integers(1, 60))
    sources = [
        CardSource(
            i,
            draw(st.text(min_size=1, max_size=300)),
            f"https://example.org/{i}?q=(x)",
            "Pub",
            "2021",
        )
        for i in range(1, n_sources + 1)
    ]
    sections = []
    for s in range(draw(st.integers(0, 6))):
        groups = []
        for g in range(draw(st.integers(1, 4))):
            lines = [
                CardLine(
                    draw(texts),
                    draw(st.sampled_from(list(Status))),
                    draw(st.none() | st.text(max_size=200)),
                    draw(st.lists(st.integers(1, n_sources), min_size=1, max_size=4, unique=True)),
                    claim_id=f"c{s}-{g}-{i}",
                )
                for i in range(draw(st.integers(1, 12)))
            ]
            groups.append(CardGroup(draw(st.none() | st.text(max_size=300)), lines))
        sections.append(CardSection(f"Section {s}", groups))
    return Card(
        kind="firm",
        title=draw(st.text(min_size=1, max_size=400)),
        entity_id="x",
        summary=draw(st.none() | st.text(max_size=2000)),
        facts=[("Headquarters", draw(st.text(max_size=100)))],
        sections=sections,
        sources=sources,
        footer="footer",
    )


@settings(max_examples=60, deadline=None)
@given(cards())
def test_every_page_is_within_discord_limits_and_no_line_is_lost(card: Card) -> None:
    pages = card_pages(card)
    for page in pages:
        embed = page.embed()
        assert len(embed.title or "") <= TITLE_LIMIT
        assert len(embed.description or "") <= DESCRIPTION_LIMIT
        assert len(embed.fields) <= FIELD_COUNT_LIMIT
        assert all(len(f.value or "") <= FIELD_VALUE_LIMIT for f in embed.fields)
        assert len(embed.footer.text or "") <= FOOTER_LIMIT
        assert len(embed) <= MESSAGE_TOTAL_LIMIT
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", embed.description or "")}
        listed = {
            int(m) for f in embed.fields for m in re.findall(r"^\[(\d+)\]", f.value or "", re.M)
        }
        assert cited <= listed
    total_lines = sum(len(g.lines) for s in card.sections for g in s.groups)
    shown = sum((p.description.count("\n• ") + p.description.startswith("• ")) for p in pages)
    assert shown == total_lines


def test_a_real_card_keeps_statuses_and_links() -> None:
    card = Card(
        kind="country",
        title="Azerbaijan",
        entity_id="AZ",
        sections=[
            CardSection(
                "Acquisitions",
                [
                    CardGroup(
                        "NSO Group",
                        [
                            CardLine(
                                "Reportedly a Pegasus client.",
                                Status.REPORTED,
                                "Pegasus · 2021",
                                [1],
                            ),
                            CardLine(
                                "Harop drone used in 2016.", Status.ALLEGED, "Harop · 2016", [2]
                            ),
                        ],
                    )
                ],
            )
        ],
        sources=[
            CardSource(1, "NSO affair", "https://example.org/a"),
            CardSource(2, "Drone", "https://example.org/b"),
        ],
    )
    [page] = card_pages(card)
    assert "📰 reported" in page.description
    assert "❔ alleged" in page.description
    assert "[1] [NSO affair](https://example.org/a)" in page.fields[0][1]


@pytest.mark.parametrize(
    "hostile",
    [
        "@everyone",
        "<@123456>",
        "**bold** _it_ ~~s~~ `code` ||spoiler||",
        "[click](https://evil.example)",
        "> quote\n# Heading",
        "text\u202eesrever",
        "<#123> <t:1:R>",
    ],
)
def test_stored_text_is_shown_literally(hostile: str) -> None:
    shown = escape(hostile)
    assert "\u202e" not in shown
    unescaped = re.sub(r"\\.", "", shown)
    for token in ("@", "<", "*", "_", "~", "`", "|", "[", "]", "(", ")", ">", "#"):
        assert token not in unescaped, token


def test_links_cannot_be_closed_early() -> None:
    rendered = link("a] [b", "https://x.example/p) [y](https://evil.example")
    label, url = re.fullmatch(r"\[(.*)\]\((.*)\)", rendered, re.S).groups()
    assert ")" not in url
    assert " " not in url
    assert re.sub(r"\\.", "", label).count("]") == 0


async def test_the_manifest_matches_the_code() -> None:
    payload = await command_payload()
    assert manifest_path().read_text(encoding="utf-8") == render(payload), (
        "run `armsbot commands export` and commit commands/commands.json"
    )
    names = {c["name"] for c in payload}
    assert names == {
        "country",
        "firm",
        "law",
        "search",
        "about",  # lookups
        "correct",
        "propose",
        "mycorrections",
        "history",
        "revert",
        "review",
        "config",
        "watch",
        "Look up in armsbot",  # a message command
    }
    country = next(c for c in payload if c["name"] == "country")
    assert country["options"][0]["autocomplete"] is True
    for locale in ("es-ES", "fr", "de", "ru"):
        assert country["name_localizations"][locale]
        assert country["description_localizations"][locale]


def test_translations_are_complete_and_valid() -> None:
    locales = i18n.load_locales()
    assert {"he", "ar", "es-ES", "fr", "de", "ru"} <= set(locales)
    english_commands = set(locales["fr"]["commands"])
    name_pattern = re.compile(r"^[-_\w]{1,32}$")
    manifest = json.loads(manifest_path().read_text(encoding="utf-8"))
    slash = [c for c in manifest if c["type"] == 1]
    command_words = {c["name"] for c in slash} | {
        o["name"] for c in slash for o in c.get("options", [])
    }
    menu_names = {c["name"] for c in manifest if c["type"] != 1}  # any case, spaces allowed
    for code, table in locales.items():
        assert set(table["commands"]) == english_commands, code
        assert set(table["bot"]) == set(i18n.ENGLISH), code
        for key, template in table["bot"].items():
            assert set(re.findall(r"{(\w+)}", template)) == set(
                re.findall(r"{(\w+)}", i18n.ENGLISH[key])
            ), (code, key)
        for word in command_words:
            translated = table["commands"][word]
            assert name_pattern.match(translated), (code, word)
            assert translated == translated.lower(), (code, word)
        for name in menu_names:
            assert 1 <= len(table["commands"][name]) <= 32, (code, name)


def test_fixed_strings_follow_the_locale_with_english_fallback() -> None:
    assert i18n.text("page.next", "fr") == "Suivant"
    assert i18n.text("page.next", "es-419") == "Siguiente"
    assert i18n.text("page.next", "ja") == "Next"
    assert "42" in i18n.text("query.too_long", "de", length=42, limit=100)


def test_a_card_with_thousands_of_lines_is_paged_whole_and_once() -> None:
    sources = [
        CardSource(i, f"Report {i}", f"https://example.org/r/{i}", "Pub", "2020")
        for i in range(1, 401)
    ]
    lines = [
        CardLine(f"Sale number {i} of a radar.", Status.REPORTED, "2020", [1 + i % 400], f"c{i}")
        for i in range(3000)
    ]
    groups = [CardGroup(f"Supplier {g}", lines[g * 100 : (g + 1) * 100]) for g in range(30)]
    card = Card(
        kind="country",
        title="Busy country",
        entity_id="BC",
        sections=[CardSection("Acquisitions", groups)],
        sources=sources,
        footer="footer",
    )
    pages = card_pages(card)
    assert len(pages) > 30
    assert all(page.size() <= MESSAGE_TOTAL_LIMIT for page in pages)
    assert all(len(page.description) <= DESCRIPTION_LIMIT for page in pages)
    shown = [n for page in pages for n in re.findall(r"Sale number (\d+) ", page.description)]
    assert shown == [str(i) for i in range(3000)]  # every line, in order, once
    for page in pages:  # every cited source is listed on the same page
        cited = {int(n) for n in re.findall(r"\[(\d+)\]", page.description)}
        listed = {int(m) for _, v in page.fields for m in re.findall(r"^\[(\d+)\]", v, re.M)}
        assert cited == listed
    assert card_pages(card) is pages  # made once per card
    assert "renderings" not in card.to_dict()


# -- F3 and F4: pages the strict Discord double accepts, with every source listed ---------------


def refused(page: Page, view: discord.ui.View | None = None) -> dict[str, Any] | None:
    """What the Discord double answers to a message showing this page (None: accepted)."""
    body: dict[str, Any] = {"embeds": [page.embed().to_dict()]}
    if view is not None:
        body["components"] = view.to_components()
    problem = validate_message(body, n_files=0, creating=True)
    return None if problem is None else problem[1]


def listed_sources(pages: list[Page]) -> list[int]:
    return [int(n) for p in pages for _, v in p.fields for n in re.findall(r"^\[(\d+)\]", v, re.M)]


def one_claim_card(sources: list[CardSource]) -> Card:
    line = CardLine(
        "A claim many reports back.", Status.REPORTED, "2021", [s.number for s in sources], "c1"
    )
    return Card(
        kind="firm",
        title="Example Intercept SA",
        entity_id="example-intercept",
        summary="A firm.",
        sections=[CardSection("Customers", [CardGroup("Somewhere", [line])])],
        sources=sources,
        footer="footer",
    )


def long_source(number: int) -> CardSource:
    return CardSource(
        number,
        f"Report {number}: " + "an ordinary long headline about an export licence " * 3,
        f"https://news.example.org/2021/07/{number}/" + "a-long-slug-of-words-" * 8,
        "The Example Daily Newspaper",
        "2021-07-18",
    )


def test_f3_a_claim_with_20_long_sources_is_paged_within_limits() -> None:
    card = one_claim_card([long_source(n) for n in range(1, 21)])
    pages = card_pages(card)
    for page in pages:
        assert refused(page) is None
    assert sorted(listed_sources(pages)) == list(range(1, 21))
    assert len(pages) > 1
    assert "A claim many reports back." in pages[0].description
    assert pages[0].fields[-1][1].endswith("more sources, continued on the next page")
    assert pages[1].description == "*Sources of the last line of page 1, continued.*"
    assert "](https://news.example.org/2021/07/1/" in pages[0].fields[0][1]


def test_f3_a_claim_with_60_sources_lists_every_one() -> None:
    pages = card_pages(one_claim_card([long_source(n) for n in range(1, 61)]))
    for page in pages:
        assert refused(page) is None
    assert sorted(listed_sources(pages)) == list(range(1, 61))  # none dropped, none twice
    notes = [v.splitlines()[-1] for p in pages for _, v in p.fields[-1:]]
    counted = [int(n) for n in re.findall(r"^\+ (\d+) more sources", "\n".join(notes), re.M)]
    assert counted == [60 - len(listed_sources(pages[: i + 1])) for i in range(len(counted))]


def test_f3_history_of_20_revisions_is_paged_within_limits() -> None:
    reason = "The entry named the wrong year for the licence; the ministry's register says 2019. "
    revisions = [
        RevisionRow(
            id=n,
            entity_id="nso-group",
            number=n,
            before=None,
            after=None,
            actor_id=f"discord:{100_000_000_000_000_000 + n}",
            reason=reason * 4,
            correction_id=n,
            reverts=None,
            created_at="2024-05-01T12:00:00.000000+00:00",
        )
        for n in range(21, 1, -1)
    ]
    pages = history_pages("NSO Group", revisions, "empty")
    view = pager("nso-group", 0, len(pages), discord.Locale.american_english, HISTORY_PAGES)
    assert len(pages) > 1
    assert view is not None
    assert [item.custom_id for item in view.children] == [  # type: ignore[attr-defined]
        "armsbot:hist:nso-group:0",
        "armsbot:hist:nso-group:1",
    ]
    assert refused(pages[0], view) is None
    assert all(refused(page) is None for page in pages)
    shown = [name for page in pages for name, _ in page.fields]
    assert shown == [f"Revision {n} · 2024-05-01T12:00:00.000000+00:00" for n in range(21, 1, -1)]
    assert history_pages("NSO Group", [], "No changes")[0].description == "No changes"


CYRILLIC_URL = "https://ru.example.org/статья/" + ("оружие-и-слежка-" * 29)[:460]


def test_f4_long_and_non_latin_source_urls_fit_and_keep_the_link_when_they_can() -> None:
    assert len(CYRILLIC_URL) == 490
    ascii_url = "https://example.org/" + "x" * 1080
    sources = [
        CardSource(1, "Статья о поставках", CYRILLIC_URL, "Пресса", "2020"),
        CardSource(2, "A very long address", ascii_url, "Pub", "2021"),
        CardSource(3, "A short address", "https://example.org/a", "Pub", "2021"),
    ]
    pages = card_pages(one_claim_card(sources))
    for page in pages:
        assert refused(page) is None
    text = "\n".join(v for p in pages for _, v in p.fields)
    lines = {int(m[1]): m[0] for m in re.finditer(r"^\[(\d+)\].*$", text, re.M)}
    assert all(len(line) <= 500 for line in lines.values())
    # Too long to link (percent-encoded, the Cyrillic address is 2,800 characters): the title and
    # a readable, shortened address, as plain text.
    assert "](" not in lines[1]
    assert "Статья о поставках" in lines[1]
    assert "ru.example.org/статья/оружие" in re.sub(r"\\(.)", r"\1", lines[1])
    assert "](" not in lines[2]
    assert lines[3] == r"[3] [A short address](https://example.org/a) — Pub, 2021"


def test_f4_a_link_that_fits_keeps_its_address_whole_and_shortens_its_label() -> None:
    url = "https://example.org/" + "p" * 430
    shown = fitted_link("A headline " * 20, url, 480)
    assert len(shown) <= 480
    label, target = re.fullmatch(r"\[(.*)\]\((.*)\)", shown, re.S).groups()  # type: ignore[union-attr]
    assert target == url
    assert label.endswith("…")
