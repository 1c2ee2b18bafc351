"""Typed access to the domain objects kept in a :class:`~services.storage.base.DocumentStore`.

The repository turns documents into domain dataclasses and back; it owns the table names and the
indexes the bot looks things up by. It decides nothing: rules live in ``domain.rules`` and the
order of reads and writes in ``services.benefits``.

Reads go through the store's ``*_decoded`` methods: the journaled engine decodes a document once per
version and hands every reader the same object until the document is written again. That is safe
only because these models are immutable all the way down (frozen dataclasses of scalars, dates,
enums, tuples and frozensets; ``tests/services/test_decoded_cache.py`` checks it). ``AuditEntry``
holds dicts, which a reader could change, so it is decoded per read from a fresh copy.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.models import (
    Assignment,
    AuditEntry,
    Benefit,
    BenefitPackage,
    Category,
    KeyReveal,
    MarketingContact,
    Organization,
    Person,
    ServiceRequest,
)
from services.storage.base import DocumentStore, Op, Put

ORG = "organization"
PEOPLE = "people"
PACKAGES = "packages"
BENEFITS = "benefits"
ASSIGNMENTS = "assignments"
KEY_REVEALS = "key_reveals"
MARKETING = "marketing_contact"
REQUESTS = "requests"
AUDIT = "audit"
CONVERSATIONS = "conversations"
PREFERENCES = "preferences"
PROCESSED = "processed"
OUTBOX = "outbox"
#: when the next periodic job (the reminder scan) is due: the instance that claims it runs it
TICKS = "ticks"

#: Fields looked up often enough to be indexed by the storage engine.
INDEXES: dict[str, tuple[str, ...]] = {
    PEOPLE: ("email", "aad_object_id", "teams_id"),
    BENEFITS: ("package_id", "category"),
    ASSIGNMENTS: ("person_id", "benefit_id"),
    KEY_REVEALS: ("benefit_id",),
    REQUESTS: ("requested_by", "kind", "reference"),
    AUDIT: ("subject_id",),
    OUTBOX: ("state", "event_id"),
}

SINGLETON = "default"


class Repository:
    """Reads domain objects; builds the write operations that the service applies in one batch."""

    def __init__(self, store: DocumentStore) -> None:
        self.store = store

    # --- organization and people -------------------------------------------------------------
    def organization(self) -> Organization | None:
        return self.store.get_decoded(ORG, SINGLETON, Organization.from_doc)

    def person(self, person_id: str) -> Person | None:
        return self.store.get_decoded(PEOPLE, person_id, Person.from_doc) if person_id else None

    def people(self) -> list[Person]:
        return sorted(self.store.all_decoded(PEOPLE, Person.from_doc), key=lambda p: p.name.lower())

    def person_by(self, field: str, value: str) -> Person | None:
        if not value:
            return None
        found = self.store.find_decoded(PEOPLE, field, value, Person.from_doc)
        return found[0] if found else None

    def person_by_email(self, email: str) -> Person | None:
        return self.person_by("email", email.strip().lower())

    # --- packages and benefits ----------------------------------------------------------------
    def packages(self) -> list[BenefitPackage]:
        return sorted(self.store.all_decoded(PACKAGES, BenefitPackage.from_doc), key=lambda p: p.purchased_on)

    def package(self, package_id: str) -> BenefitPackage | None:
        return self.store.get_decoded(PACKAGES, package_id, BenefitPackage.from_doc) if package_id else None

    def benefit(self, benefit_id: str) -> Benefit | None:
        return self.store.get_decoded(BENEFITS, benefit_id, Benefit.from_doc) if benefit_id else None

    def benefits(self, category: Category | None = None) -> list[Benefit]:
        found = (self.store.find_decoded(BENEFITS, "category", category.value, Benefit.from_doc) if category
                 else self.store.all_decoded(BENEFITS, Benefit.from_doc))
        return sorted(found, key=lambda b: (b.kind, b.name))

    def benefits_of_package(self, package_id: str) -> list[Benefit]:
        return self.store.find_decoded(BENEFITS, "package_id", package_id, Benefit.from_doc)

    # --- assignments, keys, contact, requests -------------------------------------------------
    def assignment(self, assignment_id: str) -> Assignment | None:
        return self.store.get_decoded(ASSIGNMENTS, assignment_id, Assignment.from_doc) if assignment_id else None

    def assignments_of_benefit(self, benefit_id: str) -> list[Assignment]:
        return _sorted_assignments(self.store.find_decoded(ASSIGNMENTS, "benefit_id", benefit_id, Assignment.from_doc))

    def assignments_of_person(self, person_id: str) -> list[Assignment]:
        return _sorted_assignments(self.store.find_decoded(ASSIGNMENTS, "person_id", person_id, Assignment.from_doc))

    def all_assignments(self) -> list[Assignment]:
        return _sorted_assignments(self.store.all_decoded(ASSIGNMENTS, Assignment.from_doc))

    def key_reveals(self, benefit_ids: Iterable[str]) -> list[KeyReveal]:
        out: list[KeyReveal] = []
        for benefit_id in benefit_ids:
            out.extend(self.store.find_decoded(KEY_REVEALS, "benefit_id", benefit_id, KeyReveal.from_doc))
        return out

    def marketing_contact(self) -> MarketingContact | None:
        return self.store.get_decoded(MARKETING, SINGLETON, MarketingContact.from_doc)

    def request(self, request_id: str) -> ServiceRequest | None:
        return self.store.get_decoded(REQUESTS, request_id, ServiceRequest.from_doc) if request_id else None

    def requests(self) -> list[ServiceRequest]:
        return sorted(self.store.all_decoded(REQUESTS, ServiceRequest.from_doc),
                      key=lambda r: r.created_at, reverse=True)

    def audit_of(self, subject_id: str, limit: int = 10) -> list[AuditEntry]:
        entries = [AuditEntry.from_doc(d) for d in self.store.find(AUDIT, "subject_id", subject_id)]
        return sorted(entries, key=lambda e: e.at, reverse=True)[:limit]

    # --- bot bookkeeping ------------------------------------------------------------------------
    # --- write operations (applied by the caller, atomically, with the rest of its batch) -------
    @staticmethod
    def put_person(person: Person) -> Op:
        doc = person.to_doc()
        doc["email"] = person.email.strip().lower()
        return Put(PEOPLE, person.id, doc)

    @staticmethod
    def put_benefit(benefit: Benefit) -> Op:
        return Put(BENEFITS, benefit.id, {**benefit.to_doc(), "category": benefit.category.value})

    @staticmethod
    def put_package(package: BenefitPackage) -> Op:
        return Put(PACKAGES, package.id, package.to_doc())

    @staticmethod
    def put_assignment(assignment: Assignment) -> Op:
        return Put(ASSIGNMENTS, assignment.id, assignment.to_doc())

    @staticmethod
    def put_reveal(reveal: KeyReveal) -> Op:
        return Put(KEY_REVEALS, reveal.id, reveal.to_doc())

    @staticmethod
    def put_marketing_contact(contact: MarketingContact) -> Op:
        return Put(MARKETING, SINGLETON, contact.to_doc())

    @staticmethod
    def put_request(request: ServiceRequest) -> Op:
        return Put(REQUESTS, request.id, request.to_doc())

    @staticmethod
    def put_audit(entry: AuditEntry) -> Op:
        return Put(AUDIT, entry.id, entry.to_doc())

    @staticmethod
    def put_organization(org: Organization) -> Op:
        return Put(ORG, SINGLETON, org.to_doc())

    @staticmethod
    def mark_processed(key: str, result: dict[str, Any] | None = None) -> Op:
        return Put(PROCESSED, key, {"result": result or {}})


def _sorted_assignments(assignments: list[Assignment]) -> list[Assignment]:
    return sorted(assignments, key=lambda a: a.assigned_at)
