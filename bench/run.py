"""``python -m bench``: every figure of issue 5, for armsbot and the baselines, in one run.

Prints a table per workload and writes the figures as JSON (``bench/results/latest.json`` unless
``--json`` says otherwise) and the same tables as Markdown beside it. ``--smoke`` runs tiny sizes
and few iterations to check that everything still works (its timings mean nothing).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from armsbot.datafiles import bundled_data_dir
from armsbot.models import Kind
from armsbot.records import IndexRow
from armsbot.search import fold
from armsbot.services import data
from armsbot.services.lookup import LookupService
from armsbot.storage import KnowledgeBase
from bench import reference_index
from bench.approaches import APPROACHES
from bench.queries import LABELLED, Query, lookup_mix, query_mix, read_labelled
from bench.synthetic import FULL, SMOKE, build_synthetic

RESULTS = Path(__file__).resolve().parent / "results"
BASELINE_FOR_SPEEDUP = "rapidfuzz-wratio"


@dataclass(frozen=True)
class Plan:
    """How much of everything to run."""

    smoke: bool
    build_repeats: int
    passes: int  # passes over the query mix for the in-process latency
    budget: float  # seconds of query latency per slow baseline
    mix_scale: float
    updates: int
    lookups: int
    e2e_seconds: float
    e2e_rate: float
    e2e_concurrency: int
    e2e_approaches: tuple[str, ...]


FULL_PLAN = Plan(False, 3, 3, 20.0, 1.0, 600, 120, 5.0, 300.0, 16, tuple(APPROACHES))
SMOKE_PLAN = Plan(True, 1, 1, 0.5, 0.15, 6, 10, 0.3, 300.0, 4, ("armsbot", "fts5-trigram"))


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _summary(seconds: list[float]) -> dict[str, float]:
    ms = [s * 1e3 for s in seconds]
    return {
        "n": len(ms),
        "p50": _pct(ms, 0.5),
        "p99": _pct(ms, 0.99),
        "max": max(ms) if ms else float("nan"),
    }


async def _rows(database: Path) -> list[IndexRow]:
    async with await KnowledgeBase.open(database) as kb:
        return await kb.index_rows()


async def _counts(database: Path) -> dict[str, int]:
    async with await KnowledgeBase.open(database) as kb:
        return await kb.count()


# -- the workloads ----------------------------------------------------------------------------


async def make_bundled(folder: Path) -> Path:
    path = folder / "bundled.sqlite3"
    async with await KnowledgeBase.open(path) as kb:
        await data.build(kb, bundled_data_dir())
    return path


async def make_synthetic(folder: Path, smoke: bool) -> Path:
    path = folder / "synthetic.sqlite3"
    await build_synthetic(path, SMOKE if smoke else FULL)
    return path


# -- in-process figures -----------------------------------------------------------------------


def measure_build(name: str, database: Path, repeats: int) -> tuple[Any, dict[str, float]]:
    """Index build from the database: reading the rows, then building. Best of ``repeats``."""
    reads, builds = [], []
    approach = None
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        rows = asyncio.run(_rows(database))
        read = time.perf_counter()
        approach = APPROACHES[name]()
        approach.build(rows)
        done = time.perf_counter()
        reads.append(read - start)
        builds.append(done - read)
    best = min(range(repeats), key=lambda i: reads[i] + builds[i])
    return approach, {
        "read_s": reads[best],
        "build_s": builds[best],
        "total_s": reads[best] + builds[best],
    }


def measure_latency(
    approach: Any, queries: list[Query], passes: int, budget: float | None
) -> tuple[list[float], list[str]]:
    """Seconds per autocomplete query (limit 25), and the category of each sample."""
    for query in queries[:20]:
        approach.search(query.text, query.kind, 25)
    gc.collect()
    times: list[float] = []
    categories: list[str] = []
    stop = None if budget is None else time.perf_counter() + budget
    for _ in range(passes):
        for query in queries:
            fold.cache_clear()
            start = time.perf_counter()
            approach.search(query.text, query.kind, 25)
            times.append(time.perf_counter() - start)
            categories.append(query.category)
            if stop is not None and time.perf_counter() > stop and len(times) >= 20:
                return times, categories
    return times, categories


def measure_accuracy(approach: Any, labelled: list[Any]) -> dict[str, float]:
    top1 = top5 = 0
    needed1 = needed5 = 0
    misses = []
    for case in labelled:
        found = approach.search(case.query, case.kind, 5)
        first = found[:1]
        hit1 = any(case.accepts(i, n) for i, n in first)
        hit5 = any(case.accepts(i, n) for i, n in found[:5])
        top1 += hit1
        top5 += hit5
        needed1 += case.rank == "top1"
        needed5 += case.rank == "top5"
        ok = hit1 if case.rank == "top1" else hit5
        if not ok:
            misses.append(case.query)
    n = len(labelled)
    return {
        "n": n,
        "top1": top1 / n if n else float("nan"),
        "top5": top5 / n if n else float("nan"),
        "as_labelled": (n - len(misses)) / n if n else float("nan"),
        "misses": misses,
    }


def measure_rss(name: str, database: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.rss", name, str(database)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "loaded_mb": figures["loaded_kib"] / 1024,
        "delta_mb": (figures["loaded_kib"] - figures["imports_kib"]) / 1024,
        "peak_mb": figures["peak_kib"] / 1024,
    }


def changes(rows: list[IndexRow], count: int, seed: int = 11) -> list[tuple[str, IndexRow]]:
    """Entity changes as corrections make them: a new alias, or a new claim (weight + 1)."""
    rng = random.Random(seed)
    firms = [r for r in rows if r.kind is Kind.FIRM]
    countries = [r for r in rows if r.kind is Kind.COUNTRY and len(r.id) == 2]
    out = []
    for i in range(count):
        pick = i % 3
        if pick == 0:
            row = rng.choice(firms)
            new = replace(
                row, aliases=(*row.aliases, (f"{row.name.split()[0]} Nova {i}", "product"))
            )
            out.append(("firm alias", new))
        elif pick == 1:
            row = rng.choice(countries)
            new = replace(row, aliases=(*row.aliases, (f"Republic of {row.name} {i}", "name")))
            out.append(("country alias", new))
        else:
            row = rng.choice(firms + countries)
            out.append(("new claim", replace(row, weight=row.weight + 1)))
    return out


def measure_updates(
    approach: Any, edits: list[tuple[str, IndexRow]], budget: float
) -> dict[str, Any]:
    """The time of each ``upsert``; for armsbot, the compactions it asks for timed apart."""
    times: dict[str, list[float]] = {}
    compactions: list[float] = []
    index = approach.index()
    stop = time.perf_counter() + budget
    for label, row in edits:
        start = time.perf_counter()
        approach.upsert(row)
        times.setdefault(label, []).append(time.perf_counter() - start)
        if hasattr(index, "compaction_due") and index.compaction_due():
            start = time.perf_counter()
            index.compact()
            compactions.append(time.perf_counter() - start)
        if time.perf_counter() > stop and sum(map(len, times.values())) >= 3:
            break
    every = [t for ts in times.values() for t in ts]
    return {
        "all": _summary(every),
        **{k: _summary(v) for k, v in times.items()},
        "compaction": _summary(compactions),
    }


async def measure_lookups(
    approach: Any, database: Path, queries: list[Query], budget: float
) -> dict[str, Any]:
    """``LookupService.ask`` per query: with the card built (the first time an entity is asked
    for after a change: the cache is emptied before each), then with the card kept."""
    async with await KnowledgeBase.open(database) as kb:
        service = LookupService(kb, approach.index())
        for query in queries[:3]:
            await service.ask(query.kind, query.text)  # type: ignore[arg-type]
        built, kept = [], []
        stop = time.perf_counter() + budget
        for query in queries:
            service.cache.clear()
            start = time.perf_counter()
            await service.ask(query.kind, query.text)  # type: ignore[arg-type]
            built.append(time.perf_counter() - start)
            start = time.perf_counter()
            await service.ask(query.kind, query.text)  # type: ignore[arg-type]
            kept.append(time.perf_counter() - start)
            if time.perf_counter() > stop and len(built) >= 5:
                break
    return {**_summary(built), "kept": _summary(kept)}


def check_against_reference(
    current: Any, rows: list[IndexRow], queries: list[Query]
) -> dict[str, int]:
    """Whether the index ranks exactly as the pre-issue index would without its scan cap."""
    saved = reference_index.PREFIX_SCAN_LIMIT
    reference_index.PREFIX_SCAN_LIMIT = 10**9
    try:
        before = reference_index.SearchIndex.build(rows)
        same = 0
        for query in queries:
            new = current.index().search(query.text, query.kind, 25)
            old = before.search(query.text, query.kind, 25)
            same += [(m.id, int(m.tier), round(m.score, 9), m.matched) for m in new] == [
                (m.id, int(m.tier), round(m.score, 9), m.matched) for m in old
            ]
    finally:
        reference_index.PREFIX_SCAN_LIMIT = saved
    return {"queries": len(queries), "identical": same}


# -- one workload -----------------------------------------------------------------------------


def run_workload(
    label: str,
    database: Path,
    plan: Plan,
    approaches: list[str],
    labelled: list[Any] | None,
    console: Console,
    *,
    e2e: bool,
) -> dict[str, Any]:
    rows = asyncio.run(_rows(database))
    queries = query_mix(rows, scale=plan.mix_scale)
    random.Random(3).shuffle(queries)  # so that any leading part is a fair sample
    lookups = lookup_mix(rows, count=plan.lookups)
    edits = changes(rows, plan.updates)
    result: dict[str, Any] = {
        "counts": asyncio.run(_counts(database)),
        "queries": len(queries),
        "query_categories": {
            c: sum(q.category == c for q in queries) for c in sorted({q.category for q in queries})
        },
        "approaches": {},
    }
    slow = {"rapidfuzz-wratio", "difflib", "armsbot-before", "fts5-trigram"}
    for name in approaches:
        console.log(f"[{label}] {name}: build")
        approach, build = measure_build(name, database, plan.build_repeats)
        figures: dict[str, Any] = {"build": build}
        console.log(f"[{label}] {name}: autocomplete latency")
        budget = plan.budget if name in slow else None
        times, categories = measure_latency(approach, queries, plan.passes, budget)
        figures["autocomplete"] = _summary(times)
        figures["autocomplete"]["by_category"] = {
            c: _summary([t for t, k in zip(times, categories, strict=True) if k == c])
            for c in sorted(set(categories))
        }
        figures["_times"] = times
        if labelled:
            console.log(f"[{label}] {name}: labelled queries")
            figures["accuracy"] = measure_accuracy(approach, labelled)
        console.log(f"[{label}] {name}: memory (fresh process)")
        figures["rss"] = measure_rss(name, database)
        console.log(f"[{label}] {name}: full lookups")
        figures["lookup"] = asyncio.run(
            measure_lookups(approach, database, lookups, plan.budget * 2)
        )
        console.log(f"[{label}] {name}: in-place updates")
        figures["update"] = measure_updates(approach, edits, plan.budget)
        if name == "armsbot":
            console.log(f"[{label}] armsbot: same rankings as the pre-issue index?")
            sample = queries[: 100 if plan.smoke else 300]
            fresh = APPROACHES["armsbot"]()
            fresh.build(rows)
            figures["check"] = check_against_reference(fresh, rows, sample)
        result["approaches"][name] = figures
        del approach
        gc.collect()
    _speedups(result)
    if e2e:
        from bench import e2e as e2e_module  # noqa: PLC0415 - pulls in discord.py and the double

        kinded = [q for q in queries if q.kind is not None]
        for name in approaches:
            if name not in plan.e2e_approaches:
                continue
            console.log(f"[{label}] {name}: end to end through discord.py and the double")
            measured = asyncio.run(
                e2e_module.measure(
                    name,
                    database,
                    {"autocomplete": kinded, "lookup": lookups},
                    seconds=plan.e2e_seconds,
                    rate=plan.e2e_rate,
                    concurrency=plan.e2e_concurrency,
                )
            )
            if name == "armsbot":
                console.log(f"[{label}] armsbot: end to end, /country /firm /law, card cache off")
                uncached = asyncio.run(
                    e2e_module.measure(
                        name,
                        database,
                        {"lookup": lookups},
                        seconds=plan.e2e_seconds,
                        rate=plan.e2e_rate,
                        concurrency=plan.e2e_concurrency,
                        env={"ARMSBOT_CARD_CACHE_LINES": "0"},
                    )
                )
                measured["lookup_uncached"] = uncached["lookup"]
            result["approaches"][name]["e2e"] = {
                scenario: {
                    load: {
                        "rate": outcome.rate,
                        "failed": outcome.failed,
                        **({"offered": plan.e2e_rate} if load == "open" else {}),
                        **_summary(outcome.latencies),
                    }
                    for load, outcome in loads.items()
                }
                for scenario, loads in measured.items()
            }
    for figures in result["approaches"].values():
        figures.pop("_times", None)
    return result


def _speedups(result: dict[str, Any]) -> None:
    """armsbot's p50 over the baseline's p50 on the very queries the baseline ran."""
    approaches = result["approaches"]
    ours = approaches.get("armsbot")
    if ours is None:
        return
    for name, figures in approaches.items():
        if name == "armsbot":
            continue
        n = len(figures["_times"])
        mine = ours["_times"][:n]
        theirs = figures["_times"][:n]
        if mine and theirs:
            figures["speedup_p50"] = statistics.median(theirs) / statistics.median(mine)


# -- output -----------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


ROWS: list[tuple[str, Callable[[dict[str, Any]], str]]] = [
    (
        "index build from DB, s (read rows + build)",
        lambda f: (
            f"{_fmt(f['build']['total_s'])} "
            f"({_fmt(f['build']['read_s'])} + {_fmt(f['build']['build_s'])})"
        ),
    ),
    (
        "RSS after loading, MB (raw; over imports)",
        lambda f: f"{_fmt(f['rss']['loaded_mb'], 0)} (+{_fmt(f['rss']['delta_mb'], 0)})",
    ),
    (
        "autocomplete p50 / p99 / max, ms",
        lambda f: " / ".join(_fmt(f["autocomplete"][k], 3) for k in ("p50", "p99", "max")),
    ),
    ("  queries timed", lambda f: str(f["autocomplete"]["n"])),
    (
        "  armsbot faster at p50 (same queries)",
        lambda f: "-" if "speedup_p50" not in f else f"{f['speedup_p50']:.0f}x",
    ),
    (
        "top-1 / top-5 on labelled queries",
        lambda f: (
            "n/a"
            if "accuracy" not in f
            else f"{f['accuracy']['top1']:.0%} / {f['accuracy']['top5']:.0%}"
        ),
    ),
    (
        "  labelled rank met (top1 or top5 as labelled)",
        lambda f: "n/a" if "accuracy" not in f else f"{f['accuracy']['as_labelled']:.0%}",
    ),
    (
        "in-place update of one entity p50 / p99 / max, ms",
        lambda f: " / ".join(_fmt(f["update"]["all"][k], 3) for k in ("p50", "p99", "max")),
    ),
    (
        "  compactions after those updates: count, max ms",
        lambda f: (
            "-"
            if not f["update"]["compaction"]["n"]
            else f"{f['update']['compaction']['n']}, {_fmt(f['update']['compaction']['max'], 2)}"
        ),
    ),
    (
        "full lookup (search+claims+card) p50 / p99, ms",
        lambda f: f"{_fmt(f['lookup']['p50'], 1)} / {_fmt(f['lookup']['p99'], 1)}",
    ),
    (
        "  the same, card kept from before: p50 / p99, ms",
        lambda f: f"{_fmt(f['lookup']['kept']['p50'], 2)} / {_fmt(f['lookup']['kept']['p99'], 2)}",
    ),
    (
        "e2e autocomplete: answered/s, 1 core (16 in flight)",
        lambda f: _e2e(f, "autocomplete", "closed", "rate"),
    ),
    (
        "e2e autocomplete at 300/s: p50 / p99, ms",
        lambda f: _e2e(f, "autocomplete", "open", "latency"),
    ),
    (
        "e2e autocomplete, one in flight: p50 / p99, ms",
        lambda f: _e2e(f, "autocomplete", "single", "latency"),
    ),
    (
        "e2e /country, /firm, /law: answered/s, 1 core",
        lambda f: _e2e(f, "lookup", "closed", "rate"),
    ),
    (
        "e2e /country, /firm, /law at 300/s: p50 / p99, ms",
        lambda f: _e2e(f, "lookup", "open", "latency"),
    ),
    (
        "e2e /country, /firm, /law, one in flight: p50 / p99, ms",
        lambda f: _e2e(f, "lookup", "single", "latency"),
    ),
    (
        "  the same, bot's card cache off: answered/s, 1 core",
        lambda f: _e2e(f, "lookup_uncached", "closed", "rate"),
    ),
    (
        "  the same, bot's card cache off, at 300/s: p50 / p99, ms",
        lambda f: _e2e(f, "lookup_uncached", "open", "latency"),
    ),
    (
        "  the same, bot's card cache off, one in flight: p50 / p99, ms",
        lambda f: _e2e(f, "lookup_uncached", "single", "latency"),
    ),
]


def _e2e(figures: dict[str, Any], scenario: str, load: str, what: str) -> str:
    e2e = figures.get("e2e")
    if e2e is None or scenario not in e2e:
        return "not run"
    part = e2e[scenario].get(load)
    if part is None:
        return "saturated"
    if what == "rate":
        return f"{part['rate']:.0f}"
    failed = f" ({part['failed']} late)" if part["failed"] else ""
    return f"{_fmt(part['p50'], 1)} / {_fmt(part['p99'], 1)}{failed}"


def _rows_of(workload: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Each row's heading and its cells, one per approach ("n/a" where it has no figure)."""
    out = []
    for heading, render in ROWS:
        cells = []
        for figures in workload["approaches"].values():
            try:
                cells.append(render(figures))
            except (KeyError, TypeError):
                cells.append("n/a")
        out.append((heading, cells))
    return out


