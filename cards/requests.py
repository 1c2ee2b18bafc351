"""An employee's benefit request, and the card on which the admins approve or decline it in place.

Partner Center service requests (assistance, cancellation) have a card of their own: Partner Center
has no API to file them, so the card says so, shows what its form needs ready to copy, opens the
form, takes the number Partner Center gave, and follows the request until it is closed.

The admins' card carries a ``refresh`` section (``Action.Execute`` verb ``request_card``, the admins'
Teams ids, at most 60): Teams fetches the current card for everyone who opens it, so once one
admin decides, the others see the decision instead of stale buttons.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cards.base import Card, card, execute, facts, heading, leave, notice, open_url, subheading, text, toggle
from cards.paging import Page, pager
from cards.text import address, compose
from domain import rules
from domain.models import (
    Benefit,
    BenefitPackage,
    Organization,
    Person,
    RequestKind,
    RequestStatus,
    ServiceRequest,
)
from services.i18n import Translator

#: Teams refreshes a card automatically for at most this many users.
MAX_REFRESH_USERS = 60
#: The button data naming the page of the open service requests (``page`` is the benefit requests').
SR_PAGE = "sr_page"


def request_form_card(t: Translator, options: list[tuple[Benefit, int]], error: str | None = None) -> Card:
    """Choose one of the benefits that still have seats; an optional note for the admins."""
    body: list[dict[str, Any]] = [heading(t("requests.form_title"))]
    if error:
        body.append({"type": "Container", "style": "attention", "items": [text(error, weight="Bolder")]})
    if not options:
        body.append(text(t("requests.nothing_available")))
        return card(body, [execute(t("requests.my_benefits"), "my_benefits")])
    body.append(text(t("requests.form_intro")))
    body.append({
        "type": "Input.ChoiceSet", "id": "benefit_id", "label": t("requests.benefit"), "isRequired": True,
        "errorMessage": t("requests.benefit_error"), "style": "compact",
        "choices": [{"title": t("requests.option", name=t.label(b), seats=seats), "value": b.id}
                    for b, seats in options],
    })
    body.append({"type": "Input.Text", "id": "note", "label": t("requests.note"), "isMultiline": True,
                 "maxLength": 1000, "placeholder": t("requests.note_placeholder")})
    return card(body, [execute(t("requests.submit"), "submit_benefit_request"),
                       leave(t("requests.my_benefits"), "my_benefits")])


def submitted_card(t: Translator, request: ServiceRequest, benefit: Benefit, admins: list[Person]) -> Card:
    body = [
        heading(t("requests.submitted_title")),
        notice(t, "requests.submitted", reference=request.reference, benefit=t.label(benefit)),
        facts([(t("requests.reference"), request.reference), (t("requests.benefit"), t.label(benefit)),
               (t("requests.status"), t(f"status.{request.status.value}"))]),
        text(t("requests.submitted_next", admins=", ".join(a.name for a in admins) or t("errors.no_admins_known"))),
    ]
    return card(body, [execute(t("requests.my_benefits"), "my_benefits")])


def refresh_section(request: ServiceRequest, admins: list[Person]) -> dict[str, Any]:
    ids = [a.teams_id for a in admins if a.teams_id][:MAX_REFRESH_USERS]
    return {"action": {"type": "Action.Execute", "verb": "request_card",
                       "data": {"action": "request_card", "request_id": request.id}},
            "userIds": ids}


def request_card(t: Translator, request: ServiceRequest, benefit: Benefit | None, requester: Person | None,
                 decider: Person | None, admins: list[Person], can_decide: bool,
                 outcome: dict[str, Any] | None = None, error: str | None = None) -> Card:
    """The request as the viewer may see it: buttons only while pending and only for a decider."""
    name = t.label(benefit) if benefit else request.benefit_id
    body: list[dict[str, Any]] = [heading(t("requests.card_title", reference=request.reference))]
    if outcome:
        body.append(notice(t, outcome["key"], outcome.get("style", "good"), **outcome.get("params", {})))
    if error:
        body.append({"type": "Container", "style": "attention", "items": [text(error, weight="Bolder")]})
    body.append(facts([
        (t("requests.requester"), f"{requester.name} ({requester.email})" if requester else request.requested_by),
        (t("requests.benefit"), name),
        (t("requests.submitted_on"), t.date(request.created_at)),
        (t("requests.status"), t(f"status.{request.status.value}")),
        (t("requests.decided_by"), decider.name if decider else ""),
        (t("requests.decided_on"), t.date(request.decided_at)),
    ]))
    if request.description:
        body.append(text(t("requests.note_from", note=request.description)))
    actions: list[dict[str, Any]] = []
    if request.status is RequestStatus.SUBMITTED and can_decide:
        if benefit is not None and rules.needs_alternate_email(benefit):
            body.append(text(t("requests.alternate_hint"), isSubtle=True, size="Small"))
            body.append({"type": "Input.Text", "id": "alternate_email", "label": t("requests.alternate_email"),
                         "style": "email", "isRequired": True, "regex": rules.EMAIL_PATTERN,
                         "errorMessage": t("requests.alternate_error"), "maxLength": 254})
        actions = [
            execute(t("requests.approve"), "decide_request", {"request_id": request.id, "decision": "approve"}),
            execute(t("requests.decline"), "decide_request", {"request_id": request.id, "decision": "decline"},
                    associatedInputs="none"),
        ]
    elif request.status is RequestStatus.SUBMITTED:
        body.append(text(t("requests.waiting"), isSubtle=True))
    # a way on from the card (it also arrives on its own, as an admin's notice): deciders to every request
    actions.append(leave(t("requests.sr_all"), "requests") if can_decide else
                   leave(t("requests.my_benefits"), "my_benefits"))
    return card(body, actions, refresh=refresh_section(request, admins))


def pending_list_card(t: Translator, pending: Page[ServiceRequest], names: dict[str, str],
                      service_requests: Page[tuple[ServiceRequest, str]] | None = None) -> Card:
    """A page of the benefit requests to decide and a page of the open service requests; each list's
    buttons carry the other's page, so paging one keeps the other where it was."""
    body: list[dict[str, Any]] = [heading(t("requests.pending_title"))]
    if not pending.rows:
        body.append(text(t("requests.none_pending")))
    else:
        body.append(text(t("requests.pending_intro", count=pending.total)))
        body.append(facts([(r.reference, names.get(r.id, "")) for r in pending.rows]))
    sr_page = service_requests.number if service_requests is not None else 0
    line, actions = pager(t, pending, "requests", t("paging.requests"), {SR_PAGE: sr_page})
    body += line
    if service_requests is not None:
        body += service_requests_section(t, service_requests.rows)
        line, more = pager(t, service_requests, "requests", t("requests.sr_list_title"), {"page": pending.number},
                           key=SR_PAGE)
        body += line
        actions += more
    return card(body, actions)


