"""A local Discord API double: an aiohttp server the unmodified discord.py client logs in to."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import json
import math
import re
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import discord.gateway
import discord.http
import yarl
from aiohttp import BodyPartReader, WSMsgType, web

from .models import (
    APPLICATION_ID,
    JSON,
    MEMBER_ID,
    OWNER_ID,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    SnowflakeFactory,
    default_guild,
    default_users,
)
from .records import (
    GatewayConnection,
    GatewaySession,
    InteractionHandle,
    RecordedFile,
    RecordedRequest,
)
from .validation import (
    EPHEMERAL_FLAG,
    LOADING_FLAG,
    error,
    form_error,
    iter_components,
    validate_choices,
    validate_commands,
    validate_message,
    validate_modal,
)

API_PREFIX = "/api/v10"
GATEWAY_PATH = "/gateway/"
GUILD_MEMBERS_INTENT = 1 << 1
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
#: Discord checks an enforced nonce "for uniqueness in the past few minutes" (Create Message).
NONCE_WINDOW = 180.0
NONCE_LIMIT = 25  # characters of a string nonce
#: What an app may do in a DM or group DM it was invoked in (it cannot manage anything there).
PRIVATE_APP_PERMISSIONS = (
    VIEW_CHANNEL | SEND_MESSAGES | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 18)
)
#: Interaction contexts (Discord's ``InteractionContextType``) and installation types.
GUILD_CONTEXT, BOT_DM_CONTEXT, PRIVATE_CHANNEL_CONTEXT = 0, 1, 2
GUILD_INSTALL, USER_INSTALL = 0, 1

#: Which callback types Discord accepts for each interaction type.
ALLOWED_CALLBACKS: dict[int, frozenset[int]] = {
    2: frozenset({4, 5, 9, 12}),
    3: frozenset({4, 5, 6, 7, 9, 12}),
    4: frozenset({8}),
    5: frozenset({4, 5, 6, 7}),
}
SELECT_TYPES = frozenset({3, 5, 6, 7, 8})

UNKNOWN_INTERACTION: JSON = {"message": "Unknown interaction", "code": 10062}
ALREADY_ACKNOWLEDGED: JSON = {
    "message": "Interaction has already been acknowledged.",
    "code": 40060,
}
UNKNOWN_WEBHOOK: JSON = {"message": "Unknown Webhook", "code": 10015}
UNKNOWN_MESSAGE: JSON = {"message": "Unknown Message", "code": 10008}
UNKNOWN_CHANNEL: JSON = {"message": "Unknown Channel", "code": 10003}
UNKNOWN_USER: JSON = {"message": "Unknown User", "code": 10013}
UNKNOWN_MEMBER: JSON = {"message": "Unknown Member", "code": 10007}
UNKNOWN_COMMAND: JSON = {"message": "Unknown application command", "code": 10063}
MISSING_ACCESS: JSON = {"message": "Missing Access", "code": 50001}
MISSING_PERMISSIONS: JSON = {"message": "Missing Permissions", "code": 50013}
CANNOT_DM: JSON = {"message": "Cannot send messages to this user", "code": 50007}
NOT_AUTHOR: JSON = {"message": "Cannot edit a message authored by another user", "code": 50005}
UNAUTHORIZED: JSON = {"message": "401: Unauthorized", "code": 0}
NOT_FOUND: JSON = {"message": "404: Not Found", "code": 0}

T = TypeVar("T")
Handler = Callable[[RecordedRequest, dict[str, str]], Awaitable[web.StreamResponse]]
UserLike = int | FakeUser | FakeMember


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _pattern_regex(template: str, *, capture: bool) -> re.Pattern[str]:
    """Compile ``/channels/{channel_id}/messages`` style templates; ``*`` matches anything."""
    out: list[str] = []
    for part in re.split(r"(\{[^}]*\})", template):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            out.append(f"(?P<{name}>[^/]+)" if capture and name.isidentifier() else "[^/]+")
        else:
            out.append(re.escape(part).replace(r"\*", ".*"))
    return re.compile("^" + "".join(out) + "$")


def _split_pattern(pattern: str) -> tuple[str | None, re.Pattern[str]]:
    """Parse ``"POST /channels/{id}/messages"`` (method optional) into method and path regex."""
    method: str | None = None
    path = pattern.strip()
    if " " in path:
        method, path = path.split(None, 1)
        method = method.upper()
    if path.startswith(API_PREFIX):
        path = path[len(API_PREFIX) :]
    return method, _pattern_regex(path, capture=False)


def _snowflake_of(value: Any) -> int:
    if isinstance(value, FakeMember):
        return value.user.id
    if isinstance(value, FakeUser | FakeRole | FakeChannel | FakeGuild):
        return value.id
    if isinstance(value, Mapping):
        return int(value["id"])
    return int(value)


@dataclass
class _Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: Handler
    auth: bool


@dataclass
class _Injection:
    method: str | None
    regex: re.Pattern[str]
    pattern: str
    remaining: int
    status: int
    body: JSON
    retry_after: float | None = None
    is_global: bool = False

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and bool(self.regex.match(path))


class _Changes:
    """Event-driven waiting: every state change wakes all waiters, who re-check a predicate."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def bump(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float,  # noqa: ASYNC109
        what: str,
    ) -> T:
        try:
            async with asyncio.timeout(timeout):
                while True:
                    result = predicate()
                    if result is not None:
                        return result
                    await self._event.wait()
        except TimeoutError:
            msg = f"timed out after {timeout:.1f}s waiting for {what}"
            raise AssertionError(msg) from None


