"""Card build latency on SQLite and on PostgreSQL, the same knowledge base on both.

``python -m bench.backends [--smoke] [--backend sqlite|postgresql|both] [--passes N]
[--synthetic] [--json PATH]``

The bundled knowledge base is built in SQLite and copied whole into a throwaway PostgreSQL
server (``tests/pg_process.py``, from the machine's binaries, with PostgreSQL's default
durability; a unix socket on the same machine, so no network is counted) with ``armsbot db
copy``'s own function, then analysed (see ``postgres_copy``). On each backend, with no card
kept (the lookup service's caches are bypassed, as the first request for an entity after any
change finds them), every entity is built ``--passes`` times (the busiest synthetic entity 20
times as often) after one untimed pass, two ways:

* **first page**: what the bot does for /country, /firm, /law: ``LookupService.card_feed``'s
  builder (the claims' order from short rows) and ``feed_page`` for page one;
* **whole card**: ``LookupService._build_card`` (what ``armsbot ask`` and the CLI show).

It also times ``KnowledgeBase.version()`` as many times: every lookup reads it to know whether a
kept card is still current (``PRAGMA data_version`` on SQLite, a query on PostgreSQL).

The figures are p50/p99/max in milliseconds over every build, and PostgreSQL's against SQLite's.
``--synthetic`` adds the busiest entity of the synthetic large base (``bench/synthetic.py``:
about 2,000 claims; building and copying that base takes a few minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any

from tests.pg_process import PgServer, PgUnavailable, postgres_bin, running_server

from armsbot.app import settle_heap
from armsbot.bot.card_pages import feed_page
from armsbot.search.index import SearchIndex
from armsbot.services.lookup import LookupService
from armsbot.storage import KnowledgeBase
from armsbot.storage.copy import copy_knowledge_base
from bench.run import make_bundled, make_synthetic

BACKENDS = ("sqlite", "postgresql")


def choose_backends(asked: str | None) -> list[str]:
    """The backends to measure: ``asked`` (``sqlite``, ``postgresql`` or ``both``), by default
    both when PostgreSQL is installed, else SQLite with a one-line note."""
    installed = postgres_bin() is not None
    if asked is None:
        if installed:
            return list(BACKENDS)
        print("note: PostgreSQL is not installed, so SQLite only (--backend sqlite)", flush=True)
        return ["sqlite"]
    if asked != "sqlite" and not installed:
        msg = f"--backend {asked}: PostgreSQL is not installed (no /usr/lib/postgresql/*/bin)"
        raise SystemExit(msg)
    return list(BACKENDS) if asked == "both" else [asked]


def add_backend_option(parser: argparse.ArgumentParser) -> None:
    """The ``--backend`` option both benchmarks take."""
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgresql", "both"),
        help="default: both when PostgreSQL is installed, else sqlite",
    )


@asynccontextmanager
async def maybe_server(backends: Sequence[str]) -> AsyncIterator[PgServer | None]:
    """A throwaway PostgreSQL server when ``backends`` has PostgreSQL, else None."""
    if "postgresql" not in backends:
        yield None
        return
    try:
        async with running_server(durable=True) as server:
            yield server
    except PgUnavailable as exc:
        raise SystemExit(f"cannot start PostgreSQL: {exc}") from None


async def postgres_copy(server: PgServer, sqlite_path: Path) -> str:
    """A new database on ``server`` holding what ``sqlite_path`` holds, analysed; its URL."""
    url = await server.create_database()
    async with (
        await KnowledgeBase.open(sqlite_path, read_only=True) as source,
        await KnowledgeBase.open(url) as target,
    ):
        await copy_knowledge_base(source, target)
        # The planner's statistics, which autovacuum gathers within a minute or so of the copy:
        # without them PostgreSQL reads a card's parties and sources by scanning whole tables
        # (40 and 15 ms instead of 0.2 and 0.3 ms on the synthetic base), which is what a copy
        # measured at once would show, not what a running deployment sees.
        async with target.db.execute("ANALYZE"):
            pass
    return url


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank), 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p99 and max of ``seconds``, in milliseconds, and how many."""
    return {
        "n": len(seconds),
        "p50_ms": percentile(seconds, 50) * 1000,
        "p99_ms": percentile(seconds, 99) * 1000,
        "max_ms": max(seconds, default=0.0) * 1000,
    }


