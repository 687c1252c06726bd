"""``python -m bench.claims``: questions about connections, and cold cards, at 100,000 claims.

Builds the synthetic knowledge base (``bench/synthetic.py``) at 25,000 and 100,000 claims in a
temporary folder and measures, in one run, armsbot against naive baselines on the same queries:

* **query resolution + first page**: ``ClaimsService.answer`` (reading the names, the party
  intersection, the counts) and the first Discord page of the claims (``feed_page``), per query.
  The query mix (seeded, from the knowledge base itself): a supplier firm's and a recipient
  country's names from a random claim ("Helix Defence Systems Bulgaria"); a country and a word
  ("Chad journalists"); words alone ("journalists", "sales office"). Baselines, with the same
  reading of the query, the same service and the same page layout, only the claims found
  another way: **python**: every claim and party loaded from SQLite and filtered in Python, as
  before this issue anything that linked two entities had to; **like**: the same SQL, with the
  words matched by ``LIKE '%word%'`` over text, product, goods and end user instead of FTS5.
  Slow baselines run the first queries of the mix for ``--budget`` seconds; ratios are on the
  queries every approach ran.
* **cold first page** of the busiest entity's card (about 2,000 claims): the card read a page at
  a time (``LookupService.card_feed`` + ``feed_page``) against the card built whole and then
  paged (``LookupService._build_card`` + ``card_pages``, what the bot did before), each with
  its caches emptied before every run; with the CPU time of each run and the garbage
  collector's passes, to tell a tail of the machine's load from one of the collector's.
* **end to end**: /search through the Discord API double, the bot in its own process pinned to
  one CPU (``bench/botproc.py``), one interaction in flight: from the double sending
  INTERACTION_CREATE to the bot's callback, against Discord's 3-second deadline.

``--smoke`` runs tiny sizes to check that it all still works (its timings mean nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from armsbot.app import settle_heap
from armsbot.bot.card_pages import card_pages, feed_page
from armsbot.search.folding import fold
from armsbot.search.index import SearchIndex
from armsbot.services.claims import ClaimQuery, ClaimsService
from armsbot.services.lookup import LookupService
from armsbot.storage import KnowledgeBase
from armsbot.storage.claim_search import CATEGORY_ORDER, ORDER, ClaimFilter, ClaimSearch, _where
from bench.synthetic import FULL, SMOKE, Sizes, build_synthetic

RESULTS = Path(__file__).resolve().parent / "results"
QUARTER = Sizes(firms=2_500, laws=500, claims=25_000)
TEXT_COLUMNS = ("text", "product", "goods", "end_user")
WORDS = ["journalists", "sales office", "listed", "supplied", "opened"]
# The kinds of query_mix's queries, by their turn (the index of the query, modulo 4).
KINDS = {"a firm and a country": (0, 1), "a country and a word": (2,), "words alone": (3,)}
WARM_UP = 8  # queries run untimed by each approach before it is timed
QUERY_TARGET = 10.0  # armsbot's p99 at least this many times faster than LIKE's (issue 13)
COLD_TARGET_MS = 20.0  # the cold first page of the busiest card, p99


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def _ms(values: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50": 1e3 * _pct(values, 0.5),
        "p99": 1e3 * _pct(values, 0.99),
        "max": 1e3 * max(values, default=0.0),
    }


# -- the baselines ------------------------------------------------------------------------------


class LikeSearch(ClaimSearch):
    """The same SQL, with each word matched by ``LIKE '%word%'`` instead of the FTS5 index."""

    def _in_key_order(self, query: ClaimFilter) -> bool:
        return False  # no full-text index at all, not even the one in order

    def _like(self, query: ClaimFilter) -> tuple[str, list[Any]]:
        where, params = _where(query.without_words(), self.kb.dialect)
        for word in query.words:
            where += " AND (" + " OR ".join(f"c.{c} LIKE ?" for c in TEXT_COLUMNS) + ")"
            params += [f"%{word}%"] * len(TEXT_COLUMNS)
        return where, params

    async def count(self, query: ClaimFilter) -> int:
        where, params = self._like(query)
        rows = await self._rows(f"SELECT count(*) FROM claims c WHERE {where}", params)
        return int(rows[0][0]) if rows else 0

    def _select(self, query: ClaimFilter, *, counted: bool) -> tuple[str, list[Any]]:
        where, params = self._like(query)
        columns = "c.id, count(*) OVER ()" if counted else "c.id"
        sql = f"SELECT {columns} FROM claims c WHERE {where} ORDER BY {ORDER} LIMIT ? OFFSET ?"
        return sql, params


_RANK = {c.value: i for i, c in enumerate(CATEGORY_ORDER)}


class PythonSearch(ClaimSearch):
    """Every claim and every party read from SQLite, then filtered and sorted in Python."""

    async def _matching(self, query: ClaimFilter) -> list[str]:
        async with self.kb.db.execute(
            "SELECT id, text, product, goods, end_user, status, category,"
            " coalesce(date, reported) FROM claims"
        ) as cursor:
            claims = await cursor.fetchall()
        parties: dict[str, set[str]] = {}
        async with self.kb.db.execute("SELECT claim_id, entity_id FROM claim_parties") as cursor:
            for claim_id, entity_id in await cursor.fetchall():
                parties.setdefault(claim_id, set()).add(entity_id)
        groups = [set(g) for g in query.groups]
        statuses = {s.value for s in query.statuses}
        kept = []
        for claim_id, text, product, goods, end_user, status, category, when in claims:
            if any(not (parties.get(claim_id, set()) & group) for group in groups):
                continue
            if statuses and status not in statuses:
                continue
            if query.category and category != query.category.value:
                continue
            if query.words:
                blob = fold(f"{text} {product or ''} {goods} {end_user or ''}")
                if not all(w in blob for w in query.words):
                    continue
            kept.append(
                (_RANK.get(category, 9), when is None, "" if when is None else when, claim_id)
            )
        # Category, then newest first (undated last), then id: three stable sorts.
        kept.sort(key=lambda k: k[3])
        kept.sort(key=lambda k: k[2], reverse=True)
        kept.sort(key=lambda k: (k[0], k[1]))
        return [k[3] for k in kept]

    async def count(self, query: ClaimFilter) -> int:
        return len(await self._matching(query))

    async def ids(self, query: ClaimFilter, offset: int, limit: int) -> list[str]:
        return (await self._matching(query))[offset : offset + limit]

    async def first(self, query: ClaimFilter, limit: int) -> tuple[int, list[str]]:
        matching = await self._matching(query)
        return len(matching), matching[:limit]


APPROACHES: dict[str, Callable[[KnowledgeBase], ClaimSearch]] = {
    "armsbot": ClaimSearch,
    "like": LikeSearch,
    "python": PythonSearch,
}


# -- the query mix ------------------------------------------------------------------------------


async def query_mix(kb: KnowledgeBase, count: int, seed: int = 13) -> list[str]:
    """Queries people type about connections, made from the knowledge base's own claims."""
    rng = random.Random(seed)
    async with kb.db.execute(
        "SELECT s.name, r.name FROM claims c"
        " JOIN claim_parties ps ON ps.claim_id = c.id AND ps.role = 'supplier'"
        " JOIN entities s ON s.id = ps.entity_id"
        " JOIN claim_parties pr ON pr.claim_id = c.id AND pr.role = 'recipient'"
        " JOIN entities r ON r.id = pr.entity_id"
        " WHERE c.id LIKE 'syn-%' ORDER BY c.id"
    ) as cursor:
        pairs = [(str(a), str(b)) for a, b in await cursor.fetchall()]
    queries = []
    for i in range(count):
        firm, country = rng.choice(pairs)
        kind = i % 4
        if kind in (0, 1):
            queries.append(f"{firm} {country}")
        elif kind == 2:
            queries.append(f"{country} {rng.choice(WORDS)}")
        else:
            queries.append(rng.choice(WORDS))
    return queries


