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

import copy
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain import names, rules
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
    RequestKind,
    RequestStatus,
    Role,
    ServiceRequest,
    Status,
)
from services import collation
from services.i18n import DEFAULT_LOCALE, LOCALES
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

#: Tables a first turn does not need (the audit trail, half the documents of a large organization): a
#: start may leave them for the store to read once the bot answers (``DocumentStore.load_later``); every
#: read or write of one before then is still answered from the whole table.
LATER: tuple[str, ...] = (AUDIT,)

SINGLETON = "default"

#: Orderings of the people table (``DocumentStore.order_by``): everyone by name in each language's order
#: (:func:`by_name`: English alphabetically, zh-CN by pinyin, zh-TW by stroke count, as
#: ``services.collation`` collates), each sorted when a viewer of that language first asks for a page;
#: everyone under each word of their name and of their email (a search: its matches come in the order
#: of the text they matched by); the Global admins by folded name (they are few: a list of them shown
#: to someone is collated then).
BY_NAME = "by_name"
SEARCH = "search"
GLOBAL_ADMINS = "global_admins"
#: Everyone by the skeleton of their name (``domain.names``): who a new name may be mistaken for.
LOOK_ALIKES = "look_alikes"
#: Ends a key that is looked up whole (a prefix ending in it matches that key only).
EXACT = "\0"


