"""Benefit workflows as transactions: read, check the seeds' rules, write one atomic batch.

Every mutating method takes the acting person (resolved by the bot from the Teams activity, never
from card data), checks the rules in ``domain.rules`` on the current state, and writes its changes
with an audit entry in a single batch. Mutations run under one lock, so two admins taking the
last seat at the same moment give exactly one assignment. An optional ``op_key`` (the activity id
or a card's nonce) makes a redelivered activity or a double click have one effect.
"""

from __future__ import annotations

import inspect
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from domain import errors, names, rules
from domain.errors import RuleViolation
from domain.models import (
    Assignment,
    AuditEntry,
    Benefit,
    BenefitKind,
    BenefitPackage,
    Category,
    KeyReveal,
    MarketingContact,
    Person,
    Phase,
    ProductKey,
    RequestKind,
    RequestOutcome,
    RequestStatus,
    Role,
    ServiceRequest,
    Status,
    Unit,
)
from services.repository import ASSIGNMENTS, BENEFITS, OPEN_SERVICE, PACKAGES, PENDING_BENEFIT, PROCESSED, Repository
from services.storage.base import DocumentStore, Op

T = TypeVar("T")
Clock = Callable[[], datetime]
log = logging.getLogger(__name__)


#: The overview's order of statuses: what is in use first, then what waits, then what is left.
_STATUS_ORDER = (Status.ACTIVE, Status.PENDING_ACTIVATION, Status.NOT_ACTIVATED, Status.EXPIRED)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CategorySummary:
    """One row of the Benefits overview: benefits per status, and quantities per unit.

    ``units`` never adds quantities of different units (hours and incidents stay apart);
    ``seats_assigned`` / ``seats`` count subscriptions held by people (Visual Studio, Azure
    usage-based); ``people_assigned`` counts the assignees of benefits whose quantity is not seats.
    """

    category: Category
    benefits: int
    statuses: tuple[tuple[Status, int], ...] = ()
    units: tuple[tuple[Unit, int], ...] = ()
    seats: int = 0
    seats_assigned: int = 0
    people_assigned: int = 0

    @property
    def seats_available(self) -> int:
        return max(0, self.seats - self.seats_assigned)

    def count(self, status: Status) -> int:
        return dict(self.statuses).get(status, 0)


@dataclass(frozen=True)
class Holding:
    """A benefit someone holds (for "my benefits")."""

    benefit: Benefit
    assignment: Assignment | None
    status: Status
    expires_on: date | None


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


