"""The overview, the lists and *my benefits* in 简体中文 and 繁體中文, as Chromium renders them.

The Playground always sends en-US, so the journey switches language with the bot's language
command, as a person would. What the rendered cards show (their inner text: hidden details
excluded, expanded ones included) must hold no English UI word (``tests/_common/english.py``), and
each card is kept as a screenshot (``tests/e2e/screenshots/<test>/card-*.png``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests._common.english import english_words
from tests.e2e.journey import CARDS, Journey
from tests.e2e.playground import Playground
from tests.e2e.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

#: The demo directory and organization: names are not words to translate.
NAMES = ("Alex Wilber", "Megan Bowen", "Lee Gu", "Nestor Wilke", "Isaiah Langer", "Diego Siciliani", "Contoso")

#: Per language: the button that picks it, then the commands and a text each card must show.
VIEWS = {
    "zh-CN": ("简体中文", "选择语言", [
        ("云服务", "云", "将我自己指定为用户", "Azure 每月额度"),
        ("权益概览", "权益概览", None, "市场投放权益"),
        ("软件", "软件", None, "Windows Server 2025 标准版"),
        ("技术权益", "技术权益", None, "Microsoft 产品支持事件"),
        ("visual studio 订阅", "Visual Studio 订阅", None, "Visual Studio 企业版订阅"),
        ("市场投放权益", "市场投放权益", None, "金级核心"),
        ("我的权益", "我的权益", None, "Azure 每月额度"),
    ]),
    "zh-TW": ("繁體中文", "選擇語言", [
        ("權益概覽", "權益概覽", None, "進入市場供應項目"),
        ("軟體", "軟體", None, "Windows Server 2025 標準版"),
        ("雲端服務", "雲端", None, "Dynamics 365 Sales 企業版"),
        ("技術權益", "技術權益", None, "合作夥伴諮詢時數"),
        ("visual studio 訂閱", "Visual Studio 訂閱", None, "Visual Studio 專業版訂閱"),
        ("進入市場供應項目", "進入市場", None, "ISV 為共同銷售做好準備"),
        ("我的權益", "我的權益", None, "Azure 每月點數"),
    ]),
}


async def _english_on_screen(journey: Journey) -> dict[str, list[str]]:
    """English words in the latest card as rendered (its inner text)."""
    shown = await journey.p.locator(CARDS).last.inner_text()
    found = {line: english_words(line, NAMES) for line in shown.splitlines()}
    return {line: words for line, words in found.items() if words}


async def _expand_every_row(journey: Journey) -> None:
    """Open each row's details (the ⌄ at the far right), as a person reading the whole list would."""
    toggles = journey.p.locator(CARDS).last.locator("img[role=button]")
    for n in range(await toggles.count()):
        await toggles.nth(n).click()


#: Seconds per step: the page and Chromium share two cores with everything else on a CI machine.
PATIENCE = 60.0


@pytest.fixture(scope="module")
def views_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A bot of their own: these views take the Azure credit for Alex, which the session's journeys
    expect to find free."""
    running = Stack(tmp_path_factory.mktemp("chinese-views")).start()
    yield running
    running.stop()


@pytest.mark.parametrize("locale", list(VIEWS))
async def test_the_views_in_chinese_show_no_english(browser, views_stack: Stack,  # noqa: ANN001
                                                   locale: str) -> None:
    pg = await Playground.connect(views_stack.playground_url)
    try:  # Alex starts in English (the language is his preference, kept from the previous run)
        await pg.say("language en-US")
        await pg.expect("speak English")
    finally:
        await pg.close()
    journey = Journey(browser, views_stack.browser_url, f"chinese_views_{locale}", timeout=PATIENCE)
    try:
        await _views(journey, locale)
    finally:
        await journey.close()


async def _views(journey: Journey, locale: str) -> None:
    language_button, language_title, views = VIEWS[locale]
    await journey.open()
    await journey.say("language")
    await journey.expect_card("Choose your language")
    await journey.click(language_button)
    await journey.expect_card(language_title)
    problems: dict[str, dict[str, list[str]]] = {}
    for command, title, click, expected in views:
        await journey.say(command)
        await journey.expect_card(title, step=f"{command}")
        await _expand_every_row(journey)
        if click is not None:  # Alex takes the Azure credit, so that "my benefits" has something to show
            await journey.click(click)
            await journey.expect_card(expected)
        card = journey.p.locator(CARDS).last
        assert expected in await card.inner_text(), (command, expected)
        await card.screenshot(path=str(journey.folder / f"card-{locale}-{command.replace(' ', '_')}.png"))
        english = await _english_on_screen(journey)
        if english:
            problems[command] = english
    assert not problems, problems
