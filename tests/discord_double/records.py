"""What the double records: REST requests, interactions and gateway sessions."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .models import JSON, shard_of


@dataclass
class RecordedFile:
    """A file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class RecordedRequest:
    """One REST request the bot made, with its full body and the status the double answered."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    files: list[RecordedFile]
    headers: dict[str, str]
    route: str | None = None
    status: int = 0
    rejection: JSON | None = None  # the error body when the double refused the payload
    at: float = field(default_factory=time.monotonic)

    def __str__(self) -> str:
        """Return ``METHOD /path -> status``."""
        return f"{self.method} {self.path} -> {self.status}"


@dataclass(eq=False)
class InteractionHandle:
    """An interaction the double sent to the bot, and what the bot did with it."""

    id: int
    token: str
    type: int
    payload: JSON
    user_id: int
    guild_id: int | None
    channel_id: int
    label: str
    sent_at: float = 0.0
    callback: JSON | None = None
    callback_at: float | None = None
    original_message_id: int | None = None
    response_message_id: int | None = None
    source_message_id: int | None = None
    followup_message_ids: list[int] = field(default_factory=list)
    late_callbacks: int = 0

    @property
    def callback_type(self) -> int | None:
        """Return the callback type the bot answered with (None before the callback)."""
        return None if self.callback is None else int(self.callback["type"])

    @property
    def callback_latency(self) -> float | None:
        """Return seconds from sending the interaction to receiving its callback."""
        if self.callback_at is None:
            return None
        return self.callback_at - self.sent_at

    def __str__(self) -> str:
        """Return a short description for error messages."""
        return f"interaction {self.id} ({self.label}, type {self.type})"


@dataclass(eq=False)
class GatewaySession:
    """A gateway session created by one IDENTIFY (possibly resumed on later connections)."""

    session_id: str
    identify: JSON
    started_at: float = field(default_factory=time.monotonic)
    seq: int = 0
    resumes: int = 0
    events: list[str] = field(default_factory=list)

    @property
    def intents(self) -> int:
        """Return the intents the client identified with."""
        return int(self.identify.get("intents", 0))

    @property
    def shard(self) -> tuple[int, int]:
        """Return ``(shard_id, shard_count)`` of the IDENTIFY (``(0, 1)`` when unsharded)."""
        shard = self.identify.get("shard") or [0, 1]
        return int(shard[0]), int(shard[1])

    def holds(self, guild_id: int | None) -> bool:
        """Return whether Discord delivers this guild's events here (DMs: shard 0)."""
        shard_id, shard_count = self.shard
        return shard_id == shard_of(guild_id, shard_count)


@dataclass(eq=False)
class GatewayConnection:
    """One websocket connection to the double's gateway."""

    ws: web.WebSocketResponse
    request: web.Request
    opened_at: float = field(default_factory=time.monotonic)
    closed_at: float | None = None
    close_code: int | None = None
    session: GatewaySession | None = None
    ready: bool = False
    dropping: bool = False
    heartbeats: int = 0
    received: list[JSON] = field(default_factory=list)
    sent: list[JSON] = field(default_factory=list)
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def live(self) -> bool:
        """Return whether interactions can be delivered on this connection."""
        return self.ready and not self.dropping and not self.closed.is_set() and not self.ws.closed

    async def send(self, payload: JSON) -> None:
        """Send one JSON text frame (serialised with the sequence number under a lock)."""
        async with self.send_lock:
            if payload.get("op") == 0 and self.session is not None:
                self.session.seq += 1
                payload["s"] = self.session.seq
                self.session.events.append(str(payload.get("t")))
            self.sent.append(payload)
            await self.ws.send_str(json.dumps(payload))
