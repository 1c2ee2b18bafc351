"""Several instances on one PostgreSQL database behave as one store: each sees what the others wrote,
the seeds' rules hold when two of them race through the real service, and a decision taken on a stale
view never lands, even when an instance loses its lock on the database."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

import pytest

from domain.errors import RuleViolation
from domain.models import Category, Person, Role, Status
from services.benefits import BenefitsService
from services.inventory import demo_inventory, import_inventory, parse_inventory
from services.repository import INDEXES
from services.storage import Delete, Put
from services.storage.postgres import PostgresConfig, PostgresStore, StoreConflictError
from tests._common.postgres import PgCluster, unique_namespace

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
Opener = Callable[..., Awaitable[PostgresStore]]


@pytest.fixture
async def open_instance(pg_cluster: PgCluster) -> AsyncIterator[Opener]:
    """Opens instances on one fresh namespace of the session's server (a new bot process each)."""
    namespace = unique_namespace()
    opened: list[PostgresStore] = []

    async def open_one(**overrides: object) -> PostgresStore:
        config = dataclasses.replace(PostgresConfig(pg_cluster.dsn(), pool_min=1, pool_max=4, poll_seconds=60),
                                     **overrides)
        store = await PostgresStore.open(config, INDEXES, namespace=namespace)
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        await store.close()


async def test_an_instance_sees_what_another_wrote_after_catching_up(open_instance: Opener) -> None:
    a, b = await open_instance(), await open_instance()
    assert a.created and not b.created  # exactly one instance applied the schema
    await a.apply([Put("assignments", "a1", {"person_id": "p1", "benefit_id": "b1"}),
                   Put("people", "p1", {"email": "ada@contoso.com"})])
    assert b.get("people", "p1") is None  # not yet caught up
    await b.refresh()
    assert b.get("people", "p1") == {"id": "p1", "email": "ada@contoso.com"}
    assert [d["id"] for d in b.find("assignments", "person_id", "p1")] == ["a1"]
    await a.apply([Put("assignments", "a1", {"person_id": "p2", "benefit_id": "b1"}), Delete("people", "p1")])
    await b.apply([Put("people", "p3", {"email": "bo@contoso.com"})])  # a commit catches up too
    assert b.get("people", "p1") is None
    assert b.find("assignments", "person_id", "p1") == []
    assert [d["id"] for d in b.find("assignments", "person_id", "p2")] == ["a1"]
    await a.refresh()
    assert a.dump() == b.dump()


async def test_the_background_task_catches_up_without_a_turn(open_instance: Opener) -> None:
    a, b = await open_instance(), await open_instance(poll_seconds=0.05)
    await a.apply([Put("people", "p1", {"n": 1})])
    for _ in range(100):
        if b.get("people", "p1") is not None:
            break
        await asyncio.sleep(0.02)
    assert b.get("people", "p1") == {"id": "p1", "n": 1}


async def test_an_instance_behind_the_purged_tombstones_reloads_everything(open_instance: Opener,
                                                                          pg_cluster: PgCluster) -> None:
    a, b = await open_instance(tombstone_seconds=0.001), await open_instance()
    await a.apply([Put("people", "p1", {"n": 1}), Put("people", "p2", {"n": 2})])
    await b.refresh()
    await a.apply([Delete("people", "p1")])
    await asyncio.sleep(0.01)
    await a.purge_tombstones()  # the deletion is forgotten before b saw it
    await b.refresh()
    assert b.get("people", "p1") is None and b.get("people", "p2") == {"id": "p2", "n": 2}
    assert a.dump() == b.dump()


async def _seeded(open_instance: Opener) -> tuple[BenefitsService, BenefitsService]:
    a, b = await open_instance(), await open_instance()
    await import_inventory(a, parse_inventory(demo_inventory(NOW.date())))
    await b.refresh()
    return BenefitsService(a, clock=lambda: NOW), BenefitsService(b, clock=lambda: NOW)


