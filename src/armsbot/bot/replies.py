"""How the bot answers: never a ping, and the ephemeral plain reply every part of it uses.

Its own module, below the client and the cogs, so each may import it without importing the other.
"""

from __future__ import annotations

from typing import Any

import discord

NO_MENTIONS = discord.AllowedMentions.none()


async def send_ephemeral(interaction: discord.Interaction[Any], message: str) -> None:
    """An ephemeral plain message, whether or not the interaction was already answered."""
    if interaction.response.is_done():
        await interaction.followup.send(message, ephemeral=True, allowed_mentions=NO_MENTIONS)
    else:
        await interaction.response.send_message(
            message, ephemeral=True, allowed_mentions=NO_MENTIONS
        )
