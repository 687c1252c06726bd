"""The Surveillance Industry Index (Privacy International): its transfer records, as an adapter.

The file (``transfers.json`` from TransparencyToolkit/dataspec-sii) is validated whole before the
database is touched. Each record becomes one ``transfer`` claim (the import core,
:mod:`armsbot.imports.core`, gives it provenance: dataset ``sii``, the file's sha256, the record's
``unique_id``): the supplier firm, matched to an existing firm by any of its exact names or created
for the dataset, or the exporting country when no company is named; the recipient country; goods,
end user, order year, sources and an honest status. Country names go through the shared resolver
(:mod:`armsbot.imports.countries`); a spelling it does not know exactly is reported as not
imported. Nothing is attached to a merely similar name.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from armsbot.imports.core import (
    AdapterPlan,
    ClaimDraft,
    DatasetFileInvalid,
    DatasetInfo,
    EntityRef,
    ImportReport,
    NewFirm,
    NewFirmRef,
    PlanContext,
    RemoveReport,
    import_dataset,
    read_file,
    remove_dataset,
    slug,
    validation_problems,
)
from armsbot.imports.download import PinnedFile
from armsbot.imports.wording import in_sentence, listed, shorten
from armsbot.models import (
    MAX_NESTING,
    Category,
    Claim,
    Role,
    Source,
    Status,
    check_http_url,
)
from armsbot.storage import KnowledgeBase

DATASET = "sii"
DATASET_NAME = "Surveillance Industry Index (Privacy International)"
INFO = DatasetInfo(
    dataset=DATASET,
    name=DATASET_NAME,
    format="sii",
    # The repository publishes the file without a licence; it is cited, not redistributed.
    licence="none stated with the file; armsbot cites it and does not redistribute it",
    attribution=(
        "Surveillance Industry Index, Privacy International and Transparency Toolkit"
        " (github.com/TransparencyToolkit/dataspec-sii)"
    ),
    claim_prefix="sii-",
    id_field="unique_id",
)
# The file as published, byte for byte: the repository at a fixed commit, and its sha256.
PINNED = PinnedFile(
    name="sii",
    path=(
        "TransparencyToolkit/dataspec-sii/2e1bf5e9d122c78f094965ac472424a1e2e11dfb"
        "/sii_data/transfer_data/transfers.json"
    ),
    sha256="bb1cda5cfd067108dd9f95e759e3f9a66a04fcb73742782d5d8abf27b31bc3e6",
)

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

# A comma before these continues a company's name ("Foo, Inc.") rather than starting another.
_LEGAL_SUFFIX = re.compile(r"^(inc|ltd|llc|plc|gmbh|s\.?a|s\.?p\.?a|ag|corp|co)\.?$", re.IGNORECASE)
_MARKER = re.compile(r"^(?P<name>.*?)\s*\((?P<marker>[^()]+)\)$")
_SCHEMELESS = re.compile(r"^(?:www\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)+(?:[/?#]\S*)?$", re.IGNORECASE)
_URL_IN_TEXT = re.compile(r"https?://[^\s<>]+")
_BRACKETED_URL = re.compile(r"<(https?://[^\s<>]+)>")
_BARE_URL = re.compile(r"(?<![<\w/])https?://[^\s<>]+")
_ANY_URL = re.compile(r"<[^<>]*>|https?://\S+|www\.\S+")
_JSON_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


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


def read_records(raw: bytes, path: Path) -> list[SiiRecord]:
    """Validate the whole file; raise :class:`DatasetFileInvalid` on any structural fault."""
    try:
        text = raw.decode(json.detect_encoding(raw))
    except UnicodeDecodeError:
        raise DatasetFileInvalid([f"{path}: is not UTF-8 text"]) from None
    too_deep = _too_deep(text)
    if too_deep is not None:
        raise DatasetFileInvalid(
            [f"{path}: is nested more than {MAX_NESTING} levels deep (line {too_deep})"]
        )
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DatasetFileInvalid(
            [f"{path}: is not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"]
        ) from None
    if not isinstance(data, list):
        raise DatasetFileInvalid(
            [f"{path}: must hold a JSON list of transfer records, not a {type(data).__name__}"]
        )
    try:
        return _RECORDS.validate_python(data)
    except ValidationError as exc:
        raise DatasetFileInvalid(validation_problems(exc, data, "unique_id")) from None


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


# -- reading a record --------------------------------------------------------------------------


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


def _clean_title(text: str) -> str:
    """Citation text as a source title: links taken out (the URL is shown beside it), trimmed."""
    text = _ANY_URL.sub(" ", text)
    text = " ".join(text.split()).strip(" ,;:&-<>")
    return shorten(text)


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
    return shorten(title) if title else f"Surveillance Industry Index record {record.unique_id}"


def _goods(record: SiiRecord) -> list[str]:
    goods: list[str] = []
    for item in record.goods or []:
        key = " ".join(item.split()).casefold()
        if not key:
            continue
        label = GOODS.get(key, shorten(" ".join(item.split())))
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
    return None, (shorten(text) if text else None)


def _is_licence(record: SiiRecord) -> bool:
    return STATUSES.get((record.export_data_or_open_source or "").strip().lower()) is (
        Status.CONFIRMED
    )


# -- wording -----------------------------------------------------------------------------------


def _goods_words(goods: Sequence[str]) -> str:
    if not goods:
        return "surveillance technology"
    return listed([g[0].lower() + g[1:] if g[1:2].islower() else g for g in goods])


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
        subject, verb = f"{listed(suppliers)}{based}", f"supplied {what}"
    elif brokers:
        subject, verb = f"{listed(brokers)}{based}", f"brokered a transfer of {what}"
    elif supplier_countries:
        places = listed([in_sentence(c) for c in supplier_countries])
        subject, verb = f"An unnamed supplier in {places}", f"supplied {what}"
    else:
        subject, verb = "An unnamed supplier", f"supplied {what}"
    to = in_sentence(recipient) if recipient else "an unnamed recipient"
    through = f" through {listed(brokers)}" if suppliers and brokers else ""
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
        subject = f"{listed(suppliers)}{based} was licensed"
    elif supplier_countries:
        places = listed([in_sentence(c) for c in supplier_countries])
        subject = f"An unnamed exporter in {places} was licensed"
    else:
        subject = "An unnamed exporter was licensed"
    to = in_sentence(recipient) if recipient else "an unnamed recipient"
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


class _Planner:
    """One import's reading of the records: names resolved, firms gathered, claims drafted."""

    def __init__(self, context: PlanContext) -> None:
        self.context = context
        self.out = AdapterPlan()
        self._new: dict[str, _NewFirm] = defaultdict(_NewFirm)

    def draft(self, record: SiiRecord) -> _Draft | str:
        """The record with its names resolved, or why it cannot be imported."""
        if (record.export_data_or_open_source or "").strip().lower() not in STATUSES:
            return (
                f"export_data_or_open_source is {record.export_data_or_open_source!r}; "
                "expected 'Export data' or 'Open'"
            )
        recipient = None
        if record.recipient_country and record.recipient_country.strip():
            recipient, problem = self.context.country(record.recipient_country)
            if recipient is None:
                return f"recipient_country {problem}; add it to COUNTRY_SPELLINGS if it is one"
        headquarters: list[str] = []
        for part in (record.supplier_company_hq or "").split(","):
            if not part.strip():
                continue
            code, problem = self.context.country(part)
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
        firm_id, exact = self.context.firm(company.name)
        if firm_id is not None:
            company.firm_id = firm_id
            based = self.context.headquarters(firm_id)
            if based and headquarters and based not in headquarters and not licence:
                # The record's country may be a subsidiary's or a licensing state's: the firm
                # stays one entry, and the disagreement is reported.
                self.out.notes.append(
                    f"{uid}: headquarters disagree: {company.name!r} is"
                    f" {self.context.name(firm_id)} ({firm_id}), based in"
                    f" {self.context.name(based)}; the record places it in"
                    f" {', '.join(self.context.name(c) for c in headquarters)}"
                )
            return
        if exact:
            self.out.notes.append(
                f"{uid}: several firms are called {company.name!r} "
                f"({', '.join(m.id for m in exact)}): imported as a separate firm"
            )
        key = slug(company.name) or "firm-" + _sha_prefix(company.name)
        company.key = key
        new = self._new[key]
        new.names[company.name] += 1
        if company.spelling != company.name:
            # The other spelling (ZTE Corporation for ZTE) stays findable as an alias.
            new.spellings.add(company.spelling)

    def firms(self, drafts: list[_Draft]) -> None:
        """The firms to create, each named as the file names it most often."""
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
        for key in sorted(self._new):
            new = self._new[key]
            name = sorted(new.names.items(), key=lambda item: (-item[1], item[0]))[0][0]
            attributes: dict[str, Any] = {}
            places = set(new.headquarters)
            if len(places) == 1 and len(next(iter(places))) == 1:
                attributes["headquarters"] = next(iter(places))[0]
            self.out.firms.append(
                NewFirm(
                    key=key,
                    name=name,
                    summary=(
                        f"Named in the transfer records of the {DATASET_NAME}; this entry was"
                        " created by importing them, and nothing has been written about the firm"
                        " by hand yet."
                    ),
                    aliases=tuple(sorted(new.spellings)),
                    attributes=attributes,
                    parent=FIRM_PARENTS.get(name),
                )
            )

    def claim(self, draft: _Draft) -> ClaimDraft:
        """The record as a claim draft, filed under the firm (or country) it is about."""
        record = draft.record
        parties: list[tuple[EntityRef, Role]] = []
        suppliers: list[str] = []
        brokers: list[str] = []
        for company in draft.companies:
            ref: EntityRef
            if company.firm_id is not None:
                ref = company.firm_id
            else:
                assert company.key is not None
                ref = NewFirmRef(company.key)
            if (ref, company.role) not in parties:
                parties.append((ref, company.role))
            # The sentence names the companies as the record does ("Gamma International and
            # FinFisher" even where both are one firm here); the parties link the entities.
            (brokers if company.role is Role.BROKER else suppliers).append(company.spelling)
        supplier_countries: list[str] = []
        if not draft.companies:
            for code in draft.headquarters:
                parties.append((code, Role.SUPPLIER))
                supplier_countries.append(self.context.name(code))
        if draft.recipient is not None:
            parties.append((draft.recipient, Role.RECIPIENT))
        # Filed under the firm it is about; a country's export under the country that received it.
        home = parties[0][0] if draft.companies or draft.recipient is None else draft.recipient
        status = STATUSES[(record.export_data_or_open_source or "").strip().lower()]
        date, date_text = _date(record)
        goods = _goods(record)
        end_user = " ".join((record.enduser or "").split())
        if end_user.casefold() in {"", "unknown", "n/a", "none"}:
            end_user = ""
        end_user = shorten(end_user)
        sources, problems = _sources(record)
        self.out.notes += [f"{record.unique_id}: {p}" for p in problems]
        text = claim_text(
            suppliers=suppliers,
            brokers=brokers,
            supplier_countries=supplier_countries,
            headquarters=(
                [self.context.name(c) for c in draft.headquarters] if draft.companies else []
            ),
            recipient=self.context.name(draft.recipient) if draft.recipient else None,
            goods=goods,
            end_user=end_user or None,
            date=date,
            date_text=date_text,
            status=status,
            complete=record.transfer_to_enduser_reported_as_complete,
        )
        return ClaimDraft(
            record=record.unique_id,
            home=home,
            parties=parties,
            text=text,
            status=status,
            category=Category.TRANSFER,
            sources=sources,
            date=date,
            date_text=date_text,
            end_user=end_user or None,
            goods=goods,
        )


