"""Waiting for an event with a time limit, cancellable at any moment.

Why not ``asyncio.wait_for(event.wait(), timeout)``: on Python 3.11 it swallows a cancellation that
arrives as the event is set (it returns the event's result instead), so a task stopped that way goes on;
a forever loop (the notification worker, the reminder ticks) then never ends, and whoever stops it waits
forever.
"""

from __future__ import annotations

import asyncio


async def wait_set(event: asyncio.Event, seconds: float) -> bool:
    """Whether ``event`` was set within ``seconds``; a cancellation always propagates."""
    if event.is_set():
        return True
    waiting = asyncio.ensure_future(event.wait())
    try:
        await asyncio.wait({waiting}, timeout=seconds)
    finally:
        waiting.cancel()
    return event.is_set()
