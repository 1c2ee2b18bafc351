"""Requests: employees asking for benefits, and the Partner Center service requests admins prepare and file."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from domain import errors, rules
from domain.errors import RuleViolation
from domain.models import (
    Assignment,
    BenefitPackage,
    Person,
    Phase,
    RequestKind,
    RequestOutcome,
    RequestStatus,
    ServiceRequest,
    Status,
)
from services.benefits.assignments import Assignments
from services.repository import OPEN_SERVICE, PENDING_BENEFIT
from services.storage.base import Op


class Requests(Assignments):
    """Requests and their steps (approving a benefit request assigns it, hence the base class)."""

    def _request_payload(self, request: ServiceRequest) -> dict[str, Any]:
        benefit = self.repo.benefit(request.benefit_id)
        return {
            "request_id": request.id, "reference": request.reference, "benefit_id": request.benefit_id,
            "benefit": benefit.name if benefit else "", "requester_id": request.requested_by,
            "admin_ids": [p.id for p in self.admins()], "status": request.status.value,
        }

    def _reference(self, prefix: str) -> str:
        """The bot's own reference of an employee's request (never used for Partner Center's requests)."""
        return f"{prefix}-{self.clock():%Y%m%d}-{secrets.token_hex(3).upper()}"

    async def prepare_assistance_request(self, actor: Person, benefit_id: str, phase: str, topic: str,
                                         description: str, op_key: str | None = None) -> ServiceRequest:
        """Seed: request technical assistance (presales, design, deployment, app development) in
        Partner Center's request form. Partner Center offers apps no way to file it, so the bot
        prepares what the form needs and the admin files it; no number exists until Partner Center
        gives one."""
        rules.require_admin(actor)
        async with self._lock:
            replayed = self._replayed(op_key, "request_id", self.repo.request)
            if replayed is not None:
                return replayed
            benefit = self._benefit(benefit_id)
            if not rules.accepts_assistance_requests(benefit):
                raise RuleViolation(errors.WRONG_KIND, benefit=benefit.name)
            try:
                chosen = Phase(phase)
            except ValueError:
                raise RuleViolation(errors.MISSING_FIELD, field="phase") from None
            request = ServiceRequest(
                id=uuid.uuid4().hex, reference="", kind=RequestKind.ASSISTANCE, status=RequestStatus.PREPARED,
                requested_by=actor.id, created_at=self.clock(), benefit_id=benefit.id, phase=chosen,
                topic=rules.validate_text(topic, "topic", 200),
                description=rules.validate_text(description, "description", 4000),
            )
            await self._commit([self.repo.put_request(request),
                                self._audit(actor, "request.prepared", benefit.id, None, request)],
                               op_key, {"request_id": request.id})
            return request

    async def prepare_cancellation(self, actor: Person, package_id: str, op_key: str | None = None) -> ServiceRequest:
        """Seed: cancel within 30 days of purchase, no software activated, "through a service request".

        The admin files the service request in Partner Center; until Microsoft cancels the package
        it stays as it is. A package has at most one open cancellation request (asking again
        returns it)."""
        rules.require_can_assign_benefits(actor)
        async with self._lock:
            replayed = self._replayed(op_key, "request_id", self.repo.request)
            if replayed is not None:
                return replayed
            package = self.repo.package(package_id)
            if package is None:
                raise RuleViolation(errors.UNKNOWN_PACKAGE, id=package_id)
            open_request = self.open_cancellation(package.id)
            if open_request is not None:
                return open_request
            benefits = self.repo.benefits_of_package(package.id)
            reveals = self.repo.key_reveals(b.id for b in benefits)
            rules.require_can_cancel_for_refund(package, benefits, reveals, self.today())
            request = ServiceRequest(
                id=uuid.uuid4().hex, reference="", kind=RequestKind.CANCELLATION, status=RequestStatus.PREPARED,
                requested_by=actor.id, created_at=self.clock(), package_id=package.id,
            )
            await self._commit([self.repo.put_request(request),
                                self._audit(actor, "request.prepared", package.id, None, request)],
                               op_key, {"request_id": request.id})
            return request

    def open_cancellation(self, package_id: str) -> ServiceRequest | None:
        """The package's cancellation request that is not closed yet, if any."""
        open_ones, _ = self.repo.open_requests(OPEN_SERVICE, 0, 1 << 30)
        for request in open_ones:
            if (request.kind is RequestKind.CANCELLATION and request.package_id == package_id
                    and rules.service_request_stage(request) is not RequestStatus.CLOSED):
                return request
        return None

    def service_requests(self, actor: Person) -> list[ServiceRequest]:
        """Partner Center service requests, newest first (admins only: they show what was asked)."""
        rules.require_admin(actor)
        return [r for r in self.repo.requests() if rules.is_partner_center_request(r)]

    def open_service_requests(self, actor: Person, offset: int = 0,
                              limit: int = 10) -> tuple[list[ServiceRequest], int]:
        """A page of the Partner Center service requests not closed yet, newest first (admins only)."""
        rules.require_admin(actor)
        return self.repo.open_requests(OPEN_SERVICE, offset, limit)

    def pending_requests(self, actor: Person, offset: int = 0, limit: int = 10) -> tuple[list[ServiceRequest], int]:
        """A page of the benefit requests waiting for a decision, newest first (admins only)."""
        rules.require_admin(actor)
        return self.repo.open_requests(PENDING_BENEFIT, offset, limit)

    def service_request(self, actor: Person, request_id: str) -> ServiceRequest:
        rules.require_admin(actor)
        request = self.repo.request(request_id)
        if request is None or not rules.is_partner_center_request(request):
            raise RuleViolation(errors.UNKNOWN_REQUEST, id=request_id)
        return request

    def _handled_request(self, actor: Person, request_id: str) -> ServiceRequest:
        """A request ``actor`` may record and close: cancelling is the Global admin's (as is
        preparing it); assistance is any admin's."""
        request = self.service_request(actor, request_id)
        if request.kind is RequestKind.CANCELLATION:
            rules.require_can_assign_benefits(actor)
        return request

    async def record_request_number(self, actor: Person, request_id: str, number: str,
                                    op_key: str | None = None) -> ServiceRequest:
        """The admin filed it in Partner Center and records the number Partner Center gave."""

        def submit(request: ServiceRequest) -> tuple[ServiceRequest, list[Op]]:
            rules.require_request_prepared(request)
            return replace(request, status=RequestStatus.SUBMITTED,
                           partner_center_number=rules.validate_request_number(number),
                           submitted_by=actor.id, submitted_at=self.clock()), []

        return await self._request_step(actor, request_id, "request.number_recorded", submit, op_key)

    async def close_request(self, actor: Person, request_id: str, outcome: str,
                            op_key: str | None = None) -> ServiceRequest:
        """Close a service request with what happened; a cancellation Microsoft made cancels the
        package and its benefits here too."""

        def close(request: ServiceRequest) -> tuple[ServiceRequest, list[Op]]:
            chosen = rules.require_outcome_allowed(request, outcome)
            after = replace(request, status=RequestStatus.CLOSED, outcome=chosen, closed_by=actor.id,
                            closed_at=self.clock())
            package = self.repo.package(request.package_id)
            if chosen is not RequestOutcome.CANCELLED or package is None or package.status is Status.CANCELLED:
                return after, []
            cancelled = replace(package, status=Status.CANCELLED)
            return after, [self.repo.put_package(cancelled),
                           self._audit(actor, "package.cancelled_by_microsoft", package.id, package, cancelled),
                           *(self.repo.put_benefit(replace(b, status=Status.CANCELLED))
                             for b in self.repo.benefits_of_package(package.id))]

        return await self._request_step(actor, request_id, "request.closed", close, op_key)

    async def _request_step(self, actor: Person, request_id: str, action: str,
                            step: Callable[[ServiceRequest], tuple[ServiceRequest, list[Op]]],
                            op_key: str | None) -> ServiceRequest:
        """One step of a service request, with its audit entry (under its package or benefit) and
        whatever else the step changes, in one batch; a replay answers with the step's result."""
        rules.require_admin(actor)
        async with self._lock:
            replayed = self._replayed(op_key, "request_id", self.repo.request)
            if replayed is not None:
                return replayed
            request = self._handled_request(actor, request_id)
            after, more = step(request)
            await self._commit([self.repo.put_request(after),
                                self._audit(actor, action, _subject(after), request, after), *more],
                               op_key, {"request_id": after.id})
            return after

    def refund_check(self, actor: Person, package_id: str) -> tuple[BenefitPackage, list[RuleViolation]]:
        """What stands between this package and a refund (for the cancel card)."""
        rules.require_admin(actor)
        package = self.repo.package(package_id)
        if package is None:
            raise RuleViolation(errors.UNKNOWN_PACKAGE, id=package_id)
        benefits = self.repo.benefits_of_package(package.id)
        return package, rules.can_cancel_for_refund(package, benefits, self.repo.key_reveals(b.id for b in benefits),
                                                    self.today())

    async def request_benefit(self, actor: Person, benefit_id: str, note: str = "",
                              op_key: str | None = None) -> ServiceRequest:
        """An employee asks the admins for a benefit (any user may)."""
        async with self._lock:
            replayed = self._replayed(op_key, "request_id", self.repo.request)
            if replayed is not None:
                return replayed
            benefit = self._benefit(benefit_id)
            rules.require_not_cancelled(benefit)
            request = ServiceRequest(
                id=uuid.uuid4().hex, reference=self._reference("BR"), kind=RequestKind.BENEFIT,
                requested_by=actor.id, created_at=self.clock(), benefit_id=benefit.id,
                description=note.strip()[:1000],
            )
            await self._commit([self.repo.put_request(request),
                                self._audit(actor, "request.submitted", benefit.id, None, request)],
                               op_key, {"request_id": request.id})
        await self._emit("request.submitted", self._request_payload(request))
        return request

    async def decide_request(self, actor: Person, request_id: str, approve: bool,
                             alternate_email: str = "") -> tuple[ServiceRequest, Assignment | None]:
        """A Global admin approves (which assigns the benefit) or declines an employee's request."""
        rules.require_can_assign_benefits(actor)
        request = self.repo.request(request_id)
        if request is None or request.kind is not RequestKind.BENEFIT:
            raise RuleViolation(errors.UNKNOWN_REQUEST, id=request_id)
        if request.status is not RequestStatus.SUBMITTED:
            raise RuleViolation(errors.REQUEST_ALREADY_DECIDED, reference=request.reference,
                                status=request.status)
        assignment = None
        if approve:
            assignment = await self.assign(actor, request.benefit_id, request.requested_by, alternate_email,
                                           op_key=f"approve:{request.id}")
        async with self._lock:
            current = self.repo.request(request_id)
            assert current is not None
            if current.status is not RequestStatus.SUBMITTED:
                raise RuleViolation(errors.REQUEST_ALREADY_DECIDED, reference=current.reference,
                                    status=current.status)
            decided = replace(current, status=RequestStatus.APPROVED if approve else RequestStatus.DECLINED,
                              decided_by=actor.id, decided_at=self.clock())
            await self._commit([self.repo.put_request(decided),
                                self._audit(actor, "request.decided", current.benefit_id, current, decided)])
        await self._emit("request.decided", {**self._request_payload(decided), "decider_id": actor.id,
                                             "outcome": decided.status.value,
                                             "assignment_id": assignment.id if assignment else ""})
        return decided, assignment


def _subject(request: ServiceRequest) -> str:
    """Where a service request's changes show under "recent changes": its package or benefit."""
    return request.package_id or request.benefit_id
