"""Opening the knowledge base and its index, building it from data/ on first use."""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass
from enum import StrEnum

from armsbot.config import Settings
from armsbot.records import IndexRow
from armsbot.search.index import SearchIndex
from armsbot.services import data
from armsbot.services.claims import ClaimsService
from armsbot.services.corrections import CorrectionService, Limits, reindex, revision_touches
from armsbot.services.lookup import LookupService
from armsbot.storage import KnowledgeBase
from armsbot.storage.corrections import CorrectionStore


class Refresh(StrEnum):
    """What ``Services.refresh_index`` did."""

    UNCHANGED = "unchanged"
    UPDATED = "updated"  # revisions applied in place
    REBUILT = "rebuilt"  # a build or an import: the index was loaded again


@dataclass(slots=True)
class Services:
    """Everything the bot and the CLI call, opened on one database."""

    kb: KnowledgeBase
    index: SearchIndex
    lookup: LookupService
    corrections: CorrectionService
    claims: ClaimsService
    # What the index reflects: the knowledge base's generation and its newest revision.
    generation: int = 0
    revision: int = 0

    async def close(self) -> None:
        """Close the database."""
        await self.kb.close()

    def use_index(self, index: SearchIndex) -> None:
        """Answer from ``index`` from now on, everywhere."""
        self.index = self.lookup.index = self.corrections.index = self.claims.index = index

    async def refresh_index(self) -> Refresh:
        """Bring the search index up to the database after changes made elsewhere.

        Corrections approved in this process update the index as they are applied; those
        approved with ``armsbot review approve`` (another process) are found here by their
        revisions and applied in place; a build or an import moves the generation, and the
        index is built again (in a thread, while the old one keeps answering) and swapped in.
        """
        if await self.kb.generation() != self.generation:
            generation, revision, rows = await _index_source(self.kb)
            self.use_index(await asyncio.to_thread(SearchIndex.build, rows))
            self.generation, self.revision = generation, revision
            return Refresh.REBUILT
        revisions = await CorrectionStore(self.kb).revisions_since(self.revision)
        if not revisions:
            return Refresh.UNCHANGED
        touched = set().union(*(revision_touches(r) for r in revisions))
        await reindex(self.kb, self.index, touched)
        self.revision = revisions[-1].id
        return Refresh.UPDATED


async def _index_source(kb: KnowledgeBase) -> tuple[int, int, list[IndexRow]]:
    """What to build the index from, with the generation and newest revision it reflects.

    The markers are read before the rows: a change committed in between is then applied again
    (idempotent) at the next refresh rather than missed.
    """
    generation = await kb.generation()
    revision = await CorrectionStore(kb).last_revision_id()
    return generation, revision, await kb.index_rows()


async def open_services(settings: Settings, *, search: bool = True) -> Services:
    """Open the database (building it from the data folder when it is new) and load the index.

    ``search=False`` is for a command that never looks a name up (the command line's review,
    audit and erase-user): it skips reading every name and building the index (a third of a
    second on the bundled data), and its index stays empty.
    """
    kb = await KnowledgeBase.open(settings.database_location, read_only=settings.read_only)
    try:
        if await kb.meta(data.DATA_HASH_KEY) is None:
            await data.build(kb, settings.data_dir)
        if search:
            generation, revision, rows = await _index_source(kb)
            index = SearchIndex.build(rows)
        else:
            generation, revision, index = 0, 0, SearchIndex()
    except BaseException:
        await kb.close()
        raise
    limits = Limits(settings.submissions_per_hour, settings.pending_per_user)
    lookup = LookupService(kb, index, settings.card_cache_lines)
    corrections = CorrectionService(kb, index, limits)
    claims = ClaimsService(kb, index)
    return Services(kb, index, lookup, corrections, claims, generation, revision)


def settle_heap() -> None:
    """Take what is loaded now (the index: hundreds of thousands of objects) out of the garbage
    collector's sight, for a long-running process.

    The index lives as long as the process, and a full collection over it took 50–100 ms on the
    large benchmark knowledge base, stalling whichever interaction it interrupted; frozen objects
    are still freed when nothing refers to them.
    """
    gc.collect()
    gc.freeze()
