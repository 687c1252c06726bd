"""Findings F1, F3 and F4 end to end: what the bot sends stays within Discord's limits, checked by
the strict Discord double (which refuses, as Discord does, any payload over a limit)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from armsbot.bot.client import ArmsBot
from tests.bot_harness import running_bot, settings_for
from tests.discord_double import MEMBER_ID, DiscordDouble, default_guild

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
                "claim": "nso-group-pegasus-azerbaijan",
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
