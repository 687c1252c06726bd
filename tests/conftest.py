"""Shared fixtures: the bundled data, a knowledge base built from it once per session."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import io
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import pytest

from armsbot import cli
from armsbot.datafiles import bundled_data_dir
from armsbot.search.index import SearchIndex
from armsbot.services import data
from armsbot.services.lookup import LookupService
from armsbot.storage import KnowledgeBase
from tests.index_memo import memoised_index_builds
from tests.pg import pg_copy, pg_empty, pg_server, pg_template  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[1]
TEST_DATA = REPO / "tests" / "data"

# A test process holds far more at once than armsbot does (search indexes of 36,000 names kept for
# later tests, session fixtures, thousands of finished tests' objects), and with the collector's
# default thresholds its full passes over all of it took a tenth of the suite's CPU (45 of them,
# 0.17 s each). Collecting the youngest objects after 20,000 allocations instead of 700 lets far
# fewer reach the old generations. armsbot itself is untouched (the bot freezes what it loaded:
# app.settle_heap).
gc.set_threshold(20_000, 10, 10)


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


def _cli_environment(
    database: Path | str, data: Path | None, env: dict[str, str] | None
) -> dict[str, str]:
    environment = {**os.environ, "ARMSBOT_DATABASE": str(database), "NO_COLOR": "1"}
    environment.pop("ARMSBOT_DATA_DIR", None)
    if data is not None:
        environment["ARMSBOT_DATA_DIR"] = str(data)
    return environment | (env or {})


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run_cli(
    *args: str,
    database: Path | str,
    cwd: Path | None = None,
    data: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``armsbot ARGS`` on ``database`` in this process: ``cli.main``, output captured.

    It sees what a process would: the environment (``env`` added), the working folder ``cwd``,
    its own stdout and stderr, and the exit status (argparse's included), and a connection of its
    own. Called from a coroutine, it runs in a worker thread while the event loop waits for it, so
    nothing else in this process (a running bot included) runs beside it meanwhile: call it when
    the bot is idle, since a command that writes would wait on a transaction the bot has open.
    Off the main thread (``asyncio.to_thread`` beside a running bot, whose stdout, environment and
    folder are this process's) it starts the real entry point as its own process, like
    :func:`run_cli_process`.
    """
    if threading.current_thread() is not threading.main_thread():
        return run_cli_process(*args, database=database, cwd=cwd, data=data, env=env)
    environment = _cli_environment(database, data, env)
    if _loop_running():  # cli.main runs its own event loop: not in this thread
        with concurrent.futures.ThreadPoolExecutor(1, "armsbot-cli") as worker:
            return worker.submit(run_main, args, environment, cwd or REPO).result()
    return run_main(args, environment, cwd or REPO)


def run_main(
    args: Sequence[str], environment: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """``cli.main(args)`` with exactly ``environment`` and ``cwd``, stdout and stderr captured."""
    saved_environment, saved_cwd = dict(os.environ), Path.cwd()
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(environment)
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = cli.main(list(args))
            except SystemExit as exc:  # argparse refused an argument, and said why on stderr
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    finally:
        os.environ.clear()
        os.environ.update(saved_environment)
        os.chdir(saved_cwd)
    return subprocess.CompletedProcess(["armsbot", *args], code, out.getvalue(), err.getvalue())


def run_cli_process(
    *args: str,
    database: Path | str,
    cwd: Path | None = None,
    data: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real ``armsbot`` entry point as its own process, on ``database``."""
    return subprocess.run(
        [sys.executable, "-m", "armsbot", *args],
        capture_output=True,
        text=True,
        env=_cli_environment(database, data, env),
        cwd=cwd or REPO,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="session", autouse=True)
def _one_index_build_per_knowledge_base() -> Iterator[None]:
    """Equal rows give copies of one index build for the whole run (tests/index_memo.py)."""
    with memoised_index_builds():
        yield


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


@pytest.fixture(scope="session")
def sii_path() -> Path:
    """The Surveillance Industry Index's transfers file (from ../shared: skipped without it)."""
    return shared_file("datasets/sii/transfers.json")


@pytest.fixture(scope="session")
def sii_imported_db(
    built_db: Path, sii_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The bundled knowledge base with the whole SII file imported, once per test run.

    For tests that only read it, or that copy it first: importing the 688 records takes seconds.
    """
    from armsbot.imports.sii import import_sii  # noqa: PLC0415

    path = tmp_path_factory.mktemp("sii") / "armsbot.sqlite3"
    shutil.copy(built_db, path)

    async def run() -> None:
        async with await KnowledgeBase.open(path) as kb:
            await import_sii(kb, sii_path)

    asyncio.run(run())
    return path


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


# For a test of what only SQLite has (its tables, triggers and errors): it runs on SQLite alone.
sqlite_only = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


async def problems_without_trigger(kb: KnowledgeBase, trigger: str, write: str) -> list[str]:
    """What ``db check`` finds after ``write`` ran with the trigger that keeps a derived table in
    step with it dropped (SQLite)."""
    async with kb.transaction() as db:
        await db.execute(f"DROP TRIGGER {trigger}")
        await db.execute(write)
    return await kb.integrity_problems()


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
