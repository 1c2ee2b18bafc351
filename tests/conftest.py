"""Shared fixtures: a fake connector on loopback and the real bot app serving HTTP on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests._common.fake_connector import FakeConnector
from tests._common.harness import BotClient, bot_settings, running_bot


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
    async with running_bot(bot_settings(data_dir), connector) as client:
        yield client

#: the session's throw-away PostgreSQL server (``pg_cluster``), started only by tests that use it
pytest_plugins = ["tests._common.postgres"]
