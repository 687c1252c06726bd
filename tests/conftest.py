"""Shared fixtures: the bundled data, a knowledge base built from it once per session."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from armsbot.datafiles import bundled_data_dir
from armsbot.search.index import SearchIndex
from armsbot.services import data
from armsbot.services.lookup import LookupService
from armsbot.storage import KnowledgeBase
from tests.pg import pg_copy, pg_empty, pg_server, pg_template  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = REPO / "tests" / "data"


def shared_dir() -> Path:
    """Where others' works are: ``$ARMSBOT_SHARED``, else ``shared/`` beside the checkout."""
    return Path(os.environ.get("ARMSBOT_SHARED") or REPO.parent / "shared")


def shared_file(relative: str) -> Path:
    """A file from the shared folder; a test that needs a missing one is skipped (failed under CI).

    The shared folder holds works that stay outside the repository (the newspaper article, the
    datasets under their own licences). A bare clone has none of it, so such tests are skipped
    there with the reason; CI always lays ``../shared`` beside its clone, so with ``CI=true`` the
    same reason is a failure and those tests cannot rot unseen. Call it in a test or a fixture
    (a skip at import would stop collection).
    """
    path = shared_dir() / relative
    if path.is_file():
        return path
    reason = f"shared/{relative} is not in the repository and {path} is missing"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} (CI=true: the shared folder must be there)", pytrace=False)
    pytest.skip(reason)


def run_cli(
    *args: str,
    database: Path | str,
    cwd: Path | None = None,
    data: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real ``armsbot`` entry point as its own process, on ``database`` (file or URL)."""
    environment = {**os.environ, "ARMSBOT_DATABASE": str(database), "NO_COLOR": "1"}
    environment.pop("ARMSBOT_DATA_DIR", None)
    if data is not None:
        environment["ARMSBOT_DATA_DIR"] = str(data)
    environment |= env or {}
    return subprocess.run(
        [sys.executable, "-m", "armsbot", *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd or REPO,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The data folder that ships with armsbot."""
    return bundled_data_dir()


@pytest.fixture(scope="session")
def built_db(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A database built once from the bundled data; tests copy it before writing to it."""
    path = tmp_path_factory.mktemp("kb") / "armsbot.sqlite3"

    async def build() -> None:
        async with await KnowledgeBase.open(path) as kb:
            await data.build(kb, data_dir)

    asyncio.run(build())
    return path


@pytest.fixture(scope="session")
def index(built_db: Path) -> SearchIndex:
    """The search index over the bundled knowledge base."""

    async def rows() -> SearchIndex:
        async with await KnowledgeBase.open(built_db) as kb:
            return SearchIndex.build(await kb.index_rows())

    return asyncio.run(rows())


@pytest.fixture
def db_copy(built_db: Path, tmp_path: Path) -> Path:
    """A private copy of the built database, safe to change."""
    target = tmp_path / "armsbot.sqlite3"
    shutil.copy(built_db, target)
    return target


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend a test runs on; tests that take it run once on each."""
    return str(request.param)


@pytest.fixture
def database(backend: str, request: pytest.FixtureRequest) -> Path | str:
    """A private copy of the built knowledge base: an SQLite file, or a PostgreSQL URL."""
    if backend == "postgresql":
        return str(request.getfixturevalue("pg_copy"))
    return Path(request.getfixturevalue("db_copy"))


@pytest.fixture
async def kb(database: Path | str) -> AsyncIterator[KnowledgeBase]:
    """An open knowledge base on a private copy (on each backend)."""
    async with await KnowledgeBase.open(database) as opened:
        yield opened


@pytest.fixture
async def lookup(kb: KnowledgeBase, index: SearchIndex) -> LookupService:
    """The lookup service over the bundled knowledge base."""
    return LookupService(kb, index)
