"""The foundation journeys through the Playground's HTTP and WebSocket routes (no browser)."""

from __future__ import annotations

import pytest

from tests.e2e.playground import Playground, all_text
from tests.e2e.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_install_greets_with_the_welcome_card(pg: Playground) -> None:
    await pg.install()
    welcome = await pg.expect(card="Welcome, Alex Wilber!")
    assert "Single sign-on is not configured" in all_text(welcome.card)
    assert {a["title"] for a in welcome.card["actions"]} == {"Show menu", "Language"}


async def test_show_menu_button_answers_with_the_help_card(pg: Playground) -> None:
    await pg.install()
    welcome = await pg.expect(card="Welcome, ")
    card = await pg.click(welcome, "Show menu")
    assert "What I can do for you" in all_text(card)
    assert "Your roles: Global admin" in all_text(card)


async def test_help_by_text_in_the_personal_chat(pg: Playground) -> None:
    await pg.say("help")
    help_card = await pg.expect(card="What I can do for you")
    assert "Language" in all_text(help_card.card)


async def test_group_chat_with_a_mention(pg: Playground) -> None:
    # the Playground speaks as its current user (Alex, a Global admin) whatever "from" says
    await pg.say("help", conversation=pg.group_chat)
    help_card = await pg.expect(card="What I can do for you")
    assert "Your roles: Global admin" in all_text(help_card.card)
    await pg.say("help", conversation=pg.group_chat, mention=False)  # not mentioned: the bot does not hear it
    assert not pg.said_since()


async def test_language_card_buttons_switch_to_simplified_then_traditional_chinese(pg: Playground) -> None:
    await pg.say("language")
    language = await pg.expect(card="Choose your language")
    card = await pg.click(language, "简体中文")
    assert "选择语言" in all_text(card)
    await pg.expect("简体中文")  # the confirmation message
    await pg.say("帮助")
    assert "我能为你做什么" in all_text((await pg.expect(card="我能为你做什么")).card)

    await pg.say("语言")
    language = await pg.expect(card="选择语言")
    card = await pg.click(language, "繁體中文")
    assert "選擇語言" in all_text(card)
    await pg.say("help")
    await pg.expect(card="我能為您做什麼")


async def test_action_submit_fallback_switches_language(pg: Playground) -> None:
    await pg.say("language")
    language = await pg.expect(card="Choose your language")
    await pg.submit(language, {"action": "set_language", "locale": "zh-TW"})
    await pg.expect(card="選擇語言")


async def test_teams_clients_in_chinese_get_chinese_without_a_preference(pg: Playground) -> None:
    lee = {"id": pg.user("Lee Gu"), "name": "Lee Gu"}
    await pg.say_in("zh-CN", "help", conversation=pg.group_chat, sender=lee)
    card = (await pg.expect(card="我能为你做什么")).card
    assert "员工" in all_text(card)
    diego = {"id": pg.user("Diego Siciliani"), "name": "Diego Siciliani"}
    await pg.say_in("zh-TW", "help", conversation=pg.group_chat, sender=diego)
    await pg.expect(card="我能為您做什麼")


async def test_unknown_text_gets_a_suggestion(pg: Playground) -> None:
    await pg.say("hepl")
    reply = await pg.expect("Did you mean **help**")
    assert not reply.cards
    await pg.say("xyzzy plugh")
    await pg.expect("Type **help**")


async def test_preference_is_stored_for_the_person(pg: Playground, stack: Stack) -> None:
    await pg.say("language zh-CN")
    await pg.expect("简体中文")
    # The running bot holds the store; what reached the disk is in its snapshot and journal files.
    on_disk = b"".join(p.read_bytes() for p in stack.data_dir.glob("benefits.g*"))
    assert b'"language": "zh-CN"' in on_disk or b'"language":"zh-CN"' in on_disk
