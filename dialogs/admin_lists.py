"""The Benefits overview and the Software, Cloud, Visual Studio and Technical lists (admins only).

``list_go_to_market`` belongs to the go-to-market workflow; the overview links to it when that
verb is registered.
"""

from __future__ import annotations

from typing import Any

from dialogs.actions import ActionResult, action
from dialogs.admin_view import page_of, render_list, render_overview
from dialogs.turn import Turn
from domain.models import Category


@action("overview")
async def overview(turn: Turn, data: dict[str, Any]) -> ActionResult:
    return ActionResult(render_overview(turn))


@action("list_software")
async def list_software(turn: Turn, data: dict[str, Any]) -> ActionResult:
    return ActionResult(render_list(turn, Category.SOFTWARE, page_of(data)))


@action("list_cloud")
async def list_cloud(turn: Turn, data: dict[str, Any]) -> ActionResult:
    return ActionResult(render_list(turn, Category.CLOUD, page_of(data)))


@action("list_visual_studio")
async def list_visual_studio(turn: Turn, data: dict[str, Any]) -> ActionResult:
    return ActionResult(render_list(turn, Category.VISUAL_STUDIO, page_of(data)))


@action("list_technical")
async def list_technical(turn: Turn, data: dict[str, Any]) -> ActionResult:
    return ActionResult(render_list(turn, Category.TECHNICAL, page_of(data)))
