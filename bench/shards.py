"""Shards end to end: one bot process against several, on SQLite and on PostgreSQL.

``python -m bench.shards [--smoke] [--backend sqlite|postgresql|both] [--processes 1,3]
[--seconds S] [--follow N] [--sii PATH] [--synthetic] [--json PATH]``

Each configuration starts real ``armsbot run`` processes against the Discord API double, which
routes every server to its shard as Discord does (one server per shard here, so the load
spreads): N processes, each with one shard of N (``ARMSBOT_SHARD_COUNT=N``,
``ARMSBOT_SHARD_IDS=i``), for each process count of ``--processes`` on each backend. The
baseline is the same run's single process on SQLite (as ``armsbot run`` without shard settings
on a small bot); every configuration's rates are printed as ratios to it.

Two loads, one after the other, each a closed loop of ``concurrency`` users sending to the
servers in turn and waiting for the callback: autocomplete of /country's name, then /country
lookups (the card's first page; cards are kept between requests, as in production). The figures
are answered interactions per second of each, their ratios to the baseline, each process's
resident memory once ready and after the loads, and the delay from an approval made by another
process (this one, as ``armsbot review approve``) until every bot's autocomplete offers the new
name (p50/p99 over ``--follow`` approvals; on SQLite the bots read ``data_version`` four times a
second, on PostgreSQL each commit's NOTIFY wakes them).

Each configuration starts from its own copy of the same knowledge base: the bundled one,
``--synthetic`` the large one of ``bench/synthetic.py`` (10,000 firms, 100,000 claims), and
``--sii`` imports the SII transfers; it is built in SQLite and copied whole (``armsbot db copy``'s
function) into a throwaway PostgreSQL server started from the machine's binaries
(``tests/pg_process.py``, PostgreSQL's default durability, a unix socket on this machine). The
double and the load run in this process: on a machine with few cores they compete with the bots
(and with PostgreSQL's server processes), so compare ratios within one run, not figures across
machines.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tests.bot_harness import run_environment
from tests.discord_double import (
    DiscordDouble,
    guild_on_shard,
)

from armsbot.changes import AddAlias, Submission
from armsbot.search.index import SearchIndex
from armsbot.services.corrections import CorrectionService, Limits
from armsbot.storage import KnowledgeBase
from bench.backends import (
    add_backend_option,
    choose_backends,
    maybe_server,
    percentile,
    postgres_copy,
)
from bench.run import make_bundled, make_synthetic

REPO = Path(__file__).resolve().parents[1]
QUERIES = ["azerbajan", "fra", "germany", "isr", "united k", "mexico", "saudi", "uae", "ind", "uk"]


@dataclass
class Load:
    """One load's count of answered interactions."""

    answered: int = 0
    failed: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Answered interactions per second."""
        return self.answered / self.seconds if self.seconds else 0.0


@dataclass
class Run:
    """One configuration's figures."""

    backend: str
    processes: int
    shard_count: int
    autocomplete: Load = field(default_factory=Load)
    lookups: Load = field(default_factory=Load)
    ready_rss_mb: list[float] = field(default_factory=list)
    loaded_rss_mb: list[float] = field(default_factory=list)
    follow_seconds: list[float] = field(default_factory=list)  # approval -> every bot's index
    load_average: float = 0.0  # the machine's, over the last minute, as the loads end

    @property
    def name(self) -> str:
        """How the lines and tables name it."""
        return f"{self.processes} process(es) on {self.backend}"


def rss_mb(pid: int) -> float:
    """A process's resident memory (VmRSS) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def start_bot(
    double: DiscordDouble, database: Path | str, folder: Path, count: int, shard: int, *, sync: bool
) -> asyncio.subprocess.Process:
    """``armsbot run`` for one shard of ``count``; returns once it logged that it is ready."""
    env = run_environment(
        double,
        database,
        token=double.token or "",
        shard_count=str(count),
        shard_ids=str(shard),
        sync_commands="true" if sync else "false",
        log_level="INFO",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "armsbot",
        "run",
        env=env,
        cwd=folder,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    seen: list[str] = []
    async with asyncio.timeout(180):
        while not any("ready as" in line for line in seen):
            line = await process.stderr.readline()
            if not line:
                msg = f"shard {shard} of {count} did not start: {''.join(seen)[-2000:]}"
                raise RuntimeError(msg)
            seen.append(line.decode(errors="replace"))
    return process


async def drain(process: asyncio.subprocess.Process) -> None:
    """Read a bot's log so that it never blocks on a full pipe."""
    assert process.stderr is not None
    while await process.stderr.readline():
        pass


