"""The repository's decoded objects are shared between readers (the journaled engine caches one per
document version), so they must be immutable all the way down, and never stale after a write."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.models import Category, Person, Role, Status
from services.benefits import BenefitsService
from services.inventory import demo_inventory, import_inventory, parse_inventory
from services.repository import INDEXES, Repository
from services.storage import JournaledTinyStore

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[BenefitsService]:
    store = JournaledTinyStore(tmp_path / "benefits.json", INDEXES)
    await import_inventory(store, parse_inventory(demo_inventory(NOW.date())))
    yield BenefitsService(store, clock=lambda: NOW)
    await store.close()


def _everything(repo: Repository) -> list[object]:
    found: list[object] = [repo.organization(), repo.marketing_contact(), *repo.people(), *repo.packages(),
                           *repo.benefits(), *repo.all_assignments(), *repo.requests()]
    found += repo.key_reveals(b.id for b in repo.benefits())
    return [x for x in found if x is not None]


def test_every_cached_model_is_immutable_all_the_way_down(service: BenefitsService) -> None:
    """A dict or list inside a shared object could be changed by one caller under every other."""
    objects = _everything(service.repo)
    assert {type(o).__name__ for o in objects} >= {"Organization", "Person", "BenefitPackage", "Benefit"}
    for obj in objects:
        hash(obj)  # raises TypeError if any field (at any depth) is a dict, a list or a set
        assert dataclasses.fields(obj)
        with pytest.raises(dataclasses.FrozenInstanceError):
            obj.id = "x"


def test_reads_share_one_object_per_document_version(service: BenefitsService) -> None:
    repo = service.repo
    person = repo.people()[0]
    assert repo.person(person.id) is repo.person(person.id)
    benefit = repo.benefits()[0]
    assert repo.benefit(benefit.id) is benefit


async def test_a_person_is_never_stale_after_an_update(service: BenefitsService) -> None:
    repo = service.repo
    person = next(p for p in repo.people() if not p.has(Role.GLOBAL_ADMIN))
    assert repo.person(person.id) == person
    assert repo.person_by_email(person.email) == person
    admin = next(p for p in repo.people() if p.has(Role.GLOBAL_ADMIN))
    updated = await service.set_roles(admin, person.id, frozenset({Role.USER_ADMIN}))
    assert repo.person(person.id) == updated
    await service.store.apply([repo.put_person(dataclasses.replace(updated, name="Renamed"))])
    assert repo.person(person.id).name == "Renamed"
    assert repo.person_by_email(person.email).roles == frozenset({Role.USER_ADMIN})
    assert any(p.name == "Renamed" for p in repo.people())


async def test_assignments_and_the_overview_follow_writes(service: BenefitsService) -> None:
    repo = service.repo
    admin = next(p for p in repo.people() if p.has(Role.GLOBAL_ADMIN))
    before = {row.category: row for row in service.overview(admin)}
    benefit = next(b for b in repo.benefits(Category.VISUAL_STUDIO)
                   if b.status is not Status.CANCELLED and b.quantity > len(
                       [a for a in repo.assignments_of_benefit(b.id) if a.is_current]))
    taken = {a.person_id for a in repo.assignments_of_benefit(benefit.id) if a.is_current}
    assignee = next(p for p in repo.people() if p.id not in taken)
    held_before = len(repo.assignments_of_person(assignee.id))
    assignment = await service.assign(admin, benefit.id, assignee.id, alternate_email="", op_key=None)
    assert repo.assignment(assignment.id) == assignment
    assert assignment in repo.assignments_of_benefit(benefit.id)
    assert len(repo.assignments_of_person(assignee.id)) == held_before + 1
    after = {row.category: row for row in service.overview(admin)}
    assert after[Category.VISUAL_STUDIO].seats_assigned == before[Category.VISUAL_STUDIO].seats_assigned + 1
    assert after[Category.VISUAL_STUDIO].seats_available == max(0, before[Category.VISUAL_STUDIO].seats_available - 1)
    removed = await service.remove_assignment(admin, assignment.id)
    assert repo.assignment(assignment.id) == removed
    assert not repo.assignment(assignment.id).is_current
    # the seats are back; the benefit itself stays activated once a seat was used
    assert {row.category: (row.units, row.seats, row.seats_assigned) for row in service.overview(admin)} == {
        c: (row.units, row.seats, row.seats_assigned) for c, row in before.items()}


def test_a_shared_person_cannot_be_changed_by_a_caller(service: BenefitsService) -> None:
    person: Person = service.repo.people()[0]
    with pytest.raises(AttributeError):
        person.roles.add(Role.GLOBAL_ADMIN)  # a frozenset
    assert service.repo.person(person.id) == person
