"""Assignments: seats of Visual Studio, Azure usage-based and technical benefits, given and taken back."""

from __future__ import annotations

import uuid
from dataclasses import replace

from domain import errors, rules
from domain.errors import RuleViolation
from domain.models import Assignment, Benefit, Person, Status
from services.benefits.core import ServiceCore


class Assignments(ServiceCore):
    """Who holds a seat."""

    async def assign(self, actor: Person, benefit_id: str, person_id: str, alternate_email: str = "",
                     op_key: str | None = None) -> Assignment:
        """Assign a seat (Visual Studio, Azure usage-based, technical benefits), then emit
        ``assignment.created`` (a replay emits it again: the outbox keeps one notice per assignment,
        so a crash between the commit and the notice is healed by the redelivered click)."""
        assignment = await self._assign(actor, benefit_id, person_id, alternate_email, op_key)
        await self._emit("assignment.created", {"assignment": assignment})
        return assignment

    async def _assign(self, actor: Person, benefit_id: str, person_id: str, alternate_email: str,
                      op_key: str | None) -> Assignment:
        rules.require_can_assign_benefits(actor)
        async with self._lock:
            replayed = self._replayed(op_key, "assignment_id", self.repo.assignment)
            if replayed is not None:
                return replayed
            benefit = self._benefit(benefit_id)
            assignee = self._person(person_id)
            rules.require_not_cancelled(benefit)
            if not rules.is_assignable(benefit):
                raise RuleViolation(errors.WRONG_KIND, benefit=benefit.name)
            rules.usage_based_assignee_must_be_self(benefit, actor, assignee)
            alternate = ""
            if rules.needs_alternate_email(benefit):
                alternate = rules.validate_alternate_email(alternate_email, assignee, self._account_email())
            existing_assignments = self.repo.assignments_of_benefit(benefit.id)
            today = self.today()
            rules.require_seat_for(benefit, assignee, existing_assignments, today)
            status = rules.status_after_assignment(benefit)
            assignment = Assignment(
                id=uuid.uuid4().hex, benefit_id=benefit.id, person_id=assignee.id, assigned_by=actor.id,
                assigned_at=self.clock(), status=status, alternate_email=alternate,
                activated_on=today if status is Status.ACTIVE else None,
                expires_on=benefit.expires_on if status is Status.ACTIVE else None,
            )
            count = len(rules.current_assignments(benefit, existing_assignments)) + 1
            after = replace(benefit, fully_assigned_on=rules.fully_assigned_on_after(benefit, count, today))
            if status is Status.ACTIVE and benefit.status is Status.NOT_ACTIVATED:
                after = replace(after, status=Status.ACTIVE, activated_on=today)
            await self._write(actor, "assignment.created", None, assignment, benefit, after, op_key)
            return assignment

    async def remove_assignment(self, actor: Person, assignment_id: str, op_key: str | None = None) -> Assignment:
        """Seed: reassign = remove the assigned user, then assign another (90-day lock permitting).
        Emits ``assignment.removed`` (again on a replay, like ``assign``)."""
        removed = await self._remove_assignment(actor, assignment_id, op_key)
        await self._emit("assignment.removed", {"assignment": removed})
        return removed

    async def _remove_assignment(self, actor: Person, assignment_id: str, op_key: str | None) -> Assignment:
        rules.require_can_assign_benefits(actor)
        async with self._lock:
            replayed = self._replayed(op_key, "assignment_id", self.repo.assignment)
            if replayed is not None:
                return replayed
            assignment = self.repo.assignment(assignment_id)
            if assignment is None or not assignment.is_current:
                raise RuleViolation(errors.NOT_ASSIGNED, id=assignment_id)
            benefit = self._benefit(assignment.benefit_id)
            today = self.today()
            rules.require_can_remove_assignment(benefit, today)
            removed = replace(assignment, removed_at=self.clock(), removed_by=actor.id)
            count = len(rules.current_assignments(benefit, self.repo.assignments_of_benefit(benefit.id))) - 1
            after = replace(benefit, fully_assigned_on=rules.fully_assigned_on_after(benefit, count, today))
            await self._write(actor, "assignment.removed", assignment, removed, benefit, after, op_key)
            return removed

    async def _write(self, actor: Person, action: str, before: Assignment | None, assignment: Assignment,
                     benefit: Benefit, after: Benefit, op_key: str | None) -> None:
        """The assignment, its benefit if that changed (seats filled or freed, activated) and the audit
        entry, in one batch; a replay under ``op_key`` answers with this assignment."""
        ops = [self.repo.put_assignment(assignment)]
        if after != benefit:
            ops.append(self.repo.put_benefit(after))
        ops.append(self._audit(actor, action, benefit.id, before, assignment))
        await self._commit(ops, op_key, {"assignment_id": assignment.id})