# --- Partner Center service requests ---------------------------------------------------------------
@dataclass(frozen=True)
class ServiceRequestView:
    """What the service request card shows; ``can_handle``: the viewer may record and close it."""

    request: ServiceRequest
    subject: str
    organization: Organization | None
    requester: Person | None
    names: dict[str, str]
    package: BenefitPackage | None = None
    benefit_names: tuple[str, ...] = ()
    can_handle: bool = False
    nonce: str = ""


def _sr_title(t: Translator, view: ServiceRequestView) -> str:
    return t(f"requests.sr_title_{view.request.kind.value}", subject=view.subject)


def form_details(t: Translator, view: ServiceRequestView) -> list[tuple[str, str]]:
    """What Partner Center's form asks, in the viewer's language, to copy field by field."""
    request, org, who = view.request, view.organization, view.requester
    pairs = [(t("requests.sr_organization"), org.name if org else ""),
             (t("requests.sr_mpn_id"), org.mpn_id if org else "")]
    if request.kind is RequestKind.CANCELLATION and view.package is not None:
        package = view.package
        pairs += [(t("requests.sr_request"), t("requests.sr_cancel_ask", package=t.label(package))),
                  (t("requests.sr_package"), t.label(package)),
                  (t("cancel.program"), package.source_program),
                  (t("cancel.purchased"), t.date(package.purchased_on)),
                  (t("cancel.deadline"), t.date(rules.refund_deadline(package))),
                  (t("requests.sr_benefits"), ", ".join(view.benefit_names)),
                  (t("requests.sr_grounds"), t("requests.sr_cancel_grounds"))]
    else:
        pairs += [(t("requests.benefit"), view.subject),
                  (t("technical.phase"), t(f"technical.phase.{request.phase.value}") if request.phase else ""),
                  (t("technical.topic"), request.topic),
                  (t("technical.description"), request.description)]
    pairs.append((t("requests.sr_contact"), f"{who.name} ({who.email})" if who else request.requested_by))
    return [(label, value) for label, value in pairs if value]


