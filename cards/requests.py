"""An employee's benefit request, and the card on which the admins approve or decline it in place.

The admins' card carries a ``refresh`` section (``Action.Execute`` verb ``request_card``, the admins'
Teams ids, at most 60): Teams fetches the current card for everyone who opens it, so once one
admin decides, the others see the decision instead of stale buttons.
"""

from __future__ import annotations

from typing import Any

from cards.base import Card, card, execute, facts, heading, notice, text
from domain import rules
from domain.models import Benefit, Person, RequestStatus, ServiceRequest
from services.i18n import Translator

#: Teams refreshes a card automatically for at most this many users.
MAX_REFRESH_USERS = 60


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
    return card(body, [execute(t("requests.submit"), "submit_benefit_request")])


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
    return card(body, actions, refresh=refresh_section(request, admins))


def pending_list_card(t: Translator, pending: list[ServiceRequest], names: dict[str, str]) -> Card:
    body: list[dict[str, Any]] = [heading(t("requests.pending_title"))]
    if not pending:
        body.append(text(t("requests.none_pending")))
    else:
        body.append(text(t("requests.pending_intro", count=len(pending))))
        body.append(facts([(r.reference, names.get(r.id, "")) for r in pending]))
    return card(body)
