"""Turning an entity and the claims about it into a card."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from armsbot.cards.model import Card, CardGroup, CardLine, CardSection, CardSource
from armsbot.models import Category, Claim, Kind, Role, SourceKey
from armsbot.records import ClaimOutline, EntityRecord
from armsbot.search.index import Match

FOOTER = (
    "Each line carries its status as the sources give it: confirmed, reported, alleged or denied. "
    "Know better? Submit a correction with a source."
)
MAX_ALIASES_SHOWN = 8
NOTHING_ON_RECORD = "Nothing on record yet"


@dataclass(frozen=True, slots=True)
class Names:
    """Display names and attributes of the entities a card mentions."""

    names: Mapping[str, tuple[Kind, str]]
    attributes: Mapping[str, dict[str, Any]]

    def name(self, entity_id: str) -> str:
        """The display name of an entity, or its id when it is unknown."""
        found = self.names.get(entity_id)
        return found[1] if found else entity_id


class SourceNumbers:
    """Numbers sources in order of first citation."""

    def __init__(self) -> None:
        self.numbered: dict[SourceKey, CardSource] = {}

    def line(self, claim: Claim) -> CardLine:
        """The claim as a line of a card, its sources numbered (new ones next)."""
        return CardLine(
            text=claim.text,
            status=claim.status,
            detail=_detail(claim),
            sources=self.cite(claim),
            claim_id=claim.id,
        )

    def cite(self, claim: Claim) -> list[int]:
        """The numbers of the claim's sources."""
        numbers = []
        for source in claim.sources:
            key = source.key()
            card_source = self.numbered.get(key)
            if card_source is None:
                card_source = CardSource(
                    len(self.numbered) + 1,
                    source.title,
                    source.url,
                    source.publisher,
                    source.date,
                    source.link.value,
                )
                self.numbered[key] = card_source
            if card_source.number not in numbers:
                numbers.append(card_source.number)
        return numbers


class _PartyLike(Protocol):
    @property
    def entity(self) -> str: ...
    @property
    def role(self) -> Role: ...


class _Placed(Protocol):
    """What places a claim on a card: a whole claim, or its outline."""

    @property
    def id(self) -> str: ...
    @property
    def category(self) -> Category: ...
    @property
    def date(self) -> str | None: ...
    @property
    def reported(self) -> str | None: ...
    @property
    def goods(self) -> Sequence[str]: ...
    @property
    def parties(self) -> Sequence[_PartyLike]: ...


def _parties(claim: _Placed, role: Role) -> list[str]:
    return [p.entity for p in claim.parties if p.role is role]


def _role_of(claim: _Placed, entity_id: str) -> Role | None:
    return next((p.role for p in claim.parties if p.entity == entity_id), None)


def _when(claim: Claim) -> str | None:
    """When the event happened; failing that, when it was reported, said as such."""
    if claim.date or claim.date_text:
        return claim.date or claim.date_text
    return f"reported {claim.reported}" if claim.reported else None


def _detail(claim: Claim) -> str | None:
    parts = []
    if claim.product:
        parts.append(claim.product)
    if claim.goods and claim.category is not Category.TRANSFER:  # a transfer's heading has them
        parts.append(", ".join(claim.goods))
    if claim.end_user and claim.end_user not in claim.text:  # generated texts name it already
        parts.append(f"end user: {claim.end_user}")
    when = _when(claim)
    if when:
        parts.append(when)
    return " · ".join(parts) or None


def _transfer_heading(who: str, claim: _Placed) -> str:
    """A transfer group's heading: the counterpart, then the goods in a fixed order."""
    goods = sorted(
        {g[0].lower() + g[1:] if g[1:2].islower() else g for g in claim.goods}, key=str.casefold
    )
    return f"{who} — {', '.join(goods)}" if goods else who


def _in_force_label(attributes: Mapping[str, Any]) -> str:
    if attributes.get("in_force") is True:
        since = attributes.get("date")
        return f"in force since {since}" if since else "in force"
    if attributes.get("in_force") is False:
        ended = attributes.get("ended")
        return f"lifted in {ended}" if ended else "no longer in force"
    return "status unknown"


