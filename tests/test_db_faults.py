"""A database that cannot be used, and input that cannot be used: one line and an exit status.

F5 and F11 of issue 10. Commands run in process (``cli.main``, output captured), but for those
that need a process of their own, which runs with a timeout so a hang fails the test: a full disk,
and one case each of ``armsbot run`` and of arguments that are not UTF-8 through the real entry
point. The faults are real, also when the tests run as root (where ``chmod`` stops nothing):
damaged bytes, SQLite's read-only open mode, and a full disk made with ``RLIMIT_FSIZE``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import discord.gateway
import discord.http
import pytest

from tests.conftest import REPO, run_main
from tests.test_corrections_cli import _submit

HANG = 90  # seconds: far beyond any command here; reaching it means the process hung

SQLITE_HEADER = b"SQLite format 3\x00"
PAGE = 4096


@contextmanager
def _hang_fails() -> Iterator[None]:
    """In process as in a process of its own: a command still running at HANG seconds fails."""

    def hung(signum: int, frame: object) -> None:
        raise TimeoutError(f"the command was still running after {HANG} s: it hangs")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.setitimer(signal.ITIMER_REAL, HANG)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def armsbot(
    *args: str | bytes,
    database: Path | None,
    env: dict[str, str] | None = None,
    preexec_fn: Callable[[], None] | None = None,
    own_process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run the CLI with no ``ARMSBOT_*`` setting but ``env``: in process (``cli.main``) unless it
    needs a process (``preexec_fn``) or ``own_process`` asks for the real entry point. In process,
    bytes reach ``cli.main`` as Python decodes a process's arguments (undecodable bytes become
    lone surrogates)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ARMSBOT_")}
    environment["NO_COLOR"] = "1"
    if database is not None:
        environment["ARMSBOT_DATABASE"] = str(database)
    environment |= env or {}
    if preexec_fn is None and not own_process:
        with _hang_fails():
            return run_main([os.fsdecode(a) for a in args], environment, REPO)
    return subprocess.run(
        [sys.executable, "-m", "armsbot", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO,
        timeout=HANG,
        check=False,
        preexec_fn=preexec_fn,  # only sets a resource limit and a signal's disposition
    )


def assert_one_line(result: subprocess.CompletedProcess[str], status: int) -> str:
    """The command failed with ``status`` and one line on stderr, no traceback; return it."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == status, output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, output
    return lines[0]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def full_disk(limit: int) -> Callable[[], None]:
    """A child whose files cannot grow past ``limit`` bytes: writes fail with EFBIG, like ENOSPC."""

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return limit_file_size


def knowledge(database: Path) -> list[tuple[object, ...]]:
    """What the knowledge base says, read without armsbot."""
    with sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT id, name, revision FROM entities ORDER BY id").fetchall()
        rows += db.execute("SELECT id, text FROM claims ORDER BY id").fetchall()
        rows += db.execute("SELECT key, value FROM kb_meta ORDER BY key").fetchall()
    return rows


def statuses(database: Path) -> list[tuple[object, ...]]:
    """Every correction's status and every audit entry, read without armsbot."""
    with sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT id, status, revision_id FROM corrections ORDER BY id").fetchall()
        rows += db.execute("SELECT id, action FROM audit_log ORDER BY id").fetchall()
    return rows


# -- damaged files ------------------------------------------------------------------------------


