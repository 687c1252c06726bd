"""Importing the Surveillance Industry Index (Privacy International): its transfer records.

The file (``transfers.json`` from TransparencyToolkit/dataspec-sii) is validated whole before the
database is touched. Each record becomes one ``transfer`` claim with provenance (dataset ``sii``,
the file's sha256, the record's ``unique_id``): the supplier firm, matched to an existing firm by
exact name and headquarters or created for the dataset, or the exporting country when no company is
named; the recipient country; goods, end user, order year, sources and an honest status. Names are
resolved through the search index, and only exact names count: a spelling the knowledge base does
not know exactly is mapped in :data:`COUNTRY_SPELLINGS` below, each entry with its reason, or the
record is reported as not imported. Nothing is attached to a merely similar name.

An import is one transaction: it adds new records, rewrites changed ones, removes records the file
no longer has and the firms only they needed, and leaves hand-written claims alone.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from armsbot.hidden_text import escape_hidden, hidden_character, hidden_reason
from armsbot.models import (
    MAX_NAME,
    MAX_NESTING,
    Category,
    Claim,
    Kind,
    Party,
    Provenance,
    Role,
    Source,
    Status,
    check_http_url,
)
from armsbot.search.index import MatchTier, SearchIndex
from armsbot.services.quality import particulars
from armsbot.storage import KnowledgeBase
from armsbot.storage.datasets import DatasetEntity, DatasetStore, StoredClaim

DATASET = "sii"
DATASET_NAME = "Surveillance Industry Index (Privacy International)"
MAX_PROBLEMS_SHOWN = 20

# Spellings in the SII file that the knowledge base does not know as an exact name of a country
# (every ISO/CLDR name and the curated aliases in data/countries are exact names already). Each
# entry was checked by hand against the record(s) that use it.
COUNTRY_SPELLINGS: dict[str, str] = {
    # A typo of Norway (t is beside y on the keyboard); no country or territory is called Norwat.
    # The record (_Norwat_2009) is German export-licence data, listed with the other Norway rows.
    "Norwat": "NO",
    # The Democratic Republic of the Congo without "the"; the other Congo (CG) is the Republic of
    # the Congo, which nobody calls "Democratic".
    "Democratic Republic of Congo": "CD",
    # ISO 3166-1 calls PS "Palestine, State of" and the knowledge base "Palestinian Territories";
    # "Palestine" names nothing else.
    "Palestine": "PS",
}

# Supplier spellings that name the same firm as another spelling in the file.
FIRM_SPELLINGS: dict[str, str] = {
    # ZTE's full company name; the file also writes it "ZTE" (both Chinese, both ZTE).
    "ZTE Corporation": "ZTE",
    # Written "ETI A/S, BAE" (Denmark, United Kingdom): BAE Systems, which bought ETI A/S in 2011
    # and appears in four other records as "BAE Systems".
    "BAE": "BAE Systems",
}

# A marker after a company's name says what part it played; it is not part of the name.
ROLE_MARKERS: dict[str, Role] = {"broker": Role.BROKER, "reseller": Role.SUPPLIER}

# The SII's goods categories (its goods field is named after them), and the variant spellings the
# file uses for them. Keys are folded to lower case with single spaces.
GOODS: dict[str, str] = {
    "biometrics": "Biometrics",
    "deep packet inspection": "Deep packet inspection",
    "deeo packet inspection": "Deep packet inspection",  # a typo in one record
    "fibre taps / probes": "Fibre taps / probes",
    "fiber taps / probes": "Fibre taps / probes",
    "forensics": "Forensics",
    "internet filters": "Internet filters",
    "intrusion software": "Intrusion software",
    "laser acoustic detection equipment": "Laser acoustic detection equipment",
    "lawful interception": "Lawful interception",
    "lawful interception mediation": "Lawful interception mediation",
    "location tracking": "Location tracking",
    "monitoring centre": "Monitoring centre",
    "monitoring centres": "Monitoring centre",
    "network infrastructure and services": "Network infrastructure and services",
    # The category is "network infrastructure and services"; a few records shorten it.
    "network infrastructure": "Network infrastructure and services",
    "off the air interception": "Off the air interception",
}

# Firms of one group: a supplier the file names, and the group it belongs to (the firm's
# ``parent``), each checked by hand. Matched by exact name, like every firm.
FIRM_PARENTS: dict[str, str] = {
    # Alcatel Shanghai Bell was Alcatel-Lucent's joint venture in China (Alcatel-Lucent held the
    # controlling share); the file names both.
    "Alcatel Shanghai Bell": "Alcatel-Lucent",
    # Nokia Siemens Networks was the joint venture of Nokia and Siemens (2007-2013); the file
    # names Siemens as a supplier in its own right, and does not name Nokia.
    "Nokia Siemens Networks": "Siemens",
    # ETI A/S (Denmark) was bought by BAE Systems in 2011 and became BAE Systems Applied
    # Intelligence; the file names it alone and beside "BAE".
    "ETI A/S": "BAE Systems",
}

STATUSES: dict[str, Status] = {
    # Official export-licence data: what it confirms is that a licence was granted, not that
    # anything was delivered (the wording says so, and gives delivery as the record does).
    "export data": Status.CONFIRMED,
    # Press and NGO reports collected by Privacy International.
    "open": Status.REPORTED,
}

# Country names that read best with "the" inside a sentence.
_WITH_ARTICLE = {"Netherlands", "Philippines", "Bahamas", "Gambia", "Maldives", "Seychelles"}
_ARTICLE_PREFIXES = ("United ", "Democratic Republic", "Republic of", "Central African")
_ARTICLE_SUFFIXES = (" Republic", " Islands", " Emirates", " Territories")
# A comma before these continues a company's name ("Foo, Inc.") rather than starting another.
_LEGAL_SUFFIX = re.compile(r"^(inc|ltd|llc|plc|gmbh|s\.?a|s\.?p\.?a|ag|corp|co)\.?$", re.IGNORECASE)
_MARKER = re.compile(r"^(?P<name>.*?)\s*\((?P<marker>[^()]+)\)$")
_SCHEMELESS = re.compile(r"^(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:[/?#]\S*)?$", re.IGNORECASE)
_URL_IN_TEXT = re.compile(r"https?://[^\s<>]+")
_BRACKETED_URL = re.compile(r"<(https?://[^\s<>]+)>")
_BARE_URL = re.compile(r"(?<![<\w/])https?://[^\s<>]+")
_ANY_URL = re.compile(r"<[^<>]*>|https?://\S+|www\.\S+")
_JSON_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


class SiiFileInvalid(Exception):
    """A file that cannot be imported at all; ``problems`` say where and why."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class SiiRecord(BaseModel):
    """One transfer record as the SII file has it (the fields the import reads)."""

    # Strict: a year written as a list or goods written as a string is an error, not a guess.
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    unique_id: str
    supplier_company: str | None = None
    supplier_company_hq: str | None = None
    recipient_country: str | None = None
    enduser: str | None = None
    goods: list[str] | None = None
    export_data_or_open_source: str | None = None
    transfer_to_enduser_reported_as_complete: str | None = None
    order_year: int | str | None = None
    sources: str | None = None
    source_links: list[str | None] | None = Field(default=None)
    title: str | None = None

    @field_validator("unique_id")
    @classmethod
    def _present(cls, value: str) -> str:
        if not value.strip():
            msg = "must not be empty"
            raise ValueError(msg)
        return value.strip()


