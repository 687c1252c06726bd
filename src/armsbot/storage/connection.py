"""Opening the SQLite file, and what its failures mean to the person who runs armsbot."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import aiosqlite

BUSY_TIMEOUT_S = 5.0  # how long a write waits for another process's to finish
SQLITE_HEADER = b"SQLite format 3\x00"

# SQLite's primary result codes (the low byte of an extended code) that say something about the
# file, the disk or another process rather than about armsbot's SQL.
_PERM, _BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _AUTH, _NOTADB = (
    sqlite3.SQLITE_PERM,
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CORRUPT,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_AUTH,
    sqlite3.SQLITE_NOTADB,
)
_WRITING = {  # the I/O errors that SQLite reports for a write (extended result code names)
    "SQLITE_IOERR_WRITE",
    "SQLITE_IOERR_FSYNC",
    "SQLITE_IOERR_DIR_FSYNC",
    "SQLITE_IOERR_TRUNCATE",
    "SQLITE_IOERR_SHMSIZE",
}
_UNCHANGED = "nothing was changed"


class DatabaseUnavailable(Exception):
    """The database file cannot do what was asked; the message says, in one line, which and why."""


def database_failure(path: Path, error: BaseException) -> DatabaseUnavailable | None:
    """The one-line error for a failure of the file, the disk or a lock; None for anything else.

    SQLite's own words are kept (they are what a search for the problem finds) after what they
    mean here. Writes are transactions, so a failed one changed nothing.
    """
    if isinstance(error, DatabaseUnavailable):
        return error
    if isinstance(error, OSError):
        return DatabaseUnavailable(f"{path} cannot be opened: {error.strerror or error}")
    if not isinstance(error, sqlite3.Error):
        return None
    code = getattr(error, "sqlite_errorcode", None)
    if code is None:
        return None
    primary = code & 0xFF
    if primary == _NOTADB:
        message = f"{path} is not an SQLite database, or its header is damaged ({error})"
    elif primary == _CORRUPT:
        message = f"{path} is damaged ({error}): `armsbot db check` lists the damage"
    elif primary == _READONLY:
        message = f"{path} is read-only, so {_UNCHANGED} ({error})"
    elif primary == _FULL:
        message = f"{path} could not be written: the disk is full ({error}); {_UNCHANGED}"
    elif primary == _IOERR and getattr(error, "sqlite_errorname", "") in _WRITING:
        # A write the OS refused: a full disk or quota, a file-size limit, a failing disk.
        message = f"{path} could not be written ({error}: is the disk full?); {_UNCHANGED}"
    elif primary == _IOERR:
        message = f"{path} could not be read or written ({error}); {_UNCHANGED}"
    elif primary in (_CANTOPEN, _PERM, _AUTH):
        message = f"{path} cannot be opened ({error})"
    elif primary in (_BUSY, _LOCKED):
        message = f"{path} is held by another process ({error}); {_UNCHANGED}; try again"
    else:
        return None
    return DatabaseUnavailable(message)


def file_problems(path: Path) -> list[str]:
    """What is wrong with the file before SQLite reads it: missing, empty, not SQLite."""
    try:
        with path.open("rb") as file:
            header = file.read(len(SQLITE_HEADER))
    except OSError as exc:
        return [f"{path} cannot be read: {exc.strerror or exc}"]
    if not header:
        return [f"{path} is empty (0 bytes): not an armsbot database"]
    if header != SQLITE_HEADER:
        return [f"{path} is not an SQLite database, or its header is damaged"]
    return []


async def connect(path: Path, *, read_only: bool) -> aiosqlite.Connection:
    """A connection to ``path`` set up for armsbot; with ``read_only``, SQLite refuses any write.

    Whatever fails here closes the connection again: its worker thread is not a daemon, and one
    left running keeps the process from ever exiting.
    """
    try:
        target, uri = await asyncio.to_thread(_openable, path, read_only=read_only)
        connection = await aiosqlite.connect(target, uri=uri, isolation_level=None)
    except (sqlite3.Error, OSError) as exc:
        raise _unavailable(path, exc) from None
    try:
        connection.row_factory = aiosqlite.Row
        await connection.execute("PRAGMA foreign_keys = ON")
        await connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        await connection.execute("PRAGMA synchronous = NORMAL")
    except BaseException as exc:
        await connection.close()
        if isinstance(exc, sqlite3.Error):
            raise _unavailable(path, exc) from None
        raise
    return connection


def _openable(path: Path, *, read_only: bool) -> tuple[str, bool]:
    """What to hand ``sqlite3.connect`` for ``path``, once its header has been read with it.

    It is opened once here, in a plain thread: when aiosqlite's own open fails, its worker thread
    reports its end to an event loop that may be closed by then, and prints a traceback; and a
    file that cannot be read at all is refused here, in one place.
    """
    if read_only:
        # mode=ro: SQLite itself refuses writes (whoever runs armsbot, root included), and a
        # missing file is an error rather than a new database.
        target, uri = f"{path.resolve().as_uri()}?mode=ro", True
    else:
        if path.is_file() and path.stat().st_size == 0 and _settled(path):
            # SQLite would take an empty file for a new database and armsbot would build one:
            # a knowledge base cut to nothing would be replaced without a word, and its
            # corrections and history with it.
            raise DatabaseUnavailable(
                f"{path} is empty (0 bytes): if it was cut short, restore it from a backup;"
                " delete it to start a new knowledge base"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        target, uri = str(path), False
    try:
        _read_header(target, uri=uri)
    except sqlite3.OperationalError as exc:
        if exc.sqlite_errorcode & 0xFF != _CANTOPEN or not _settled(path):
            raise
        # On a read-only mount SQLite cannot create the shared-memory file that reading a WAL
        # database needs. Nothing can change the file there, and no log holds changes beside
        # it: SQLite may then read it as immutable (reads work, writes are refused).
        target, uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1", True
        try:
            _read_header(target, uri=uri)
        except sqlite3.Error:
            raise exc from None
    return target, uri


def _read_header(target: str, *, uri: bool) -> None:
    connection = sqlite3.connect(target, uri=uri)
    try:
        connection.execute("PRAGMA user_version").fetchone()
    finally:
        connection.close()


def _settled(path: Path) -> bool:
    """Whether the file exists and no write-ahead log beside it holds changes not yet in it."""
    log = path.with_name(path.name + "-wal")
    return path.is_file() and (not log.exists() or log.stat().st_size == 0)


async def use_wal(connection: aiosqlite.Connection) -> None:
    """WAL, so readers never wait for a writer; a file the OS will not let us write stays as is."""
    try:
        await connection.execute("PRAGMA journal_mode = WAL")
    except sqlite3.OperationalError as exc:
        # SQLite opens a write-protected file read-only by itself: reads still work there.
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF != _READONLY:
            raise


def _unavailable(path: Path, error: sqlite3.Error | OSError) -> DatabaseUnavailable | Exception:
    return database_failure(path, error) or error
