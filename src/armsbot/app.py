"""Opening the knowledge base and its index, building it from data/ on first use."""

from __future__ import annotations

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
    return Services(kb, index, LookupService(kb, index), CorrectionService(kb, index, limits))
