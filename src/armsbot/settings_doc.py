"""The settings table in docs/operators.md and .env.example, both made from ``Settings``.

``python -m armsbot.settings_doc`` rewrites both from the field descriptions in
``armsbot/config.py``; ``--check`` only says whether they are up to date (a test runs it too).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import annotated_types
from pydantic import SecretStr
from pydantic.fields import FieldInfo

from armsbot.config import Settings

REPO = Path(__file__).resolve().parents[2]
OPERATORS = Path("docs") / "operators.md"
ENV_EXAMPLE = Path(".env.example")
BEGIN = "<!-- settings table: made by `python -m armsbot.settings_doc`, do not edit by hand -->"
END = "<!-- end of the settings table -->"
PREFIX = str(Settings.model_config.get("env_prefix", ""))


class SettingUndocumented(Exception):
    """A setting has no description, or a computed default with no ``shown_default``."""


def env_name(name: str) -> str:
    """The environment variable that sets a field."""
    return f"{PREFIX}{name}".upper()


def _description(name: str, field: FieldInfo) -> str:
    if not field.description:
        raise SettingUndocumented(f"{env_name(name)} has no description in armsbot/config.py")
    return " ".join(field.description.split())


def _kind(field: FieldInfo) -> str:
    """What a value looks like, with the bounds the field enforces."""
    annotation: Any = field.annotation
    if get_origin(annotation) in {Union, types.UnionType}:
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    if get_origin(annotation) is list:
        kind = "ids, comma-separated"
    elif annotation is bool:
        kind = "true or false"
    elif annotation is int:
        kind = "whole number"
    elif annotation is float:
        kind = "number"
    elif annotation is Path:
        kind = "path"
    elif annotation is SecretStr:
        kind = "secret"
    else:
        kind = "text"
    for bound in field.metadata:
        if isinstance(bound, annotated_types.Ge):
            kind += f" ≥ {bound.ge}"
        elif isinstance(bound, annotated_types.Gt):
            kind += f" > {bound.gt}"
    return kind


def _shown_default(field: FieldInfo) -> str:
    """A computed default as the docs describe it (``json_schema_extra={"shown_default": ...}``)."""
    extra = field.json_schema_extra
    return str(extra.get("shown_default", "")) if isinstance(extra, dict) else ""


def _default(name: str, field: FieldInfo) -> str:
    """The default as an operator reads it; empty when there is none."""
    if _shown_default(field):
        return ""
    if field.default_factory is list:
        return ""
    if field.default_factory is not None:
        raise SettingUndocumented(
            f"{env_name(name)}'s default is computed: give it a shown_default in armsbot/config.py"
        )
    value = field.default
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def markdown_table() -> str:
    """The settings as a Markdown table, one row per field of ``Settings``."""
    rows = [
        "| Setting | Default | Value | What it does |",
        "| --- | --- | --- | --- |",
    ]
    for name, field in Settings.model_fields.items():
        default = _default(name, field)
        cells = [
            f"`{env_name(name)}`",
            _shown_default(field) or (f"`{default}`" if default else "(none)"),
            _kind(field),
            _description(name, field).replace("|", "\\|"),
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows) + "\n"


def env_example() -> str:
    """``.env.example``: every setting, commented out, with its description and default."""
    lines = [
        "# armsbot's settings: copy this file to .env (or set the variables in the environment)",
        "# and uncomment what you change. Made by `python -m armsbot.settings_doc` from",
        "# src/armsbot/config.py; docs/operators.md explains each one.",
    ]
    for name, field in Settings.model_fields.items():
        description = _description(name, field)
        text = f"{description[0].upper()}{description[1:]} ({_kind(field)})."
        shown = _shown_default(field).replace("`", "")
        if shown:
            text += f" Default: {shown}."
        lines.append("")
        lines.extend(textwrap.wrap(text, width=98, initial_indent="# ", subsequent_indent="# "))
        lines.append(f"# {env_name(name)}={_default(name, field)}")
    return "\n".join(lines) + "\n"


def operators_page(current: str) -> str:
    """``docs/operators.md`` with the table between its markers made anew."""
    try:
        head, rest = current.split(BEGIN + "\n", 1)
        _, tail = rest.split(END, 1)
    except ValueError:
        raise SettingUndocumented(f"{OPERATORS} has no settings-table markers") from None
    return f"{head}{BEGIN}\n{markdown_table()}{END}{tail}"


def expected_files(root: Path = REPO) -> dict[Path, str]:
    """Each generated file and the text it should have."""
    page = (root / OPERATORS).read_text(encoding="utf-8")
    return {OPERATORS: operators_page(page), ENV_EXAMPLE: env_example()}


def stale_files(root: Path = REPO) -> list[Path]:
    """The generated files whose text differs from what ``Settings`` makes."""
    out_of_date = []
    for relative, text in expected_files(root).items():
        path = root / relative
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            out_of_date.append(relative)
    return out_of_date


def main(argv: Sequence[str] | None = None) -> int:
    """Rewrite (or with ``--check``, compare) the settings table and ``.env.example``."""
    parser = argparse.ArgumentParser(
        prog="python -m armsbot.settings_doc",
        description="Write the settings table of docs/operators.md and .env.example from Settings.",
    )
    parser.add_argument("--check", action="store_true", help="fail if either is out of date")
    parser.add_argument(
        "--root", type=Path, default=REPO, help="the repository (default: this one)"
    )
    args = parser.parse_args(argv)
    try:
        expected = expected_files(args.root)
        stale = stale_files(args.root)
    except (SettingUndocumented, OSError) as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    if args.check:
        for relative in stale:
            sys.stderr.write(
                f"{relative} differs from Settings: run python -m armsbot.settings_doc\n"
            )
        return 1 if stale else 0
    for relative in stale:
        (args.root / relative).write_text(expected[relative], encoding="utf-8")
        sys.stderr.write(f"Wrote {relative}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