def _copy_blocks(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for label, value in pairs:
        blocks.append(text(label, weight="Bolder", size="Small"))
        blocks.append(text(value, fontType="Monospace", spacing="None"))
    return blocks


def _mutating(title: str, verb: str, view: ServiceRequestView, **data: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"request_id": view.request.id, **data}
    if view.nonce:
        payload["nonce"] = f"{view.nonce}:{verb}:{data.get('outcome', '')}"
    return execute(title, verb, payload)


def service_request_card(t: Translator, view: ServiceRequestView, outcome: dict[str, Any] | None = None,
                         error: str | None = None, typed: str = "") -> Card:
    """Prepared: the steps, the details to copy, the form's link and the number to record.
    Submitted: the number and the outcomes to record. Closed: how it ended."""
    request = view.request
    stage = rules.service_request_stage(request)
    names = view.names
    body: list[dict[str, Any]] = [heading(_sr_title(t, view))]
    if outcome:
        body.append(notice(t, outcome["key"], outcome.get("style", "good"), **outcome.get("params", {})))
    body.append(facts([
        (t("requests.status"), t(f"status.{stage.value}")),
        (t("requests.sr_number"), request.partner_center_number or t("requests.sr_no_number")),
        (t("requests.sr_prepared"), t("requests.sr_by_on", name=names.get(request.requested_by, ""),
                                      date=request.created_at)),
        (t("requests.sr_submitted"), t("requests.sr_by_on", name=names.get(request.submitted_by, ""),
                                       date=request.submitted_at) if request.submitted_at else ""),
        (t("requests.sr_closed"), t("requests.sr_by_on", name=names.get(request.closed_by, ""),
                                    date=request.closed_at) if request.closed_at else ""),
        (t("requests.sr_outcome"), t(f"requests.outcome.{request.outcome.value}") if request.outcome else ""),
    ]))
    form = rules.service_request_form(request)
    details = _copy_blocks(form_details(t, view))
    actions: list[dict[str, Any]] = []
    if stage is RequestStatus.PREPARED:
        steps = [t("requests.sr_step_open"),
                 t("requests.sr_step_fill_assistance", url=address(form)) if request.kind is RequestKind.ASSISTANCE
                 else t("requests.sr_step_fill_cancellation"),
                 t("requests.sr_step_record")]
        body.append({"type": "Container", "style": "emphasis", "items": [
            text(t("requests.sr_honest"), weight="Bolder"),
            *(text(compose("{i}. {step}", i=i, step=step), spacing="Small") for i, step in enumerate(steps, 1))]})
        body.append(subheading(t("requests.sr_details")))
        body += details
        body.append({"type": "ActionSet", "actions": [open_url(t(f"requests.sr_open_form_{request.kind.value}"),
                                                               form)]})
        if view.can_handle:
            body.append({"type": "Input.Text", "id": "partner_center_number", "label": t("requests.sr_number_label"),
                         "isRequired": True, "regex": rules.REQUEST_NUMBER_PATTERN,
                         "maxLength": rules.REQUEST_NUMBER_MAX, "value": typed,
                         "placeholder": t("requests.sr_number_placeholder"),
                         "errorMessage": t("errors.invalid_request_number", max=rules.REQUEST_NUMBER_MAX)})
            if error:
                body.append(text(error, color="Attention", weight="Bolder", spacing="None"))
            actions.append(_mutating(t("requests.sr_record"), "record_request_number", view))
    else:
        if stage is RequestStatus.SUBMITTED:
            body.append(text(t("requests.sr_follow_up", number=request.partner_center_number)))
        if error:
            body.append(text(error, color="Attention", weight="Bolder"))
        body.append({"type": "Container", "id": "sr-details", "isVisible": False, "items": details})
        actions.append(toggle(t("requests.sr_show_details"), "sr-details"))
    if view.can_handle:
        for choice in rules.allowed_outcomes(request):
            actions.append({**_mutating(t(f"requests.close.{choice.value}"), "close_request", view,
                                        outcome=choice.value), "associatedInputs": "none"})
    if actions:  # right under what they act on; the way back comes last
        body.append({"type": "ActionSet", "id": "sr-actions", "actions": actions})
    back = "cancel_start" if request.kind is RequestKind.CANCELLATION else "list_technical"
    subject_id = request.package_id or request.benefit_id
    return card(body, [
        {**execute(t(f"requests.sr_back_{request.kind.value}"), back), "associatedInputs": "none"},
        {**execute(t("requests.sr_all"), "requests"), "associatedInputs": "none"},
        {**execute(t("requests.sr_changes", subject=view.subject), "recent_changes",
                 {"subject_id": subject_id, "back": "service_request", "back_data": {"request_id": request.id}}),
         "associatedInputs": "none"}])


def service_requests_section(t: Translator, rows: Sequence[tuple[ServiceRequest, str]]) -> list[dict[str, Any]]:
    """The admins' list of Partner Center service requests still open, each with a button to open it."""
    items: list[dict[str, Any]] = [subheading(t("requests.sr_list_title"))]
    if not rows:
        items.append(text(t("requests.sr_none_open")))
    for index, (request, subject) in enumerate(rows):
        stage = rules.service_request_stage(request)
        line = t("requests.sr_list_line", title=t(f"requests.sr_title_{request.kind.value}", subject=subject),
                 status=t(f"status.{stage.value}"), number=request.partner_center_number or t("requests.sr_no_number"))
        items.append({"type": "Container", "id": f"sr-{index}", "separator": True, "items": [
            text(line),
            {"type": "ActionSet", "actions": [execute(t("requests.sr_open", subject=subject), "service_request",
                                                      {"request_id": request.id})]}]})
    return items
