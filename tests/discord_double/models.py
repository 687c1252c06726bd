"""Configurable Discord state for the double: users, roles, channels, guilds, permissions."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import discord

JSON = dict[str, Any]

DISCORD_EPOCH_MS = 1_420_070_400_000

#: Every permission bit discord.py knows about (what an owner or administrator gets).
ALL_PERMISSIONS: int = discord.Permissions.all().value
ADMINISTRATOR: int = discord.Permissions(administrator=True).value

#: What @everyone may do in the default guild: talk, read, react and use slash commands.
DEFAULT_EVERYONE_PERMISSIONS: int = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    read_message_history=True,
    embed_links=True,
    attach_files=True,
    add_reactions=True,
    use_external_emojis=True,
    use_application_commands=True,
    change_nickname=True,
    create_instant_invite=True,
    connect=True,
    speak=True,
).value

#: The default "Moderator" role: message and member moderation, no administrator bit.
MODERATOR_PERMISSIONS: int = discord.Permissions(
    manage_messages=True,
    manage_threads=True,
    kick_members=True,
    ban_members=True,
    moderate_members=True,
    mute_members=True,
    manage_nicknames=True,
    view_audit_log=True,
).value

#: The bot's managed role (what an invite URL with sensible scopes would grant).
BOT_ROLE_PERMISSIONS: int = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
    use_external_emojis=True,
).value

# Fixed, readable ids so tests can name things without looking them up.
APPLICATION_ID = 1_100_000_000_000_000_001  # also the bot user's id, as for modern apps
OWNER_ID = 1_100_000_000_000_000_002
MODERATOR_ID = 1_100_000_000_000_000_003
MEMBER_ID = 1_100_000_000_000_000_004
OUTSIDER_ID = 1_100_000_000_000_000_005

HOME_GUILD_ID = 1_100_000_000_000_000_100
HOME_CHANNEL_ID = 1_100_000_000_000_000_101
MODERATOR_ROLE_ID = 1_100_000_000_000_000_102
HOME_BOT_ROLE_ID = 1_100_000_000_000_000_103

AWAY_GUILD_ID = 1_100_000_000_000_000_200
AWAY_CHANNEL_ID = 1_100_000_000_000_000_201
AWAY_BOT_ROLE_ID = 1_100_000_000_000_000_203

JOINED_AT = "2024-01-01T00:00:00.000000+00:00"


class SnowflakeFactory:
    """Makes unique, increasing snowflakes whose timestamp part is the current time."""

    def __init__(self) -> None:
        """Start the per-process increment at 1."""
        self._counter = itertools.count(1)

    def __call__(self) -> int:
        """Return a new snowflake."""
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (next(self._counter) & 0x3FFFFF)


@dataclass
class FakeUser:
    """A Discord user (or bot account)."""

    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None
    discriminator: str = "0"

    def to_payload(self) -> JSON:
        """Return the user object as Discord sends it."""
        return {
            "id": str(self.id),
            "username": self.username,
            "discriminator": self.discriminator,
            "global_name": self.global_name,
            "avatar": self.avatar,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
        }


@dataclass
class FakeRole:
    """A guild role; the @everyone role has the guild's id."""

    id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False

    def to_payload(self) -> JSON:
        """Return the role object as Discord sends it."""
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }


@dataclass
class PermissionOverwrite:
    """A channel permission overwrite; type 0 is a role, type 1 a member."""

    id: int
    type: int = 0
    allow: int = 0
    deny: int = 0

    def to_payload(self) -> JSON:
        """Return the overwrite object as Discord sends it."""
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class FakeChannel:
    """A guild channel (type 0 text, 2 voice, 4 category, 5 news, 15 forum)."""

    id: int
    name: str
    type: int = 0
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    nsfw: bool = False
    overwrites: list[PermissionOverwrite] = field(default_factory=list)

    def to_payload(self, guild_id: int | None = None) -> JSON:
        """Return the channel object as Discord sends it (with ``guild_id`` when given)."""
        payload: JSON = {
            "id": str(self.id),
            "type": self.type,
            "name": self.name,
            "position": self.position,
            "topic": self.topic,
            "parent_id": str(self.parent_id) if self.parent_id is not None else None,
            "nsfw": self.nsfw,
            "permission_overwrites": [o.to_payload() for o in self.overwrites],
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0,
        }
        if guild_id is not None:
            payload["guild_id"] = str(guild_id)
        return payload


