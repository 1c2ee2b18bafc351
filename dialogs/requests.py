"""Request a benefit: an employee asks, a Global admin approves (which assigns it) or declines.
Partner Center service requests (assistance, cancellation): prepared here, filed by the admin in
Partner Center, its number recorded here, closed here.

Today the workflow completes in the chats where it happens: the employee sees the reference, and
the admins open pending requests with ``requests`` and decide on a card that refreshes for every
admin who sees it; the same card lists the Partner Center service requests still open. Proactive
delivery (to the admins on submit, to the employee on decision) is the notifications outbox's job:
the service calls its listeners with ``request.submitted`` and ``request.decided``, and
:func:`card_for` builds the card any recipient should see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from cards.paging import Page, clamp
from cards.requests import (
    SR_PAGE,
    ServiceRequestView,
    pending_list_card,
    request_card,
    request_form_card,
    service_request_card,
    submitted_card,
)
from dialogs import payloads
from dialogs.actions import ADMINS, GLOBAL_ADMINS, ActionResult, Menu, Phrases, action
from dialogs.admin_view import new_nonce, reason
from dialogs.payloads import NoData
from dialogs.turn import Turn
from domain import errors, rules
from domain.errors import RuleViolation
from domain.models import (
    Benefit,
    BenefitKind,
    Person,
    RequestKind,
    RequestOutcome,
    RequestStatus,
    ServiceRequest,
    Status,
)
from services.benefits import BenefitsService
from services.i18n import Translator

#: How many pending request cards ``requests`` sends at once.
MAX_PENDING_CARDS = 10
#: Requests a page of either list shows (the pending ones each come as a card of their own too).
REQUESTS_PAGE = 10
T = TypeVar("T")


def requestable(service: BenefitsService, person: Person) -> list[tuple[Benefit, int]]:
    """Benefits an admin can assign to this person that still have a seat (and they don't hold)."""
    repo = service.repo
    out: list[tuple[Benefit, int]] = []
    for benefit in repo.benefits():
        if not rules.is_assignable(benefit) or benefit.kind is BenefitKind.CLOUD_USAGE_BASED:
            continue  # usage-based subscriptions can only be assigned by an admin to themselves
        package = repo.package(benefit.package_id)
        if benefit.status is Status.CANCELLED or (package is not None and package.status is Status.CANCELLED):
            continue
        assignments = repo.assignments_of_benefit(benefit.id)
        if any(a.person_id == person.id for a in rules.current_assignments(benefit, assignments)):
            continue
        seats = rules.seats_available(benefit, assignments)
        if seats > 0:
            out.append((benefit, seats))
    return out


def card_for(service: BenefitsService, request: ServiceRequest, viewer: Person, t: Translator,
             outcome: dict[str, Any] | None = None, error: str | None = None) -> dict[str, Any]:
    """The request card as ``viewer`` may see it (decision buttons only for a Global admin)."""
    repo = service.repo
    decider = repo.person(request.decided_by) if request.decided_by else None
    return request_card(t, request, repo.benefit(request.benefit_id), repo.person(request.requested_by), decider,
                        service.admins(t.locale), rules.can_assign_benefits(viewer), outcome, error)


def _request(turn: Turn, request_id: str) -> ServiceRequest:
    request = turn.service.repo.request(request_id)
    if request is None or request.kind is not RequestKind.BENEFIT:
        raise RuleViolation(errors.UNKNOWN_REQUEST, id=request_id)
    return request


@action("request_benefit", payload=NoData, menu=Menu("menu.request_benefit", 20), phrases=Phrases(
    en_US=("request", "request a benefit", "ask for"), zh_CN=("申请", "请求权益"), zh_TW=("申請", "要求權益")))
async def request_benefit(turn: Turn, _: NoData) -> ActionResult:
    return ActionResult(request_form_card(turn.t, requestable(turn.service, turn.person)))


@dataclass(frozen=True)
class BenefitRequestForm:
    benefit_id: str = payloads.text("benefit", 200)
    note: str = payloads.text("note", 1000)


@action("submit_benefit_request", inputs=("benefit_id", "note"), payload=BenefitRequestForm)
async def submit_benefit_request(turn: Turn, form: BenefitRequestForm) -> ActionResult:
    options = requestable(turn.service, turn.person)
    benefit_id = form.benefit_id
    if benefit_id not in {b.id for b, _ in options}:
        error = turn.t("requests.not_requestable") if benefit_id else turn.t("requests.benefit_error")
        return ActionResult(request_form_card(turn.t, options, error))
    request = await turn.service.request_benefit(turn.person, benefit_id, form.note, op_key=turn.op_key)
    benefit = turn.service.repo.benefit(request.benefit_id)
    assert benefit is not None
    return ActionResult(submitted_card(turn.t, request, benefit, turn.service.admins(turn.locale)))


@dataclass(frozen=True)
class RequestClick:
    request_id: str = payloads.text("request", 200)


@action("request_card", payload=RequestClick)
async def show_request_card(turn: Turn, click: RequestClick) -> ActionResult:
    """The refresh verb: the current state of a request, for an admin or the requester."""
    request = _request(turn, click.request_id)
    if request.requested_by != turn.person.id:
        rules.require_admin(turn.person)
    return ActionResult(card_for(turn.service, request, turn.person, turn.t))


def _decision_inputs(data: dict[str, Any]) -> tuple[str, ...]:
    """Only an approval reads the alternate email (declining needs nothing typed)."""
    return ("alternate_email",) if data.get("decision") == "approve" else ()


@dataclass(frozen=True)
class DecisionForm:
    request_id: str = payloads.text("request", 200)
    decision: str = payloads.carried("decision")
    alternate_email: str = payloads.text("alternate_email", 254)


@action("decide_request", roles=GLOBAL_ADMINS, inputs=_decision_inputs, payload=DecisionForm)
async def decide_request(turn: Turn, form: DecisionForm) -> ActionResult:
    rules.require_can_assign_benefits(turn.person)
    request = _request(turn, form.request_id)
    approve = form.decision == "approve"
    try:
        decided, _ = await turn.service.decide_request(turn.person, request.id, approve, form.alternate_email)
    except RuleViolation as violation:
        if turn.workflows.is_role_refusal(violation.code):
            raise
        current = turn.service.repo.request(request.id) or request
        message = turn.t(violation.code, **violation.params)
        return ActionResult(card_for(turn.service, current, turn.person, turn.t, error=message))
    requester = turn.service.repo.person(decided.requested_by)
    key = "requests.approved" if decided.status is RequestStatus.APPROVED else "requests.declined"
    outcome = {"key": key, "params": {"name": requester.name if requester else decided.requested_by}}
    return ActionResult(card_for(turn.service, decided, turn.person, turn.t, outcome))


def _page_of(read: Callable[[int, int], tuple[list[T], int]], number: int) -> Page[T]:
    """Page ``number`` of a list read by ``read(offset, limit)`` (past the end: its last page)."""
    rows, total = read(number * REQUESTS_PAGE, REQUESTS_PAGE)
    if not rows and number:
        number = clamp(number, total, REQUESTS_PAGE)
        rows, total = read(number * REQUESTS_PAGE, REQUESTS_PAGE)
    return Page(rows, total, number, size=REQUESTS_PAGE)


@dataclass(frozen=True)
class RequestsClick:
    """The card pages two lists, each with its own page number."""

    page: int = payloads.page()
    service_requests_page: int = payloads.page(SR_PAGE)


@action("requests", roles=ADMINS, payload=RequestsClick, menu=Menu("menu.requests", 90), phrases=Phrases(
    en_US=("requests", "pending requests"), zh_CN=("服务请求",), zh_TW=("服務要求",)))
async def pending_requests(turn: Turn, click: RequestsClick) -> ActionResult:
    """A page of the benefit requests to decide (each sent as its own card to decide on) and a page of
    the open Partner Center service requests."""
    rules.require_admin(turn.person)
    repo, service = turn.service.repo, turn.service
    pending = _page_of(lambda offset, limit: service.pending_requests(turn.person, offset, limit),
                       click.page)
    names: dict[str, str] = {}
    for r in pending.rows:
        who, what = repo.person(r.requested_by), repo.benefit(r.benefit_id)
        names[r.id] = f"{who.name if who else r.requested_by} · {turn.t.label(what) if what else r.benefit_id}"
    open_page = _page_of(lambda offset, limit: service.open_service_requests(turn.person, offset, limit),
                         click.service_requests_page)
    open_requests = Page([(r, subject_of(turn, r)) for r in open_page.rows], open_page.total, open_page.number,
                         size=REQUESTS_PAGE)
    cards = tuple(card_for(turn.service, r, turn.person, turn.t) for r in pending.rows[:MAX_PENDING_CARDS])
    return ActionResult(pending_list_card(turn.t, pending, names, open_requests), cards)


# --- Partner Center service requests ---------------------------------------------------------------
def subject_of(turn: Turn, request: ServiceRequest) -> str:
    repo = turn.service.repo
    if request.kind is RequestKind.CANCELLATION:
        package = repo.package(request.package_id)
        return turn.t.label(package) if package else request.package_id
    benefit = repo.benefit(request.benefit_id)
    return turn.t.label(benefit) if benefit else request.benefit_id


def service_request_view(turn: Turn, request: ServiceRequest) -> ServiceRequestView:
    repo = turn.service.repo
    package = repo.package(request.package_id) if request.package_id else None
    benefits = tuple(sorted(turn.t.label(b) for b in repo.benefits_of_package(package.id))) if package else ()
    may = (rules.can_assign_benefits(turn.person) if request.kind is RequestKind.CANCELLATION
           else rules.is_admin(turn.person))
    return ServiceRequestView(
        request=request, subject=subject_of(turn, request), organization=repo.organization(),
        requester=repo.person(request.requested_by),
        names=repo.names_of((request.requested_by, request.submitted_by, request.closed_by)),
        package=package, benefit_names=benefits, can_handle=may, nonce=new_nonce())


def service_request_page(turn: Turn, request: ServiceRequest, outcome: dict[str, Any] | None = None,
                         error: str | None = None, typed: str = "") -> ActionResult:
    return ActionResult(service_request_card(turn.t, service_request_view(turn, request), outcome, error, typed))


@action("service_request", roles=ADMINS, payload=RequestClick)
async def show_service_request(turn: Turn, click: RequestClick) -> ActionResult:
    return service_request_page(turn, turn.service.service_request(turn.person, click.request_id))


@dataclass(frozen=True)
class RequestNumberForm:
    request_id: str = payloads.text("request", 200)
    partner_center_number: str = payloads.text("partner_center_number", 200, keep=True)


@action("record_request_number", roles=ADMINS, inputs=("partner_center_number",), payload=RequestNumberForm)
async def record_request_number(turn: Turn, form: RequestNumberForm) -> ActionResult:
    """The admin filed it in Partner Center: the number it gave, checked; a refusal keeps what was typed."""
    request = turn.service.service_request(turn.person, form.request_id)
    typed = form.partner_center_number
    try:
        recorded = await turn.service.record_request_number(turn.person, request.id, typed, op_key=turn.op_key)
    except RuleViolation as violation:
        if turn.workflows.is_role_refusal(violation.code):
            raise
        current = turn.service.repo.request(request.id) or request
        return service_request_page(turn, current, error=reason(turn, violation), typed=typed)
    return service_request_page(turn, recorded, {"key": "requests.sr_recorded",
                                                 "params": {"number": recorded.partner_center_number}})


@dataclass(frozen=True)
class CloseClick:
    request_id: str = payloads.text("request", 200)
    outcome: str = payloads.carried("outcome")


@action("close_request", roles=ADMINS, payload=CloseClick)
async def close_request(turn: Turn, click: CloseClick) -> ActionResult:
    request = turn.service.service_request(turn.person, click.request_id)
    try:
        closed = await turn.service.close_request(turn.person, request.id, click.outcome, op_key=turn.op_key)
    except RuleViolation as violation:
        if turn.workflows.is_role_refusal(violation.code):
            raise
        current = turn.service.repo.request(request.id) or request
        return service_request_page(turn, current, error=reason(turn, violation))
    key = "requests.sr_closed_cancelled" if closed.outcome is RequestOutcome.CANCELLED else "requests.sr_closed_notice"
    return service_request_page(turn, closed, {"key": key, "params": {"subject": subject_of(turn, closed)}})
