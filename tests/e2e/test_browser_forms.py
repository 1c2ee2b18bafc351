"""Refused forms in headless Chromium: what the person typed or chose is still there, the reason next to it."""

from __future__ import annotations

import pytest

from tests.e2e.journey import CARDS, Journey

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


#: seconds per step: these journeys wait on the bot's answers while other browsers may share the machine
JOURNEY_TIMEOUT = 45.0


async def test_a_refused_marketing_contact_keeps_the_user(journey: Journey) -> None:
    await journey.open()
    await journey.say("marketing contact")
    await journey.expect_card("Marketing contact", step="contact form")
    await journey.pick("Megan Bowen", typed="Megan")
    await journey.fill("Alternate email", "meganb@contoso.com")  # her company address: refused
    await journey.fill("Contact phone", "+1 425 555 0100")
    await journey.screenshot("contact form filled")
    await journey.click("Assign user")
    await journey.expect_card("different from", step="refused")
    await journey.screenshot("refused form")
    card = journey.p.locator(CARDS).last
    assert await card.get_by_role("combobox", name="User").input_value() == "Megan Bowen (meganb@contoso.com)"
    assert await card.get_by_label("Alternate email").input_value() == "meganb@contoso.com"
    assert await card.get_by_label("Contact phone").input_value() == "+1 425 555 0100"


async def test_a_refused_technical_assignment_keeps_the_user_and_the_email(journey: Journey) -> None:
    await journey.open()
    await journey.say("technical")
    await journey.expect_card("Product support incidents")
    await journey.click("Details: Product support incidents")
    await journey.click("Assign user: Product support incidents")
    await journey.pick("Diego Siciliani")
    await journey.fill("Alternate email address", "diegos@contoso.com")  # his company address: refused
    await journey.screenshot("assignment typed")
    await journey.click("Assign user")
    await journey.expect_card("Assign Product support incidents", step="refused assignment")
    card = journey.p.locator(CARDS).last
    assert await card.get_by_role("combobox", name="User").input_value() == "Diego Siciliani (diegos@contoso.com)"
    assert await card.get_by_label("Alternate email address").input_value() == "diegos@contoso.com"
    assert await card.get_by_text("diegos@contoso.com is that address").count() == 1  # under the field
