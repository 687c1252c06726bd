"""The card: a title, key facts, sections of claims with status and numbered sources."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from armsbot.models import Status


@dataclass(slots=True)
class CardSource:
    """A numbered source, cited by its number from the lines that rely on it."""

    number: int
    title: str
    url: str | None
    publisher: str | None = None
    date: str | None = None
    link: str = "original"  # or "copy" (another site republished it) or "archive" (a snapshot)

    def copy_note(self) -> str | None:
        """For a link that is not the publisher's own page, where it is: 'copy on example.org'."""
        if self.link == "original" or not self.url:
            return None
        host = (urlsplit(self.url).hostname or "").removeprefix("www.")
        what = "copy" if self.link == "copy" else "archived copy"
        return f"{what} on {host}" if host else what

    def details(self) -> str:
        """Publisher and date, and where a copied link is: 'The Post, 2021; copy on x.org'."""
        extra = ", ".join(part for part in (self.publisher, self.date) if part)
        note = self.copy_note()
        if note:
            extra = f"{extra}; {note}" if extra else note
        return extra

    def label(self) -> str:
        """Title, then publisher, date and where the link is, in one line."""
        extra = self.details()
        return f"{self.title} ({extra})" if extra else self.title


@dataclass(slots=True)
class CardLine:
    """One claim as a line: its text, how sure it is, and the sources behind it."""

    text: str
    status: Status | None = None
    detail: str | None = None  # product, goods, end user, date: what a reader scans for
    sources: list[int] = field(default_factory=list)
    claim_id: str | None = None
    entity_id: str | None = None  # a line that points at another entity (search results)


@dataclass(slots=True)
class CardGroup:
    """Lines under a common heading, such as the supplier of the items acquired."""

    heading: str | None
    lines: list[CardLine] = field(default_factory=list)


@dataclass(slots=True)
class CardSection:
    """A titled part of a card."""

    title: str
    groups: list[CardGroup] = field(default_factory=list)

    @property
    def line_count(self) -> int:
        """How many lines the section holds across its groups."""
        return sum(len(g.lines) for g in self.groups)


@dataclass(slots=True)
class Card:
    """A complete answer about one entity or one search."""

    kind: str
    title: str
    entity_id: str | None = None
    summary: str | None = None
    facts: list[tuple[str, str]] = field(default_factory=list)
    sections: list[CardSection] = field(default_factory=list)
    sources: list[CardSource] = field(default_factory=list)
    footer: str | None = None
    # What adapters rendered from this card (Discord pages, ...), kept with it: a card is not
    # changed once built, and the lookup service hands out the same card until the knowledge base
    # changes, so each rendering is made once. Not part of the card's content.
    renderings: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: plain types only."""
        data = asdict(self)
        del data["renderings"]
        data["facts"] = [{"label": label, "value": value} for label, value in self.facts]
        return data