async def _timed(once: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await once()
    return time.perf_counter() - start


async def card_times(
    database: Path | str, entity_ids: Sequence[str] | None, passes: int
) -> dict[str, list[float]]:
    """Seconds for each cold build of each entity's first page and whole card (every entity of
    the base when ``entity_ids`` is None); one untimed pass first."""
    async with await KnowledgeBase.open(database) as kb:
        rows = await kb.index_rows()
        ids = list(entity_ids) if entity_ids is not None else [row.id for row in rows]
        lookup = LookupService(kb, SearchIndex.build(rows))
        settle_heap()  # as `armsbot run` does once the index is loaded

        async def first_page(entity_id: str) -> object:
            feed = await lookup._build_feed(entity_id)
            assert feed is not None, entity_id
            return await feed_page(feed, 0)

        async def whole_card(entity_id: str) -> object:
            card = await lookup._build_card(entity_id)
            assert card is not None, entity_id
            return card

        times: dict[str, list[float]] = {"first_page": [], "whole_card": [], "version": []}
        for _ in range(len(ids) * passes):  # what every lookup reads before a kept card
            times["version"].append(await _timed(kb.version))
        for number in range(passes + 1):
            for entity_id in ids:
                page = await _timed(partial(first_page, entity_id))
                card = await _timed(partial(whole_card, entity_id))
                if number:
                    times["first_page"].append(page)
                    times["whole_card"].append(card)
    return times


async def busiest(database: Path) -> tuple[str, int]:
    """The entity with the most claims, and how many."""
    async with (
        await KnowledgeBase.open(database, read_only=True) as kb,
        kb.db.execute(
            "SELECT entity_id, count(*) FROM claim_parties GROUP BY entity_id"
            " ORDER BY count(*) DESC, entity_id LIMIT 1"
        ) as cursor,
    ):
        row = await cursor.fetchone()
    assert row is not None
    return str(row[0]), int(row[1])


async def measure(
    backends: Sequence[str], passes: int, *, synthetic: bool, smoke: bool
) -> dict[str, Any]:
    """Every backend's card figures, on the bundled base (and the synthetic busiest entity)."""
    results: dict[str, Any] = {"backends": list(backends), "workloads": {}}
    with tempfile.TemporaryDirectory(prefix="armsbot-backends-") as folder:
        async with maybe_server(backends) as server:
            bases: list[tuple[str, Path, list[str] | None, int]] = []
            bundled = await make_bundled(Path(folder))
            bases.append(("bundled", bundled, ["AZ", "FR", "US", "IL"] if smoke else None, passes))
            if synthetic:
                large = await make_synthetic(Path(folder), smoke=smoke)
                entity_id, claims = await busiest(large)
                results["synthetic_busiest"] = {"entity": entity_id, "claims": claims}
                # one entity: enough passes for a p99 that is not just the slowest of three
                bases.append(("synthetic busiest", large, [entity_id], passes * 20))
            for workload, path, ids, times_over in bases:
                figures: dict[str, Any] = {}
                for backend in backends:
                    database: Path | str = path
                    if backend == "postgresql":
                        assert server is not None
                        database = await postgres_copy(server, path)
                    times = await card_times(database, ids, times_over)
                    figures[backend] = {way: summary_ms(t) for way, t in times.items()}
                results["workloads"][workload] = figures
                print(report(workload, figures), flush=True)
    return results


def report(workload: str, figures: dict[str, Any]) -> str:
    """The lines for one workload: each backend's figures and PostgreSQL's against SQLite's."""
    lines = []
    for way in ("first_page", "whole_card", "version"):
        parts = []
        for backend, ways in figures.items():
            f = ways[way]
            parts.append(
                f"{backend} p50 {f['p50_ms']:.2f} ms, p99 {f['p99_ms']:.2f} ms,"
                f" max {f['max_ms']:.2f} ms ({f['n']})"
            )
        what = "version read" if way == "version" else f"cold {way.replace('_', ' ')}"
        line = f"{workload}, {what}: " + "; ".join(parts)
        if len(figures) == len(BACKENDS):
            sqlite, pg = figures["sqlite"][way], figures["postgresql"][way]
            line += (
                f"; PostgreSQL/SQLite p50 {pg['p50_ms'] / sqlite['p50_ms']:.2f}x,"
                f" p99 {pg['p99_ms'] / sqlite['p99_ms']:.2f}x"
            )
        lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure and print (``--json PATH`` also writes the figures)."""
    parser = argparse.ArgumentParser(prog="python -m bench.backends", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="four entities, one pass")
    add_backend_option(parser)
    parser.add_argument("--passes", type=int, default=3, help="timed passes over the entities")
    parser.add_argument("--synthetic", action="store_true", help="also the busiest synthetic one")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    backends = choose_backends(args.backend)
    passes = 1 if args.smoke else args.passes
    results = asyncio.run(measure(backends, passes, synthetic=args.synthetic, smoke=args.smoke))
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
