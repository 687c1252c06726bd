"""A throwaway PostgreSQL server for the tests, from the machine's own PostgreSQL binaries.

One server per test session, in a temporary folder owned by the ``postgres`` system user when the
tests run as root (PostgreSQL refuses to run as root; CI runs as root), listening on a unix socket
in that folder only, with durability turned off (a crash loses nothing a test needs). Each test
gets a database of its own, copied from a template that holds the bundled knowledge base.

Without PostgreSQL installed the tests that need it are skipped with a one-line reason; under
``CI=true`` they fail instead, so they cannot rot unseen (``.ci/run`` installs PostgreSQL).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from armsbot.services import data
from armsbot.storage import KnowledgeBase

SUPERUSER = "postgres"
TEMPLATE = "armsbot_template"
_numbers = itertools.count(1)


def postgres_bin() -> Path | None:
    """The folder of the newest PostgreSQL server binaries installed, or None."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    return found[-1].parent if found else None


def unavailable(reason: str) -> None:
    """Skip the test for a missing PostgreSQL, or fail it under CI (where it must be there)."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} (CI=true: .ci/run installs PostgreSQL)", pytrace=False)
    pytest.skip(reason)


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

    def new_database(self, template: str | None = None) -> str:
        """Create an empty database (or a copy of ``template``); return its URL."""
        name = f"armsbot_{os.getpid()}_{next(_numbers)}"
        copy = f" TEMPLATE {template}" if template else ""
        asyncio.run(self.admin(f"CREATE DATABASE {name}{copy}"))
        return self.url(name)


def _as_owner(command: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *command] if owner else command


def _start(binaries: Path) -> tuple[PgServer, str | None]:
    owner = SUPERUSER if os.geteuid() == 0 else None
    folder = Path(tempfile.mkdtemp(prefix="armsbot-pg-"))
    if owner is not None:
        try:
            user = pwd.getpwnam(owner)
        except KeyError:
            shutil.rmtree(folder)
            unavailable(f"running as root and there is no {owner!r} user to run PostgreSQL as")
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
    options = (
        f"-p {port} -k {folder} -c listen_addresses='' -c fsync=off -c synchronous_commit=off"
        " -c full_page_writes=off -c max_connections=200"
    )
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


def _stop(binaries: Path, server: PgServer, owner: str | None) -> None:
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


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's PostgreSQL server (skipped, or failed under CI, when none is installed)."""
    binaries = postgres_bin()
    if binaries is None:
        unavailable("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
        return
    server, owner = _start(binaries)
    try:
        yield server
    finally:
        _stop(binaries, server, owner)


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer, data_dir: Path) -> str:
    """A database holding the bundled knowledge base, for tests to copy."""
    url = pg_server.url(TEMPLATE)

    async def build() -> None:
        await pg_server.admin(f"CREATE DATABASE {TEMPLATE}")
        async with await KnowledgeBase.open(url) as kb:
            await data.build(kb, data_dir)

    asyncio.run(build())
    return TEMPLATE


@pytest.fixture
def pg_copy(pg_server: PgServer, pg_template: str) -> str:
    """The URL of a private copy of the bundled knowledge base on PostgreSQL."""
    return pg_server.new_database(pg_template)


@pytest.fixture
def pg_empty(pg_server: PgServer) -> str:
    """The URL of a new, empty PostgreSQL database."""
    return pg_server.new_database()
