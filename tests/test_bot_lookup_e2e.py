"""The lookup commands end to end: the real discord.py client against the Discord API double."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from armsbot.bot.card_pages import card_pages
from armsbot.bot.client import ArmsBot
from armsbot.bot.manifest import manifest_path
from tests.bot_harness import button_ids, embeds_text, running_bot, settings_for
from tests.discord_double import HOME_GUILD_ID, MEMBER_ID, DiscordDouble, default_guild

EPHEMERAL = 1 << 6


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble(guilds=[default_guild()]) as running:
        yield running


@pytest.fixture
async def bot(double: DiscordDouble, database: Path | str) -> AsyncIterator[ArmsBot]:
    async with running_bot(double, settings_for(double, database)) as started:
        yield started


async def test_login_and_sync_register_exactly_the_manifest(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    manifest = json.loads(manifest_path().read_text(encoding="utf-8"))
    [sync] = double.find_requests("PUT /applications/{application_id}/commands")
    assert sync.body == manifest
    assert {c["name"] for c in double.registered_commands()} == {c["name"] for c in manifest}
    assert double.unknown_requests == []


async def test_country_answers_with_claims_statuses_and_sources(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    handle = await double.slash_command("country", {"name": "AZ"})
    message = await double.wait_for_response(handle)
    text = embeds_text(message)
    assert "Azerbaijan" in message["embeds"][0]["title"]
    assert "NSO Group" in text
    assert "Pegasus" in text
    assert "Harop" in text
    assert "📰 reported" in text
    assert "❔ alleged" in text
    assert "[1]" in text
    assert "https://www.timesofisrael.com/" in text
    callback = await double.wait_for_callback(handle)
    assert callback["data"]["allowed_mentions"] == {"parse": []}
    assert double.unknown_requests == []


async def test_firm_nso_lists_the_ten_countries_of_the_seed_article(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    handle = await double.slash_command("firm", {"name": "nso"})
    message = await double.wait_for_response(handle)
    pages = [embeds_text(message)]
    # Follow the page buttons to read the whole card.
    while any(cid.startswith("armsbot:page:") for cid in button_ids(message)):
        forward = [c for c in button_ids(message) if c.startswith("armsbot:page:nso-group:")][-1]
        component = next(
            c
            for row in message["components"]
            for c in row["components"]
            if c.get("custom_id") == forward
        )
        if component.get("disabled"):
            break
        click = await double.click(message, forward)
        await double.wait_for_callback(click)
        message = double.message(message["id"])
        pages.append(embeds_text(message))
    text = "\n".join(pages)
    for country in (
        "Azerbaijan",
        "Bahrain",
        "Kazakhstan",
        "Mexico",
        "Morocco",
        "Rwanda",
        "Saudi Arabia",
        "Hungary",
        "India",
        "United Arab Emirates",
    ):
        assert country in text, country


async def test_long_cards_page_with_buttons_within_discord_limits(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    card = await bot.services.lookup.card("nso-group")
    expected = card_pages(card)
    assert len(expected) > 1
    handle = await double.slash_command("firm", {"name": "nso-group"})
    first = await double.wait_for_response(handle)
    assert first["embeds"][0]["footer"]["text"].endswith(f"page 1/{len(expected)}")
    prev_id, next_id = button_ids(first)
    assert (prev_id, next_id) == ("armsbot:page:nso-group:0", "armsbot:page:nso-group:1")
    click = await double.click(first, next_id)
    callback = await double.wait_for_callback(click)
    assert callback["type"] == 7
    second = double.message(first["id"])
    assert second["embeds"][0]["footer"]["text"].endswith(f"page 2/{len(expected)}")
    assert second["embeds"][0]["description"] == expected[1].description
    assert double.unknown_requests == []


@pytest.mark.parametrize(("typed", "first"), [("azer", "AZ"), ("isreal", "IL"), ("", None)])
async def test_autocomplete(
    double: DiscordDouble, bot: ArmsBot, typed: str, first: str | None
) -> None:
    handle = await double.autocomplete("country", {"name": typed})
    choices = await double.autocomplete_choices(handle)
    assert 0 < len(choices) <= 25
    assert all(len(c["name"]) <= 100 for c in choices)
    assert len({c["value"] for c in choices}) == len(choices)
    if first:
        assert choices[0]["value"] == first
    assert all(bot.services.index.entity_kind(c["value"]).value == "country" for c in choices)


async def test_free_text_is_resolved_and_ambiguity_offers_buttons(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    typed = await double.wait_for_response(
        await double.slash_command("country", {"name": "azerbajan"})
    )
    assert "Azerbaijan" in typed["embeds"][0]["title"]
    handle = await double.slash_command("country", {"name": "congo"})
    ask = await double.wait_for_response(handle)
    assert "Did you mean" in ask["content"]
    assert button_ids(ask) == ["armsbot:open:CG", "armsbot:open:CD"]
    click = await double.click(ask, "armsbot:open:CD")
    await double.wait_for_callback(click)
    opened = double.message(ask["id"])
    assert opened["embeds"][0]["title"] == "Democratic Republic of the Congo"


async def test_search_about_and_law(double: DiscordDouble, bot: ArmsBot) -> None:
    found = await double.wait_for_response(
        await double.slash_command("search", {"query": "pegasus"})
    )
    assert "NSO Group (firm, nso-group)" in embeds_text(found)
    assert button_ids(found)[0] == "armsbot:open:nso-group"
    about = await double.wait_for_response(await double.slash_command("about"))
    text = embeds_text(about)
    assert "armsbot" in text
    assert "countries" in text
    assert "claims" in text
    law = await double.wait_for_response(
        await double.slash_command("law", {"name": "arms-trade-treaty"})
    )
    assert law["embeds"][0]["title"] == "Arms Trade Treaty"


@pytest.mark.parametrize(
    ("name", "message"),
    [("qqqqqqqqqq", "Nothing matched"), ("nso\u202e", "invisible"), ("   ", "empty")],
)
async def test_unknown_and_bad_input_get_an_ephemeral_answer(
    double: DiscordDouble, bot: ArmsBot, name: str, message: str
) -> None:
    handle = await double.slash_command("firm", {"name": name})
    callback = await double.wait_for_callback(handle)
    assert callback["data"]["flags"] & EPHEMERAL
    assert message in callback["data"]["content"]


async def test_over_long_names_are_refused_before_they_reach_the_bot(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    """Every free-text option carries a max_length, which Discord (and the double) enforce."""
    for command in double.registered_commands():
        for option in command.get("options") or []:
            if option["type"] == 3 and not option.get("choices"):
                assert option["max_length"] <= 500, (command["name"], option["name"])
    lookups = {c["name"]: c for c in double.registered_commands()}
    for name in ("country", "firm", "law"):
        assert lookups[name]["options"][0]["max_length"] == 100
    with pytest.raises(AssertionError, match="outside min_length/max_length"):
        await double.slash_command("firm", {"name": "x" * 101})


async def test_a_failing_command_answers_ephemerally_is_logged_and_the_bot_goes_on(
    double: DiscordDouble,
    bot: ArmsBot,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(entity_id: str) -> None:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(bot.services.lookup, "card_feed", broken)
    with caplog.at_level(logging.ERROR, logger="armsbot.bot"):
        callback = await double.wait_for_callback(
            await double.slash_command("country", {"name": "AZ"})
        )
    assert callback["data"]["flags"] & EPHEMERAL
    assert "Something went wrong" in callback["data"]["content"]
    assert any("database on fire" in (r.exc_text or str(r.exc_info)) for r in caplog.records)
    monkeypatch.undo()
    again = await double.wait_for_response(await double.slash_command("country", {"name": "AZ"}))
    assert "Azerbaijan" in again["embeds"][0]["title"]


async def test_the_bot_reconnects_after_the_gateway_drops(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    # A dropped TCP connection is resumed on Discord: the same session, nothing sent again.
    # (The re-IDENTIFY after a refused RESUME is tests/test_discord_double.py's.)
    [session] = double.sessions
    assert await double.drop_gateway() == 1
    await double.wait_for_gateway()
    assert (double.identify_count, double.resume_count, session.resumes) == (1, 1, 1)
    assert session.events[-1] == "RESUMED"
    message = await double.wait_for_response(
        await double.slash_command("country", {"name": "IL"}), timeout=10
    )
    assert message["embeds"][0]["title"] == "Israel"


async def test_a_rate_limited_callback_is_waited_out(double: DiscordDouble, bot: ArmsBot) -> None:
    double.rate_limit_next("POST /interactions/{interaction_id}/{token}/callback", retry_after=0.05)
    message = await double.wait_for_response(
        await double.slash_command("country", {"name": "MX"}), timeout=10
    )
    assert message["embeds"][0]["title"] == "Mexico"
    assert len(double.rate_limited_requests) == 1


async def test_locale_follows_the_user(double: DiscordDouble, bot: ArmsBot) -> None:
    handle = await double.slash_command("firm", {"name": "   "}, locale="fr")
    callback = await double.wait_for_callback(handle)
    assert "La requête est vide" in callback["data"]["content"]
    assert MEMBER_ID
    assert HOME_GUILD_ID
