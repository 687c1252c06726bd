"""Documented targets of mercenary spyware (Granitt's CSV format), as an adapter.

One row of the file is one documented target (a person or a small group). The rows become ``use``
claims, one per operator government, product and year, each counting the targets by role and by
attack result and citing every source link of its rows as published; rows without an operator
make one claim per year on the firm's card, "operator not attributed". A row attributed to two
governments ("Mexico; El Salvador") counts under each, and a row of several years in each year.

Privacy by design: the import reads only the columns it counts (role, year, attack result,
operator, disclosure, sources). A person's name, code name and affiliation (which often names
people: "Son of ...") are never stored or shown; a row is known by a hash of the whole row, kept
in the claim's provenance, so re-import and ``--remove`` find it without keeping names.

The file names no product: it comes from ``--product`` (an exact name or product of one firm), or
from the file's sha256 for the two files Granitt publishes (:data:`PINNED`).
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from armsbot.imports.core import (
    AdapterPlan,
    ClaimDraft,
    DatasetFileInvalid,
    DatasetInfo,
    EntityRef,
    PlanContext,
    shorten_problems,
    slug,
)
from armsbot.imports.download import PinnedFile
from armsbot.imports.wording import in_sentence, listed
from armsbot.models import Category, Claim, LinkKind, Role, Source, Status, check_http_url

FORMAT = "targets"
# The columns the import reads. The others (name, code_name, affiliation, devices, exploits ...)
# are never read into a record, only into the row's hash.
COLUMNS = ("role", "occurred", "disclosed", "disclosed_by", "attack_result", "operator", "sources")
LICENCE_SHORT = "CC BY-NC-SA 4.0"
LICENCE = f"{LICENCE_SHORT} (Attribution-NonCommercial-ShareAlike 4.0 International)"


@dataclass(frozen=True, slots=True)
class TargetFile:
    """One of the files Granitt publishes: where it is, its product and how to credit it."""

    pinned: PinnedFile
    product: str
    title: str  # the database's own name
    repository: str


PINNED: dict[str, TargetFile] = {
    target.pinned.name: target
    for target in (
        TargetFile(
            PinnedFile(
                "pegasus",
                "GranittHQ/data-pegasus-victims/d48a554d4a184802bc9d4d5dc530e7a7b17bd252"
                "/data-pegasus-victims.csv",
                "b9e2f07f55ef49be6d7355d3fe774cd83466a70fe381f64962b5ee94b14e4d20",
            ),
            product="Pegasus",
            title="Pegasus Victim Database",
            repository="https://github.com/GranittHQ/data-pegasus-victims",
        ),
        TargetFile(
            PinnedFile(
                "candiru",
                "GranittHQ/data-candiru-victims/345eaf3b1250b2b562bd1595af148f09280fd6ee"
                "/data-candiru-victims.csv",
                "00eda467aae285a29263ee072cebe6a5653196eb6b635ed61fdb837277b5dcd9",
            ),
            # The file is about Candiru's spyware, which has no one public name (Microsoft calls
            # it DevilsTongue); the firm's name stands for it.
            product="Candiru",
            title="Candiru Victim Database",
            repository="https://github.com/GranittHQ/data-candiru-victims",
        ),
    )
}


def pinned_by_checksum(checksum: str) -> TargetFile | None:
    """The published file with this sha256, if it is one."""
    return next((t for t in PINNED.values() if t.pinned.sha256 == checksum), None)


# How a role reads in a count: (one, several). Keys are the file's roles, folded to lower case.
ROLES: dict[str, tuple[str, str]] = {
    "journalist": ("journalist", "journalists"),
    "activist": ("activist", "activists"),
    "lawyer": ("lawyer", "lawyers"),
    "staff": ("staff member", "staff members"),
    "politician": ("politician", "politicians"),
    "family": ("family member", "family members"),
    "royal": ("member of a royal family", "members of royal families"),
    "academic": ("academic", "academics"),
    "clergy": ("member of the clergy", "members of the clergy"),
    "group": ("group", "groups"),
    "criminal": ("person listed as a criminal", "people listed as criminals"),
    "actor": ("actor", "actors"),
}

# Who published a source link, by its host (the part after "www."), for the source's title.
PUBLISHERS: dict[str, str] = {
    "amnesty.org": "Amnesty International",
    "apnews.com": "Associated Press",
    "citizenlab.ca": "Citizen Lab",
    "documentcloud.org": "DocumentCloud",
    "english.elpais.com": "El País",
    "facebook.com": "Facebook",
    "forbes.com": "Forbes",
    "ft.com": "Financial Times",
    "info.lookout.com": "Lookout",
    "judiciary.uk": "Courts and Tribunals Judiciary (UK)",
    "medium.com": "Medium",
    "microsoft.com": "Microsoft",
    "middleeasteye.net": "Middle East Eye",
    "newyorker.com": "The New Yorker",
    "nytimes.com": "The New York Times",
    "cdn.occrp.org": "OCCRP",
    "scroll.in": "Scroll",
    "storage.courtlistener.com": "CourtListener",
    "telegraphindia.com": "The Telegraph (India)",
    "theguardian.com": "The Guardian",
    "thewire.in": "The Wire",
    "ynetnews.com": "Ynetnews",
}
_ARCHIVES = ("web.archive.org", "archive.org", "archive.ph", "archive.today")
_YEAR = re.compile(r"^(19|20)\d{2}$")
_DATE = re.compile(r"^\d{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)?$")
_ARCHIVED = re.compile(r"^https?://web\.archive\.org/web/[^/]+/(?P<url>https?://.+)$")


@dataclass(frozen=True, slots=True)
class TargetRow:
    """One row, as far as the import reads it: never a name or an affiliation."""

    number: int  # the row's place among the data rows, from 1
    digest: str  # the hash of the whole row, its identity
    values: tuple[str, ...]  # the COLUMNS, in order
    problem: str | None = None  # a row the file itself spoils (too many or too few fields)

    def get(self, column: str) -> str:
        """One of the :data:`COLUMNS`, trimmed."""
        return self.values[COLUMNS.index(column)].strip()

    def parts(self, column: str) -> list[str]:
        """The values a multi-valued cell joins with ";"."""
        return [part.strip() for part in self.get(column).split(";") if part.strip()]


def row_digest(cells: Sequence[str]) -> str:
    """The identity of a row: a hash of all its cells (names included, never stored)."""
    return hashlib.sha256(json.dumps(list(cells), ensure_ascii=False).encode()).hexdigest()[:16]


def read_rows(raw: bytes, path: Path) -> list[TargetRow]:
    """The file's rows; raise :class:`DatasetFileInvalid` when it is not such a CSV file."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetFileInvalid(
            [f"{path}: is not UTF-8 text (byte {exc.start + 1}: {exc.reason})"]
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            raise DatasetFileInvalid([f"{path}: is empty"])
        header = [name.strip() for name in header]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise DatasetFileInvalid(
                [
                    f"{path}: has no column {', '.join(repr(c) for c in missing)}; a target file"
                    f" (Granitt's format) has the columns {', '.join(COLUMNS)} among others"
                ]
            )
        positions = [header.index(c) for c in COLUMNS]
        rows: list[TargetRow] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            number = len(rows) + 1
            problem = None
            if len(cells) != len(header):
                problem = f"has {len(cells)} fields, the header {len(header)}"
            values = tuple(cells[i] if i < len(cells) else "" for i in positions)
            rows.append(TargetRow(number, row_digest(cells), values, problem))
    except csv.Error as exc:
        raise DatasetFileInvalid(
            shorten_problems([f"{path}: line {reader.line_num}: is not valid CSV ({exc})"])
        ) from None
    return rows


