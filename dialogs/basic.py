"""Menu, help and language: the actions every user has."""

from __future__ import annotations

from typing import Any

from cards.help import help_card, language_card
from dialogs.actions import ActionResult, Menu, Phrases, action
from dialogs.turn import Turn
from services.i18n import LOCALES, Translator, normalize_locale


@action("help", shared=True, phrases=Phrases(
    en_US=("help", "menu", "start"), zh_CN=("帮助", "菜单"), zh_TW=("幫助", "說明", "選單", "功能表")))
async def show_help(turn: Turn, data: dict[str, Any]) -> ActionResult:
    return ActionResult(help_card(turn.person, turn.t, turn.workflows.menu_for(turn.person)))


@action("language", shared=True, menu=Menu("menu.language", 140), phrases=Phrases(
    en_US=("language", "lang"), zh_CN=("语言", "切换语言"), zh_TW=("語言", "切換語言")))
async def choose_language(turn: Turn, data: dict[str, Any]) -> ActionResult:
    wanted = normalize_locale(str(data.get("argument") or ""))
    if wanted:
        return await set_language(turn, {"locale": wanted})
    return ActionResult(language_card(turn.locale, turn.t))


@action("set_language", shared=True)
async def set_language(turn: Turn, data: dict[str, Any]) -> ActionResult:
    locale = normalize_locale(str(data.get("locale") or ""))
    if locale not in LOCALES:
        return ActionResult(language_card(turn.locale, turn.t), (turn.t("language.unknown"),))
    await turn.conversations.set_preference(turn.person.id, language=locale)
    turn.locale, turn.t = locale, Translator(locale, timezone=turn.t.timezone)
    card = language_card(locale, turn.t)
    return ActionResult(card, (turn.t("language.changed"),))
