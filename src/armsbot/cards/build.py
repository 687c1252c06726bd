"""Turning an entity and the claims about it into a card."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from armsbot.cards.model import Card, CardGroup, CardLine, CardSection, CardSource
from armsbot.models import Category, Claim, Kind, Role, Source, SourceKey, Status
from armsbot.records import EntityRecord
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


class Listed(Protocol):
    """What a card's line shows of a claim: a :class:`Claim`, or a claim read for a list
    (``KnowledgeBase.listed_claims``)."""

    @property
    def id(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def status(self) -> Status: ...
    @property
    def category(self) -> Category: ...
    @property
    def date(self) -> str | None: ...
    @property
    def date_text(self) -> str | None: ...
    @property
    def reported(self) -> str | None: ...
    @property
    def product(self) -> str | None: ...
    @property
    def end_user(self) -> str | None: ...
    @property
    def goods(self) -> Sequence[str]: ...
    @property
    def sources(self) -> Sequence[Source]: ...


class SourceNumbers:
    """Numbers sources in order of first citation."""

    def __init__(self) -> None:
        self.numbered: dict[SourceKey, CardSource] = {}

    def line(self, claim: Listed) -> CardLine:
        """The claim as a line of a card, its sources numbered (new ones next)."""
        return CardLine(
            text=claim.text,
            status=claim.status,
            detail=_detail(claim),
            sources=self.cite(claim),
            claim_id=claim.id,
        )

    def cite(self, claim: Listed) -> list[int]:
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


def _role_of(claim: Claim, entity_id: str) -> Role | None:
    return next((p.role for p in claim.parties if p.entity == entity_id), None)


def _when(claim: Listed) -> str | None:
    """When the event happened; failing that, when it was reported, said as such."""
    if claim.date or claim.date_text:
        return claim.date or claim.date_text
    return f"reported {claim.reported}" if claim.reported else None


def _detail(claim: Listed) -> str | None:
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


def _goods(goods: Sequence[str]) -> tuple[str, ...]:
    """A transfer's goods as its heading lists them: once each, in a fixed order."""
    return tuple(
        sorted({g[0].lower() + g[1:] if g[1:2].islower() else g for g in goods}, key=str.casefold)
    )


def _with_goods(who: str, goods: tuple[str, ...]) -> str:
    """A transfer group's heading: the counterpart, then the goods."""
    return f"{who} — {', '.join(goods)}" if goods else who


def _in_force_label(attributes: Mapping[str, Any]) -> str:
    if attributes.get("in_force") is True:
        since = attributes.get("date")
        return f"in force since {since}" if since else "in force"
    if attributes.get("in_force") is False:
        ended = attributes.get("ended")
        return f"lifted in {ended}" if ended else "no longer in force"
    return "status unknown"


# What a group heading says, by entity id (names come later): transfers by counterpart and
# goods, embargoes and listings by instrument. Claims with the same key share a heading.
GroupKey = tuple[Any, ...] | None
_SECTION_OF = {
    Category.LEGAL: "Legal actions",
    Category.USE: "Reported use",
    Category.RESPONSE: "Denials and responses",
    Category.BACKGROUND: "Background",
}


def place(
    entity: EntityRecord,
    category: Category,
    role: Role | None,
    by_role: Mapping[Role, tuple[str, ...]],
    goods: tuple[str, ...],
) -> tuple[str, GroupKey]:
    """The section of ``entity``'s card a claim goes in, and the key of its group.

    ``role`` is the entity's role in the claim; ``by_role`` its parties by role, in order;
    ``goods`` as :func:`_goods` gives them.
    """
    if category is Category.TRANSFER:
        # Grouped by counterpart and goods, so a supplier's many sales of one kind sit together.
        suppliers = by_role.get(Role.SUPPLIER, ())
        who = ("supplier", suppliers) if suppliers else ("broker", by_role.get(Role.BROKER, ()))
        if role is Role.RECIPIENT:
            return "Acquisitions", ("from", who, goods)
        if role is Role.SUPPLIER or role is Role.BROKER:
            title = "Customers" if entity.kind is Kind.FIRM else "Exports"
            return title, ("to", by_role.get(Role.RECIPIENT, ()), goods)
        return "Transfers", ("between", who, by_role.get(Role.RECIPIENT, ()), goods)
    if category is Category.EMBARGO or category is Category.DESIGNATION:
        title = "Arms embargoes" if category is Category.EMBARGO else "Sanctions and listings"
        instruments = by_role.get(Role.INSTRUMENT, ())
        if entity.kind is Kind.LAW or not instruments:
            return title, None
        return title, ("under", instruments)
    return _SECTION_OF[category], None