class TargetsAdapter:
    """Documented spyware targets, counted per operator government, product and year."""

    def __init__(self, product: str, published: TargetFile | None = None) -> None:
        self.product = " ".join(product.split())
        self.published = published
        key = slug(self.product) or "product"
        if published is not None:
            name = f"{published.title} (Granitt)"
            licence = LICENCE
            attribution = f"Granitt, {published.title} ({published.repository}), {LICENCE_SHORT}"
        else:
            name = f"Documented {self.product} targets (Granitt's format)"
            licence = "as its publisher states (Granitt's own target files: CC BY-NC-SA 4.0)"
            attribution = "the publisher of the imported file"
        self.info = DatasetInfo(
            dataset=f"targets-{key}"[:80],
            name=name,
            format=FORMAT,
            licence=licence,
            attribution=attribution,
            claim_prefix=f"{key[:40]}-targets-",
            id_field="row",
            record_word="row",
        )

    def read(self, raw: bytes, path: Path) -> list[TargetRow]:
        """The file's rows."""
        return read_rows(raw, path)

    def record_id(self, record: TargetRow) -> str:
        """The row's hash."""
        return record.digest

    def fields(self, record: TargetRow) -> Iterable[tuple[str, object]]:
        """The columns the import reads (names and affiliations are not among them)."""
        return zip(COLUMNS, record.values, strict=True)

    def plan(self, records: Sequence[TargetRow], context: PlanContext) -> AdapterPlan:
        """One claim per operator and year, counting its rows; rows that cannot count left out."""
        out = AdapterPlan()
        firm_id, exact = context.firm(self.product)
        if firm_id is None:
            nearest = ", ".join(f"{m.name} ({m.id})" for m in exact)
            raise DatasetFileInvalid(
                [
                    f"--product {self.product!r} is not the exact name or product of one firm"
                    " here"
                    + (f" (it names {nearest})" if nearest else "")
                    + "; give the product as a firm's card lists it, such as Pegasus"
                ]
            )
        # The rows each claim counts: one operator (or none), one year (or none).
        groups: dict[tuple[str | None, str | None], list[TargetRow]] = defaultdict(list)
        for row in records:
            placed = self._place(row, context, out)
            if placed is None:
                continue
            operators, years = placed
            for operator in operators:
                for year in years:
                    groups[(operator, year)].append(row)
        attribution = self._attribution()
        for (operator, year), rows in sorted(groups.items(), key=_group_order):
            out.drafts.append(
                self._draft(
                    operator=operator,
                    year=year,
                    rows=rows,
                    firm_id=firm_id,
                    context=context,
                    attribution=attribution,
                    out=out,
                )
            )
        return out

    def _place(
        self, row: TargetRow, context: PlanContext, out: AdapterPlan
    ) -> tuple[list[str | None], list[str | None]] | None:
        """The operators and years a row counts under, or None (reported) when it cannot count."""
        where = f"row {row.number}"
        if row.problem is not None:
            out.not_imported.append((row.digest, f"{where} {row.problem}"))
            return None
        operators: list[str | None] = []
        for spelling in row.parts("operator"):
            code, problem = context.country(spelling)
            if code is None:
                out.not_imported.append(
                    (
                        row.digest,
                        f"{where}: operator {problem}; add it to COUNTRY_SPELLINGS if it is one",
                    )
                )
                return None
            if code not in operators:
                operators.append(code)
        years: list[str | None] = []
        for year in row.parts("occurred"):
            if not _YEAR.match(year):
                out.not_imported.append((row.digest, f"{where}: occurred {year!r} is not a year"))
                return None
            if year not in years:
                years.append(year)
        if len(operators) > 1:
            names = "; ".join(context.name(c) for c in operators if c)
            out.notes.append(
                f"{where}: attributed to {len(operators)} governments ({names}): counted under each"
            )
        return operators or [None], sorted(years, key=str) or [None]

    def _attribution(self) -> Source:
        """The source every claim of the dataset cites: the database, its maker and licence."""
        if self.published is not None:
            return Source(
                url=self.published.repository,
                title=f"{self.published.title}, {LICENCE_SHORT}",
                publisher="Granitt",
            )
        return Source(title=f"Documented {self.product} targets (imported file)")

    def _draft(
        self,
        *,
        operator: str | None,
        year: str | None,
        rows: list[TargetRow],
        firm_id: str,
        context: PlanContext,
        attribution: Source,
        out: AdapterPlan,
    ) -> ClaimDraft:
        """The claim for one operator and year, counting its rows."""
        firm = context.name(firm_id)
        if self.product.casefold() == firm.casefold():
            what, product = f"{firm}'s spyware", None
        else:
            what, product = f"{firm}'s {self.product}", self.product
        when = f"in {year}" if year else "in a year not given"
        by = (
            f"attributed to the government of {in_sentence(context.name(operator))}"
            if operator
            else "operator not attributed"
        )
        disclosers: list[str] = []
        for row in rows:
            disclosers += [d for d in row.parts("disclosed_by") if d not in disclosers]
        compiled = "compiled by Granitt" if self.published else "compiled in the imported file"
        closing = f"Disclosed by {listed(disclosers)}; {compiled}" if disclosers else compiled
        text = (
            f"Reported targeting with {what} {when}, {by}: {_targets(rows)}; {_results(rows)}."
            f" {closing[0].upper()}{closing[1:]}."
        )
        record = f"{operator or 'unattributed'} {year or 'year not given'}"
        parties: list[tuple[EntityRef, Role]] = [(firm_id, Role.SUPPLIER)]
        if operator is not None:
            parties.insert(0, (operator, Role.SUBJECT))
        return ClaimDraft(
            record=record,
            home=operator or firm_id,
            parties=parties,
            text=text,
            status=Status.REPORTED,
            category=Category.USE,
            sources=[*_links(rows, out), attribution],
            date=year,
            reported=_first_disclosed(rows),
            product=product,
            counts=sorted(row.digest for row in rows),
        )

    def already_on_record(
        self, claims: Mapping[str, Claim], hand_written: Sequence[Claim]
    ) -> dict[str, Claim]:
        """None: a count of documented targets is never the one report a person wrote up."""
        del claims, hand_written
        return {}


