"""Corrections on Discord, one cog per thing members do.

Submitting (/correct, /propose), their own corrections (/mycorrections, which can withdraw a
pending one), history and revert (/history, /revert), reviewing (/review and the buttons on
review posts) and server settings (/config). Thin by design: forms become a ``Submission`` in
:mod:`armsbot.services.correction_forms`, buttons and commands become service calls, and every
moderation path checks the user's privilege on the server side first.
"""

from __future__ import annotations

from armsbot.bot.cogs.corrections.history import HistoryCog
from armsbot.bot.cogs.corrections.own import OwnCorrectionsCog
from armsbot.bot.cogs.corrections.reviewing import ReviewingCog
from armsbot.bot.cogs.corrections.server_settings import ServerSettingsCog
from armsbot.bot.cogs.corrections.submitting import SubmittingCog

# In the order their commands are registered (and listed in commands/commands.json).
CORRECTION_COGS = (SubmittingCog, OwnCorrectionsCog, HistoryCog, ReviewingCog, ServerSettingsCog)