@dataclass
class FakeMember:
    """A guild member: a user plus the ids of their roles (without @everyone)."""

    user: FakeUser
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = JOINED_AT

    def to_payload(self, *, with_user: bool = True) -> JSON:
        """Return the member object as Discord sends it."""
        payload: JSON = {
            "roles": [str(r) for r in self.role_ids],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            payload["user"] = self.user.to_payload()
        return payload


@dataclass
class FakeGuild:
    """A guild with its channels, roles and members; @everyone is added if missing."""

    id: int
    name: str
    owner_id: int
    channels: list[FakeChannel] = field(default_factory=list)
    roles: list[FakeRole] = field(default_factory=list)
    members: list[FakeMember] = field(default_factory=list)
    preferred_locale: str = "en-US"
    features: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Make sure the @everyone role (id == guild id) exists."""
        if self.role(self.id) is None:
            everyone = FakeRole(self.id, "@everyone", DEFAULT_EVERYONE_PERMISSIONS)
            self.roles.insert(0, everyone)

    @property
    def everyone(self) -> FakeRole:
        """Return the @everyone role."""
        role = self.role(self.id)
        assert role is not None
        return role

    def role(self, role_id: int) -> FakeRole | None:
        """Return the role with this id, if any."""
        return next((r for r in self.roles if r.id == role_id), None)

    def channel(self, channel_id: int) -> FakeChannel | None:
        """Return the channel with this id, if any."""
        return next((c for c in self.channels if c.id == channel_id), None)

    def member(self, user_id: int) -> FakeMember | None:
        """Return the member with this user id, if any."""
        return next((m for m in self.members if m.user.id == user_id), None)

    def default_channel(self) -> FakeChannel:
        """Return the first text channel (where interactions happen by default)."""
        for channel in self.channels:
            if channel.type in (0, 5):
                return channel
        msg = f"guild {self.name!r} has no text channel"
        raise AssertionError(msg)

    def base_permissions(self, member: FakeMember) -> int:
        """Compute guild-level permissions from @everyone and the member's roles."""
        if member.user.id == self.owner_id:
            return ALL_PERMISSIONS
        perms = self.everyone.permissions
        for role_id in member.role_ids:
            role = self.role(role_id)
            if role is not None:
                perms |= role.permissions
        if perms & ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def channel_permissions(self, member: FakeMember, channel: FakeChannel | None) -> int:
        """Compute the member's permissions in a channel, overwrites included."""
        perms = self.base_permissions(member)
        if channel is None or perms & ADMINISTRATOR or perms == ALL_PERMISSIONS:
            return perms
        overwrites = {(o.type, o.id): o for o in channel.overwrites}
        everyone = overwrites.get((0, self.id))
        if everyone is not None:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in member.role_ids:
            ow = overwrites.get((0, role_id))
            if ow is not None:
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        own = overwrites.get((1, member.user.id))
        if own is not None:
            perms = (perms & ~own.deny) | own.allow
        return perms

    def to_payload(self, *, include_members: bool = True, bot_user_id: int | None = None) -> JSON:
        """Return the GUILD_CREATE payload; without the members intent only the bot is listed."""
        members = self.members
        if not include_members:
            members = [m for m in self.members if m.user.id == bot_user_id]
        return {
            "id": str(self.id),
            "name": self.name,
            "owner_id": str(self.owner_id),
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "afk_timeout": 300,
            "afk_channel_id": None,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": self.preferred_locale,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "features": list(self.features),
            "roles": [r.to_payload() for r in self.roles],
            "emojis": [],
            "stickers": [],
            "channels": [c.to_payload() for c in self.channels],
            "threads": [],
            "members": [m.to_payload() for m in members],
            "member_count": len(self.members),
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "joined_at": JOINED_AT,
            "large": False,
            "unavailable": False,
            "lazy": True,
        }


def default_bot_user() -> FakeUser:
    """Return the bot account of the default application."""
    return FakeUser(APPLICATION_ID, "ArmsBot", bot=True)


def default_users() -> dict[str, FakeUser]:
    """Return the default human users: owner, moderator, member, outsider (in no guild)."""
    return {
        "owner": FakeUser(OWNER_ID, "owner", "Owner"),
        "moderator": FakeUser(MODERATOR_ID, "mod", "Moderator Mo"),
        "member": FakeUser(MEMBER_ID, "member", "Member Mia"),
        "outsider": FakeUser(OUTSIDER_ID, "outsider", "Outsider Oli"),
    }


def default_guild(bot_user: FakeUser | None = None) -> FakeGuild:
    """Return guild "Home": #general, @everyone, Moderator, a moderator, a member, the bot."""
    bot = bot_user or default_bot_user()
    users = default_users()
    return FakeGuild(
        id=HOME_GUILD_ID,
        name="Home",
        owner_id=OWNER_ID,
        channels=[FakeChannel(HOME_CHANNEL_ID, "general", topic="General chat")],
        roles=[
            FakeRole(HOME_GUILD_ID, "@everyone", DEFAULT_EVERYONE_PERMISSIONS),
            FakeRole(MODERATOR_ROLE_ID, "Moderator", MODERATOR_PERMISSIONS, position=2, hoist=True),
            FakeRole(
                HOME_BOT_ROLE_ID, bot.username, BOT_ROLE_PERMISSIONS, position=1, managed=True
            ),
        ],
        members=[
            FakeMember(users["owner"]),
            FakeMember(users["moderator"], [MODERATOR_ROLE_ID]),
            FakeMember(users["member"]),
            FakeMember(bot, [HOME_BOT_ROLE_ID]),
        ],
    )


def second_guild(bot_user: FakeUser | None = None) -> FakeGuild:
    """Return guild "Away" (German locale): #lobby, the owner, the member and the bot."""
    bot = bot_user or default_bot_user()
    users = default_users()
    return FakeGuild(
        id=AWAY_GUILD_ID,
        name="Away",
        owner_id=OWNER_ID,
        preferred_locale="de",
        channels=[FakeChannel(AWAY_CHANNEL_ID, "lobby")],
        roles=[
            FakeRole(AWAY_GUILD_ID, "@everyone", DEFAULT_EVERYONE_PERMISSIONS),
            FakeRole(
                AWAY_BOT_ROLE_ID, bot.username, BOT_ROLE_PERMISSIONS, position=1, managed=True
            ),
        ],
        members=[
            FakeMember(users["owner"]),
            FakeMember(users["member"]),
            FakeMember(bot, [AWAY_BOT_ROLE_ID]),
        ],
    )


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """Return the shard Discord routes a guild to: ``(guild_id >> 22) % shard_count``; DMs: 0."""
    return 0 if guild_id is None else (guild_id >> 22) % shard_count


def guild_on_shard(shard: int, shard_count: int, bot_user: FakeUser | None = None) -> FakeGuild:
    """Return a guild Discord routes to ``shard`` of ``shard_count``: #general, the owner, the
    member and the bot (ids after the home guild's, never the home guild's own)."""
    guild_id = HOME_GUILD_ID + (1 << 22)
    while shard_of(guild_id, shard_count) != shard:
        guild_id += 1 << 22
    users = default_users()
    return FakeGuild(
        id=guild_id,
        name=f"Shard {shard}",
        owner_id=OWNER_ID,
        channels=[FakeChannel(guild_id + 1, "general")],
        roles=[FakeRole(guild_id, "@everyone", DEFAULT_EVERYONE_PERMISSIONS)],
        members=[
            FakeMember(users["owner"]),
            FakeMember(users["member"]),
            FakeMember(bot_user or default_bot_user()),
        ],
    )
