"""Fixtures of the bot tests: the local identity endpoints (Entra, Bot Connector keys, Graph)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._common.fake_identity import FakeIdentity
from tests._common.harness import App, BotClient


@pytest.fixture
def identity() -> Iterator[FakeIdentity]:
    fake = FakeIdentity().start()
    yield fake
    fake.stop()


@pytest.fixture
def app(bot: BotClient) -> App:
    """The shared ``bot`` fixture (real app over HTTP), with its service at hand."""
    return App(bot, bot.service)
