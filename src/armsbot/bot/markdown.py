"""Making stored and user-typed text safe inside Discord markdown, and fitting it into limits."""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit

from armsbot.hidden_text import without_hidden

# Everything Discord markdown gives meaning to, and '<' which starts mentions and timestamps.
_SPECIAL = re.compile(r"([\\*_~`|>\[\]()#<:@-])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# A masked link whose label would have to be cut shorter than this is shown as plain text.
MIN_LINK_LABEL = 12
ADDRESS_LIMIT = 60


def escape(text: str) -> str:
    """Text shown literally: no formatting, links, mentions, direction tricks or hidden text."""
    # A function, not the template r"\\\1", which re parses and expands in Python on every call:
    # several times slower, and a page of claims escapes hundreds of strings.
    return _SPECIAL.sub(_escaped, without_hidden(text))


def _escaped(found: re.Match[str]) -> str:
    return "\\" + found.group()


def safe_url(url: str) -> str:
    """A URL that cannot close a markdown link early or smuggle in markup."""
    return quote(url, safe=":/?#[]@!$&'*+,;=%~.-_")


def link(label: str, url: str | None) -> str:
    """A masked link with an escaped label, or just the label when there is no URL."""
    shown = escape(label)
    return f"[{shown}]({safe_url(url)})" if url else shown


def short_address(url: str, limit: int = ADDRESS_LIMIT) -> str:
    """Where a URL points, as a reader would read it: no scheme, escapes decoded, cut to ``limit``.

    Plain text, not a link: without its scheme Discord does not turn it into one.
    """
    parts = urlsplit(url)
    address = parts.netloc.removeprefix("www.") + parts.path
    if parts.query:
        address += "?" + parts.query
    return truncate(_CONTROL.sub("", unquote(address)).rstrip("/") or url, limit)


def fitted_link(label: str, url: str | None, limit: int) -> str:
    """``label`` linked to ``url`` in at most ``limit`` characters of markdown.

    Discord counts a masked link's whole address towards a field's limit, and a percent-encoded
    non-Latin address can be six times as long as it reads. So the label is shortened first; when
    even the address does not fit beside a short label, the label and a shortened address are
    shown as plain text: no link rather than a cut, broken one.
    """
    shown = escape(label)
    if not url:
        return truncate(shown, limit)
    target = safe_url(url)
    room = limit - len(target) - len("[]()")
    if room >= min(len(shown), MIN_LINK_LABEL):
        return f"[{truncate(shown, room)}]({target})"
    address = f" ({escape(short_address(url))})"
    if len(address) + MIN_LINK_LABEL > limit:
        return truncate(shown, limit)
    return truncate(shown, limit - len(address)) + address


def truncate(text: str, limit: int) -> str:
    """Text cut to ``limit`` characters with an ellipsis, never in the middle of an escape."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if cut.endswith("\\") and not cut.endswith("\\\\"):
        cut = cut[:-1]
    return cut + "…"


def clip(text: str, limit: int) -> str:
    """Text cut to ``limit`` characters at the end of a line (or else of a word), with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    for boundary in ("\n", " "):
        at = cut.rfind(boundary)
        if at >= limit // 2:
            return cut[:at].rstrip() + "…"
    return truncate(text, limit)