def table(label: str, workload: dict[str, Any]) -> Table:
    counts = workload["counts"]
    title = (
        f"{label}: {counts.get('country', 0)} countries, {counts.get('firm', 0)} firms, "
        f"{counts.get('law', 0)} laws, {counts.get('aliases', 0)} aliases, "
        f"{counts.get('claims', 0)} claims; {workload['queries']} queries in the mix"
    )
    out = Table(title=title, show_lines=False)
    out.add_column("figure")
    names = list(workload["approaches"])
    for name in names:
        out.add_column(name, justify="right")
    for heading, cells in _rows_of(workload):
        out.add_row(heading, *cells)
    return out


def markdown(label: str, workload: dict[str, Any]) -> str:
    names = list(workload["approaches"])
    lines = [
        f"| {label} | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for heading, cells in _rows_of(workload):
        lines.append(f"| {heading.strip()} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, judged on the synthetic workload's figures."""
    workload = result["workloads"].get("synthetic")
    if workload is None or "armsbot" not in workload["approaches"]:
        return []
    ours = workload["approaches"]["armsbot"]
    others = {
        k: v for k, v in workload["approaches"].items() if k not in ("armsbot", "armsbot-before")
    }
    best_top1 = max(
        (v["accuracy"]["top1"] for v in others.values() if "accuracy" in v), default=0.0
    )
    best_top5 = max(
        (v["accuracy"]["top5"] for v in others.values() if "accuracy" in v), default=0.0
    )
    speedup = others.get(BASELINE_FOR_SPEEDUP, {}).get("speedup_p50", float("nan"))
    checks = [
        (
            "autocomplete p99 <= 1 ms",
            ours["autocomplete"]["p99"],
            ours["autocomplete"]["p99"] <= 1.0,
        ),
        ("p50 >= 30x faster than rapidfuzz WRatio", speedup, speedup >= 30),
    ]
    if "accuracy" in ours:
        checks.append(
            (
                "top-1 and top-5 no worse than the best baseline",
                f"{ours['accuracy']['top1']:.0%}/{ours['accuracy']['top5']:.0%} vs "
                f"{best_top1:.0%}/{best_top5:.0%}",
                ours["accuracy"]["top1"] >= best_top1 and ours["accuracy"]["top5"] >= best_top5,
            )
        )
    checks += [
        ("index build <= 2 s", ours["build"]["total_s"], ours["build"]["total_s"] <= 2.0),
        ("RSS after loading <= 300 MB", ours["rss"]["loaded_mb"], ours["rss"]["loaded_mb"] <= 300),
        (
            "in-place update of one entity <= 1 ms (p99; the max is in the table)",
            ours["update"]["all"]["p99"],
            ours["update"]["all"]["p99"] <= 1.0,
        ),
    ]
    e2e = ours.get("e2e")
    if e2e:
        for scenario in ("autocomplete", "lookup"):
            closed, opened = e2e[scenario]["closed"], e2e[scenario].get("open")
            p99 = "saturated" if opened is None else f"p99 {opened['p99']:.1f} ms at 300/s"
            what = "/country, /firm, /law" if scenario == "lookup" else scenario
            checks.append(
                (
                    f"e2e {what}: >= 300/s and p99 <= 50 ms",
                    f"{closed['rate']:.0f}/s, {p99}",
                    opened is not None
                    and closed["rate"] >= 300
                    and opened["p99"] <= 50
                    and not opened["failed"],
                )
            )
    return [{"target": t, "value": v, "met": bool(m)} for t, v, m in checks]


# -- main -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks it works")
    parser.add_argument("--json", type=Path, default=RESULTS / "latest.json", help="output")
    parser.add_argument(
        "--workload", choices=("all", "bundled", "synthetic"), default="all", help="which"
    )
    parser.add_argument(
        "--approach", action="append", choices=list(APPROACHES), help="only these (repeatable)"
    )
    parser.add_argument("--no-e2e", action="store_true", help="skip the end-to-end figures")
    parser.add_argument("--labelled", type=Path, default=LABELLED, help="labelled queries (TSV)")
    args = parser.parse_args(argv)
    plan = SMOKE_PLAN if args.smoke else FULL_PLAN
    approaches = args.approach or list(APPROACHES)
    console = Console(width=200)
    labelled = read_labelled(args.labelled) if args.labelled.exists() else None
    if labelled is None:
        console.log(f"no labelled queries at {args.labelled}: accuracy is n/a")
    started = time.perf_counter()
    result: dict[str, Any] = {
        "mode": "smoke" if args.smoke else "full",
        "machine": machine(),
        "workloads": {},
    }
    with tempfile.TemporaryDirectory(prefix="armsbot-bench-") as folder:
        databases = {}
        if args.workload in ("all", "bundled"):
            console.log("building the bundled knowledge base")
            databases["bundled"] = asyncio.run(make_bundled(Path(folder)))
        if args.workload in ("all", "synthetic"):
            console.log("generating the synthetic knowledge base")
            databases["synthetic"] = asyncio.run(make_synthetic(Path(folder), args.smoke))
        for label, database in databases.items():
            # The smoke run checks the end-to-end path once, on the (small) synthetic workload.
            e2e = not args.no_e2e and not (args.smoke and label == "bundled" and len(databases) > 1)
            result["workloads"][label] = run_workload(
                label, database, plan, approaches, labelled, console, e2e=e2e
            )
    result["targets"] = targets(result)
    result["seconds"] = time.perf_counter() - started
    for label, workload in result["workloads"].items():
        console.print(table(label, workload))
    if result["targets"]:
        judged = Table(title="targets (synthetic workload, armsbot)")
        for column in ("target", "value", "met"):
            judged.add_column(column)
        for item in result["targets"]:
            value = item["value"]
            judged.add_row(
                item["target"],
                _fmt(value, 3) if isinstance(value, float) else str(value),
                "yes" if item["met"] else "NO",
            )
        console.print(judged)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    tables = [markdown(label, w) for label, w in result["workloads"].items()]
    args.json.with_suffix(".md").write_text("\n\n".join(tables) + "\n", encoding="utf-8")
    console.print(
        f"wrote {args.json} and {args.json.with_suffix('.md')} in {result['seconds']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
