"""Findings F1, F3 and F4 end to end: what the bot sends stays within Discord's limits, checked by
the strict Discord double (which refuses, as Discord does, any payload over a limit)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from armsbot.bot.client import ArmsBot
from armsbot.changes import Submission
from tests.bot_harness import button_ids, running_bot, settings_for
from tests.discord_double import (
    HOME_CHANNEL_ID,
    MEMBER_ID,
    MODERATOR_ID,
    MODERATOR_ROLE_ID,
    OWNER_ID,
    DiscordDouble,
    default_guild,
)

EPHEMERAL = 1 << 6


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble(guilds=[default_guild()]) as running:
        yield running


@pytest.fixture
async def bot(double: DiscordDouble, db_copy: Path) -> AsyncIterator[ArmsBot]:
    async with running_bot(double, settings_for(double, db_copy)) as started:
        yield started


def text_inputs(modal: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A modal's text inputs by label."""
    return {
        row["components"][0]["label"]: row["components"][0] for row in modal["data"]["components"]
    }


async def ephemeral_reply(double: DiscordDouble, handle: object) -> str:
    callback = await double.wait_for_callback(handle)  # type: ignore[arg-type]
    assert callback["data"]["flags"] & EPHEMERAL
    return re.sub(r"\\(.)", r"\1", str(callback["data"]["content"]))