# -- measurements -------------------------------------------------------------------------------


@dataclass
class Timed:
    seconds: list[float]
    cpu: list[float]  # the process's CPU time (both its threads: Python's and SQLite's)
    found: int  # queries that found claims
    ambiguous: int  # queries that asked which entity was meant


async def time_queries(
    service: ClaimsService, queries: Sequence[str], budget: float | None
) -> Timed:
    """Resolution + first page for each query (until ``budget`` seconds are spent)."""
    seconds: list[float] = []
    cpu: list[float] = []
    found = ambiguous = 0
    spent = 0.0
    for text in queries:
        start, started = time.perf_counter(), time.process_time()
        answer = await service.answer(ClaimQuery.make(text))
        if not answer.ambiguous:
            await feed_page(service.feed(answer), 0)
        took = time.perf_counter() - start
        cpu.append(time.process_time() - started)
        seconds.append(took)
        found += answer.total > 0
        ambiguous += bool(answer.ambiguous)
        spent += took
        if budget is not None and spent > budget:
            break
    return Timed(seconds, cpu, found, ambiguous)


async def measure_queries(database: Path, count: int, budget: float) -> dict[str, Any]:
    """armsbot and the baselines on the same queries of one knowledge base."""
    async with await KnowledgeBase.open(database) as kb:
        index = SearchIndex.build(await kb.index_rows())
        settle_heap()  # as `armsbot run` does once the index is loaded
        queries = await query_mix(kb, count)
        counts = await kb.count()
        out: dict[str, Any] = {"claims": counts["claims"], "queries": len(queries)}
        for name, make in APPROACHES.items():
            service = ClaimsService(kb, index)
            service.search = make(kb)
            # The same few queries, untimed, first: each approach starts with SQLite's page cache
            # and the process as warm as the one before it left them.
            await time_queries(service, queries[:WARM_UP], budget / 4)
            timed = await time_queries(service, queries, None if name == "armsbot" else budget)
            out[name] = {**_ms(timed.seconds), "found": timed.found, "ambiguous": timed.ambiguous}
            out[name]["cpu"] = _ms(timed.cpu)
            out[name]["_seconds"] = timed.seconds
        armsbot = out["armsbot"]["_seconds"]
        for name in APPROACHES:
            ran = len(out[name]["_seconds"])
            same = _ms(armsbot[:ran])
            out[name]["ratio_p50"] = out[name]["p50"] / same["p50"] if same["p50"] else 0.0
            out[name]["ratio_p99"] = out[name]["p99"] / same["p99"] if same["p99"] else 0.0
        for name in APPROACHES:
            seconds = out[name].pop("_seconds")
            # By kind of query (query_mix makes them in turn), to show which makes the tail.
            out[name]["kinds"] = {
                kind: _ms([t for i, t in enumerate(seconds) if i % 4 in turns])
                for kind, turns in KINDS.items()
            }
    return out