_RECORDS: TypeAdapter[list[SiiRecord]] = TypeAdapter(list[SiiRecord])


@dataclass(frozen=True, slots=True)
class SiiFile:
    """A validated SII file: its records and its sha256."""

    path: Path
    checksum: str
    records: list[SiiRecord]


def read_sii_file(path: Path) -> SiiFile:
    """Read and validate the whole file; raise :class:`SiiFileInvalid` on any structural fault."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SiiFileInvalid([f"{path}: cannot be read ({exc.strerror or exc})"]) from None
    checksum = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode(json.detect_encoding(raw))
    except UnicodeDecodeError:
        raise SiiFileInvalid([f"{path}: is not UTF-8 text"]) from None
    too_deep = _too_deep(text)
    if too_deep is not None:
        raise SiiFileInvalid(
            [f"{path}: is nested more than {MAX_NESTING} levels deep (line {too_deep})"]
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SiiFileInvalid(
            [f"{path}: is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"]
        ) from None
    if not isinstance(data, list):
        raise SiiFileInvalid(
            [f"{path}: must hold a JSON list of transfer records, not a {type(data).__name__}"]
        )
    try:
        records = _RECORDS.validate_python(data)
    except ValidationError as exc:
        raise SiiFileInvalid(_validation_problems(exc, data)) from None
    return SiiFile(path, checksum, records)


def _too_deep(text: str) -> int | None:
    """The line where JSON ``text`` nests deeper than :data:`MAX_NESTING`, or None.

    ``json.loads`` recurses once per level and fails with a RecursionError on hostile input, so
    the brackets outside strings are counted first, without parsing.
    """
    depth = 0
    for found in _JSON_STRING_OR_BRACKET.finditer(text):
        piece = found.group()
        if piece in ("[", "{"):
            depth += 1
            if depth > MAX_NESTING:
                return text.count("\n", 0, found.start()) + 1
        elif piece in ("]", "}"):
            depth -= 1
    return None


def _validation_problems(error: ValidationError, data: list[Any]) -> list[str]:
    problems = []
    for item in error.errors():
        loc = item["loc"]
        index = loc[0] if loc and isinstance(loc[0], int) else None
        where = "the file"
        if index is not None:
            record = data[index]
            uid = record.get("unique_id") if isinstance(record, dict) else None
            where = f"record {index + 1}" + (
                f" ({escape_hidden(uid)})" if isinstance(uid, str) else ""
            )
        path = ".".join(str(p) for p in loc[1:]) or "the record"
        problems.append(f"{where}: {path}: {item['msg']}")
    if len(problems) > MAX_PROBLEMS_SHOWN:
        hidden = len(problems) - MAX_PROBLEMS_SHOWN
        problems = [*problems[:MAX_PROBLEMS_SHOWN], f"... and {hidden} more"]
    return problems


# -- the report --------------------------------------------------------------------------------


@dataclass(slots=True)
class ImportReport:
    """What one import did; added + updated + unchanged + merged + not imported = records read."""

    path: str
    checksum: str
    records_read: int
    claims_added: int = 0
    claims_updated: int = 0
    claims_unchanged: int = 0
    # Unchanged claims whose provenance now names this file (imported before from another one).
    claims_restamped: int = 0
    # Records of an earlier import that this file no longer has; their claims were removed.
    claims_removed: list[str] = field(default_factory=list)
    firms_created: list[str] = field(default_factory=list)
    firms_updated: list[str] = field(default_factory=list)
    firms_unchanged: list[str] = field(default_factory=list)
    firms_matched: list[str] = field(default_factory=list)
    firms_removed: list[str] = field(default_factory=list)
    firms_kept: list[tuple[str, str]] = field(default_factory=list)
    not_imported: list[tuple[str, str]] = field(default_factory=list)
    # Records that say word for word what another says, cited by that record's claim.
    records_merged: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    dataset: str = DATASET

    @property
    def changed(self) -> bool:
        """Whether the import changed the database at all."""
        return bool(
            self.claims_added
            or self.claims_updated
            or self.claims_removed
            or self.firms_created
            or self.firms_updated
            or self.firms_removed
        )

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        out = asdict(self)
        out["not_imported"] = [{"unique_id": u, "reason": r} for u, r in self.not_imported]
        out["records_merged"] = [{"unique_id": u, "into": i} for u, i in self.records_merged]
        out["firms_kept"] = [{"id": i, "reason": r} for i, r in self.firms_kept]
        out["seconds"] = round(self.seconds, 2)
        return out


@dataclass(slots=True)
class RemoveReport:
    """What removing the dataset did."""

    claims_removed: int = 0
    firms_removed: list[str] = field(default_factory=list)
    firms_kept: list[tuple[str, str]] = field(default_factory=list)
    dataset: str = DATASET

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        out = asdict(self)
        out["firms_kept"] = [{"id": i, "reason": r} for i, r in self.firms_kept]
        return out


# -- resolving names ---------------------------------------------------------------------------


def resolve_country(index: SearchIndex, spelling: str) -> tuple[str | None, str | None]:
    """The ISO code a spelling in the file means, or None with the reason it is not clear."""
    text = " ".join(spelling.split())
    curated = COUNTRY_SPELLINGS.get(text)
    if curated is not None:
        if index.entity_kind(curated) is Kind.COUNTRY:
            return curated, None
        return None, f"{text!r} is mapped to {curated}, which is not a country here"
    resolution = index.resolve(text, Kind.COUNTRY)
    chosen = resolution.chosen
    if chosen is not None and chosen.tier is MatchTier.EXACT:
        return chosen.id, None
    guesses = ", ".join(f"{m.name} ({m.id})" for m in resolution.candidates[:3])
    why = f"{text!r} is not the exact name of one country"
    return None, why + (f" (nearest: {guesses})" if guesses else "")


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _split_companies(text: str) -> list[str]:
    """The companies one supplier field names ("Hacking Team, NICE Systems" names two)."""
    parts: list[str] = []
    for raw in text.split(","):
        part = " ".join(raw.split())
        if not part:
            continue
        if parts and _LEGAL_SUFFIX.match(part):
            parts[-1] = f"{parts[-1]}, {part}"
        else:
            parts.append(part)
    return parts


def _company(written: str) -> tuple[str, str, Role]:
    """A company as written without its role marker, under its file-wide name, and its role."""
    name, role = written, Role.SUPPLIER
    marked = _MARKER.match(written)
    if marked and marked["marker"].strip().lower() in ROLE_MARKERS:
        name, role = marked["name"].strip(), ROLE_MARKERS[marked["marker"].strip().lower()]
    return name, FIRM_SPELLINGS.get(name, name), role


def _shorten(text: str, limit: int = MAX_NAME) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"


def _clean_title(text: str) -> str:
    """Citation text as a source title: links taken out (the URL is shown beside it), trimmed."""
    text = _ANY_URL.sub(" ", text)
    text = " ".join(text.split()).strip(" ,;:&-<>")
    return _shorten(text)


def _url(link: str) -> tuple[str | None, str]:
    """A usable URL from one ``source_links`` entry, and any citation text written before it."""
    # A line break inside a link is where the citation was wrapped, not part of the address.
    text = re.sub(r"\s*[\r\n]+\s*", "", link).strip().strip("<>").strip()
    for candidate in (text, f"http://{text}" if _SCHEMELESS.match(text) else None):
        if candidate is None:
            continue
        try:
            return check_http_url(candidate), ""
        except ValueError:
            pass
    # Some entries hold a whole citation ending in its URL.
    found = list(_URL_IN_TEXT.finditer(text))
    if len(found) == 1 and found[0].end() == len(text) and found[0].start() > 0:
        try:
            return check_http_url(found[0].group()), text[: found[0].start()]
        except ValueError:
            pass
    return None, ""


def _sources(record: SiiRecord) -> tuple[list[Source], list[str]]:
    """The record's sources (each link titled with its part of the citation), and problems."""
    citation = " ".join((record.sources or "").split())
    notes: list[str] = []
    linked: list[tuple[str, str]] = []
    cursor = 0
    for link in record.source_links or []:
        if link is None or not link.strip():
            continue
        url, leading = _url(link)
        if url is None:
            notes.append(f"link {link.strip()!r} is not a usable URL; the citation is kept")
            continue
        # The part of the citation between the previous link and this one is this link's title.
        written = re.sub(r"\s*[\r\n]+\s*", "", link).strip().strip("<>").strip()
        at = citation.find(written, cursor)
        title = _clean_title(leading) if leading else ""
        if not title and at >= 0:
            title = _clean_title(citation[cursor:at])
            cursor = at + len(written)
        linked.append((url, title or _clean_title(citation)))
    if not linked and citation:
        # Citations without links sometimes spell the link out in the text.
        urls = _BRACKETED_URL.findall(citation) or _BARE_URL.findall(citation)
        linked = [(u.rstrip(".,;"), "") for u in urls if _valid_url(u.rstrip(".,;"))]
        cursor = 0
        for i, (url, _) in enumerate(linked):
            at = citation.find(url, cursor)
            title = _clean_title(citation[cursor:at]) if at >= 0 else ""
            linked[i] = (url, title or _clean_title(citation))
            cursor = at + len(url) if at >= 0 else cursor
    sources: list[Source] = []
    seen: set[str] = set()
    for url, title in linked:
        if url not in seen:
            seen.add(url)
            sources.append(
                Source(url=url, title=title or _record_title(record), publisher=DATASET_NAME)
            )
    if not sources:
        title = _clean_title(citation) or _record_title(record)
        sources.append(Source(title=title, publisher=DATASET_NAME))
    return sources, notes


