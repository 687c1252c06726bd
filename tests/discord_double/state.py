"""The double's shared state: records, server-side state, the message store and common answers."""

from __future__ import annotations

import asyncio
import copy
import json
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiohttp import web

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
from .validation import EPHEMERAL_FLAG, LOADING_FLAG

API_PREFIX = "/api/v10"
GATEWAY_PATH = "/gateway/"
#: Discord checks an enforced nonce "for uniqueness in the past few minutes" (Create Message).
NONCE_WINDOW = 180.0
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


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def pattern_regex(template: str, *, capture: bool) -> re.Pattern[str]:
    """Compile ``/channels/{channel_id}/messages`` style templates; ``*`` matches anything."""
    out: list[str] = []
    for part in re.split(r"(\{[^}]*\})", template):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            out.append(f"(?P<{name}>[^/]+)" if capture and name.isidentifier() else "[^/]+")
        else:
            out.append(re.escape(part).replace(r"\*", ".*"))
    return re.compile("^" + "".join(out) + "$")


def split_pattern(pattern: str) -> tuple[str | None, re.Pattern[str]]:
    """Parse ``"POST /channels/{id}/messages"`` (method optional) into method and path regex."""
    method: str | None = None
    path = pattern.strip()
    if " " in path:
        method, path = path.split(None, 1)
        method = method.upper()
    if path.startswith(API_PREFIX):
        path = path[len(API_PREFIX) :]
    return method, pattern_regex(path, capture=False)


def snowflake_of(value: Any) -> int:
    if isinstance(value, FakeMember):
        return value.user.id
    if isinstance(value, FakeUser | FakeRole | FakeChannel | FakeGuild):
        return value.id
    if isinstance(value, Mapping):
        return int(value["id"])
    return int(value)


@dataclass
class Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: Handler
    auth: bool


@dataclass
class Injection:
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


class Changes:
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


class DoubleState:
    """The double's records and server-side state, and the message store every layer uses."""

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
        # Discord resumes a dropped session; False answers RESUME with op 9 (INVALID_SESSION),
        # after which discord.py waits 5 s (before_identify_hook) and identifies again.
        resume_supported: bool = True,
        gateway_wait_timeout: float = 5.0,
        nonce_window: float = NONCE_WINDOW,
        shard_count: int = 1,
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
        # What GET /gateway/bot recommends; each session holds the guilds of the shard it
        # identified as, whatever this says (Discord routes by the IDENTIFY's shard count).
        self.shard_count = shard_count

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
        self._injections: list[Injection] = []
        self._background: set[asyncio.Task[bool]] = set()
        # enforce_nonce: (author id, nonce) -> (message id, when it was created).
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}
        self._hold_channels: dict[int, int] = {}  # channel id -> posts still to hold
        self._held: list[asyncio.Event] = []
        self.held_messages: list[JSON] = []  # created, answered only on release (or never)

        self._snowflake = SnowflakeFactory()
        self._changes = Changes()
        self._routes: list[Route] = []
        self._build_routes()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

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

    def _register_guild(self, guild: FakeGuild) -> None:
        if guild.member(self.bot_user.id) is None:
            guild.members.append(FakeMember(self.bot_user))
        for member in guild.members:
            self.users.setdefault(member.user.id, member.user)
        self.guilds[guild.id] = guild

    def _build_routes(self) -> None:
        """Register REST routes: each layer adds its own and calls ``super()``."""

    # ------------------------------------------------------------ answers and the message store

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

    def _user(self, user_id: int) -> FakeUser | None:
        return self.users.get(user_id)

    def _channel_info(
        self, channel_id: int
    ) -> tuple[FakeGuild | None, FakeChannel | None, int | None]:
        for guild in self.guilds.values():
            channel = guild.channel(channel_id)
            if channel is not None:
                return guild, channel, None
        return None, None, self._dm_recipients.get(channel_id)

    def _live_message(self, message_id: int) -> JSON | None:
        if message_id in self.deleted_message_ids:
            return None
        return self.messages.get(message_id)

    def _dm_payload(self, channel_id: int, user_id: int) -> JSON:
        return {
            "id": str(channel_id),
            "type": 1,
            "last_message_id": None,
            "flags": 0,
            "recipients": [self.users[user_id].to_payload()],
        }

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
            "timestamp": now_iso(),
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
            message["edited_timestamp"] = now_iso()
        return message

    def _resolve_user(self, user: UserLike | None, fallback: int | None = None) -> FakeUser:
        user_id = fallback if user is None else snowflake_of(user)
        if user_id is None:
            user_id = self.default_user_id
        if isinstance(user, FakeUser):
            self.users.setdefault(user.id, user)
        try:
            return self.users[user_id]
        except KeyError:
            msg = f"unknown user {user_id}"
            raise AssertionError(msg) from None

    def _member_or_fail(self, guild: FakeGuild, user: FakeUser) -> FakeMember:
        member = guild.member(user.id)
        if member is None:
            msg = f"user {user.username} ({user.id}) is not a member of guild {guild.name}"
            raise AssertionError(msg)
        return member
