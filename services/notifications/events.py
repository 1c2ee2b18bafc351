"""From what happened to who is told: assignments, the marketing contact, activations, employee
requests and their outcomes.

``NotificationListener`` subscribes to ``BenefitsService.listeners`` and turns each event into
outbox entries. Event ids are derived from the facts (``activation:<target>:<date>``,
``request.decided:<request id>``, ``assigned:<assignment id>``), never from the caller, so the same
activation reported twice, by chat and by the HTTP endpoint, or a click replayed after a crash,
produces the same ids and one message each.
Parameters are a JSON snapshot: the card says what was true when it happened.
"""

from __future__ import annotations

import logging
from typing import Any

from domain.models import Assignment, Benefit, MarketingContact, Person, RequestKind, ServiceRequest
from services.benefits import Activation, BenefitsService
from services.notifications.outbox import Notification, Outbox

log = logging.getLogger(__name__)

ACTIVATED = "activated"
EXPIRY_REMINDER = "expiry_reminder"
REQUEST_SUBMITTED = "request_submitted"
REQUEST_DECIDED = "request_decided"
ASSIGNED = "assigned"
UNASSIGNED = "unassigned"
MARKETING_CONTACT = "marketing_contact"
MARKETING_CONTACT_REPLACED = "marketing_contact_replaced"


def benefit_params(benefit: Benefit, assignment: Assignment | None, assignee: Person | None) -> dict[str, Any]:
    expires = assignment.expires_on if assignment and assignment.expires_on else benefit.expires_on
    status = assignment.status if assignment else benefit.status
    activated = assignment.activated_on if assignment and assignment.activated_on else benefit.activated_on
    return {
        "benefit_id": benefit.id, "benefit": benefit.name, "offer_type": benefit.offer_type,
        "benefit_i18n": benefit.i18n,
        "kind": benefit.kind.value, "category": benefit.category.value, "status": status.value,
        "activated_on": activated.isoformat() if activated else None,
        "expires_on": expires.isoformat() if expires else None,
        "portal_url": benefit.portal_url, "assignment_id": assignment.id if assignment else "",
        "assignee": assignee.name if assignee else "",
    }


def activation_notes(service: BenefitsService, activation: Activation) -> list[Notification]:
    """The assignee, the admin who assigned it and (offers) the marketing contact, each once."""
    target = activation.assignment.id if activation.assignment else activation.benefit.id
    event_id = f"activation:{target}:{activation.activated_on.isoformat()}"
    assignee = service.repo.person(activation.assignment.person_id) if activation.assignment else None
    params = benefit_params(activation.benefit, activation.assignment, assignee)
    params["activated_on"] = activation.activated_on.isoformat()
    params["expires_on"] = activation.expires_on.isoformat() if activation.expires_on else None
    notes = []
    for person_id in activation.recipients:
        if activation.assignment and person_id == activation.assignment.person_id:
            role = "assignee"
        elif activation.assignment and person_id == activation.assignment.assigned_by:
            role = "assigned_by"
        else:
            contact = service.repo.marketing_contact()
            role = "marketing_contact" if contact and contact.person_id == person_id else "admin"
        notes.append(Notification(event_id, person_id, ACTIVATED, {**params, "role": role}))
    return notes


def _request_of(service: BenefitsService, payload: dict[str, Any]) -> ServiceRequest | None:
    value = payload.get("request")
    if isinstance(value, ServiceRequest):
        return value
    if isinstance(value, dict) and value.get("id"):
        return service.repo.request(str(value["id"])) or ServiceRequest.from_doc(value)
    request_id = payload.get("request_id") or (value if isinstance(value, str) else None)
    return service.repo.request(str(request_id)) if request_id else None