def _truncated(good: bytes) -> bytes:
    return good[: len(good) // 2]


def _not_sqlite(_: bytes) -> bytes:
    return b"# armsbot settings\ntoken = none\n" * 40


def _smashed_header(good: bytes) -> bytes:
    return b"\xa5" * 100 + good[100:]


def _flipped(good: bytes) -> bytes:
    # Flip the bytes of an index's first page (past its header): the schema still reads, so the
    # damage is what SQLite's integrity check finds, wherever the data put that page.
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "copy.sqlite3"
        copy.write_bytes(good)
        with closing(sqlite3.connect(copy)) as db:
            (root,) = db.execute(
                "SELECT rootpage FROM sqlite_master WHERE name = 'aliases_folded'"
            ).fetchone()
    damaged = bytearray(good)
    start = (root - 1) * PAGE
    for offset in range(start + 100, start + PAGE):
        damaged[offset] ^= 0xFF
    return bytes(damaged)


def _empty(_: bytes) -> bytes:
    return b""


# A zero-length file too: SQLite would take it for a new database, and a knowledge base cut to
# nothing would be rebuilt from data/ without a word, its corrections and history gone.
UNOPENABLE = {
    "truncated": _truncated,
    "not-sqlite": _not_sqlite,
    "smashed-header": _smashed_header,
    "zero-length": _empty,
}
DAMAGED = UNOPENABLE | {"flipped-bytes": _flipped}


def damage(db_copy: Path, how: str) -> Path:
    target = db_copy.with_name("damaged.sqlite3")
    target.write_bytes(DAMAGED[how](db_copy.read_bytes()))
    return target


# Every command that opens the database, with arguments that would work on a sound one.
COMMANDS: list[tuple[str, ...]] = [
    ("ask", "country", "azerbajan"),
    ("ask", "search", "pegasus"),
    ("search", "nso"),
    ("db", "build"),
    ("db", "build", "--force"),
    ("db", "export", "{tmp}/export"),
    ("db", "import", "sii", "--remove"),
    ("db", "erase-user", "123456789012345678"),
    ("review", "list"),
    ("review", "show", "1"),
    ("review", "approve", "1"),
    ("review", "reject", "1", "--reason", "Not in the source."),
    ("audit",),
]


@pytest.mark.parametrize("how", sorted(UNOPENABLE))
def test_f5_every_command_on_an_unusable_database_says_one_line_and_exits_3(
    db_copy: Path, tmp_path: Path, how: str
) -> None:
    database = damage(db_copy, how)
    before = digest(database)
    for command in COMMANDS:
        args = [part.format(tmp=tmp_path) for part in command]
        line = assert_one_line(armsbot(*args, database=database), 3)
        assert str(database) in line, (command, line)
        assert digest(database) == before, command
    assert not (tmp_path / "export").exists()


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ("truncated", "malformed"),
        ("not-sqlite", "not an SQLite database"),
        ("smashed-header", "not an SQLite database"),
        ("flipped-bytes", "SQLite integrity"),
        ("zero-length", "empty"),
    ],
)
def test_f5_db_check_reports_damage_without_writing(db_copy: Path, how: str, expected: str) -> None:
    database = damage(db_copy, how)
    before = digest(database)
    result = armsbot("db", "check", database=database)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 3, result.stdout + result.stderr
    assert expected in result.stdout, result.stdout
    assert not result.stdout.startswith("ok")
    as_json = armsbot("db", "check", "--json", database=database)
    assert as_json.returncode == 3, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    assert any(expected in problem for problem in report["problems"])
    assert digest(database) == before  # not a byte written: no schema in an empty file
    assert database.stat().st_size == len(DAMAGED[how](db_copy.read_bytes()))


def test_f5_db_check_opens_read_only(db_copy: Path) -> None:
    # A sound database is reported sound, without a write (a schema too new is not "upgraded").
    before = digest(db_copy)
    result = armsbot("db", "check", database=db_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"ok: {db_copy} ")
    assert digest(db_copy) == before
    foreign = db_copy.with_name("other-program.sqlite3")
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    before = digest(foreign)
    result = armsbot("db", "check", database=foreign)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "not an armsbot database" in result.stdout
    assert digest(foreign) == before


def test_f5_another_programs_database_is_not_taken_over(db_copy: Path) -> None:
    foreign = db_copy.with_name("other-program.sqlite3")
    with sqlite3.connect(foreign) as db:
        db.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url TEXT)")
    before = digest(foreign)
    for command in (("ask", "country", "azerbajan"), ("db", "build")):
        line = assert_one_line(armsbot(*command, database=foreign), 3)
        assert "not an armsbot database" in line
    assert digest(foreign) == before


