"""Shared fixtures: the bundled data, a knowledge base built from it once per session."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from armsbot.datafiles import bundled_data_dir
from armsbot.search.index import SearchIndex
from armsbot.services import data
from armsbot.services.lookup import LookupService
from armsbot.storage import KnowledgeBase

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


@pytest.fixture
async def kb(db_copy: Path) -> AsyncIterator[KnowledgeBase]:
    """An open knowledge base on a private copy."""
    async with await KnowledgeBase.open(db_copy) as opened:
        yield opened


@pytest.fixture
async def lookup(kb: KnowledgeBase, index: SearchIndex) -> LookupService:
    """The lookup service over the bundled knowledge base."""
    return LookupService(kb, index)
