"""End to end: the real discord.py client against the Discord API double from the test suite.

The bot runs in its own process pinned to one CPU (``bench.botproc``); the double and the load
generator run in this process on the other CPU, so the double's own cost does not eat the bot's
core. Two loads, for autocomplete interactions and for /country, /firm, /law commands:

* closed loop: ``concurrency`` users each send an interaction and wait for its callback, for a
  fixed time: the sustained rate the bot answers at;
* open loop: interactions sent at a fixed ``rate`` (300/s) whatever the answers, for a fixed
  time: the latency from interaction to callback at that load, as the double measures it
  (``callback_times``: from the moment it sent INTERACTION_CREATE to the callback POST). Run only
  when the closed loop reached 90% of that rate: otherwise the queue only grows;
* one in flight: the latency of a single interaction with nothing else going on.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.discord_double import HOME_GUILD_ID, DiscordDouble, default_guild

from bench.queries import Query

COMMAND = {"country": "country", "firm": "firm", "law": "law"}
REPO = Path(__file__).resolve().parents[1]


@dataclass
class LoadResult:
    sent: int
    answered: int
    failed: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


async def _start_bot(
    double: DiscordDouble, approach: str, database: Path, cpu: int, env: dict[str, str]
) -> Any:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.botproc",
        approach,
        str(database),
        double.rest_base,
        double.gateway_url,
        double.token or "",
        str(HOME_GUILD_ID),
        str(cpu),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=REPO,
        env={**os.environ, **env},
    )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), timeout=180)
    except TimeoutError:
        line = b""
    if line.strip() != b"READY":
        process.kill()
        _, err = await process.communicate()
        msg = f"the bot did not start: {line!r} {err.decode()[-2000:]}"
        raise RuntimeError(msg)
    return process


async def _interact(double: DiscordDouble, scenario: str, query: Query) -> bool:
    command = COMMAND[query.kind.value if query.kind else "country"]
    if scenario == "autocomplete":
        handle = await double.autocomplete(command, {"name": query.text})
    else:
        handle = await double.slash_command(command, {"name": query.text})
    try:
        await double.wait_for_callback(handle, timeout=10)
    except (AssertionError, TimeoutError):
        return False
    return True


async def closed_loop(
    double: DiscordDouble, scenario: str, queries: list[Query], seconds: float, concurrency: int
) -> LoadResult:
    source = itertools.cycle(queries)
    stop = time.monotonic() + seconds
    counts = {"sent": 0, "ok": 0, "failed": 0}
    double.callback_times.clear()

    async def user() -> None:
        while time.monotonic() < stop:
            counts["sent"] += 1
            if await _interact(double, scenario, next(source)):
                counts["ok"] += 1
            else:
                counts["failed"] += 1

    start = time.monotonic()
    await asyncio.gather(*(user() for _ in range(concurrency)))
    elapsed = time.monotonic() - start
    return LoadResult(
        counts["sent"], counts["ok"], counts["failed"], elapsed, list(double.callback_times)
    )


async def open_loop(
    double: DiscordDouble, scenario: str, queries: list[Query], seconds: float, rate: float
) -> LoadResult:
    source = itertools.cycle(queries)
    total = max(1, int(seconds * rate))
    double.callback_times.clear()
    results: list[bool] = []

    async def one(query: Query) -> None:
        results.append(await _interact(double, scenario, query))

    tasks = []
    start = time.monotonic()
    for i in range(total):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(next(source))))
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - start
    ok = sum(results)
    return LoadResult(total, ok, total - ok, elapsed, list(double.callback_times))


async def measure(
    approach: str,
    database: Path,
    workloads: dict[str, list[Query]],
    *,
    seconds: float,
    rate: float,
    concurrency: int,
    env: dict[str, str] | None = None,
) -> dict[str, dict[str, LoadResult]]:
    """For each scenario (autocomplete, lookup): the closed-loop and open-loop results.

    ``env``: settings for the bot's process (``ARMSBOT_CARD_CACHE_LINES=0`` turns its cache off).
    """
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    bot_cpu = cpus[-1]
    mine = {c for c in cpus if c != bot_cpu} or set(cpus)
    saved = os.sched_getaffinity(0) if hasattr(os, "sched_setaffinity") else None
    if saved is not None:
        os.sched_setaffinity(0, mine)
    out: dict[str, dict[str, LoadResult]] = {}
    # The double and the load generator run here, and the double keeps every interaction it
    # sent: its garbage collector would pause it (and so delay the timestamps it records) more
    # and more as they pile up. It stays off while the loads run; the bot's own is untouched.
    gc.collect()
    gc.disable()
    try:
        async with DiscordDouble(guilds=[default_guild()]) as double:
            process = await _start_bot(double, approach, database, bot_cpu, env or {})
            try:
                for scenario, queries in workloads.items():
                    warm = queries[: min(len(queries), 20)]
                    await closed_loop(double, scenario, warm, min(1.0, seconds), 4)
                    results = {
                        "single": await closed_loop(double, scenario, queries, seconds / 2, 1),
                        "closed": await closed_loop(
                            double, scenario, queries, seconds, concurrency
                        ),
                    }
                    if results["closed"].rate >= rate * 0.9:
                        results["open"] = await open_loop(double, scenario, queries, seconds, rate)
                    # Otherwise the bot cannot keep up: an open loop at that rate would only
                    # queue interactions until they time out (and delay the next scenario).
                    out[scenario] = results
            finally:
                with contextlib.suppress(ProcessLookupError):
                    process.terminate()
                try:
                    await asyncio.wait_for(process.communicate(), timeout=30)
                except TimeoutError:
                    process.kill()
                    await process.communicate()
    finally:
        gc.enable()
        if saved is not None:
            os.sched_setaffinity(0, saved)
    return out
