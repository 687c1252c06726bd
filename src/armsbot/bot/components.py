"""Buttons that keep working after a restart: their state lives in the custom id, not in memory.

Custom ids: ``armsbot:open:<entity id>`` opens an entity's card in place of the message, and
``armsbot:card:<entity id>`` opens it for the clicker only; ``armsbot:page:<entity id>:<n>``
shows page ``n`` of it; ``armsbot:hist:<entity id>:<n>`` page ``n`` of its history;
``armsbot:cq:<query>:<n>`` page ``n`` of the claims a search answers, the query (text, parties,
filters) carried as compact JSON after ``=`` when it fits, or else as ``#`` and a hash of it that
this process remembers (a restart forgets those: the button then asks for the search again). All
only read, so anyone may press them; ids and queries are checked as typed ones are, so a crafted
id shows at most "no longer in the knowledge base". Discord allows 100 characters in a custom id.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Self

import discord

from armsbot.bot import i18n
from armsbot.bot.client import NO_MENTIONS, send_ephemeral
from armsbot.bot.embeds import Page, feed_page, history_pages
from armsbot.bot.markdown import escape, truncate
from armsbot.search.index import Match
from armsbot.search.reading import AmbiguousName
from armsbot.services.claims import ClaimQuery, ClaimsAnswer
from armsbot.services.lookup import QueryError

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


# -- claims that answer a search ------------------------------------------------------------

CLAIMS_PREFIX = "armsbot:cq:"
CUSTOM_ID_LIMIT = 100
KEPT_QUERIES = 20_000  # queries too long for a custom id, remembered by this process
_kept: OrderedDict[str, str] = OrderedDict()


def query_payload(query: ClaimQuery) -> str:
    """What a claims button carries for ``query``: its state, or a key to it when too long."""
    state = query.state()
    if len(f"{CLAIMS_PREFIX}={state}:999") <= CUSTOM_ID_LIMIT:
        return f"={state}"
    digest = hashlib.sha256(state.encode("utf-8")).digest()
    key = "#" + base64.b32encode(digest).decode("ascii")[:20].lower()
    _kept[key] = state
    _kept.move_to_end(key)
    while len(_kept) > KEPT_QUERIES:
        _kept.popitem(last=False)
    return key


def query_of(payload: str) -> ClaimQuery | None:
    """The query a claims button carries; None when it is a key this process does not know.

    A payload that is not a valid query (crafted) raises ValueError.
    """
    if payload.startswith("#"):
        state = _kept.get(payload)
        if state is None:
            return None
    else:
        state = payload.removeprefix("=")
    return ClaimQuery.from_state(state)


class ClaimsButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"armsbot:cq:(?P<payload>[=#].{1,90}):(?P<page>\d{1,3})",
):
    """Shows a page of the claims that answer a query (or the claims once a name is chosen)."""

    def __init__(
        self,
        payload: str,
        page: int,
        label: str,
        *,
        disabled: bool = False,
        style: discord.ButtonStyle = discord.ButtonStyle.primary,
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=truncate(label, BUTTON_LABEL_LIMIT),
                style=style,
                custom_id=f"{CLAIMS_PREFIX}{payload}:{page}",
                disabled=disabled,
            )
        )
        self.payload = payload
        self.page = page

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> ClaimsButton:
        """Rebuild the button from a click, after a restart too."""
        label = item.label if isinstance(item, discord.ui.Button) else None
        return cls(match["payload"], int(match["page"]), label or "")

    async def callback(self, interaction: discord.Interaction[ArmsBot]) -> None:  # type: ignore[override]
        """Show the page of claims this button points at."""
        locale = interaction.locale
        try:
            query = query_of(self.payload)
        except (ValueError, QueryError):
            await send_ephemeral(interaction, i18n.text("error.crafted", locale))
            return
        if query is None:
            await send_ephemeral(interaction, i18n.text("claims.expired", locale))
            return
        await show_claims(interaction, query, self.page, edit=True)


def _claims_pager(
    payload: str, page: int, total: int | None, locale: discord.Locale
) -> list[discord.ui.Item[Any]]:
    if total is not None and total <= 1:
        return []
    last = page + 1 if total is None else total - 1
    back = f"◀ {i18n.text('page.previous', locale)}"
    forward = f"{i18n.text('page.next', locale)} ▶"
    return [
        ClaimsButton(payload, max(page - 1, 0), back, disabled=page == 0),
        ClaimsButton(payload, min(page + 1, last), forward, disabled=page >= last),
    ]


def choice_buttons(query: ClaimQuery, choice: AmbiguousName) -> discord.ui.View:
    """One button per entity an ambiguous name may mean, each showing the claims with it."""
    view = discord.ui.View(timeout=VIEW_TIMEOUT)
    for match in choice.candidates[:MAX_CANDIDATE_BUTTONS]:
        payload = query_payload(query.choosing(choice, match.id))
        label = f"{match.name} ({match.kind.value})"
        view.add_item(ClaimsButton(payload, 0, label, style=discord.ButtonStyle.secondary))
    return view


async def show_claims(
    interaction: discord.Interaction[ArmsBot],
    query: ClaimQuery,
    page: int,
    *,
    edit: bool,
    answer: ClaimsAnswer | None = None,
    ephemeral: bool = False,
) -> None:
    """Answer with page ``page`` of the claims ``query`` asks for, or the names to choose from.

    The page says how the query was read; when no claim links the entities, it says so and
    offers each one's card.
    """
    claims = interaction.client.services.claims
    locale = interaction.locale
    if answer is None:
        answer = await claims.answer(query)
    if answer.ambiguous:
        choice = answer.ambiguous[0]
        said = escape(truncate(choice.said, 80))
        content = i18n.text("claims.choose", locale, name=said)
        choices = choice_buttons(query, choice)
        if edit:
            await interaction.response.edit_message(content=content, embed=None, view=choices)
        else:
            await interaction.response.send_message(
                content, view=choices, allowed_mentions=NO_MENTIONS, ephemeral=ephemeral
            )
        return
    shown, page, total = await feed_page(claims.feed(answer), page)
    items = _claims_pager(query_payload(query), page, total, locale)
    if answer.total == 0:
        items += [
            OpenEntityButton(e.id, f"{e.name} ({e.kind.value})") for e in answer.entities[:10]
        ]
    view: discord.ui.View | None = None
    if items:
        view = discord.ui.View(timeout=VIEW_TIMEOUT)
        for item in items:
            view.add_item(item)
    await respond_with_pages(interaction, [shown], 0, view, edit=edit, ephemeral=ephemeral)


DYNAMIC_ITEMS = (OpenEntityButton, CardButton, PageButton, ClaimsButton)
