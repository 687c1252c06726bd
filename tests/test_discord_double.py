"""End-to-end tests of the Discord double, driven through a small discord.py bot defined here."""

from __future__ import annotations

import asyncio
import contextlib
import io
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.discord_double import (
    AWAY_CHANNEL_ID,
    AWAY_GUILD_ID,
    HOME_CHANNEL_ID,
    HOME_GUILD_ID,
    MEMBER_ID,
    MODERATOR_ID,
    MODERATOR_ROLE_ID,
    DiscordDouble,
    FakeGuild,
    InteractionHandle,
    default_guild,
    second_guild,
    wait_for_bot_tasks,
)

COUNTRIES = ["Bahrain", "Belarus", "Belgium", "Egypt", "Myanmar", "Saudi Arabia", "Sudan"]


class ConfirmView(discord.ui.View):
    """A one-button view; clicking edits the message (callback type 7)."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Confirm", custom_id="confirm", style=discord.ButtonStyle.green)
    async def confirm(
        self, interaction: discord.Interaction, button: discord.ui.Button[ConfirmView]
    ) -> None:
        button.disabled = True
        await interaction.response.edit_message(content="Confirmed.", view=self)
        self.stop()


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    """A modal with one text input whose custom_id is random (looked up by label)."""

    text: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
        label="Your feedback", max_length=200
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"Thanks: {self.text.value}", ephemeral=True)


Action = Callable[[discord.Interaction], Awaitable[None]]


class ActionView(discord.ui.View):
    """A one-button view whose click runs the bot's current ``action`` (to test type-7 edits)."""

    def __init__(self, bot: FastReidentifyBot) -> None:
        super().__init__(timeout=None)
        self.bot = bot

    @discord.ui.button(label="Act", custom_id="act")
    async def act(
        self, interaction: discord.Interaction, button: discord.ui.Button[ActionView]
    ) -> None:
        await self.bot.run_action(interaction)


class FastReidentifyBot(commands.Bot):
    """A Bot whose re-IDENTIFY does not wait: discord.py's default hook sleeps 5 s before it."""

    late_error_codes: list[int]
    # What /act and the "act" button do, set by a test; the HTTP errors they met.
    action: Action | None = None
    refused: list[discord.HTTPException]
    choices: list[app_commands.Choice[str]]

    async def run_action(self, interaction: discord.Interaction) -> None:
        """Run the test's action, keeping what Discord (the double) refused."""
        assert self.action is not None
        try:
            await self.action(interaction)
        except discord.HTTPException as exc:
            self.refused.append(exc)
        if not interaction.response.is_done():
            await interaction.response.send_message("done", ephemeral=True)

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