class BenefitsService:
    """The application service of the Benefits page."""

    def __init__(self, store: DocumentStore, clock: Clock = utc_now) -> None:
        self.store = store
        self.repo = Repository(store)
        self.clock = clock
        self._lock = store.mutation_lock()
        self.listeners: list[Callable[[str, dict[str, Any]], Any]] = []
        #: the overview's rows and the versions of the tables they were computed from (see overview)
        self._overview_memo: tuple[tuple[Any, ...], list[CategorySummary]] | None = None

    # --- helpers ---------------------------------------------------------------------------------
    def today(self) -> date:
        return self.clock().date()

    def _audit(self, actor: Person | None, action: str, subject_id: str, before: Any, after: Any,
               **extra: Any) -> Op:
        entry = AuditEntry(
            id=uuid.uuid4().hex, at=self.clock(), actor_id=actor.id if actor else "system", action=action,
            subject_id=subject_id, before=_doc(before), after=_doc(after), extra=extra,
        )
        return self.repo.put_audit(entry)

    async def _commit(self, ops: list[Op], op_key: str | None = None, result: dict[str, Any] | None = None) -> None:
        if op_key:
            ops = [*ops, self.repo.mark_processed(op_key, result)]
        await self.store.apply(ops)

    def _replayed(self, op_key: str | None, field: str, load: Callable[[Any], T | None]) -> T | None:
        """The stored outcome of an operation already done under ``op_key`` (a double click or a
        redelivery), whatever the replay carries: a second click that chose someone else is answered
        with what the first click did, never with what the second one asked for."""
        done = self._processed(op_key)
        return load(done[field]) if done and done.get(field) else None

    def _processed(self, op_key: str | None) -> dict[str, Any] | None:
        if not op_key:
            return None
        doc = self.store.get(PROCESSED, op_key)
        return doc.get("result", {}) if doc else None

    async def _emit(self, event: str, payload: dict[str, Any]) -> None:
        """Tell every listener (e.g. the notifications outbox) what happened; a failing listener
        is logged and never undoes a committed change."""
        for listener in list(self.listeners):
            try:
                result = listener(event, payload)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("listener failed", extra={"event": event})

    def _request_payload(self, request: ServiceRequest) -> dict[str, Any]:
        benefit = self.repo.benefit(request.benefit_id)
        return {
            "request_id": request.id, "reference": request.reference, "benefit_id": request.benefit_id,
            "benefit": benefit.name if benefit else "", "requester_id": request.requested_by,
            "admin_ids": [p.id for p in self.admins()], "status": request.status.value,
        }

    def _benefit(self, benefit_id: str) -> Benefit:
        benefit = self.repo.benefit(benefit_id)
        if benefit is None:
            raise RuleViolation(errors.UNKNOWN_BENEFIT, id=benefit_id)
        return benefit

    def _person(self, person_id: str) -> Person:
        person = self.repo.person(person_id)
        if person is None:
            raise RuleViolation(errors.UNKNOWN_PERSON, id=person_id)
        return person

    def _account_email(self) -> str:
        org = self.repo.organization()
        return org.account_email if org else ""

    # --- reading -------------------------------------------------------------------------------
    def overview(self, actor: Person) -> list[CategorySummary]:
        """Seed: benefits by category with allocations; admins only (it shows everyone's seats)."""
        rules.require_admin(actor)
        # The rows derive from these tables and today's date only: reused until one of them changes.
        today = self.today()
        versions = (self.store.table_version(BENEFITS), self.store.table_version(ASSIGNMENTS),
                    self.store.table_version(PACKAGES), today)
        memo = self._overview_memo
        if memo is not None and memo[0] == versions:
            return list(memo[1])
        packages = {p.id: p for p in self.repo.packages()}
        rows = []
        for category in Category:
            benefits: list[Benefit] = []
            statuses: dict[Status, int] = {}
            seats = seats_assigned = people_assigned = 0
            for b in self.repo.benefits(category):
                package = packages.get(b.package_id)
                held = rules.current_assignments(b, self.repo.assignments_of_benefit(b.id))
                status = rules.benefit_status(b, held, today, package)
                if status is Status.CANCELLED:
                    continue
                benefits.append(b)
                statuses[status] = statuses.get(status, 0) + 1
                if rules.quantity_is_seats(b):
                    seats += b.quantity
                    seats_assigned += len(held)
                else:
                    people_assigned += len(held)
            order = [s for s in _STATUS_ORDER if s in statuses]
            rows.append(CategorySummary(category, len(benefits), tuple((s, statuses[s]) for s in order),
                                        tuple(rules.units_of(benefits).items()), seats, seats_assigned,
                                        people_assigned))
        if None not in versions:
            self._overview_memo = (versions, list(rows))
        return rows

    def list_benefits(self, actor: Person, category: Category, offset: int = 0,
                      limit: int | None = None) -> list[tuple[Benefit, list[Assignment]]]:
        """The category's benefits from ``offset`` (at most ``limit``), each with its current assignments:
        only the benefits asked for have their assignments read (admins only)."""
        rules.require_admin(actor)
        benefits = self.repo.benefits(category)
        shown = benefits[offset:] if limit is None else benefits[offset:offset + limit]
        return [(b, [a for a in self.repo.assignments_of_benefit(b.id) if a.is_current]) for b in shown]

    def assignees(self, actor: Person, benefit_id: str) -> tuple[Benefit, list[Assignment]]:
        """A benefit and its current assignments, in the order they were made (admins only)."""
        rules.require_admin(actor)
        benefit = self._benefit(benefit_id)
        return benefit, [a for a in self.repo.assignments_of_benefit(benefit.id) if a.is_current]

    def count_benefits(self, actor: Person, category: Category) -> int:
        rules.require_admin(actor)
        return len(self.repo.benefits(category))

    def holdings(self, person: Person) -> list[Holding]:
        """What one person holds: their own assignments only, never anyone else's."""
        today = self.today()
        out: list[Holding] = []
        for a in self.repo.assignments_of_person(person.id):
            if not a.is_current:
                continue
            benefit = self.repo.benefit(a.benefit_id)
            if benefit is None:
                continue
            package = self.repo.package(benefit.package_id)
            status = rules.assignment_status(a, benefit, today, package)
            if status is Status.CANCELLED:
                continue
            out.append(Holding(benefit, a, status, rules.expiry_of(benefit, package, a)))
        contact = self.repo.marketing_contact()
        if contact and contact.person_id == person.id:
            for b in self.repo.benefits(Category.GO_TO_MARKET):
                package = self.repo.package(b.package_id)
                status = rules.benefit_status(b, (), today, package)
                if status in (Status.ACTIVE, Status.PENDING_ACTIVATION, Status.EXPIRED):
                    out.append(Holding(b, None, status, rules.expiry_of(b, package)))
        return out

    def admins(self) -> list[Person]:
        """The Global admins, by name (read from their own index: the directory may be large)."""
        return self.repo.global_admins()

    # --- software and licence keys -------------------------------------------------------------
    async def reveal_keys(self, actor: Person, benefit_id: str, language: str, os_type: str,
                          op_key: str | None = None) -> list[ProductKey]:
        """Seed: *Get keys* after choosing the language and OS. Recorded; counts as activation."""
        rules.require_can_reveal_keys(actor)
        async with self._lock:
            benefit = self._benefit(benefit_id)
            rules.require_keys_benefit(benefit)
            rules.require_not_cancelled(benefit)
            replayed = self._replayed(op_key, "reveal", lambda done: [
                k for k in benefit.keys if k.language == done.get("language") and k.os == done.get("os")])
            if replayed is not None:
                return replayed
            keys = [k for k in benefit.keys if k.language == language and k.os == os_type]
            now = self.clock()
            reveal = KeyReveal(uuid.uuid4().hex, benefit.id, actor.id, now, language, os_type)
            ops = [self.repo.put_reveal(reveal)]
            if benefit.status is Status.NOT_ACTIVATED:
                after = replace(benefit, status=Status.ACTIVE, activated_on=now.date())
                ops += [self.repo.put_benefit(after), self._audit(actor, "benefit.activated_by_key", benefit.id,
                                                                  _public(benefit), _public(after))]
            ops.append(self._audit(actor, "keys.revealed", benefit.id, None, None, language=language, os=os_type))
            await self._commit(ops, op_key, {"reveal": {"language": language, "os": os_type}})
            return keys

    # --- assignments ------------------------------------------------------------------------------
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
            ops = [self.repo.put_assignment(assignment)]
            if after != benefit:
                ops.append(self.repo.put_benefit(after))
            ops.append(self._audit(actor, "assignment.created", benefit.id, None, assignment))
            await self._commit(ops, op_key, {"assignment_id": assignment.id})
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
            ops = [self.repo.put_assignment(removed)]
            if after != benefit:
                ops.append(self.repo.put_benefit(after))
            ops.append(self._audit(actor, "assignment.removed", benefit.id, assignment, removed))
            await self._commit(ops, op_key, {"assignment_id": removed.id})
            return removed

    # --- go-to-market ----------------------------------------------------------------------------
    async def set_marketing_contact(self, actor: Person, person_id: str, alternate_email: str, phone: str,
                                    preferred_language: str, op_key: str | None = None) -> MarketingContact:
        """Seed: user, alternate email (not the account email), contact phone, preferred language.
        Emits ``marketing_contact.set`` with the contact it replaced (again on a replay)."""
        contact, before = await self._set_marketing_contact(actor, person_id, alternate_email, phone,
                                                            preferred_language, op_key)
        await self._emit("marketing_contact.set", {"contact": contact, "before": before})
        return contact

    async def _set_marketing_contact(self, actor: Person, person_id: str, alternate_email: str, phone: str,
                                     preferred_language: str, op_key: str | None
                                     ) -> tuple[MarketingContact, MarketingContact | None]:
        rules.require_can_manage_go_to_market(actor)
        async with self._lock:
            done = self._processed(op_key)
            replayed = self._replayed(op_key, "contact", MarketingContact.from_doc)
            if replayed is not None:
                previous = done.get("before") if done else None
                return replayed, MarketingContact.from_doc(previous) if previous else None
            person = self._person(person_id)
            contact = MarketingContact(
                person_id=person.id,
                alternate_email=rules.validate_alternate_email(alternate_email, person, self._account_email()),
                phone=rules.validate_phone(phone),
                preferred_language=rules.validate_text(preferred_language, "preferred_language", 40),
                set_by=actor.id, set_at=self.clock(),
            )
            before = self.repo.marketing_contact()
            await self._commit([self.repo.put_marketing_contact(contact),
                                self._audit(actor, "marketing_contact.set", "marketing_contact", before, contact)],
                               op_key, {"contact": contact.to_doc(), "before": before.to_doc() if before else None})
            return contact, before

    async def request_offer_activation(self, actor: Person, benefit_id: str, op_key: str | None = None) -> Benefit:
        """Seed: *Activate* an offer once a marketing contact exists; it goes to pending."""
        rules.require_can_manage_go_to_market(actor)
        async with self._lock:
            replayed = self._replayed(op_key, "benefit_id", self.repo.benefit)
            if replayed is not None:
                return replayed
            benefit = self._benefit(benefit_id)
            rules.require_marketing_contact(self.repo.marketing_contact())
            rules.require_can_request_offer_activation(benefit)
            after = replace(benefit, status=Status.PENDING_ACTIVATION)
            await self._commit([self.repo.put_benefit(after),
                                self._audit(actor, "offer.activation_requested", benefit.id,
                                            _public(benefit), _public(after))], op_key, {"benefit_id": after.id})
            return after

    # --- activation (from chat, the HTTP endpoint or the CLI) -----------------------------------

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
                        self._audit(actor, "benefit.activated", benefit.id, _public(benefit), _public(after))]
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

    # --- requests ---------------------------------------------------------------------------------
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

    # --- people and roles -------------------------------------------------------------------------
    async def set_roles(self, actor: Person, person_id: str, roles_: frozenset[Role]) -> Person:
        """Global admins grant and remove roles; the last Global admin cannot be removed.

        Global admin granted here is the bot's own grant (Entra will not take it back); one that came
        from Entra and is kept stays Entra's.
        """
        rules.require_can_manage_roles(actor)
        async with self._lock:
            person = self._person(person_id)
            rules.require_keeps_a_global_admin(self.repo.global_admins(), person.id, roles_)
            from_directory = person.admin_from_directory and Role.GLOBAL_ADMIN in roles_
            after = replace(person, roles=roles_, admin_from_directory=from_directory)
            await self._commit([self.repo.put_person(after),
                                self._audit(actor, "person.roles", person.id, person, after)])
            return after

    async def add_person(self, actor: Person, name: str, email: str, roles_: frozenset[Role] = frozenset()) -> Person:
        """Seed: "add new users in Account settings" when someone is not in the list."""
        rules.require_can_manage_roles(actor)
        async with self._lock:
            address = rules.validate_email(email)
            existing = self.repo.person_by_email(address)
            if existing is not None:
                return existing
            clean = names.normalize_name(name)
            names.require_distinct_name(clean, self.repo.people_like(clean))
            person = Person(id=uuid.uuid4().hex, name=clean, email=address.lower(), roles=roles_)
            await self._commit([self.repo.put_person(person),
                                self._audit(actor, "person.added", person.id, None, person)])
            return person

    async def remember_locale(self, person: Person, locale: str, timezone: str | None = None) -> Person:
        """The language and time zone of the person's Teams client, for messages sent without an
        incoming activity. ``timezone`` is a name the caller has already validated (or None)."""
        async with self._lock:
            current = self.repo.person(person.id) or person
            zone = timezone or current.timezone
            if current.locale == locale and current.timezone == zone:
                return current
            updated = replace(current, locale=locale, timezone=zone)
            await self._commit([self.repo.put_person(updated)])
            return updated

    async def sync_directory_admin(self, person: Person, entra_global_admin: bool) -> Person:
        """Mirror Entra's Global Administrator role, as Partner Center does.

        Listed by Entra: Global admin (marked as coming from Entra). No longer listed: the role is
        taken back if it came from Entra, unless that would leave nobody Global admin
        (``rules.require_keeps_a_global_admin``; logged so that someone grants another one).
        """
        async with self._lock:
            current = self.repo.person(person.id) or person
            if entra_global_admin:
                if current.has(Role.GLOBAL_ADMIN):
                    return current
                after = replace(current, roles=current.roles | {Role.GLOBAL_ADMIN}, admin_from_directory=True)
            else:
                if not (current.has(Role.GLOBAL_ADMIN) and current.admin_from_directory):
                    return current
                roles_ = current.roles - {Role.GLOBAL_ADMIN}
                try:
                    rules.require_keeps_a_global_admin(self.repo.global_admins(), current.id, roles_)
                except RuleViolation:
                    log.warning("Entra no longer lists the last Global admin as Global Administrator; "
                                "kept until another Global admin is granted", extra={"person_id": current.id})
                    return current
                after = replace(current, roles=roles_, admin_from_directory=False)
            await self._commit([self.repo.put_person(after),
                                self._audit(None, "person.roles", current.id, current, after, source="entra")])
            return after

    async def upsert_person(self, person: Person) -> Person:
        """Directory sync (Teams roster, Graph): keep what we know, fill in ids and names."""
        person = replace(person, name=names.display_name(person.name))
        async with self._lock:
            existing = (self.repo.person(person.id) or self.repo.person_by("aad_object_id", person.aad_object_id)
                        or self.repo.person_by("teams_id", person.teams_id)
                        or (self.repo.person_by_email(person.email) if person.email else None))
            if existing is None:
                await self._commit([self.repo.put_person(person)])
                return person
            merged = replace(
                existing,
                name=existing.name or person.name,
                email=existing.email or person.email,
                aad_object_id=existing.aad_object_id or person.aad_object_id,
                teams_id=existing.teams_id or person.teams_id,
                roles=existing.roles | person.roles,
            )
            if merged != existing:
                await self._commit([self.repo.put_person(merged)])
            return merged

    def recent_changes(self, actor: Person, subject_id: str, limit: int = 10,
                       offset: int = 0) -> tuple[list[AuditEntry], int]:
        """A page of one subject's changes, newest first, and how many there are (admins only)."""
        rules.require_admin(actor)
        return self.repo.audit_of(subject_id, limit, offset), self.repo.audit_count(subject_id)


_SECRET_FIELDS = ("keys",)


def _public(value: Any) -> dict[str, Any] | None:
    """A record without its secrets, for the audit trail (keys never leave their table)."""
    if value is None:
        return None
    doc: dict[str, Any] = value.to_doc() if hasattr(value, "to_doc") else dict(value)
    for name in _SECRET_FIELDS:
        doc.pop(name, None)
    return doc


def _doc(value: Any) -> dict[str, Any] | None:
    return _public(value)


def _subject(request: ServiceRequest) -> str:
    """Where a service request's changes show under "recent changes": its package or benefit."""
    return request.package_id or request.benefit_id