def _valid_url(url: str) -> bool:
    try:
        check_http_url(url)
    except ValueError:
        return False
    return True


def _record_title(record: SiiRecord) -> str:
    title = " ".join((record.title or "").split())
    return _shorten(title) if title else f"Surveillance Industry Index record {record.unique_id}"


def _goods(record: SiiRecord) -> list[str]:
    goods: list[str] = []
    for item in record.goods or []:
        key = " ".join(item.split()).casefold()
        if not key:
            continue
        label = GOODS.get(key, _shorten(" ".join(item.split())))
        if label not in goods:
            goods.append(label)
    return goods


def _date(record: SiiRecord) -> tuple[str | None, str | None]:
    """The order year as a date, or as text when it is not a calendar year ("mid-2000s")."""
    year = record.order_year
    if year is None:
        return None, None
    text = str(year).strip()
    if re.fullmatch(r"[12]\d{3}", text):
        return text, None
    return None, (_shorten(text) if text else None)


def _is_licence(record: SiiRecord) -> bool:
    return STATUSES.get((record.export_data_or_open_source or "").strip().lower()) is (
        Status.CONFIRMED
    )


# -- wording -----------------------------------------------------------------------------------


def _in_sentence(country: str) -> str:
    needs_article = (
        country in _WITH_ARTICLE
        or country.startswith(_ARTICLE_PREFIXES)
        or country.endswith(_ARTICLE_SUFFIXES)
    )
    return f"the {country}" if needs_article else country


