"""Buttons that keep working after a restart: their state lives in the custom id, not in memory.

Custom ids: ``armsbot:open:<entity id>`` opens an entity's card in place of the message, and
``armsbot:card:<entity id>`` opens it for the clicker only; ``armsbot:page:<entity id>:<n>``
shows page ``n`` of it; ``armsbot:hist:<entity id>:<n>`` page ``n`` of its history (the buttons
of the claims a search answers are in :mod:`armsbot.bot.claim_buttons`). All only read, so
anyone may press them; ids are checked as typed ones are, so a crafted id shows at most "no
longer in the knowledge base". Discord allows 100 characters in a custom id.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Self

import discord

from armsbot.bot import i18n
from armsbot.bot.card_pages import feed_page
from armsbot.bot.embeds import Page, history_pages
from armsbot.bot.markdown import truncate
from armsbot.bot.replies import NO_MENTIONS, send_ephemeral
from armsbot.search.index import Match

if TYPE_CHECKING:
    from armsbot.bot.client import ArmsBot
ENTITY_ID = r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*"
BUTTON_LABEL_LIMIT = 80
MAX_CANDIDATE_BUTTONS = 10
VIEW_TIMEOUT = None  # persistent: dynamic items are re-created from their custom ids


class OpenEntityButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"armsbot:open:(?P<id>{ENTITY_ID})"
):
    """Opens one entity's card in place of the message that holds the button."""

    action = "open"  # the custom id's second part, as in the template

    def __init__(self, entity_id: str, label: str) -> None:
        super().__init__(
            discord.ui.Button(
                label=truncate(label, BUTTON_LABEL_LIMIT),
                style=discord.ButtonStyle.secondary,
                custom_id=f"armsbot:{self.action}:{entity_id}",
            )
        )
        self.entity_id = entity_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        """Rebuild the button from a click, after a restart too."""
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(match["id"], label or match["id"])

    async def callback(self, interaction: discord.Interaction[ArmsBot]) -> None:  # type: ignore[override]
        """Replace the message with the entity's card."""
        await show_card_page(interaction, self.entity_id, 0, edit=True)


class CardButton(OpenEntityButton, template=rf"armsbot:card:(?P<id>{ENTITY_ID})"):
    """Opens one entity's card for the member who clicks, leaving the message as it is (a watch
    notice, a list of what a message names)."""

    action = "card"

    async def callback(self, interaction: discord.Interaction[ArmsBot]) -> None:  # type: ignore[override]
        """Answer with the card, for the clicker's eyes only."""
        await show_card_page(interaction, self.entity_id, 0, edit=False, ephemeral=True)


CARD_PAGES = "page"
HISTORY_PAGES = "hist"


class PageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"armsbot:(?P<kind>page|hist):(?P<id>{ENTITY_ID}):(?P<page>\d{{1,3}})",
):
    """Turns to another page of a card (kind ``page``) or of an entry's history (``hist``)."""

    def __init__(
        self,
        entity_id: str,
        page: int,
        label: str,
        *,
        disabled: bool = False,
        kind: str = CARD_PAGES,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.primary,
                custom_id=f"armsbot:{kind}:{entity_id}:{page}",
                disabled=disabled,
            )
        )
        self.entity_id = entity_id
        self.page = page
        self.kind = kind

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> PageButton:
        """Rebuild the button from a click, after a restart too."""
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(match["id"], int(match["page"]), label or "", kind=match["kind"])

    async def callback(self, interaction: discord.Interaction[ArmsBot]) -> None:  # type: ignore[override]
        """Show the page this button points at."""
        if self.kind == HISTORY_PAGES:
            await show_history(interaction, self.entity_id, self.page, edit=True)
        else:
            await show_card_page(interaction, self.entity_id, self.page, edit=True)


def pager(
    entity_id: str, page: int, total: int | None, locale: discord.Locale, kind: str = CARD_PAGES
) -> discord.ui.View | None:
    """Previous / next buttons for page ``page`` (0-based) of ``total`` (None: more follow, how
    many is not known yet), or None for one page."""
    if total is not None and total <= 1:
        return None
    # Custom ids must be distinct and valid even on a disabled button, so clamp them.
    last = page + 1 if total is None else total - 1
    previous, following = max(page - 1, 0), min(page + 1, last)
    view = discord.ui.View(timeout=VIEW_TIMEOUT)
    back = f"◀ {i18n.text('page.previous', locale)}"
    forward = f"{i18n.text('page.next', locale)} ▶"
    view.add_item(PageButton(entity_id, previous, back, disabled=page == 0, kind=kind))
    view.add_item(PageButton(entity_id, following, forward, disabled=page >= last, kind=kind))
    return view


def candidate_buttons(matches: list[Match]) -> discord.ui.View:
    """One button per candidate entity ("did you mean")."""
    view = discord.ui.View(timeout=VIEW_TIMEOUT)
    for match in matches[:MAX_CANDIDATE_BUTTONS]:
        view.add_item(OpenEntityButton(match.id, f"{match.name} ({match.kind.value})"))
    return view


async def respond_with_pages(
    interaction: discord.Interaction[ArmsBot],
    pages: list[Page],
    page: int,
    view: discord.ui.View | None,
    *,
    edit: bool,
    ephemeral: bool = False,
) -> None:
    """Send or edit the interaction's message to show one page (a new one only to the member
    who asked, with ``ephemeral``)."""
    embed = pages[page].embed()
    if edit:
        await interaction.response.edit_message(content=None, embed=embed, view=view)
    else:
        kwargs: dict[str, Any] = {
            "embed": embed,
            "allowed_mentions": NO_MENTIONS,
            "ephemeral": ephemeral,
        }
        if view is not None:
            kwargs["view"] = view
        await interaction.response.send_message(**kwargs)


async def show_card_page(
    interaction: discord.Interaction[ArmsBot],
    entity_id: str,
    page: int,
    *,
    edit: bool,
    ephemeral: bool = False,
) -> None:
    """Answer with page ``page`` of an entity's card (its id checked against the knowledge base).

    Only that page is made: the card's claims are read as far as it reaches.
    """
    feed = await interaction.client.services.lookup.card_feed(entity_id)
    if feed is None:
        await send_ephemeral(interaction, i18n.text("gone", interaction.locale))
        return
    shown, page, total = await feed_page(feed, page)
    view = pager(entity_id, page, total, interaction.locale)
    await respond_with_pages(interaction, [shown], 0, view, edit=edit, ephemeral=ephemeral)


async def show_history(
    interaction: discord.Interaction[ArmsBot], entity_id: str, page: int, *, edit: bool
) -> None:
    """Answer with page ``page`` of an entry's revisions, and the buttons to turn its pages."""
    services = interaction.client.services
    if services.index.entity_kind(entity_id) is None:
        await send_ephemeral(interaction, i18n.text("gone", interaction.locale))
        return
    revisions = await services.corrections.history(entity_id)
    name = services.index.entity_name(entity_id) or entity_id
    pages = history_pages(name, revisions, i18n.text("history.empty", interaction.locale))
    page = max(0, min(page, len(pages) - 1))
    view = pager(entity_id, page, len(pages), interaction.locale, HISTORY_PAGES)
    await respond_with_pages(interaction, pages, page, view, edit=edit)
