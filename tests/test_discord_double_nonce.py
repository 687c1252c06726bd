"""The double's model of a message nonce with ``enforce_nonce`` (Discord, Create Message: "If
another message was created by the same author with the same nonce, that message will be returned
and no new message will be created"), of held answers, and of contexts and installations."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.discord_double import HOME_CHANNEL_ID, DiscordDouble, default_guild


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble(guilds=[default_guild()], nonce_window=60) as running:
        yield running


async def post(double: DiscordDouble, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{double.rest_base}/channels/{HOME_CHANNEL_ID}/messages",
            json=body,
            headers={"Authorization": f"Bot {double.token}"},
        ) as response,
    ):
        return response.status, await response.json()


async def test_an_enforced_nonce_returns_the_message_already_made(double: DiscordDouble) -> None:
    status, first = await post(double, {"content": "one", "nonce": "n-1", "enforce_nonce": True})
    assert (status, first["nonce"]) == (200, "n-1")
    status, again = await post(double, {"content": "two", "nonce": "n-1", "enforce_nonce": True})
    assert (status, again["id"], again["content"]) == (200, first["id"], "one")
    status, other = await post(double, {"content": "three", "nonce": "n-2", "enforce_nonce": True})
    assert other["id"] != first["id"]
    # Without enforce_nonce, a nonce is only echoed: a second message is made.
    status, unenforced = await post(double, {"content": "four", "nonce": "n-1"})
    assert unenforced["id"] not in (first["id"], other["id"])
    assert [m["content"] for m in double.channel_messages(HOME_CHANNEL_ID)] == [
        "one",
        "three",
        "four",
    ]


async def test_an_enforced_nonce_is_only_remembered_for_a_few_minutes(
    double: DiscordDouble,
) -> None:
    double.nonce_window = 0.0
    _, first = await post(double, {"content": "one", "nonce": "n-1", "enforce_nonce": True})
    _, later = await post(double, {"content": "two", "nonce": "n-1", "enforce_nonce": True})
    assert later["id"] != first["id"]


async def test_a_nonce_over_25_characters_is_refused(double: DiscordDouble) -> None:
    status, body = await post(double, {"content": "x", "nonce": "n" * 26, "enforce_nonce": True})
    assert status == 400
    assert body["code"] == 50035
    assert body["errors"]["nonce"]["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    double.rejected_requests.clear()  # refused on purpose
    assert double.channel_messages(HOME_CHANNEL_ID) == []


async def test_a_held_post_exists_before_its_answer(double: DiscordDouble) -> None:
    double.hold_next_messages(HOME_CHANNEL_ID)
    waiting = asyncio.create_task(
        post(double, {"content": "held", "nonce": "h", "enforce_nonce": True})
    )
    await double.wait_until(lambda: bool(double.held_messages), what="the held post")
    assert not waiting.done()
    assert [m["content"] for m in double.channel_messages(HOME_CHANNEL_ID)] == ["held"]
    double.release_held()
    status, answer = await waiting
    assert (status, answer["id"]) == (200, double.held_messages[0]["id"])