def test_f5_read_only_database_answers_reads_and_refuses_writes(db_copy: Path) -> None:
    # SQLite's read-only open mode (file:...?mode=ro): refused by SQLite itself, even for root.
    first, second = asyncio.run(_submit(db_copy, 2))
    kept = statuses(db_copy), knowledge(db_copy)
    read_only = {"ARMSBOT_READ_ONLY": "1"}

    answer = armsbot("ask", "country", "azerbajan", database=db_copy, env=read_only)
    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.startswith("Azerbaijan (AZ) — country")
    found = armsbot("--read-only", "search", "nso", "--json", database=db_copy)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["id"] == "nso-group"
    listed = armsbot("review", "list", "--json", database=db_copy, env=read_only)
    assert [c["id"] for c in json.loads(listed.stdout)] == [first, second]
    shown = armsbot("review", "show", str(first), database=db_copy, env=read_only)
    assert "Proposed: add alias: Test alias 0000" in shown.stdout
    audit = armsbot("audit", "--json", database=db_copy, env=read_only)
    assert [e["action"] for e in json.loads(audit.stdout)] == ["submit", "submit"]
    check = armsbot("db", "check", database=db_copy, env=read_only)
    assert check.returncode == 0, check.stdout + check.stderr

    for command in (
        ("review", "approve", str(first)),
        ("review", "reject", str(second), "--reason", "Not in the source."),
        ("db", "erase-user", "1000"),
        ("db", "build", "--force"),
    ):
        line = assert_one_line(armsbot(*command, database=db_copy, env=read_only), 3)
        assert "read-only" in line, (command, line)
        assert "nothing was changed" in line, (command, line)
    assert (statuses(db_copy), knowledge(db_copy)) == kept


def test_f5_read_only_database_that_is_new_cannot_be_created(tmp_path: Path) -> None:
    database = tmp_path / "missing.sqlite3"
    line = assert_one_line(
        armsbot("--read-only", "ask", "country", "azerbajan", database=database), 3
    )
    assert "cannot be opened" in line
    assert not database.exists()


@pytest.mark.parametrize(
    ("how", "own_process"),
    [("not-sqlite", True), ("truncated", False)],  # one through the real entry point
)
def test_f5_run_with_an_unusable_database_exits_3_promptly(
    db_copy: Path, tmp_path: Path, how: str, own_process: bool
) -> None:
    database = damage(db_copy, how)
    env = {
        "ARMSBOT_TOKEN": "dummy",
        # Nothing listens there: the database is checked before any login is tried.
        "ARMSBOT_API_BASE_URL": "http://127.0.0.1:9/api/v10",
        "ARMSBOT_GATEWAY_URL": "ws://127.0.0.1:9/",
    }
    saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    before = set(threading.enumerate())
    try:  # a hang fails at HANG seconds (in process too: _hang_fails)
        result = armsbot("run", database=database, env=env, own_process=own_process)
    finally:  # `armsbot run` points discord.py at the addresses above
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = saved
    line = assert_one_line(result, 3)
    assert str(database) in line
    # In process: nothing is left running that would keep a process from exiting.
    left = [t for t in threading.enumerate() if t not in before and not t.daemon]
    for thread in left:
        thread.join(HANG)
    assert [t.name for t in left if t.is_alive()] == []


# -- full disk ----------------------------------------------------------------------------------


@pytest.mark.slow  # multi-process: a child with a file-size limit
def test_f11_full_disk_build_reports_the_disk_error_and_changes_nothing(db_copy: Path) -> None:
    kept = knowledge(db_copy)
    # The database file is larger than the limit; the rebuild's log cannot grow past 1 MB.
    result = armsbot("db", "build", "--force", database=db_copy, preexec_fn=full_disk(2**20))
    line = assert_one_line(result, 3)
    # A file-size limit is EFBIG, which SQLite reports as an I/O error; ENOSPC is "disk is full".
    # Where the write fails decides which: the log's own write is SQLITE_IOERR_WRITE ("could not be
    # written"); a full-text index's write that fails comes back as a plain SQLITE_IOERR, which
    # does not tell a write from a read ("could not be read or written").
    assert re.search(r"could not be (read or )?written \(disk I/O error", line), line
    assert "nothing was changed" in line
    assert "rollback" not in line
    assert knowledge(db_copy) == kept
    check = armsbot("db", "check", database=db_copy)
    assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.slow  # multi-process: a child with a file-size limit
