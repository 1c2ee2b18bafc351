"""Activation: a pending benefit or assignment becomes Active (from chat, the HTTP endpoint or the CLI)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from domain import errors, rules
from domain.errors import RuleViolation
from domain.models import Assignment, Benefit, BenefitKind, Person, Status
from services.benefits.core import ServiceCore
from services.storage.base import Op


@dataclass(frozen=True)
class Activation:
    """What an activation changed: the notifications service tells these people."""

    event_id: str
    benefit: Benefit
    assignment: Assignment | None
    status: Status
    activated_on: date
    expires_on: date | None
    recipients: tuple[str, ...]
    changed: bool


class Activations(ServiceCore):
    """Marking benefits and assignments activated, and who hears about it."""

    async def mark_activated(self, actor: Person | None, target_id: str, activated_on: date,
                             expires_on: date | None, event_key: str | None = None) -> Activation:
        """Mark activated, then emit ``activation`` (also when nothing changed, so a re-run after a
        crash re-creates the same notifications, which the outbox dedupes)."""
        activation = await self._mark_activated(actor, target_id, activated_on, expires_on, event_key)
        await self._emit("activation", {"activation": activation})
        return activation

    async def _mark_activated(self, actor: Person | None, target_id: str, activated_on: date,
                              expires_on: date | None, event_key: str | None = None) -> Activation:
        """A pending benefit or assignment becomes Active with its Expires date.

        ``actor`` None means an integration or an operator (already authenticated by the caller).
        The same activation posted twice has one effect: the second returns ``changed=False``.
        """
        if actor is not None:
            rules.require_admin(actor)
        rules.require_valid_expiry(activated_on, expires_on)
        async with self._lock:
            assignment = self.repo.assignment(target_id)
            benefit = self.repo.benefit(assignment.benefit_id if assignment else target_id)
            if benefit is None:
                raise RuleViolation(errors.UNKNOWN_BENEFIT, id=target_id)
            event_id = event_key or f"activation:{target_id}:{activated_on.isoformat()}"
            current = assignment.status if assignment else benefit.status
            same = (assignment.activated_on if assignment else benefit.activated_on) == activated_on and (
                (assignment.expires_on if assignment else benefit.expires_on) == expires_on)
            if current is Status.ACTIVE and same:
                return Activation(event_id, benefit, assignment, current, activated_on, expires_on,
                                  self._recipients(benefit, assignment), changed=False)
            rules.require_pending(current, benefit)
            ops: list[Op] = []
            if assignment is not None:
                new_assignment = replace(assignment, status=Status.ACTIVE, activated_on=activated_on,
                                         expires_on=expires_on)
                ops.append(self.repo.put_assignment(new_assignment))
                ops.append(self._audit(actor, "assignment.activated", benefit.id, assignment, new_assignment))
                assignment = new_assignment
                if benefit.status is not Status.ACTIVE:
                    benefit = replace(benefit, status=Status.ACTIVE, activated_on=activated_on)
                    ops.append(self.repo.put_benefit(benefit))
            else:
                after = replace(benefit, status=Status.ACTIVE, activated_on=activated_on, expires_on=expires_on)
                ops += [self.repo.put_benefit(after),
                        self._audit(actor, "benefit.activated", benefit.id, benefit, after)]
                benefit = after
            await self._commit(ops)
            return Activation(event_id, benefit, assignment, Status.ACTIVE, activated_on, expires_on,
                              self._recipients(benefit, assignment), changed=True)

    def _recipients(self, benefit: Benefit, assignment: Assignment | None) -> tuple[str, ...]:
        """The assignee, the admin who assigned it, and for offers the marketing contact."""
        people: list[str] = []
        if assignment is not None:
            people += [assignment.person_id, assignment.assigned_by]
        else:
            for entry in self.repo.audit_of(benefit.id, limit=50):
                if entry.action == "offer.activation_requested" and entry.actor_id != "system":
                    people.append(entry.actor_id)
                    break
        if benefit.kind is BenefitKind.GO_TO_MARKET_OFFER:
            contact = self.repo.marketing_contact()
            if contact:
                people.append(contact.person_id)
        return tuple(dict.fromkeys(p for p in people if p and p != "system"))
