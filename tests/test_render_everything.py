"""Everything the bot can send, through the strict Discord double's validation.

Every page of every card of the bundled and of the SII-imported knowledge base (with its page
buttons); then, end to end, every form the bot opens, filled to the largest size each field
allows, and what follows: receipts, review posts, their updates after a decision, the DMs to the
submitters, the review queue, /mycorrections with its withdraw buttons, and /history. The double
refuses, as Discord would, any payload over one of Discord's limits, and a refused payload fails
the test.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import discord
import pytest

from armsbot.bot.card_pages import card_pages
from armsbot.bot.client import ArmsBot
from armsbot.bot.components import pager
from armsbot.search.index import SearchIndex
from armsbot.services.lookup import LookupService
from armsbot.storage import KnowledgeBase
from tests.bot_harness import button_ids, running_bot, settings_for
from tests.discord_double import (
    HOME_CHANNEL_ID,
    MEMBER_ID,
    MODERATOR_ID,
    MODERATOR_ROLE_ID,
    OWNER_ID,
    DiscordDouble,
    InteractionHandle,
    default_guild,
)
from tests.discord_double.validation import validate_message

pytestmark = pytest.mark.slow  # render-everything: every card and form through the double

EPHEMERAL = 1 << 6
CLAIM = "nso-group-pegasus-project-ten-governments"


# -- every card -------------------------------------------------------------------------------


async def render_every_card(path: Path) -> tuple[int, int]:
    """Check every page of every card as the bot sends it; return (cards, pages)."""
    cards = pages_checked = 0
    async with await KnowledgeBase.open(path) as kb:
        rows = await kb.index_rows()
        lookup = LookupService(kb, SearchIndex.build(rows))
        for row in rows:
            card = await lookup.card(row.id)
            assert card is not None
            assert card.entity_id is not None
            pages = card_pages(card)
            cards += 1
            for number, page in enumerate(pages):
                view = pager(card.entity_id, number, len(pages), discord.Locale.american_english)
                body: dict[str, Any] = {"embeds": [page.embed().to_dict()]}
                if view is not None:
                    body["components"] = view.to_components()
                problem = validate_message(body, n_files=0, creating=True)
                assert problem is None, (row.id, number, problem)
                pages_checked += 1
            listed = {
                int(n)
                for page in pages
                for _, value in page.fields
                for n in re.findall(r"^\[(\d+)\]", value, re.M)
            }
            assert listed == {s.number for s in card.sources}, row.id
    return cards, pages_checked


async def test_every_card_of_the_bundled_knowledge_base(built_db: Path) -> None:
    cards, pages = await render_every_card(built_db)
    assert cards > 250
    assert pages >= cards


async def test_every_card_of_the_sii_imported_knowledge_base(sii_imported_db: Path) -> None:
    cards, pages = await render_every_card(sii_imported_db)
    assert cards > 300
    assert pages >= cards


# -- every form, filled to the brim, and what follows -----------------------------------------


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble(guilds=[default_guild()]) as running:
        yield running


@pytest.fixture
async def bot(double: DiscordDouble, db_copy: Path) -> AsyncIterator[ArmsBot]:
    settings = settings_for(double, db_copy, submissions_per_hour=100, pending_per_user=100)
    async with running_bot(double, settings) as started:
        yield started


def brim(length: int, seed: str) -> str:
    """``length`` characters of text whose markdown characters escaping nearly doubles."""
    words = f"{seed} *_(p)_* [[x]] <<#>> -:- "
    return (words * (length // len(words) + 1))[:length].strip().ljust(length, "_")


def source_url(length: int) -> str:
    """A valid non-Latin address ``length`` characters long (six times as long encoded)."""
    head = "https://ru.example.org/"
    return head + ("оружие-и-слежка-" * length)[: length - len(head)]


# What a field needs to be valid, at the largest size it allows; other fields get brim().
VALID: dict[str, Callable[[int], str]] = {
    "Source URL": source_url,
    "Status": lambda _: "reported",
    "New status": lambda _: "confirmed",
    "Year or date (optional)": lambda n: "2021-07-01"[:n],
    "Headquarters country (optional)": lambda _: "Israel",
    "Jurisdiction and type (e.g. Israel, statute)": lambda _: "Israel, statute",
    "Other names, comma-separated (optional)": lambda n: ", ".join(
        f"Other name {i:02}" for i in range(1, 21)
    )[:n],
}

FORMS: list[tuple[str, dict[str, Any]]] = [
    ("correct", {"entry": "nso-group", "change": "summary"}),
    ("correct", {"entry": "nso-group", "change": "name"}),
    ("correct", {"entry": "nso-group", "change": "alias"}),
    ("correct", {"entry": "nso-group", "change": "claim_status", "claim": CLAIM}),
    ("correct", {"entry": "nso-group", "change": "claim_text", "claim": CLAIM}),
    ("correct", {"entry": "nso-group", "change": "retire_claim", "claim": CLAIM}),
    ("propose claim", {"entry": "nso-group", "category": "use"}),
    ("propose entry", {"kind": "firm", "name": "Example Intercept " + "Holding " * 10}),
    ("propose entry", {"kind": "law", "name": "Example Export Control Act " + "II " * 24}),
]


def fill(modal: dict[str, Any]) -> dict[str, str]:
    """Every text input of a modal at its largest valid (or, failing that, largest) size."""
    values = {}
    for row in modal["data"]["components"]:
        item = row["components"][0]
        size = int(item.get("max_length", 4000))
        values[item["label"]] = VALID.get(item["label"], lambda n: brim(n, "Text"))(size)
    return values


async def answered(double: DiscordDouble, handle: InteractionHandle) -> dict[str, Any]:
    callback = await double.wait_for_callback(handle)
    assert callback["type"] in (4, 7, 9), callback
    return callback


async def test_every_form_at_its_largest_and_everything_that_follows(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    configure = await double.slash_command(
        "config",
        {"moderator-role": MODERATOR_ROLE_ID, "review-channel": HOME_CHANNEL_ID},
        user=OWNER_ID,
    )
    await answered(double, configure)

    receipts = []
    for command, options in FORMS:
        handle = await double.slash_command(command, options, user=MEMBER_ID)
        modal = await answered(double, handle)
        assert modal["type"] == 9, (command, options, modal)
        submitted = await double.submit_modal(handle, fill(modal), user=MEMBER_ID)
        receipt = await answered(double, submitted)
        assert receipt["data"]["flags"] & EPHEMERAL
        receipts.append(receipt["data"]["content"])
    stored = [r for r in receipts if "is waiting for a moderator" in r]
    assert len(stored) >= 6, receipts  # most forms store a correction; the rest say why not

    def review_posts() -> list[dict[str, Any]]:
        return [
            m
            for m in double.channel_messages(HOME_CHANNEL_ID)
            if m.get("embeds") and "interaction_metadata" not in m
        ]

    await double.wait_until(lambda: len(review_posts()) == len(stored), what="the review posts")
    for number in range(1, len(stored) + 1):
        shown = await double.slash_command("review show", {"number": number}, user=MODERATOR_ID)
        await answered(double, shown)
    queue = await double.slash_command("review queue", {}, user=MODERATOR_ID)
    await answered(double, queue)
    pending = await double.slash_command("mycorrections", {}, user=MEMBER_ID)
    assert len(button_ids(await double.wait_for_response(pending))) == len(stored)  # withdraw

    approved = False
    for post in review_posts():
        approve, reject = button_ids(post)
        if not approved and "nso-group" in post["embeds"][0]["title"]:
            click = await double.click(post, approve, user=MODERATOR_ID)
            approved = "is applied" in (await answered(double, click))["data"]["content"]
            continue
        click = await double.click(post, reject, user=MODERATOR_ID)
        form = await answered(double, click)
        assert form["type"] == 9
        done = await double.submit_modal(click, fill(form), user=MODERATOR_ID)
        assert "is rejected" in (await answered(double, done))["data"]["content"]
    assert approved
    await double.wait_until(
        lambda: all(not button_ids(p) for p in review_posts()), what="every post's update"
    )
    await double.wait_until(
        lambda: len(double.dm_messages(MEMBER_ID)) == len(stored), what="the submitter's DMs"
    )

    history = await double.slash_command("history", {"entry": "nso-group"})
    assert "Revision 2" in str(await double.wait_for_response(history))
    mine = await double.slash_command("mycorrections", {}, user=MEMBER_ID)
    await answered(double, mine)
    assert double.rejected_requests == []
    assert double.unknown_requests == []
