"""A large organization beside the demo one: people, Visual Studio seats, changes, requests and
notifications that did not arrive, all growing with the number of people.

Shared by the growth tests (a card for 1,000 or 10,000 people stays small) and ``bench/growth_bench.py``
(the cost of the listed turns at 1k, 10k and 150k people). Deterministic: the same ``n`` gives the
same documents. Names are English and Chinese, so a search is tried on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from domain.models import (
    Assignment,
    AuditEntry,
    Benefit,
    BenefitKind,
    BenefitPackage,
    Person,
    RequestKind,
    RequestStatus,
    ServiceRequest,
    Status,
)
from services.notifications.outbox import UNDELIVERABLE
from services.repository import OUTBOX, Repository
from services.storage.base import Op, Put

GIVEN = ("Avery", "Blake", "Casey", "Devon", "Emery", "Finley", "Gray", "Harper", "Indy", "Jordan", "Kai", "Logan")
FAMILY = ("Adams", "Brown", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jones", "Kim", "Lopez")
CHINESE_FAMILY = ("王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周")
CHINESE_GIVEN = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟")
#: Seats per crowd Visual Studio benefit; one such benefit per ``PEOPLE_PER_BENEFIT`` people.
SEATS = 50
PEOPLE_PER_BENEFIT = 500
PACKAGE_ID = "pkg-crowd"
BATCH = 5_000
START = datetime(2026, 1, 1, tzinfo=UTC)
#: Days between two changes about one person: a trail of six spans five years, as a large one does.
CHANGE_EVERY_DAYS = 300


def person_id(i: int) -> str:
    return f"crowd-{i:06d}"


def crowd_person(i: int) -> Person:
    """Every third person has a Chinese name; the rest an English one (first names repeat, as they do)."""
    if i % 3 == 2:
        name = f"{CHINESE_FAMILY[i % len(CHINESE_FAMILY)]}{CHINESE_GIVEN[(i // 7) % len(CHINESE_GIVEN)]}{i}"
        email = f"wang.{i}@contoso.com"
    else:
        given, family = GIVEN[i % len(GIVEN)], FAMILY[(i // len(GIVEN)) % len(FAMILY)]
        name = f"{given} {family} {i}"
        email = f"{given.lower()}.{family.lower()}.{i}@contoso.com"
    return Person(id=person_id(i), name=name, email=email)


def benefit_id(j: int) -> str:
    return f"vs-crowd-{j:04d}"


def benefits(n: int) -> int:
    return max(1, n // PEOPLE_PER_BENEFIT)


def crowd_ops(n: int, today: date, actor_id: str, changes_per_person: int = 2,
              people: bool = True) -> Iterator[list[Op]]:
    """Batches of puts for ``n`` people; one Visual Studio benefit of ``SEATS`` seats per 500 people, all
    seats held (``n / 10`` assignments); ``changes_per_person`` audit entries about each person; one
    pending benefit request and one undelivered notification per 100 people. ``people=False``: all but
    the people themselves (imported from an inventory). A person's changes are ``CHANGE_EVERY_DAYS``
    apart, the last one in 2026 (so a retention period keeps some and archives the rest)."""
    ops: list[Op] = []

    def flush() -> Iterator[list[Op]]:
        nonlocal ops
        if len(ops) >= BATCH:
            yield ops
            ops = []

    ops.append(Repository.put_package(BenefitPackage(PACKAGE_ID, "Crowd competency", today - timedelta(days=30),
                                                     "Crowd program", today + timedelta(days=335))))
    for j in range(benefits(n)):
        ops.append(Repository.put_benefit(Benefit(benefit_id(j), PACKAGE_ID, BenefitKind.VISUAL_STUDIO,
                                                  f"Visual Studio Crowd {j}", quantity=SEATS, status=Status.ACTIVE,
                                                  activated_on=today - timedelta(days=20))))
    for i in range(n):
        person = crowd_person(i)
        if people:
            ops.append(Repository.put_person(person))
        at = START + timedelta(minutes=i)
        for k in range(changes_per_person):
            when = at - timedelta(days=CHANGE_EVERY_DAYS * (changes_per_person - 1 - k), seconds=-k)
            ops.append(Repository.put_audit(AuditEntry(f"crowd-audit-{i}-{k}", when, actor_id,
                                                       "person.roles_set", person.id, {"roles": []},
                                                       {"roles": ["user_admin"] if k % 2 == 0 else []})))
        j, seat = divmod(i, 10)
        if seat == 0 and j // SEATS < benefits(n):
            ops.append(Repository.put_assignment(Assignment(f"crowd-seat-{i}", benefit_id(j // SEATS), person.id,
                                                            actor_id, at, Status.ACTIVE,
                                                            activated_on=today - timedelta(days=10))))
            ops.append(Repository.put_audit(AuditEntry(f"crowd-audit-seat-{i}", at, actor_id, "assignment.created",
                                                       benefit_id(j // SEATS), None,
                                                       {"person_id": person.id, "status": "active"})))
        if i % 100 == 1:
            ops.append(Repository.put_request(ServiceRequest(f"crowd-request-{i}", f"BR-C{i:06d}",
                                                             RequestKind.BENEFIT, person.id, at,
                                                             RequestStatus.SUBMITTED, benefit_id=benefit_id(0))))
        if i % 100 == 2:
            ops.append(Put(OUTBOX, f"crowd-event-{i}|{person.id}", {
                "event_id": f"crowd-event-{i}", "recipient": person.id, "kind": "assigned", "params": {},
                "state": UNDELIVERABLE, "attempts": 1, "not_before": "", "created_at": at.isoformat(),
                "updated_at": at.isoformat(), "reason": "no_conversation", "status": 0}))
        yield from flush()
    if ops:
        yield ops