async def test_f1_both_status_forms_open_and_accept_a_status(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    forms = [
        (
            "propose claim",
            {"entry": "nso-group", "category": "use"},
            "Status",
            {
                "The claim, in neutral words": "A new reported use of Pegasus.",
                "Year or date (optional)": "2024",
                "Source URL": "https://example.org/use",
            },
        ),
        (
            "correct",
            {
                "entry": "nso-group",
                "change": "claim_status",
                "claim": "nso-group-pegasus-project-ten-governments",
            },
            "New status",
            {"What is wrong": "It was confirmed.", "Source URL": "https://example.org/c"},
        ),
    ]
    for number, (command, options, status_label, values) in enumerate(forms, start=1):
        handle = await double.slash_command(command, options, user=MEMBER_ID)
        modal = await double.wait_for_callback(handle)
        assert modal["type"] == 9, f"/{command}: the form did not open"
        inputs = text_inputs(modal)
        assert all(len(label) <= 45 for label in inputs)
        status = inputs[status_label]
        assert status["placeholder"] == "confirmed, reported, alleged, denied"
        submitted = await double.submit_modal(
            handle, {**values, status_label: "Reported"}, user=MEMBER_ID
        )
        assert f"correction #{number}" in await ephemeral_reply(double, submitted)
        correction = await bot.services.corrections.get(number)
        assert correction is not None
        assert correction.change["status"] == "reported"
    assert double.rejected_requests == []


ORDINARY_REASON = (
    "The entry gives the wrong year for the licence; the ministry's register (p. 3) lists it "
    "under 2019, and two newspapers reported the same date at the time. "
) * 2


async def test_f3_history_of_20_revisions_is_paged_and_every_page_opens(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    services = bot.services.corrections
    for n in range(20):
        submission = Submission.model_validate(
            {
                "entity_id": "nso-group",
                "change": {"type": "add_alias", "name": f"Alias number {n}"},
                "what_is_wrong": ORDINARY_REASON,
                "source_url": f"https://example.org/register/{n}",
            }
        )
        correction = await services.submit(submission, f"discord:{MEMBER_ID + n}", None)
        assert (await services.approve(correction.id, f"discord:{MODERATOR_ID}")).revision
    handle = await double.slash_command("history", {"entry": "nso-group"})
    message = await double.wait_for_response(handle)
    seen = [f["name"].split(" · ")[0] for f in message["embeds"][0]["fields"]]
    while "armsbot:hist:nso-group:" in str(button_ids(message)[-1:]) and not button_disabled(
        message, -1
    ):
        click = await double.click(message, button_ids(message)[-1])
        await double.wait_for_callback(click)
        message = await double.wait_for_response(click)
        seen += [f["name"].split(" · ")[0] for f in message["embeds"][0]["fields"]]
    assert seen == [f"Revision {n}" for n in range(21, 1, -1)]
    assert double.rejected_requests == []


def button_disabled(message: dict[str, Any], index: int) -> bool:
    buttons = [c for row in message.get("components") or [] for c in row["components"]]
    return bool(buttons[index].get("disabled"))


def prose(length: int, seed: str) -> str:
    """Text of markdown characters (escaping nearly doubles it), ``length`` long: the largest a
    form field can make its part of an embed."""
    words = f"{seed} *_(p)_* [[x]] <<#>> -:- "
    return (words * (length // len(words) + 1))[:length].strip().ljust(length, "_")


CYRILLIC_URL = "https://ru.example.org/статья/" + ("оружие-и-слежка-" * 29)[:460]


async def test_f3_f4_review_post_with_every_field_full_and_a_long_rejection(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    await configure(double)
    services = bot.services.corrections
    long_summary = Submission.model_validate(
        {
            "entity_id": "nso-group",
            "change": {"type": "edit_field", "field": "summary", "value": prose(1000, "Now")},
            "what_is_wrong": "The summary was short.",
            "source_url": "https://example.org/summary",
        }
    )
    first = await services.submit(long_summary, f"discord:{OWNER_ID}", None)
    assert (await services.approve(first.id, f"discord:{MODERATOR_ID}")).revision
    handle = await double.slash_command(
        "correct", {"entry": "nso-group", "change": "summary"}, user=MEMBER_ID
    )
    modal = await double.wait_for_callback(handle)
    sizes = {label: item["max_length"] for label, item in text_inputs(modal).items()}
    assert sizes["Source URL"] == len(CYRILLIC_URL) + 10
    submitted = await double.submit_modal(
        handle,
        {
            "What is wrong": prose(sizes["What is wrong"], "What"),
            "Proposed change": prose(sizes["Proposed change"], "Claim"),
            "Source URL": CYRILLIC_URL + "/" + "ж" * 9,
            "Source title (optional)": prose(sizes["Source title (optional)"], "Title"),
            "Note (optional)": prose(sizes["Note (optional)"], "Note"),
        },
        user=MEMBER_ID,
    )
    assert "correction #2" in await ephemeral_reply(double, submitted)
    post = await double.wait_for_channel_message(HOME_CHANNEL_ID, lambda m: bool(m.get("embeds")))
    embed = post["embeds"][0]
    source = next(f["value"] for f in embed["fields"] if f["name"] == "Source")
    assert "ru.example.org/статья" in re.sub(r"\\(.)", r"\1", source)
    assert len(str(embed)) > 5000  # every field near its share of the 6,000
    click = await double.click(post, "armsbot:review:reject:2", user=MODERATOR_ID)
    reject = await double.wait_for_callback(click)
    [(label, item)] = text_inputs(reject).items()
    done = await double.submit_modal(
        click, {label: prose(item["max_length"], "Reason")}, user=MODERATOR_ID
    )
    assert "is rejected" in await ephemeral_reply(double, done)
    await double.wait_until(
        lambda: "rejected by" in str(double.message(post["id"])["embeds"]), what="the update"
    )
    assert double.rejected_requests == []


async def configure(double: DiscordDouble) -> None:
    handle = await double.slash_command(
        "config",
        {"moderator-role": MODERATOR_ROLE_ID, "review-channel": HOME_CHANNEL_ID},
        user=OWNER_ID,
    )
    await double.wait_for_callback(handle)


async def test_the_name_form_takes_no_more_than_a_name_may_hold(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    """A form that accepted 1,000 characters for a name answered "Nothing was stored" after."""
    handle = await double.slash_command(
        "correct", {"entry": "nso-group", "change": "name"}, user=MEMBER_ID
    )
    modal = await double.wait_for_callback(handle)
    assert modal["type"] == 9
    proposed = text_inputs(modal)["Proposed change"]
    assert proposed["max_length"] == 200
    assert proposed["value"] == "NSO Group"
    longest = "N" * 200
    submitted = await double.submit_modal(
        handle,
        {
            "What is wrong": "The name is spelled differently.",
            "Proposed change": longest,
            "Source URL": "https://example.org/n",
        },
        user=MEMBER_ID,
    )
    assert "correction #1" in await ephemeral_reply(double, submitted)
    correction = await bot.services.corrections.get(1)
    assert correction is not None
    assert correction.change == {"type": "edit_field", "field": "name", "value": longest}
    assert double.rejected_requests == []
