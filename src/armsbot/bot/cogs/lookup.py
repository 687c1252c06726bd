"""Lookup commands: /country, /firm, /law, /search and /about."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.app_commands import locale_str as _
from discord.ext import commands

from armsbot.bot import i18n
from armsbot.bot.card_pages import card_pages
from armsbot.bot.claim_buttons import show_claims
from armsbot.bot.components import OpenEntityButton, candidate_buttons, show_card_page
from armsbot.bot.embeds import FIELD_VALUE_LIMIT
from armsbot.bot.installs import answers_privately
from armsbot.bot.markdown import escape, truncate
from armsbot.bot.replies import NO_MENTIONS, send_ephemeral
from armsbot.imports.status import dataset_statuses
from armsbot.models import Category, Kind
from armsbot.search.index import Match
from armsbot.services.claims import MAX_YEAR, MIN_YEAR, ClaimQuery, wants_claims
from armsbot.services.lookup import MAX_QUERY_LENGTH, QueryError

if TYPE_CHECKING:
    from armsbot.bot.client import ArmsBot

log = logging.getLogger("armsbot.bot.lookup")

CHOICE_NAME_LIMIT = 100
AUTOCOMPLETE_LIMIT = 25
SEARCH_BUTTONS = 10

Interaction = discord.Interaction["ArmsBot"]
Name = app_commands.Range[str, 1, MAX_QUERY_LENGTH]
# The lookups work outside servers too (armsbot.bot.installs), where answers are private unless
# the member shares them.
SHARE = _("share")
SHARE_HELP = _(
    "Show the answer to everyone here (outside servers that added armsbot, it is private)"
)
Year = app_commands.Range[int, MIN_YEAR, MAX_YEAR]
# Statuses a search may ask for; a choice's value lists them, comma-separated.
STATUS_CHOICES = [
    ("confirmed", "confirmed"),
    ("reported", "reported"),
    ("alleged", "alleged"),
    ("denied", "denied"),
    ("confirmed or reported", "confirmed,reported"),
]


def choice_label(match: Match) -> str:
    """What an autocomplete choice shows: the canonical name, a kind hint, the alias typed."""
    hint = match.kind.value if match.kind is not Kind.COUNTRY else f"country, {match.id}"
    label = f"{match.name} · {hint}"
    if match.matched != match.name:
        label += f" · “{match.matched}”"
    return truncate(label, CHOICE_NAME_LIMIT)


class LookupCog(commands.Cog):
    """Answers from the knowledge base."""

    def __init__(self, bot: ArmsBot) -> None:
        self.bot = bot

    async def _lookup(self, interaction: Interaction, kind: Kind, name: str, share: bool) -> None:
        private = answers_privately(interaction, share)
        try:
            cleaned, chosen, candidates = self.bot.services.lookup.choose(kind, name)
        except QueryError as exc:
            await send_ephemeral(interaction, i18n.text(exc.key, interaction.locale, **exc.params))
            return
        if chosen is not None:
            await show_card_page(interaction, chosen, 0, edit=False, ephemeral=private)
            return
        query = escape(truncate(cleaned, 80))
        if not candidates:
            await send_ephemeral(
                interaction, i18n.text("error.not_found", interaction.locale, query=query)
            )
            return
        await interaction.response.send_message(
            i18n.text("did_you_mean", interaction.locale, query=query),
            view=candidate_buttons(candidates),
            allowed_mentions=NO_MENTIONS,
            ephemeral=private,
        )

    async def _complete(self, kind: Kind | None, current: str) -> list[app_commands.Choice[str]]:
        matches = self.bot.services.index.autocomplete(
            current[:MAX_QUERY_LENGTH], kind, AUTOCOMPLETE_LIMIT
        )
        return [app_commands.Choice(name=choice_label(m), value=m.id) for m in matches]

    @app_commands.command(
        name=_("country"),
        description=_(
            "What is known about a country: arms and surveillance bought, embargoes, cases"
        ),
    )
    @app_commands.rename(name=_("name"), share=SHARE)
    @app_commands.describe(
        name=_("A country's name in any language, or its ISO code"), share=SHARE_HELP
    )
    async def country(self, interaction: Interaction, name: Name, share: bool = False) -> None:
        """Look up a country."""
        await self._lookup(interaction, Kind.COUNTRY, name, share)

    @country.autocomplete("name")
    async def _country_names(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._complete(Kind.COUNTRY, current)

    @app_commands.command(
        name=_("firm"),
        description=_("What is known about a firm: what it sold to whom, listings, court cases"),
    )
    @app_commands.rename(name=_("name"), share=SHARE)
    @app_commands.describe(name=_("A firm's name, former name or product"), share=SHARE_HELP)
    async def firm(self, interaction: Interaction, name: Name, share: bool = False) -> None:
        """Look up a firm."""
        await self._lookup(interaction, Kind.FIRM, name, share)

    @firm.autocomplete("name")
    async def _firm_names(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._complete(Kind.FIRM, current)

    @app_commands.command(
        name=_("law"),
        description=_("A law, ruling, bill, embargo or listing on arms and surveillance exports"),
    )
    @app_commands.rename(name=_("name"), share=SHARE)
    @app_commands.describe(name=_("The instrument's name or abbreviation"), share=SHARE_HELP)
    async def law(self, interaction: Interaction, name: Name, share: bool = False) -> None:
        """Look up a law or legal instrument."""
        await self._lookup(interaction, Kind.LAW, name, share)

    @law.autocomplete("name")
    async def _law_names(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await self._complete(Kind.LAW, current)

    @app_commands.command(
        name=_("search"),
        description=_("Search by names and words: the claims that link them, or the entries"),
    )
    @app_commands.rename(
        query=_("query"),
        kind=_("kind"),
        status=_("status"),
        category=_("category"),
        since=_("since"),
        until=_("until"),
        product=_("product"),
        share=SHARE,
    )
    @app_commands.describe(
        query=_("Names and words, such as NSO Morocco or israeli drones"),
        kind=_("Only this kind"),
        status=_("Only claims with this status"),
        category=_("What kind of claim"),
        since=_("Claims from this year on"),
        until=_("Claims up to this year"),
        product=_("Words of the product's name"),
        share=SHARE_HELP,
    )
    @app_commands.choices(
        kind=[
            app_commands.Choice(name=_("country"), value="country"),
            app_commands.Choice(name=_("firm"), value="firm"),
            app_commands.Choice(name=_("law"), value="law"),
        ],
        status=[app_commands.Choice(name=_(name), value=value) for name, value in STATUS_CHOICES],
        category=[app_commands.Choice(name=_(c.value), value=c.value) for c in Category],
    )
    async def search(  # noqa: PLR0917 - one parameter per option Discord shows
        self,
        interaction: Interaction,
        query: Name,
        kind: app_commands.Choice[str] | None = None,
        status: app_commands.Choice[str] | None = None,
        category: app_commands.Choice[str] | None = None,
        since: Year | None = None,
        until: Year | None = None,
        product: Name | None = None,
        share: bool = False,
    ) -> None:
        """The claims that link the names in a query, or what matches a single name."""
        locale = interaction.locale
        private = answers_privately(interaction, share)
        try:
            asked = ClaimQuery.make(
                query,
                statuses=status.value.split(",") if status else (),
                category=category.value if category else None,
                since=since,
                until=until,
                product=product,
                kind=kind.value if kind else None,
            )
        except QueryError as exc:
            await send_ephemeral(interaction, i18n.text(exc.key, locale, **exc.params))
            return
        answer = await self.bot.services.claims.answer(asked)
        if wants_claims(answer):
            await show_claims(interaction, asked, 0, edit=False, answer=answer, ephemeral=private)
            return
        await self._entities(interaction, query, Kind(kind.value) if kind else None, private)

    async def _entities(
        self, interaction: Interaction, query: str, kind: Kind | None, private: bool
    ) -> None:
        """What one name matches, a button for each."""
        lookup = self.bot.services.lookup
        try:
            matches = lookup.search(query, kind, SEARCH_BUTTONS)
        except QueryError as exc:
            await send_ephemeral(interaction, i18n.text(exc.key, interaction.locale, **exc.params))
            return
        if not matches:
            shown = escape(truncate(query.strip(), 80))
            await send_ephemeral(
                interaction, i18n.text("search.nothing", interaction.locale, query=shown)
            )
            return
        card = lookup.search_card(query, kind, SEARCH_BUTTONS)
        view = discord.ui.View(timeout=None)
        for match in matches:
            view.add_item(OpenEntityButton(match.id, f"{match.name} ({match.kind.value})"))
        await interaction.response.send_message(
            embed=card_pages(card)[0].embed(),
            view=view,
            allowed_mentions=NO_MENTIONS,
            ephemeral=private,
        )

    @app_commands.command(
        name=_("about"), description=_("What armsbot is and where its data comes from")
    )
    @app_commands.rename(share=SHARE)
    @app_commands.describe(share=SHARE_HELP)
    async def about(self, interaction: Interaction, share: bool = False) -> None:
        """Describe the bot and its knowledge base."""
        counts = await self.bot.services.kb.count()
        locale = interaction.locale
        embed = discord.Embed(
            title=i18n.text("about.title", locale),
            description=i18n.text("about.body", locale),
            colour=discord.Colour.dark_grey(),
        )
        figures = {
            key: counts.get(key, 0) for key in ("country", "firm", "law", "claims", "sources")
        }
        embed.add_field(
            name=i18n.text("about.figures", locale),
            value=i18n.text("about.figures.value", locale, **figures),
            inline=False,
        )
        embed.add_field(
            name=i18n.text("about.data", locale),
            value=i18n.text("about.data.value", locale),
            inline=False,
        )
        datasets = [
            i18n.text(
                "about.datasets.line",
                locale,
                name=escape(s.last_import.name),
                records=s.last_import.records_read,
                claims=s.last_import.claims,
                firms=s.firms,
                left_out=s.left_out,
            )
            for s in await dataset_statuses(self.bot.services.kb)
        ]
        if datasets:  # the same counts as `armsbot db datasets`
            embed.add_field(
                name=i18n.text("about.datasets", locale),
                value=truncate("\n".join(datasets), FIELD_VALUE_LIMIT),
                inline=False,
            )
        embed.add_field(
            name=i18n.text("about.contribute", locale),
            value=i18n.text("about.contribute.value", locale),
            inline=False,
        )
        if self.bot.settings.project_url:
            embed.url = self.bot.settings.project_url
        await interaction.response.send_message(
            embed=embed,
            allowed_mentions=NO_MENTIONS,
            ephemeral=answers_privately(interaction, share),
        )