def _section_and_group(
    entity: EntityRecord, claim: _Placed, names: Names
) -> tuple[str, str | None]:
    """Which section of this entity's card a claim belongs in, and under which heading."""
    role = _role_of(claim, entity.id)

    def joined(ids: list[str]) -> str | None:
        return ", ".join(names.name(i) for i in ids) or None

    if claim.category is Category.TRANSFER:
        # Grouped by counterpart and goods, so a supplier's many sales of one kind sit together.
        brokers = joined(_parties(claim, Role.BROKER))
        suppliers = joined(_parties(claim, Role.SUPPLIER)) or (brokers and f"{brokers} (broker)")
        recipients = joined(_parties(claim, Role.RECIPIENT))
        if role is Role.RECIPIENT:
            return "Acquisitions", _transfer_heading(suppliers or "Supplier not named", claim)
        if role in (Role.SUPPLIER, Role.BROKER):
            title = "Customers" if entity.kind is Kind.FIRM else "Exports"
            return title, _transfer_heading(recipients or "Recipient not named", claim)
        pair = f"{suppliers or '?'} → {recipients or '?'}"
        return "Transfers", _transfer_heading(pair, claim)
    if claim.category in (Category.EMBARGO, Category.DESIGNATION):
        title = "Arms embargoes" if claim.category is Category.EMBARGO else "Sanctions and listings"
        if entity.kind is Kind.LAW:
            return title, None
        instruments = _parties(claim, Role.INSTRUMENT)
        headings = [
            f"{names.name(i)} ({_in_force_label(names.attributes.get(i, {}))})" for i in instruments
        ]
        return title, "; ".join(headings) or None
    titles = {
        Category.LEGAL: "Legal actions",
        Category.USE: "Reported use",
        Category.RESPONSE: "Denials and responses",
        Category.BACKGROUND: "Background",
    }
    return titles[claim.category], None


SECTION_ORDER = [
    "Acquisitions",
    "Customers",
    "Exports",
    "Transfers",
    "Reported use",
    "Arms embargoes",
    "Sanctions and listings",
    "Legal actions",
    "Denials and responses",
    "Background",
]


def _sort_key(claim: _Placed) -> tuple[int, str, str]:
    when = claim.date or claim.reported or ""
    return (0 if when else 1, when, claim.id)


def _facts(entity: EntityRecord, names: Names) -> list[tuple[str, str]]:
    attrs = entity.attributes
    facts: list[tuple[str, str]] = []
    if entity.kind is Kind.COUNTRY:
        facts.append(("ISO code", entity.id))
        if attrs.get("historical"):
            span = "–".join(str(attrs[k]) for k in ("start", "end") if attrs.get(k))
            facts.append(("Former state", span or "yes"))
    elif entity.kind is Kind.FIRM:
        if attrs.get("headquarters"):
            facts.append(("Headquarters", names.name(attrs["headquarters"])))
        if attrs.get("parent"):
            facts.append(("Part of", names.name(attrs["parent"])))
        if attrs.get("founded"):
            facts.append(("Founded", str(attrs["founded"])))
        if attrs.get("website"):
            facts.append(("Website", str(attrs["website"])))
    else:
        facts.append(("Type", str(attrs.get("type", "?")).replace("_", " ")))
        facts.append(("Jurisdiction", str(attrs.get("jurisdiction", "?"))))
        if attrs.get("date"):
            facts.append(("Date", str(attrs["date"])))
        if attrs.get("in_force") is not None:
            facts.append(("In force", _in_force_label(attrs)))
    shown = [a.name for a in entity.aliases if a.origin == "data"][:MAX_ALIASES_SHOWN]
    if shown:
        facts.append(("Also known as", ", ".join(shown)))
    return facts


def _nothing_on_record(entity: EntityRecord, datasets: Sequence[str]) -> CardSection:
    """What a card with no claim says: that nothing is known yet, where we looked, how to add."""
    looked = "in the curated data" + (
        f" or in the imported datasets ({', '.join(datasets)})" if datasets else ""
    )
    lines = [
        CardLine(
            f"Nothing is on record about {entity.name} yet: no transfer, use, embargo, listing or"
            f" court case {looked}."
        ),
        CardLine(
            "Know of one? Propose it with a source (/propose claim in Discord), or add it to the"
            " project's data files."
        ),
    ]
    if not datasets:
        lines.append(
            CardLine(
                "No public dataset is imported here yet; the server's operator can add the"
                " Surveillance Industry Index (armsbot db import sii)."
            )
        )
    return CardSection(NOTHING_ON_RECORD, [CardGroup(None, lines)])


