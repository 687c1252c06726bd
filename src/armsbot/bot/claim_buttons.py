"""The buttons of the claims that answer a search, which keep working after a restart.

``armsbot:cq:<query>:<n>`` shows page ``n`` of the claims a search answers, the query (text,
parties, filters) carried as compact JSON after ``=`` when it fits, or else as ``#`` and a hash of
it that this process remembers (a restart forgets those: the button then asks for the search
again). Anyone may press them; queries are checked as typed ones are. Discord allows 100
characters in a custom id.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import discord

from armsbot.bot import i18n
from armsbot.bot.card_pages import feed_page
from armsbot.bot.components import (
    BUTTON_LABEL_LIMIT,
    MAX_CANDIDATE_BUTTONS,
    VIEW_TIMEOUT,
    OpenEntityButton,
    respond_with_pages,
)
from armsbot.bot.markdown import escape, truncate
from armsbot.bot.replies import NO_MENTIONS, send_ephemeral
from armsbot.search.reading import AmbiguousName
from armsbot.services.claims import ClaimQuery, ClaimsAnswer
from armsbot.services.lookup import QueryError

if TYPE_CHECKING:
    from armsbot.bot.client import ArmsBot


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