def _last_seat(service: BenefitsService) -> tuple[str, Person, list[Person]]:
    """A Visual Studio benefit, an admin, and people who do not hold it."""
    repo = service.repo
    admin = next(p for p in repo.people() if p.has(Role.GLOBAL_ADMIN))
    benefit = next(b for b in repo.benefits(Category.VISUAL_STUDIO) if b.status is not Status.CANCELLED)
    holders = {a.person_id for a in repo.assignments_of_benefit(benefit.id) if a.is_current}
    free = [p for p in repo.people() if p.id not in holders]
    return benefit.id, admin, free


async def _leave_one_seat(service: BenefitsService, benefit_id: str) -> None:
    repo = service.repo
    benefit = repo.benefit(benefit_id)
    assert benefit is not None
    held = [a for a in repo.assignments_of_benefit(benefit_id) if a.is_current]
    await service.store.apply([repo.put_benefit(dataclasses.replace(benefit, quantity=len(held) + 1))])


async def test_two_instances_racing_for_the_last_visual_studio_seat_give_one_assignment(
        open_instance: Opener) -> None:
    one, two = await _seeded(open_instance)
    benefit_id, admin, free = _last_seat(one)
    assert len(free) >= 2
    for _ in range(3):  # three rounds: the race must hold every time, not once by luck
        await _leave_one_seat(one, benefit_id)
        await two.store.refresh()
        _, _, free = _last_seat(one)
        results = await asyncio.gather(one.assign(admin, benefit_id, free[0].id),
                                       two.assign(admin, benefit_id, free[1].id), return_exceptions=True)
        won = [r for r in results if not isinstance(r, BaseException)]
        lost = [r for r in results if isinstance(r, BaseException)]
        assert len(won) == 1, results
        assert len(lost) == 1 and isinstance(lost[0], RuleViolation), results
        for service in (one, two):
            await service.store.refresh()
            benefit = service.repo.benefit(benefit_id)
            assert benefit is not None
            held = [a for a in service.repo.assignments_of_benefit(benefit_id) if a.is_current]
            assert len(held) == benefit.quantity


async def test_a_redelivered_activity_on_another_instance_has_one_effect(open_instance: Opener) -> None:
    one, two = await _seeded(open_instance)
    benefit_id, admin, free = _last_seat(one)
    first = await one.assign(admin, benefit_id, free[0].id, op_key="activity-1")
    again = await two.assign(admin, benefit_id, free[1].id, op_key="activity-1")  # the replay asks for another
    assert again == first
    held = [a for a in two.repo.assignments_of_benefit(benefit_id) if a.is_current]
    assert [a.person_id for a in held].count(free[0].id) == 1
    assert free[1].id not in {a.person_id for a in held}


async def test_a_stale_decision_fails_when_the_lock_on_the_database_was_lost(
        open_instance: Opener, pg_cluster: PgCluster) -> None:
    a, b = await open_instance(), await open_instance()
    await a.apply([Put("seats", "vs", {"left": 1})])
    await b.refresh()
    async with a.mutation_lock():
        assert a.get("seats", "vs") == {"id": "vs", "left": 1}
        # the session holding a's advisory lock dies (a network cut, a failover): b may now take the lock
        killed = pg_cluster.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                                 "WHERE locktype = 'advisory' AND granted")
        assert killed == "1"
        async with b.mutation_lock():
            await b.apply([Put("seats", "vs", {"left": 0}), Put("holders", "bo", {})])
        with pytest.raises(StoreConflictError):  # a still believes one seat is left
            await a.apply([Put("seats", "vs", {"left": 0}), Put("holders", "ada", {})])
    await a.refresh()
    assert a.get("holders", "ada") is None and a.get("holders", "bo") == {"id": "bo"}
    async with a.mutation_lock():  # the next holder sees the newest state and may write again
        await a.apply([Put("seats", "vs", {"left": 0, "checked": True})])
    await b.refresh()
    assert b.get("seats", "vs") == {"id": "vs", "left": 0, "checked": True}


