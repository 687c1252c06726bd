"""What each imported dataset brought and left out: ``armsbot db datasets`` and ``/about``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from armsbot.storage import KnowledgeBase
from armsbot.storage.datasets import DatasetHolding, DatasetImport, DatasetStore


@dataclass(frozen=True, slots=True)
class DatasetStatus:
    """A dataset's last import, and what of it the knowledge base holds now."""

    last_import: DatasetImport
    now: DatasetHolding

    @property
    def firms(self) -> int:
        """The firms the dataset brought: created for it, and existing ones it names."""
        return len(self.last_import.firms_created) + len(self.last_import.firms_matched)

    @property
    def left_out(self) -> int:
        """Records not imported (each with its reason; repeats of another record apart)."""
        return len(self.last_import.left_out)

    @property
    def dropped(self) -> bool:
        """Whether the knowledge base lost the dataset's claims since (a rebuild from data/)."""
        return self.now.claims != self.last_import.claims

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data, as ``db datasets --json`` prints it."""
        done = self.last_import
        return {
            "dataset": done.dataset,
            "name": done.name,
            "licence": done.licence,
            "attribution": done.attribution,
            "source": done.source,
            "checksum": done.checksum,
            "imported_at": done.imported_at,
            "records_read": done.records_read,
            "claims": done.claims,
            "records_merged": done.records_merged,
            "firms_created": done.firms_created,
            "firms_matched": done.firms_matched,
            "left_out": [{"record": r, "reason": why} for r, why in done.left_out],
            "now": {"claims": self.now.claims, "firms_created": self.now.firms_created},
        }


async def dataset_statuses(kb: KnowledgeBase) -> list[DatasetStatus]:
    """Every imported dataset, by id."""
    store = DatasetStore(kb)
    holdings = await store.holdings()
    return [
        DatasetStatus(done, holdings.get(done.dataset, DatasetHolding(0, 0)))
        for done in await store.imports()
    ]
