"""Making stored and user-typed text safe inside Discord markdown."""

from __future__ import annotations

import re
from urllib.parse import quote

from armsbot.hidden_text import without_hidden

# Everything Discord markdown gives meaning to, and '<' which starts mentions and timestamps.
_SPECIAL = re.compile(r"([\\*_~`|>\[\]()#<:@-])")


def escape(text: str) -> str:
    """Text shown literally: no formatting, links, mentions, direction tricks or hidden text."""
    return _SPECIAL.sub(r"\\\1", without_hidden(text))


def safe_url(url: str) -> str:
    """A URL that cannot close a markdown link early or smuggle in markup."""
    return quote(url, safe=":/?#[]@!$&'*+,;=%~.-_")


def link(label: str, url: str | None) -> str:
    """A masked link with an escaped label, or just the label when there is no URL."""
    shown = escape(label)
    return f"[{shown}]({safe_url(url)})" if url else shown


def truncate(text: str, limit: int) -> str:
    """Text cut to ``limit`` characters with an ellipsis, never in the middle of an escape."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if cut.endswith("\\") and not cut.endswith("\\\\"):
        cut = cut[:-1]
    return cut + "…"
