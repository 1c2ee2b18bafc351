"""The app tunes the garbage collector once it has started (see ``bot.sdk.gc_tuning``)."""

from __future__ import annotations

import gc

from bot.sdk.gc_tuning import GEN0_THRESHOLD, tune_gc
from tests._common.harness import BotClient


async def test_started_app_has_frozen_its_startup_objects(bot: BotClient) -> None:
    assert gc.get_freeze_count() > 0
    assert gc.get_threshold()[0] == GEN0_THRESHOLD


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
