"""Admins mark pending benefits activated from chat, and see which notifications did not arrive.

``activate`` lists what waits for activation (offers pending, seats pending) with an Expires date
input each; ``mark_activated`` calls ``BenefitsService.mark_activated`` as ``turn.person`` (the
service refuses anyone who is not an admin, whatever the card says), which notifies the people
concerned through the outbox. ``notifications`` shows the outbox: pending, delivered, and who could
not be reached and why.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from cards.notifications import PendingRow, activate_card, notifications_card
from cards.paging import Page, clamp
from dialogs import payloads
from dialogs.actions import ADMINS, ActionResult, Menu, Phrases, action
from dialogs.payloads import PageClick
from dialogs.turn import Turn
from domain import rules
from domain.models import Status
from services.notifications import Outbox

#: Rows a page of pending activations shows (each has a date input and a button).
ACTIVATE_PAGE = 10
#: Undelivered notifications a page shows.
PROBLEMS_PAGE = 15


def pending_rows(turn: Turn) -> list[PendingRow]:
    repo = turn.service.repo
    rows: list[PendingRow] = []
    for benefit in repo.benefits():
        if benefit.status is Status.CANCELLED:
            continue
        if benefit.status is Status.PENDING_ACTIVATION:
            rows.append(PendingRow(benefit.id, turn.t.label(benefit), "",
                                   benefit.status.value, benefit.expires_on))
        for a in repo.assignments_of_benefit(benefit.id):
            if a.is_current and a.status is Status.PENDING_ACTIVATION:  # named on the page that shows it
                rows.append(PendingRow(a.id, turn.t.label(benefit), a.person_id, a.status.value,
                                       a.expires_on or benefit.expires_on))
    return rows


def pending_page(turn: Turn, asked: int) -> Page[PendingRow]:
    """The page of pending activations the click asked for; only its assignees are looked up."""
    rows = pending_rows(turn)
    number = clamp(asked, len(rows), ACTIVATE_PAGE)
    shown = rows[number * ACTIVATE_PAGE:(number + 1) * ACTIVATE_PAGE]
    names = turn.service.repo.names_of(r.assignee for r in shown if r.assignee)
    shown = [replace(r, assignee=names.get(r.assignee, r.assignee)) if r.assignee else r for r in shown]
    return Page(shown, len(rows), number, size=ACTIVATE_PAGE)


@action("activate", roles=ADMINS, payload=PageClick, menu=Menu("menu.activate", 120), phrases=Phrases(
    en_US=("activate", "mark activated"), zh_CN=("激活",), zh_TW=("啟用",)))
async def show_pending(turn: Turn, click: PageClick) -> ActionResult:
    rules.require_admin(turn.person)
    return ActionResult(activate_card(pending_page(turn, click.page), turn.t))


@dataclass(frozen=True)
class ActivationForm:
    """Each pending row holds its own expiry date input, whose id the button carries (``field``)."""

    target: str = payloads.text("benefit", 200)
    field: str = payloads.carried("field")
    expires_on: str = payloads.text("expires_on", 40, key="{field}")
    page: int = payloads.page()


@action("mark_activated", roles=ADMINS, inputs=("{field}",), payload=ActivationForm)
async def mark_activated(turn: Turn, form: ActivationForm) -> ActionResult:
    rules.require_admin(turn.person)
    target = form.target
    raw = form.expires_on.strip() if form.field.startswith("expires_") else ""
    expires: date | None = None
    if raw:
        try:
            expires = date.fromisoformat(raw[:10])
        except ValueError:
            outcome = {"key": "activate.bad_date", "style": "attention", "params": {"value": raw}}
            return ActionResult(activate_card(pending_page(turn, form.page), turn.t, outcome))
    activation = await turn.service.mark_activated(turn.person, target, turn.service.today(), expires)
    name = turn.t.label(activation.benefit)
    if activation.changed:
        outcome = {"key": "activate.done", "params": {"benefit": name, "count": len(activation.recipients)}}
    else:
        outcome = {"key": "activate.already", "style": "default", "params": {"benefit": name}}
    return ActionResult(activate_card(pending_page(turn, form.page), turn.t, outcome))


@action("notifications", roles=ADMINS, payload=PageClick, menu=Menu("menu.notifications", 130), phrases=Phrases(
    en_US=("notifications", "undeliverable"), zh_CN=("通知", "无法送达"), zh_TW=("通知", "無法傳遞")))
async def show_notifications(turn: Turn, click: PageClick) -> ActionResult:
    rules.require_admin(turn.person)
    outbox = Outbox(turn.service.store)
    number = click.page
    docs, total = outbox.problems_page(number * PROBLEMS_PAGE, PROBLEMS_PAGE)
    if not docs and number:  # past the end: the last page
        number = clamp(number, total, PROBLEMS_PAGE)
        docs, total = outbox.problems_page(number * PROBLEMS_PAGE, PROBLEMS_PAGE)
    names = turn.service.repo.names_of(doc["recipient"] for doc in docs)
    problems = [{**doc, "person": names.get(doc["recipient"], doc["recipient"])} for doc in docs]
    return ActionResult(notifications_card(outbox.counts(), Page(problems, total, number, size=PROBLEMS_PAGE),
                                           turn.t))
