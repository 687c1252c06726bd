"""The ``armsbot`` command line: the bot's answers without Discord, and the data tools."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import json
import logging
import re
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TransferSpeedColumn,
)

from armsbot.app import Services, open_services
from armsbot.cards.build import claims_card
from armsbot.cards.text import render_text
from armsbot.changes import MAX_REASON, CorrectionStatus
from armsbot.config import Settings
from armsbot.datafiles import DataFilesInvalid
from armsbot.imports import catalogue
from armsbot.imports.core import DatasetFileInvalid, ImportReport, import_dataset, remove_dataset
from armsbot.imports.download import DownloadFailed, check_download_url, check_sha256, download
from armsbot.imports.status import DatasetStatus, dataset_statuses
from armsbot.models import Category, Kind, Status
from armsbot.search.index import Match
from armsbot.services import data
from armsbot.services.claims import (
    MAX_YEAR,
    MIN_YEAR,
    ClaimQuery,
    ClaimsAnswer,
    claim_json,
    wants_claims,
)
from armsbot.services.corrections import Outcome
from armsbot.services.lookup import MAX_RESULTS, QueryError
from armsbot.services.quality import strict_problems
from armsbot.storage import KnowledgeBase
from armsbot.storage.connection import DatabaseUnavailable, database_failure, file_problems
from armsbot.storage.copy import copy_knowledge_base
from armsbot.storage.corrections import CorrectionRow
from armsbot.storage.postgres import is_postgres_url, shown_url

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_BAD_INPUT = 2
EXIT_DATA_INVALID = 3  # also: a database that cannot be opened, read or written
EXIT_DOWNLOAD_FAILED = 4  # a dataset could not be downloaded, or was not the pinned file

SQLITE_MAX_INTEGER = 2**63 - 1  # correction numbers and limits are SQLite's 64-bit integers
DISCORD_MAX_ID = 2**64 - 1  # Discord ids (snowflakes) are unsigned 64-bit integers
ACTOR_ID = re.compile(r"[a-z]+:\S+")  # discord:123, cli:alice, erased:1a2b3c

stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def _shown(text: str) -> str:
    """An argument as an error message quotes it: a very long one cut short."""
    return repr(text) if len(text) <= 40 else f"{text[:24]!r}... ({len(text)} characters)"


def _whole_number(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        shown = _shown(text)
        try:
            value = int(text)
        except ValueError:
            digits = text.strip().lstrip("+-")
            if not (digits.isascii() and digits.isdigit()):
                raise argparse.ArgumentTypeError(f"{shown} is not a whole number") from None
            value = high + 1 if not text.strip().startswith("-") else low - 1  # past int's limit
        if value < low:
            raise argparse.ArgumentTypeError(f"{shown} is too small: give at least {low}")
        if value > high:
            raise argparse.ArgumentTypeError(f"{shown} is too large: give at most {high}")
        return value

    return parse


def _reason(text: str) -> str:
    """An argparse type: the reason for a decision, as the Reject form takes it."""
    reason = text.strip()
    if not reason:
        raise argparse.ArgumentTypeError("the reason is empty: say why")
    if len(reason) > MAX_REASON:
        msg = f"the reason is {len(reason)} characters long; give at most {MAX_REASON}"
        raise argparse.ArgumentTypeError(msg)
    return reason


def _user_id(text: str) -> str:
    """An argparse type: a Discord user id, or an actor id as stored (``discord:123``)."""
    user = text.strip()
    if user.startswith("discord:") or ":" not in user:
        digits = user.removeprefix("discord:")
        valid = (
            digits.isascii()
            and digits.isdigit()
            and len(digits) <= len(str(DISCORD_MAX_ID))
            and 0 < int(digits) <= DISCORD_MAX_ID
        )
    else:
        valid = ACTOR_ID.fullmatch(user) is not None
    if not valid:
        msg = (
            f"{_shown(user)} is neither a Discord user id (digits, such as"
            " 123456789012345678) nor an actor id such as discord:123456789012345678 or cli:alice"
        )
        raise argparse.ArgumentTypeError(msg)
    return user


def _path(text: str) -> Path:
    """An argparse type: a path, which cannot be empty."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the path is empty")
    return Path(text)


def _file_path(text: str) -> Path:
    """An argparse type: a file to open or write, which must not be a folder."""
    path = _path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a folder: give a file")
    return path


def _database_argument(text: str) -> Path | str:
    """An argparse type: an SQLite file, or a ``postgresql://`` URL kept as it is."""
    if is_postgres_url(text):
        return text
    return _file_path(text.removeprefix("sqlite://")[1:] if text.startswith("sqlite://") else text)


def _existing_folder(text: str) -> Path:
    """An argparse type: a folder to read."""
    path = _path(text)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is not a folder")
    return path


def _folder_to_write(text: str) -> Path:
    """An argparse type: a folder to write into, created if it does not exist."""
    path = _path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is not a folder")
    return path