async def test_after_a_database_restart_the_next_operations_succeed_on_fresh_connections(
        open_instance: Opener, pg_cluster: PgCluster) -> None:
    store = await open_instance(pool_min=3, pool_max=3)
    await store.apply([Put("people", "p1", {"n": 1})])
    pg_cluster.restart("immediate")  # every pooled connection is now dead, and the pool does not know yet
    await store.apply([Put("people", "p2", {"n": 2})])
    await store.refresh()
    async with store.mutation_lock():
        await store.apply([Put("people", "p3", {"n": 3})])
    assert store.health().ready
    other = await open_instance()
    assert sorted(d["id"] for d in other.all("people")) == ["p1", "p2", "p3"]


async def test_a_database_of_an_older_schema_is_upgraded_at_start_and_a_newer_one_refused(
        pg_cluster: PgCluster) -> None:
    from services.storage import StoreUnavailableError

    url = pg_cluster.new_database()
    dbname = url.rsplit("/", 1)[1]
    config = PostgresConfig(url, pool_min=1, pool_max=3, poll_seconds=60)
    store = await PostgresStore.open(config, INDEXES)
    await store.apply([Put("people", "p1", {"n": 1})])
    await store.close()
    # as a bot of schema version 1 left it
    pg_cluster.psql("DROP TABLE benefits.store_instances; DROP TABLE benefits.store_claims; "
                    "DROP TABLE benefits.store_data_version; DELETE FROM benefits.store_migrations WHERE version >= 2",
                    dbname)
    store = await PostgresStore.open(config, INDEXES)
    assert not store.created and store.get("people", "p1") == {"id": "p1", "n": 1}
    await store.close()
    assert pg_cluster.psql("SELECT string_agg(version::text, ',' ORDER BY version) FROM benefits.store_migrations",
                           dbname) == "1,2,3,4"
    assert pg_cluster.psql("SELECT count(*) FROM benefits.store_instances", dbname) == "0"
    pg_cluster.psql("INSERT INTO benefits.store_migrations (version, name) VALUES (99, 'from a newer bot')", dbname)
    with pytest.raises(StoreUnavailableError, match="newer than this bot knows"):
        await PostgresStore.open(config, INDEXES)


async def test_catch_ups_asked_for_at_once_share_a_read_but_never_one_that_began_before_the_ask(
        open_instance: Opener) -> None:
    a, b = await open_instance(), await open_instance()
    reads: list[int] = []
    gate, read_done = asyncio.Event(), asyncio.Event()
    original = b._read_changes

    async def held_read(conn: object) -> object:
        changes = await original(conn)
        reads.append(1)
        read_done.set()
        await gate.wait()  # the read is done, its answer not yet handed out
        return changes

    b._read_changes = held_read
    early = asyncio.create_task(b.refresh())
    await read_done.wait()
    await a.apply([Put("people", "p1", {"n": 1})])  # committed after the running read took its snapshot
    late = [asyncio.create_task(b.refresh()) for _ in range(20)]  # asked after the commit
    await asyncio.sleep(0.05)
    gate.set()
    await asyncio.gather(early, *late)
    assert b.get("people", "p1") == {"id": "p1", "n": 1}
    assert len(reads) == 2  # the twenty late ones shared one read


async def test_an_import_on_one_instance_keeps_a_change_another_made_meanwhile(open_instance: Opener) -> None:
    from services.repository import Repository

    a, b = await open_instance(), await open_instance()
    inventory = parse_inventory(demo_inventory(NOW.date()))
    await import_inventory(a, inventory)
    await b.refresh()
    person = next(p for p in inventory.people if not p.has(Role.GLOBAL_ADMIN))
    repo = Repository(a)
    async with a.mutation_lock():  # an admin on instance a makes them a Global admin
        await a.apply([repo.put_person(dataclasses.replace(repo.person(person.id),
                                                           roles=person.roles | {Role.GLOBAL_ADMIN}))])
    assert not Repository(b).person(person.id).has(Role.GLOBAL_ADMIN)  # b has not caught up yet
    await import_inventory(b, inventory)  # the same inventory again, from instance b
    await a.refresh()
    assert Repository(a).person(person.id).has(Role.GLOBAL_ADMIN)  # merged, not overwritten by b's stale view
