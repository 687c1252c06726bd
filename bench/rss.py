"""Memory after loading, measured in a fresh process: ``python -m bench.rss APPROACH DATABASE``.

Prints one JSON line: VmRSS after the imports (the interpreter, armsbot and the approach's
libraries), VmRSS after the rows were read from the database and the index built (the rows then
dropped and garbage collected), and the peak (VmHWM), all in KiB.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
from pathlib import Path

from armsbot.storage import KnowledgeBase
from bench.approaches import APPROACHES


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def _rows(database: Path) -> list:
    async with await KnowledgeBase.open(database) as kb:
        return await kb.index_rows()


def main() -> None:
    name, database = sys.argv[1], Path(sys.argv[2])
    approach = APPROACHES[name]()
    gc.collect()
    before = _status("VmRSS")
    rows = asyncio.run(_rows(database))
    approach.build(rows)
    del rows
    gc.collect()
    print(
        json.dumps(
            {"imports_kib": before, "loaded_kib": _status("VmRSS"), "peak_kib": _status("VmHWM")}
        )
    )
    assert approach.index() is not None


if __name__ == "__main__":
    main()
