"""Every button that keeps working after a restart, for the client to register in one call.

Each is a ``DynamicItem``: its state lives in its custom id, so a click is handled whether or not
this process made the message.
"""

from __future__ import annotations

from typing import Any

import discord

from armsbot.bot.claim_buttons import ClaimsButton
from armsbot.bot.cogs.corrections.own import WithdrawButton
from armsbot.bot.cogs.corrections.review_posts import ReviewButton
from armsbot.bot.components import CardButton, OpenEntityButton, PageButton

# The lookup buttons: they only read, so anyone may press them.
LOOKUP_BUTTONS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (
    OpenEntityButton,
    CardButton,
    PageButton,
    ClaimsButton,
)
# The correction buttons: each checks who clicks before it changes anything.
CORRECTION_BUTTONS: tuple[type[discord.ui.DynamicItem[Any]], ...] = (ReviewButton, WithdrawButton)
DYNAMIC_ITEMS = (*LOOKUP_BUTTONS, *CORRECTION_BUTTONS)