def _candidates_text(matches: list[Match]) -> str:
    if not matches:
        return "Nothing matched. Try another spelling, or `armsbot search` with fewer letters."
    lines = ["Did you mean:"]
    lines += [f"  {m.name} ({m.kind.value}, id {m.id})" for m in matches[:10]]
    return "\n".join(lines)


async def _ask(services: Services, args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    if args.what == "search":
        kind = Kind(args.kind) if args.kind else None
        connection = await services.claims.answer(ClaimQuery.make(query, kind=kind))
        if wants_claims(connection):  # several names, or words: the claims that link them
            return await _show_claims(services, connection, ASK_CLAIMS_SHOWN, as_json=args.json)
        card = services.lookup.search_card(query, kind, args.limit)
        if args.json:
            _print_json(card.to_dict())
        else:
            sys.stdout.write(render_text(card) + "\n")
        return EXIT_OK if card.sections else EXIT_NOT_FOUND
    answer = await services.lookup.ask(Kind(args.what), query)
    if answer.card is None:
        if args.json:
            _print_json(
                {
                    "query": answer.query,
                    "card": None,
                    "candidates": [m.to_dict() for m in answer.candidates],
                }
            )
        else:
            sys.stdout.write(_candidates_text(answer.candidates) + "\n")
        return EXIT_NOT_FOUND
    if args.json:
        _print_json(answer.card.to_dict())
    else:
        sys.stdout.write(render_text(answer.card) + "\n")
    return EXIT_OK


def _statuses(text: str) -> list[Status]:
    """An argparse type: one or more statuses, comma-separated."""
    found = []
    for part in text.split(","):
        try:
            found.append(Status(part.strip().lower()))
        except ValueError:
            names = ", ".join(s.value for s in Status)
            msg = f"{_shown(part.strip())} is not a status: give {names}"
            raise argparse.ArgumentTypeError(msg) from None
    return found


def _name(text: str) -> str:
    """An argparse type: a name (a party or a product), not empty."""
    if not text.strip():
        raise argparse.ArgumentTypeError("the name is empty")
    return text


async def _claims(services: Services, args: argparse.Namespace) -> int:
    claims = services.claims
    parties = []
    for name in args.party or []:
        resolution = claims.party(name)
        if resolution.chosen is None:
            stderr.print(f"--party {_shown(name)}:", markup=False)
            stderr.print(_candidates_text(resolution.candidates), markup=False)
            return EXIT_NOT_FOUND
        parties.append(resolution.chosen.id)
    query = ClaimQuery.make(
        " ".join(args.query),
        parties=parties,
        statuses=[s for group in args.status or [] for s in group],
        category=args.category,
        since=args.since,
        until=args.until,
        product=args.product,
        kind=args.kind,
    )
    answer = await claims.answer(query)
    return await _show_claims(services, answer, args.limit, as_json=args.json, per_claim=True)


async def _show_claims(
    services: Services,
    answer: ClaimsAnswer,
    limit: int,
    *,
    as_json: bool,
    per_claim: bool = False,
) -> int:
    """Print the claims an answer found (or the names to choose between); the exit status.

    ``per_claim``: JSON is one object per claim (``armsbot claims``), else the card.
    """
    if answer.ambiguous:
        choice = answer.ambiguous[0]
        lines = [f"“{choice.said}” names several entries; did you mean:"]
        lines += [f"  {m.name} ({m.kind.value}, id {m.id})" for m in choice.candidates[:10]]
        lines.append("Name one of them (or give its id with --party).")
        sys.stdout.write("\n".join(lines) + "\n")
        return EXIT_NOT_FOUND
    found = await services.claims.page(answer, 0, limit)
    card = claims_card(answer.heading(), answer.notes(), found)
    if as_json and per_claim:
        names = await services.claims.parties_of(found)
        _print_json([claim_json(c, names) for c in found])
    elif as_json:
        _print_json(card.to_dict())
    else:
        sys.stdout.write(render_text(card) + "\n")
        if answer.total > len(found):
            more = "; --limit shows more" if per_claim else ""
            sys.stdout.write(f"\nShown: the first {len(found)} of {answer.total}{more}.\n")
    return EXIT_OK if found else EXIT_NOT_FOUND


async def _search(services: Services, args: argparse.Namespace) -> int:
    query = " ".join(args.query)
    kind = Kind(args.kind) if args.kind else None
    matches = services.lookup.search(query, kind, args.limit)
    if args.json:
        _print_json([m.to_dict() for m in matches])
    else:
        for m in matches:
            sys.stdout.write(
                f"{m.score:5.1f}  {m.kind.value:<7} {m.id:<32} {m.name}  ← {m.matched}\n"
            )
        if not matches:
            sys.stdout.write("Nothing matched.\n")
    return EXIT_OK if matches else EXIT_NOT_FOUND


def _progress(
    label: str = "building knowledge base", *, in_bytes: bool = False
) -> tuple[Progress, Callable[[int, int | None], None]]:
    """A progress bar on stderr (on a terminal only), and the function that moves it."""
    counts = (DownloadColumn(), TransferSpeedColumn()) if in_bytes else (MofNCompleteColumn(),)
    progress = Progress(
        TextColumn(label),
        BarColumn(),
        *counts,
        console=stderr,
        transient=True,
        disable=not stderr.is_terminal,
    )
    task = progress.add_task(label, total=None)

    def update(done: int, total: int | None) -> None:
        progress.update(task, completed=done, total=total)

    return progress, update


async def _db_build(settings: Settings, args: argparse.Namespace) -> int:
    data_dir = args.data or settings.data_dir
    async with await _open_kb(settings) as kb:
        progress, update = _progress()
        with progress:
            report = await data.build(kb, data_dir, force=args.force, progress=update)
    counts = ", ".join(f"{v} {k}" for k, v in sorted(report.counts.items()))
    verb = "Built" if report.built else "Already up to date:"
    stderr.print(f"{verb} {_where(settings)} from {data_dir} ({counts})")
    return EXIT_OK


async def _open_kb(settings: Settings) -> KnowledgeBase:
    """The knowledge base the settings name (an SQLite file or a PostgreSQL URL)."""
    return await KnowledgeBase.open(settings.database_location, read_only=settings.read_only)


def _where(settings: Settings) -> str:
    """The database as messages name it: the file, or the URL without its password."""
    return shown_url(settings.database_url) if settings.database_url else str(settings.database)


def _import_report_text(report: ImportReport, database: str) -> str:
    lines = [
        f"Imported {report.path} into {database} in {report.seconds:.1f} s",
        f"  dataset: {report.dataset} ({report.name})",
        f"  file sha256: {report.checksum}",
        f"  records read: {report.records_read}",
        f"  claims: {report.claims_added} added, {report.claims_updated} updated,"
        f" {report.claims_unchanged} unchanged, {len(report.claims_removed)} removed"
        " (records no longer in the file)",
        f"  firms: {len(report.firms_created)} created, {len(report.firms_matched)} matched"
        f" ({', '.join(report.firms_matched) or 'none'}), {len(report.firms_updated)} updated,"
        f" {len(report.firms_unchanged)} unchanged, {len(report.firms_removed)} removed",
        f"  records in claims: {report.records_in_claims}",
        f"  records said twice: {len(report.records_merged)} (each cited by the claim of the"
        " record it repeats)",
        f"  not imported: {len(report.not_imported)}",
    ]
    lines += [f"    {uid}: {reason}" for uid, reason in report.not_imported]
    if report.claims_restamped:
        lines.append(f"  {report.claims_restamped} unchanged claims now cite this file's checksum")
    lines += [f"  removed record: {record}" for record in report.claims_removed]
    lines += [f"  kept firm {firm}: {reason}" for firm, reason in report.firms_kept]
    if report.notes:
        lines.append(f"  notes: {len(report.notes)}")
        lines += [f"    {note}" for note in report.notes]
    lines += [f"  licence: {report.licence}", f"  attribution: {report.attribution}"]
    if not report.changed:
        lines.append("Nothing changed: the knowledge base already holds this file.")
    return "\n".join(lines)


def _import_job(settings: Settings, args: argparse.Namespace) -> catalogue.ImportJob | str:
    """What ``db import`` is asked to do, or what is wrong with the arguments."""
    if (args.url is None) != (args.sha256 is None):
        return "Give --url and --sha256 together: a download is imported only if it matches."
    if args.url is not None and args.path is not None:
        return f"Give either a path or --url, not both ({args.path})."
    if args.path is not None and not args.path.strip():
        return "The path is empty."
    base = settings.dataset_base_url
    if args.dataset == "sii":
        if args.product is not None:
            return "--product is for `db import targets`; the SII file names its suppliers."
        path = Path(args.path) if args.path is not None else None
        return catalogue.sii_job(path, args.url, args.sha256, base)
    return catalogue.targets_job(args.path, args.product, args.url, args.sha256, base)


async def _fetch(settings: Settings, job: catalogue.ImportJob, folder: Path) -> Path:
    """The job's file on disk: downloaded into ``folder`` and checked, when it is a download."""
    if job.download is None:
        assert job.path is not None
        return job.path
    target = folder / job.download.filename
    progress, update = _progress(f"downloading {job.download.filename}", in_bytes=True)
    with progress:
        await asyncio.to_thread(
            download,
            job.download.url,
            job.download.sha256,
            target,
            timeout=settings.download_timeout_seconds,
            progress=update,
        )
    return target


async def _db_import(settings: Settings, args: argparse.Namespace) -> int:
    if args.remove:
        if args.url is not None or (args.path is not None and args.dataset == "sii"):
            stderr.print("Give either the path of the dataset's file or --remove.", markup=False)
            return EXIT_BAD_INPUT
        return await _db_remove(settings, args)
    try:
        job = await asyncio.to_thread(_import_job, settings, args)
    except catalogue.ImportRefused as exc:
        stderr.print(f"{exc}; nothing was changed.", markup=False)
        return EXIT_BAD_INPUT
    if isinstance(job, str):
        stderr.print(job, markup=False)
        return EXIT_BAD_INPUT
    if job.path is not None and not await asyncio.to_thread(job.path.is_file):
        stderr.print(f"{job.path} is not a file.", markup=False)
        return EXIT_BAD_INPUT
    with tempfile.TemporaryDirectory(prefix="armsbot-download-") as folder:
        try:
            path = await _fetch(settings, job, Path(folder))
        except DownloadFailed as exc:
            stderr.print(
                f"{exc.reason[0].upper()}{exc.reason[1:]}; nothing was changed. Fetch the file by"
                f" hand from {exc.url} and run `{job.by_hand}`.",
                markup=False,
            )
            return EXIT_DOWNLOAD_FAILED
        async with await _open_kb(settings) as kb:
            if await kb.meta(data.DATA_HASH_KEY) is None:
                await data.build(kb, settings.data_dir)  # the import needs the countries and firms
            progress, update = _progress(f"importing {path.name}")
            source = job.download.url if job.download is not None else None
            try:
                with progress:
                    report = await import_dataset(
                        kb, job.adapter, path, source=source, progress=update
                    )
            except DatasetFileInvalid as exc:
                stderr.print("The file cannot be imported; nothing was changed:", markup=False)
                for problem in exc.problems:
                    stderr.print(f"  {problem}", markup=False)
                return EXIT_DATA_INVALID
    if args.json:
        _print_json(report.to_dict())
    else:
        sys.stdout.write(_import_report_text(report, _where(settings)) + "\n")
    return EXIT_OK


async def _db_remove(settings: Settings, args: argparse.Namespace) -> int:
    try:
        dataset = catalogue.removal(args.dataset, args.path, args.product)
    except catalogue.ImportRefused as exc:
        stderr.print(f"{exc}; nothing was changed.", markup=False)
        return EXIT_BAD_INPUT
    async with await _open_kb(settings) as kb:
        if await kb.meta(data.DATA_HASH_KEY) is None:
            await data.build(kb, settings.data_dir)
        removed = await remove_dataset(kb, dataset)
    if args.json:
        _print_json(removed.to_dict())
    else:
        sys.stdout.write(
            f"Removed {removed.claims_removed} claims and {len(removed.firms_removed)}"
            f" firms of the {dataset} dataset from {_where(settings)}\n"
        )
        for firm, reason in removed.firms_kept:
            sys.stdout.write(f"  kept firm {firm}: {reason}\n")
    return EXIT_OK


def _datasets_text(statuses: list[DatasetStatus]) -> str:
    if not statuses:
        return (
            "No dataset is imported. `armsbot db import sii` imports the Surveillance Industry"
            " Index, `armsbot db import targets pegasus` Granitt's Pegasus Victim Database."
        )
    lines: list[str] = []
    for status in statuses:
        done = status.last_import
        lines += [
            f"{done.dataset}: {done.name}",
            f"  file sha256: {done.checksum}",
            f"  imported: {done.imported_at} from {done.source}",
            f"  records read: {done.records_read}; claims: {done.claims}; firms:"
            f" {len(done.firms_created)} created, {len(done.firms_matched)} matched"
            f" ({', '.join(done.firms_matched) or 'none'})",
        ]
        if status.dropped:
            lines.append(
                f"  now in the knowledge base: {status.now.claims} claims and"
                f" {status.now.firms_created} created firms (a rebuild from data/ drops imported"
                " records: import the file again)"
            )
        if done.records_merged:
            lines.append(
                f"  records said twice: {done.records_merged} (each cited by the claim of the"
                " record it repeats)"
            )
        lines.append(f"  left out: {len(done.left_out)}")
        lines += [f"    {record}: {reason}" for record, reason in done.left_out]
        lines += [f"  licence: {done.licence}", f"  attribution: {done.attribution}"]
    return "\n".join(lines)


async def _db_datasets(settings: Settings, args: argparse.Namespace) -> int:
    if settings.database_url is None and not settings.database.exists():
        stderr.print(
            f"No database at {settings.database}; run `armsbot db build` first.", markup=False
        )
        return EXIT_NOT_FOUND
    async with await _open_kb(settings) as kb:
        statuses = await dataset_statuses(kb)
    if args.json:
        _print_json([s.to_dict() for s in statuses])
    else:
        sys.stdout.write(_datasets_text(statuses) + "\n")
    return EXIT_OK


def _copy_refused(source: Path | str, target: Path | str) -> tuple[str, int] | None:
    """Why ``db copy`` cannot start (a message and the exit status), or None."""
    files = isinstance(source, Path) and isinstance(target, Path)
    if source == target or (files and Path(source).resolve() == Path(target).resolve()):
        return "The source and the target are the same database.", EXIT_BAD_INPUT
    if isinstance(source, Path) and not source.exists():
        return f"No database at {source}.", EXIT_NOT_FOUND
    return None


def _remove_database_file(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)


async def _db_copy(args: argparse.Namespace) -> int:
    source: Path | str = args.source
    target: Path | str = args.target
    refused = await asyncio.to_thread(_copy_refused, source, target)
    if refused is not None:
        stderr.print(refused[0], markup=False)
        return refused[1]
    created = isinstance(target, Path) and not await asyncio.to_thread(target.exists)
    try:
        async with (
            await KnowledgeBase.open(source, read_only=True) as origin,
            await KnowledgeBase.open(target) as destination,
        ):
            report = await copy_knowledge_base(origin, destination, replace=args.replace)
            shown = (origin.where, destination.where)
    except BaseException:
        if created and isinstance(target, Path):  # a file this command made: nothing is left
            await asyncio.to_thread(_remove_database_file, target)
        raise
    if args.json:
        _print_json(
            {"source": shown[0], "target": shown[1], "rows": report.rows, "sha256": report.digest}
        )
    else:
        total = sum(report.rows.values())
        sys.stdout.write(
            f"Copied {shown[0]} to {shown[1]}: {total} rows, checked (content sha256"
            f" {report.digest})\n"
        )
        for table, count in report.rows.items():
            sys.stdout.write(f"  {table}: {count}\n")
    return EXIT_OK


async def _db_export(settings: Settings, args: argparse.Namespace) -> int:
    async with await _open_kb(settings) as kb:
        written = await data.export(kb, args.directory)
    stderr.print(f"Wrote {len(written)} files under {args.directory}")
    return EXIT_OK


async def _check_database(path: Path | str, *, strict: bool) -> tuple[list[str], dict[str, int]]:
    """What is wrong with the database file, and what it holds; read-only, so nothing is written.

    A damaged file is what this command is for: what SQLite cannot read is a problem to report.
    ``strict`` adds what readers would trip over (:mod:`armsbot.services.quality`) when the file
    itself is sound.
    """
    problems = [] if isinstance(path, str) else await asyncio.to_thread(file_problems, path)
    if problems:
        return problems, {}
    try:
        async with await KnowledgeBase.open(path, read_only=True) as kb:
            problems = await kb.integrity_problems()
            if strict and not problems:
                problems = [str(p) for p in await strict_problems(kb)]
            counts = {} if problems else await kb.count()
    except DatabaseUnavailable as exc:
        return [str(exc)], {}
    except sqlite3.DatabaseError as exc:
        return [f"SQLite: {exc}"], {}
    return problems, counts


async def _db_check(settings: Settings, args: argparse.Namespace) -> int:
    if settings.database_url is None and not settings.database.exists():
        stderr.print(
            f"No database at {settings.database}; run `armsbot db build` first.", markup=False
        )
        return EXIT_NOT_FOUND
    problems, counts = await _check_database(settings.database_location, strict=args.strict)
    if args.json:
        _print_json({"ok": not problems, "problems": problems, "counts": counts})
    elif problems:
        sys.stdout.write("\n".join(problems) + "\n")
    else:
        sys.stdout.write(f"ok: {_where(settings)} " + json.dumps(counts) + "\n")
    return EXIT_OK if not problems else EXIT_DATA_INVALID


async def _commands_export(settings: Settings, args: argparse.Namespace) -> int:
    from armsbot.bot.manifest import command_payload, manifest_path, render  # noqa: PLC0415

    text = render(await command_payload())
    target = args.path or manifest_path()
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            stderr.print(
                f"{target} differs from the commands in the code; run `armsbot commands export`."
            )
            return EXIT_NOT_FOUND
        stderr.print(f"{target} matches the code.")
        return EXIT_OK
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    stderr.print(f"Wrote {target}")
    return EXIT_OK


async def _run(settings: Settings, args: argparse.Namespace) -> int:
    from armsbot.bot.runner import StartupError, run_bot  # noqa: PLC0415 - discord only here

    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        await run_bot(settings)
    except StartupError as exc:
        stderr.print(str(exc), markup=False)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _cli_actor() -> str:
    """Who acts from the host's shell: the operating-system user."""
    return f"cli:{getpass.getuser()}"


def _correction_dict(row: CorrectionRow) -> dict[str, Any]:
    return dataclasses.asdict(row)


async def _review(services: Services, args: argparse.Namespace) -> int:
    corrections = services.corrections
    if args.review_command == "list":
        rows = await corrections.store.corrections(
            status=CorrectionStatus(args.status), limit=args.limit
        )
        if args.json:
            _print_json([_correction_dict(r) for r in rows])
        else:
            for r in rows:
                reason = r.what_is_wrong.replace("\n", " ")[:70]
                sys.stdout.write(
                    f"#{r.id:<5} {r.status:<10} {r.entity_id or '(new)':<28} {reason}\n"
                )
            if not rows:
                sys.stdout.write("No corrections.\n")
        return EXIT_OK
    correction = await corrections.get(args.number)
    if correction is None:
        stderr.print(f"There is no correction #{args.number}.")
        return EXIT_NOT_FOUND
    if args.review_command == "show":
        before, after = await corrections.before_after(correction)
        if args.json:
            _print_json(_correction_dict(correction) | {"now": before, "proposed": after})
        else:
            sys.stdout.write(
                f"Correction #{correction.id} · {correction.entity_id or '(new entry)'} · "
                f"{correction.status}\nSubmitted by {correction.submitter_id} at "
                f"{correction.created_at}\nWhat is wrong: {correction.what_is_wrong}\n"
                f"Now: {before}\nProposed: {after}\nSource: {correction.source_url}\n"
            )
            if correction.decided_by:
                sys.stdout.write(
                    f"{str(correction.status).capitalize()} by {correction.decided_by} at "
                    f"{correction.decided_at}: {correction.decision_reason or '(no reason)'}\n"
                )
        return EXIT_OK
    if args.review_command == "approve":
        decision = await corrections.approve(correction.id, _cli_actor())
    else:
        decision = await corrections.reject(correction.id, _cli_actor(), args.reason)
    sys.stdout.write(decision.message + "\n")
    return EXIT_OK if decision.outcome in (Outcome.APPLIED, Outcome.REJECTED) else EXIT_NOT_FOUND


async def _audit(services: Services, args: argparse.Namespace) -> int:
    entries = await services.corrections.audit_log(limit=args.limit)
    if args.json:
        _print_json([dataclasses.asdict(e) for e in entries])
        return EXIT_OK
    for e in entries:
        target = f"#{e.correction_id}" if e.correction_id else ""
        details = json.dumps(e.details, ensure_ascii=False) if e.details else ""
        entity = e.entity_id or ""
        sys.stdout.write(
            f"{e.at}  {e.action:<10} {e.actor_id:<24} {target:<7} {entity:<28} {details}\n"
        )
    return EXIT_OK


async def _erase_user(services: Services, args: argparse.Namespace) -> int:
    user = args.user_id if ":" in args.user_id else f"discord:{args.user_id}"
    placeholder, changed = await services.corrections.erase_user(user)
    sys.stdout.write(f"Replaced {user} with {placeholder} in {changed} stored rows.\n")
    return EXIT_OK


def _sha256(text: str) -> str:
    """An argparse type: a sha256 (64 hexadecimal digits)."""
    try:
        return check_sha256(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{_shown(text)}: {exc}") from None


def _url(text: str) -> str:
    """An argparse type: an http(s) address."""
    try:
        return check_download_url(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{_shown(text)}: {exc}") from None


def _import_parser(db: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    importing = db.add_parser(
        "import",
        help="import a public dataset (or --remove it); without a path, download the pinned file",
    )
    importing.add_argument(
        "dataset",
        choices=catalogue.KINDS,
        help="sii: Surveillance Industry Index; targets: documented spyware targets (Granitt)",
    )
    importing.add_argument(
        "path",
        nargs="?",
        help="the dataset's file (SII: transfers.json); for targets also pegasus or candiru,"
        " Granitt's published files",
    )
    importing.add_argument(
        "--product", help="targets: the product the file's rows are about, such as Pegasus"
    )
    importing.add_argument("--url", type=_url, help="download the file from this address")
    importing.add_argument(
        "--sha256", type=_sha256, help="with --url: the sha256 the download must have"
    )
    importing.add_argument("--remove", action="store_true", help="remove what it brought")
    importing.add_argument("--json", action="store_true", help="the report as JSON")
    datasets = db.add_parser(
        "datasets", help="each imported dataset: checksum, when, what it brought and left out"
    )
    datasets.add_argument("--json", action="store_true")


MAX_CLAIMS_SHOWN = 1000
ASK_CLAIMS_SHOWN = 100  # `ask search` shows this many claims, as the bot's first pages would


def _claims_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    claims = commands.add_parser(
        "claims",
        help="the claims that link the names in a query, narrowed by its other words",
        description="The claims in which every entity the query names is a party (a country"
        " also stands for the firms based there), narrowed by the query's other words and the"
        " filters; with no name, the claims whose text, product, goods or end user has the words.",
    )
    claims.add_argument("query", nargs="*", help="names and words: NSO Morocco, israeli drones")
    claims.add_argument(
        "--party",
        action="append",
        type=_name,
        metavar="NAME",
        help="an entity that must be a party itself (repeatable)",
    )
    claims.add_argument(
        "--status",
        action="append",
        type=_statuses,
        help="only these statuses (repeatable, or comma-separated): "
        + ", ".join(s.value for s in Status),
    )
    claims.add_argument("--category", choices=[c.value for c in Category])
    claims.add_argument(
        "--since", type=_whole_number(MIN_YEAR, MAX_YEAR), help="from this year (of the event)"
    )
    claims.add_argument("--until", type=_whole_number(MIN_YEAR, MAX_YEAR), help="to this year")
    claims.add_argument("--product", type=_name, help="words of the product's name")
    claims.add_argument(
        "--kind", choices=[k.value for k in Kind], help="read only names of this kind"
    )
    claims.add_argument(
        "--limit",
        type=_whole_number(1, MAX_CLAIMS_SHOWN),
        default=100,
        help=f"show at most this many (up to {MAX_CLAIMS_SHOWN})",
    )
    claims.add_argument("--json", action="store_true", help="one object per claim")


def _copy_parser(db: Any) -> None:
    """``db copy`` and ``db erase-user``: the commands that move or rewrite every row."""
    copy = db.add_parser(
        "copy",
        help="copy a whole knowledge base, history and audit log included, between databases",
    )
    copy.add_argument("source", type=_database_argument, help="an SQLite file or postgresql:// URL")
    copy.add_argument("target", type=_database_argument, help="an SQLite file or postgresql:// URL")
    copy.add_argument(
        "--replace", action="store_true", help="replace what the target holds (refused otherwise)"
    )
    copy.add_argument("--json", action="store_true")
    erase = db.add_parser("erase-user", help="replace a user's id in corrections and the audit log")
    erase.add_argument(
        "user_id", type=_user_id, help="a Discord user id (or an actor id such as discord:123)"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="armsbot",
        description="What is known about arms and surveillance sales to abusive governments.",
    )
    parser.add_argument(
        "--database",
        type=_database_argument,
        help="SQLite file or postgresql:// URL (default: $ARMSBOT_DATABASE_URL,"
        " $ARMSBOT_DATABASE or user data dir)",
    )
    parser.add_argument(
        "--read-only",
        action="store_true",
        default=None,
        help="open the database read-only: answers work, changes are refused ($ARMSBOT_READ_ONLY)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("run", help="run the Discord bot (needs ARMSBOT_TOKEN)")
    manifest = commands.add_parser("commands", help="the slash-command manifest").add_subparsers(
        dest="commands_command", required=True
    )
    export_commands = manifest.add_parser("export", help="write commands/commands.json")
    export_commands.add_argument("path", nargs="?", type=_file_path, help="where to write it")
    export_commands.add_argument("--check", action="store_true", help="fail if it is out of date")

    ask = commands.add_parser("ask", help="the answer the bot gives, as text or JSON")
    ask.add_argument("what", choices=["country", "firm", "law", "search"])
    ask.add_argument("query", nargs="+", help="a name, alias, code or id")
    ask.add_argument(
        "--kind", choices=[k.value for k in Kind], help="with `search`: only this kind"
    )
    ask.add_argument(
        "--limit",
        type=_whole_number(1, MAX_RESULTS),
        default=10,
        help=f"with `search`: at most this many (up to {MAX_RESULTS})",
    )
    ask.add_argument("--json", action="store_true", help="machine-readable output")

    search = commands.add_parser("search", help="ranked matches for a name")
    search.add_argument("query", nargs="+")
    search.add_argument("--kind", choices=[k.value for k in Kind])
    search.add_argument(
        "--limit", type=_whole_number(1, MAX_RESULTS), default=10, help=f"up to {MAX_RESULTS}"
    )
    search.add_argument("--json", action="store_true")

    _claims_parser(commands)

    db = commands.add_parser("db", help="data tools").add_subparsers(
        dest="db_command", required=True
    )
    build = db.add_parser("build", help="build the knowledge base from the data folder")
    build.add_argument(
        "--data",
        type=_existing_folder,
        help="data folder (default: the bundled one or $ARMSBOT_DATA_DIR)",
    )
    build.add_argument("--force", action="store_true", help="rebuild even if nothing changed")
    export = db.add_parser("export", help="write the knowledge base back as YAML files")
    export.add_argument("directory", type=_folder_to_write)
    check = db.add_parser("check", help="verify the database's integrity")
    check.add_argument("--json", action="store_true")
    check.add_argument(
        "--strict",
        action="store_true",
        help="also check what readers meet: sources, duplicates, editors' notes, dates, roles",
    )
    _import_parser(db)
    _copy_parser(db)

    review = commands.add_parser("review", help="moderate corrections from the host's shell")
    review_commands = review.add_subparsers(dest="review_command", required=True)
    listing = review_commands.add_parser("list", help="corrections, oldest first")
    listing.add_argument(
        "--status",
        default=CorrectionStatus.PENDING.value,
        choices=[status.value for status in CorrectionStatus],
    )
    listing.add_argument("--limit", type=_whole_number(1, SQLITE_MAX_INTEGER), default=50)
    listing.add_argument("--json", action="store_true")
    show = review_commands.add_parser("show", help="one correction, now and proposed")
    show.add_argument("number", type=_whole_number(1, SQLITE_MAX_INTEGER))
    show.add_argument("--json", action="store_true")
    approve = review_commands.add_parser("approve", help="apply a pending correction")
    approve.add_argument("number", type=_whole_number(1, SQLITE_MAX_INTEGER))
    reject = review_commands.add_parser("reject", help="reject a pending correction")
    reject.add_argument("number", type=_whole_number(1, SQLITE_MAX_INTEGER))
    reject.add_argument("--reason", type=_reason, required=True)

    audit = commands.add_parser("audit", help="the audit log")
    audit.add_argument("--limit", type=_whole_number(1, SQLITE_MAX_INTEGER), default=1000)
    audit.add_argument("--json", action="store_true")
    return parser


async def _with_services(
    settings: Settings,
    args: argparse.Namespace,
    command: Callable[[Services, argparse.Namespace], Coroutine[Any, Any, int]],
    *,
    search: bool = True,
) -> int:
    services = await open_services(settings, search=search)
    try:
        return await command(services, args)
    finally:
        await services.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the exit status."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    for argument in arguments:
        if _not_text(argument):
            stderr.print(
                f"The argument {argument!a} is not valid UTF-8 text; armsbot reads its"
                " arguments as UTF-8.",
                markup=False,
            )
            return EXIT_BAD_INPUT
    args = _parser().parse_args(arguments)
    try:
        settings = Settings()
    except ValidationError as exc:
        for error in exc.errors():
            name = "ARMSBOT_" + "_".join(str(part) for part in error["loc"]).upper()
            stderr.print(f"{name}: {error['msg']}", markup=False)
        return EXIT_BAD_INPUT
    if isinstance(args.database, str):
        settings = settings.model_copy(update={"database_url": args.database})
    elif args.database is not None:
        settings = settings.model_copy(update={"database": args.database, "database_url": None})
    if args.read_only is not None:
        settings = settings.model_copy(update={"read_only": args.read_only})
    if settings.database_url is None and settings.database.is_dir():
        stderr.print(f"The database {settings.database} is a folder: give a file.", markup=False)
        return EXIT_BAD_INPUT
    runners: dict[tuple[str, str | None], Callable[[], Coroutine[Any, Any, int]]] = {
        ("ask", None): lambda: _with_services(settings, args, _ask),
        ("search", None): lambda: _with_services(settings, args, _search),
        ("claims", None): lambda: _with_services(settings, args, _claims),
        ("db", "build"): lambda: _db_build(settings, args),
        ("db", "export"): lambda: _db_export(settings, args),
        ("db", "check"): lambda: _db_check(settings, args),
        ("db", "import"): lambda: _db_import(settings, args),
        ("db", "datasets"): lambda: _db_datasets(settings, args),
        ("db", "copy"): lambda: _db_copy(args),
    }
    runners[("run", None)] = lambda: _run(settings, args)
    # These only read and decide corrections: no name is looked up, so no index is loaded.
    runners[("audit", None)] = lambda: _with_services(settings, args, _audit, search=False)
    runners[("db", "erase-user")] = lambda: _with_services(
        settings, args, _erase_user, search=False
    )
    for action in ("list", "show", "approve", "reject"):
        runners[("review", action)] = lambda: _with_services(settings, args, _review, search=False)
    runners[("commands", "export")] = lambda: _commands_export(settings, args)
    sub = (
        getattr(args, "db_command", None)
        or getattr(args, "commands_command", None)
        or getattr(args, "review_command", None)
    )
    runner = runners[(args.command, sub)]
    try:
        return asyncio.run(runner())
    except QueryError as exc:
        stderr.print(str(exc), markup=False)
        return EXIT_BAD_INPUT
    except data.UnexportedChanges as exc:
        stderr.print(f"Nothing was rebuilt: {exc}.", markup=False)
        return EXIT_DATA_INVALID
    except DataFilesInvalid as exc:
        stderr.print("The data files have problems; nothing was changed:", markup=False)
        for problem in exc.problems:
            stderr.print(f"  {problem}", markup=False)
        return EXIT_DATA_INVALID
    except DatabaseUnavailable as exc:
        stderr.print(f"{exc}.", markup=False)
        return EXIT_DATA_INVALID
    except sqlite3.Error as exc:
        failure = database_failure(settings.database, exc)
        if failure is None:
            raise
        stderr.print(f"{failure}.", markup=False)
        return EXIT_DATA_INVALID
    except OSError as exc:
        if args.command == "run":  # Discord out of reach: the log shows the whole failure
            raise
        where = f"{exc.filename}: " if exc.filename else ""
        stderr.print(f"{where}{exc.strerror or exc}; nothing more was done.", markup=False)
        return EXIT_DATA_INVALID
    except KeyboardInterrupt:
        return 130


def _not_text(argument: str) -> bool:
    """Whether an argument is not text: bytes that are not UTF-8 arrive as lone surrogates."""
    try:
        argument.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False
