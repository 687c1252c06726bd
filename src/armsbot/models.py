"""Pydantic models for the human-edited data files in ``data/``.

They are the boundary between the YAML a person writes and the knowledge base: everything that
reaches the database has passed through them.
"""

from __future__ import annotations

import datetime
import re
from enum import StrEnum
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from armsbot.hidden_text import hidden_character, hidden_reason


class Kind(StrEnum):
    """What an entity is."""

    COUNTRY = "country"
    FIRM = "firm"
    LAW = "law"


class Status(StrEnum):
    """How sure a claim is; the bot never upgrades one."""

    CONFIRMED = "confirmed"
    REPORTED = "reported"
    ALLEGED = "alleged"
    DENIED = "denied"


class Category(StrEnum):
    """What a claim is about; cards group claims by it."""

    TRANSFER = "transfer"  # a sale, supply or licence of arms or surveillance technology
    USE = "use"  # how a product was used (targeting, deployment)
    EMBARGO = "embargo"  # an arms embargo applies to a country
    DESIGNATION = "designation"  # a sanctions or export-control listing of a firm
    LEGAL = "legal"  # court rulings, petitions, bills, laws passing or failing
    RESPONSE = "response"  # a party's denial or statement
    BACKGROUND = "background"  # context: ownership, history, policy


class Role(StrEnum):
    """The part an entity plays in a claim."""

    SUPPLIER = "supplier"
    RECIPIENT = "recipient"
    SUBJECT = "subject"
    TARGET = "target"  # of an embargo, a listing or a surveillance operation
    COURT = "court"
    PETITIONER = "petitioner"
    RESPONDENT = "respondent"
    REGULATOR = "regulator"
    INSTRUMENT = "instrument"  # the law, ruling or embargo the claim is about
    MEMBER = "member"  # a state party to a treaty or arrangement
    BROKER = "broker"
    OWNER = "owner"


class AliasType(StrEnum):
    """Why a name points at an entity."""

    NAME = "name"  # another name or spelling
    FORMER = "former"  # a name the entity used to have
    PRODUCT = "product"
    ABBREVIATION = "abbreviation"
    TRANSLATION = "translation"  # a name in another language
    CODE = "code"  # an ISO code or docket number


class LawType(StrEnum):
    """What kind of legal instrument a law entity is."""

    STATUTE = "statute"
    BILL = "bill"
    RULING = "ruling"
    PETITION = "petition"
    REGULATION = "regulation"
    EMBARGO = "embargo"
    SANCTIONS_LISTING = "sanctions_listing"
    TREATY = "treaty"
    ARRANGEMENT = "arrangement"
    AGENCY = "agency"
    EXECUTIVE_ORDER = "executive_order"
    POLICY = "policy"  # a government's stated policy or decision (a licensing halt, a visa policy)
    INQUIRY = "inquiry"  # a parliamentary or official inquiry and its findings
    RESOLUTION = "resolution"  # a resolution of a parliament or a UN body
    DECLARATION = "declaration"  # a joint statement or code of practice of several states
    REPORT = "report"  # an official report, e.g. of a UN special rapporteur


MAX_NAME = 200
MAX_CLAIM = 1000
MAX_SUMMARY = 1500
# Entity ids travel in button custom ids, which Discord caps at 100 characters; the longest,
# "armsbot:page:<id>:<page>" (bot/components.py), puts 17 characters around the id.
MAX_ENTITY_ID = 80
# Data files and the SII file are a few levels deep (an entity, its claims, their sources); deeper
# input is hostile, and parsers that recurse per level must be stopped well before Python's limit.
MAX_NESTING = 50

_SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_COUNTRY_ID = r"^[A-Z]{2}$"
_DATE = re.compile(r"^\d{4}(?:-(0[1-9]|1[0-2])(?:-(0[1-9]|[12]\d|3[01]))?)?$")


def check_clean_text(value: str) -> str:
    """Refuse text with a hidden character (:mod:`armsbot.hidden_text`); trim surrounding space."""
    hidden = hidden_character(value)
    if hidden is not None:
        raise ValueError(hidden_reason(hidden))
    return value.strip()


