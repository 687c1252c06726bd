"""A local Discord API double for end-to-end tests of a discord.py bot.

The unmodified discord.py client logs in to an aiohttp server on 127.0.0.1 that speaks the part
of Discord's REST API and gateway a bot uses. Point discord.py at it with
:meth:`DiscordDouble.patch_discord` (or the bot's own REST-base / gateway-URL settings) and drive
it with slash commands, autocomplete, button clicks and modal submissions.
"""

from .double import DiscordDouble
from .helpers import BOT_TASK_PREFIXES, pending_bot_tasks, wait_for_bot_tasks
from .models import (
    ALL_PERMISSIONS,
    APPLICATION_ID,
    AWAY_CHANNEL_ID,
    AWAY_GUILD_ID,
    BOT_ROLE_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    HOME_BOT_ROLE_ID,
    HOME_CHANNEL_ID,
    HOME_GUILD_ID,
    MEMBER_ID,
    MODERATOR_ID,
    MODERATOR_PERMISSIONS,
    MODERATOR_ROLE_ID,
    OUTSIDER_ID,
    OWNER_ID,
    FakeChannel,
    FakeGuild,
    FakeMember,
    FakeRole,
    FakeUser,
    PermissionOverwrite,
    default_bot_user,
    default_guild,
    default_users,
    guild_on_shard,
    second_guild,
    shard_of,
)
from .records import (
    GatewayConnection,
    GatewaySession,
    InteractionHandle,
    RecordedFile,
    RecordedRequest,
)
from .state import API_PREFIX

__all__ = [
    "ALL_PERMISSIONS",
    "API_PREFIX",
    "APPLICATION_ID",
    "AWAY_CHANNEL_ID",
    "AWAY_GUILD_ID",
    "BOT_ROLE_PERMISSIONS",
    "BOT_TASK_PREFIXES",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "HOME_BOT_ROLE_ID",
    "HOME_CHANNEL_ID",
    "HOME_GUILD_ID",
    "MEMBER_ID",
    "MODERATOR_ID",
    "MODERATOR_PERMISSIONS",
    "MODERATOR_ROLE_ID",
    "OUTSIDER_ID",
    "OWNER_ID",
    "DiscordDouble",
    "FakeChannel",
    "FakeGuild",
    "FakeMember",
    "FakeRole",
    "FakeUser",
    "GatewayConnection",
    "GatewaySession",
    "InteractionHandle",
    "PermissionOverwrite",
    "RecordedFile",
    "RecordedRequest",
    "default_bot_user",
    "default_guild",
    "default_users",
    "guild_on_shard",
    "pending_bot_tasks",
    "second_guild",
    "shard_of",
    "wait_for_bot_tasks",
]
