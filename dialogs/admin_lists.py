"""The Benefits overview and the Software, Cloud, Visual Studio and Technical lists (admins only).

``list_go_to_market`` belongs to the go-to-market workflow; the overview links to it when that
verb is registered.
"""

from __future__ import annotations

from typing import Any

from dialogs.actions import ADMINS, ActionHandler, ActionResult, action
from dialogs.admin_view import page_of, render_list, render_overview
from dialogs.turn import Turn
from domain.models import Category


@action("overview", roles=ADMINS)
async def overview(turn: Turn, data: dict[str, Any]) -> ActionResult:
    return ActionResult(render_overview(turn))


#: The lists of the Benefits page this module serves, by verb.
LIST_VERBS: dict[str, Category] = {
    "list_software": Category.SOFTWARE,
    "list_cloud": Category.CLOUD,
    "list_visual_studio": Category.VISUAL_STUDIO,
    "list_technical": Category.TECHNICAL,
}


def _list_action(category: Category) -> ActionHandler:
    async def show_list(turn: Turn, data: dict[str, Any]) -> ActionResult:
        return ActionResult(render_list(turn, category, page_of(data)))

    return show_list


for _verb, _category in LIST_VERBS.items():
    action(_verb, roles=ADMINS)(_list_action(_category))