def check_http_url(value: str) -> str:
    """Accept only http(s) URLs with a host and without credentials."""
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"}:
        msg = "must start with http:// or https://"
        raise ValueError(msg)
    if not parts.hostname:
        msg = "must name a host"
        raise ValueError(msg)
    if parts.username or parts.password:
        msg = "must not contain a user name or password"
        raise ValueError(msg)
    if any(ch.isspace() for ch in value):
        msg = "must not contain spaces"
        raise ValueError(msg)
    return value


def check_date(value: object) -> str:
    """Accept YYYY, YYYY-MM or YYYY-MM-DD (YAML may hand over an int or a date)."""
    if isinstance(value, datetime.date | int):
        value = value.isoformat() if isinstance(value, datetime.date) else str(value)
    if not isinstance(value, str) or not _DATE.match(value):
        msg = "must be a year (2021), a month (2021-07) or a day (2021-07-18)"
        raise ValueError(msg)
    return value


Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_CLAIM)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME)]
Slug = Annotated[str, StringConstraints(pattern=_SLUG, max_length=80)]


def _clean_if_text(value: Any) -> Any:
    return check_clean_text(value) if isinstance(value, str) else value


# For models that cannot use Strict's catch-all validator (the members of a tagged union).
Clean = BeforeValidator(_clean_if_text)
DateStr = Annotated[str, BeforeValidator(check_date)]
EntityId = Annotated[
    str,
    StringConstraints(pattern=r"^(?:[A-Z]{2}|[a-z0-9]+(?:-[a-z0-9]+)*)$", max_length=MAX_ENTITY_ID),
]


