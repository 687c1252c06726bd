"""In-process helpers for tests that run the bot and the double in one event loop."""

from __future__ import annotations

import asyncio
import time

#: Task names discord.py gives to interaction handlers (see the facts file, "Races").
BOT_TASK_PREFIXES: tuple[str, ...] = (
    "CommandTree-invoker",
    "discord-ui-view-dispatch-",
    "discord-ui-modal-dispatch-",
    "discord-ui-dynamic-item-",
)


def pending_bot_tasks(prefixes: tuple[str, ...] = BOT_TASK_PREFIXES) -> list[asyncio.Task[object]]:
    """Return the unfinished interaction-handler tasks of the running loop."""
    current = asyncio.current_task()
    return [
        t
        for t in asyncio.all_tasks()
        if t is not current and not t.done() and t.get_name().startswith(prefixes)
    ]


async def wait_for_bot_tasks(
    timeout: float = 5.0,  # noqa: ASYNC109
    prefixes: tuple[str, ...] = BOT_TASK_PREFIXES,
) -> None:
    """Wait until discord.py's interaction-handler tasks finished (AssertionError on timeout).

    Only tasks that already exist are awaited: first wait for something that proves the bot
    received the interaction (a callback, a request), then call this.
    """
    deadline = time.monotonic() + timeout
    while tasks := pending_bot_tasks(prefixes):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            names = sorted(t.get_name() for t in tasks)
            msg = f"bot handler tasks still running after {timeout:.1f}s: {names}"
            raise AssertionError(msg)
        await asyncio.wait(tasks, timeout=remaining)
