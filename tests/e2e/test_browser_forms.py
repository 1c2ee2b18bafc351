"""Refused forms in headless Chromium: what the person typed or chose is still there, the reason next to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.e2e.journey import CARDS, Journey
from tests.e2e.playground import Playground
from tests.e2e.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(loop_scope="session")
async def journey(request: pytest.FixtureRequest, browser, stack: Stack, pg: Playground) -> AsyncIterator[Journey]:  # noqa: ANN001
    """The suite's journey with more patience: these journeys wait on the bot's answers while other
    browsers may share the machine."""
    trip = Journey(browser, stack.browser_url, request.node.name, timeout=45.0)
    yield trip
    await trip.close()


async def test_a_refused_marketing_contact_keeps_the_user(journey: Journey) -> None:
    await journey.open()
    await journey.say("go-to-market")
    await journey.expect_card("Go-to-market benefits")
    await journey.click("Add")
    await journey.expect_card("Marketing contact", step="contact form")
    await journey.pick("Megan Bowen", typed="Megan")
    await journey.fill("Alternate email", "meganb@contoso.com")  # her company address: refused
    await journey.fill("Contact phone", "+1 425 555 0100")
    await journey.screenshot("contact form filled")
    await journey.click("Assign user")
    await journey.expect_card("different from", step="refused")
    await journey.screenshot("refused form")
    card = journey.p.locator(CARDS).last
    assert await card.get_by_text("Megan Bowen").count() >= 1  # the User is still chosen
    assert await card.get_by_label("Alternate email").input_value() == "meganb@contoso.com"
    assert await card.get_by_label("Contact phone").input_value() == "+1 425 555 0100"