async def _busiest(kb: KnowledgeBase) -> tuple[str, int]:
    async with kb.db.execute(
        "SELECT entity_id, count(*) FROM claim_parties GROUP BY entity_id"
        " ORDER BY count(*) DESC LIMIT 1"
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return str(row[0]), int(row[1])


async def _runs(
    times: int, once: Callable[[], Awaitable[object]], cpu: list[float] | None = None
) -> list[float]:
    """Wall-clock seconds of each of ``times`` runs (and, in ``cpu``, the process's CPU time)."""
    seconds = []
    for _ in range(times):
        start, started = time.perf_counter(), time.process_time()
        await once()
        seconds.append(time.perf_counter() - start)
        if cpu is not None:
            cpu.append(time.process_time() - started)
    return seconds


class Collections:
    """The garbage collector's passes, by generation, while it is in use: is a tail the
    collector's (a run with a full pass) or the machine's (as much CPU time as wall time)?"""

    def __init__(self) -> None:
        self.passes = [0, 0, 0]

    def _seen(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self.passes[info["generation"]] += 1

    def __enter__(self) -> Collections:
        gc.callbacks.append(self._seen)
        return self

    def __exit__(self, *_: object) -> None:
        gc.callbacks.remove(self._seen)


async def measure_cold_card(database: Path, runs: int) -> dict[str, Any]:
    """The first page of the busiest entity's card with every cache emptied, both ways."""
    async with await KnowledgeBase.open(database) as kb:
        entity_id, claims = await _busiest(kb)
        lookup = LookupService(kb, SearchIndex.build(await kb.index_rows()))
        settle_heap()  # as `armsbot run` does once the index is loaded

        async def page_at_a_time() -> object:
            lookup.feeds.clear()
            feed = await lookup.card_feed(entity_id)
            assert feed is not None
            return await feed_page(feed, 0)

        async def whole_card() -> object:
            lookup.cache.clear()
            card = await lookup._build_card(entity_id)
            assert card is not None
            return card_pages(card)[0]

        await page_at_a_time()
        await whole_card()
        cpu: list[float] = []
        with Collections() as collections:
            lazy = await _runs(runs, page_at_a_time, cpu)
        whole = await _runs(max(5, runs // 4), whole_card)
    return {
        "entity": entity_id,
        "claims": claims,
        "page_at_a_time": _ms(lazy),
        "page_at_a_time_cpu": _ms(cpu),
        "collections": collections.passes,
        "whole_card": _ms(whole),
        "ratio_p99": _pct(whole, 0.99) / _pct(lazy, 0.99),
    }


async def measure_e2e(database: Path, queries: Sequence[str]) -> dict[str, Any]:
    """/search through the Discord double, the bot in its own process, one in flight."""
    import os  # noqa: PLC0415

    from tests.discord_double import DiscordDouble, default_guild  # noqa: PLC0415

    from bench.e2e import _start_bot  # noqa: PLC0415 - the double is only needed here

    cpus = sorted(os.sched_getaffinity(0))
    async with DiscordDouble(guilds=[default_guild()]) as double:
        process = await _start_bot(double, "armsbot", database, cpus[-1], {})
        try:
            failed = 0
            for text in queries[:5]:  # warm up the connection
                await double.wait_for_callback(
                    await double.slash_command("search", {"query": text[:100]}), timeout=30
                )
            double.callback_times.clear()
            for text in queries:
                handle = await double.slash_command("search", {"query": text[:100]})
                try:
                    await double.wait_for_callback(handle, timeout=30)
                except (AssertionError, TimeoutError):
                    failed += 1
            latencies = list(double.callback_times)
        finally:
            process.terminate()
            await process.communicate()
    return {**_ms(latencies), "failed": failed, "refused": len(double.rejected_requests)}


# -- the report ---------------------------------------------------------------------------------


def _met(met: bool) -> str:
    return "met" if met else "NOT met"


def report(results: dict[str, Any]) -> str:
    """The figures as Markdown tables."""
    lines = ["## Questions about connections: resolution + first page, ms", ""]
    lines.append(
        "| claims | queries | approach | timed | p50 | p99 | max | p50 / p99 vs armsbot"
        " | CPU p50 / p99 |"
    )
    lines.append("|---:|---:|---|---:|---:|---:|---:|---:|---:|")
    for size in results["queries"]:
        for name in APPROACHES:
            f = size[name]
            ratio = "-" if name == "armsbot" else f"{f['ratio_p50']:.0f}x / {f['ratio_p99']:.0f}x"
            lines.append(
                f"| {size['claims']:,} | {size['queries']} | {name} | {f['n']} |"
                f" {f['p50']:.1f} | {f['p99']:.1f} | {f['max']:.1f} | {ratio} |"
                f" {f['cpu']['p50']:.1f} / {f['cpu']['p99']:.1f} |"
            )
    cold = results["cold_card"]
    lines += [
        "",
        f"## Cold first page of the busiest entity ({cold['entity']},"
        f" {cold['claims']:,} claims), ms",
        "",
        "| way | runs | p50 | p99 | max |",
        "|---|---:|---:|---:|---:|",
    ]
    for way in ("page_at_a_time", "whole_card"):
        f = cold[way]
        lines.append(
            f"| {way.replace('_', ' ')} | {f['n']} | {f['p50']:.1f} | {f['p99']:.1f}"
            f" | {f['max']:.1f} |"
        )
    cpu, passes = cold["page_at_a_time_cpu"], cold["collections"]
    lines.append(
        f"\npage at a time, CPU time of the process: p50 {cpu['p50']:.1f}, p99 {cpu['p99']:.1f};"
        f" the collector's passes over its {cpu['n']} runs: {passes[0]} young, {passes[1]}"
        f" middle, {passes[2]} full"
    )
    lines.append(f"\nwhole card / page at a time, p99: {cold['ratio_p99']:.1f}x")
    largest = results["queries"][-1]
    lines += [
        "",
        f"## By kind of query at {largest['claims']:,} claims: p50 / p99, ms",
        "",
        "| approach | " + " | ".join(KINDS) + " |",
        "|---|" + "---:|" * len(KINDS),
    ]
    for name in APPROACHES:
        kinds = largest[name]["kinds"]
        cells = [
            f"{kinds[k]['p50']:.1f} / {kinds[k]['p99']:.1f} ({kinds[k]['n']})"
            if kinds[k]["n"]
            else "-"
            for k in KINDS
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    like = largest["like"]["ratio_p99"]
    cold_p99 = cold["page_at_a_time"]["p99"]
    lines += [
        "",
        "## Targets (issue 13, item 6)",
        "",
        f"* resolution + first page at {largest['claims']:,} claims, p99: armsbot"
        f" {largest['armsbot']['p99']:.1f} ms, LIKE {largest['like']['p99']:.1f} ms:"
        f" {like:.1f}x faster (target >= {QUERY_TARGET:.0f}x): {_met(like >= QUERY_TARGET)};"
        f" in CPU time (the process's, so the machine's other jobs count less), p99 armsbot"
        f" {largest['armsbot']['cpu']['p99']:.1f} ms, LIKE {largest['like']['cpu']['p99']:.1f} ms"
        f" over its {largest['like']['cpu']['n']} queries",
        f"* cold first page of the busiest card, p99: {cold_p99:.1f} ms (target <"
        f" {COLD_TARGET_MS:.0f} ms; {cold['ratio_p99']:.1f}x faster than the whole card):"
        f" {_met(cold_p99 < COLD_TARGET_MS)}",
    ]
    e2e = results.get("e2e")
    if e2e:
        lines += [
            "",
            "## /search end to end through the Discord double (one in flight), ms",
            "",
            f"p50 {e2e['p50']:.1f} · p99 {e2e['p99']:.1f} · max {e2e['max']:.1f}"
            f" over {e2e['n']} interactions ({e2e['failed']} failed, {e2e['refused']} payloads"
            " refused); Discord's deadline: 3,000",
        ]
    return "\n".join(lines) + "\n"


async def run(smoke: bool, budget: float, e2e: bool) -> dict[str, Any]:
    """Every figure, for the sizes of the run."""
    results: dict[str, Any] = {"queries": []}
    sizes = [SMOKE] if smoke else [QUARTER, FULL]
    count = 40 if smoke else 400
    with tempfile.TemporaryDirectory() as folder:
        for sizes_ in sizes:
            database = Path(folder) / f"synthetic-{sizes_.claims}.sqlite3"
            print(
                f"building the synthetic knowledge base ({sizes_.claims:,} claims)...", flush=True
            )
            await build_synthetic(database, sizes_)
            print("  timing queries...", flush=True)
            results["queries"].append(await measure_queries(database, count, budget))
        print("  cold cards...", flush=True)
        results["cold_card"] = await measure_cold_card(database, 20 if smoke else 200)
        if e2e:
            print("  end to end...", flush=True)
            async with await KnowledgeBase.open(database) as kb:
                queries = await query_mix(kb, 20 if smoke else 200, seed=29)
            results["e2e"] = await measure_e2e(database, queries)
    return results


def main(argv: list[str] | None = None) -> int:
    """Build, measure, print the tables, and write them (JSON and Markdown) to bench/results."""
    parser = argparse.ArgumentParser(prog="python -m bench.claims")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, only checks it runs")
    parser.add_argument("--budget", type=float, default=20.0, help="seconds per slow baseline")
    parser.add_argument("--no-e2e", action="store_true", help="skip the Discord double")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = asyncio.run(run(args.smoke, 0.5 if args.smoke else args.budget, not args.no_e2e))
    results["seconds"] = time.perf_counter() - started
    text = report(results)
    sys.stdout.write(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "claims.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    (RESULTS / "claims.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