def test_f11_full_disk_approval_reports_the_disk_error_and_stays_pending(db_copy: Path) -> None:
    (number,) = asyncio.run(_submit(db_copy, 1))
    kept = statuses(db_copy), knowledge(db_copy)
    # Room for SQLite's 32 kB shared-memory file and a few pages of log, not for an approval.
    result = armsbot(
        "review", "approve", str(number), database=db_copy, preexec_fn=full_disk(40_000)
    )
    line = assert_one_line(result, 3)
    assert "could not be written (disk I/O error" in line
    assert (statuses(db_copy), knowledge(db_copy)) == kept
    approved = armsbot("review", "approve", str(number), database=db_copy)
    assert approved.returncode == 0, approved.stderr
    assert "is applied" in approved.stdout


# -- arguments ----------------------------------------------------------------------------------

TOO_LARGE = "99999999999999999999999"
# Run as its own process: Python's own decoding of the arguments (the other cases run in process).
THROUGH_THE_ENTRY_POINT = (b"review", b"reject", b"1", b"--reason", b"caf\xe9")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("review", "approve", TOO_LARGE), "at most 9223372036854775807"),
        (("review", "approve", "9223372036854775808"), "at most 9223372036854775807"),
        (("review", "show", TOO_LARGE), "at most 9223372036854775807"),
        (("review", "reject", TOO_LARGE, "--reason", "x"), "at most 9223372036854775807"),
        (("review", "approve", "0"), "at least 1"),
        (("review", "show", "-5"), "at least 1"),
        (("review", "list", "--limit", TOO_LARGE), "at most 9223372036854775807"),
        (("review", "list", "--limit", "-1"), "at least 1"),
        (("audit", "--limit", TOO_LARGE), "at most 9223372036854775807"),
        (("audit", "--limit", "0"), "at least 1"),
        (("search", "nso", "--limit", "0"), "at least 1"),
        (("search", "nso", "--limit", "26"), "at most 25"),
        (("search", "nso", "--limit", TOO_LARGE), "at most 25"),
        (("ask", "search", "nso", "--limit", "-3"), "at least 1"),
        (("review", "reject", "1", "--reason", "   "), "empty"),
        (("review", "reject", "1", "--reason", "x" * 1001), "at most 1000"),
        (("db", "erase-user", ""), "a Discord user id"),
        (("db", "erase-user", "nobody"), "a Discord user id"),
        (("db", "erase-user", TOO_LARGE), "a Discord user id"),
        (("db", "erase-user", "discord:"), "a Discord user id"),
        (("db", "erase-user", "discord:12 34"), "a Discord user id"),
        (("db", "build", "--data", "{tmp}/missing"), "is not a folder"),
        (("db", "export", "{db}"), "is not a folder"),
        (("db", "import", "sii", "{tmp}/transfers.json", "--remove"), "either"),
        (("commands", "export", "{tmp}"), "is a folder"),
        (("--database", "", "audit"), "--database"),
        (("--database", "{tmp}", "audit"), "is a folder"),
        (THROUGH_THE_ENTRY_POINT, "UTF-8"),
        ((b"db", b"erase-user", b"discord:\xff"), "UTF-8"),
    ],
)
def test_f11_every_cli_argument_is_validated(
    db_copy: Path, tmp_path: Path, args: tuple[str | bytes, ...], message: str
) -> None:
    kept = statuses(db_copy), knowledge(db_copy)
    (tmp_path / "transfers.json").write_text("[]", encoding="utf-8")
    filled = [a.format(tmp=tmp_path, db=db_copy) if isinstance(a, str) else a for a in args]
    result = armsbot(*filled, database=db_copy, own_process=args == THROUGH_THE_ENTRY_POINT)
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == 2, output
    assert message in result.stderr, result.stderr
    assert (statuses(db_copy), knowledge(db_copy)) == kept


def test_f11_bad_settings_in_the_environment_are_one_clear_error(db_copy: Path) -> None:
    result = armsbot("audit", database=db_copy, env={"ARMSBOT_SUBMISSIONS_PER_HOUR": "0"})
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    assert result.returncode == 2, output
    assert "ARMSBOT_SUBMISSIONS_PER_HOUR" in result.stderr