def _group_order(item: tuple[tuple[str | None, str | None], list[TargetRow]]) -> tuple[str, str]:
    (operator, year), _ = item
    return (operator or "~", year or "~")


def _links(rows: list[TargetRow], out: AdapterPlan) -> list[Source]:
    """Every source link of the rows, as published, each titled with its publisher."""
    sources: list[Source] = []
    seen: set[str] = set()
    for row in rows:
        for link in row.parts("sources"):
            try:
                url = check_http_url(link)
            except ValueError as exc:
                note = f"row {row.number}: source {link!r} {exc}; left out"
                if note not in out.notes:
                    out.notes.append(note)
                continue
            if url not in seen:
                seen.add(url)
                sources.append(_source(url))
    return sources


def _source(url: str) -> Source:
    """A source link as published, titled with who published it (the host when not known)."""
    link = LinkKind.ORIGINAL
    shown = url
    archived = _ARCHIVED.match(url)
    if archived:
        link, shown = LinkKind.ARCHIVE, archived["url"]
    host = (urlsplit(shown).hostname or "").removeprefix("www.")
    if host in _ARCHIVES:
        link = LinkKind.ARCHIVE
    publisher = PUBLISHERS.get(host)
    return Source(url=url, title=publisher or host or url[:200], link=link)


