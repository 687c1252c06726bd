"""/search answering questions about connections, end to end through the strict Discord double."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from armsbot.bot import claim_buttons
from armsbot.bot.claim_buttons import query_of, query_payload
from armsbot.bot.client import ArmsBot
from armsbot.services.claims import ClaimQuery
from tests.bot_harness import button_ids, embeds_text, running_bot, settings_for
from tests.discord_double import DiscordDouble, default_guild

EPHEMERAL = 1 << 6


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble(guilds=[default_guild()]) as running:
        yield running


@pytest.fixture
async def bot(double: DiscordDouble, db_copy: Path) -> AsyncIterator[ArmsBot]:
    async with running_bot(double, settings_for(double, db_copy)) as started:
        yield started


async def search(double: DiscordDouble, **options: Any) -> dict[str, Any]:
    return await double.wait_for_response(await double.slash_command("search", options))


async def ephemeral_reply(double: DiscordDouble, handle: object) -> str:
    callback = await double.wait_for_callback(handle)  # type: ignore[arg-type]
    assert callback["data"]["flags"] & EPHEMERAL
    return re.sub(r"\\(.)", r"\1", str(callback["data"]["content"]))


def claim_pages_ids(message: dict[str, Any]) -> list[str]:
    return [c for c in button_ids(message) if c.startswith("armsbot:cq:")]


async def read_every_page(double: DiscordDouble, message: dict[str, Any]) -> list[str]:
    """The text of every page, following the Next button until it is disabled."""
    pages = [embeds_text(message)]
    while claim_pages_ids(message):
        forward = claim_pages_ids(message)[-1]
        button = next(
            c
            for row in message["components"]
            for c in row["components"]
            if c["custom_id"] == forward
        )
        if button.get("disabled"):
            break
        await double.wait_for_callback(await double.click(message, forward))
        message = double.message(message["id"])
        pages.append(embeds_text(message))
    return pages


async def test_pegasus_saudi_arabia_answers_with_the_linking_claims(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    message = await search(double, query="pegasus saudi arabia")
    embed = message["embeds"][0]
    answer = await bot.services.claims.answer(ClaimQuery.make("pegasus saudi arabia"))
    assert embed["title"] == f"Claims linking NSO Group and Saudi Arabia, {answer.total} of 8"
    assert answer.total == 8
    pages = await read_every_page(double, message)
    text = "\n".join(pages)
    assert "Jamal Khashoggi" in text
    assert "📰 reported" in text
    assert "[1]" in text
    claims = await bot.services.claims.page(answer, 0, 100)
    for claim in claims:
        assert claim.text[:60].replace("\\", "") in text.replace("\n", " "), claim.id
    if len(pages) > 1:
        assert message["embeds"][0]["footer"]["text"].endswith(f"page 1/{len(pages)}")
    assert double.unknown_requests == []


async def test_a_long_answer_has_page_buttons(double: DiscordDouble, bot: ArmsBot) -> None:
    message = await search(double, query="nso", status="confirmed,reported")
    ids = claim_pages_ids(message)
    assert len(ids) == 2
    assert all(len(i) <= 100 for i in ids)
    pages = await read_every_page(double, message)
    assert len(pages) > 1
    assert all(p.strip().startswith("Claims about NSO Group, ") for p in pages)
    assert "Filters: confirmed or reported." in pages[0]  # the summary opens the first page
    previous = claim_pages_ids(double.message(message["id"]))[0]
    await double.wait_for_callback(await double.click(message, previous))
    back = double.message(message["id"])
    assert back["embeds"][0]["footer"]["text"].endswith(f"page {len(pages) - 1}/{len(pages)}")


async def test_nso_uganda_says_no_claim_links_them_and_offers_both_cards(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    message = await search(double, query="nso uganda")
    text = embeds_text(message)
    assert message["embeds"][0]["title"] == "Claims linking NSO Group and Uganda, 0 of 0"
    assert "No claim links NSO Group and Uganda." in text
    assert button_ids(message) == ["armsbot:open:nso-group", "armsbot:open:UG"]
    await double.wait_for_callback(await double.click(message, "armsbot:open:UG"))
    assert double.message(message["id"])["embeds"][0]["title"] == "Uganda"


async def test_an_ambiguous_name_is_offered_as_a_choice(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    message = await search(double, query="congo spyware", status="confirmed")
    assert "“congo” names several entries" in message["content"]
    ids = button_ids(message)
    assert len(ids) == 2
    assert all(i.startswith("armsbot:cq:") for i in ids)
    await double.wait_for_callback(await double.click(message, ids[1]))
    chosen = double.message(message["id"])
    title = chosen["embeds"][0]["title"]
    assert title.startswith("Claims about Democratic Republic of the Congo")
    assert "Filters: confirmed." in embeds_text(chosen)


async def test_filters_narrow_the_claims(double: DiscordDouble, bot: ArmsBot) -> None:
    message = await search(double, query="saudi arabia", status="confirmed")
    pages = "\n".join(await read_every_page(double, message))
    assert "✅ confirmed" in pages
    assert "📰 reported" not in pages
    assert "Filters: confirmed." in pages
    early = await search(double, query="nso", until=2016, category="transfer")
    assert "Filters: transfer; until 2016." in embeds_text(early)
    refused = await double.slash_command("search", {"query": "nso", "since": 2020, "until": 2010})
    assert "Since 2020 is after until 2010" in await ephemeral_reply(double, refused)


async def test_words_alone_search_the_claims_text(double: DiscordDouble, bot: ArmsBot) -> None:
    message = await search(double, query="monitoring centre")
    assert message["embeds"][0]["title"].startswith("Claims that mention “monitoring” and “centre”")
    assert "Bahrain" in embeds_text(message)


async def test_one_name_alone_still_lists_the_entries(double: DiscordDouble, bot: ArmsBot) -> None:
    message = await search(double, query="pegasus")
    assert button_ids(message)[0] == "armsbot:open:nso-group"
    assert "NSO Group (firm, nso-group)" in embeds_text(message)


async def test_a_query_too_long_for_a_custom_id_is_kept_by_key(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    # NSO Group, and words that match none of its claims: all 44 are shown, on several pages.
    query = "nso " + " ".join(f"zebra{i}" for i in range(12))
    message = await search(double, query=query)
    assert "No claim about NSO Group mentions “zebra0”" in embeds_text(message)
    ids = claim_pages_ids(message)
    assert len(ids) == 2
    assert all(i.startswith("armsbot:cq:#") and len(i) <= 100 for i in ids)
    await double.wait_for_callback(await double.click(message, ids[-1]))
    second = double.message(message["id"])
    assert second["embeds"][0]["footer"]["text"].endswith(
        "page 2/" + str(len(await read_every_page(double, second)) + 1)
    )
    # A restart forgets such keys: the button then asks for the search again.
    claim_buttons._kept.clear()
    forgotten = await double.click(second, claim_pages_ids(double.message(message["id"]))[0])
    assert "run /search again" in await ephemeral_reply(double, forgotten)


async def test_crafted_claims_buttons_change_nothing(double: DiscordDouble, bot: ArmsBot) -> None:
    message = await search(double, query="nso uganda")
    crafted = await double.click(message, 'armsbot:cq:=["x",[],"zz"]:0', crafted=True)
    assert "nothing was changed" in await ephemeral_reply(double, crafted)
    assert query_payload(ClaimQuery.make("nso uganda")) == '=["nso uganda"]'
    with pytest.raises(ValueError):
        query_of('=["x",[],"zz"]')


async def test_the_choice_speaks_the_users_language(double: DiscordDouble, bot: ArmsBot) -> None:
    handle = await double.slash_command("search", {"query": "congo nso"}, locale="fr")
    message = await double.wait_for_response(handle)
    assert "désigne plusieurs entrées" in message["content"]