def _listed(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _goods_words(goods: Sequence[str]) -> str:
    if not goods:
        return "surveillance technology"
    return _listed([g[0].lower() + g[1:] if g[1:2].islower() else g for g in goods])


def claim_text(
    *,
    suppliers: Sequence[str],
    brokers: Sequence[str],
    supplier_countries: Sequence[str],
    headquarters: Sequence[str],
    recipient: str | None,
    goods: Sequence[str],
    end_user: str | None,
    date: str | None,
    date_text: str | None,
    status: Status,
    complete: str | None,
) -> str:
    """One neutral sentence that says what the record says, and no more."""
    based = f" ({', '.join(headquarters)})" if headquarters else ""
    what = _goods_words(goods)
    if status is Status.CONFIRMED:
        return _licence_text(
            suppliers=suppliers or brokers,
            based=based,
            supplier_countries=supplier_countries,
            recipient=recipient,
            what=what,
            end_user=end_user,
            date=date or date_text,
            complete=complete,
        )
    if suppliers:
        subject, verb = f"{_listed(suppliers)}{based}", f"supplied {what}"
    elif brokers:
        subject, verb = f"{_listed(brokers)}{based}", f"brokered a transfer of {what}"
    elif supplier_countries:
        places = _listed([_in_sentence(c) for c in supplier_countries])
        subject, verb = f"An unnamed supplier in {places}", f"supplied {what}"
    else:
        subject, verb = "An unnamed supplier", f"supplied {what}"
    to = _in_sentence(recipient) if recipient else "an unnamed recipient"
    through = f" through {_listed(brokers)}" if suppliers and brokers else ""
    details = []
    if end_user:
        details.append(f"end user: {end_user}")
    if date:
        details.append(f"order year {date}")
    elif date_text:
        details.append(f"order year: {date_text}")
    detail = f" ({'; '.join(details)})" if details else ""
    basis = "open sources collected in the Surveillance Industry Index"
    outcome = {
        "yes": "; the transfer to the end user was reported as complete",
        "no": "; the transfer to the end user was reported as not complete",
    }.get((complete or "").strip().lower(), "")
    return f"{subject} {verb} to {to}{through}{detail}, according to {basis}{outcome}."


def _licence_text(
    *,
    suppliers: Sequence[str],
    based: str,
    supplier_countries: Sequence[str],
    recipient: str | None,
    what: str,
    end_user: str | None,
    date: str | None,
    complete: str | None,
) -> str:
    """A licence record: the licence is the fact; delivery only as the record states it."""
    if suppliers:
        subject = f"{_listed(suppliers)}{based} was licensed"
    elif supplier_countries:
        places = _listed([_in_sentence(c) for c in supplier_countries])
        subject = f"An unnamed exporter in {places} was licensed"
    else:
        subject = "An unnamed exporter was licensed"
    to = _in_sentence(recipient) if recipient else "an unnamed recipient"
    details = []
    if end_user:
        details.append(f"end user: {end_user}")
    if date:
        details.append(f"licence year {date}")
    detail = f" ({'; '.join(details)})" if details else ""
    delivery = {
        "yes": "delivery reported as complete",
        "no": "delivery reported as not complete",
    }.get((complete or "").strip().lower(), "whether it was delivered is not known")
    return (
        f"{subject} to export {what} to {to}{detail}, according to export-licence data in the"
        f" Surveillance Industry Index; {delivery}."
    )


# -- planning ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Company:
    spelling: str  # as the file writes it, without a role marker
    name: str  # under FIRM_SPELLINGS
    role: Role
    firm_id: str | None = None  # an existing firm, when matched
    key: str | None = None  # a firm to create, by slug, when not


@dataclass(slots=True)
class _Draft:
    record: SiiRecord
    recipient: str | None
    headquarters: list[str]
    companies: list[_Company]


@dataclass(slots=True)
class _NewFirm:
    names: Counter[str] = field(default_factory=Counter)
    spellings: set[str] = field(default_factory=set)
    headquarters: list[tuple[str, ...]] = field(default_factory=list)


@dataclass(slots=True)
class Plan:
    """What the database should hold for the dataset after the import."""

    claims: dict[str, tuple[str, Claim]] = field(default_factory=dict)  # record -> (home, claim)
    firms: dict[str, DatasetEntity] = field(default_factory=dict)
    matched: set[str] = field(default_factory=set)
    not_imported: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    merged: list[tuple[str, str]] = field(default_factory=list)  # (record, into record)


@dataclass(slots=True)
class _Planner:
    index: SearchIndex
    firm_headquarters: dict[str, str | None]
    taken_entity_ids: set[str]
    taken_claim_ids: set[str]
    checksum: str
    plan: Plan = field(default_factory=Plan)
    _countries: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    _new: dict[str, _NewFirm] = field(default_factory=lambda: defaultdict(_NewFirm))
    _parents: dict[str, str | None] = field(default_factory=dict)

    def country(self, spelling: str) -> tuple[str | None, str | None]:
        """A country spelling resolved once per import."""
        if spelling not in self._countries:
            self._countries[spelling] = resolve_country(self.index, spelling)
        return self._countries[spelling]

    def draft(self, record: SiiRecord) -> _Draft | str:
        """The record with its names resolved, or why it cannot be imported."""
        if (record.export_data_or_open_source or "").strip().lower() not in STATUSES:
            return (
                f"export_data_or_open_source is {record.export_data_or_open_source!r}; "
                "expected 'Export data' or 'Open'"
            )
        recipient = None
        if record.recipient_country and record.recipient_country.strip():
            recipient, problem = self.country(record.recipient_country)
            if recipient is None:
                return f"recipient_country {problem}; add it to COUNTRY_SPELLINGS if it is one"
        headquarters: list[str] = []
        for part in (record.supplier_company_hq or "").split(","):
            if not part.strip():
                continue
            code, problem = self.country(part)
            if code is None:
                return f"supplier_company_hq {problem}; add it to COUNTRY_SPELLINGS if it is one"
            if code not in headquarters:
                headquarters.append(code)
        companies = [
            _Company(*_company(written))
            for written in _split_companies(record.supplier_company or "")
        ]
        if not companies and not headquarters and recipient is None:
            return "names neither a supplier, nor a supplier country, nor a recipient"
        licence = _is_licence(record)
        for company in companies:
            self._match(company, headquarters, record.unique_id, licence=licence)
        return _Draft(record, recipient, headquarters, companies)

    def _match(
        self, company: _Company, headquarters: list[str], uid: str, *, licence: bool
    ) -> None:
        """Match an existing firm by any of its exact names, or mark the firm to create.

        ``licence``: the record is export-licence data, whose country is the licensing state.
        """
        resolution = self.index.resolve(company.name, Kind.FIRM)
        chosen = resolution.chosen
        exact = [m for m in resolution.candidates if m.tier is MatchTier.EXACT]
        if chosen is not None and chosen.tier is MatchTier.EXACT:
            company.firm_id = chosen.id
            self.plan.matched.add(chosen.id)
            based = self.firm_headquarters.get(chosen.id)
            if based and headquarters and based not in headquarters and not licence:
                # The record's country may be a subsidiary's or a licensing state's: the firm
                # stays one entry, and the disagreement is reported.
                self.plan.notes.append(
                    f"{uid}: headquarters disagree: {company.name!r} is {chosen.name}"
                    f" ({chosen.id}), based in {self._name(based)}; the record places it in"
                    f" {', '.join(self._name(c) for c in headquarters)}"
                )
            return
        if exact:
            self.plan.notes.append(
                f"{uid}: several firms are called {company.name!r} "
                f"({', '.join(m.id for m in exact)}): imported as a separate firm"
            )
        key = _slug(company.name) or "firm-" + hashlib.sha256(company.name.encode()).hexdigest()[:8]
        company.key = key
        new = self._new[key]
        new.names[company.name] += 1
        if company.spelling != company.name:
            # The other spelling (ZTE Corporation for ZTE) stays findable as an alias.
            new.spellings.add(company.spelling)

    def _name(self, entity_id: str) -> str:
        return self.index.entity_name(entity_id) or entity_id

    def firms(self, drafts: list[_Draft]) -> dict[str, str]:
        """Decide the firms to create; return firm key -> entity id."""
        for draft in drafts:
            # Only a record that names one company says where that company is based, and only
            # an open-source one: licence data gives the licensing state (BAE Systems' Danish
            # licences), not where the firm is based.
            if (
                len(draft.companies) == 1
                and draft.companies[0].key
                and draft.headquarters
                and not _is_licence(draft.record)
            ):
                self._new[draft.companies[0].key].headquarters.append(tuple(draft.headquarters))
        ids: dict[str, str] = {}
        for key in sorted(self._new):
            new = self._new[key]
            name = sorted(new.names.items(), key=lambda item: (-item[1], item[0]))[0][0]
            entity_id = key[:70]
            suffix = 1
            while entity_id in self.taken_entity_ids:
                suffix += 1
                entity_id = f"{key[:60]}-sii" + ("" if suffix == 2 else f"-{suffix - 1}")
            self.taken_entity_ids.add(entity_id)
            ids[key] = entity_id
            attributes: dict[str, Any] = {}
            places = set(new.headquarters)
            if len(places) == 1 and len(next(iter(places))) == 1:
                attributes["headquarters"] = next(iter(places))[0]
            self._parents[entity_id] = FIRM_PARENTS.get(name)
            self.plan.firms[entity_id] = DatasetEntity(
                id=entity_id,
                kind=Kind.FIRM,
                name=name,
                summary=(
                    f"Named in the transfer records of the {DATASET_NAME}; this entry was created "
                    "by importing them, and nothing has been written about the firm by hand yet."
                ),
                attributes=attributes,
                aliases=tuple(sorted(new.spellings - {name})),
            )
        self._link_parents()
        return ids

    def _link_parents(self) -> None:
        """Give each created firm of a known group its parent: an existing or a created firm."""
        created = {firm.name: firm_id for firm_id, firm in self.plan.firms.items()}
        for firm_id, parent_name in sorted(self._parents.items()):
            if parent_name is None:
                continue
            parent = created.get(parent_name)
            if parent is None:
                chosen = self.index.resolve(parent_name, Kind.FIRM).chosen
                parent = chosen.id if chosen and chosen.tier is MatchTier.EXACT else None
            firm = self.plan.firms[firm_id]
            if parent is None or parent == firm_id:
                self.plan.notes.append(
                    f"{firm.name} belongs to {parent_name}, which is not a firm here: no parent set"
                )
                continue
            firm.attributes["parent"] = parent
            self.plan.notes.append(f"parent: {firm.name} ({firm_id}) belongs to {parent}")

    def claim_ids(self, records: list[SiiRecord]) -> dict[str, str]:
        """A stable, unique claim id for each record id."""
        by_base: dict[str, list[str]] = defaultdict(list)
        for uid in sorted({r.unique_id for r in records}):
            base = "sii-" + (_slug(uid)[:64].strip("-") or "record")
            by_base[base].append(uid)
        ids: dict[str, str] = {}
        for base, uids in by_base.items():
            for position, uid in enumerate(uids):
                if position == 0 and base not in self.taken_claim_ids:
                    ids[uid] = base
                else:
                    # Two records (or a hand-written claim) share the slug: the record's own hash
                    # keeps the id stable whatever else the file holds.
                    ids[uid] = f"{base}-{hashlib.sha256(uid.encode()).hexdigest()[:8]}"
        return ids

    def claim(self, draft: _Draft, claim_id: str, firm_ids: dict[str, str]) -> tuple[str, Claim]:
        """The record as a claim, with the entity it is filed under."""
        record = draft.record
        parties: list[Party] = []
        suppliers: list[str] = []
        brokers: list[str] = []
        for company in draft.companies:
            if company.firm_id is not None:
                entity_id = company.firm_id
            else:
                assert company.key is not None
                entity_id = firm_ids[company.key]
            party = Party(entity=entity_id, role=company.role)
            if party not in parties:
                parties.append(party)
            # The sentence names the companies as the record does ("Gamma International and
            # FinFisher" even where both are one firm here); the parties link the entities.
            (brokers if company.role is Role.BROKER else suppliers).append(company.spelling)
        supplier_countries: list[str] = []
        if not draft.companies:
            for code in draft.headquarters:
                parties.append(Party(entity=code, role=Role.SUPPLIER))
                supplier_countries.append(self._name(code))
        if draft.recipient is not None:
            parties.append(Party(entity=draft.recipient, role=Role.RECIPIENT))
        # Filed under the firm it is about; a country's export under the country that received it.
        home = parties[0].entity if draft.companies or draft.recipient is None else draft.recipient
        status = STATUSES[(record.export_data_or_open_source or "").strip().lower()]
        date, date_text = _date(record)
        goods = _goods(record)
        end_user = " ".join((record.enduser or "").split())
        if end_user.casefold() in {"", "unknown", "n/a", "none"}:
            end_user = ""
        end_user = _shorten(end_user)
        sources, problems = _sources(record)
        self.plan.notes += [f"{record.unique_id}: {p}" for p in problems]
        text = claim_text(
            suppliers=suppliers,
            brokers=brokers,
            supplier_countries=supplier_countries,
            headquarters=[self._name(c) for c in draft.headquarters] if draft.companies else [],
            recipient=self._name(draft.recipient) if draft.recipient else None,
            goods=goods,
            end_user=end_user or None,
            date=date,
            date_text=date_text,
            status=status,
            complete=record.transfer_to_enduser_reported_as_complete,
        )
        claim = Claim(
            id=claim_id,
            text=text,
            status=status,
            category=Category.TRANSFER,
            date=date,
            date_text=date_text,
            parties=parties,
            end_user=end_user or None,
            goods=goods,
            sources=sources,
            provenance=Provenance(dataset=DATASET, checksum=self.checksum, record=record.unique_id),
        )
        return home, claim


def _hidden_text(record: SiiRecord) -> str | None:
    """The field of the record that holds a character the knowledge base refuses, and why."""
    for name, value in record:
        texts = value if isinstance(value, list) else [value]
        for text in texts:
            found = hidden_character(text) if isinstance(text, str) else None
            if found is not None:
                return f"{name}: {hidden_reason(found)}"
    return None


def plan_import(
    file: SiiFile,
    index: SearchIndex,
    firm_headquarters: dict[str, str | None],
    taken_entity_ids: set[str],
    taken_claim_ids: set[str],
    *,
    hand_written: Sequence[Claim] = (),
) -> Plan:
    """What the database should hold for ``file``: claims, firms to create, records left out.

    ``hand_written``: the knowledge base's own transfer claims; a record of the same transfer is
    left out (and reported) rather than shown twice.
    """
    planner = _Planner(
        index, firm_headquarters, set(taken_entity_ids), taken_claim_ids, file.checksum
    )
    plan = planner.plan
    first_seen: dict[str, int] = {}
    drafts: list[_Draft] = []
    for number, record in enumerate(file.records, start=1):
        uid = record.unique_id
        hidden = _hidden_text(record)
        if hidden is not None:
            # Shown escaped: the report must print, whatever the record holds.
            plan.not_imported.append((escape_hidden(uid), hidden))
            continue
        if uid in first_seen:
            plan.not_imported.append(
                (uid, f"duplicate unique_id: record {number} repeats record {first_seen[uid]}")
            )
            continue
        first_seen[uid] = number
        drafted = planner.draft(record)
        if isinstance(drafted, str):
            plan.not_imported.append((uid, drafted))
        else:
            drafts.append(drafted)
    firm_ids = planner.firms(drafts)
    claim_ids = planner.claim_ids([d.record for d in drafts])
    for draft in drafts:
        uid = draft.record.unique_id
        try:
            home, claim = planner.claim(draft, claim_ids[uid], firm_ids)
        except ValidationError as exc:
            reasons = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'claim'}: {e['msg']}" for e in exc.errors()
            )
            plan.not_imported.append((uid, f"does not make a valid claim ({reasons})"))
            continue
        plan.claims[uid] = (home, claim)
    _collapse_identical(plan)
    _leave_out_hand_written(plan, hand_written)
    used_firms = {p.entity for _, claim in plan.claims.values() for p in claim.parties}
    # A firm whose only record could not be imported is not created.
    plan.firms = {i: f for i, f in plan.firms.items() if i in used_firms}
    plan.matched &= used_firms
    return plan


