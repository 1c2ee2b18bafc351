"""The foundation journeys in headless Chromium, as a person clicks them (screenshots per step)."""

from __future__ import annotations

import pytest

from tests.e2e.journey import Journey

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]


async def test_open_the_bot_and_show_the_menu(journey: Journey) -> None:
    await journey.open()
    await journey.expect_card("Welcome, Alex Wilber!")
    await journey.click("Show menu")
    await journey.expect_card("What I can do for you")
    await journey.expect_card("Your roles: Global admin", step="roles")


async def test_help_by_text(journey: Journey) -> None:
    await journey.open()
    await journey.say("help")
    await journey.expect_card("What I can do for you")


async def test_switch_to_simplified_chinese_with_the_language_card(journey: Journey) -> None:
    await journey.open()
    await journey.click("Language")
    await journey.expect_card("Choose your language")
    await journey.click("简体中文")
    await journey.expect_card("选择语言")
    await journey.say("帮助")
    await journey.expect_card("我能为你做什么")


async def test_switch_to_traditional_chinese_with_the_language_card(journey: Journey) -> None:
    await journey.open()
    await journey.say("language")
    await journey.expect_card("Choose your language")
    await journey.click("繁體中文")
    await journey.expect_card("選擇語言")
    await journey.say("help")
    await journey.expect_card("我能為您做什麼")


async def test_unknown_text_gets_a_suggestion(journey: Journey) -> None:
    await journey.open()
    await journey.say("hepl")
    await journey.expect_text("Did you mean")
