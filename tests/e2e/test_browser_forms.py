"""Refused forms in headless Chromium: what the person typed or chose is still there, the reason next to it."""

from __future__ import annotations

import pytest

from tests.e2e.journey import CARDS, Journey

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


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
    box = journey.p.locator(CARDS).last.get_by_role("combobox", name="People Picker")
    await journey.screenshot("refused form")
    print("PICKER", await box.input_value() if await box.count() else None)
    print("CARD", (await journey.p.locator(CARDS).last.inner_text())[:800])
