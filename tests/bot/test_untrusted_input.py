"""Hostile input over HTTP: look-alike names refused, refusals quoting a short escaped excerpt,
and no message over Teams' size limit (replaced by a localized note, logged)."""

from __future__ import annotations

import json
import logging
from dataclasses import replace

import pytest

from bot.outgoing import MAX_MESSAGE_BYTES
from tests._common.harness import ALEX, BotClient, cards_in, texts_in

LINK = "[x](https://evil.example)"
MESSAGE = "application/vnd.microsoft.activity.message"


def utf16(value: object) -> int:
    return len(json.dumps(value, ensure_ascii=False).encode("utf-16-le"))


@pytest.mark.parametrize(("locale", "says"), [("en-US", "looks too much like"), ("zh-CN", "过于相似"),
                                               ("zh-TW", "過於相似")])
async def test_a_look_alike_of_someone_listed_is_refused(bot: BotClient, locale: str, says: str) -> None:
    bot.locale = locale
    before = len(bot.service.repo.people())
    for name in ("Diego\u200b Siciliani", "Dіego Siciliani", "DIEGO  SICILIANl"):
        status, body, sent = await bot.execute(ALEX, "add_user", {"new_name": name, "new_email": "d2@contoso.com"})
        assert status == 200
        shown = json.dumps([body, sent], ensure_ascii=False)
        assert says in shown and "Diego Siciliani" in shown and "diegos@contoso.com" in shown, shown
    assert len(bot.service.repo.people()) == before
    assert bot.service.repo.person_by_email("d2@contoso.com") is None


async def test_an_added_name_is_stored_normalized(bot: BotClient) -> None:
    status, _, _ = await bot.execute(ALEX, "add_user", {"new_name": "  Pat\u200b\x07  Lee\u202e ",
                                                        "new_email": "pat@contoso.com"})
    assert status == 200
    person = bot.service.repo.person_by_email("pat@contoso.com")
    assert person is not None and person.name == "Pat Lee"


async def test_a_refusal_quotes_a_short_escaped_excerpt(bot: BotClient) -> None:
    pasted = LINK + " is " + "A" * 50_000
    replies = await bot.submit(ALEX, {"action": "add_user", "new_name": "Pat", "new_email": pasted})
    [form] = cards_in(replies)  # the refused form again: what was typed, bounded by the input, as a value
    shown = [b.get("text", "") for b in form["body"] if b.get("type") == "TextBlock"]
    assert not any("evil.example" in line for line in shown)
    [email] = [b for b in form["body"] if b.get("id") == "new_email"]
    assert email["value"] == pasted[:254] and utf16(replies) < 20_000  # the 50 KB paste is not echoed


async def test_a_message_over_the_limit_is_replaced_by_a_localized_note(bot: BotClient,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    office = bot.service.repo.benefit("sw-office")
    assert office is not None
    await bot.service.store.apply([bot.service.repo.put_benefit(replace(office, description="x" * 45_000))])
    replies = await bot.say(ALEX, "software")  # 45,000 ASCII characters: 90 KB in UTF-16
    assert not cards_in(replies)
    [text] = texts_in(replies)
    assert "too large" in text and all(utf16(r) < MAX_MESSAGE_BYTES for r in replies)
    assert any("too large" in r.getMessage() for r in caplog.records)
    status, body, _ = await bot.execute(ALEX, "list_software")  # the card returned to an Action.Execute
    assert status == 200 and body["type"] == MESSAGE and "too large" in body["value"]
    bot.locale = "zh-CN"
    [text] = texts_in(await bot.say(ALEX, "software"))
    assert "太大" in text
    await bot.service.store.apply([bot.service.repo.put_benefit(replace(office, description="y" * 1_000))])
    assert cards_in(await bot.say(ALEX, "software"))