def _sha_prefix(text: str) -> str:
    """Eight hex digits of the text's sha256: an id part for a name with no ASCII letters."""
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _transfer_ends(claim: Claim) -> tuple[frozenset[str], frozenset[str]]:
    suppliers = frozenset(p.entity for p in claim.parties if p.role in (Role.SUPPLIER, Role.BROKER))
    return suppliers, frozenset(p.entity for p in claim.parties if p.role is Role.RECIPIENT)


class SiiAdapter:
    """The SII transfer records: one ``transfer`` claim per record."""

    info = INFO

    def read(self, raw: bytes, path: Path) -> list[SiiRecord]:
        """The file's records, validated whole."""
        return read_records(raw, path)

    def record_id(self, record: SiiRecord) -> str:
        """The record's ``unique_id``."""
        return record.unique_id

    def fields(self, record: SiiRecord) -> Iterable[tuple[str, object]]:
        """Every field the import reads."""
        return iter(record)

    def plan(self, records: Sequence[SiiRecord], context: PlanContext) -> AdapterPlan:
        """One claim draft per record, the firms they need, and the records left out."""
        planner = _Planner(context)
        drafts: list[_Draft] = []
        for record in records:
            drafted = planner.draft(record)
            if isinstance(drafted, str):
                planner.out.not_imported.append((record.unique_id, drafted))
            else:
                drafts.append(drafted)
        planner.firms(drafts)
        planner.out.drafts = [planner.claim(d) for d in drafts]
        return planner.out

    def already_on_record(
        self, claims: Mapping[str, Claim], hand_written: Sequence[Claim]
    ) -> dict[str, Claim]:
        """Records of a transfer that a hand-written claim already has.

        The same transfer: the same supplier(s) and recipient, and the same year or no year on
        one side.
        """
        by_ends: dict[tuple[frozenset[str], frozenset[str]], list[Claim]] = defaultdict(list)
        for claim in hand_written:
            if claim.category is Category.TRANSFER:
                by_ends[_transfer_ends(claim)].append(claim)
        found: dict[str, Claim] = {}
        for record, claim in claims.items():
            suppliers, recipients = _transfer_ends(claim)
            if not suppliers or not recipients:
                continue
            year = (claim.date or "")[:4]
            for other in by_ends.get((suppliers, recipients), []):
                other_year = (other.date or "")[:4]
                if not year or not other_year or year == other_year:
                    found[record] = other
                    break
        return found


ADAPTER = SiiAdapter()


@dataclass(frozen=True, slots=True)
class SiiFile:
    """A validated SII file: its records and its sha256."""

    path: Path
    checksum: str
    records: list[SiiRecord]


def read_sii_file(path: Path) -> SiiFile:
    """Read and validate the whole file; raise :class:`DatasetFileInvalid` on any fault."""
    checksum, records = read_file(ADAPTER, path)
    return SiiFile(path, checksum, records)


async def import_sii(
    kb: KnowledgeBase,
    path: Path,
    *,
    source: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import (or re-import) an SII transfers file in one transaction; report what changed."""
    return await import_dataset(kb, ADAPTER, path, source=source, progress=progress)


async def remove_sii(kb: KnowledgeBase) -> RemoveReport:
    """Remove every claim the SII brought and every firm it created that nothing else needs."""
    return await remove_dataset(kb, DATASET)
