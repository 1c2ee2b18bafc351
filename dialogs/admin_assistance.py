"""Request technical assistance with advisory hours or presales: the bot prepares what Partner
Center's request form needs; the admin files it there and records the number it gives."""

from __future__ import annotations

from dataclasses import dataclass

from cards.assistance import assistance_form
from dialogs import payloads
from dialogs.actions import ADMINS, ActionResult, action
from dialogs.admin_view import new_nonce, refusal, render_list
from dialogs.requests import service_request_page
from dialogs.turn import Turn
from domain import errors, rules
from domain.errors import RuleViolation
from domain.models import Category


@dataclass(frozen=True)
class AssistanceClick:
    benefit_id: str = payloads.text("benefit", 200)
    page: int = payloads.page()


@action("request_assistance", roles=ADMINS, payload=AssistanceClick)
async def request_assistance(turn: Turn, click: AssistanceClick) -> ActionResult:
    rules.require_admin(turn.person)
    benefit_id = click.benefit_id
    benefit = turn.service.repo.benefit(benefit_id)
    if benefit is None or not rules.accepts_assistance_requests(benefit):
        violation = RuleViolation(errors.UNKNOWN_BENEFIT, id=benefit_id) if benefit is None else RuleViolation(
            errors.WRONG_KIND, benefit=benefit)
        return ActionResult(render_list(turn, Category.TECHNICAL, click.page, refusal(turn, violation)))
    return ActionResult(assistance_form(benefit, turn.t, new_nonce(), click.page))


@dataclass(frozen=True)
class AssistanceForm:
    benefit_id: str = payloads.text("benefit", 200)
    phase: str = payloads.text("phase", 200)
    topic: str = payloads.text("topic", 200)
    description: str = payloads.text("description", 4000)
    page: int = payloads.page()


@action("submit_assistance", roles=ADMINS, inputs=("phase", "topic", "description"), payload=AssistanceForm)
async def submit_assistance(turn: Turn, form: AssistanceForm) -> ActionResult:
    benefit_id, page = form.benefit_id, form.page
    try:
        request = await turn.service.prepare_assistance_request(
            turn.person, benefit_id, form.phase, form.topic, form.description, op_key=turn.op_key)
    except RuleViolation as violation:
        if turn.workflows.is_role_refusal(violation.code):
            raise
        benefit = turn.service.repo.benefit(benefit_id)
        if benefit is not None and rules.accepts_assistance_requests(benefit):
            return ActionResult(assistance_form(benefit, turn.t, new_nonce(), page, refusal(turn, violation)))
        return ActionResult(render_list(turn, Category.TECHNICAL, page, refusal(turn, violation)))
    return service_request_page(turn, request, {"key": "requests.sr_prepared_notice", "style": "accent"})
