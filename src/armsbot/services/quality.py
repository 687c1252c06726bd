"""``db check --strict``: what a reader would trip over, beyond the database's integrity.

Every claim sourced, no claim said twice, no note meant for editors in a text readers see, no
``confirmed`` claim that rests only on copies, dates that are real dates, and every party in a
role its kind can play. Each problem names where to fix it: the data file of a hand-written claim,
or the dataset record of an imported one.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from armsbot.datafiles import FOLDERS
from armsbot.models import Claim, Kind, LinkKind, Role, Status
from armsbot.search.folding import fold
from armsbot.storage import KnowledgeBase

# The roles each kind of entity can play in a claim.
ALLOWED_ROLES: dict[Kind, frozenset[Role]] = {
    Kind.COUNTRY: frozenset(Role) - {Role.INSTRUMENT},
    Kind.FIRM: frozenset(
        {
            Role.SUPPLIER,
            Role.RECIPIENT,
            Role.SUBJECT,
            Role.TARGET,
            Role.PETITIONER,
            Role.RESPONDENT,
            Role.BROKER,
            Role.OWNER,
            Role.MEMBER,
        }
    ),
    Kind.LAW: frozenset({Role.INSTRUMENT, Role.SUBJECT, Role.REGULATOR}),
}

# Words that speak to whoever edits the data, not to a reader: "the seed article notes ...",
# "this knowledge base", "TODO". Matched case-insensitively on whole words.
EDITORS_TEXT = re.compile(
    r"\b(?:the\s+seed|seed\s+article|this\s+article|the\s+article\s+(?:notes|says|states|reports"
    r"|mentions|claims|adds)|(?:this|the|our)\s+knowledge\s+base|reference\s+files?"
    r"|facts\.jsonl|todo|fixme|tbd|editor'?s\s+note|note\s+to\s+editors?)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing ``db check --strict`` found, and where to fix it."""

    where: str  # "firms/nso-group.yaml" or "dataset sii, record X"
    item: str  # a claim id, or "summary"
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.item}: {self.reason}"


def _real_date(value: str) -> bool:
    parts = [int(p) for p in value.split("-")]
    try:
        datetime.date(parts[0], *(parts[1:] + [1] * (3 - len(parts))))
    except (ValueError, TypeError):
        return False
    return True


def _where(claim: Claim, home: str, kinds: dict[str, Kind]) -> str:
    if claim.provenance is not None:
        return f"dataset {claim.provenance.dataset}, record {claim.provenance.record}"
    kind = kinds.get(home)
    return f"{FOLDERS[kind]}/{home}.yaml" if kind is not None else home


def particulars(claim: Claim) -> tuple[object, ...] | None:
    """What makes two claims the same event, or None for a claim with no particulars.

    Particulars count only for a claim that has some beyond its parties and category (a date, a
    product, an end user or goods): two undated background claims about Israel are two
    statements, two 2015 sales of the same goods by the same firm to the same state are one.
    """
    when = claim.date or claim.date_text
    if not (when or claim.product or claim.end_user or claim.goods):
        return None
    return (
        frozenset((p.entity, p.role) for p in claim.parties),
        claim.category,
        claim.product,
        when,
        claim.end_user,
        tuple(sorted(claim.goods)),
    )


def _duplicates(claims: list[tuple[str, Claim]]) -> Iterable[tuple[Claim, Claim, str]]:
    """Pairs of claims that say the same thing: the same text, or the same particulars."""
    by_text: dict[str, list[Claim]] = defaultdict(list)
    by_facts: dict[tuple[object, ...], list[Claim]] = defaultdict(list)
    for _, claim in claims:
        by_text[fold(claim.text)].append(claim)
        key = particulars(claim)
        if key is not None:
            by_facts[key].append(claim)
    for groups, why in (
        (by_text, "says word for word what {other} says"),
        (by_facts, "has the same parties, category, product, date, end user and goods as {other}"),
    ):
        for group in groups.values():
            first = group[0]
            for other in group[1:]:
                yield other, first, why.format(other=first.id)


def _distinct(a: Claim, b: Claim) -> bool:
    return b.id in a.distinct_from or a.id in b.distinct_from


async def strict_problems(kb: KnowledgeBase) -> list[Problem]:
    """Everything ``db check --strict`` reports, in the order of the files and claims."""
    entities = await kb.entity_overview()
    kinds = {e.id: e.kind for e in entities}
    claims = await kb.every_claim()
    problems: list[Problem] = []
    for entity in entities:
        if entity.summary and EDITORS_TEXT.search(entity.summary):
            where = f"{FOLDERS[entity.kind]}/{entity.id}.yaml"
            problems.append(Problem(where, "summary", "speaks to editors, not to readers"))
    seen_pairs: set[frozenset[str]] = set()
    claim_ids = {c.id for _, c in claims}
    for home, claim in claims:
        where = _where(claim, home, kinds)
        if not claim.sources:
            problems.append(Problem(where, claim.id, "has no source"))
        if EDITORS_TEXT.search(claim.text):
            problems.append(Problem(where, claim.id, "speaks to editors, not to readers"))
        if (
            claim.status is Status.CONFIRMED
            and claim.sources
            and all(s.link is not LinkKind.ORIGINAL for s in claim.sources)
        ):
            problems.append(
                Problem(where, claim.id, "is confirmed but every source is a copy or archive")
            )
        for label, value in (("date", claim.date), ("reported", claim.reported)):
            if value is not None and not _real_date(value):
                problems.append(Problem(where, claim.id, f"{label} {value!r} is not a real date"))
        for party in claim.parties:
            kind = kinds.get(party.entity)
            if kind is None:
                problems.append(Problem(where, claim.id, f"names {party.entity}, which is unknown"))
            elif party.role not in ALLOWED_ROLES[kind]:
                problems.append(
                    Problem(
                        where,
                        claim.id,
                        f"gives {party.entity} the role {party.role.value}, which a"
                        f" {kind.value} cannot have",
                    )
                )
        for other_id in claim.distinct_from:
            if other_id not in claim_ids:
                problems.append(Problem(where, claim.id, f"is distinct from unknown {other_id}"))
    homes = {c.id: h for h, c in claims}
    for claim, first, why in _duplicates(claims):
        pair = frozenset((claim.id, first.id))
        if pair in seen_pairs or _distinct(claim, first):
            continue
        seen_pairs.add(pair)
        problems.append(
            Problem(
                _where(claim, homes[claim.id], kinds),
                claim.id,
                f"{why} (say why in distinct_from if both stand)",
            )
        )
    return problems