async def interact(double: DiscordDouble, guild_id: int, query: str, complete: bool) -> bool:
    """One autocomplete or /country in a server; whether the bot answered it."""
    if complete:
        handle = await double.autocomplete("country", {"name": query}, guild_id=guild_id)
    else:
        handle = await double.slash_command("country", {"name": query}, guild_id=guild_id)
    try:
        await double.wait_for_callback(handle, timeout=15)
    except AssertionError:
        return False
    return True


async def unknown_name(double: DiscordDouble) -> str:
    """A made-up name no bot's autocomplete leads to AZ yet."""
    guild_id = next(iter(double.guilds))
    while True:
        letters = [random.choice("bcdfgklmnprstvz") + random.choice("aeiou") for _ in range(5)]
        name = "".join(letters).capitalize() + "land"
        handle = await double.autocomplete("country", {"name": name}, guild_id=guild_id)
        choices = await double.autocomplete_choices(handle, timeout=15)
        if not choices or choices[0]["value"] != "AZ":
            return name


async def follow_delays(double: DiscordDouble, database: Path | str, count: int) -> list[float]:
    """Approve ``count`` new names from this process (as ``armsbot review approve`` would) and
    return, for each name and each bot, the seconds until its autocomplete offers it."""
    delays: list[float] = []
    async with await KnowledgeBase.open(database) as kb:
        service = CorrectionService(
            kb, SearchIndex.build(await kb.index_rows()), Limits(10**6, 10**6)
        )
        for _ in range(count):
            name = await unknown_name(double)
            submission = Submission.model_validate(
                {
                    "entity_id": "AZ",
                    "change": AddAlias(name=name),
                    "what_is_wrong": "A name is missing.",
                    "source_url": "https://example.org/bench",
                }
            )
            correction = await service.submit(submission, "cli:bench")
            await service.approve(correction.id, "cli:bench")
            approved = time.monotonic()
            waiting = {g.id for g in double.guilds.values()}
            async with asyncio.timeout(30):
                while waiting:
                    for guild_id in sorted(waiting):
                        handle = await double.autocomplete(
                            "country", {"name": name}, guild_id=guild_id
                        )
                        choices = await double.autocomplete_choices(handle, timeout=15)
                        if choices and choices[0]["value"] == "AZ":
                            waiting.discard(guild_id)
                            delays.append(time.monotonic() - approved)
                    await asyncio.sleep(0.01)
    return delays


async def load(
    double: DiscordDouble,
    work: list[tuple[int, str]],
    seconds: float,
    users: int,
    *,
    complete: bool,
) -> Load:
    """``users`` users sending ``work`` (server, name) in turn for ``seconds``."""
    figures = Load()
    queue = itertools.cycle(work)
    stop = time.monotonic() + seconds

    async def user() -> None:
        while time.monotonic() < stop:
            if await interact(double, *next(queue), complete):
                figures.answered += 1
            else:
                figures.failed += 1

    start = time.monotonic()
    await asyncio.gather(*(user() for _ in range(users)))
    figures.seconds = time.monotonic() - start
    return figures


async def measure(
    backend: str,
    database: Path | str,
    folder: Path,
    processes: int,
    seconds: float,
    concurrency: int,
    follow: int,
) -> Run:
    """Start ``processes`` bots (one shard each) on ``database`` and load them."""
    count = processes
    guilds = [guild_on_shard(s, count) for s in range(count)]
    run = Run(backend, processes, count)
    async with DiscordDouble(guilds=guilds, shard_count=count, interaction_timeout=None) as double:
        bots: list[asyncio.subprocess.Process] = []
        drains: list[asyncio.Task[None]] = []
        try:
            for shard in range(count):
                bot = await start_bot(double, database, folder, count, shard, sync=shard == 0)
                bots.append(bot)
                drains.append(asyncio.create_task(drain(bot)))
            run.ready_rss_mb = [round(rss_mb(b.pid), 1) for b in bots]
            work = [(g.id, q) for g, q in itertools.product(guilds, QUERIES)]
            random.Random(14).shuffle(work)
            run.autocomplete = await load(double, work, seconds, concurrency, complete=True)
            run.lookups = await load(double, work, seconds, concurrency, complete=False)
            run.load_average = os.getloadavg()[0]
            run.loaded_rss_mb = [round(rss_mb(b.pid), 1) for b in bots]
            run.follow_seconds = await follow_delays(double, database, follow)
        finally:
            for bot in bots:
                with contextlib.suppress(ProcessLookupError):
                    bot.terminate()
            for bot in bots:
                try:
                    await asyncio.wait_for(bot.wait(), 30)
                except TimeoutError:
                    bot.kill()
            for task in drains:
                task.cancel()
    return run


