"""Who may moderate, end to end through the Discord double: the Reject form (F10), and
permissions as the README documents them."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest

from armsbot.bot.client import ArmsBot
from armsbot.bot.manifest import manifest_path
from armsbot.storage import KnowledgeBase
from tests.bot_harness import embeds_text, running_bot, settings_for
from tests.discord_double import (
    HOME_CHANNEL_ID,
    MEMBER_ID,
    MODERATOR_ID,
    MODERATOR_ROLE_ID,
    OUTSIDER_ID,
    OWNER_ID,
    DiscordDouble,
    FakeGuild,
    FakeMember,
    FakeRole,
    InteractionHandle,
    default_guild,
    default_users,
)
from tests.test_bot_corrections_e2e import configure, ephemeral_reply, submit_summary

REASON = "The source does not say so."
MANAGERS_ROLE_ID = 990_000_000_000_000_001
HELPERS_ROLE_ID = 990_000_000_000_000_002


def home_guild_with_plain_roles() -> FakeGuild:
    """The home server, its Moderator role holding no Discord permission at all; OUTSIDER has
    Manage Server without that role, MEMBER has Manage Messages without it."""
    guild = default_guild()
    moderator = guild.role(MODERATOR_ROLE_ID)
    assert moderator is not None
    moderator.permissions = 0
    guild.roles += [
        FakeRole(MANAGERS_ROLE_ID, "Managers", discord.Permissions(manage_guild=True).value, 3),
        FakeRole(HELPERS_ROLE_ID, "Helpers", discord.Permissions(manage_messages=True).value, 1),
    ]
    member = next(m for m in guild.members if m.user.id == MEMBER_ID)
    member.role_ids.append(HELPERS_ROLE_ID)
    guild.members.append(FakeMember(default_users()["outsider"], [MANAGERS_ROLE_ID]))
    return guild


@pytest.fixture
async def double() -> AsyncIterator[DiscordDouble]:
    async with DiscordDouble(guilds=[home_guild_with_plain_roles()]) as running:
        yield running


@pytest.fixture
async def bot(double: DiscordDouble, database: Path | str) -> AsyncIterator[ArmsBot]:
    async with running_bot(double, settings_for(double, database)) as started:
        yield started


async def open_reject_form(double: DiscordDouble, post: dict[str, Any]) -> InteractionHandle:
    click = await double.click(post, "armsbot:review:reject:1", user=MODERATOR_ID)
    modal = await double.wait_for_callback(click)
    assert modal["type"] == 9
    return click


async def test_f10_another_member_submitting_the_reject_form_is_refused(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    await configure(double)
    await submit_summary(double)
    post = await double.wait_for_channel_message(HOME_CHANNEL_ID, lambda m: bool(m.get("embeds")))
    kb: KnowledgeBase = bot.services.kb
    before = await kb.snapshot()
    click = await open_reject_form(double, post)

    # The form the moderator has open, submitted by others (its id known to them, the worst case):
    # a member, and even the owner, who may moderate but did not open this form.
    for other in (MEMBER_ID, OWNER_ID):
        forged = await double.submit_modal(click, {"Why is it rejected?": "Closed."}, user=other)
        assert "nothing was changed" in await ephemeral_reply(double, forged)
    correction = await bot.services.corrections.get(1)
    assert correction is not None
    assert correction.status == "pending"
    assert await kb.snapshot() == before
    assert [e.action for e in await bot.services.corrections.audit_log()] == ["config", "submit"]

    # The moderator's own form is still open and works.
    done = await double.submit_modal(click, {"Why is it rejected?": REASON}, user=MODERATOR_ID)
    assert "is rejected" in await ephemeral_reply(double, done)
    correction = await bot.services.corrections.get(1)
    assert correction is not None
    assert correction.status == "rejected"
    assert correction.decision_reason == REASON
    assert correction.decided_by == f"discord:{MODERATOR_ID}"
    await double.wait_until(
        lambda: "rejected by" in embeds_text(double.message(post["id"])), what="the post's update"
    )


async def test_f10_each_reject_form_has_its_own_unguessable_id(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    await configure(double)
    await submit_summary(double)
    post = await double.wait_for_channel_message(HOME_CHANNEL_ID, lambda m: bool(m.get("embeds")))
    ids = []
    for _ in range(2):
        click = await open_reject_form(double, post)
        ids.append((await double.wait_for_callback(click))["data"]["custom_id"])
    for custom_id in ids:
        assert re.fullmatch(r"armsbot:reject-reason:1:[A-Za-z0-9_-]{16,}", custom_id)
        assert len(custom_id) <= 100
    assert ids[0] != ids[1]
    # Either form, submitted by the moderator who opened it, rejects (once).
    done = await double.submit_modal(ids[0], {"Why is it rejected?": REASON}, user=MODERATOR_ID)
    assert "is rejected" in await ephemeral_reply(double, done)
    again = await double.submit_modal(ids[1], {"Why is it rejected?": REASON}, user=MODERATOR_ID)
    assert "already rejected" in await ephemeral_reply(double, again)


async def test_permissions_review_and_revert_need_no_discord_permission(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    """Role moderators can use /review and /revert on a real server with no admin steps: Discord
    shows a command only to members holding its ``default_member_permissions``, so these carry
    none, and the server-side check decides."""
    manifest = {c["name"]: c for c in json.loads(manifest_path().read_text(encoding="utf-8"))}
    registered = {c["name"]: c for c in double.registered_commands()}
    for name in ("review", "revert"):
        assert manifest[name]["default_member_permissions"] is None, name
        assert registered[name]["default_member_permissions"] is None, name
    config_permission = discord.Permissions(manage_guild=True).value
    assert int(registered["config"]["default_member_permissions"]) == config_permission

    await configure(double)
    await submit_summary(double)
    post = await double.wait_for_channel_message(HOME_CHANNEL_ID, lambda m: bool(m.get("embeds")))
    # The Moderator role of this server holds no Discord permission at all.
    queue = await double.slash_command("review queue", {}, user=MODERATOR_ID)
    listed = await double.wait_for_callback(queue)
    assert "#1 · AZ" in embeds_text(listed["data"])
    click = await double.click(post, "armsbot:review:approve:1", user=MODERATOR_ID)
    assert "is applied" in await ephemeral_reply(double, click)
    reverted = await double.slash_command(
        "revert", {"entry": "AZ", "revision": 2, "reason": "Premature."}, user=MODERATOR_ID
    )
    assert "restored" in await ephemeral_reply(double, reverted)


async def test_permissions_manage_server_counts_as_moderator_even_with_a_role_set(
    double: DiscordDouble, bot: ArmsBot
) -> None:
    """The one rule, as the README's "Who moderates" says: members with Manage Server in a home
    server moderate whether or not a moderator role is set (they could set it to their own role
    anyway); other Discord permissions, such as Manage Messages, count for nothing."""
    await configure(double)  # the Moderator role is set
    await submit_summary(double, "AZ")
    await submit_summary(double, "IL")
    await double.wait_until(
        lambda: len([m for m in double.channel_messages(HOME_CHANNEL_ID) if m.get("embeds")]) == 2,
        what="both review posts",
    )
    posts = [m for m in double.channel_messages(HOME_CHANNEL_ID) if m.get("embeds")]

    # MEMBER holds Manage Messages but not the Moderator role: refused everywhere.
    refused = await double.click(posts[0], "armsbot:review:approve:1", user=MEMBER_ID)
    assert "Only this deployment's moderators" in await ephemeral_reply(double, refused)
    queue = await double.slash_command("review queue", {}, user=MEMBER_ID)
    assert "Only this deployment's moderators" in await ephemeral_reply(double, queue)
    pending = await bot.services.corrections.get(1)
    assert pending is not None
    assert pending.status == "pending"

    # OUTSIDER holds Manage Server but not the Moderator role: approves, rejects, reverts.
    approve = await double.click(posts[0], "armsbot:review:approve:1", user=OUTSIDER_ID)
    assert "is applied" in await ephemeral_reply(double, approve)
    reject = await double.click(posts[1], "armsbot:review:reject:2", user=OUTSIDER_ID)
    await double.wait_for_callback(reject)
    done = await double.submit_modal(reject, {"Why is it rejected?": REASON}, user=OUTSIDER_ID)
    assert "is rejected" in await ephemeral_reply(double, done)
    reverted = await double.slash_command(
        "revert", {"entry": "AZ", "revision": 2, "reason": "Premature."}, user=OUTSIDER_ID
    )
    assert "restored" in await ephemeral_reply(double, reverted)
    actions = [(e.action, e.actor_id) for e in await bot.services.corrections.audit_log()]
    assert ("approve", f"discord:{OUTSIDER_ID}") in actions
    assert ("reject", f"discord:{OUTSIDER_ID}") in actions
