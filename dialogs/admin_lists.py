"""The Benefits overview and the Software, Cloud, Visual Studio and Technical lists (admins only).

``list_go_to_market`` belongs to the go-to-market workflow; the overview links to it when that
verb is registered.
"""

from __future__ import annotations

from dataclasses import dataclass

from cards.benefit_list import ASSIGNEES_PAGE, ListView, assignees_card
from cards.paging import Page, clamp
from dialogs import payloads
from dialogs.actions import ADMINS, ActionHandler, ActionResult, Menu, Phrases, action
from dialogs.admin_view import new_nonce, render_list, render_overview
from dialogs.paging import SearchClick, asked, search_inputs
from dialogs.payloads import NoData, PageClick
from dialogs.turn import Turn
from domain.models import Category
from services.repository import matches


@action("overview", payload=NoData, roles=ADMINS, menu=Menu("menu.overview", 30), phrases=Phrases(
    en_US=("overview", "benefits", "benefits overview"), zh_CN=("权益", "权益概览"), zh_TW=("權益", "權益概覽")))
async def overview(turn: Turn, _: NoData) -> ActionResult:
    return ActionResult(render_overview(turn))


def _list_action(category: Category) -> ActionHandler:
    async def show_list(turn: Turn, click: PageClick) -> ActionResult:
        return ActionResult(render_list(turn, category, click.page))

    return show_list


list_software = action(
    "list_software", roles=ADMINS, payload=PageClick, menu=Menu("menu.software", 40),
    phrases=Phrases(en_US=("software", "keys", "get keys"), zh_CN=("软件", "获取密钥"), zh_TW=("軟體", "取得金鑰")),
)(_list_action(Category.SOFTWARE))
list_cloud = action(
    "list_cloud", roles=ADMINS, payload=PageClick, menu=Menu("menu.cloud", 50),
    phrases=Phrases(en_US=("cloud", "azure"), zh_CN=("云", "云服务"), zh_TW=("雲端", "雲端服務")),
)(_list_action(Category.CLOUD))
list_visual_studio = action(
    "list_visual_studio", roles=ADMINS, payload=PageClick, menu=Menu("menu.visual_studio", 60),
    phrases=Phrases(en_US=("visual studio", "vs", "visual studio subscriptions"), zh_CN=("visual studio 订阅",),
                    zh_TW=("visual studio 訂閱",)),
)(_list_action(Category.VISUAL_STUDIO))
list_technical = action(
    "list_technical", roles=ADMINS, payload=PageClick, menu=Menu("menu.technical", 70),
    phrases=Phrases(en_US=("technical", "technical benefits", "support"), zh_CN=("技术权益", "技术"),
                    zh_TW=("技術權益", "技術")),
)(_list_action(Category.TECHNICAL))


@dataclass(frozen=True)
class AssigneesClick(SearchClick):
    benefit_id: str = payloads.text("benefit", 200)
    #: the page of the benefits' list to go back to
    list_page: int = payloads.page("list_page")


@action("assignees", roles=ADMINS, inputs=search_inputs, payload=AssigneesClick)
async def assignees(turn: Turn, click: AssigneesClick) -> ActionResult:
    """A page of one benefit's assignees, or of those whose name or email a search finds."""
    service = turn.service
    benefit, held = service.assignees(turn.person, click.benefit_id)
    number, query = asked(click)
    people = {p.id: p for p in service.repo.people_by_ids(a.person_id for a in held)} if query else {}
    if query:
        held = [a for a in held if a.person_id in people and matches(people[a.person_id], query)]
    number = clamp(number, len(held), ASSIGNEES_PAGE)
    shown = held[number * ASSIGNEES_PAGE:(number + 1) * ASSIGNEES_PAGE]
    if not query:
        people = {p.id: p for p in service.repo.people_by_ids(a.person_id for a in shown)}
    package = service.repo.package(benefit.package_id)
    view = ListView(category=benefit.category, rows=[], actor=turn.person, today=service.today(), people=people,
                    packages={package.id: package} if package else {}, page=click.list_page,
                    nonce=new_nonce(), allowed=turn.workflows.allowed_verbs(turn.person))
    return ActionResult(assignees_card(view, benefit, Page(shown, len(held), number, query, ASSIGNEES_PAGE), turn.t))
