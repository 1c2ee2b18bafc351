"""The bot answers before it has read its audit trail (``services.repository.LATER``): ``/readyz`` says the
trail is still being read, and a turn that writes to the trail or shows it meanwhile sees every change."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession, web

from bot import keys
from bot.server import when_serving
from services.repository import INDEXES
from services.storage import open_store
from tests._common.fake_connector import FakeConnector
from tests._common.harness import ALEX, LEE, BotClient, all_text, bot_settings, start_bot

LEE_ID = LEE["aadObjectId"]


def card_of(body: Any) -> dict[str, Any]:
    return body["value"]


async def readyz(session: ClientSession, base: str) -> tuple[int, dict[str, Any]]:
    async with session.get(f"{base}/readyz") as resp:
        return resp.status, await resp.json()


async def assigned_and_compacted(connector: FakeConnector, data_dir: Path) -> None:
    """A bot that has run: a change in its audit trail, and a snapshot with its index file (so that the next
    start leaves the trail for later)."""
    runner, base = await start_bot(bot_settings(data_dir))
    async with ClientSession() as session:
        status, _, _ = await BotClient(base, connector, session).execute(
            ALEX, "assign_user", {"benefit_id": "vs-professional", "person_id": LEE_ID})
        assert status == 200
    await runner.cleanup()
    store = open_store(data_dir / "benefits.json", INDEXES)
    await store.compact()
    await store.close()


async def test_turns_before_the_audit_trail_is_read_see_every_change(connector: FakeConnector,
                                                                     data_dir: Path) -> None:
    await assigned_and_compacted(connector, data_dir)
    runner, base = await start_bot(bot_settings(data_dir))
    try:
        async with ClientSession() as session:
            status, body = await readyz(session, base)
            assert status == 200 and body["status"] == "ready"
            assert body["stores"][0]["loading"] == ["audit"] and "reading audit" in body["stores"][0]["detail"]
            client = BotClient(base, connector, session)
            status, _, _ = await client.execute(ALEX, "assign_user", {"benefit_id": "vs-enterprise",
                                                                      "person_id": LEE_ID})
            assert status == 200
            assert runner.app[keys.DOMAIN_STORE].loading() == ("audit",)  # written before the trail was read
            for benefit in ("vs-professional", "vs-enterprise"):  # assigned before the start, and during it
                _, body, _ = await client.execute(ALEX, "recent_changes", {"subject_id": benefit})
                assert "Lee Gu" in all_text(card_of(body)) and "No changes recorded yet" not in all_text(card_of(body))
            status, body = await readyz(session, base)
            assert status == 200 and body["stores"][0]["loading"] == []
    finally:
        await runner.cleanup()


async def test_the_audit_trail_is_read_after_the_start_without_a_turn(connector: FakeConnector,
                                                                      data_dir: Path) -> None:
    await assigned_and_compacted(connector, data_dir)
    runner, base = await start_bot(bot_settings(data_dir))
    try:
        domain = runner.app[keys.DOMAIN_STORE]
        assert domain.loading() == ("audit",)
        runner.app[keys.SERVING].set()  # what ``python -m bot serve`` says once it listens
        for _ in range(500):
            if not domain.loading():
                break
            await asyncio.sleep(0.01)
        assert domain.loading() == ()
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("turns", range(4))
async def test_waiting_for_the_server_is_cancelled_even_as_it_starts_serving(turns: int) -> None:
    """A stopping app cancels the work waiting for the server; a cancellation that came as the server
    said it listens was swallowed (``asyncio.wait_for`` on 3.11), and the reminder ticks went on: the
    app's cleanup then waited for them forever."""
    app = web.Application()
    app[keys.SERVING] = asyncio.Event()
    waiting = asyncio.create_task(when_serving(app))
    await asyncio.sleep(0)
    app[keys.SERVING].set()
    for _ in range(turns):
        await asyncio.sleep(0)
    if waiting.done():
        return  # it returned before the app stopped: nothing to cancel
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
