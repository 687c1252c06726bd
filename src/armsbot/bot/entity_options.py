"""The ``entry`` option of the commands that act on one entry: its autocomplete and its reading."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

import discord
from discord import app_commands

from armsbot.bot.markdown import truncate
from armsbot.search.index import Match

if TYPE_CHECKING:
    from armsbot.bot.client import ArmsBot

Interaction: TypeAlias = discord.Interaction["ArmsBot"]


def _choice_label(match: Match) -> str:
    return truncate(f"{match.name} · {match.kind.value}", 100)


async def entity_choices(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete over every kind of entity."""
    matches = interaction.client.services.index.autocomplete(current[:100], None, 25)
    return [app_commands.Choice(name=_choice_label(m), value=m.id) for m in matches]


def resolve_entity(interaction: Interaction, value: str) -> str | None:
    """An entity id from an autocomplete value or free text (None when unclear)."""
    index = interaction.client.services.index
    if index.entity_kind(value) is not None:
        return value
    chosen = index.resolve(value[:100]).chosen
    return chosen.id if chosen else None
