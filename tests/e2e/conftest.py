"""Session fixtures of the end-to-end suite: one bot, one Playground and one Chromium for all tests.

Missing tools are installed by ``make test`` (``make node-deps e2e-deps``); when a client still cannot
start, the tests FAIL with the reason: they never skip, so CI cannot turn green without them.
Every test module here marks itself ``e2e`` and runs in the session's event loop::

    pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.e2e.journey import CHROMIUM, CHROMIUM_FLAGS, Journey, Tab
from tests.e2e.playground import Playground
from tests.e2e.stack import Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("e2e")).start()
    yield running
    running.stop()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def playground(stack: Stack) -> AsyncIterator[Playground]:
    pg = await Playground.connect(stack.playground_url)
    yield pg
    await pg.close()


@pytest_asyncio.fixture(loop_scope="session")
async def pg(playground: Playground) -> AsyncIterator[Playground]:
    """The driver, with Alex speaking English again (language is a per-person preference)."""
    await playground.say("language en-US")
    await playground.expect("speak English")  # the confirmation comes after the card
    yield playground


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser(stack: Stack):  # noqa: ANN201 - a playwright Browser
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"{CHROMIUM} is missing: run `make e2e-deps` (Debian chromium + fonts-noto-cjk)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield chromium
        await chromium.close()


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def tab(browser) -> AsyncIterator[Tab]:  # noqa: ANN001 - a playwright Browser
    shared = Tab()
    yield shared
    await shared.close()


@pytest_asyncio.fixture(loop_scope="session")
async def journey(request: pytest.FixtureRequest, browser, stack: Stack, pg: Playground,  # noqa: ANN001
                  tab: Tab) -> AsyncIterator[Journey]:
    """A fresh chat for one journey, in the session's tab (see :class:`Tab`); screenshots go to
    tests/e2e/screenshots/<test name>/. A module
    whose journeys wait long on the bot's answers sets ``JOURNEY_TIMEOUT`` (seconds per step)."""
    trip = Journey(browser, stack.browser_url, request.node.name,
                   timeout=getattr(request.module, "JOURNEY_TIMEOUT", 15.0), tab=tab)
    yield trip
    await trip.close()