async def make_base(folder: Path, sii: Path | None, *, synthetic: bool = False) -> Path:
    """The bundled knowledge base (or the synthetic large one), with the SII transfers imported
    when given."""
    database = await (make_synthetic(folder, smoke=False) if synthetic else make_bundled(folder))
    if sii is not None:
        from armsbot.imports.sii import import_sii  # noqa: PLC0415 - only with --sii

        async with await KnowledgeBase.open(database) as kb:
            await import_sii(kb, sii)
    return database


def baseline_of(runs: list[Run]) -> Run:
    """The single process on SQLite when it ran, else the first configuration."""
    return next((r for r in runs if r.backend == "sqlite" and r.processes == 1), runs[0])


async def main_async(args: argparse.Namespace) -> list[Run]:
    """Every configuration, SQLite's first (its single process is the baseline)."""
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="armsbot-shards-") as name:
        folder = Path(name)
        base = await make_base(folder, args.sii, synthetic=args.synthetic)
        async with maybe_server(args.backends) as server:
            for backend, processes in args.configurations:
                database: Path | str
                if backend == "postgresql":
                    assert server is not None
                    database = await postgres_copy(server, base)
                else:
                    database = folder / f"run-{len(runs)}.sqlite3"
                    shutil.copyfile(base, database)
                runs.append(
                    await measure(
                        backend,
                        database,
                        folder,
                        processes,
                        args.seconds,
                        args.concurrency,
                        args.follow,
                    )
                )
                report(runs[-1], baseline_of(runs))
    return runs


def report(run: Run, baseline: Run) -> None:
    """Print one configuration's line."""

    def rate(mine: Load, base: Load) -> str:
        ratio = mine.rate / base.rate if base.rate else 0.0
        return f"{mine.rate:7.1f}/s ({ratio:.2f}x), {mine.failed} failed"

    print(
        f"{run.name}: autocomplete {rate(run.autocomplete, baseline.autocomplete)};"
        f" lookups {rate(run.lookups, baseline.lookups)} (ratios to {baseline.name});"
        f" RSS ready {run.ready_rss_mb} MB, after load {run.loaded_rss_mb} MB;"
        f" approval to every other process's index p50 {percentile(run.follow_seconds, 50):.3f} s,"
        f" p99 {percentile(run.follow_seconds, 99):.3f} s ({len(run.follow_seconds)});"
        f" load average {run.load_average:.1f}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the configurations and print them (``--json PATH`` also writes them)."""
    parser = argparse.ArgumentParser(prog="python -m bench.shards", description=__doc__)
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="1 s per load: one process on SQLite, two on PostgreSQL (or on SQLite without it)",
    )
    add_backend_option(parser)
    parser.add_argument("--processes", default="1,3", help="process counts, on each backend")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--follow", type=int, default=30, help="approvals timed to every index")
    parser.add_argument("--sii", type=Path, help="import this SII transfers.json first")
    parser.add_argument(
        "--synthetic", action="store_true", help="the synthetic large base (bench/synthetic.py)"
    )
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args(argv)
    args.backends = choose_backends(args.backend)
    counts = [int(p) for p in str(args.processes).split(",")]
    args.configurations = [(b, p) for b in args.backends for p in counts]
    if args.smoke:
        args.seconds, args.concurrency, args.follow = 1.0, 4, 2
        args.configurations = [(b, 1 if b == args.backends[0] else 2) for b in args.backends]
        if len(args.backends) == 1:
            args.configurations = [(args.backends[0], 1), (args.backends[0], 2)]
    runs = asyncio.run(main_async(args))
    if args.json is not None:
        figures = [
            {
                **asdict(r),
                "autocomplete_rate": r.autocomplete.rate,
                "lookups_rate": r.lookups.rate,
            }
            for r in runs
        ]
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    if any(r.autocomplete.answered == 0 or r.lookups.answered == 0 for r in runs):
        print("a configuration answered nothing", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