class DiscordDouble:
    """A Discord REST + gateway double on 127.0.0.1 for end-to-end tests of a discord.py bot."""

    def __init__(
        self,
        *,
        token: str | None = "double-token",
        application_id: int = APPLICATION_ID,
        application_name: str = "ArmsBot",
        bot_user: FakeUser | None = None,
        owner_id: int = OWNER_ID,
        guilds: Sequence[FakeGuild] | None = None,
        users: Sequence[FakeUser] | None = None,
        default_user_id: int = MEMBER_ID,
        heartbeat_interval_ms: int = 41_250,
        interaction_timeout: float | None = 3.0,
        resume_supported: bool = False,
        gateway_wait_timeout: float = 5.0,
        nonce_window: float = NONCE_WINDOW,
    ) -> None:
        """Configure state; nothing listens until :meth:`start`."""
        self.token = token
        self.application_id = application_id
        self.application_name = application_name
        self.bot_user = bot_user or FakeUser(application_id, application_name, bot=True)
        self.owner_id = owner_id
        self.default_user_id = default_user_id
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.interaction_timeout = interaction_timeout
        self.resume_supported = resume_supported
        self.gateway_wait_timeout = gateway_wait_timeout
        self.nonce_window = nonce_window

        self.users: dict[int, FakeUser] = {}
        for user in default_users().values() if users is None else users:
            self.users[user.id] = user
        self.users[self.bot_user.id] = self.bot_user
        self.guilds: dict[int, FakeGuild] = {}
        for guild in [default_guild(self.bot_user)] if guilds is None else guilds:
            self._register_guild(guild)

        # Records.
        self.requests: list[RecordedRequest] = []
        self.unknown_requests: list[RecordedRequest] = []
        self.rate_limited_requests: list[RecordedRequest] = []
        self.failed_requests: list[RecordedRequest] = []
        # Payloads the double refused as Discord would (50035 over a limit, 50006 empty):
        # a bot that sends one fails in production, so leaving the double with one fails the test.
        self.rejected_requests: list[RecordedRequest] = []
        self.errors: list[str] = []
        self.connections: list[GatewayConnection] = []
        self.sessions: list[GatewaySession] = []
        self.presence_updates: list[JSON] = []
        self.interactions: dict[int, InteractionHandle] = {}
        self.callback_times: list[float] = []
        self.command_syncs: list[tuple[int | None, list[JSON]]] = []

        # Server-side state.
        self.messages: dict[int, JSON] = {}
        self.deleted_message_ids: set[int] = set()
        self._channel_messages: dict[int, list[int]] = {}
        self._dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self._dm_recipients: dict[int, int] = {}  # DM channel id -> user id
        self._dm_blocked: set[int] = set()
        self._attachments: dict[int, bytes] = {}
        self._commands: dict[int | None, list[JSON]] = {}
        self._command_ids: dict[tuple[int | None, int, str], int] = {}
        self._tokens: dict[str, InteractionHandle] = {}
        self._injections: list[_Injection] = []
        self._background: set[asyncio.Task[bool]] = set()
        # enforce_nonce: (author id, nonce) -> (message id, when it was created).
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self._hold_channels: dict[int, int] = {}  # channel id -> posts still to hold
        self._held: list[asyncio.Event] = []
        self.held_messages: list[JSON] = []  # created, answered only on release (or never)

        self._snowflake = SnowflakeFactory()
        self._changes = _Changes()
        self._routes: list[_Route] = []
        self._build_routes()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

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

    @property
    def port(self) -> int:
        """Return the TCP port (after :meth:`start`)."""
        if self._port is None:
            msg = "DiscordDouble is not started"
            raise RuntimeError(msg)
        return self._port

    @property
    def base_url(self) -> str:
        """Return ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def rest_base(self) -> str:
        """Return the value for ``discord.http.Route.BASE``."""
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        """Return the value for ``DiscordWebSocket.DEFAULT_GATEWAY`` (as a string)."""
        return f"ws://127.0.0.1:{self.port}{GATEWAY_PATH}"

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

    def _register_guild(self, guild: FakeGuild) -> None:
        if guild.member(self.bot_user.id) is None:
            guild.members.append(FakeMember(self.bot_user))
        for member in guild.members:
            self.users.setdefault(member.user.id, member.user)
        self.guilds[guild.id] = guild

    async def add_guild(self, guild: FakeGuild) -> None:
        """Add a guild; if a session is live, the bot receives GUILD_CREATE for it."""
        self._register_guild(guild)
        for conn in self.connections:
            if conn.live and conn.session is not None:
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
            "timestamp": _now_iso(),
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
        method, regex = _split_pattern(pattern)
        body: JSON = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": is_global,
        }
        if is_global:
            body["code"] = 0
        self._injections.append(
            _Injection(
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
        method, regex = _split_pattern(pattern)
        body: JSON = {"message": message, "code": code}
        if errors is not None:
            body["errors"] = errors
        self._injections.append(_Injection(method, regex, pattern, times, status, body))

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
        method, regex = _split_pattern(pattern)
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

    # ------------------------------------------------------------------ gateway

    def _live_connection(self) -> GatewayConnection | None:
        for conn in reversed(self.connections):
            if conn.live:
                return conn
        return None

    async def wait_for_gateway(self, timeout: float | None = None) -> GatewayConnection:  # noqa: ASYNC109
        """Wait until a gateway connection is identified (or resumed) and live."""
        return await self._changes.wait_for(
            self._live_connection, timeout or self.gateway_wait_timeout, "a live gateway session"
        )

    async def wait_for_identify(self, count: int, timeout: float = 5.0) -> GatewaySession:  # noqa: ASYNC109
        """Wait until ``count`` IDENTIFYs happened and the latest session is live."""

        def ready() -> GatewaySession | None:
            conn = self._live_connection()
            if (
                len(self.sessions) >= count
                and conn is not None
                and conn.session is self.sessions[-1]
            ):
                return conn.session
            return None

        return await self._changes.wait_for(ready, timeout, f"IDENTIFY #{count}")

    async def dispatch(self, event: str, data: JSON) -> None:
        """Send a DISPATCH event to the live session."""
        conn = await self.wait_for_gateway()
        await conn.send({"op": 0, "t": event, "d": data})

    async def drop_gateway(self, *, code: int | None = None, timeout: float = 5.0) -> int:  # noqa: ASYNC109
        """Close live websockets abruptly (``code=None``: TCP abort) and return how many."""
        dropped = [c for c in self.connections if not c.closed.is_set()]
        for conn in dropped:
            conn.dropping = True
            if code is None:
                transport = conn.request.transport
                if transport is not None:
                    transport.abort()
            else:
                # Closing waits for the client's close frame: do it in the background.
                task = asyncio.get_running_loop().create_task(conn.ws.close(code=code))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
        self._changes.bump()
        for conn in dropped:
            await asyncio.wait_for(conn.closed.wait(), timeout)
        return len(dropped)

    async def send_reconnect(self) -> None:
        """Send op 7 RECONNECT to live sessions (the client closes and tries to resume)."""
        for conn in self.connections:
            if conn.live:
                conn.dropping = True
                await conn.send({"op": 7, "d": None})
        self._changes.bump()

    async def _gateway_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, timeout=2.0)
        if not ws.can_prepare(request).ok:
            return self._json(400, {"message": "expected a websocket upgrade", "code": 0})
        await ws.prepare(request)
        conn = GatewayConnection(ws=ws, request=request)
        self.connections.append(conn)
        self._changes.bump()
        try:
            await conn.send({"op": 10, "d": {"heartbeat_interval": self.heartbeat_interval_ms}})
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    try:
                        payload = json.loads(msg.data)
                    except ValueError:
                        await ws.close(code=4002, message=b"Error while decoding payload.")
                        break
                    conn.received.append(payload)
                    await self._on_gateway_payload(conn, payload)
                    self._changes.bump()
                elif msg.type is WSMsgType.BINARY:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
        except (ConnectionResetError, RuntimeError, asyncio.CancelledError):
            pass
        except Exception as exc:  # a bug in the double: make it visible to the test
            self.errors.append(f"gateway handler: {exc!r}")
        finally:
            conn.closed_at = time.monotonic()
            conn.close_code = ws.close_code
            conn.closed.set()
            self._changes.bump()
        return ws

    async def _on_gateway_payload(self, conn: GatewayConnection, payload: JSON) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == 1:
            conn.heartbeats += 1
            await conn.send({"op": 11})
        elif op == 2:
            await self._identify(conn, data or {})
        elif op == 6:
            await self._resume(conn, data or {})
        elif conn.session is None:
            await conn.ws.close(code=4003, message=b"Not authenticated.")
        elif op == 8:
            await self._request_members(conn, data or {})
        elif op == 3:
            self.presence_updates.append(data or {})

    async def _identify(self, conn: GatewayConnection, data: JSON) -> None:
        if conn.session is not None:
            await conn.ws.close(code=4005, message=b"Already authenticated.")
            return
        if self.token is not None and data.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        session = GatewaySession(session_id=secrets.token_hex(16), identify=copy.deepcopy(data))
        self.sessions.append(session)
        conn.session = session
        ready: JSON = {
            "v": 10,
            "user": {**self.bot_user.to_payload(), "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g), "unavailable": True} for g in self.guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "auth": {},
        }
        if data.get("shard") is not None:
            ready["shard"] = data["shard"]
        await conn.send({"op": 0, "t": "READY", "d": ready})
        for guild in self.guilds.values():
            await conn.send({"op": 0, "t": "GUILD_CREATE", "d": self._guild_create(conn, guild)})
        conn.ready = True

    def _guild_create(self, conn: GatewayConnection, guild: FakeGuild) -> JSON:
        intents = conn.session.intents if conn.session is not None else 0
        return guild.to_payload(
            include_members=bool(intents & GUILD_MEMBERS_INTENT), bot_user_id=self.bot_user.id
        )

    async def _resume(self, conn: GatewayConnection, data: JSON) -> None:
        session = next((s for s in self.sessions if s.session_id == data.get("session_id")), None)
        token_ok = self.token is None or data.get("token") == self.token
        if self.resume_supported and session is not None and token_ok:
            session.resumes += 1
            conn.session = session
            await conn.send({"op": 0, "t": "RESUMED", "d": {}})
            conn.ready = True
        else:
            await conn.send({"op": 9, "d": False})

    async def _request_members(self, conn: GatewayConnection, data: JSON) -> None:
        guild = self.guilds.get(int(data.get("guild_id", 0)))
        if guild is None:
            return
        members = guild.members
        user_ids = data.get("user_ids")
        if user_ids is not None:
            wanted = {int(u) for u in ([user_ids] if isinstance(user_ids, str | int) else user_ids)}
            members = [m for m in members if m.user.id in wanted]
        else:
            query = str(data.get("query") or "").lower()
            members = [
                m
                for m in members
                if m.user.username.lower().startswith(query)
                or (m.nick or "").lower().startswith(query)
            ]
            limit = int(data.get("limit") or 0)
            if limit:
                members = members[:limit]
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": [m.to_payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("presences"):
            chunk["presences"] = []
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await conn.send({"op": 0, "t": "GUILD_MEMBERS_CHUNK", "d": chunk})

    # ------------------------------------------------------------------ REST plumbing

    def _build_routes(self) -> None:
        add = self._add_route
        add("GET", "/users/@me", self._get_me)
        add("POST", "/users/@me/channels", self._create_dm)
        add("GET", "/users/{user_id}", self._get_user)
        add("GET", "/oauth2/applications/@me", self._get_application)
        add("GET", "/gateway", self._get_gateway, auth=False)
        add("GET", "/gateway/bot", self._get_gateway_bot)
        for scope in (
            "/applications/{application_id}",
            "/applications/{application_id}/guilds/{guild_id}",
        ):
            add("GET", scope + "/commands", self._get_commands)
            add("PUT", scope + "/commands", self._put_commands)
            add("GET", scope + "/commands/{command_id}", self._get_command)
        add("POST", "/interactions/{interaction_id}/{token}/callback", self._callback, auth=False)
        add("POST", "/webhooks/{application_id}/{token}", self._followup, auth=False)
        for method in ("GET", "PATCH", "DELETE"):
            add(
                method,
                "/webhooks/{application_id}/{token}/messages/{message_id}",
                self._webhook_message,
                auth=False,
            )
            add(method, "/channels/{channel_id}/messages/{message_id}", self._channel_message)
        add("GET", "/channels/{channel_id}", self._get_channel)
        add("POST", "/channels/{channel_id}/messages", self._post_channel_message)
        add("POST", "/channels/{channel_id}/typing", self._typing)
        add("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member)

    def _add_route(
        self, method: str, template: str, handler: Handler, *, auth: bool = True
    ) -> None:
        self._routes.append(
            _Route(method, template, _pattern_regex(template, capture=True), handler, auth)
        )

    def _json(
        self, status: int, body: Any, headers: Mapping[str, str] | None = None
    ) -> web.Response:
        # discord.py only parses JSON when Content-Type is exactly "application/json":
        # aiohttp's json_response adds "; charset=utf-8" and discord.py would see a str.
        all_headers = {"Content-Type": "application/json", "Via": "1.1 google"}
        all_headers.update(headers or {})
        return web.Response(status=status, body=json.dumps(body).encode(), headers=all_headers)

    def _reject(self, record: RecordedRequest, problem: tuple[int, JSON]) -> web.Response:
        """Answer a payload Discord would refuse as Discord does, and record it."""
        status, body = problem
        record.rejection = body
        self.rejected_requests.append(record)
        return self._json(status, body)

    def _no_content(self) -> web.Response:
        return web.Response(status=204, headers={"Via": "1.1 google"})

    @staticmethod
    def _bucket(route: str) -> str:
        return hashlib.sha1(route.encode(), usedforsecurity=False).hexdigest()[:32]

    async def _read_body(self, request: web.Request) -> tuple[Any, list[RecordedFile]]:
        files: list[RecordedFile] = []
        if not request.can_read_body:
            return None, files
        if request.content_type.startswith("multipart/"):
            body: Any = None
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):
                    continue
                data = await part.read()
                if part.name == "payload_json":
                    body = json.loads(data)
                else:
                    files.append(
                        RecordedFile(
                            field=part.name or "",
                            filename=part.filename,
                            content_type=part.headers.get("Content-Type"),
                            data=bytes(data),
                        )
                    )
            return body, files
        raw = await request.read()
        if not raw:
            return None, files
        try:
            return json.loads(raw), files
        except ValueError:
            return raw.decode(errors="replace"), files

    async def _rest_handler(self, request: web.Request) -> web.StreamResponse:
        body, files = await self._read_body(request)
        path = request.path
        interesting = ("Authorization", "Content-Type", "User-Agent", "X-Audit-Log-Reason")
        record = RecordedRequest(
            method=request.method,
            path=path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else path,
            query=dict(request.query),
            body=body,
            files=files,
            headers={k: request.headers[k] for k in interesting if k in request.headers},
        )
        self.requests.append(record)
        try:
            response = await self._route(request, record)
        except Exception as exc:  # a bug in the double: answer 400 (no retries) and record it
            self.errors.append(f"{record.method} {record.path}: {exc!r}")
            response = self._json(400, {"message": f"discord double error: {exc!r}", "code": 0})
        record.status = response.status
        self._changes.bump()
        return response

    async def _route(self, request: web.Request, record: RecordedRequest) -> web.StreamResponse:
        match: re.Match[str] | None = None
        route: _Route | None = None
        if request.path.startswith(API_PREFIX + "/"):
            for candidate in self._routes:
                if candidate.method == record.method:
                    match = candidate.regex.match(record.path)
                    if match:
                        route = candidate
                        break
        if route is None or match is None:
            self.unknown_requests.append(record)
            return self._json(404, NOT_FOUND)
        record.route = f"{route.method} {route.template}"
        bucket = self._bucket(record.route)
        injected = self._take_injection(record, bucket)
        if injected is not None:
            return injected
        authorization = request.headers.get("Authorization")
        if route.auth and self.token is not None and authorization != f"Bot {self.token}":
            return self._json(401, UNAUTHORIZED)
        response = await route.handler(record, match.groupdict())
        if response.status < 400:
            reset = time.time() + 1.0
            response.headers.update(
                {
                    "X-RateLimit-Bucket": bucket,
                    "X-RateLimit-Limit": "50",
                    "X-RateLimit-Remaining": "49",
                    "X-RateLimit-Reset": f"{reset:.3f}",
                    "X-RateLimit-Reset-After": "1.000",
                }
            )
        return response

    def _take_injection(self, record: RecordedRequest, bucket: str) -> web.Response | None:
        for injection in self._injections:
            if injection.remaining > 0 and injection.matches(record.method, record.path):
                injection.remaining -= 1
                if injection.retry_after is None:
                    self.failed_requests.append(record)
                    return self._json(injection.status, injection.body)
                self.rate_limited_requests.append(record)
                retry = injection.retry_after
                headers = {
                    "Retry-After": str(max(1, math.ceil(retry))),
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{time.time() + retry:.3f}",
                    "X-RateLimit-Reset-After": f"{retry:.3f}",
                    "X-RateLimit-Scope": "global" if injection.is_global else "user",
                }
                if injection.is_global:
                    headers["X-RateLimit-Global"] = "true"
                else:
                    headers["X-RateLimit-Bucket"] = bucket
                return self._json(429, injection.body, headers)
        return None

    async def _attachment(self, request: web.Request) -> web.StreamResponse:
        data = self._attachments.get(int(request.match_info["attachment_id"]))
        if data is None:
            return self._json(404, NOT_FOUND)
        return web.Response(body=data)

    # ------------------------------------------------------------------ REST: users, app, gateway

    def _user(self, user_id: int) -> FakeUser | None:
        return self.users.get(user_id)

    async def _get_me(self, record: RecordedRequest, params: dict[str, str]) -> web.StreamResponse:
        return self._json(
            200, {**self.bot_user.to_payload(), "verified": True, "mfa_enabled": False}
        )

    async def _get_user(
        self, record: RecordedRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        user = self._user(int(params["user_id"]))
        return self._json(404, UNKNOWN_USER) if user is None else self._json(200, user.to_payload())

    async def _get_application(
        self, record: RecordedRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        owner = self.users.get(self.owner_id) or FakeUser(self.owner_id, "owner")
        return self._json(
            200,
            {
                "id": str(self.application_id),
                "name": self.application_name,
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": owner.to_payload(),
                "team": None,
                "verify_key": "0" * 64,
                "flags": 0,
                "summary": "",
                "tags": [],
                "rpc_origins": [],
                "redirect_uris": [],
                "interactions_endpoint_url": None,
                "approximate_guild_count": len(self.guilds),
                "bot": self.bot_user.to_payload(),
            },
        )

    async def _get_gateway(
        self, record: RecordedRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        return self._json(200, {"url": self.gateway_url})

    async def _get_gateway_bot(
        self, record: RecordedRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        return self._json(
            200,
            {
                "url": self.gateway_url,
                "shards": 1,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000 - len(self.sessions),
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            },
        )

    # ------------------------------------------------------------------ REST: commands

    def _command_scope(self, params: dict[str, str]) -> tuple[int | None, web.Response | None]:
        if int(params["application_id"]) != self.application_id:
            return None, self._json(403, MISSING_ACCESS)
        if "guild_id" not in params:
            return None, None
        guild_id = int(params["guild_id"])
        if guild_id not in self.guilds:
            return guild_id, self._json(403, MISSING_ACCESS)
        return guild_id, None

    async def _get_commands(
        self, record: RecordedRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        scope, failure = self._command_scope(params)
        return failure or self._json(200, self._commands.get(scope, []))

    async def _get_command(
        self, record: RecordedRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        scope, failure = self._command_scope(params)
        if failure is not None:
            return failure
        for command in self._commands.get(scope, []):
            if command["id"] == params["command_id"]:
                return self._json(200, command)
        return self._json(404, UNKNOWN_COMMAND)

    async def _put_commands(
        self, record: RecordedRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        scope, failure = self._command_scope(params)
        if failure is not None:
            return failure
        problem = validate_commands(record.body)
        if problem is not None:
            return self._reject(record, (400, problem))
        stored: list[JSON] = []
        for command in record.body:
            ctype = int(command.get("type", 1))
            key = (scope, ctype, str(command["name"]))
            command_id = self._command_ids.setdefault(key, self._snowflake())
            result = copy.deepcopy(command)
            result.update(
                id=str(command_id),
                application_id=str(self.application_id),
                version=str(self._snowflake()),
                type=ctype,
            )
            # Discord answers the permission bit set as a string, whatever was sent.
            permissions = result.get("default_member_permissions")
            result["default_member_permissions"] = None if permissions is None else str(permissions)
            result.setdefault("nsfw", False)
            result.setdefault("description", "")  # Discord answers "" for context menus
            if scope is not None:
                result["guild_id"] = str(scope)
            stored.append(result)
        self._commands[scope] = stored
        self.command_syncs.append((scope, copy.deepcopy(stored)))
        return self._json(200, stored)

    # ------------------------------------------------------------------ messages

    def _channel_info(
        self, channel_id: int
    ) -> tuple[FakeGuild | None, FakeChannel | None, int | None]:
        for guild in self.guilds.values():
            channel = guild.channel(channel_id)
            if channel is not None:
                return guild, channel, None
        return None, None, self._dm_recipients.get(channel_id)

    def _mentions(self, body: JSON, content: str, guild: FakeGuild | None) -> JSON:
        allowed = body.get("allowed_mentions")
        parse = (
            ["users", "roles", "everyone"] if allowed is None else list(allowed.get("parse") or [])
        )
        allowed_users = {int(u) for u in (allowed or {}).get("users") or []}
        allowed_roles = {int(r) for r in (allowed or {}).get("roles") or []}
        user_ids = [int(u) for u in re.findall(r"<@!?(\d+)>", content)]
        role_ids = [int(r) for r in re.findall(r"<@&(\d+)>", content)]
        users = [
            self.users[u].to_payload()
            for u in dict.fromkeys(user_ids)
            if u in self.users and ("users" in parse or u in allowed_users)
        ]
        roles = [
            str(r)
            for r in dict.fromkeys(role_ids)
            if guild is not None
            and guild.role(r) is not None
            and ("roles" in parse or r in allowed_roles)
        ]
        everyone = "everyone" in parse and ("@everyone" in content or "@here" in content)
        return {"mentions": users, "mention_roles": roles, "mention_everyone": everyone}

    def _make_attachments(
        self, channel_id: int, body: JSON, files: list[RecordedFile], existing: list[JSON]
    ) -> list[JSON]:
        meta = {
            str(a.get("id")): a for a in body.get("attachments") or [] if isinstance(a, Mapping)
        }
        kept = [a for a in existing if str(a["id"]) in meta]
        for index, file in enumerate(files):
            m = re.fullmatch(r"files\[(\d+)\]", file.field)
            info = meta.get(m.group(1) if m else str(index), {})
            attachment_id = self._snowflake()
            filename = str(info.get("filename") or file.filename or "file")
            url = f"{self.base_url}/attachments/{channel_id}/{attachment_id}/{filename}"
            self._attachments[attachment_id] = file.data
            kept.append(
                {
                    "id": str(attachment_id),
                    "filename": filename,
                    "description": info.get("description"),
                    "content_type": file.content_type,
                    "size": len(file.data),
                    "url": url,
                    "proxy_url": url,
                }
            )
        return kept

    def _create_message(
        self,
        channel_id: int,
        body: JSON,
        files: list[RecordedFile],
        *,
        msg_type: int = 0,
        handle: InteractionHandle | None = None,
        extra_flags: int = 0,
    ) -> JSON:
        guild, _, _ = self._channel_info(channel_id)
        message_id = self._snowflake()
        content = str(body.get("content") or "")
        message: JSON = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "type": msg_type,
            "content": content,
            "author": self.bot_user.to_payload(),
            "embeds": copy.deepcopy(body.get("embeds") or []),
            "components": copy.deepcopy(body.get("components") or []),
            "attachments": self._make_attachments(channel_id, body, files, []),
            "flags": int(body.get("flags") or 0) | extra_flags,
            "tts": bool(body.get("tts")),
            "pinned": False,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "sticker_items": [],
            **self._mentions(body, content, guild),
        }
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        if handle is not None:
            user = self.users[handle.user_id]
            metadata: JSON = {
                "id": str(handle.id),
                "type": handle.type,
                "user": user.to_payload(),
                "authorizing_integration_owners": copy.deepcopy(
                    handle.payload["authorizing_integration_owners"]
                ),
            }
            if handle.type == 2:
                metadata["name"] = handle.label.lstrip("/")
                metadata["command_type"] = int(handle.payload["data"].get("type", 1))
            if handle.source_message_id is not None:
                metadata["interacted_message_id"] = str(handle.source_message_id)
            message.update(
                webhook_id=str(self.application_id),
                application_id=str(self.application_id),
                interaction_metadata=metadata,
            )
        reference = body.get("message_reference")
        if isinstance(reference, Mapping) and reference.get("message_id") is not None:
            ref_id = int(reference["message_id"])
            message["type"] = 19
            message["message_reference"] = {
                "type": 0,
                "message_id": str(ref_id),
                "channel_id": str(reference.get("channel_id") or channel_id),
                **({"guild_id": str(guild.id)} if guild is not None else {}),
            }
            referenced = self.messages.get(ref_id)
            message["referenced_message"] = (
                {k: v for k, v in referenced.items() if k != "referenced_message"}
                if referenced
                else None
            )
        self.messages[message_id] = message
        self._channel_messages.setdefault(channel_id, []).append(message_id)
        return message

    def _edit_message(self, message: JSON, body: JSON, files: list[RecordedFile]) -> JSON:
        for key in ("embeds", "components"):
            if key in body:
                message[key] = copy.deepcopy(body[key] or [])
        if "content" in body:
            message["content"] = str(body["content"] or "")
            guild, _, _ = self._channel_info(int(message["channel_id"]))
            message.update(self._mentions(body, message["content"], guild))
        if body.get("flags") is not None:
            keep = int(message["flags"]) & (EPHEMERAL_FLAG | LOADING_FLAG)
            message["flags"] = keep | (int(body["flags"]) & ~(EPHEMERAL_FLAG | LOADING_FLAG))
        if "attachments" in body or files:
            channel_id = int(message["channel_id"])
            message["attachments"] = self._make_attachments(
                channel_id,
                body if "attachments" in body else {"attachments": message["attachments"]},
                files,
                message["attachments"],
            )
        if int(message["flags"]) & LOADING_FLAG:
            message["flags"] = int(message["flags"]) & ~LOADING_FLAG
        else:
            message["edited_timestamp"] = _now_iso()
        return message

    def _live_message(self, message_id: int) -> JSON | None:
        if message_id in self.deleted_message_ids:
            return None
        return self.messages.get(message_id)

    async def _post_channel_message(
        self, record: RecordedRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        channel_id = int(params["channel_id"])
        guild, channel, dm_user = self._channel_info(channel_id)
        if channel is None and dm_user is None:
            return self._json(404, UNKNOWN_CHANNEL)
        if dm_user is not None and dm_user in self._dm_blocked:
            return self._json(403, CANNOT_DM)
        if guild is not None and channel is not None:
            bot_member = guild.member(self.bot_user.id)
            assert bot_member is not None
            perms = guild.channel_permissions(bot_member, channel)
            if perms & (VIEW_CHANNEL | SEND_MESSAGES) != VIEW_CHANNEL | SEND_MESSAGES:
                return self._json(403, MISSING_PERMISSIONS)
        body = record.body if isinstance(record.body, dict) else {}
        problem = validate_message(body, n_files=len(record.files), creating=True)
        problem = problem or self._nonce_problem(body)
        if problem is not None:
            return self._reject(record, problem)
        earlier = self._enforced_nonce(body)
        if earlier is not None:
            return earlier
        reference = body.get("message_reference")
        if (
            isinstance(reference, Mapping)
            and reference.get("message_id") is not None
            and self._live_message(int(reference["message_id"])) is None
            and reference.get("fail_if_not_exists", True)
        ):
            unknown = error("REPLIES_UNKNOWN_MESSAGE", "Unknown message")
            return self._json(400, form_error({"message_reference": unknown}))
        message = self._create_message(channel_id, body, record.files)
        if body.get("nonce") is not None:
            key = (self.bot_user.id, str(body["nonce"]))
            self._nonces[key] = (int(message["id"]), time.monotonic())
        if self._hold_channels.get(channel_id):
            self._hold_channels[channel_id] -= 1
            self.held_messages.append(copy.deepcopy(message))
            released = asyncio.Event()
            self._held.append(released)
            self._changes.bump()
            await released.wait()
        return self._json(200, message)

    @staticmethod
    def _nonce_problem(body: JSON) -> tuple[int, JSON] | None:
        """Discord's answer to a nonce it refuses: an integer, or a string of 25 characters."""
        nonce = body.get("nonce")
        problem: JSON | None = None
        if nonce is not None and not isinstance(nonce, int | str):
            problem = error("NONCE_TYPE_INVALID", "Nonce must be an integer or a string.")
        elif isinstance(nonce, str) and len(nonce) > NONCE_LIMIT:
            problem = error("BASE_TYPE_MAX_LENGTH", f"Must be {NONCE_LIMIT} or fewer in length.")
        if problem is None and not isinstance(body.get("enforce_nonce", False), bool):
            enforce = error("BASE_TYPE_BOOLEAN", "Must be either true or false.")
            return 400, form_error({"enforce_nonce": enforce})
        return None if problem is None else (400, form_error({"nonce": problem}))

    def _enforced_nonce(self, body: JSON) -> web.Response | None:
        """With ``enforce_nonce``, the message this author already made with the same nonce in
        the past few minutes, instead of a new one (Create Message: "that message will be
        returned and no new message will be created")."""
        if not body.get("enforce_nonce") or body.get("nonce") is None:
            return None
        found = self._nonces.get((self.bot_user.id, str(body["nonce"])))
        if found is None or time.monotonic() - found[1] > self.nonce_window:
            return None
        earlier = self._live_message(found[0])
        if earlier is None:  # deleted since: discord.py documents NotFound for this case
            return self._json(404, UNKNOWN_MESSAGE)
        return self._json(200, copy.deepcopy(earlier))

    async def _channel_message(
        self, record: RecordedRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        channel_id = int(params["channel_id"])
        message = self._live_message(int(params["message_id"]))
        if message is None or int(message["channel_id"]) != channel_id:
            return self._json(404, UNKNOWN_MESSAGE)
        if record.method == "GET":
            return self._json(200, message)
        if record.method == "DELETE":
            self.deleted_message_ids.add(int(message["id"]))
            return self._no_content()
        if int(message["author"]["id"]) != self.bot_user.id:
            return self._json(403, NOT_AUTHOR)
        body = record.body if isinstance(record.body, dict) else {}
        problem = validate_message(body, n_files=len(record.files), creating=False)
        if problem is not None:
            return self._reject(record, problem)
        return self._json(200, self._edit_message(message, body, record.files))

    async def _get_channel(
        self, record: RecordedRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        channel_id = int(params["channel_id"])
        guild, channel, dm_user = self._channel_info(channel_id)
        if guild is not None and channel is not None:
            return self._json(200, channel.to_payload(guild.id))
        if dm_user is not None:
            return self._json(200, self._dm_payload(channel_id, dm_user))
        return self._json(404, UNKNOWN_CHANNEL)

    async def _typing(self, record: RecordedRequest, params: dict[str, str]) -> web.StreamResponse:
        _, channel, dm_user = self._channel_info(int(params["channel_id"]))
        if channel is None and dm_user is None:
            return self._json(404, UNKNOWN_CHANNEL)
        return self._no_content()

    async def _get_member(
        self, record: RecordedRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        guild = self.guilds.get(int(params["guild_id"]))
        if guild is None:
            return self._json(403, MISSING_ACCESS)
        member = guild.member(int(params["user_id"]))
        return (
            self._json(404, UNKNOWN_MEMBER)
            if member is None
            else self._json(200, member.to_payload())
        )

    def _dm_payload(self, channel_id: int, user_id: int) -> JSON:
        return {
            "id": str(channel_id),
            "type": 1,
            "last_message_id": None,
            "flags": 0,
            "recipients": [self.users[user_id].to_payload()],
        }

    async def _create_dm(
        self, record: RecordedRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        body = record.body if isinstance(record.body, dict) else {}
        try:
            user_id = int(body["recipient_id"])
        except (KeyError, TypeError, ValueError):
            return self._json(
                400, form_error({"recipient_id": error("BASE_TYPE_REQUIRED", "Required")})
            )
        if user_id not in self.users:
            return self._json(404, UNKNOWN_USER)
        channel_id = self._dm_channels.get(user_id)
        if channel_id is None:
            channel_id = self._snowflake()
            self._dm_channels[user_id] = channel_id
            self._dm_recipients[channel_id] = user_id
        return self._json(200, self._dm_payload(channel_id, user_id))

    # ------------------------------------------------------------------ interaction callbacks

    async def _callback(
        self, record: RecordedRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        handle = self.interactions.get(int(params["interaction_id"]))
        if handle is None or handle.token != params["token"]:
            return self._json(404, UNKNOWN_INTERACTION)
        if handle.callback is not None:
            return self._json(400, ALREADY_ACKNOWLEDGED)
        now = time.monotonic()
        if self.interaction_timeout is not None and now - handle.sent_at > self.interaction_timeout:
            handle.late_callbacks += 1
            return self._json(404, UNKNOWN_INTERACTION)
        body = record.body if isinstance(record.body, dict) else {}
        ctype = int(body.get("type", 0))
        data: JSON = body.get("data") or {}
        if ctype not in ALLOWED_CALLBACKS.get(handle.type, frozenset()) or (
            ctype in (6, 7) and handle.source_message_id is None
        ):
            msg = f"callback type {ctype} is not valid for interaction type {handle.type}"
            return self._json(
                400, form_error({"type": error("INTERACTION_RESPONSE_TYPE_INVALID", msg)})
            )
        problem: tuple[int, JSON] | None = None
        if ctype in (4, 7):
            problem = validate_message(data, n_files=len(record.files), creating=ctype == 4)
        elif ctype == 8:
            choice_error = validate_choices(data)
            problem = None if choice_error is None else (400, choice_error)
        elif ctype == 9:
            modal_error = validate_modal(data)
            problem = None if modal_error is None else (400, modal_error)
        if problem is not None:
            return self._reject(record, problem)

        handle.callback = copy.deepcopy(body)
        handle.callback_at = now
        self.callback_times.append(now - handle.sent_at)
        message: JSON | None = None
        if ctype == 4:
            msg_type = 20 if handle.type == 2 else 0
            message = self._create_message(
                handle.channel_id, data, record.files, msg_type=msg_type, handle=handle
            )
            handle.original_message_id = handle.response_message_id = int(message["id"])
        elif ctype == 5:
            msg_type = 20 if handle.type == 2 else 0
            flags = LOADING_FLAG | (int(data.get("flags") or 0) & EPHEMERAL_FLAG)
            message = self._create_message(
                handle.channel_id, {}, [], msg_type=msg_type, handle=handle, extra_flags=flags
            )
            handle.original_message_id = int(message["id"])
        elif ctype in (6, 7):
            assert handle.source_message_id is not None
            handle.original_message_id = handle.source_message_id
            source = self._live_message(handle.source_message_id)
            if ctype == 7 and source is not None:
                message = self._edit_message(source, data, record.files)
                handle.response_message_id = int(message["id"])

        if ctype == 8 or record.query.get("with_response") not in ("1", "true", "True"):
            return self._no_content()
        interaction: JSON = {"id": str(handle.id), "type": handle.type}
        resource: JSON = {"type": ctype}
        if message is not None:
            interaction.update(
                response_message_id=message["id"],
                response_message_loading=ctype == 5,
                response_message_ephemeral=bool(int(message["flags"]) & EPHEMERAL_FLAG),
            )
            resource["message"] = message
        return self._json(200, {"interaction": interaction, "resource": resource})

    def _webhook_handle(self, params: dict[str, str]) -> InteractionHandle | None:
        if int(params["application_id"]) != self.application_id:
            return None
        return self._tokens.get(params["token"])

    async def _followup(
        self, record: RecordedRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        handle = self._webhook_handle(params)
        if handle is None or handle.callback is None:
            return self._json(404, UNKNOWN_WEBHOOK)
        body = record.body if isinstance(record.body, dict) else {}
        problem = validate_message(body, n_files=len(record.files), creating=True)
        if problem is not None:
            return self._reject(record, problem)
        original = (
            None
            if handle.original_message_id is None
            else self._live_message(handle.original_message_id)
        )
        if (
            handle.callback_type == 5
            and original is not None
            and int(original["flags"]) & LOADING_FLAG
        ):
            # Discord: the first follow-up after a deferral replaces the "thinking" message.
            edit = {k: v for k, v in body.items() if k != "flags"}
            message = self._edit_message(original, {"content": "", **edit}, record.files)
        else:
            message = self._create_message(handle.channel_id, body, record.files, handle=handle)
        handle.followup_message_ids.append(int(message["id"]))
        if handle.response_message_id is None:
            handle.response_message_id = int(message["id"])
        if record.query.get("wait") in ("1", "true", "True"):
            return self._json(200, message)
        return self._no_content()

    async def _webhook_message(
        self, record: RecordedRequest, params: dict[str, str]
    ) -> web.StreamResponse:
        handle = self._webhook_handle(params)
        if handle is None:
            return self._json(404, UNKNOWN_WEBHOOK)
        raw_id = params["message_id"]
        owned = {handle.original_message_id, *handle.followup_message_ids}
        message_id = handle.original_message_id if raw_id == "@original" else int(raw_id)
        message = (
            None
            if message_id is None or message_id not in owned
            else self._live_message(message_id)
        )
        if message is None or message_id is None:
            return self._json(404, UNKNOWN_MESSAGE)
        if record.method == "GET":
            return self._json(200, message)
        if record.method == "DELETE":
            self.deleted_message_ids.add(message_id)
            return self._no_content()
        body = record.body if isinstance(record.body, dict) else {}
        problem = validate_message(body, n_files=len(record.files), creating=False)
        if problem is not None:
            return self._reject(record, problem)
        self._edit_message(message, body, record.files)
        if handle.response_message_id is None and message_id == handle.original_message_id:
            handle.response_message_id = message_id
        return self._json(200, message)

    # ------------------------------------------------------------------ sending interactions

    def _resolve_user(self, user: UserLike | None, fallback: int | None = None) -> FakeUser:
        user_id = fallback if user is None else _snowflake_of(user)
        if user_id is None:
            user_id = self.default_user_id
        if isinstance(user, FakeUser):
            self.users.setdefault(user.id, user)
        try:
            return self.users[user_id]
        except KeyError:
            msg = f"unknown user {user_id}"
            raise AssertionError(msg) from None

    def _resolve_place(
        self, guild_id: int | None, channel_id: int | None
    ) -> tuple[FakeGuild, FakeChannel]:
        if channel_id is not None:
            guild, channel, _ = self._channel_info(channel_id)
            if guild is None or channel is None:
                msg = f"channel {channel_id} is not a guild channel of the double"
                raise AssertionError(msg)
            return guild, channel
        if guild_id is None:
            guild = next(iter(self.guilds.values()), None)
        else:
            guild = self.guilds.get(guild_id)
        if guild is None:
            msg = f"unknown guild {guild_id}"
            raise AssertionError(msg)
        return guild, guild.default_channel()

    def _member_or_fail(self, guild: FakeGuild, user: FakeUser) -> FakeMember:
        member = guild.member(user.id)
        if member is None:
            msg = f"user {user.username} ({user.id}) is not a member of guild {guild.name}"
            raise AssertionError(msg)
        return member

    def _interaction_payload(
        self,
        itype: int,
        data: JSON,
        *,
        interaction_id: int,
        token: str,
        user: FakeUser,
        guild: FakeGuild,
        channel: FakeChannel,
        locale: str,
        message: JSON | None,
    ) -> JSON:
        member = self._member_or_fail(guild, user)
        bot_member = self._member_or_fail(guild, self.bot_user)
        perms = guild.channel_permissions(member, channel)
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": itype,
            "token": token,
            "version": 1,
            "data": data,
            "guild_id": str(guild.id),
            "guild": {
                "id": str(guild.id),
                "locale": guild.preferred_locale,
                "features": list(guild.features),
            },
            "channel_id": str(channel.id),
            "channel": {**channel.to_payload(guild.id), "permissions": str(perms)},
            "member": {**member.to_payload(), "permissions": str(perms)},
            "locale": locale,
            "guild_locale": guild.preferred_locale,
            "app_permissions": str(guild.channel_permissions(bot_member, channel)),
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        if message is not None:
            payload["message"] = copy.deepcopy(message)
        return payload

    async def _send_interaction(
        self,
        itype: int,
        data: JSON,
        *,
        label: str,
        user: FakeUser,
        guild: FakeGuild,
        channel: FakeChannel,
        locale: str,
        message: JSON | None = None,
    ) -> InteractionHandle:
        interaction_id = self._snowflake()
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        payload = self._interaction_payload(
            itype,
            data,
            interaction_id=interaction_id,
            token=token,
            user=user,
            guild=guild,
            channel=channel,
            locale=locale,
            message=message,
        )
        return await self._deliver_interaction(payload, label, user, guild.id, channel.id, message)

    async def _deliver_interaction(
        self,
        payload: JSON,
        label: str,
        user: FakeUser,
        guild_id: int | None,
        channel_id: int,
        message: JSON | None,
    ) -> InteractionHandle:
        conn = await self.wait_for_gateway()
        handle = InteractionHandle(
            id=int(payload["id"]),
            token=str(payload["token"]),
            type=int(payload["type"]),
            payload=payload,
            user_id=user.id,
            guild_id=guild_id,
            channel_id=channel_id,
            label=label,
            source_message_id=None if message is None else int(message["id"]),
        )
        self.interactions[handle.id] = handle
        self._tokens[handle.token] = handle
        handle.sent_at = time.monotonic()
        await conn.send({"op": 0, "t": "INTERACTION_CREATE", "d": payload})
        return handle

    def _find_command(
        self, name: str, guild: FakeGuild | None, command_type: int = 1
    ) -> tuple[JSON, int | None]:
        scopes = (guild.id, None) if guild is not None else (None,)
        for scope in scopes:
            for command in self._commands.get(scope, []):
                if command["name"] == name and int(command.get("type", 1)) == command_type:
                    return command, scope
        known = sorted(c["name"] for s in scopes for c in self._commands.get(s, []))
        where = f"guild {guild.name}" if guild is not None else "global scope"
        msg = f"/{name} is not registered for {where} (did the bot sync?); known: {known}"
        raise AssertionError(msg)

    @staticmethod
    def _check_offered(command: JSON, context: int, install: int) -> None:
        """Fail as a Discord client would not offer the command: a context or an installation
        the command does not allow (``contexts``, ``integration_types``, ``dm_permission``)."""
        name = command["name"]
        installs = command.get("integration_types")
        if install not in (installs if installs is not None else [GUILD_INSTALL]):
            msg = f"/{name} is not installable that way (integration_types {installs})"
            raise AssertionError(msg)
        contexts = command.get("contexts")
        if contexts is not None and context not in contexts:
            msg = f"Discord does not offer /{name} in context {context} (contexts {contexts})"
            raise AssertionError(msg)
        if context == BOT_DM_CONTEXT and command.get("dm_permission") is False:
            msg = f"Discord does not offer /{name} in DMs (dm_permission false)"
            raise AssertionError(msg)

    def _resolve_entity(
        self, option_type: int, raw: Any, resolved: JSON, guild: FakeGuild | None, perms: int
    ) -> str:
        if guild is None:
            msg = "user, channel and role options outside a server are not modelled by the double"
            raise AssertionError(msg)
        entity_id = _snowflake_of(raw)
        if option_type == 9:
            option_type = 6 if entity_id in self.users else 8
        if option_type == 6:
            user = self._resolve_user(entity_id)
            resolved.setdefault("users", {})[str(entity_id)] = user.to_payload()
            member = guild.member(entity_id)
            if member is not None:
                resolved.setdefault("members", {})[str(entity_id)] = {
                    **member.to_payload(with_user=False),
                    "permissions": str(guild.base_permissions(member)),
                }
        elif option_type == 7:
            target = guild.channel(entity_id)
            if target is None:
                msg = f"unknown channel {entity_id} in guild {guild.name}"
                raise AssertionError(msg)
            resolved.setdefault("channels", {})[str(entity_id)] = {
                **target.to_payload(guild.id),
                "permissions": str(perms),
            }
        else:
            role = guild.role(entity_id)
            if role is None:
                msg = f"unknown role {entity_id} in guild {guild.name}"
                raise AssertionError(msg)
            resolved.setdefault("roles", {})[str(entity_id)] = role.to_payload()
        return str(entity_id)

    def _option_value(
        self, definition: JSON, raw: Any, resolved: JSON, guild: FakeGuild | None, perms: int
    ) -> Any:
        otype = int(definition["type"])
        name = definition["name"]
        value: Any
        if otype == 3:
            value = str(raw)
            if (
                not int(definition.get("min_length", 0))
                <= len(value)
                <= int(definition.get("max_length", 6000))
            ):
                msg = f"option {name!r}: length of {value!r} is outside min_length/max_length"
                raise AssertionError(msg)
        elif otype in (4, 10):
            value = int(raw) if otype == 4 else float(raw)
            low, high = definition.get("min_value"), definition.get("max_value")
            if (low is not None and value < low) or (high is not None and value > high):
                msg = f"option {name!r}: {value} is outside [{low}, {high}]"
                raise AssertionError(msg)
        elif otype == 5:
            value = bool(raw)
        elif otype in (6, 7, 8, 9):
            value = self._resolve_entity(otype, raw, resolved, guild, perms)
        else:
            msg = f"option {name!r}: option type {otype} is not supported by the double"
            raise AssertionError(msg)
        choices = definition.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            allowed = [c["value"] for c in choices]
            msg = f"option {name!r}: {value!r} is not one of the choices {allowed}"
            raise AssertionError(msg)
        return value

    def _build_options(
        self,
        definition: JSON,
        path: list[str],
        values: Mapping[str, Any],
        resolved: JSON,
        guild: FakeGuild | None,
        perms: int,
        focused: str | None,
    ) -> list[JSON]:
        defs: list[JSON] = definition.get("options") or []
        if path:
            sub = next(
                (o for o in defs if o.get("name") == path[0] and o.get("type") in (1, 2)), None
            )
            if sub is None:
                names = [o["name"] for o in defs if o.get("type") in (1, 2)]
                msg = f"/{definition['name']} has no subcommand {path[0]!r}; it has {names}"
                raise AssertionError(msg)
            nested = self._build_options(sub, path[1:], values, resolved, guild, perms, focused)
            return [{"type": sub["type"], "name": sub["name"], "options": nested}]
        if any(o.get("type") in (1, 2) for o in defs):
            names = [o["name"] for o in defs]
            msg = f"/{definition['name']} needs a subcommand: one of {names}"
            raise AssertionError(msg)
        by_name = {o["name"]: o for o in defs}
        unknown = [k for k in values if k not in by_name]
        if unknown:
            msg = f"/{definition['name']} has no option(s) {unknown}; it has {list(by_name)}"
            raise AssertionError(msg)
        if focused is None:
            missing = [o["name"] for o in defs if o.get("required") and o["name"] not in values]
            if missing:
                msg = f"/{definition['name']} is missing required option(s) {missing}"
                raise AssertionError(msg)
        options: list[JSON] = []
        for key, raw in values.items():
            opt_def = by_name[key]
            entry: JSON = {"name": key, "type": opt_def["type"]}
            if key == focused:
                entry["value"] = str(raw)
                entry["focused"] = True
            else:
                entry["value"] = self._option_value(opt_def, raw, resolved, guild, perms)
            options.append(entry)
        return options

    async def _command_interaction(
        self,
        itype: int,
        name: str,
        options: Mapping[str, Any] | None,
        *,
        focused: str | None,
        user: UserLike | None,
        guild_id: int | None,
        channel_id: int | None,
        locale: str,
        subcommand: str | None,
    ) -> InteractionHandle:
        guild, channel = self._resolve_place(guild_id, channel_id)
        invoker = self._resolve_user(user)
        member = self._member_or_fail(guild, invoker)
        perms = guild.channel_permissions(member, channel)
        path = name.lstrip("/").split() + (subcommand.split() if subcommand else [])
        command, scope = self._find_command(path[0], guild)
        self._check_offered(command, GUILD_CONTEXT, GUILD_INSTALL)
        resolved: JSON = {}
        data: JSON = {
            "id": command["id"],
            "name": command["name"],
            "type": 1,
            "options": self._build_options(
                command, path[1:], options or {}, resolved, guild, perms, focused
            ),
        }
        if resolved:
            data["resolved"] = resolved
        if scope is not None:
            data["guild_id"] = str(scope)
        return await self._send_interaction(
            itype,
            data,
            label="/" + " ".join(path),
            user=invoker,
            guild=guild,
            channel=channel,
            locale=locale,
        )

    async def slash_command(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: UserLike | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        locale: str = "en-US",
        subcommand: str | None = None,
    ) -> InteractionHandle:
        """Send a slash command (type 2); ``name`` may include subcommands: ``"tag show"``."""
        return await self._command_interaction(
            2,
            name,
            options,
            focused=None,
            user=user,
            guild_id=guild_id,
            channel_id=channel_id,
            locale=locale,
            subcommand=subcommand,
        )

    async def private_command(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user: UserLike | None = None,
        context: int = PRIVATE_CHANNEL_CONTEXT,
        locale: str = "en-US",
        subcommand: str | None = None,
    ) -> InteractionHandle:
        """A slash command a member runs outside a server with the app installed to their account:
        in a DM with another user or a group DM (``context`` 2), or in their DM with the bot (1).

        Discord offers only commands installable to a user (``integration_types`` with 1) whose
        ``contexts`` include this one; anything else fails the test, as no client could send it.
        """
        invoker = self._resolve_user(user)
        path = name.lstrip("/").split() + (subcommand.split() if subcommand else [])
        command, _ = self._find_command(path[0], None)
        self._check_offered(command, context, USER_INSTALL)
        if context == BOT_DM_CONTEXT:
            channel_id = self._dm_channels.get(invoker.id) or self._snowflake()
            self._dm_channels[invoker.id] = channel_id
            self._dm_recipients[channel_id] = invoker.id
            channel: JSON = self._dm_payload(channel_id, invoker.id)
        else:
            channel_id = self._snowflake()
            others = [u for u in self.users.values() if u.id != invoker.id and not u.bot][:2]
            channel = {
                "id": str(channel_id),
                "type": 3,
                "name": None,
                "flags": 0,
                "last_message_id": None,
                "recipients": [u.to_payload() for u in others],
            }
        data: JSON = {
            "id": command["id"],
            "name": command["name"],
            "type": 1,
            "options": self._build_options(command, path[1:], options or {}, {}, None, 0, None),
        }
        interaction_id = self._snowflake()
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": 2,
            "token": "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48),
            "version": 1,
            "data": data,
            "channel_id": str(channel_id),
            "channel": channel,
            "user": invoker.to_payload(),
            "locale": locale,
            "app_permissions": str(PRIVATE_APP_PERMISSIONS),
            "entitlements": [],
            "entitlement_sku_ids": [],
            "authorizing_integration_owners": {str(USER_INSTALL): str(invoker.id)},
            "context": context,
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        }
        label = "/" + " ".join(path)
        return await self._deliver_interaction(payload, label, invoker, None, channel_id, None)

    async def message_command(
        self,
        name: str,
        message: JSON | int | str,
        *,
        user: UserLike | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Run a message command (Apps menu of a message) on a message in a server channel."""
        message_id = int(message["id"]) if isinstance(message, Mapping) else int(message)
        target = self._live_message(message_id)
        if target is None:
            msg = f"message {message_id} does not exist (or was deleted)"
            raise AssertionError(msg)
        guild, channel = self._resolve_place(None, int(target["channel_id"]))
        invoker = self._resolve_user(user)
        self._member_or_fail(guild, invoker)
        command, scope = self._find_command(name, guild, command_type=3)
        self._check_offered(command, GUILD_CONTEXT, GUILD_INSTALL)
        data: JSON = {
            "id": command["id"],
            "name": command["name"],
            "type": 3,
            "target_id": str(message_id),
            "resolved": {"messages": {str(message_id): copy.deepcopy(target)}},
        }
        if scope is not None:
            data["guild_id"] = str(scope)
        return await self._send_interaction(
            2, data, label=name, user=invoker, guild=guild, channel=channel, locale=locale
        )

    async def autocomplete(
        self,
        name: str,
        options: Mapping[str, Any],
        *,
        focused: str | None = None,
        user: UserLike | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        locale: str = "en-US",
        subcommand: str | None = None,
    ) -> InteractionHandle:
        """Send an autocomplete interaction (type 4); ``focused`` defaults to the last option."""
        if not options:
            msg = "autocomplete needs at least the focused option"
            raise AssertionError(msg)
        return await self._command_interaction(
            4,
            name,
            options,
            focused=focused or list(options)[-1],
            user=user,
            guild_id=guild_id,
            channel_id=channel_id,
            locale=locale,
            subcommand=subcommand,
        )

    async def click(
        self,
        message: JSON | int | str | InteractionHandle,
        custom_id: str,
        *,
        user: UserLike | None = None,
        values: Sequence[Any] | None = None,
        locale: str = "en-US",
        crafted: bool = False,
    ) -> InteractionHandle:
        """Click a button or pick select values (type 3) on a message the bot produced.

        ``crafted=True`` sends the custom id even if the message has no such component, as a
        modified client or a replayed request could: the bot must check it like any other.
        """
        if isinstance(message, InteractionHandle):
            if message.response_message_id is None:
                msg = f"{message} has no response message to click on"
                raise AssertionError(msg)
            message_id = message.response_message_id
        elif isinstance(message, Mapping):
            message_id = int(message["id"])
        else:
            message_id = int(message)
        current = self._live_message(message_id)
        if current is None:
            msg = f"message {message_id} does not exist (or was deleted)"
            raise AssertionError(msg)
        components = list(iter_components(current.get("components") or []))
        component = next((c for c in components if c.get("custom_id") == custom_id), None)
        if component is None and crafted:
            component = {"type": 2, "custom_id": custom_id}
        if component is None:
            ids = [c["custom_id"] for c in components if "custom_id" in c]
            msg = f"message {message_id} has no component {custom_id!r}; it has {ids}"
            raise AssertionError(msg)
        if component.get("disabled"):
            msg = f"component {custom_id!r} is disabled"
            raise AssertionError(msg)
        guild, channel, _ = self._channel_info(int(current["channel_id"]))
        if guild is None or channel is None:
            msg = "component interactions in DMs are not supported by the double"
            raise AssertionError(msg)
        fallback = None
        if int(current["flags"]) & EPHEMERAL_FLAG and "interaction_metadata" in current:
            fallback = int(current["interaction_metadata"]["user"]["id"])
        invoker = self._resolve_user(user, fallback)
        ctype = int(component["type"])
        data: JSON = {"custom_id": custom_id, "component_type": ctype}
        if ctype in SELECT_TYPES:
            data["values"] = self._select_values(
                component, values or [], data, guild, channel, invoker
            )
        return await self._send_interaction(
            3,
            data,
            label=f"click {custom_id}",
            user=invoker,
            guild=guild,
            channel=channel,
            locale=locale,
            message=current,
        )

    def _select_values(
        self,
        component: JSON,
        values: Sequence[Any],
        data: JSON,
        guild: FakeGuild,
        channel: FakeChannel,
        invoker: FakeUser,
    ) -> list[str]:
        low, high = int(component.get("min_values", 1)), int(component.get("max_values", 1))
        if not low <= len(values) <= high:
            msg = f"select {component.get('custom_id')!r}: {len(values)} values, not {low}..{high}"
            raise AssertionError(msg)
        ctype = int(component["type"])
        if ctype == 3:
            allowed = [o["value"] for o in component.get("options") or []]
            bad = [v for v in values if str(v) not in allowed]
            if bad:
                msg = f"select {component.get('custom_id')!r} has no {bad}; it has {allowed}"
                raise AssertionError(msg)
            return [str(v) for v in values]
        member = self._member_or_fail(guild, invoker)
        perms = guild.channel_permissions(member, channel)
        resolved: JSON = {}
        option_type = {5: 6, 6: 8, 7: 9, 8: 7}[ctype]
        out = [self._resolve_entity(option_type, v, resolved, guild, perms) for v in values]
        data["resolved"] = resolved
        return out

    def _modal_source(self, modal: InteractionHandle | str) -> InteractionHandle:
        if isinstance(modal, InteractionHandle):
            if modal.callback_type != 9:
                msg = f"{modal} was not answered with a modal (callback type {modal.callback_type})"
                raise AssertionError(msg)
            return modal
        for handle in reversed(self.interactions.values()):
            if (
                handle.callback_type == 9
                and handle.callback
                and handle.callback["data"]["custom_id"] == modal
            ):
                return handle
        msg = f"the bot opened no modal with custom_id {modal!r}"
        raise AssertionError(msg)

    async def submit_modal(
        self,
        modal: InteractionHandle | str,
        values: Mapping[str, Any],
        *,
        user: UserLike | None = None,
        locale: str = "en-US",
    ) -> InteractionHandle:
        """Submit a modal the bot opened (type 5); ``values`` are keyed by custom_id or label."""
        source = self._modal_source(modal)
        assert source.callback is not None
        modal_data: JSON = source.callback["data"]
        used: set[str] = set()
        missing: list[str] = []

        def fill(component: JSON, label: str | None = None) -> JSON | None:
            ctype = int(component.get("type", 0))
            if ctype == 1:
                children = [
                    c for c in (fill(x) for x in component.get("components") or []) if c is not None
                ]
                return {"type": 1, "components": children}
            if ctype == 18:
                inner = fill(component["component"], component.get("label"))
                if inner is None:
                    return None
                return {"type": 18, "id": component.get("id"), "component": inner}
            custom_id = component.get("custom_id")
            if custom_id is None:
                return None
            label = label or component.get("label")
            key = custom_id if custom_id in values else label if label in values else None
            if key is not None:
                used.add(key)
            if ctype == 4:
                if key is None:
                    if component.get("required", True) and not component.get("value"):
                        missing.append(label or custom_id)
                    value = str(component.get("value") or "")
                else:
                    value = str(values[key])
                low, high = (
                    int(component.get("min_length", 0)),
                    int(component.get("max_length", 4000)),
                )
                if value and not low <= len(value) <= high:
                    msg = (
                        f"text input {label or custom_id!r}: {len(value)} chars, not {low}..{high}"
                    )
                    raise AssertionError(msg)
                return {"type": 4, "custom_id": custom_id, "value": value}
            raw = values[key] if key is not None else []
            picked = [str(v) for v in (raw if isinstance(raw, list | tuple) else [raw])]
            return {"type": ctype, "custom_id": custom_id, "values": picked}

        components = [
            c for c in (fill(x) for x in modal_data.get("components") or []) if c is not None
        ]
        unknown = [k for k in values if k not in used]
        if unknown or missing:
            name = modal_data["custom_id"]
            msg = f"modal {name!r}: unknown inputs {unknown}, missing required {missing}"
            raise AssertionError(msg)
        guild = self.guilds[source.guild_id] if source.guild_id is not None else None
        channel = guild.channel(source.channel_id) if guild is not None else None
        if guild is None or channel is None:
            msg = "modal source has no guild channel"
            raise AssertionError(msg)
        message = (
            None
            if source.source_message_id is None
            else self._live_message(source.source_message_id)
        )
        return await self._send_interaction(
            5,
            {"custom_id": modal_data["custom_id"], "components": components},
            label=f"modal {modal_data['custom_id']}",
            user=self._resolve_user(user, source.user_id),
            guild=guild,
            channel=channel,
            locale=locale,
            message=message,
        )

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