def _content(home: str, claim: Claim) -> tuple[Any, ...]:
    """What a reader sees of a claim, apart from its sources."""
    return (
        home,
        claim.text,
        claim.status,
        claim.category,
        claim.date,
        claim.date_text,
        claim.product,
        claim.end_user,
        tuple(claim.goods),
        tuple(claim.parties),
    )


def _collapse_identical(plan: Plan) -> None:
    """Records that say word for word what an earlier one says: one claim that cites them all."""
    first_of: dict[tuple[Any, ...], str] = {}
    merged: dict[str, list[str]] = defaultdict(list)
    for uid, (home, claim) in list(plan.claims.items()):
        first = first_of.setdefault(_content(home, claim), uid)
        if first == uid:
            continue
        del plan.claims[uid]
        merged[first].append(uid)
        first_home, first_claim = plan.claims[first]
        sources = list(first_claim.sources)
        sources += [s for s in claim.sources if s not in sources]
        assert first_claim.provenance is not None
        provenance = first_claim.provenance.model_copy(
            update={"merged": [*first_claim.provenance.merged, uid]}
        )
        plan.claims[first] = (
            first_home,
            first_claim.model_copy(update={"sources": sources, "provenance": provenance}),
        )
    for first, others in merged.items():
        plan.merged += [(uid, first) for uid in others]
        plan.notes.append(
            f"{first}: {len(others)} other record(s) say the same ({', '.join(others)}):"
            " one claim cites them all"
        )
    _mark_distinct(plan)


