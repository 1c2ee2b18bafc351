"""The connector tests' loopback Bot Connector and connection pool."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bot.sdk.connector import ConnectorPool
from tests.bot.sdk.test_connector import RecordingConnector


@pytest.fixture
def fake() -> Iterator[RecordingConnector]:
    server = RecordingConnector().start()
    yield server
    server.stop()


@pytest.fixture
async def pool() -> AsyncIterator[ConnectorPool]:
    connectors = ConnectorPool()
    await connectors.open()
    yield connectors
    await connectors.close()