def _by_role(parties: Iterable[tuple[str, Role]]) -> dict[Role, tuple[str, ...]]:
    found: dict[Role, list[str]] = {}
    for entity_id, role in parties:
        found.setdefault(role, []).append(entity_id)
    return {role: tuple(ids) for role, ids in found.items()}


def key_entities(key: GroupKey) -> tuple[set[str], set[str]]:
    """The entities a group heading names, and those of them whose attributes it shows."""
    if key is None:
        return set(), set()
    if key[0] == "under":
        return set(key[1]), set(key[1])
    ids = set(key[1][1]) if key[0] in ("from", "between") else set(key[1])
    if key[0] == "between":
        ids |= set(key[2])
    return ids, set()


def heading(key: GroupKey, names: Names) -> str | None:
    """The heading of the group with this key."""
    if key is None:
        return None

    def joined(ids: tuple[str, ...]) -> str:
        return ", ".join(names.name(i) for i in ids)

    def who(mode_ids: tuple[str, tuple[str, ...]]) -> str:
        mode, ids = mode_ids
        text = joined(ids)
        return f"{text} (broker)" if mode == "broker" and text else text

    if key[0] == "from":
        return _with_goods(who(key[1]) or "Supplier not named", key[2])
    if key[0] == "to":
        return _with_goods(joined(key[1]) or "Recipient not named", key[2])
    if key[0] == "between":
        return _with_goods(f"{who(key[1]) or '?'} → {joined(key[2]) or '?'}", key[3])
    return "; ".join(
        f"{names.name(i)} ({_in_force_label(names.attributes.get(i, {}))})" for i in key[1]
    )


def _section_and_group(entity: EntityRecord, claim: Claim, names: Names) -> tuple[str, str | None]:
    """Which section of this entity's card a claim belongs in, and under which heading."""
    title, key = place(
        entity,
        claim.category,
        _role_of(claim, entity.id),
        _by_role((p.entity, p.role) for p in claim.parties),
        _goods(claim.goods),
    )
    return title, heading(key, names)


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


def _sort_key(claim: Claim) -> tuple[int, str, str]:
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


_ROLES = {role.value: role for role in Role}
_CATEGORIES = {category.value: category for category in Category}
# A claim as ``KnowledgeBase.claim_places`` gives it: id, the entity's role, category, when
# (event date, else report date, else ""), goods (JSON), "role id role id ..." of its
# suppliers, brokers, recipients and instruments in order, and the entity's party position.
PlaceRow = tuple[str, str, str, str, str, str | None, int]


def section_title(entity: EntityRecord, role: str, category: str) -> str:
    """The section of ``entity``'s card in which a claim of this category goes, by its role."""
    return place(entity, _CATEGORIES[category], _ROLES.get(role), {}, ())[0]


class Placer:
    """Where claims go on one entity's card, from the short rows of ``card_places``.

    Claims with the same role, category, goods and counterparts are placed once: a further one
    costs a dictionary look-up.
    """

    def __init__(self, entity: EntityRecord) -> None:
        self.entity = entity
        self._placed: dict[tuple[str, str, str, str | None], tuple[str, GroupKey]] = {}
        self._goods: dict[str, tuple[str, ...]] = {"[]": ()}

    def place(self, row: PlaceRow) -> tuple[str, GroupKey]:
        """The section and group key of the claim of ``row``, as ``entity_card`` places it."""
        where = (row[1], row[2], row[4], row[5])
        found = self._placed.get(where)
        if found is None:
            role, category, goods, others = where
            by_role: dict[Role, tuple[str, ...]] = {}
            if others:
                words = others.split(" ")
                for at in range(0, len(words), 2):
                    party_role = _ROLES[words[at]]
                    by_role[party_role] = (*by_role.get(party_role, ()), words[at + 1])
            shown = self._goods.get(goods)
            if shown is None:
                shown = self._goods[goods] = _goods(json.loads(goods))
            found = place(self.entity, _CATEGORIES[category], _ROLES.get(role), by_role, shown)
            self._placed[where] = found
        return found


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
