"""The double's interactions: commands, autocomplete, clicks and modals, and the answers."""

from __future__ import annotations

import copy
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from .gateway import GatewayMixin
from .models import JSON, FakeChannel, FakeGuild, FakeUser
from .records import InteractionHandle, RecordedRequest
from .rest import SEND_MESSAGES, VIEW_CHANNEL, RestMixin
from .state import (
    ALREADY_ACKNOWLEDGED,
    UNKNOWN_INTERACTION,
    UNKNOWN_MESSAGE,
    UNKNOWN_WEBHOOK,
    UserLike,
    snowflake_of,
)
from .validation import (
    EPHEMERAL_FLAG,
    LOADING_FLAG,
    error,
    form_error,
    iter_components,
    validate_choices,
    validate_message,
    validate_modal,
)

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
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


class InteractionsMixin(GatewayMixin, RestMixin):
    """Interactions: sending them to the bot, and its callbacks, follow-ups and edits."""

    def _build_routes(self) -> None:
        super()._build_routes()
        add = self._add_route
        add("POST", "/interactions/{interaction_id}/{token}/callback", self._callback, auth=False)
        add("POST", "/webhooks/{application_id}/{token}", self._followup, auth=False)
        for method in ("GET", "PATCH", "DELETE"):
            add(
                method,
                "/webhooks/{application_id}/{token}/messages/{message_id}",
                self._webhook_message,
                auth=False,
            )

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
        conn = await self.wait_for_shard(guild_id)
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
        entity_id = snowflake_of(raw)
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