def make_bot(*, intents: discord.Intents | None = None) -> commands.Bot:
    """Build the test bot: ping, autocomplete, button, modal, defer+follow-up, DM, channel post."""
    bot = FastReidentifyBot(
        command_prefix=commands.when_mentioned,
        intents=intents or discord.Intents.default(),
        allowed_mentions=discord.AllowedMentions.none(),
        help_command=None,
        guild_ready_timeout=0.05,  # READY this long after the last GUILD_CREATE, as in bot_harness
    )
    bot.late_error_codes = []
    bot.refused = []
    bot.choices = []

    @bot.tree.command(name="act", description="Do what the test asks")
    async def act(interaction: discord.Interaction) -> None:
        await bot.run_action(interaction)

    @bot.tree.command(name="pick", description="Autocomplete with the test's choices")
    async def pick(interaction: discord.Interaction, value: str) -> None:
        await interaction.response.send_message(value)

    @pick.autocomplete("value")
    async def pick_autocomplete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        try:
            await interaction.response.autocomplete(bot.choices)
        except discord.HTTPException as exc:
            bot.refused.append(exc)
        return []

    @bot.tree.command(name="ping", description="Check that the bot answers")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"pong <@{interaction.user.id}>")

    @bot.tree.command(name="country", description="Look up a country")
    @app_commands.describe(name="Country name")
    async def country(interaction: discord.Interaction, name: str) -> None:
        await interaction.response.send_message(f"Country: {name}")

    @country.autocomplete("name")
    async def country_autocomplete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        hits = [c for c in COUNTRIES if current.lower() in c.lower()]
        return [app_commands.Choice(name=c, value=c) for c in hits[:25]]

    @bot.tree.command(name="confirm", description="Ask for confirmation")
    async def confirm(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Please confirm.", view=ConfirmView())

    @bot.tree.command(name="feedback", description="Send feedback")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal())

    @bot.tree.command(name="slow", description="Defer, then follow up")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await asyncio.sleep(0.05)
        await interaction.followup.send("done slowly")

    @bot.tree.command(name="announce", description="Post in the channel")
    async def announce(interaction: discord.Interaction, text: str) -> None:
        assert isinstance(interaction.channel, discord.TextChannel)
        await interaction.channel.send(f"Announcement: {text}")
        await interaction.response.send_message("Posted.", ephemeral=True)

    @bot.tree.command(name="dm", description="DM me")
    async def dm(interaction: discord.Interaction) -> None:
        try:
            await interaction.user.send("Hello in private.")
        except discord.Forbidden as exc:
            await interaction.response.send_message(f"Cannot DM you ({exc.code}).", ephemeral=True)
        else:
            await interaction.response.send_message("Sent you a DM.", ephemeral=True)

    @bot.tree.command(name="purge", description="Moderators only")
    @app_commands.default_permissions(manage_messages=True)
    @app_commands.checks.has_permissions(manage_messages=True)
    async def purge(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Purged.")

    @bot.tree.command(
        name="tag", description="Guild-only command", guild=discord.Object(HOME_GUILD_ID)
    )
    async def tag(interaction: discord.Interaction, who: discord.Member) -> None:
        await interaction.response.send_message(
            f"Tagged {who.display_name} in {interaction.guild_id}"
        )

    @bot.tree.command(name="sleepy", description="Answers too late")
    async def sleepy(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.1)  # always past the 0.05 s deadline its test sets
        try:
            await interaction.response.send_message("finally")
        except discord.NotFound as exc:
            bot.late_error_codes.append(exc.code)

    @bot.tree.command(name="export", description="Reply with a file")
    async def export(interaction: discord.Interaction) -> None:
        file = discord.File(io.BytesIO(b"country,deals\nEgypt,3\n"), filename="deals.csv")
        await interaction.response.send_message("Here you go.", file=file)

    report = app_commands.Group(name="report", description="Reports")

    @report.command(name="show", description="Show a report")
    async def report_show(
        interaction: discord.Interaction, number: app_commands.Range[int, 1, 99]
    ) -> None:
        await interaction.response.send_message(f"Report #{number}")

    bot.tree.add_command(report)

    @bot.tree.error
    async def on_app_command_error(
        interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, app_commands.MissingPermissions):
            await interaction.response.send_message("You are not allowed.", ephemeral=True)
            return
        raise error

    return bot


@dataclass
class Harness:
    """A started double and a connected, synced bot."""

    double: DiscordDouble
    bot: commands.Bot


@contextlib.asynccontextmanager
async def running_bot(
    *,
    guilds: Sequence[FakeGuild] | None = None,
    intents: discord.Intents | None = None,
    sync: bool = True,
    resume_supported: bool = False,
    interaction_timeout: float | None = 3.0,
) -> AsyncIterator[Harness]:
    """Start a double, log the bot in, sync its commands; clean everything up afterwards."""
    double = DiscordDouble(
        guilds=guilds, resume_supported=resume_supported, interaction_timeout=interaction_timeout
    )
    async with double:
        with double.patch_discord():
            bot = make_bot(intents=intents)
            runner: asyncio.Task[None] | None = None
            try:
                await bot.login(double.token or "")
                runner = asyncio.create_task(bot.connect(reconnect=True))
                await asyncio.wait_for(bot.wait_until_ready(), 5)
                if sync:
                    await bot.tree.sync()
                    await bot.tree.sync(guild=discord.Object(HOME_GUILD_ID))
                yield Harness(double, bot)
                await wait_for_bot_tasks()
            finally:
                await bot.close()
                if runner is not None:
                    await asyncio.wait_for(runner, 5)
    double.assert_clean()


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    """A bot connected to the default double (guild "Home")."""
    async with running_bot() as h:
        yield h


@pytest.mark.asyncio
async def test_login_caches_guild_and_sync_registers_commands(harness: Harness) -> None:
    double, bot = harness.double, harness.bot
    assert bot.user is not None
    assert bot.user.id == double.application_id
    assert bot.application_id == double.application_id
    guild = bot.get_guild(HOME_GUILD_ID)
    assert guild is not None
    assert guild.name == "Home"
    assert guild.member_count == 4
    assert guild.get_channel(HOME_CHANNEL_ID) is not None
    moderator_role = guild.get_role(MODERATOR_ROLE_ID)
    assert moderator_role is not None
    assert moderator_role.permissions.manage_messages
    # Without the members intent Discord only sends the bot's own member.
    assert guild.me is not None
    assert guild.get_member(MODERATOR_ID) is None

    global_names = {c["name"] for c in double.registered_commands()}
    assert global_names == {
        "ping",
        "country",
        "confirm",
        "feedback",
        "slow",
        "announce",
        "dm",
        "purge",
        "sleepy",
        "export",
        "report",
        "act",
        "pick",
    }
    (tag,) = double.registered_commands(HOME_GUILD_ID)
    assert tag["name"] == "tag"
    assert tag["guild_id"] == str(HOME_GUILD_ID)
    purge = next(c for c in double.registered_commands() if c["name"] == "purge")
    assert purge["default_member_permissions"] == str(
        discord.Permissions(manage_messages=True).value
    )
    country = next(c for c in double.registered_commands() if c["name"] == "country")
    assert country["options"][0]["autocomplete"] is True
    assert [r.route for r in double.requests[:2]] == [
        "GET /users/@me",
        "GET /oauth2/applications/@me",
    ]
    assert double.identify_count == 1


@pytest.mark.asyncio
async def test_ping_round_trip(harness: Harness) -> None:
    double = harness.double
    handle = await double.slash_command("ping", user=MEMBER_ID)
    callback = await double.wait_for_callback(handle)
    assert callback["type"] == 4
    assert callback["data"]["content"] == f"pong <@{MEMBER_ID}>"
    assert callback["data"]["allowed_mentions"] == {"parse": []}
    message = await double.wait_for_response(handle)
    assert message["content"] == f"pong <@{MEMBER_ID}>"
    assert message["mentions"] == []  # AllowedMentions.none(): nobody is pinged
    assert message["interaction_metadata"]["user"]["id"] == str(MEMBER_ID)
    assert double.channel_messages(HOME_CHANNEL_ID)[-1]["id"] == message["id"]
    assert len(double.callback_times) == 1
    assert handle.callback_latency is not None
    assert 0 < handle.callback_latency < 1


@pytest.mark.asyncio
async def test_autocomplete_then_command(harness: Harness) -> None:
    double = harness.double
    handle = await double.autocomplete("country", {"name": "bel"})
    assert handle.payload["data"]["options"] == [
        {"name": "name", "type": 3, "value": "bel", "focused": True}
    ]
    choices = await double.autocomplete_choices(handle)
    assert choices == [
        {"name": "Belarus", "value": "Belarus"},
        {"name": "Belgium", "value": "Belgium"},
    ]

    command = await double.slash_command("country", {"name": "Belarus"})
    assert (await double.wait_for_response(command))["content"] == "Country: Belarus"


@pytest.mark.asyncio
async def test_button_click_updates_message(harness: Harness) -> None:
    double = harness.double
    handle = await double.slash_command("confirm")
    message = await double.wait_for_response(handle)
    assert message["content"] == "Please confirm."
    button = message["components"][0]["components"][0]
    assert (button["custom_id"], button["label"]) == ("confirm", "Confirm")

    click = await double.click(message, "confirm", user=MODERATOR_ID)
    assert click.payload["message"]["id"] == message["id"]
    callback = await double.wait_for_callback(click)
    assert callback["type"] == 7
    updated = await double.wait_for_response(click)
    assert updated["id"] == message["id"]
    assert updated["content"] == "Confirmed."
    assert updated["components"][0]["components"][0]["disabled"] is True
    assert double.message(message["id"])["edited_timestamp"] is not None
    with pytest.raises(AssertionError, match="disabled"):
        await double.click(message, "confirm")


@pytest.mark.asyncio
async def test_modal_submit_content_arrives(harness: Harness) -> None:
    double = harness.double
    handle = await double.slash_command("feedback")
    callback = await double.wait_for_callback(handle)
    assert callback["type"] == 9
    assert callback["data"]["title"] == "Feedback"
    with pytest.raises(AssertionError, match="callback type 9"):
        await double.wait_for_response(handle, timeout=0.5)

    submit = await double.submit_modal(handle, {"Your feedback": "Clear sources, thanks"})
    reply = await double.wait_for_response(submit)
    assert reply["content"] == "Thanks: Clear sources, thanks"
    assert reply["flags"] & 64  # ephemeral


@pytest.mark.asyncio
async def test_defer_then_follow_up(harness: Harness) -> None:
    double = harness.double
    handle = await double.slash_command("slow")
    callback = await double.wait_for_callback(handle)
    assert callback["type"] == 5
    message = await double.wait_for_response(handle)
    assert message["content"] == "done slowly"
    # The first follow-up after a deferral replaces the "thinking" message.
    assert int(message["id"]) == handle.original_message_id
    assert not message["flags"] & 128
    assert double.find_requests("POST /webhooks/{app}/{token}")[0].query.get("wait") == "1"


@pytest.mark.asyncio
async def test_permissions_come_from_member_roles(harness: Harness) -> None:
    double = harness.double
    member = await double.slash_command("purge", user=MEMBER_ID)
    assert (await double.wait_for_response(member))["content"] == "You are not allowed."
    moderator = await double.slash_command("purge", user=MODERATOR_ID)
    assert (await double.wait_for_response(moderator))["content"] == "Purged."
    perms = int(moderator.payload["member"]["permissions"])
    assert discord.Permissions(perms).manage_messages
    assert not discord.Permissions(int(member.payload["member"]["permissions"])).manage_messages


@pytest.mark.asyncio
async def test_guild_command_with_member_option(harness: Harness) -> None:
    double = harness.double
    handle = await double.slash_command("tag", {"who": MODERATOR_ID})
    assert handle.payload["data"]["guild_id"] == str(HOME_GUILD_ID)
    assert str(MODERATOR_ID) in handle.payload["data"]["resolved"]["members"]
    reply = await double.wait_for_response(handle)
    assert reply["content"] == f"Tagged Moderator Mo in {HOME_GUILD_ID}"


@pytest.mark.asyncio
async def test_gateway_drop_reconnects_and_still_answers(harness: Harness) -> None:
    double = harness.double
    assert await double.drop_gateway() == 1
    await double.wait_for_identify(2)
    assert double.resume_count == 1  # tried to RESUME, got op 9, identified again
    handle = await double.slash_command("ping")
    assert (await double.wait_for_response(handle))["content"].startswith("pong")
    assert harness.bot.get_guild(HOME_GUILD_ID) is not None


@pytest.mark.asyncio
async def test_gateway_drop_resumes_when_the_double_allows_it() -> None:
    async with running_bot(resume_supported=True, sync=False) as h:
        await h.bot.tree.sync()
        session = h.double.sessions[0]
        assert await h.double.drop_gateway(code=4000) == 1
        await h.double.wait_for_gateway()
        assert (h.double.identify_count, h.double.resume_count, session.resumes) == (1, 1, 1)
        assert session.events[-1] == "RESUMED"
        handle = await h.double.slash_command("ping")
        assert (await h.double.wait_for_response(handle))["content"].startswith("pong")


@pytest.mark.asyncio
async def test_rate_limited_callback_is_retried(harness: Harness) -> None:
    double = harness.double
    double.rate_limit_next("POST /interactions/{id}/{token}/callback", retry_after=0.05)
    started = time.monotonic()
    handle = await double.slash_command("ping")
    message = await double.wait_for_response(handle)
    assert message["content"].startswith("pong")
    assert time.monotonic() - started >= 0.05
    (limited,) = double.rate_limited_requests
    assert limited.route == "POST /interactions/{interaction_id}/{token}/callback"
    assert limited.status == 429
    assert len(double.find_requests("POST /interactions/{id}/{token}/callback")) == 2


@pytest.mark.asyncio
async def test_rate_limited_channel_message_is_retried(harness: Harness) -> None:
    double = harness.double
    double.rate_limit_next("POST /channels/{channel_id}/messages", retry_after=0.05)
    handle = await double.slash_command("announce", {"text": "new report"})
    reply = await double.wait_for_response(handle)
    assert reply["content"] == "Posted."
    posted = await double.wait_for_channel_message(
        HOME_CHANNEL_ID, lambda m: m["content"] == "Announcement: new report"
    )
    assert posted["author"]["id"] == str(double.application_id)
    assert len(double.rate_limited_requests) == 1
    statuses = [
        r.status for r in double.find_requests(f"POST /channels/{HOME_CHANNEL_ID}/messages")
    ]
    assert statuses == [429, 200]


@pytest.mark.asyncio
async def test_dm_and_blocked_dm(harness: Harness) -> None:
    double = harness.double
    first = await double.slash_command("dm")
    assert (await double.wait_for_response(first))["content"] == "Sent you a DM."
    assert [m["content"] for m in double.dm_messages(MEMBER_ID)] == ["Hello in private."]

    double.set_dm_blocked(MEMBER_ID)
    second = await double.slash_command("dm")
    assert (await double.wait_for_response(second))["content"] == "Cannot DM you (50007)."
    assert len(double.dm_messages(MEMBER_ID)) == 1


@pytest.mark.asyncio
async def test_unknown_route_is_recorded(harness: Harness) -> None:
    double = harness.double
    with pytest.raises(discord.NotFound):
        await harness.bot.fetch_guild(HOME_GUILD_ID)
    (unknown,) = double.unknown_requests
    assert (unknown.method, unknown.path, unknown.status) == (
        "GET",
        f"/guilds/{HOME_GUILD_ID}",
        404,
    )
    with pytest.raises(AssertionError, match="unknown route"):
        double.assert_clean()
    double.unknown_requests.clear()


@pytest.mark.asyncio
async def test_sync_failure_surfaces_as_command_sync_failure(harness: Harness) -> None:
    harness.double.fail_next(
        "PUT /applications/{app}/commands",
        400,
        code=50035,
        message="Invalid Form Body",
        errors={"0": {"name": {"_errors": [{"code": "X", "message": "bad name"}]}}},
    )
    with pytest.raises(app_commands.CommandSyncFailure, match="bad name"):
        await harness.bot.tree.sync()


@pytest.mark.asyncio
async def test_second_guild_and_members_intent() -> None:
    intents = discord.Intents.default()
    intents.members = True
    async with running_bot(guilds=[default_guild(), second_guild()], intents=intents) as h:
        home, away = h.bot.get_guild(HOME_GUILD_ID), h.bot.get_guild(AWAY_GUILD_ID)
        assert home is not None
        assert away is not None
        assert home.get_member(MODERATOR_ID) is not None  # members intent: full member list
        assert away.preferred_locale is discord.Locale.german
        handle = await h.double.slash_command("ping", guild_id=AWAY_GUILD_ID, locale="de")
        assert handle.channel_id == AWAY_CHANNEL_ID
        assert handle.payload["guild_locale"] == "de"
        assert (await h.double.wait_for_response(handle))["channel_id"] == str(AWAY_CHANNEL_ID)
        with pytest.raises(AssertionError, match="not registered"):
            await h.double.slash_command("tag", {"who": MEMBER_ID}, guild_id=AWAY_GUILD_ID)


@pytest.mark.asyncio
async def test_subcommand_with_range_option(harness: Harness) -> None:
    double = harness.double
    handle = await double.slash_command("report show", {"number": 7})
    (sub,) = handle.payload["data"]["options"]
    assert sub == {
        "type": 1,
        "name": "show",
        "options": [{"name": "number", "type": 4, "value": 7}],
    }
    assert (await double.wait_for_response(handle))["content"] == "Report #7"
    with pytest.raises(AssertionError, match="outside"):
        await double.slash_command("report show", {"number": 100})


@pytest.mark.asyncio
async def test_file_reply_is_recorded_from_multipart(harness: Harness) -> None:
    double = harness.double
    handle = await double.slash_command("export")
    message = await double.wait_for_response(handle)
    assert message["content"] == "Here you go."
    (attachment,) = message["attachments"]
    assert attachment["filename"] == "deals.csv"
    (request,) = double.find_requests("POST /interactions/{id}/{token}/callback")
    assert request.body["data"]["content"] == "Here you go."
    assert request.files[0].data == b"country,deals\nEgypt,3\n"


@pytest.mark.asyncio
async def test_callback_after_the_deadline_is_unknown_interaction() -> None:
    async with running_bot(interaction_timeout=0.05) as h:
        handle = await h.double.slash_command("sleepy")
        await h.double.wait_until(lambda: handle.late_callbacks == 1, what="the late callback")
        await wait_for_bot_tasks()
        assert handle.callback is None
        assert h.bot.late_error_codes == [10062]  # type: ignore[attr-defined]


# -- Discord's limits on every route ---------------------------------------------------------------


def embed_of_size(total: int) -> discord.Embed:
    """An embed whose parts count ``total`` characters towards Discord's 6,000 (each part valid)."""
    embed = discord.Embed(title="T", description="d" * 4096)
    embed.add_field(name="F", value="v" * 1000)
    embed.set_footer(text="f" * (total - 1 - 4096 - 1 - 1000))
    assert len(embed) == total
    return embed


AT, OVER = embed_of_size(6000), embed_of_size(6001)


async def act(harness: Harness, action: Action) -> InteractionHandle:
    """Run ``action`` in a /act interaction and wait until its handler finished."""
    harness.bot.action = action  # type: ignore[attr-defined]
    handle = await harness.double.slash_command("act")
    await harness.double.wait_for_callback(handle)
    await wait_for_bot_tasks()
    return handle


def take_refusal(harness: Harness, route: str, path: str) -> None:
    """Check the bot met exactly one 50035 on ``route`` at ``path``, then forget it."""
    double, bot = harness.double, harness.bot
    [refused] = bot.refused  # type: ignore[attr-defined]
    assert (refused.status, refused.code) == (400, 50035)
    assert path in str(refused)
    [request] = double.rejected_requests
    assert request.route == route
    assert request.rejection is not None
    assert request.rejection["code"] == 50035
    bot.refused.clear()  # type: ignore[attr-defined]
    double.rejected_requests.clear()


@pytest.mark.asyncio
async def test_limits_on_the_interaction_response(harness: Harness) -> None:
    async def reply(embed: discord.Embed) -> Action:
        async def action(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(embed=embed)

        return action

    handle = await act(harness, await reply(AT))
    assert len((await harness.double.wait_for_response(handle))["embeds"][0]["footer"]["text"])
    await act(harness, await reply(OVER))
    take_refusal(harness, "POST /interactions/{interaction_id}/{token}/callback", "In embeds")


@pytest.mark.asyncio
async def test_limits_on_a_modal(harness: Harness) -> None:
    def form(label: str) -> Action:
        async def action(interaction: discord.Interaction) -> None:
            modal = discord.ui.Modal(title="Form")
            modal.add_item(discord.ui.TextInput(label=label))
            await interaction.response.send_modal(modal)

        return action

    handle = await act(harness, form("L" * 45))
    assert (await harness.double.wait_for_callback(handle))["type"] == 9
    await act(harness, form("L" * 46))
    take_refusal(
        harness,
        "POST /interactions/{interaction_id}/{token}/callback",
        "In components.0.components.0.label",
    )


@pytest.mark.asyncio
async def test_limits_on_autocomplete(harness: Harness) -> None:
    double, bot = harness.double, harness.bot
    bot.choices = [  # type: ignore[attr-defined]
        app_commands.Choice(name=f"{i:03}" + "n" * 97, value=f"{i:03}" + "v" * 97)
        for i in range(25)
    ]
    assert len(await double.autocomplete_choices(await double.autocomplete("pick", {"value": ""})))
    bot.choices.append(app_commands.Choice(name="one too many", value="x"))  # type: ignore[attr-defined]
    handle = await double.autocomplete("pick", {"value": ""})
    assert await double.autocomplete_choices(handle) == []  # discord.py's fallback after the 400
    await wait_for_bot_tasks()
    take_refusal(harness, "POST /interactions/{interaction_id}/{token}/callback", "In choices")


@pytest.mark.asyncio
async def test_limits_on_a_component_edit(harness: Harness) -> None:
    double, bot = harness.double, harness.bot

    async def post(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("Press", view=ActionView(bot))  # type: ignore[arg-type]

    message = await double.wait_for_response(await act(harness, post))
    for embed in (AT, OVER):

        async def edit(interaction: discord.Interaction, embed: discord.Embed = embed) -> None:
            await interaction.response.edit_message(embed=embed)

        bot.action = edit  # type: ignore[attr-defined]
        click = await double.click(message, "act")
        await double.wait_for_callback(click)
        await wait_for_bot_tasks()
    assert double.message(message["id"])["embeds"][0]["footer"]["text"] == AT.footer.text
    take_refusal(harness, "POST /interactions/{interaction_id}/{token}/callback", "In embeds")


@pytest.mark.asyncio
async def test_limits_on_follow_ups_and_their_edits(harness: Harness) -> None:
    for embed in (AT, OVER):

        async def follow_up(interaction: discord.Interaction, embed: discord.Embed = embed) -> None:
            await interaction.response.defer()
            await interaction.followup.send(embed=embed)

        await act(harness, follow_up)
    take_refusal(harness, "POST /webhooks/{application_id}/{token}", "In embeds")
    for embed in (AT, OVER):

        async def edit(interaction: discord.Interaction, embed: discord.Embed = embed) -> None:
            await interaction.response.send_message("first")
            sent = await interaction.followup.send("second", wait=True)
            await sent.edit(embed=embed)

        await act(harness, edit)
    take_refusal(
        harness, "PATCH /webhooks/{application_id}/{token}/messages/{message_id}", "In embeds"
    )


@pytest.mark.asyncio
async def test_limits_on_editing_the_original_response(harness: Harness) -> None:
    for embed in (AT, OVER):

        async def edit(interaction: discord.Interaction, embed: discord.Embed = embed) -> None:
            await interaction.response.send_message("first")
            await interaction.edit_original_response(embed=embed)

        await act(harness, edit)
    take_refusal(
        harness, "PATCH /webhooks/{application_id}/{token}/messages/{message_id}", "In embeds"
    )


@pytest.mark.asyncio
async def test_limits_on_channel_messages_their_edits_and_dms(harness: Harness) -> None:
    double = harness.double
    for content in ("c" * 2000, "c" * 2001):

        async def post(interaction: discord.Interaction, content: str = content) -> None:
            assert isinstance(interaction.channel, discord.TextChannel)
            await interaction.channel.send(content)

        await act(harness, post)
    posted = [m["content"] for m in double.channel_messages(HOME_CHANNEL_ID)]
    assert posted.count("c" * 2000) == 1
    take_refusal(harness, "POST /channels/{channel_id}/messages", "In content")
    for embed in (AT, OVER):

        async def edit(interaction: discord.Interaction, embed: discord.Embed = embed) -> None:
            assert isinstance(interaction.channel, discord.TextChannel)
            sent = await interaction.channel.send("plain")
            await sent.edit(embed=embed)

        await act(harness, edit)
    take_refusal(harness, "PATCH /channels/{channel_id}/messages/{message_id}", "In embeds")
    for embed in (AT, OVER):

        async def dm(interaction: discord.Interaction, embed: discord.Embed = embed) -> None:
            await interaction.user.send(embed=embed)

        await act(harness, dm)
    assert len(double.dm_messages(MEMBER_ID)) == 1
    take_refusal(harness, "POST /channels/{channel_id}/messages", "In embeds")


@pytest.mark.asyncio
async def test_a_refused_payload_left_behind_fails_the_test() -> None:
    async def too_long(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("x" * 2001)

    harness = running_bot()
    with pytest.raises(AssertionError, match=r"Discord would reject these payloads: .*content"):
        async with harness as started:
            await act(started, too_long)
