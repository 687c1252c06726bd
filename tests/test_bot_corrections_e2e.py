"""Corrections end to end through the Discord API double: submit, review, approve, history, revert,
and every way a non-moderator might try to change the knowledge base."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from armsbot.bot.client import ArmsBot
from armsbot.storage import KnowledgeBase
from tests.bot_harness import (
    away_guild_with_its_own_admin,
    button_ids,
    embeds_text,
    running_bot,
    settings_for,
)
from tests.discord_double import (
    AWAY_CHANNEL_ID,
    AWAY_GUILD_ID,
    HOME_CHANNEL_ID,
    MEMBER_ID,
    MODERATOR_ID,
    MODERATOR_ROLE_ID,
    OUTSIDER_ID,
    OWNER_ID,
    DiscordDouble,
    default_guild,
)
from tests.test_cli import run

EPHEMERAL = 1 << 6
NEW_SUMMARY = "A summary submitted through Discord and approved by a moderator."


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble(guilds=[default_guild(), away_guild_with_its_own_admin()]) as running:
        yield running


@pytest.fixture
async def bot(double: DiscordDouble, database: Path | str) -> AsyncIterator[ArmsBot]:
    async with running_bot(double, settings_for(double, database)) as started:
        yield started


async def ephemeral_reply(double: DiscordDouble, handle: object) -> str:
    callback = await double.wait_for_callback(handle)  # type: ignore[arg-type]
    assert callback["data"]["flags"] & EPHEMERAL
    # Plain replies escape user text; compare with what Discord shows.
    return re.sub(r"\\(.)", r"\1", str(callback["data"]["content"]))


async def configure(double: DiscordDouble) -> None:
    handle = await double.slash_command(
        "config",
        {"moderator-role": MODERATOR_ROLE_ID, "review-channel": HOME_CHANNEL_ID},
        user=OWNER_ID,
    )
    assert "review channel" in await ephemeral_reply(double, handle)


async def submit_summary(double: DiscordDouble, entity: str = "AZ", text: str = NEW_SUMMARY) -> str:
    handle = await double.slash_command(
        "correct", {"entry": entity, "change": "summary"}, user=MEMBER_ID
    )
    modal = await double.wait_for_callback(handle)
    assert modal["type"] == 9
    submitted = await double.submit_modal(
        handle,
        {
            "What is wrong": "The entry has no summary.",
            "Proposed change": text,
            "Source URL": "https://example.org/azerbaijan-report",
        },
        user=MEMBER_ID,
    )
    return await ephemeral_reply(double, submitted)


async def test_submit_review_approve_history_and_revert(
    double: DiscordDouble, bot: ArmsBot, database: Path | str
) -> None:
    await configure(double)
    receipt = await submit_summary(double)
    assert "correction #1 is waiting for a moderator" in receipt

    post = await double.wait_for_channel_message(HOME_CHANNEL_ID, lambda m: bool(m.get("embeds")))
    assert "Correction #1 · AZ" in embeds_text(post)
    assert NEW_SUMMARY in embeds_text(post)
    assert button_ids(post) == ["armsbot:review:approve:1", "armsbot:review:reject:1"]

    click = await double.click(post, "armsbot:review:approve:1", user=MODERATOR_ID)
    assert "is applied" in await ephemeral_reply(double, click)
    await double.wait_until(lambda: bool(double.dm_messages(MEMBER_ID)), what="the submitter's DM")
    updated = double.message(post["id"])
    assert "approved by" in embeds_text(updated)
    assert button_ids(updated) == []
    assert "approved" in double.dm_messages(MEMBER_ID)[-1]["content"]

    answer = await double.wait_for_response(await double.slash_command("country", {"name": "AZ"}))
    assert NEW_SUMMARY in embeds_text(answer)
    cli = run("ask", "country", "AZ", database=database)
    assert NEW_SUMMARY in cli.stdout.replace("\n", " ")

    history = await double.wait_for_response(await double.slash_command("history", {"entry": "AZ"}))
    assert "Revision 2" in embeds_text(history)
    assert "correction #1" in embeds_text(history)

    reverted = await double.slash_command(
        "revert", {"entry": "AZ", "revision": 2, "reason": "Premature."}, user=MODERATOR_ID
    )
    assert "restored" in await ephemeral_reply(double, reverted)
    again = await double.wait_for_response(await double.slash_command("country", {"name": "AZ"}))
    assert NEW_SUMMARY not in embeds_text(again)
    assert NEW_SUMMARY not in run("ask", "country", "AZ", database=database).stdout.replace(
        "\n", " "
    )
    assert double.unknown_requests == []


async def test_nobody_but_a_home_moderator_can_change_anything(
    double: DiscordDouble, bot: ArmsBot, database: Path | str
) -> None:
    await configure(double)
    await submit_summary(double)
    post = await double.wait_for_channel_message(HOME_CHANNEL_ID, lambda m: bool(m.get("embeds")))
    kb: KnowledgeBase = bot.services.kb
    before = await kb.snapshot()

    # A member of the home server without the moderator role.
    refused = await double.click(post, "armsbot:review:approve:1", user=MEMBER_ID)
    assert "Only this deployment's moderators" in await ephemeral_reply(double, refused)
    reject = await double.click(post, "armsbot:review:reject:1", user=MEMBER_ID)
    assert "Only this deployment's moderators" in await ephemeral_reply(double, reject)
    for command, options in (
        ("review queue", {}),
        ("revert", {"entry": "AZ", "revision": 1, "reason": "x"}),
    ):
        handle = await double.slash_command(command, options, user=MEMBER_ID)
        assert "Only this deployment's moderators" in await ephemeral_reply(double, handle)
    config = await double.slash_command(
        "config", {"moderator-role": MODERATOR_ROLE_ID}, user=MEMBER_ID
    )
    assert "Manage Server" in await ephemeral_reply(double, config)

    # An administrator of another server the bot is in, with a crafted custom id.
    away = await double.wait_for_response(
        await double.slash_command(
            "country", {"name": "FR"}, user=OUTSIDER_ID, guild_id=AWAY_GUILD_ID
        )
    )
    assert away["channel_id"] == str(AWAY_CHANNEL_ID)
    crafted = await double.click(away, "armsbot:review:approve:1", user=OUTSIDER_ID, crafted=True)
    assert "nothing was changed" in await ephemeral_reply(double, crafted)
    queue = await double.slash_command("review queue", {}, user=OUTSIDER_ID, guild_id=AWAY_GUILD_ID)
    assert "Only this deployment's moderators" in await ephemeral_reply(double, queue)
    away_config = await double.slash_command(
        "config", {"review-channel": AWAY_CHANNEL_ID}, user=OUTSIDER_ID, guild_id=AWAY_GUILD_ID
    )
    assert "Manage Server in a home server" in await ephemeral_reply(double, away_config)

    # A crafted id on the real post, even by a real moderator: refused, nothing happens.
    ghost = await double.click(post, "armsbot:review:approve:999", user=MODERATOR_ID, crafted=True)
    assert "nothing was changed" in await ephemeral_reply(double, ghost)

    assert await kb.snapshot() == before
    correction = await bot.services.corrections.get(1)
    assert correction is not None
    assert correction.status == "pending"
    assert [e.action for e in await bot.services.corrections.audit_log()] == ["config", "submit"]


async def test_reject_asks_a_reason_and_a_closed_dm_fails_nothing(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    await configure(double)
    double.set_dm_blocked(MEMBER_ID)
    await submit_summary(double)
    post = await double.wait_for_channel_message(HOME_CHANNEL_ID, lambda m: bool(m.get("embeds")))
    click = await double.click(post, "armsbot:review:reject:1", user=MODERATOR_ID)
    modal = await double.wait_for_callback(click)
    assert modal["type"] == 9
    done = await double.submit_modal(
        click, {"Why is it rejected?": "The source does not say so."}, user=MODERATOR_ID
    )
    assert "is rejected" in await ephemeral_reply(double, done)
    await double.wait_until(
        lambda: "rejected by" in embeds_text(double.message(post["id"])), what="the post's update"
    )
    correction = await bot.services.corrections.get(1)
    assert correction is not None
    assert correction.decision_reason == "The source does not say so."
    assert double.dm_messages(MEMBER_ID) == []
    # The bot still answers.
    answer = await double.wait_for_response(await double.slash_command("country", {"name": "AZ"}))
    assert answer["embeds"]


async def test_invalid_submissions_store_nothing_and_say_why(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    handle = await double.slash_command(
        "correct", {"entry": "AZ", "change": "alias"}, user=MEMBER_ID
    )
    await double.wait_for_callback(handle)
    submitted = await double.submit_modal(
        handle,
        {
            "What is wrong": "Missing name.",
            "Proposed change": "Azeri\u202eland",
            "Source URL": "ftp://example.org/x",
        },
        user=MEMBER_ID,
    )
    reply = await ephemeral_reply(double, submitted)
    assert "Nothing was stored" in reply
    assert "Source URL: must start with http" in reply
    assert await bot.services.corrections.pending_count() == 0
    mine = await double.slash_command("mycorrections", {}, user=MEMBER_ID)
    assert "not submitted any" in await ephemeral_reply(double, mine)


async def test_review_buttons_survive_a_restart(
    double: DiscordDouble, database: Path | str
) -> None:
    settings = settings_for(double, database)
    async with running_bot(double, settings):
        await configure(double)
        await submit_summary(double)
        post = await double.wait_for_channel_message(
            HOME_CHANNEL_ID, lambda m: bool(m.get("embeds"))
        )
    async with running_bot(double, settings) as restarted:
        click = await double.click(post, "armsbot:review:approve:1", user=MODERATOR_ID)
        assert "is applied" in await ephemeral_reply(double, click)
        assert (await restarted.services.kb.entity("AZ")).summary == NEW_SUMMARY


async def test_propose_a_claim_and_an_entry(double: DiscordDouble, bot: ArmsBot) -> None:
    handle = await double.slash_command(
        "propose claim", {"entry": "nso-group", "category": "use"}, user=MEMBER_ID
    )
    await double.wait_for_callback(handle)
    done = await double.submit_modal(
        handle,
        {
            "The claim, in neutral words": "A new reported use of Pegasus.",
            "Status": "Reported",
            "Year or date (optional)": "2024",
            "Source URL": "https://example.org/use",
        },
        user=MEMBER_ID,
    )
    assert "correction #1" in await ephemeral_reply(double, done)
    handle = await double.slash_command(
        "propose entry", {"kind": "firm", "name": "Example Intercept SA"}, user=MEMBER_ID
    )
    await double.wait_for_callback(handle)
    done = await double.submit_modal(
        handle,
        {
            "Summary (neutral, one or two sentences)": "A firm selling interception gear.",
            "Other names, comma-separated (optional)": "ExIntercept, EISA",
            "Headquarters country (optional)": "France",
            "Source URL": "https://example.org/firm",
        },
        user=MEMBER_ID,
    )
    assert "correction #2" in await ephemeral_reply(double, done)
    services = bot.services.corrections
    for number in (1, 2):
        assert (await services.approve(number, "discord:1")).outcome.value == "applied"
    claim_card = await bot.services.lookup.card("nso-group")
    assert any(
        "A new reported use of Pegasus." in line.text
        for s in claim_card.sections
        for g in s.groups
        for line in g.lines
    )
    firm = await bot.services.kb.entity("example-intercept-sa")
    assert firm is not None
    assert firm.attributes == {"headquarters": "FR"}
    assert bot.services.index.search("EISA", None, 1)[0].id == "example-intercept-sa"


async def test_a_member_withdraws_a_pending_correction_from_mycorrections(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    await configure(double)
    await submit_summary(double)
    post = await double.wait_for_channel_message(HOME_CHANNEL_ID, lambda m: bool(m.get("embeds")))
    listing = await double.wait_for_response(
        await double.slash_command("mycorrections", {}, user=MEMBER_ID)
    )
    assert listing["flags"] & EPHEMERAL
    assert "#1 · AZ · **pending**" in listing["content"]
    assert button_ids(listing) == ["armsbot:withdraw:1"]

    # Someone else's message cannot carry the button: a crafted click is refused before it acts.
    other = await double.wait_for_response(
        await double.slash_command("country", {"name": "FR"}, user=MODERATOR_ID)
    )
    crafted = await double.click(other, "armsbot:withdraw:1", user=MODERATOR_ID, crafted=True)
    assert "nothing was changed" in await ephemeral_reply(double, crafted)
    still = await bot.services.corrections.get(1)
    assert still is not None
    assert still.status == "pending"

    click = await double.click(listing, "armsbot:withdraw:1", user=MEMBER_ID)
    updated = await double.wait_for_callback(click)
    assert updated["type"] == 7  # the list is shown again, in place
    content = re.sub(r"\\(.)", r"\1", str(updated["data"]["content"]))
    assert content.startswith("Correction #1 is withdrawn.\n\n#1 · AZ · **withdrawn**")
    assert button_ids(double.message(listing["id"])) == []
    await double.wait_until(
        lambda: "withdrawn by" in embeds_text(double.message(post["id"])), what="the post's update"
    )
    assert button_ids(double.message(post["id"])) == []
    assert [e.action for e in await bot.services.corrections.audit_log()][-1] == "withdraw"
    assert await bot.services.corrections.pending_count() == 0
    assert double.unknown_requests == []


async def test_the_same_change_approved_twice_is_superseded_and_says_by_which(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    await configure(double)
    await submit_summary(double)
    first = await double.wait_for_channel_message(HOME_CHANNEL_ID, lambda m: bool(m.get("embeds")))
    approve = await double.click(first, "armsbot:review:approve:1", user=MODERATOR_ID)
    assert "is applied" in await ephemeral_reply(double, approve)

    # The first is closed, so the same summary is no near-duplicate: it is stored and posted.
    assert "correction #2 is waiting" in await submit_summary(double)
    second = await double.wait_for_channel_message(
        HOME_CHANNEL_ID, lambda m: "Correction #2" in embeds_text(m)
    )
    click = await double.click(second, "armsbot:review:approve:2", user=MODERATOR_ID, locale="fr")
    assert await ephemeral_reply(double, click) == (
        "Rien n’a été appliqué : la correction #1 a déjà fait ce changement. "
        "La correction #2 est marquée remplacée."
    )
    await double.wait_until(
        lambda: len(double.dm_messages(MEMBER_ID)) == 2, what="the submitter's second DM"
    )
    assert double.dm_messages(MEMBER_ID)[-1]["content"] == (
        "Your correction #2 to AZ was superseded. Reason: correction #1 already made this change"
    )
    post = embeds_text(double.message(second["id"]))
    assert "superseded by" in post
    assert "correction #1 already made this change" in post
    mine = await double.wait_for_response(
        await double.slash_command("mycorrections", {}, user=MEMBER_ID)
    )
    assert "#2 · AZ · **superseded** by #1" in mine["content"]
    assert "#1 · AZ · **approved**" in mine["content"]
    assert button_ids(mine) == []
    history = await double.wait_for_response(await double.slash_command("history", {"entry": "AZ"}))
    assert "Revision 3" not in embeds_text(history)  # nothing was applied twice


async def test_the_withdraw_button_survives_a_restart(double: DiscordDouble, db_copy: Path) -> None:
    settings = settings_for(double, db_copy)
    async with running_bot(double, settings):
        await submit_summary(double)
        listing = await double.wait_for_response(
            await double.slash_command("mycorrections", {}, user=MEMBER_ID, locale="de")
        )
    assert listing["components"][0]["components"][0]["label"] == "#1 zurückziehen"
    async with running_bot(double, settings) as restarted:
        click = await double.click(listing, "armsbot:withdraw:1", user=MEMBER_ID)
        assert (await double.wait_for_callback(click))["type"] == 7
        withdrawn = await restarted.services.corrections.get(1)
        assert withdrawn is not None
        assert withdrawn.status == "withdrawn"
