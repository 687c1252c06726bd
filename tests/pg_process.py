"""Starting and stopping a throwaway PostgreSQL server, without pytest (the tests' fixtures in
``tests/pg.py`` and ``bench/`` both use it).

The server lives in a temporary folder owned by the ``postgres`` system user when this runs as
root (PostgreSQL refuses to run as root; CI runs as root) and listens on a unix socket in that
folder only. By default durability is off (a crash loses nothing a test needs); ``durable=True``
keeps PostgreSQL's own defaults, for figures that should be a real server's.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg

SUPERUSER = "postgres"
_numbers = itertools.count(1)


class PgUnavailable(RuntimeError):
    """No PostgreSQL server can be started here (the message says why, in one line)."""


def postgres_bin() -> Path | None:
    """The folder of the newest PostgreSQL server binaries installed, or None."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    return found[-1].parent if found else None


@dataclass(frozen=True)
class PgServer:
    """A running throwaway server, reached through its unix socket."""

    folder: Path
    port: int

    def url(self, database: str) -> str:
        """The URL of one of its databases."""
        return f"postgresql://{SUPERUSER}@/{database}?host={self.folder}&port={self.port}"

    async def admin(self, sql: str) -> None:
        """Run one statement on the server's ``postgres`` database."""
        connection = await asyncpg.connect(self.url("postgres"), timeout=10)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    async def create_database(self, template: str | None = None) -> str:
        """Create an empty database (or a copy of ``template``); return its URL."""
        name = f"armsbot_{os.getpid()}_{next(_numbers)}"
        copy = f" TEMPLATE {template}" if template else ""
        await self.admin(f"CREATE DATABASE {name}{copy}")
        return self.url(name)

    def new_database(self, template: str | None = None) -> str:
        """``create_database`` outside an event loop."""
        return asyncio.run(self.create_database(template))


def _as_owner(command: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *command] if owner else command


def start_server(binaries: Path, *, durable: bool = False) -> tuple[PgServer, str | None]:
    """Start a server from ``binaries``; the server and the system user it runs as (None: this
    process's own user). Raises ``PgUnavailable`` when there is no user to run it as."""
    owner = SUPERUSER if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="armsbot-pg-"))
    if owner is not None:
        try:
            user = pwd.getpwnam(owner)
        except KeyError:
            shutil.rmtree(folder)
            msg = f"running as root and there is no {owner!r} user to run PostgreSQL as"
            raise PgUnavailable(msg) from None
        os.chown(folder, user.pw_uid, user.pw_gid)
    port = 5432  # only names the socket file: the server listens on no TCP port
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120}
    subprocess.run(  # noqa: PLW1510 (check is in run)
        _as_owner(
            [
                str(binaries / "initdb"),
                "-D",
                str(folder / "data"),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            owner,
        ),
        **run,
    )
    options = f"-p {port} -k {folder} -c listen_addresses='' -c max_connections=200"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    subprocess.run(  # noqa: PLW1510
        _as_owner(
            [
                str(binaries / "pg_ctl"),
                "-D",
                str(folder / "data"),
                "-o",
                options,
                "-l",
                str(folder / "log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            owner,
        ),
        **run,
    )
    return PgServer(folder, port), owner


def stop_server(binaries: Path, server: PgServer, owner: str | None) -> None:
    """Stop the server and remove its folder."""
    subprocess.run(
        _as_owner(
            [str(binaries / "pg_ctl"), "-D", str(server.folder / "data"), "-m", "fast", "stop"],
            owner,
        ),
        capture_output=True,
        timeout=60,
        check=False,
    )
    shutil.rmtree(server.folder, ignore_errors=True)


@asynccontextmanager
async def running_server(*, durable: bool = False) -> AsyncIterator[PgServer]:
    """A server for the duration of the block (``PgUnavailable`` when none is installed)."""
    binaries = postgres_bin()
    if binaries is None:
        msg = "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)"
        raise PgUnavailable(msg)
    server, owner = start_server(binaries, durable=durable)
    try:
        yield server
    finally:
        stop_server(binaries, server, owner)
