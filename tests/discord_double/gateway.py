"""The double's gateway: the websocket a discord.py client identifies on and gets events from."""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
import time

from aiohttp import WSMsgType, web

from .models import JSON, FakeGuild, shard_of
from .records import GatewayConnection, GatewaySession
from .state import DoubleState

GUILD_MEMBERS_INTENT = 1 << 1


def valid_shard(shard: object) -> bool:
    """Whether an IDENTIFY's ``shard`` is absent or ``[shard_id, shard_count]`` with
    ``0 <= shard_id < shard_count`` (Discord closes the connection with 4010 otherwise)."""
    if shard is None:
        return True
    if not isinstance(shard, list) or len(shard) != 2:
        return False
    shard_id, shard_count = shard
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in shard):
        return False
    return bool(0 <= shard_id < shard_count)


class GatewayMixin(DoubleState):
    """The gateway: websocket sessions, IDENTIFY/RESUME, dispatching events."""

    def _live_connection(
        self, guild_id: int | None = None, *, routed: bool = False
    ) -> GatewayConnection | None:
        """The newest live connection (``routed``: the newest whose shard holds the guild)."""
        for conn in reversed(self.connections):
            if conn.live and (
                not routed or (conn.session is not None and conn.session.holds(guild_id))
            ):
                return conn
        return None

    async def wait_for_shard(
        self,
        guild_id: int | None,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> GatewayConnection:
        """Wait until the shard that holds the guild (``None``: DMs, shard 0) is live."""
        shard = shard_of(guild_id, self.shard_count)
        return await self._changes.wait_for(
            lambda: self._live_connection(guild_id, routed=True),
            timeout or self.gateway_wait_timeout,
            f"a live session holding guild {guild_id} (shard {shard} of {self.shard_count})",
        )

    def shard_sessions(self) -> dict[tuple[int, int], GatewaySession]:
        """Return the live sessions by ``(shard_id, shard_count)``."""
        return {
            conn.session.shard: conn.session
            for conn in self.connections
            if conn.live and conn.session is not None
        }

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
        """Send a DISPATCH event to the live session of the shard that holds its guild."""
        guild_id = data.get("guild_id")
        conn = await self.wait_for_shard(None if guild_id is None else int(guild_id))
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
        if not valid_shard(data.get("shard")):
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return
        session = GatewaySession(session_id=secrets.token_hex(16), identify=copy.deepcopy(data))
        self.sessions.append(session)
        conn.session = session
        held = [g for g in self.guilds.values() if session.holds(g.id)]
        ready: JSON = {
            "v": 10,
            "user": {**self.bot_user.to_payload(), "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in held],
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
        for guild in held:
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
