"""Plain records passed between the storage, search and service layers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from armsbot.models import Claim, Kind


@dataclass(frozen=True, slots=True)
class AliasRecord:
    """A name under which an entity can be found."""

    name: str
    type: str
    lang: str | None
    origin: str  # 'data' or 'registry'


@dataclass(slots=True)
class EntityRecord:
    """An entity as stored: its names, kind-specific attributes and home claims."""

    id: str
    kind: Kind
    name: str
    name_origin: str = "data"
    summary: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    curated: bool = True
    revision: int = 1
    aliases: list[AliasRecord] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class IndexRow:
    """What the search index needs of one entity."""

    id: str
    kind: Kind
    name: str
    weight: int  # how many claims involve it; breaks ties towards entities with content
    aliases: tuple[tuple[str, str], ...]  # (name, type)
