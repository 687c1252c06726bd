"""PostgreSQL through asyncpg, behind the few calls the storage modules make of aiosqlite.

The storage modules write their SQL once, with ``?`` (or ``:name``) placeholders, and run it on
either connection: :class:`PgConnection` numbers the placeholders (``$1``...) and answers with
rows that read by name and by index, as ``aiosqlite.Row`` does. Statements that cannot be portable
are chosen by ``KnowledgeBase.dialect``; the PostgreSQL schema (``pg_migrations``) defines the few
SQLite functions the portable statements use (``json_group_array``, ``group_concat``,
``json_extract``).

Every failure of the server or the connection becomes a one-line ``DatabaseUnavailable``; every
wait has a time limit, so a server that stops answering is an error, not a hang.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterable, Mapping
from functools import lru_cache
from types import TracebackType
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from armsbot.storage.connection import DatabaseUnavailable

URL_SCHEMES: Final = ("postgresql://", "postgres://")
CONNECT_TIMEOUT_S: Final = 5.0
STATEMENT_TIMEOUT_S: Final = 60.0  # one statement; a whole build is many short ones
LOCK_TIMEOUT_S: Final = 5.0  # as SQLite's busy_timeout: how long a write waits for another
RECONNECT_FIRST_S: Final = 0.5  # after a failed attempt to reconnect, wait this long, doubling
RECONNECT_LAST_S: Final = 30.0
CHANGES_CHANNEL: Final = "armsbot_changes"
_UNCHANGED = "nothing was changed"

_PLACEHOLDER = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|(\?)|(?<!:):([A-Za-z_]\w*)""")
_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def is_postgres_url(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL database rather than an SQLite file."""
    return isinstance(target, str) and target.startswith(URL_SCHEMES)


def shown_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    user = f"{parts.username}@" if parts.username else ""
    netloc = f"{user}{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


@lru_cache(maxsize=1024)
def numbered(sql: str) -> tuple[str, tuple[str, ...] | int]:
    """``sql`` with ``$n`` placeholders, and the names they stand for (or the count of ``?``).

    Quoted strings and identifiers are left alone, and so are casts (``::json``).
    """
    names: list[str] = []
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(1):
            count += 1
            return f"${count}"
        if match.group(2):
            name = match.group(2)
            if name not in names:
                names.append(name)
            return f"${names.index(name) + 1}"
        return match.group(0)

    translated = _PLACEHOLDER.sub(replace, sql)
    if names and count:
        raise ValueError("a statement mixes ? and :name placeholders")
    return translated, tuple(names) if names else count


def _arguments(shape: tuple[str, ...] | int, parameters: Any) -> tuple[Any, ...]:
    if isinstance(shape, tuple):
        if not isinstance(parameters, Mapping):
            raise TypeError("named placeholders take a mapping of values")
        return tuple(parameters[name] for name in shape)
    values = () if parameters is None else tuple(parameters)
    if len(values) != shape:
        raise ValueError(f"the statement has {shape} placeholders, given {len(values)} values")
    return values


def postgres_failure(url: str, error: BaseException) -> DatabaseUnavailable | None:
    """The one-line error for a failure of the server or the connection; None for anything else."""
    where = shown_url(url)
    if isinstance(error, DatabaseUnavailable):
        return error
    if isinstance(
        error, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        return DatabaseUnavailable(f"{where} refused the login ({error})")
    if isinstance(error, asyncpg.InvalidCatalogNameError):
        return DatabaseUnavailable(f"{where}: the database does not exist ({error})")
    if isinstance(error, asyncpg.TooManyConnectionsError | asyncpg.CannotConnectNowError):
        return DatabaseUnavailable(f"{where} is not accepting connections now ({error}); try again")
    if isinstance(error, asyncpg.LockNotAvailableError):
        return DatabaseUnavailable(
            f"{where} is held by another process ({error}); {_UNCHANGED}; try again"
        )
    if isinstance(error, asyncpg.ReadOnlySQLTransactionError):
        return DatabaseUnavailable(f"{where} is open read-only, so {_UNCHANGED} ({error})")
    if isinstance(error, asyncpg.DiskFullError):
        return DatabaseUnavailable(f"{where} could not be written: its disk is full; {_UNCHANGED}")
    if isinstance(error, asyncpg.QueryCanceledError):
        return DatabaseUnavailable(f"{where} did not answer in time ({error}); {_UNCHANGED}")
    if isinstance(
        error,
        asyncpg.ConnectionDoesNotExistError
        | asyncpg.ConnectionFailureError
        | asyncpg.AdminShutdownError
        | asyncpg.CrashShutdownError,
    ):
        return DatabaseUnavailable(f"{where}: the connection was lost ({error}); {_UNCHANGED}")
    if isinstance(error, asyncpg.InternalClientError) or (
        isinstance(error, asyncpg.InterfaceError) and "closed" in str(error)
    ):
        return DatabaseUnavailable(f"{where}: the connection was lost ({error}); {_UNCHANGED}")
    if isinstance(error, TimeoutError):
        return DatabaseUnavailable(f"{where} did not answer in time; {_UNCHANGED}")
    if isinstance(error, OSError):
        reason = error.strerror or str(error) or type(error).__name__
        return DatabaseUnavailable(f"{where} cannot be reached: {reason}")
    return None


class PgCursor:
    """The rows of one statement (fetched whole), and how many rows it changed."""

    def __init__(self, rows: list[asyncpg.Record], rowcount: int) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount

    async def fetchone(self) -> asyncpg.Record | None:
        """The next row, or None."""
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    async def fetchall(self) -> list[asyncpg.Record]:
        """The rows not read yet."""
        rows = self._rows[self._next :]
        self._next = len(self._rows)
        return rows

    async def close(self) -> None:
        """Nothing to release: the rows were fetched whole."""

    async def __aiter__(self) -> AsyncIterator[asyncpg.Record]:
        while (row := await self.fetchone()) is not None:
            yield row


class PgResult:
    """What ``execute`` returns: awaited, a cursor; or ``async with`` it, as with aiosqlite."""

    def __init__(self, run: Awaitable[PgCursor]) -> None:
        self._run = run

    def __await__(self) -> Generator[Any, None, PgCursor]:
        return self._run.__await__()

    async def __aenter__(self) -> PgCursor:
        return await self._run

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class PgConnection:
    """One asyncpg connection that runs armsbot's SQL, one statement at a time."""

    dialect: Final = "postgresql"

    def __init__(self, connection: asyncpg.Connection, url: str, *, read_only: bool) -> None:
        self._connection = connection
        self.url = url
        self._read_only = read_only
        # asyncpg refuses a second statement while one runs; aiosqlite queues them in its
        # thread. The lock queues them here, so every caller of the connection can share it.
        self._lock = asyncio.Lock()
        # Set by BEGIN, cleared by COMMIT or ROLLBACK: a connection lost inside a transaction is
        # not replaced until the transaction has been given up (the rest of it must not run
        # outside it, on a new connection).
        self._transaction_open = False
        self._retry_at = 0.0  # when a lost connection may be opened again (see _reconnect)
        self._backoff = RECONNECT_FIRST_S

    @classmethod
    async def connect(cls, url: str, *, read_only: bool) -> PgConnection:
        """A connection to ``url`` set up for armsbot; with ``read_only``, writes are refused."""
        return cls(await _connect(url, read_only=read_only), url, read_only=read_only)

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open (or was, on a connection since lost)."""
        return self._transaction_open

    @property
    def is_closed(self) -> bool:
        """Whether the connection was closed or lost."""
        return bool(self._connection.is_closed())

    async def _reconnect(self) -> None:
        """Open a new connection in place of a lost one, with back-off between attempts."""
        loop = asyncio.get_running_loop()
        if self._transaction_open or loop.time() < self._retry_at:
            raise DatabaseUnavailable(
                f"{shown_url(self.url)}: the connection was lost; {_UNCHANGED}; try again"
            )
        try:
            self._connection = await _connect(self.url, read_only=self._read_only)
        except DatabaseUnavailable:
            self._retry_at = loop.time() + self._backoff
            self._backoff = min(self._backoff * 2, RECONNECT_LAST_S)
            raise
        self._backoff = RECONNECT_FIRST_S

    def execute(
        self, sql: str, parameters: Iterable[Any] | Mapping[str, Any] | None = None
    ) -> PgResult:
        """Run one statement; awaited (or entered) it gives its rows and row count."""
        return PgResult(self._execute(sql, parameters))

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | Mapping[str, Any] | None = None
    ) -> list[asyncpg.Record]:
        """Run one statement and return all its rows (as aiosqlite's method of that name)."""
        return await (await self._execute(sql, parameters)).fetchall()

    async def _execute(self, sql: str, parameters: Any) -> PgCursor:
        query, shape = numbered(sql)
        arguments = _arguments(shape, parameters)
        command = query.lstrip()[:8].upper()
        async with self._lock:
            if command.startswith(("COMMIT", "ROLLBACK")):
                ending = self._transaction_open
                self._transaction_open = False
                if command.startswith("ROLLBACK") and self.is_closed:
                    return PgCursor([], 0)  # the server rolled it back when the connection went
                if not ending:
                    return PgCursor([], 0)
            elif self.is_closed:
                await self._reconnect()
            if command.startswith("BEGIN"):
                self._transaction_open = True
            try:
                if _WRITE.match(query) and "RETURNING" not in query.upper():
                    status = await self._connection.execute(query, *arguments)
                    return PgCursor([], _rowcount(status))
                rows = await self._connection.fetch(query, *arguments)
            except Exception as exc:
                self._drop_if_confused(exc)
                raise _failure(self.url, exc) from None
        return PgCursor(rows, len(rows))

    async def executemany(
        self, sql: str, parameters: Iterable[Iterable[Any]] | Iterable[Mapping[str, Any]]
    ) -> PgCursor:
        """Run one statement once for each set of values."""
        query, shape = numbered(sql)
        batch = [_arguments(shape, values) for values in parameters]
        if not batch:
            return PgCursor([], 0)
        async with self._lock:
            if self.is_closed:
                await self._reconnect()
            try:
                await self._connection.executemany(query, batch)
            except Exception as exc:
                self._drop_if_confused(exc)
                raise _failure(self.url, exc) from None
        return PgCursor([], len(batch))

    def _drop_if_confused(self, error: Exception) -> None:
        """A connection whose protocol state went wrong (seen when the server ended it) is
        dropped, so the next call opens a new one."""
        if isinstance(error, asyncpg.InternalClientError):
            self._connection.terminate()

    async def executescript(self, script: str) -> None:
        """Run several statements, without placeholders (a migration)."""
        async with self._lock:
            if self.is_closed:
                await self._reconnect()
            try:
                await self._connection.execute(script)
            except Exception as exc:
                raise _failure(self.url, exc) from None

    async def listen(self, channel: str, callback: Callable[[], None]) -> None:
        """Call ``callback`` (in the event loop) for each notification on ``channel``."""

        def notified(*_: object) -> None:
            callback()

        async with self._lock:
            try:
                await self._connection.add_listener(channel, notified)
            except Exception as exc:
                raise _failure(self.url, exc) from None

    def on_lost(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when the connection ends."""
        self._connection.add_termination_listener(lambda _: callback())

    async def close(self) -> None:
        """Close the connection (at once, when the server does not answer)."""
        try:
            await asyncio.wait_for(self._connection.close(), timeout=CONNECT_TIMEOUT_S)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            self._connection.terminate()


async def _connect(url: str, *, read_only: bool) -> asyncpg.Connection:
    """A new asyncpg connection set up for armsbot (see ``PgConnection.connect``)."""
    settings = {
        "lock_timeout": str(int(LOCK_TIMEOUT_S * 1000)),
        "statement_timeout": str(int(STATEMENT_TIMEOUT_S * 1000)),
        "idle_in_transaction_session_timeout": str(int(STATEMENT_TIMEOUT_S * 1000)),
        "application_name": "armsbot",
    }
    if read_only:
        settings["default_transaction_read_only"] = "on"
    try:
        return await asyncpg.connect(
            url,
            timeout=CONNECT_TIMEOUT_S,
            command_timeout=STATEMENT_TIMEOUT_S + 5,
            server_settings=settings,
            statement_cache_size=512,
        )
    except Exception as exc:
        raise _failure(url, exc) from None


def _rowcount(status: str) -> int:
    """The row count at the end of a command tag ("UPDATE 3", "INSERT 0 1")."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


def _failure(url: str, error: Exception) -> Exception:
    return postgres_failure(url, error) or error
