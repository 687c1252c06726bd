"""Which servers this process's shards hold: Discord sends a server's events to one shard only."""

from __future__ import annotations

import discord


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends a server's events to."""
    return (guild_id >> 22) % shard_count


def holds_guild(client: discord.AutoShardedClient, guild_id: int) -> bool:
    """Whether a shard of this process holds the server (all of them when it runs every shard)."""
    if client.shard_ids is None or client.shard_count is None:
        return True
    return shard_of(guild_id, client.shard_count) in client.shard_ids
