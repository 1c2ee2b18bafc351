"""In the Playground's group chat, keys and admin cards go to the person's 1:1 chat (no browser)."""

from __future__ import annotations

import pytest

from tests.e2e.playground import Playground, all_text

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_admin_cards_asked_for_in_a_group_chat_arrive_in_the_personal_chat(pg: Playground) -> None:
    await pg.say("software", conversation=pg.group_chat)
    await pg.expect("I've sent it to you privately", conversation=pg.group_chat)
    software = await pg.expect(card="Get keys", conversation=pg.personal_chat)
    assert "Software" in all_text(software.card)
    assert not [m for m in pg.said_since(pg.group_chat) if m.cards]