def _mark_distinct(plan: Plan) -> None:
    """Records of one event that say different things (two licences of a year, one delivered and
    one not) stay two claims, each saying it is distinct from the first: the dataset lists them
    as separate records, and db check --strict then knows they are not a duplicate."""
    first_of: dict[tuple[object, ...], tuple[str, Claim]] = {}
    for uid, (home, claim) in list(plan.claims.items()):
        key = particulars(claim)
        if key is None:
            continue
        first = first_of.setdefault(key, (uid, claim))
        if first[0] == uid:
            continue
        plan.claims[uid] = (home, claim.model_copy(update={"distinct_from": [first[1].id]}))
        plan.notes.append(
            f"{uid}: the same transfer as {first[0]} but the records differ (delivery, sources):"
            " kept as two claims"
        )


def _transfer_ends(claim: Claim) -> tuple[frozenset[str], frozenset[str]]:
    suppliers = frozenset(p.entity for p in claim.parties if p.role in (Role.SUPPLIER, Role.BROKER))
    return suppliers, frozenset(p.entity for p in claim.parties if p.role is Role.RECIPIENT)


def _leave_out_hand_written(plan: Plan, hand_written: Sequence[Claim]) -> None:
    """Leave out a record of a transfer that a hand-written claim already has.

    The same transfer: the same supplier(s) and recipient, and the same year or no year on one
    side. The hand-written claim stands (it was written and checked by a person); the record is
    reported as not imported, with the claim that has it.
    """
    by_ends: dict[tuple[frozenset[str], frozenset[str]], list[Claim]] = defaultdict(list)
    for claim in hand_written:
        if claim.category is Category.TRANSFER and claim.provenance is None:
            by_ends[_transfer_ends(claim)].append(claim)
    for uid, (_, claim) in list(plan.claims.items()):
        suppliers, recipients = _transfer_ends(claim)
        if not suppliers or not recipients:
            continue
        year = (claim.date or "")[:4]
        for other in by_ends.get((suppliers, recipients), []):
            other_year = (other.date or "")[:4]
            if not year or not other_year or year == other_year:
                del plan.claims[uid]
                plan.not_imported.append((uid, f"already on record by hand as {other.id}"))
                break


