"""Translations of the fixed strings the bot and the CLI show, from ``commands/locales/*.json``.

Each file is named by a Discord locale code and holds two tables: ``commands`` maps an English
command string (name, description, option) to its translation; ``bot`` maps a message key to a
template. English is the fallback for every string.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

# The bot's fixed strings in English: the fallback for every locale.
ENGLISH: dict[str, str] = {
    "error.generic": "Something went wrong on our side. It has been logged; please try again.",
    "error.database": "The knowledge base cannot be reached just now, so nothing was changed. "
    "Please try again in a minute.",
    "error.not_found": "Nothing matched “{query}”. Try `/search` with fewer letters.",
    "error.too_long": "That is too long: names are at most {limit} characters.",
    "query.hidden": "The query contains an invisible or direction-changing character "
    "({character}); type it again in plain text.",
    "query.empty": "The query is empty: type a name, such as Azerbaijan or NSO Group.",
    "query.too_long": "The query is {length} characters long; names are at most {limit}.",
    "claims.year": "{year} is not a year armsbot can look for: give one from {low} to {high}.",
    "claims.years": "Since {since} is after until {until}: give the earlier year first.",
    "claims.nothing": "Nothing to look for: give a query (names or words), a party or a product.",
    "claims.expired": "This answer is no longer kept: run /search again.",
    "claims.choose": "“{name}” names several entries. Which one do you mean?",
    "error.crafted": "That button is not on this message; nothing was changed.",
    "mod.not_opener": "This form belongs to the moderator who opened it; nothing was changed.",
    "mod.refused": "Only this deployment's moderators can do that (moderator role in a home "
    "server).",
    "mod.refused_config": "Only members with Manage Server in a home server can change this.",
    "correct.pick_entry": "No single entry matches that name; choose one from the list.",
    "correct.pick_claim": "Choose the claim to change from the `claim` list.",
    "correct.not_stored": "Nothing was stored: {reasons}",
    "correct.receipt": "Thank you: correction #{number} is waiting for a moderator. "
    "`/mycorrections` shows its status.",
    "correct.none_yet": "You have not submitted any corrections.",
    "correct.withdraw": "Withdraw #{number}",
    "history.empty": "No changes since the knowledge base was built (revision 1).",
    "config.done": "Moderators: {role} · review channel: {channel}",
    "decision.applied": "Correction #{number} is applied: {entity} is now at revision {revision}.",
    "decision.rejected": "Correction #{number} is rejected.",
    "decision.withdrawn": "Correction #{number} is withdrawn.",
    "decision.superseded": "Nothing was applied: correction #{by} already made this change. "
    "Correction #{number} is marked superseded.",
    "decision.already": "Correction #{number} was already {status} by {who} at {when}.",
    "decision.stale": "Nothing was applied to correction #{number}: {reason}. It is marked stale; "
    "the submitter can send it again against the current entry.",
    "did_you_mean": "Several entries match “{query}”. Did you mean:",
    "gone": "That entry is no longer in the knowledge base.",
    "page.previous": "Previous",
    "page.next": "Next",
    "search.nothing": "Nothing matched “{query}”.",
    "about.title": "About armsbot",
    "about.body": "armsbot answers, with sources, what is known about sales of arms and "
    "surveillance technology to governments that abuse human rights. Every line carries its "
    "status (confirmed, reported, alleged or denied) and numbered sources.",
    "about.figures": "Knowledge base",
    "about.figures.value": "{country} countries · {firm} firms · {law} laws · {claims} claims · "
    "{sources} sources",
    "about.data": "Where the data comes from",
    "about.data.value": "Hand-written, sourced entries kept as YAML files in the project's "
    "repository; country names from ISO 3166 and the Unicode CLDR.",
    "about.datasets": "Imported datasets",
    "about.datasets.line": "{name}: {records} records read · {claims} claims · {firms} firms · "
    "{left_out} left out",
    "about.contribute": "How to contribute",
    "about.contribute.value": "Spotted a mistake or a missing sale? Send the project a correction "
    "with a source; moderators review every change and keep its history.",
    "watch.guild_only": "Watches belong to a server's channels: use /watch in a server.",
    "watch.refused": "Only members who can manage this channel (Manage Channels) can change what "
    "it follows.",
    "watch.cannot_post": "armsbot cannot post in this channel: let it view the channel and send "
    "messages here, then try again.",
    "watch.added": "This channel now follows {entity}: when its card changes, a notice is posted "
    "here ({count} of {limit} watches in this server).",
    "watch.already": "This channel already follows {entity}.",
    "watch.resumed": "Notices are posted in this channel again, from now on.",
    "watch.limit": "This server already has {limit} watches, the most it may have; remove one "
    "with /watch remove first.",
    "watch.removed": "This channel no longer follows {entity}.",
    "watch.not_watched": "This channel does not follow {entity}.",
    "watch.list.title": "Watches in this server ({count} of {limit})",
    "watch.list.none": "Nothing is followed yet: /watch add makes the current channel follow an "
    "entry.",
    "watch.list.problems": "Channels where notices could not be posted",
    "watch.list.disabled": "{channel}: paused since {since} after {failures} failed posts "
    "({error}). Let armsbot post there, then use /watch add in that channel to resume.",
    "watch.list.failing": "{channel}: {failures} failed post(s) ({error}); armsbot will try again.",
    "notice.title": "**{entity}** changed:",
    "notice.claim_added": "claim added [{status}]: {text}",
    "notice.claim_removed": "claim removed [{status}]: {text}",
    "notice.claim_status": "status {before} → {after}: {text}",
    "notice.claim_text": "claim reworded [{status}]: {text}",
    "notice.entry_created": "the entry was added to the knowledge base",
    "notice.entry_removed": "the entry was removed from the knowledge base",
    "notice.entry_edited": "entry edited: {fields}",
    "notice.field.name": "name",
    "notice.field.summary": "summary",
    "notice.field.details": "details",
    "notice.field.names": "other names",
    "notice.more": "… and {count} more change(s): open the card.",
    "notice.by": "Decided by {who}.",
    "notice.who.moderator": "moderator {who}",
    "notice.who.correction": "moderator {who} (correction {numbers})",
    "notice.who.dataset": "the dataset {name} (import)",
    "notice.who.build": "a rebuild from the data files",
    "notice.who.unknown": "an unrecorded process",
    "notice.who.others": "and {count} others",
    "notice.open": "Open the card",
    "mentions.none": "This message names no country, firm, law or product that armsbot knows.",
    "mentions.title": "This message mentions:",
    "mentions.country": "Countries: {names}",
    "mentions.firm": "Firms: {names}",
    "mentions.law": "Laws: {names}",
    "mentions.product": "Products: {names}",
    "mentions.product_of": "{product} ({firm})",
}


def commands_dir() -> Path:
    """The ``commands/`` folder shipped in the package, or the checkout's when run from source."""
    packaged = Path(str(resources.files("armsbot"))) / "commands"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "commands"


@lru_cache(maxsize=1)
def load_locales(directory: Path | None = None) -> dict[str, dict[str, dict[str, str]]]:
    """Every translation file, keyed by Discord locale code."""
    folder = (directory or commands_dir()) / "locales"
    tables: dict[str, dict[str, dict[str, str]]] = {}
    for path in sorted(folder.glob("*.json")):
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        tables[path.stem] = {
            "commands": dict(data.get("commands", {})),
            "bot": dict(data.get("bot", {})),
        }
    return tables


def text(key: str, locale: object = None, **params: object) -> str:
    """A fixed string in the user's language where a translation exists, English otherwise.

    ``locale`` is a locale code ("fr", "es-ES") or anything whose ``value`` is one (discord.Locale).
    """
    code = str(getattr(locale, "value", locale)) if locale is not None else None
    table = load_locales().get(code or "", {}).get("bot", {})
    if code and not table and "-" in code:
        table = load_locales().get(code.split("-")[0], {}).get("bot", {})
    template = table.get(key) or ENGLISH[key]
    return template.format(**params)
