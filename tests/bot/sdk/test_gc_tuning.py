"""The app tunes the garbage collector once it serves (see ``bot.sdk.gc_tuning``)."""

from __future__ import annotations

import asyncio
import gc

from bot import keys
from bot.sdk.gc_tuning import GEN0_THRESHOLD, tune_gc
from tests._common.harness import BotClient


async def test_started_app_freezes_its_startup_objects_once_it_serves(bot: BotClient) -> None:
    assert gc.get_threshold()[0] == GEN0_THRESHOLD  # from the start on
    bot.app[keys.SERVING].set()  # what ``python -m bot serve`` says once it listens
    for _ in range(500):
        if gc.get_freeze_count() > 0:
            break
        await asyncio.sleep(0.01)
    assert gc.get_freeze_count() > 0


def test_objects_made_after_tuning_are_still_collected() -> None:
    tune_gc()
    collected: list[str] = []

    class Cycle:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            collected.append("gone")

    Cycle()
    gc.collect()
    assert collected == ["gone"]