# -- applying ----------------------------------------------------------------------------------


def _claim_key(home: str, claim: Claim) -> tuple[Any, ...]:
    provenance = claim.provenance
    return (
        home,
        claim.id,
        claim.text,
        claim.status.value,
        claim.category.value,
        claim.date,
        claim.date_text,
        claim.product,
        claim.end_user,
        tuple(claim.goods),
        # Not the checksum: a record that a newer file repeats word for word is unchanged.
        (provenance.dataset, provenance.record, tuple(provenance.merged)) if provenance else None,
        tuple((p.entity, p.role.value) for p in claim.parties),
        tuple(s.key() for s in claim.sources),
        tuple(claim.distinct_from),
    )


def _entity_key(entity: DatasetEntity) -> tuple[Any, ...]:
    attributes = json.dumps(entity.attributes, sort_keys=True)
    return (entity.kind, entity.name, entity.summary, attributes, tuple(entity.aliases))


async def import_sii(
    kb: KnowledgeBase, path: Path, *, progress: Callable[[int, int], None] | None = None
) -> ImportReport:
    """Import (or re-import) an SII transfers file in one transaction; report what changed."""
    started = time.perf_counter()
    file = await asyncio.to_thread(read_sii_file, path)
    report = ImportReport(str(path), file.checksum, len(file.records))
    store = DatasetStore(kb)
    total = len(file.records)
    async with kb.transaction():
        own = await store.entities(DATASET)
        # Firms this dataset created are found again by id, not by name: matching them would count
        # them as "matched" and would let an earlier import decide what this one means.
        own_free = {i for i, e in own.items() if not e.curated}
        rows = [r for r in await kb.index_rows() if r.id not in own_free]
        index = SearchIndex.build(rows)
        firms = [r.id for r in rows if r.kind is Kind.FIRM]
        attributes = await kb.entity_attributes(firms)
        plan = plan_import(
            file,
            index,
            {i: a.get("headquarters") for i, a in attributes.items()},
            (await store.entity_ids()) - own_free,
            await store.claim_ids_outside(DATASET),
            hand_written=[c for _, c in await kb.every_claim() if c.provenance is None],
        )
        existing = await store.claims(DATASET)
        positions = await store.next_positions()
        await _apply(
            store,
            plan,
            existing=existing,
            own=own,
            positions=positions,
            report=report,
            progress=progress,
            total=total,
        )
        if report.changed:
            await kb.bump_generation()  # a running bot reloads its index
    report.seconds = time.perf_counter() - started
    return report


