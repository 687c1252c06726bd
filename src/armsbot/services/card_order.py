"""The order of an entity's card, worked out only as far as its pages are read.

A card shows its claims by section (``SECTION_ORDER``), in each section by group (a transfer's
counterpart and goods, a listing's instrument) in the order of each group's oldest claim, and in
each group oldest first. The busiest entities have thousands of claims in a thousand groups; a
reader sees the first page. So the order is not worked out for every claim: SQL counts the
claims of each section (by role and category), and the groups of a section are found a window of
claims at a time, oldest first: each claim of the window not yet placed starts a group, and that
group's claims are read at once, from an index of each claim's first counterpart (migration 10),
which every claim of a group shares. On PostgreSQL, which has no such index, every claim is
placed from one read.
"""

from __future__ import annotations

from collections import deque

from armsbot.cards.build import SECTION_ORDER, GroupKey, Placer, PlaceRow, section_title
from armsbot.records import EntityRecord
from armsbot.storage import KnowledgeBase

# Claims read at a time, oldest first, to find the next groups of a section.
WINDOW = 64
# (section title, group key, claim id)
Placed = tuple[str, GroupKey, str]


class CardOrder:
    """An entity's claims, (section, group key, claim id), in the order its card shows them."""

    def __init__(
        self,
        kb: KnowledgeBase,
        entity: EntityRecord,
        counts: list[tuple[str, str, int]],
        later: frozenset[tuple[str, int]],
        trusted: bool = True,
    ) -> None:
        self.kb = kb
        self.entity = entity
        self.total = sum(n for _, _, n in counts)
        self._later = later  # (claim id, position) of a second party that is the entity
        self._trusted = trusted  # card_places.lead gives each claim's first counterpart
        self._placer = Placer(entity)
        pairs: dict[str, list[tuple[str, str]]] = {}
        for role, category, _ in counts:
            pairs.setdefault(section_title(entity, role, category), []).append((role, category))
        self._sections = [(title, pairs[title]) for title in SECTION_ORDER if title in pairs]
        self._section = 0
        self._scanned = 0  # claims of the section read by windows
        self._known: set[GroupKey] = set()  # the section's groups found so far
        self._placed: set[str] = set()  # claims in a group found so far
        self._pending: deque[Placed] = deque()

    @classmethod
    async def read(cls, kb: KnowledgeBase, entity: EntityRecord) -> CardOrder:
        """The order of ``entity``'s card, nothing of it worked out yet but its sections.

        Where claims' places are not indexed (PostgreSQL: each read joins the entity's parties
        to the claims), every claim is placed at once, from one read: the least it costs there.
        """
        if not kb.card_places_indexed:
            order = cls(kb, entity, [], frozenset())
            order._place(await kb.card_rows(entity.id, None))
            return order
        return cls(kb, entity, *await kb.card_sections(entity.id))

    async def next(self, count: int) -> list[Placed]:
        """The next ``count`` claims in the card's order (fewer at its end)."""
        out: list[Placed] = []
        if not self._placed and 0 < self.total <= WINDOW:
            # A card of a window of claims or fewer: every claim placed at once (one read).
            pairs = [pair for _, section in self._sections for pair in section]
            self._place(await self.kb.card_rows(self.entity.id, pairs))
        while len(out) < count:
            if self._pending:
                for _ in range(min(count - len(out), len(self._pending))):
                    out.append(self._pending.popleft())
            elif self._section >= len(self._sections):
                break
            elif not await self._find_groups(count - len(out)):
                self._section += 1
                self._scanned = 0
                self._known.clear()
        return out

    def _place(self, rows: list[PlaceRow]) -> None:
        """Place every claim of ``rows`` (in the card's order, an entity's later parties in a
        claim after its first, which places the claim): the whole order, pending."""
        groups: dict[str, dict[GroupKey, list[str]]] = {}
        for row in rows:
            if row[0] in self._placed:  # the entity's later party in a claim already placed
                continue
            title, key = self._placer.place(row)
            groups.setdefault(title, {}).setdefault(key, []).append(row[0])
            self._placed.add(row[0])
        self.total = len(self._placed)
        self._pending.extend(
            (title, key, claim_id)
            for title in SECTION_ORDER
            for key, ids in groups.get(title, {}).items()
            for claim_id in ids
        )
        self._section = len(self._sections)

    async def _find_groups(self, wanted: int) -> bool:
        """Find the section's next groups (at most ``wanted``: each has a claim at least), each
        with all its claims; False at its end."""
        title, pairs = self._sections[self._section]
        entity_id = self.entity.id
        found: dict[GroupKey, list[str]] = {}  # in order of their oldest claim
        while not found:
            rows = await self.kb.card_rows(entity_id, pairs, offset=self._scanned, limit=WINDOW)
            if not rows:
                return False
            self._scanned += len(rows)
            for at, row in enumerate(rows):
                if row[0] in self._placed or (row[0], row[6]) in self._later:
                    continue
                key = self._placer.place(row)[1]
                if key not in self._known and key not in found:
                    if len(found) == wanted:
                        # The window's later claims are read again with the next groups.
                        self._scanned -= len(rows) - at
                        break
                    found[key] = []
        # The claims of a group have the same first counterpart (card_places.lead): read those
        # of the groups found, from an index.
        leads: list[str | None] | None = []
        for key in found:
            lead = _lead(key)
            if lead is _ANY or leads is None or not self._trusted:
                leads = None  # a group of the whole section (no counterparts in its heading)
            else:
                leads.append(lead)  # type: ignore[arg-type]
        rows = await self.kb.card_rows(entity_id, pairs, leads=leads)
        for row in rows:
            if row[0] in self._placed or (row[0], row[6]) in self._later:
                continue
            members = found.get(self._placer.place(row)[1])
            if members is not None:
                members.append(row[0])
                self._placed.add(row[0])
        self._known.update(found)
        self._pending.extend(
            (title, key, claim_id) for key, ids in found.items() for claim_id in ids
        )
        return True


_ANY = object()


def _lead(key: GroupKey) -> object:
    """The first counterpart that every claim of the group with this key names (as
    ``card_places.lead`` reads it), None when they name none, or ``_ANY`` for a group that is
    not by counterpart."""
    if key is None:
        return _ANY
    ids = key[1][1] if key[0] in ("from", "between") else key[1]
    return ids[0] if ids else None
