"""Many simultaneous first requests for one cold card: one shared build against one build each.

``python -m bench.cold_cards [--smoke] [--waiters N]`` builds the synthetic knowledge base
(``bench/synthetic.py``) in a temporary folder, then, for the entity with the most claims, times
``N`` concurrent ``LookupService.card`` calls on an empty card cache (they share one build) and,
in the same run as the baseline, ``N`` concurrent builds (what each waiting request did before
builds were shared). Each is best of three; the figure is the time until the last request has
its card, and the ratio between the two.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from armsbot.cards.model import Card
from armsbot.search.index import SearchIndex
from armsbot.services.lookup import LookupService
from armsbot.storage import KnowledgeBase
from bench.synthetic import FULL, SMOKE, build_synthetic

REPEATS = 3


async def _busiest(kb: KnowledgeBase) -> str:
    """The id of the entity with the most claims about it."""
    rows = await kb.index_rows()
    countries = [row.id for row in rows if row.kind.value == "country"]
    sizes = {entity_id: len(await kb.claims_about(entity_id)) for entity_id in countries}
    return max(sizes, key=lambda entity_id: sizes[entity_id])


async def _last_answer(
    waiters: int, request: Callable[[], Awaitable[Card | None]], reset: Callable[[], None]
) -> float:
    """Seconds until the last of ``waiters`` simultaneous requests has its card; best of three."""
    best = float("inf")
    for _ in range(REPEATS):
        reset()
        start = time.perf_counter()
        cards = await asyncio.gather(*(request() for _ in range(waiters)))
        best = min(best, time.perf_counter() - start)
        if any(card is None for card in cards):
            raise SystemExit("the busiest entity has no card")
    return best


async def measure(database: Path, waiters: int) -> dict[str, float | str]:
    """The shared-build and one-build-each figures for the busiest entity of ``database``."""
    async with await KnowledgeBase.open(database) as kb:
        entity_id = await _busiest(kb)
        lookup = LookupService(kb, SearchIndex.build(await kb.index_rows()))
        shared = await _last_answer(waiters, lambda: lookup.card(entity_id), lookup.cache.clear)
        each = await _last_answer(waiters, lambda: lookup._build_card(entity_id), lambda: None)
        claims = len(await kb.claims_about(entity_id))
    return {
        "entity": entity_id,
        "claims": claims,
        "shared_build_s": shared,
        "one_build_each_s": each,
        "ratio": each / shared,
    }


def main(argv: list[str] | None = None) -> int:
    """Build the synthetic knowledge base, measure, print."""
    parser = argparse.ArgumentParser(prog="python -m bench.cold_cards")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, only checks it runs")
    parser.add_argument("--waiters", type=int, default=30, help="simultaneous requests")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        database = Path(folder) / "synthetic.sqlite3"
        asyncio.run(build_synthetic(database, SMOKE if args.smoke else FULL))
        figures = asyncio.run(measure(database, args.waiters))
    print(
        f"{args.waiters} simultaneous first requests for {figures['entity']}"
        f" ({figures['claims']:,} claims), time until the last has its card:"
    )
    print(f"  one shared build:        {figures['shared_build_s']:.3f} s")
    print(f"  one build each (before): {figures['one_build_each_s']:.3f} s")
    print(f"  ratio: {figures['ratio']:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
