"""The double's REST API: the routes a bot calls, with Discord's checks and rate-limit headers."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import math
import re
import time
from collections.abc import Mapping
from typing import Any

from aiohttp import BodyPartReader, web

from .models import JSON, FakeUser
from .records import RecordedFile, RecordedRequest
from .state import (
    API_PREFIX,
    CANNOT_DM,
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    NOT_AUTHOR,
    NOT_FOUND,
    UNAUTHORIZED,
    UNKNOWN_CHANNEL,
    UNKNOWN_COMMAND,
    UNKNOWN_MEMBER,
    UNKNOWN_MESSAGE,
    UNKNOWN_USER,
    DoubleState,
    Handler,
    Route,
    pattern_regex,
)
from .validation import error, form_error, validate_commands, validate_message

VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
NONCE_LIMIT = 25  # characters of a string nonce


class RestMixin(DoubleState):
    """REST: routing, injected failures, users, commands, channels and messages."""

    def _build_routes(self) -> None:
        super()._build_routes()
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
        for method in ("GET", "PATCH", "DELETE"):
            add(method, "/channels/{channel_id}/messages/{message_id}", self._channel_message)
        add("GET", "/channels/{channel_id}", self._get_channel)
        add("POST", "/channels/{channel_id}/messages", self._post_channel_message)
        add("POST", "/channels/{channel_id}/typing", self._typing)
        add("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member)

    def _add_route(
        self, method: str, template: str, handler: Handler, *, auth: bool = True
    ) -> None:
        self._routes.append(
            Route(method, template, pattern_regex(template, capture=True), handler, auth)
        )

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
        route: Route | None = None
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

    # ------------------------------------------------------------------ users, app, gateway

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
                "shards": self.shard_count,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 1000 - len(self.sessions),
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            },
        )

    # ------------------------------------------------------------------ commands

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

    # ------------------------------------------------------------------ channels and messages

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
