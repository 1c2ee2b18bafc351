"""Garbage-collector settings for a long-running bot process.

Why: a turn allocates thousands of short-lived dicts (activities, cards, JSON), so CPython's cyclic
collector runs generation-0 passes every few hundred allocations and, now and then, a full pass over
every object the process holds (botbuilder, msrest, aiohttp and the in-memory tables are hundreds of
thousands of objects). Those full passes stall the event loop and show up as tail latency. After
start-up, :func:`tune_gc` moves everything alive into the permanent generation (``gc.freeze``: the
collector no longer scans it) and raises the generation-0 threshold. Nothing is leaked: objects
created later are collected as before, and reference counting frees almost everything anyway.
"""

from __future__ import annotations

import gc
from typing import Any

#: allocations between generation-0 collections (CPython's default is 700)
GEN0_THRESHOLD = 20_000


def tune_gc(*_: Any) -> None:
    """Freeze what start-up built and collect less often; an ``on_startup`` hook of the app."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)


async def tune_gc_on_startup(app: Any) -> None:
    tune_gc()