def entity_card(
    entity: EntityRecord, claims: list[Claim], names: Names, datasets: Sequence[str] = ()
) -> Card:
    """The card for one entity, every claim about it placed in a section with its sources.

    ``datasets`` names the datasets imported into the knowledge base, for the card of an entity
    with no claim, which says where armsbot looked.
    """
    sources = SourceNumbers()
    sections: dict[str, dict[str | None, CardGroup]] = {}
    for claim in sorted(claims, key=_sort_key):
        title, heading = _section_and_group(entity, claim, names)
        groups = sections.setdefault(title, {})
        group = groups.setdefault(heading, CardGroup(heading))
        group.lines.append(sources.line(claim))
    ordered = [
        CardSection(title, list(sections[title].values()))
        for title in SECTION_ORDER
        if title in sections
    ]
    if not ordered:
        ordered.append(_nothing_on_record(entity, datasets))
    # Sources are numbered as cited; renumber in the order the sections show them.
    renumber: dict[int, int] = {}
    for section in ordered:
        for group in section.groups:
            for line in group.lines:
                for number in line.sources:
                    renumber.setdefault(number, len(renumber) + 1)
                line.sources = [renumber[n] for n in line.sources]
    card_sources = sorted(sources.numbered.values(), key=lambda s: renumber[s.number])
    for source in card_sources:
        source.number = renumber[source.number]
    card = entity_head(entity, names)
    card.sections = ordered
    card.sources = card_sources
    return card


def entity_head(entity: EntityRecord, names: Names) -> Card:
    """An entity's card without its claims: title, summary, facts and footer."""
    return Card(
        kind=entity.kind.value,
        title=entity.name,
        entity_id=entity.id,
        summary=entity.summary,
        facts=_facts(entity, names),
        footer=FOOTER,
    )


def card_order(
    entity: EntityRecord, outlines: Sequence[ClaimOutline], names: Names
) -> list[tuple[str, str | None, str]]:
    """(section, heading, claim id) of every claim, in the order ``entity_card`` shows them."""
    sections: dict[str, dict[str | None, list[str]]] = {}
    for outline in sorted(outlines, key=_sort_key):
        title, heading = _section_and_group(entity, outline, names)
        sections.setdefault(title, {}).setdefault(heading, []).append(outline.id)
    return [
        (title, heading, claim_id)
        for title in SECTION_ORDER
        if title in sections
        for heading, ids in sections[title].items()
        for claim_id in ids
    ]


def search_card(query: str, matches: list[Match]) -> Card:
    """The card listing what a search found."""
    lines = [
        CardLine(
            text=f"{m.name} ({m.kind.value}, {m.id})",
            detail=None if m.matched == m.name else f"matched “{m.matched}”",
            entity_id=m.id,
        )
        for m in matches
    ]
    section = CardSection("Results", [CardGroup(None, lines)]) if lines else None
    return Card(
        kind="search",
        title=f"Search: {query}",
        summary=None if lines else "Nothing matched.",
        sections=[section] if section else [],
    )


CATEGORY_TITLES = {
    Category.TRANSFER: "Transfers",
    Category.USE: "Reported use",
    Category.EMBARGO: "Arms embargoes",
    Category.DESIGNATION: "Sanctions and listings",
    Category.LEGAL: "Legal actions",
    Category.RESPONSE: "Denials and responses",
    Category.BACKGROUND: "Background",
}


def claims_card(title: str, notes: Sequence[str], claims: Sequence[Claim]) -> Card:
    """A list of claims (in the order given), grouped by category, sources numbered as cited."""
    sources = SourceNumbers()
    sections: dict[Category, CardGroup] = {}
    for claim in claims:
        group = sections.setdefault(claim.category, CardGroup(None))
        group.lines.append(sources.line(claim))
    return Card(
        kind="claims",
        title=title,
        summary=" ".join(notes) or None,
        sections=[
            CardSection(CATEGORY_TITLES[category], [group]) for category, group in sections.items()
        ],
        sources=list(sources.numbered.values()),
        footer=FOOTER,
    )
