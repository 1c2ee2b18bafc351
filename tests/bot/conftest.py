"""Fixtures of the bot tests: the local identity endpoints (Entra, Bot Connector keys, Graph)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._common.fake_identity import FakeIdentity


@pytest.fixture
def identity() -> Iterator[FakeIdentity]:
    fake = FakeIdentity().start()
    yield fake
    fake.stop()
