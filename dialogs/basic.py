"""Menu, help and language: the actions every user has."""

from __future__ import annotations

from dataclasses import dataclass

from cards.help import help_card, language_card
from dialogs import payloads
from dialogs.actions import ActionResult, Menu, Phrases, action
from dialogs.payloads import NoData
from dialogs.turn import Turn
from services.i18n import LOCALES, Translator, normalize_locale


@action("help", payload=NoData, shared=True, phrases=Phrases(
    en_US=("help", "menu", "start"), zh_CN=("帮助", "菜单"), zh_TW=("幫助", "說明", "選單", "功能表")))
async def show_help(turn: Turn, _: NoData) -> ActionResult:
    return ActionResult(help_card(turn.person, turn.t, turn.workflows.menu_for(turn.person)))


@dataclass(frozen=True)
class LanguageCommand:
    """``language zh-TW``: the language typed after the command, if any."""

    argument: str = payloads.text("language", 40)


@action("language", shared=True, payload=LanguageCommand, menu=Menu("menu.language", 140), phrases=Phrases(
    en_US=("language", "lang"), zh_CN=("语言", "切换语言"), zh_TW=("語言", "切換語言")))
async def choose_language(turn: Turn, typed: LanguageCommand) -> ActionResult:
    wanted = normalize_locale(typed.argument)
    if wanted:
        return await set_language(turn, LanguageClick(wanted))
    return ActionResult(language_card(turn.locale, turn.t))


@dataclass(frozen=True)
class LanguageClick:
    locale: str = payloads.text("language", 40)


@action("set_language", shared=True, payload=LanguageClick)
async def set_language(turn: Turn, click: LanguageClick) -> ActionResult:
    locale = normalize_locale(click.locale)
    if locale not in LOCALES:
        return ActionResult(language_card(turn.locale, turn.t), (turn.t("language.unknown"),))
    await turn.conversations.set_preference(turn.person.id, language=locale)
    turn.locale, turn.t = locale, Translator(locale, timezone=turn.t.timezone)
    card = language_card(locale, turn.t)
    return ActionResult(card, (turn.t("language.changed"),))
