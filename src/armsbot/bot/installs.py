"""Where the commands can be used: the lookups anywhere a member talks, the rest in servers.

The lookup commands (and the "Look up in armsbot" message command) can be installed to a
member's own account as well as to a server (Discord's ``integration_types`` 0 and 1), and used in
servers, in the DM with the bot, and in other DMs and group DMs (``contexts`` 0, 1 and 2).
Corrections, moderation and ``/watch`` stay with the servers that added armsbot.

Outside such a server (a DM, a group DM, a server where only the member installed armsbot) an
answer is seen only by the member who asked, unless they ask to share it (the ``share`` option):
the bot speaks in other people's conversations only when someone there wants it to.
"""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

# The lookups, by their (English) names; a name the bot lacks is skipped (/claims may not exist).
ANYWHERE = ("country", "firm", "law", "search", "about", "claims", "Look up in armsbot")
INSTALLS = app_commands.AppInstallationType(guild=True, user=True)
CONTEXTS = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True)


def install_anywhere(tree: app_commands.CommandTree[Any]) -> list[str]:
    """Make the lookup commands installable to a user and usable in every context; return the
    names of those found."""
    found = []
    commands: list[app_commands.Command[Any, ..., Any] | app_commands.ContextMenu] = [
        c for c in tree.get_commands() if not isinstance(c, app_commands.Group)
    ]
    for command in commands:
        if command.name in ANYWHERE:
            command.allowed_installs = INSTALLS
            command.allowed_contexts = CONTEXTS
            found.append(command.name)
    return found


def answers_privately(interaction: discord.Interaction[Any], share: bool = False) -> bool:
    """Whether an answer is for the asking member only: outside a server that added armsbot,
    unless they asked to share it."""
    return not share and not interaction.is_guild_integration()
