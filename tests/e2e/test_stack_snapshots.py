"""The walk puts the bot's data back with ``Stack.snapshot``/``Stack.restore``: a restored bot answers
on the same port with the data of the snapshot, not what happened after it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import ClientSession, TCPConnector

from tests._common.fake_connector import FakeConnector
from tests._common.harness import ALEX, BotClient, all_text, cards_in
from tests.e2e.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture
def bot_only(tmp_path: Path) -> Iterator[Stack]:
    """The stack's bot process alone (no Playground: the replies go to a connector on loopback)."""
    stack = Stack(tmp_path)
    stack._start_bot()
    yield stack
    stack.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def client(bot_only: Stack) -> AsyncIterator[BotClient]:
    connector = FakeConnector().start()
    # one connection a request: the restored bot is a new process (a kept-alive socket died with the old)
    async with ClientSession(connector=TCPConnector(force_close=True)) as session:
        yield BotClient(f"http://127.0.0.1:{bot_only.bot_port}", connector, session)
    connector.stop()


async def _menu(client: BotClient) -> str:
    return " ".join(all_text(c) for c in cards_in(await client.say(ALEX, "help")))


async def test_a_restored_bot_answers_on_the_same_port_with_the_data_of_the_snapshot(
        bot_only: Stack, client: BotClient) -> None:
    assert "What I can do for you" in await _menu(client)
    before = bot_only.snapshot()
    assert bot_only.snapshot() == before, "a snapshot of unchanged data is the same snapshot"
    await client.say(ALEX, "language zh-CN")
    assert "What I can do for you" not in await _menu(client)
    assert bot_only.snapshot() != before, "a change of the data is a new snapshot"
    port = bot_only.bot_port

    bot_only.restore(before)

    assert bot_only.bot_port == port
    assert "What I can do for you" in await _menu(client), "the restored bot speaks English again"
