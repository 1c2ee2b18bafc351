"""Shared fixtures: a fake connector on loopback and the real bot app serving HTTP on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import ClientSession

from tests._common.fake_connector import FakeConnector
from tests._common.harness import BotClient, bot_settings, start_bot


@pytest.fixture
def connector() -> Iterator[FakeConnector]:
    fake = FakeConnector().start()
    yield fake
    fake.stop()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
async def bot(connector: FakeConnector, data_dir: Path) -> AsyncIterator[BotClient]:
    runner, base = await start_bot(bot_settings(data_dir))
    async with ClientSession() as session:
        yield BotClient(base, connector, session, app=runner.app)
    await runner.cleanup()

#: the session's throw-away PostgreSQL server (``pg_cluster``), started only by tests that use it
pytest_plugins = ["tests._common.postgres"]
