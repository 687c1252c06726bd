"""A throwaway PostgreSQL server for the tests, from the machine's own PostgreSQL binaries.

One server per test session, in a temporary folder owned by the ``postgres`` system user when the
tests run as root (PostgreSQL refuses to run as root; CI runs as root), listening on a unix socket
in that folder only, with durability turned off (a crash loses nothing a test needs). Each test
gets a database of its own, copied from a template that holds the bundled knowledge base. The
server is started and stopped by ``tests/pg_process.py``, which ``bench/`` uses too.

Without PostgreSQL installed the tests that need it are skipped with a one-line reason; under
``CI=true`` they fail instead, so they cannot rot unseen (``.ci/run`` installs PostgreSQL).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from armsbot.services import data
from armsbot.storage import KnowledgeBase
from tests.pg_process import (
    SUPERUSER,
    PgServer,
    PgUnavailable,
    postgres_bin,
    start_server,
    stop_server,
)

__all__ = ["SUPERUSER", "TEMPLATE", "PgServer", "postgres_bin", "unavailable"]

TEMPLATE = "armsbot_template"


def unavailable(reason: str) -> None:
    """Skip the test for a missing PostgreSQL, or fail it under CI (where it must be there)."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} (CI=true: .ci/run installs PostgreSQL)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """The session's PostgreSQL server (skipped, or failed under CI, when none is installed)."""
    binaries = postgres_bin()
    if binaries is None:
        unavailable("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
        return
    try:
        server, owner = start_server(binaries)
    except PgUnavailable as exc:
        unavailable(str(exc))
        return
    try:
        yield server
    finally:
        stop_server(binaries, server, owner)


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
