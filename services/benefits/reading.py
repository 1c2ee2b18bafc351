"""Reading: the overview, the lists of benefits and assignees, what a person holds, recent changes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from domain import rules
from domain.models import Assignment, AuditEntry, Benefit, Category, Person, Status, Unit
from services.benefits.core import ServiceCore
from services.repository import ASSIGNMENTS, BENEFITS, PACKAGES

#: The overview's order of statuses: what is in use first, then what waits, then what is left.
_STATUS_ORDER = (Status.ACTIVE, Status.PENDING_ACTIVATION, Status.NOT_ACTIVATED, Status.EXPIRED)


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


class Reading(ServiceCore):
    """What admins and people see; nothing here writes."""

    #: the overview's rows and the versions of the tables they were computed from (see overview)
    _overview_memo: tuple[tuple[Any, ...], list[CategorySummary]] | None = None

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

    def recent_changes(self, actor: Person, subject_id: str, limit: int = 10,
                       offset: int = 0) -> tuple[list[AuditEntry], int]:
        """A page of one subject's changes, newest first, and how many there are (admins only)."""
        rules.require_admin(actor)
        return self.repo.audit_of(subject_id, limit, offset), self.repo.audit_count(subject_id)