class Strict(BaseModel):
    """Base for data-file models: unknown keys are errors, text is checked for hidden characters."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _clean_strings(cls, value: Any) -> Any:
        if isinstance(value, str):
            return check_clean_text(value)
        return value


class LinkKind(StrEnum):
    """Whether a source's link is the publisher's own page or a copy of it elsewhere."""

    ORIGINAL = "original"
    COPY = "copy"  # the publisher's text republished on another site
    ARCHIVE = "archive"  # an archived snapshot (e.g. the Wayback Machine)


# What makes two sources the same source: url, title, publisher, date and link kind.
SourceKey = tuple[str | None, str, str | None, str | None, str]


class Source(Strict):
    """Where a claim was read. ``publisher`` is always the original publisher, even for a copy."""

    url: str | None = None
    title: Name
    publisher: Name | None = None
    date: DateStr | None = None
    link: LinkKind = LinkKind.ORIGINAL

    _check_url = field_validator("url")(lambda v: None if v is None else check_http_url(v))

    def key(self) -> SourceKey:
        """The fields that make this the same source (and the same stored row) as another."""
        return (self.url, self.title, self.publisher, self.date, self.link.value)


class Party(Strict):
    """An entity a claim is about, and its role in it."""

    entity: EntityId
    role: Role


class Provenance(Strict):
    """Where an imported claim came from, so a re-import can find it again."""

    dataset: Slug
    checksum: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    record: Name
    merged: list[Name] = Field(
        default_factory=list,
        description="the dataset's other records that say the same, collapsed into this claim",
    )


class Claim(Strict):
    """One sourced statement about one or more entities."""

    id: Slug
    text: Text
    status: Status
    category: Category
    date: DateStr | None = Field(default=None, description="when the event happened, if known")
    date_text: Name | None = Field(
        default=None, description="a date that is not a calendar date, e.g. 'mid-2000s'"
    )
    reported: DateStr | None = Field(
        default=None, description="when the event was first reported or became known"
    )
    parties: list[Party] = Field(min_length=1)
    product: Name | None = None
    end_user: Name | None = None
    goods: list[Name] = Field(default_factory=list)
    sources: list[Source] = Field(min_length=1)
    provenance: Provenance | None = None
    distinct_from: list[Slug] = Field(
        default_factory=list,
        description="claims this one looks like but is not (db check --strict's duplicate rule)",
    )

    @model_validator(mode="after")
    def _distinct_parties(self) -> Claim:
        seen = {(p.entity, p.role) for p in self.parties}
        if len(seen) != len(self.parties):
            msg = "the same entity is listed twice with the same role"
            raise ValueError(msg)
        if self.provenance is None and any(s.url is None for s in self.sources):
            # Imported records may carry only a citation; hand-written claims must link theirs.
            msg = "every source of a hand-written claim needs a url"
            raise ValueError(msg)
        return self


class Alias(Strict):
    """Another name for an entity."""

    name: Name
    type: AliasType = AliasType.NAME
    lang: (
        Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")] | None
    ) = None


class FirmInfo(Strict):
    """Facts about a firm."""

    headquarters: Annotated[str, StringConstraints(pattern=_COUNTRY_ID)] | None = None
    founded: DateStr | None = None
    website: str | None = None
    parent: EntityId | None = Field(
        default=None, description="the firm's parent group or owner, another firm's id"
    )

    _check_url = field_validator("website")(lambda v: None if v is None else check_http_url(v))


class LawInfo(Strict):
    """Facts about a law, ruling, bill, embargo or listing."""

    type: LawType
    jurisdiction: Name
    date: DateStr | None = None
    ended: DateStr | None = None
    in_force: bool | None = None


class CountryInfo(Strict):
    """Facts about a country that the ISO registry does not give."""

    historical: bool = False
    start: DateStr | None = None
    end: DateStr | None = None


def _alias_shorthand(value: Any) -> Any:
    if isinstance(value, list):
        return [{"name": item} if isinstance(item, str) else item for item in value]
    return value


class EntityFile(Strict):
    """One file in ``data/``: an entity, its names and the claims that live with it."""

    kind: Kind
    id: EntityId
    name: Name | None = None
    summary: Annotated[str, StringConstraints(max_length=MAX_SUMMARY)] | None = None
    aliases: list[Alias] = Field(default_factory=list)
    firm: FirmInfo | None = None
    law: LawInfo | None = None
    country: CountryInfo | None = None
    claims: list[Claim] = Field(default_factory=list)

    _aliases = field_validator("aliases", mode="before")(_alias_shorthand)

    @model_validator(mode="after")
    def _kind_fields(self) -> EntityFile:
        wrong = {
            Kind.COUNTRY: ("firm", "law"),
            Kind.FIRM: ("law", "country"),
            Kind.LAW: ("firm", "country"),
        }[self.kind]
        for key in wrong:
            if getattr(self, key) is not None:
                msg = f"a {self.kind.value} cannot have a '{key}' section"
                raise ValueError(msg)
        is_country_id = re.match(_COUNTRY_ID, self.id) is not None
        if (self.kind is Kind.COUNTRY) != is_country_id:
            msg = (
                "a country's id is its ISO 3166-1 alpha-2 code (two capital letters)"
                if self.kind is Kind.COUNTRY
                else "a firm's or law's id is a lower-case slug such as 'nso-group'"
            )
            raise ValueError(msg)
        if self.kind is Kind.LAW and self.law is None:
            msg = "a law needs a 'law' section with at least its type and jurisdiction"
            raise ValueError(msg)
        if self.kind is not Kind.COUNTRY and self.name is None:
            msg = "a firm or law needs a name"
            raise ValueError(msg)
        ids = [c.id for c in self.claims]
        if len(set(ids)) != len(ids):
            msg = "two claims share an id"
            raise ValueError(msg)
        return self


__all__ = [
    "Alias",
    "AliasType",
    "Category",
    "Claim",
    "CountryInfo",
    "EntityFile",
    "FirmInfo",
    "Kind",
    "LawInfo",
    "LawType",
    "LinkKind",
    "Party",
    "Provenance",
    "Role",
    "Source",
    "SourceKey",
    "Status",
    "check_clean_text",
    "check_http_url",
]
