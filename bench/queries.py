"""The fixed query mix, drawn with a seeded RNG from a workload's names, and the labelled queries.

Categories (each query carries the kind its slash command would ask for; a few ask for any kind,
as /search does):

* ``prefix``: names typed letter by letter ("a", "az", "aze", ...), countries, firms, laws and
  products;
* ``typo``: a name with one letter dropped, doubled, swapped or changed;
* ``script``: country names in Cyrillic, Arabic, Hebrew and CJK (and their first letters);
* ``abbrev``: abbreviations and codes people type (UAE, KSA, firm initials, UNSCR numbers);
* ``product``: product names, whole and cut short.
"""

from __future__ import annotations

import os
import random
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from armsbot.models import Kind
from armsbot.records import IndexRow

REPO = Path(__file__).resolve().parents[1]
# The labelled queries: the original in the shared folder beside the checkout, else the copy that
# the repository keeps for its tests (tests/data/README.md).
_ORIGINAL = (
    Path(os.environ.get("ARMSBOT_SHARED") or REPO.parent / "shared") / "eval" / "search_queries.tsv"
)
LABELLED = _ORIGINAL if _ORIGINAL.exists() else REPO / "tests" / "data" / "search_queries.tsv"


@dataclass(frozen=True, slots=True)
class Query:
    text: str
    kind: Kind | None
    category: str


@dataclass(frozen=True, slots=True)
class Labelled:
    kind: Kind | None
    query: str
    expected: str
    rank: str  # top1 | top5

    def accepts(self, entity_id: str, name: str) -> bool:
        if self.kind is Kind.COUNTRY or re.fullmatch(r"[A-Z]{2}", self.expected):
            return entity_id == self.expected
        return re.search(self.expected, name, re.IGNORECASE) is not None


def read_labelled(path: Path) -> list[Labelled]:
    """The labelled queries, read as the file's header describes (tab-separated, # comments)."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, query, expected, rank = line.split("\t")
        out.append(Labelled(None if kind == "any" else Kind(kind), query, expected, rank))
    return out


_SCRIPTS = ("CYRILLIC", "ARABIC", "HEBREW", "CJK", "HIRAGANA", "KATAKANA", "HANGUL")


def _script(text: str) -> str | None:
    for ch in text:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            return next((s for s in _SCRIPTS if name.startswith(s)), None)
    return None


def _typo(rng: random.Random, text: str) -> str:
    letters = list(text)
    at = rng.randrange(1, len(letters) - 1)
    change = rng.choice(("drop", "double", "swap", "change"))
    if change == "drop":
        del letters[at]
    elif change == "double":
        letters.insert(at, letters[at])
    elif change == "swap":
        letters[at], letters[at + 1] = letters[at + 1], letters[at]
    else:
        letters[at] = rng.choice("aeioustrnl")
    return "".join(letters)


def query_mix(rows: list[IndexRow], seed: int = 5, scale: float = 1.0) -> list[Query]:
    """A fixed mix of queries for ``rows`` (the same rows and seed give the same mix)."""
    rng = random.Random(seed)
    by_kind = {
        kind: sorted((r for r in rows if r.kind is kind), key=lambda r: r.id) for kind in Kind
    }
    # Countries with their current English names (not the historical ones).
    countries = [r for r in by_kind[Kind.COUNTRY] if len(r.id) == 2]
    firms, laws = by_kind[Kind.FIRM], by_kind[Kind.LAW]
    products = sorted({(a, r.id) for r in firms for a, t in r.aliases if t == "product"})
    abbreviations = sorted(
        {(a, r.kind) for r in rows for a, t in r.aliases if t in ("abbreviation", "code")}
    )
    scripts = sorted(
        {(a, r.id) for r in countries for a, t in r.aliases if t == "translation" and _script(a)}
    )

    def n(count: int) -> int:
        return max(1, round(count * scale))

    out: list[Query] = []

    def typed(name: str, kind: Kind | None, category: str) -> None:
        for end in range(1, min(len(name), 18) + 1):
            if not name[end - 1].isspace():
                out.append(Query(name[:end], kind, category))

    for row in rng.sample(countries, n(12)):
        typed(row.name, Kind.COUNTRY, "prefix")
    for row in rng.sample(firms, min(len(firms), n(12))):
        typed(row.name, Kind.FIRM, "prefix")
    for row in rng.sample(laws, min(len(laws), n(6))):
        typed(row.name, Kind.LAW, "prefix")
    for row in rng.sample(countries + firms, n(4)):
        typed(row.name, None, "prefix")
    pool = [(r.name, r.kind) for r in countries + firms + laws if len(r.name) >= 5]
    for name, kind in rng.sample(pool, n(120)):
        out.append(Query(_typo(rng, name), rng.choice((kind, kind, kind, None)), "typo"))
    for text, _ in rng.sample(scripts, min(len(scripts), n(80))):
        out.append(Query(text, Kind.COUNTRY, "script"))
        if rng.random() < 0.3:
            out.append(Query(text[: rng.randint(1, max(1, len(text) - 1))], Kind.COUNTRY, "script"))
    for text, kind in rng.sample(abbreviations, min(len(abbreviations), n(60))):
        out.append(Query(text, kind, "abbrev"))
    for text in ("UAE", "KSA", "DRC", "DPRK", "USA", "UK", "U.S.", "EU", "UN"):
        out.append(Query(text, Kind.COUNTRY, "abbrev"))
    for text, _ in rng.sample(products, min(len(products), n(80))):
        out.append(Query(text, Kind.FIRM, "product"))
        first = text.split()[0]
        out.append(Query(first[: max(3, len(first) - 1)], Kind.FIRM, "product"))
    return out


def lookup_mix(rows: list[IndexRow], seed: int = 7, count: int = 120) -> list[Query]:
    """Names people send to /country, /firm and /law: canonical names, some with a typo."""
    rng = random.Random(seed)
    by_kind = {
        kind: sorted((r for r in rows if r.kind is kind), key=lambda r: r.id) for kind in Kind
    }
    countries = [r for r in by_kind[Kind.COUNTRY] if len(r.id) == 2]
    share = {Kind.COUNTRY: 0.4, Kind.FIRM: 0.4, Kind.LAW: 0.2}
    out = []
    for kind, part in share.items():
        pool = countries if kind is Kind.COUNTRY else by_kind[kind]
        for row in rng.sample(pool, min(len(pool), max(1, round(count * part)))):
            text = row.name if rng.random() < 0.8 or len(row.name) < 5 else _typo(rng, row.name)
            out.append(Query(text[:100], kind, "lookup"))
    rng.shuffle(out)
    return out
