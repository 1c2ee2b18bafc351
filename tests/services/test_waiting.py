"""Waiting for an event with a time limit: set, timed out, and cancelled at any moment."""

from __future__ import annotations

import asyncio

import pytest

from services.waiting import wait_set


async def test_set_and_timed_out() -> None:
    event = asyncio.Event()
    assert not await wait_set(event, 0.01)
    asyncio.get_running_loop().call_later(0.01, event.set)
    assert await wait_set(event, 5)


@pytest.mark.parametrize("turns", range(4))
async def test_a_cancellation_as_the_event_is_set_is_not_swallowed(turns: int) -> None:
    """``asyncio.wait_for`` on 3.11 returned instead: a forever loop stopped that way went on."""
    event = asyncio.Event()

    async def forever() -> None:
        while True:
            await wait_set(event, 60)
            event.clear()

    task = asyncio.create_task(forever())
    await asyncio.sleep(0)
    event.set()
    for _ in range(turns):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 5)