def request_notes(service: BenefitsService, event: str, payload: dict[str, Any]) -> list[Notification]:
    """Submitted: every Global admin is asked to decide. Decided: the employee hears the outcome."""
    request = _request_of(service, payload)
    if request is None or request.kind is not RequestKind.BENEFIT:
        return []
    benefit = service.repo.benefit(request.benefit_id)
    requester = service.repo.person(request.requested_by)
    params = {"request_id": request.id, "reference": request.reference,
              "benefit": benefit.name if benefit else request.benefit_id,
              "offer_type": benefit.offer_type if benefit else "",
              "benefit_i18n": benefit.i18n if benefit else {},
              "requester": requester.name if requester else request.requested_by,
              "note": request.description, "status": request.status.value}
    if event == "request.submitted":
        return [Notification(f"request.submitted:{request.id}", admin.id, REQUEST_SUBMITTED, params)
                for admin in service.admins() if admin.id != request.requested_by]
    decider = service.repo.person(request.decided_by) if request.decided_by else None
    params["decided_by"] = decider.name if decider else ""
    return [Notification(f"request.decided:{request.id}", request.requested_by, REQUEST_DECIDED, params)]


def assignment_notes(service: BenefitsService, event: str, assignment: Assignment) -> list[Notification]:
    """The person who got (or lost) a seat: what it is, who did it, and how to start using it."""
    benefit = service.repo.benefit(assignment.benefit_id)
    assignee = service.repo.person(assignment.person_id)
    if benefit is None or assignee is None:
        return []
    removed = event == "assignment.removed"
    actor = service.repo.person(assignment.removed_by if removed else assignment.assigned_by)
    params = {**benefit_params(benefit, assignment, assignee), "alternate_email": assignment.alternate_email,
              "by": actor.name if actor else ""}
    if removed:
        return [Notification(f"unassigned:{assignment.id}", assignee.id, UNASSIGNED, params)]
    return [Notification(f"assigned:{assignment.id}", assignee.id, ASSIGNED, params)]


def contact_notes(service: BenefitsService, contact: MarketingContact,
                  before: MarketingContact | None) -> list[Notification]:
    """The person who became the marketing contact, and the one they replaced; an update of the
    same person's details tells nobody."""
    if before is not None and before.person_id == contact.person_id:
        return []
    setter = service.repo.person(contact.set_by)
    params = {"alternate_email": contact.alternate_email, "phone": contact.phone,
              "by": setter.name if setter else "", "set_at": contact.set_at.isoformat()}
    event_id = f"marketing_contact:{contact.set_at.isoformat()}"
    notes = [Notification(event_id, contact.person_id, MARKETING_CONTACT, params)]
    if before is not None:
        successor = service.repo.person(contact.person_id)
        notes.append(Notification(event_id, before.person_id, MARKETING_CONTACT_REPLACED,  # not the new one's details
                                  {"by": params["by"], "successor": successor.name if successor else ""}))
    return notes


class NotificationListener:
    """A ``BenefitsService`` listener: ``(event_name, payload)`` in, outbox entries out."""

    def __init__(self, service: BenefitsService, outbox: Outbox) -> None:
        self.service = service
        self.outbox = outbox

    def subscribe(self) -> NotificationListener:
        if self not in self.service.listeners:
            self.service.listeners.append(self)
        return self

    def unsubscribe(self) -> None:
        if self in self.service.listeners:
            self.service.listeners.remove(self)

    async def __call__(self, event: str, payload: dict[str, Any]) -> int:
        if event == "activation" and isinstance(payload.get("activation"), Activation):
            notes = activation_notes(self.service, payload["activation"])
        elif event in ("request.submitted", "request.decided"):
            notes = request_notes(self.service, event, payload)
        elif event in ("assignment.created", "assignment.removed") and isinstance(payload.get("assignment"),
                                                                                   Assignment):
            notes = assignment_notes(self.service, event, payload["assignment"])
        elif event == "marketing_contact.set" and isinstance(payload.get("contact"), MarketingContact):
            notes = contact_notes(self.service, payload["contact"], payload.get("before"))
        else:
            return 0
        return await self.outbox.enqueue(notes)
