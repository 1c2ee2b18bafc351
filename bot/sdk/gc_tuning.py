"""Garbage-collector settings for a long-running bot process.

Why: CPython's cyclic collector counts container objects allocated since its last pass, less those
freed meanwhile; past 700 it runs a generation-0 pass, and every so often a full pass over every
object the process holds (botbuilder, msrest, aiohttp and the in-memory tables are hundreds of
thousands of objects). Under load, 50 turns in flight keep thousands of objects alive at any moment,
so passes kept coming, and the full ones stalled the event loop. After start-up, :func:`tune_gc`
moves everything alive into the permanent generation (``gc.freeze``: the collector no longer scans
it) and raises the generation-0 threshold. Nothing is leaked: objects created later are still
collected. A turn must also leave no reference cycle behind (see
``bot.sdk.turn_context.FastCopyTurnContext``): cyclic garbage survives until a pass finds it, and keeps
the count, and the passes, growing.
"""

from __future__ import annotations

import gc
from typing import Any

#: allocations between generation-0 collections (CPython's default is 700)
GEN0_THRESHOLD = 20_000


def tune_gc(*_: Any) -> None:
    """Freeze what start-up built and collect less often; the app runs it once the bot answers and the
    tables left for after the start are read (one pass over everything: no turn waits for it at start)."""
    gc.collect()
    gc.freeze()
    collect_less_often()


def collect_less_often() -> None:
    """Raise the generation-0 threshold only: from the start on, until :func:`tune_gc` runs once the
    start's work is done (the tables read after the start included)."""
    _gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)


async def collect_less_often_on_startup(app: Any) -> None:
    collect_less_often()