def _targets(rows: list[TargetRow]) -> str:
    """ "12 documented targets (6 journalists, 3 activists ...)": the count by role."""
    roles: Counter[str] = Counter(row.get("role").casefold() for row in rows)
    parts: list[tuple[int, str]] = []
    for role, count in roles.items():
        if not role:
            parts.append((count, f"{count} with no role given"))
            continue
        one, several = ROLES.get(role, (f"listed as {role}", f"listed as {role}"))
        parts.append((count, f"{count} {one if count == 1 else several}"))
    parts.sort(key=lambda p: (-p[0], p[1]))
    total = len(rows)
    noun = "documented target" if total == 1 else "documented targets"
    return f"{total} {noun} ({', '.join(p for _, p in parts)})"


def _results(rows: list[TargetRow]) -> str:
    """ "attacks successful against 4, attempted only against 8": the count by attack result."""
    successful = attempted = unknown = 0
    for row in rows:
        results = {r.casefold() for r in row.parts("attack_result")}
        if "successful" in results:
            successful += 1
        elif "attempted" in results:
            attempted += 1
        else:
            unknown += 1
    parts = []
    if successful:
        parts.append(f"successful against {successful}")
    if attempted:
        parts.append(f"attempted only against {attempted}")
    if unknown:
        parts.append(f"no result given for {unknown}")
    return "attacks " + ", ".join(parts)


def _first_disclosed(rows: list[TargetRow]) -> str | None:
    """The earliest disclosure date of the rows (when the targeting was first reported)."""
    dates = [d for row in rows for d in row.parts("disclosed") if _real_date(d)]
    return min(dates) if dates else None


def _real_date(text: str) -> bool:
    """Whether ``text`` is a calendar year, month or day (2017, 2017-06, 2017-06-19)."""
    if not _DATE.match(text):
        return False
    year, month, day = [*map(int, text.split("-")), 1, 1][:3]
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True
