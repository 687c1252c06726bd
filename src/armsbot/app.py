"""Opening the knowledge base and its index, building it from data/ on first use."""

from __future__ import annotations

import gc
from dataclasses import dataclass

from armsbot.config import Settings
from armsbot.search.index import SearchIndex
from armsbot.services import data
from armsbot.services.corrections import CorrectionService, Limits
from armsbot.services.lookup import LookupService
from armsbot.storage import KnowledgeBase


@dataclass(slots=True)
class Services:
    """Everything the bot and the CLI call, opened on one database."""

    kb: KnowledgeBase
    index: SearchIndex
    lookup: LookupService
    corrections: CorrectionService

    async def close(self) -> None:
        """Close the database."""
        await self.kb.close()


async def open_services(settings: Settings) -> Services:
    """Open the database (building it from the data folder when it is new) and load the index."""
    kb = await KnowledgeBase.open(settings.database)
    try:
        if await kb.meta(data.DATA_HASH_KEY) is None:
            await data.build(kb, settings.data_dir)
        index = SearchIndex.build(await kb.index_rows())
    except BaseException:
        await kb.close()
        raise
    limits = Limits(settings.submissions_per_hour, settings.pending_per_user)
    lookup = LookupService(kb, index, settings.card_cache_lines)
    return Services(kb, index, lookup, CorrectionService(kb, index, limits))


def settle_heap() -> None:
    """Take what is loaded now (the index: hundreds of thousands of objects) out of the garbage
    collector's sight, for a long-running process.

    The index lives as long as the process, and a full collection over it took 50–100 ms on the
    large benchmark knowledge base, stalling whichever interaction it interrupted; frozen objects
    are still freed when nothing refers to them.
    """
    gc.collect()
    gc.freeze()
