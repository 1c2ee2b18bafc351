"""The overview's rows are reused while the benefits and assignments tables are unchanged; any write to
either (put or delete, from the service or straight to the store) makes them be computed again."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.errors import RuleViolation
from domain.models import Category, Role, Status
from services.benefits import BenefitsService
from services.inventory import demo_inventory, import_inventory, parse_inventory
from services.repository import ASSIGNMENTS, BENEFITS, INDEXES
from services.storage import JournaledTinyStore
from services.storage.base import Delete

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[BenefitsService]:
    store = JournaledTinyStore(tmp_path / "benefits.json", INDEXES)
    await import_inventory(store, parse_inventory(demo_inventory(NOW.date())))
    yield BenefitsService(store, clock=lambda: NOW)
    await store.close()


def _fresh(service: BenefitsService, admin: object) -> list[object]:
    """What the overview computes with no memo."""
    service._overview_memo = None
    return service.overview(admin)


async def test_table_version_changes_on_every_write_and_only_its_table(service: BenefitsService) -> None:
    store = service.store
    benefit = service.repo.benefits()[0]
    seen = {store.table_version(BENEFITS)}
    assignments = store.table_version(ASSIGNMENTS)
    await store.apply([service.repo.put_benefit(dataclasses.replace(benefit, name="Renamed"))])
    seen.add(store.table_version(BENEFITS))
    await store.apply([service.repo.put_benefit(benefit)])  # back to the same content: still a new version
    seen.add(store.table_version(BENEFITS))
    await store.apply([Delete(BENEFITS, benefit.id)])
    seen.add(store.table_version(BENEFITS))
    assert len(seen) == 4
    assert store.table_version(ASSIGNMENTS) == assignments


async def test_overview_is_never_stale_after_writes(service: BenefitsService) -> None:
    repo = service.repo
    admin = next(p for p in repo.people() if p.has(Role.GLOBAL_ADMIN))
    first = service.overview(admin)
    assert service.overview(admin) == first == _fresh(service, admin)
    # A seat taken through the service.
    benefit = next(b for b in repo.benefits(Category.VISUAL_STUDIO) if b.status is not Status.CANCELLED and
                   b.quantity > len([a for a in repo.assignments_of_benefit(b.id) if a.is_current]))
    taken = {a.person_id for a in repo.assignments_of_benefit(benefit.id) if a.is_current}
    assignee = next(p for p in repo.people() if p.id not in taken)
    service.overview(admin)  # memoized now
    assignment = await service.assign(admin, benefit.id, assignee.id, alternate_email="", op_key=None)
    after_assign = service.overview(admin)
    assert after_assign != first
    assert after_assign == _fresh(service, admin)
    # A benefit's quantity changed straight in the store (no service call).
    service.overview(admin)
    await service.store.apply([repo.put_benefit(dataclasses.replace(benefit, quantity=benefit.quantity + 5))])
    after_quantity = service.overview(admin)
    assert after_quantity != after_assign
    assert after_quantity == _fresh(service, admin)
    # An assignment deleted straight in the store.
    service.overview(admin)
    await service.store.apply([Delete(ASSIGNMENTS, assignment.id)])
    after_delete = service.overview(admin)
    assert after_delete != after_quantity
    assert after_delete == _fresh(service, admin)


async def test_overview_memo_still_checks_the_actor_and_hands_out_copies(service: BenefitsService) -> None:
    repo = service.repo
    admin = next(p for p in repo.people() if p.has(Role.GLOBAL_ADMIN))
    nobody = next(p for p in repo.people() if not p.roles)
    rows = service.overview(admin)
    rows.clear()  # a caller changing its list changes nobody else's
    assert service.overview(admin) == _fresh(service, admin) != []
    with pytest.raises(RuleViolation):
        service.overview(nobody)