def _unchanged(plan: Plan, existing: dict[str, StoredClaim]) -> set[str]:
    """The records whose stored claim already says what the plan says."""
    unchanged = {
        record
        for record, (home, claim) in plan.claims.items()
        if record in existing
        and _claim_key(existing[record].home, existing[record].claim) == _claim_key(home, claim)
    }
    # A claim id may move from one record to another (two records whose ids slugify alike): the
    # record that held it is rewritten too, so the id is free when it is inserted again.
    wanted_ids = {claim.id: record for record, (_, claim) in plan.claims.items()}
    for record in sorted(unchanged):
        holder = wanted_ids.get(existing[record].claim.id)
        if holder is not None and holder != record:
            unchanged.discard(record)
    return unchanged


async def _apply(
    store: DatasetStore,
    plan: Plan,
    *,
    existing: dict[str, StoredClaim],
    own: dict[str, DatasetEntity],
    positions: dict[str, int],
    report: ImportReport,
    progress: Callable[[int, int], None] | None,
    total: int,
) -> None:
    """Bring the stored dataset to ``plan`` (inside the caller's transaction), counting changes."""
    unchanged = _unchanged(plan, existing)
    rewritten = [r for r in plan.claims if r in existing and r not in unchanged]
    report.claims_removed = sorted(r for r in existing if r not in plan.claims)
    await store.delete_claims([existing[r].claim.id for r in [*report.claims_removed, *rewritten]])
    # Unchanged claims follow the file now imported, so every claim names the same file.
    restamped = [
        existing[r].claim.id
        for r in sorted(unchanged)
        if getattr(existing[r].claim.provenance, "checksum", None) != report.checksum
    ]
    await store.set_checksum(restamped, DATASET, report.checksum)
    report.claims_restamped = len(restamped)
    await _write_firms(store, plan, own, report)
    for done, (record, (home, claim)) in enumerate(plan.claims.items(), start=1):
        old = existing.get(record)
        if record in unchanged:
            report.claims_unchanged += 1
        else:
            if old is not None and old.home == home:
                position = old.position  # an updated claim keeps its place
            else:
                position = positions.get(home, 0)
                positions[home] = position + 1
            await store.insert_claim(home, position, claim)
            if old is None:
                report.claims_added += 1
            else:
                report.claims_updated += 1
        if progress is not None:
            progress(done, total)
    await _drop_unused_firms(store, plan, own, report)
    await store.delete_unused_sources()
    report.not_imported = plan.not_imported
    report.records_merged = plan.merged
    report.notes = plan.notes
    if progress is not None:
        progress(total, total)


async def _write_firms(
    store: DatasetStore, plan: Plan, own: dict[str, DatasetEntity], report: ImportReport
) -> None:
    """Create the firms the plan needs and refresh the ones an earlier import created."""
    report.firms_matched = sorted(plan.matched)
    for firm_id, firm in sorted(plan.firms.items()):
        old = own.get(firm_id)
        if old is None:
            await store.insert_entity(firm, DATASET)
            report.firms_created.append(firm_id)
        elif _entity_key(old) != _entity_key(firm):
            await store.update_entity(firm)
            report.firms_updated.append(firm_id)
        else:
            report.firms_unchanged.append(firm_id)


async def _drop_unused_firms(
    store: DatasetStore, plan: Plan, own: dict[str, DatasetEntity], report: ImportReport
) -> None:
    """Delete the firms an earlier import created that no record needs now, unless in use."""
    for firm_id in sorted(set(own) - set(plan.firms)):
        if own[firm_id].curated or await store.mentioned_by_dataset(firm_id, DATASET):
            continue  # adopted by a correction, or matched by name now: it is not ours to drop
        reasons = await store.still_needed(firm_id, DATASET)
        if reasons:
            report.firms_kept.append((firm_id, "; ".join(reasons)))
        else:
            await store.delete_entity(firm_id)
            report.firms_removed.append(firm_id)


async def remove_sii(kb: KnowledgeBase) -> RemoveReport:
    """Remove every claim the SII brought and every firm it created that nothing else needs."""
    store = DatasetStore(kb)
    report = RemoveReport()
    async with kb.transaction():
        claims = await store.claims(DATASET)
        await store.delete_claims([c.claim.id for c in claims.values()])
        report.claims_removed = len(claims)
        for firm_id in sorted(await store.entities(DATASET)):
            reasons = await store.still_needed(firm_id, DATASET)
            if reasons:
                report.firms_kept.append((firm_id, "; ".join(reasons)))
            else:
                await store.delete_entity(firm_id)
                report.firms_removed.append(firm_id)
        await store.delete_unused_sources()
        if report.claims_removed or report.firms_removed:
            await kb.bump_generation()  # a running bot reloads its index
    return report
