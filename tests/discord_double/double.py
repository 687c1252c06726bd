"""A local Discord API double: an aiohttp server the unmodified discord.py client logs in to."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import socket
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Self

import discord.gateway
import discord.http
import yarl
from aiohttp import web

from .interactions import InteractionsMixin
from .models import JSON, FakeGuild
from .records import InteractionHandle, RecordedRequest
from .state import GATEWAY_PATH, Injection, UserLike, now_iso, split_pattern


class DiscordDouble(InteractionsMixin):
    """A Discord REST + gateway double on 127.0.0.1 for end-to-end tests of a discord.py bot.

    The layers live in their own modules: :mod:`.state` (records and the message store),
    :mod:`.gateway`, :mod:`.rest` and :mod:`.interactions`; this class adds the lifecycle and
    what a test configures, queries and waits for.
    """

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        if self._runner is not None:
            return
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway_handler)
        app.router.add_get(GATEWAY_PATH, self._gateway_handler)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._attachment)
        app.router.add_route("*", "/{tail:.*}", self._rest_handler)
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._port = int(sock.getsockname()[1])
        site = web.SockSite(runner, sock)
        await site.start()
        self._runner = runner

    async def stop(self) -> None:
        """Close live websockets and stop the server."""
        if self._runner is None:
            return
        self.release_held()
        for conn in self.connections:
            if not conn.closed.is_set():
                conn.dropping = True
                transport = conn.request.transport
                if transport is not None:
                    transport.abort()
        for conn in self.connections:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(conn.closed.wait(), 2.0)
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        """Start the server."""
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server; fail if the bot sent a payload Discord would have rejected.

        Tests that send an invalid payload on purpose take it out of ``rejected_requests``.
        """
        await self.stop()
        if exc_type is None and self.rejected_requests:
            raise AssertionError(self._rejections())

    @contextlib.contextmanager
    def patch_discord(self) -> Iterator[Self]:
        """Point discord.py's Route.BASE and DEFAULT_GATEWAY at the double; restore on exit."""
        old_base = discord.http.Route.BASE
        old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = self.rest_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield self
        finally:
            discord.http.Route.BASE = old_base
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    # ------------------------------------------------------------------ configuration

    async def add_guild(self, guild: FakeGuild) -> None:
        """Add a guild; if a session is live, the bot receives GUILD_CREATE for it."""
        self._register_guild(guild)
        for conn in self.connections:
            if conn.live and conn.session is not None and conn.session.holds(guild.id):
                await conn.send(
                    {"op": 0, "t": "GUILD_CREATE", "d": self._guild_create(conn, guild)}
                )
        self._changes.bump()

    def set_dm_blocked(self, user_id: int, blocked: bool = True) -> None:
        """Make DMs to this user fail with 403 / 50007 (or succeed again)."""
        if blocked:
            self._dm_blocked.add(user_id)
        else:
            self._dm_blocked.discard(user_id)

    def hold_next_messages(self, channel_id: int, times: int = 1) -> None:
        """Create the next ``times`` messages posted in a channel, but answer only on release.

        What a bot sees when Discord made its message and the answer never came back (the
        process killed, the connection lost): the message exists, and the bot cannot know it.
        """
        self._hold_channels[channel_id] = self._hold_channels.get(channel_id, 0) + times

    def release_held(self) -> None:
        """Answer every held message post (to whoever is still waiting for it)."""
        for event in self._held:
            event.set()
        self._held.clear()

    def post_user_message(self, channel_id: int, user: UserLike, content: str) -> JSON:
        """A message a member wrote in a guild channel (for message commands to target)."""
        guild, channel, _ = self._channel_info(channel_id)
        if guild is None or channel is None:
            msg = f"channel {channel_id} is not a guild channel of the double"
            raise AssertionError(msg)
        author = self._resolve_user(user)
        self._member_or_fail(guild, author)
        message_id = self._snowflake()
        message: JSON = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "guild_id": str(guild.id),
            "type": 0,
            "content": content,
            "author": author.to_payload(),
            "embeds": [],
            "components": [],
            "attachments": [],
            "flags": 0,
            "tts": False,
            "pinned": False,
            "timestamp": now_iso(),
            "edited_timestamp": None,
            "sticker_items": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
        }
        self.messages[message_id] = message
        self._channel_messages.setdefault(channel_id, []).append(message_id)
        self._changes.bump()
        return copy.deepcopy(message)

    def rate_limit_next(
        self,
        pattern: str,
        retry_after: float = 0.3,
        *,
        times: int = 1,
        is_global: bool = False,
    ) -> None:
        """Answer the next ``times`` requests matching ``"[METHOD] /path/{x}"`` with 429."""
        method, regex = split_pattern(pattern)
        body: JSON = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
        }
        if is_global:
            body["code"] = 0
        self._injections.append(
            Injection(
                method,
                regex,
                pattern,
                times,
                429,
                body,
                retry_after=retry_after,
                is_global=is_global,
            )
        )

    def fail_next(
        self,
        pattern: str,
        status: int = 500,
        *,
        code: int = 0,
        message: str = "Internal Server Error",
        errors: JSON | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests matching the pattern with an error status."""
        method, regex = split_pattern(pattern)
        body: JSON = {"message": message, "code": code}
        if errors is not None:
            body["errors"] = errors
        self._injections.append(Injection(method, regex, pattern, times, status, body))

    # ------------------------------------------------------------------ queries

    def registered_commands(self, guild_id: int | None = None) -> list[JSON]:
        """Return the commands stored by the last bulk overwrite for the scope (None = global)."""
        return copy.deepcopy(self._commands.get(guild_id, []))

    def message(self, message_id: int | str) -> JSON:
        """Return the current state of a message the bot produced."""
        try:
            return copy.deepcopy(self.messages[int(message_id)])
        except KeyError:
            msg = f"no message {message_id}"
            raise AssertionError(msg) from None

    def channel_messages(self, channel_id: int, *, include_deleted: bool = False) -> list[JSON]:
        """Return the messages in a channel, oldest first, in their current (edited) state."""
        ids = self._channel_messages.get(channel_id, [])
        return [
            copy.deepcopy(self.messages[i])
            for i in ids
            if include_deleted or i not in self.deleted_message_ids
        ]

    def dm_channel_id(self, user_id: int) -> int | None:
        """Return the DM channel the bot opened with a user, if any."""
        return self._dm_channels.get(user_id)

    def dm_messages(self, user_id: int) -> list[JSON]:
        """Return the DMs the bot sent to a user."""
        channel_id = self._dm_channels.get(user_id)
        return [] if channel_id is None else self.channel_messages(channel_id)

    def find_requests(self, pattern: str) -> list[RecordedRequest]:
        """Return recorded requests matching ``"[METHOD] /path/{x}"``."""
        method, regex = split_pattern(pattern)
        return [
            r
            for r in self.requests
            if (method is None or r.method == method) and regex.match(r.path)
        ]

    @property
    def identify_count(self) -> int:
        """Return how many IDENTIFYs the gateway received."""
        return len(self.sessions)

    @property
    def resume_count(self) -> int:
        """Return how many RESUMEs the gateway received."""
        return sum(1 for c in self.connections for p in c.received if p.get("op") == 6)

    def assert_clean(self) -> None:
        """Fail on unmodelled routes, payloads Discord would refuse, or a failure of the double."""
        problems = [f"unknown route: {r}" for r in self.unknown_requests] + self.errors
        if self.rejected_requests:
            problems.append(self._rejections())
        if problems:
            raise AssertionError("; ".join(problems))

    def _rejections(self) -> str:
        lines = [
            f"{r.method} {r.path} -> {r.status} {json.dumps(r.rejection, ensure_ascii=False)}"
            for r in self.rejected_requests
        ]
        return "Discord would reject these payloads: " + "; ".join(lines)

    # ------------------------------------------------------------------ waiting

    async def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
        what: str = "a condition",
    ) -> None:
        """Wait until ``condition()`` holds (re-checked whenever the double's state changes)."""
        await self._changes.wait_for(lambda: True if condition() else None, timeout, what)

    async def wait_for_callback(self, handle: InteractionHandle, timeout: float = 5.0) -> JSON:  # noqa: ASYNC109
        """Return the callback body (type + data) the bot POSTed for the interaction."""
        return await self._changes.wait_for(
            lambda: copy.deepcopy(handle.callback) if handle.callback is not None else None,
            timeout,
            f"the callback of {handle}",
        )

    async def wait_for_response(self, handle: InteractionHandle, timeout: float = 5.0) -> JSON:  # noqa: ASYNC109
        """Return the first visible message: the callback's, the edited @original or a follow-up."""

        def visible() -> JSON | None:
            if handle.callback_type in (8, 9):
                msg = f"{handle} got callback type {handle.callback_type}, not a message"
                raise AssertionError(msg)
            if handle.response_message_id is None:
                return None
            return copy.deepcopy(self.messages[handle.response_message_id])

        return await self._changes.wait_for(visible, timeout, f"the response message of {handle}")

    async def autocomplete_choices(
        self,
        handle: InteractionHandle,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[JSON]:
        """Return the choices the bot answered an autocomplete interaction with."""
        callback = await self.wait_for_callback(handle, timeout)
        if callback.get("type") != 8:
            msg = f"{handle} was answered with callback type {callback.get('type')}, not 8"
            raise AssertionError(msg)
        return list(callback.get("data", {}).get("choices", []))

    async def wait_for_channel_message(
        self,
        channel_id: int,
        predicate: Callable[[JSON], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> JSON:
        """Wait for a (non-deleted) message in a channel that satisfies the predicate."""

        def found() -> JSON | None:
            for message in self.channel_messages(channel_id):
                if predicate is None or predicate(message):
                    return message
            return None

        return await self._changes.wait_for(found, timeout, f"a message in channel {channel_id}")
