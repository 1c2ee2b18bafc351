"""My benefits: any user sees their own holdings, never anyone else's and never keys."""

from __future__ import annotations

from cards.mine import my_benefits_card
from cards.paging import Page, clamp
from dialogs.actions import ActionResult, Menu, Phrases, action
from dialogs.payloads import PageClick
from dialogs.turn import Turn

#: Holdings a page shows (each says how to start using it).
MINE_PAGE = 10


@action("my_benefits", payload=PageClick, menu=Menu("menu.my_benefits", 10), phrases=Phrases(
    en_US=("my benefits", "mine", "what do i have"), zh_CN=("我的权益",), zh_TW=("我的權益",)))
async def my_benefits(turn: Turn, click: PageClick) -> ActionResult:
    holdings = turn.service.holdings(turn.person)
    number = clamp(click.page, len(holdings), MINE_PAGE)
    shown = holdings[number * MINE_PAGE:(number + 1) * MINE_PAGE]
    return ActionResult(my_benefits_card(turn.t, turn.person.name,
                                         Page(shown, len(holdings), number, size=MINE_PAGE)))
