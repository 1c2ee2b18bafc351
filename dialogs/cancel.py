"""Cancel a benefit package for a refund, through a service request, after a confirmation step.

The admin files the service request in Partner Center (no API exists for it): confirming prepares
it (the details Partner Center needs, ready to copy) and the package stays as it is until the admin
records that Microsoft cancelled it (``dialogs.requests``).

The list is for admins (it shows purchases); cancelling needs the Global admin, checked by the
service. A refused cancellation names every failing condition (``RuleViolations``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cards.cancel import cancel_list_card, confirm_card
from dialogs import payloads
from dialogs.actions import GLOBAL_ADMINS, ActionResult, Menu, Phrases, action
from dialogs.payloads import NoData
from dialogs.requests import service_request_page
from dialogs.turn import Turn
from domain import rules
from domain.errors import RuleViolation, RuleViolations
from domain.models import ServiceRequest


def _checks(turn: Turn) -> list[Any]:
    return [turn.service.refund_check(turn.person, p.id) for p in turn.service.repo.packages()]


def _open(turn: Turn) -> dict[str, ServiceRequest]:
    found = (turn.service.open_cancellation(p.id) for p in turn.service.repo.packages())
    return {r.package_id: r for r in found if r is not None}


@action("cancel_start", payload=NoData, roles=GLOBAL_ADMINS, menu=Menu("menu.cancel", 100), phrases=Phrases(
    en_US=("cancel", "refund", "cancel a benefit"), zh_CN=("取消", "退款", "取消权益"),
    zh_TW=("取消", "退款", "取消權益")))
async def cancel_start(turn: Turn, _: NoData) -> ActionResult:
    rules.require_admin(turn.person)
    return ActionResult(cancel_list_card(turn.t, _checks(turn), open_requests=_open(turn)))


@dataclass(frozen=True)
class CancelClick:
    package_id: str = payloads.text("package", 200)
    confirm: str = payloads.carried("confirm")


@action("cancel_package", roles=GLOBAL_ADMINS, payload=CancelClick)
async def cancel_package(turn: Turn, click: CancelClick) -> ActionResult:
    rules.require_can_assign_benefits(turn.person)
    package_id = click.package_id
    package, failures = turn.service.refund_check(turn.person, package_id)
    open_request = turn.service.open_cancellation(package.id)
    if open_request is not None:  # already prepared (a second click, another admin): that request
        return service_request_page(turn, open_request)
    if failures:  # stale card or forged click: the reasons, and the list as it is now
        if len(failures) == 1:
            raise failures[0]
        raise RuleViolations(failures)
    if click.confirm != "yes":
        names = [turn.t.label(b) for b in turn.service.repo.benefits_of_package(package.id)]
        return ActionResult(confirm_card(turn.t, package, sorted(names)))
    try:
        request = await turn.service.prepare_cancellation(turn.person, package.id, op_key=turn.op_key)
    except RuleViolation as violation:
        if turn.workflows.is_role_refusal(violation.code):
            raise
        messages = [turn.t(v.code, **v.params) for v in getattr(violation, "violations", [violation])]
        return ActionResult(cancel_list_card(turn.t, _checks(turn), open_requests=_open(turn)), tuple(messages))
    return service_request_page(turn, request, {"key": "requests.sr_prepared_notice", "style": "accent"})
