"""A hostile name, as the Playground's own markdown renderer shows it in headless Chromium: the
characters as typed, and no link, image or bold text made of them."""

from __future__ import annotations

import pytest

from tests.e2e.journey import CARDS, Journey
from tests.e2e.playground import Playground

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

NAME = "[Reset your password](https://evil.example/login) <img src=x onerror=alert(1)> **loud**"


async def test_a_hostile_name_renders_as_typed(journey: Journey, pg: Playground) -> None:
    await pg.say("users")
    users = await pg.expect(card="Users and permissions")
    await pg.execute(users, "add_user", {"new_name": NAME, "new_email": "hostile.name@contoso.com"})

    await journey.open()
    await journey.say("users")
    await journey.expect_card(NAME, step="users card shows the name as typed")
    cards = journey.p.locator(CARDS)
    assert await cards.locator("a[href*='evil.example']").count() == 0
    assert await cards.locator("img[src='x']").count() == 0
    assert await cards.locator("strong", has_text="loud").count() == 0