def fold(text: str) -> str:
    """A name, email or search as it is compared: NFKC, case-folded, single spaces (``ＬＥＥ`` finds Lee)."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _ideograph(ch: str) -> bool:
    """Chinese (and other scripts written without spaces): each character may start a word."""
    return ch >= "\u2e80" and unicodedata.category(ch) == "Lo"


_WORD = re.compile(r"[^\W_]+")


def _word_starts(text: str) -> Iterator[str]:
    """``text`` from each place a word starts: ``lee gu``, ``gu``; ``王小明``, ``小明``, ``明``."""
    for word in _WORD.finditer(text):
        start, end = word.span()
        yield text[start:]
        if max(word.group()) >= "\u2e80":  # inside a word, an ideograph starts one and ends one
            for i in range(start + 1, end):
                if _ideograph(text[i]) or _ideograph(text[i - 1]):
                    yield text[i:]


def _person_keys(name: str, email: str) -> list[str]:
    """``[folded name, each later word start, folded email]``."""
    folded = fold(name)
    keys = [folded, *(key for key in _word_starts(folded) if key != folded)]
    email = fold(email)
    return [*keys, email] if email else keys


def _keys_of(doc: dict[str, Any]) -> list[str]:
    return _person_keys(str(doc.get("name") or ""), str(doc.get("email") or ""))


def name_key(doc: dict[str, Any]) -> list[str]:
    return [fold(str(doc.get("name") or ""))]


def by_name(locale: str) -> str:
    """The ordering of everyone by name in ``locale``'s order (an unknown locale: the default's)."""
    return f"{BY_NAME}.{locale if locale in LOCALES else DEFAULT_LOCALE}"


def _collation_key(locale: str) -> Callable[[dict[str, Any]], list[str]]:
    def collation_key(doc: dict[str, Any]) -> list[str]:
        return [collation.sort_key(locale, str(doc.get("name") or ""))]

    return collation_key


#: ``{ordering: its keys}`` of each language (one function each, for good: ``order_by`` sees it declared)
_BY_NAME_KEYS = {by_name(locale): _collation_key(locale) for locale in LOCALES}


def search_keys(doc: dict[str, Any]) -> list[str]:
    """A person is found by the start of any word of their name, or of their email."""
    return _keys_of(doc)


#: The ordering of requests still waiting for someone, by when they were made: benefit requests to
#: decide (``PENDING_BENEFIT``), Partner Center service requests not closed (``OPEN_SERVICE``).
OPEN_REQUESTS = "open"
PENDING_BENEFIT = "benefit\0"
OPEN_SERVICE = "service\0"


def open_request_key(doc: dict[str, Any]) -> list[str]:
    request = ServiceRequest.from_doc(copy.deepcopy(doc))
    when = request.created_at.isoformat()
    if request.kind is RequestKind.BENEFIT and request.status is RequestStatus.SUBMITTED:
        return [PENDING_BENEFIT + when]
    if rules.is_partner_center_request(request) and rules.service_request_stage(request) is not RequestStatus.CLOSED:
        return [OPEN_SERVICE + when]
    return []


#: The audit trail by time, oldest first: what the retention (``services.audit_archive``) moves out first.
AUDIT_BY_TIME = "by_time"


def audit_time_key(doc: dict[str, Any]) -> str:
    """When the change was made, as UTC ISO text (which sorts as the times do)."""
    at = str(doc.get("at") or "")
    if at.endswith("+00:00"):
        return at
    try:
        return datetime.fromisoformat(at).astimezone(UTC).isoformat()
    except ValueError:
        return ""


def audit_time_keys(doc: dict[str, Any]) -> list[str]:
    return [audit_time_key(doc)]


def matches(person: Person, query: str) -> bool:
    """Whether a search for ``query`` finds ``person`` (the same test as the directory's index)."""
    prefix = fold(query)
    return any(key.startswith(prefix) for key in _person_keys(person.name, person.email))


def _skeleton_of(name: str) -> str:
    return names.skeleton(name) + EXACT if name else ""


def skeleton_key(doc: dict[str, Any]) -> list[str]:
    key = _skeleton_of(str(doc.get("name") or ""))
    return [key] if key else []


#: Current, active seats with an Expires date, by that date: the seats whose expiry reminders may be due.
EXPIRING_SEATS = "expiring_seats"
#: what the stored text of every seat with an Expires date holds (the date is a JSON string)
EXPIRES_TEXT = '"expires_on":"'


def expiring_seat_key(doc: dict[str, Any]) -> list[str]:
    seat = Assignment.from_doc(copy.deepcopy(doc))
    if seat.is_current and seat.status is Status.ACTIVE and seat.expires_on is not None:
        return [seat.expires_on.isoformat()]
    return []


#: what the stored text of every Global admin holds (their roles list the role's value as a JSON string)
GLOBAL_ADMIN_TEXT = json.dumps(Role.GLOBAL_ADMIN.value)


def global_admin_key(doc: dict[str, Any]) -> list[str]:
    roles = doc.get("roles")
    return name_key(doc) if isinstance(roles, list) and Role.GLOBAL_ADMIN.value in roles else []


class Repository:
    """Reads domain objects; builds the write operations that the service applies in one batch."""

    def __init__(self, store: DocumentStore) -> None:
        self.store = store
        for ordering, keys in _BY_NAME_KEYS.items():
            store.order_by(PEOPLE, ordering, keys)
        store.order_by(PEOPLE, SEARCH, search_keys)
        store.order_by(PEOPLE, GLOBAL_ADMINS, global_admin_key, listed_only_with=GLOBAL_ADMIN_TEXT)
        store.order_by(PEOPLE, LOOK_ALIKES, skeleton_key)
        store.order_by(REQUESTS, OPEN_REQUESTS, open_request_key)
        store.order_by(ASSIGNMENTS, EXPIRING_SEATS, expiring_seat_key, listed_only_with=EXPIRES_TEXT)
        store.order_by(AUDIT, AUDIT_BY_TIME, audit_time_keys)

    # --- organization and people -------------------------------------------------------------
    def organization(self) -> Organization | None:
        return self.store.get_decoded(ORG, SINGLETON, Organization.from_doc)

    def person(self, person_id: str) -> Person | None:
        return self.store.get_decoded(PEOPLE, person_id, Person.from_doc) if person_id else None

    def people(self) -> list[Person]:
        """Everyone (O(n)): for rules over the whole directory; a card shows :meth:`people_page`."""
        return sorted(self.store.all_decoded(PEOPLE, Person.from_doc), key=lambda p: p.name.lower())

    def people_page(self, query: str = "", offset: int = 0, limit: int = 20,
                    locale: str = DEFAULT_LOCALE) -> tuple[list[Person], int]:
        """A page of the directory by name in ``locale``'s order, or of the people a word of whose name or
        whose email starts with ``query`` (case and width ignored); and how many match. O(log n + limit)."""
        prefix = fold(query)
        ids, count = self.store.ordered(PEOPLE, SEARCH if prefix else by_name(locale), prefix, offset, limit)
        return self.people_by_ids(ids), count

    def people_by_ids(self, ids: Iterable[str]) -> list[Person]:
        """The people of ``ids`` that exist, in that order."""
        found = (self.person(i) for i in ids)
        return [p for p in found if p is not None]

    def picker_people(self, include: Iterable[str] = (), limit: int = 40,
                      locale: str = DEFAULT_LOCALE) -> list[Person]:
        """A people picker's static choices: the first ``limit`` people by name in ``locale``'s order, and
        those of ``include`` (the picker's current value) wherever they sort; Teams' people search finds
        everyone else."""
        first, _ = self.people_page("", 0, limit, locale)
        shown = {p.id for p in first}
        return first + self.people_by_ids(i for i in dict.fromkeys(include) if i and i not in shown)

    def names_of(self, ids: Iterable[str]) -> dict[str, str]:
        """``{id: name}`` of the people among ``ids`` (a card names only whom it shows)."""
        return {p.id: p.name for p in self.people_by_ids(dict.fromkeys(ids))}

    def people_like(self, name: str) -> list[Person]:
        """The people whose name has the same skeleton as ``name``: whom ``domain.names.require_distinct_name``
        compares a new name with, found without reading everyone."""
        ids, _ = self.store.ordered(PEOPLE, LOOK_ALIKES, names.skeleton(name) + EXACT, 0, 1 << 30)
        return self.people_by_ids(ids)

    def global_admins(self, locale: str | None = None) -> list[Person]:
        """The Global admins, by name (in ``locale``'s order, when they are shown), without reading anyone
        else."""
        ids, _ = self.store.ordered(PEOPLE, GLOBAL_ADMINS, "", 0, 1 << 30)
        admins = self.people_by_ids(ids)
        return admins if locale is None else collation.collated(locale, admins, lambda p: p.name)

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

    def seats_expiring(self, first: date, days: int) -> list[Assignment]:
        """The current, active seats that expire on ``first`` or within ``days`` days after it, by their
        Expires date, then as :meth:`assignments_of_benefit` orders them; O(log n) a day, not O(n)."""
        ids: list[str] = []
        for n in range(days + 1):
            day = (first + timedelta(days=n)).isoformat()
            ids.extend(self.store.ordered(ASSIGNMENTS, EXPIRING_SEATS, day, 0, 1 << 30)[0])
        return _sorted_assignments([a for a in (self.assignment(i) for i in ids) if a is not None])

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

    def open_requests(self, which: str, offset: int = 0, limit: int = 10) -> tuple[list[ServiceRequest], int]:
        """A page of the requests still waiting (``PENDING_BENEFIT`` or ``OPEN_SERVICE``), newest first,
        and how many there are: O(log n + limit) however many were ever made."""
        ids, total = self.store.ordered(REQUESTS, OPEN_REQUESTS, which, offset, limit, reverse=True)
        found = (self.request(i) for i in ids)
        return [r for r in found if r is not None], total

    def audit_of(self, subject_id: str, limit: int = 10, offset: int = 0) -> list[AuditEntry]:
        """The changes of one subject, newest first, from ``offset``: only the page's entries are read.

        The index lists a subject's entries in the order they were written, which is the order they
        happened (the trail is only appended to); the page is sorted by time all the same.
        """
        ids = self.store.find_ids(AUDIT, "subject_id", subject_id)
        end = max(0, len(ids) - max(0, offset))
        page = [self.store.get(AUDIT, i) for i in reversed(ids[max(0, end - max(0, limit)):end])]
        entries = [AuditEntry.from_doc(d) for d in page if d is not None]
        return sorted(entries, key=lambda e: e.at, reverse=True)

    def audit_count(self, subject_id: str) -> int:
        return self.store.count(AUDIT, "subject_id", subject_id)

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
