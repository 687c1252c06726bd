"""The bot in a process of its own, for the end-to-end figures.

``python -m bench.botproc APPROACH DATABASE REST_BASE GATEWAY_URL TOKEN GUILD_ID CPU``: opens the
knowledge base as ``armsbot run`` does, swaps in a baseline as the index when APPROACH is not
``armsbot``, logs in to the Discord API double, prints ``READY`` and runs until SIGTERM. It is
pinned to one CPU, so its figures are for one core.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from armsbot.app import open_services, settle_heap
from armsbot.bot.client import ArmsBot, point_discord_at
from armsbot.config import Settings
from bench.approaches import APPROACHES


async def main() -> None:
    approach, database, rest, gateway, token, guild, cpu = sys.argv[1:8]
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(cpu)})
    logging.basicConfig(level=logging.WARNING)
    settings = Settings(
        database=Path(database),
        token=token,
        api_base_url=rest,
        gateway_url=gateway,
        home_guild_ids=[int(guild)],
        log_level="WARNING",
    )
    point_discord_at(settings)
    services = await open_services(settings)
    if approach != "armsbot":
        baseline = APPROACHES[approach]()
        baseline.build(await services.kb.index_rows())
        services.index = services.lookup.index = baseline.index()
    settle_heap()  # as armsbot run does
    bot = ArmsBot(services, settings)
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    runner = asyncio.create_task(bot.start(token))
    while not bot.is_ready():
        if runner.done():
            runner.result()
        await asyncio.sleep(0.02)
    print("READY", flush=True)
    await stopping.wait()
    await bot.close()
    await asyncio.wait_for(runner, timeout=10)
    await services.close()


if __name__ == "__main__":
    asyncio.run(main())
