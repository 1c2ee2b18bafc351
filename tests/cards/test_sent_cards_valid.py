"""Every card the bot actually sends in a full session, in each language, passes the official schema and parser."""

from __future__ import annotations

from typing import Any

import pytest

from tests._common.card_validation import assert_valid_cards
from tests._common.harness import ALEX, LEE, MEGAN, BotClient, cards_in

ADMIN_SCRIPT = ["help", "overview", "software", "cloud", "visual studio", "technical", "go-to-market",
                "marketing contact", "cancel", "users", "requests", "my benefits", "language", "changes sw-office"]
ADMIN_CLICKS: list[tuple[str, dict[str, Any]]] = [
    ("reveal_keys", {"benefit_id": "sw-office", "language": "English", "os": "64-bit"}),
    ("assign_user", {"benefit_id": "vs-enterprise", "person_id": "00000000-0000-0000-0000-0000000000a3"}),
    ("request_assistance", {"benefit_id": "tech-advisory"}),
    ("cancel_package", {"package_id": "pkg-gold-cloud"}),
]
EMPLOYEE_SCRIPT = ["help", "my benefits", "request", "overview"]


@pytest.mark.parametrize("locale", ["en-US", "zh-CN", "zh-TW"])
async def test_every_card_sent_in_a_session_is_valid(bot: BotClient, locale: str) -> None:
    bot.locale = locale
    cards: list[dict[str, Any]] = []
    await bot.post(bot.activity(ALEX, type="installationUpdate", action="add"))
    for text in ADMIN_SCRIPT:
        cards += cards_in(await bot.say(ALEX, text))
    for verb, data in ADMIN_CLICKS:
        status, body, sent = await bot.execute(ALEX, verb, data)
        assert status == 200
        if isinstance(body, dict) and body.get("type") == "application/vnd.microsoft.card.adaptive":
            cards.append(body["value"])
        cards += cards_in(sent)
    for text in EMPLOYEE_SCRIPT:
        cards += cards_in(await bot.say(LEE, text))
    cards += cards_in(await bot.say(MEGAN, "go-to-market"))
    assert len(cards) >= 20
    assert_valid_cards(cards)
