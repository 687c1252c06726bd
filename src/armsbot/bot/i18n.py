"""The command translator Discord asks for names and descriptions in each locale."""

from __future__ import annotations

import discord
from discord import app_commands

from armsbot.i18n import load_locales, text

__all__ = ["FileTranslator", "text"]


class FileTranslator(app_commands.Translator):
    """Translates command names and descriptions from ``commands/locales/*.json``."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        """The translation of ``string`` for ``locale``, or None to leave it untranslated."""
        return load_locales().get(locale.value, {}).get("commands", {}).get(string.message)
