"""Reading and writing the YAML files in ``data/``.

Loading is all or nothing: every file is read and checked, every problem is collected with its file,
field and reason, and the caller gets either the whole valid set or a :class:`DataFilesInvalid`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from armsbot.models import MAX_NESTING, AliasType, EntityFile, Kind

FOLDERS = {Kind.COUNTRY: "countries", Kind.FIRM: "firms", Kind.LAW: "laws"}


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with one data file."""

    file: str
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}" if self.field else self.file
        return f"{where}: {self.reason}"


class DataFilesInvalid(Exception):
    """The data files cannot be built; ``problems`` says why, file by file."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(f"{len(problems)} problem(s) in the data files")


class _Refused(Exception):
    """A data file uses YAML that hand-written data never needs; ``line`` is 1-based."""

    def __init__(self, line: int, reason: str) -> None:
        self.line = line
        self.reason = reason
        super().__init__(f"line {line}: {reason}")


class _Loader(yaml.SafeLoader):
    """Safe YAML that keeps dates as text and refuses duplicate keys: PyYAML's own parser, the
    reference for what a data file means and for the messages about a broken one."""


class _FastLoader(getattr(yaml, "CSafeLoader", _Loader)):  # type: ignore[misc]
    """The same, on LibYAML's parser (about four times as fast) when PyYAML was built with it.

    A file it refuses is read again by :class:`_Loader`, which says what is wrong the way it
    always did (and reads a few escapes LibYAML refuses, such as a lone surrogate, that the
    checks on the text then refuse by name).
    """


def _refuse_what_hand_written_data_never_needs(text: str, loader: type[_Loader]) -> None:
    """Refuse anchors, aliases and deep nesting from the parser's events, before any node is made.

    A few lines of aliases can stand for billions of nodes; data files are written by hand and
    never need them, so they are refused where they appear rather than expanded. Nesting is
    bounded here, before a composer recurses once per level towards Python's (or C's) limit.
    """
    depth = 0
    events = yaml.parse(text, Loader=loader)
    while True:
        try:
            event = next(events)
        except StopIteration:
            return
        except yaml.MarkedYAMLError as exc:
            # LibYAML stops at 1,000 levels itself, while looking ahead of the first event.
            if "nesting depth" not in str(exc.problem) or exc.problem_mark is None:
                raise
            raise _Refused(
                exc.problem_mark.line + 1, f"is nested more than {MAX_NESTING} levels deep"
            ) from None
        if isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.AliasEvent) or event.anchor is not None:
            raise _Refused(line, "YAML anchors and aliases are not allowed")
        if depth >= MAX_NESTING:
            raise _Refused(line, f"is nested more than {MAX_NESTING} levels deep")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1


def _construct_mapping(
    loader: _Loader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    keys = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in keys:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        keys.add(key)
    mapping: dict[Any, Any] = loader.construct_mapping(node, deep=deep)
    return mapping


# Dates stay strings ("2021-07-18"), so a year, month or day is written back exactly as it was;
# and only true/false are booleans, so Norway's code NO (or "yes", "off") stays a string.
_IMPLICIT_KEPT = {"tag:yaml.org,2002:timestamp": False, "tag:yaml.org,2002:bool": False}
_RESOLVERS = {
    key: [(tag, regexp) for tag, regexp in resolvers if _IMPLICIT_KEPT.get(tag, True)]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _loader in {_Loader, _FastLoader}:
    _loader.yaml_implicit_resolvers = {key: list(value) for key, value in _RESOLVERS.items()}
    _loader.add_implicit_resolver(
        "tag:yaml.org,2002:bool",
        re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        list("tTfF"),
    )
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _load_yaml(text: str) -> Any:
    """The document in ``text``: read by LibYAML when it can, else as :class:`_Loader` reads it."""
    if _FastLoader is not _Loader:
        with suppress(yaml.YAMLError):  # read again below, for PyYAML's own words about it
            return _read_yaml(text, _FastLoader)
    return _read_yaml(text, _Loader)


def _read_yaml(text: str, loader: type[_Loader]) -> Any:
    _refuse_what_hand_written_data_never_needs(text, loader)
    return yaml.load(text, Loader=loader)  # noqa: S506 - a safe loader


def bundled_data_dir() -> Path:
    """The ``data/`` folder shipped with the package (or the checkout's, when run from source)."""
    packaged = Path(str(resources.files("armsbot"))) / "data"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "data"


def _field_path(loc: Iterable[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def read_entity_file(path: Path, root: Path) -> tuple[EntityFile | None, list[Problem]]:
    """Parse and validate one file; the problems list is empty when it is valid."""
    name = path.relative_to(root).as_posix()
    try:
        raw = _load_yaml(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return None, [Problem(name, "", "is not UTF-8 text")]
    except yaml.YAMLError as exc:
        return None, [Problem(name, "", f"is not valid YAML: {exc}".replace("\n", " "))]
    except _Refused as exc:
        return None, [Problem(name, f"line {exc.line}", exc.reason)]
    if not isinstance(raw, dict):
        return None, [Problem(name, "", "must be a YAML mapping (key: value lines)")]
    try:
        entity = EntityFile.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            reason = error["msg"].removeprefix("Value error, ")
            problems.append(Problem(name, _field_path(error["loc"]) or "(file)", reason))
        return None, problems
    expected = Path(FOLDERS[entity.kind]) / f"{entity.id}.yaml"
    if Path(name) != expected:
        return None, [
            Problem(
                name, "id", f"a {entity.kind.value} with id {entity.id!r} belongs in {expected}"
            )
        ]
    return entity, []


def load_data_dir(root: Path, known_ids: Iterable[str] = ()) -> list[EntityFile]:
    """Load every entity file under ``root``; raise :class:`DataFilesInvalid` listing all problems.

    ``known_ids`` are entities that exist without a file (the ISO countries); claims may name them.
    """
    if not root.is_dir():
        raise DataFilesInvalid([Problem(str(root), "", "is not a folder")])
    problems: list[Problem] = []
    entities: list[EntityFile] = []
    paths = sorted(root.glob("*/*.yaml")) + sorted(root.glob("*/*.yml"))
    for path in paths:
        entity, found = read_entity_file(path, root)
        problems.extend(found)
        if entity is not None:
            entities.append(entity)
    problems.extend(_cross_file_problems(entities, set(known_ids)))
    if problems:
        raise DataFilesInvalid(problems)
    return entities


def _cross_file_problems(entities: list[EntityFile], known_ids: set[str]) -> list[Problem]:
    problems: list[Problem] = []
    ids = known_ids | {e.id for e in entities}
    firm_ids = {e.id for e in entities if e.kind is Kind.FIRM}
    claim_homes: dict[str, str] = {}
    for entity in entities:
        file = f"{FOLDERS[entity.kind]}/{entity.id}.yaml"
        if entity.kind is Kind.COUNTRY and entity.id not in known_ids:
            is_historical = entity.country is not None and entity.country.historical
            if not is_historical or entity.name is None:
                problems.append(
                    Problem(
                        file,
                        "id",
                        "is not an ISO 3166-1 code; a former state needs "
                        "'name' and 'country: {historical: true}'",
                    )
                )
        for i, claim in enumerate(entity.claims):
            where = f"claims[{i}]"
            if claim.id in claim_homes:
                problems.append(
                    Problem(
                        file,
                        f"{where}.id",
                        f"{claim.id!r} is already used in {claim_homes[claim.id]}",
                    )
                )
            claim_homes.setdefault(claim.id, file)
            for j, party in enumerate(claim.parties):
                if party.entity not in ids:
                    problems.append(
                        Problem(
                            file,
                            f"{where}.parties[{j}].entity",
                            f"no entity has the id {party.entity!r}",
                        )
                    )
            if entity.id not in {p.entity for p in claim.parties}:
                problems.append(
                    Problem(
                        file, f"{where}.parties", f"must include this file's entity ({entity.id})"
                    )
                )
        if entity.firm and entity.firm.headquarters and entity.firm.headquarters not in ids:
            problems.append(
                Problem(
                    file,
                    "firm.headquarters",
                    f"no country has the code {entity.firm.headquarters!r}",
                )
            )
        if entity.firm and entity.firm.parent and entity.firm.parent not in firm_ids - {entity.id}:
            problems.append(
                Problem(file, "firm.parent", f"no other firm has the id {entity.firm.parent!r}")
            )
    return problems


def _compact_alias(alias: dict[str, Any]) -> Any:
    if set(alias) == {"name"} or (
        alias.get("type") == AliasType.NAME.value and set(alias) == {"name", "type"}
    ):
        return alias["name"]
    return alias


# LibYAML's emitter when PyYAML has it (seven times as fast; the same text for every bundled file).
_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def entity_to_yaml(entity: EntityFile) -> str:
    """Render an entity as the YAML a person would write: fixed key order, no empty fields."""
    data = entity.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    data["kind"] = entity.kind.value  # kind has no default, but keep it first and explicit
    data["id"] = entity.id
    order = ["kind", "id", "name", "summary", "aliases", "firm", "law", "country", "claims"]
    ordered = {key: data[key] for key in order if key in data}
    if "aliases" in ordered:
        ordered["aliases"] = [_compact_alias(a) for a in ordered["aliases"]]
    return yaml.dump(ordered, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def write_data_dir(entities: Iterable[EntityFile], root: Path) -> list[Path]:
    """Write one file per entity under ``root``; return the paths written."""
    written = []
    for entity in entities:
        path = root / FOLDERS[entity.kind] / f"{entity.id}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(entity_to_yaml(entity), encoding="utf-8")
        written.append(path)
    return written
