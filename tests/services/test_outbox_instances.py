"""The outbox shared by several instances on one PostgreSQL database: each notification is sent by exactly
one instance, a notification produced by two instances at once is stored once, and a sender killed
mid-send has its claim taken over after the lease (flagged ambiguous), not before."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from services.notifications import DELIVERED, SENDING, Notification, Outbox
from services.repository import INDEXES
from services.storage.postgres import PostgresConfig, PostgresStore
from tests._common.postgres import PgCluster, unique_namespace
from tests.services._notify_fakes import ManualClock, RecordingSender, make_worker


@pytest.fixture
async def instances(pg_cluster: PgCluster) -> AsyncIterator[list[PostgresStore]]:
    namespace = unique_namespace()
    config = PostgresConfig(pg_cluster.dsn(), pool_min=1, pool_max=4, poll_seconds=60)
    stores = [await PostgresStore.open(config, INDEXES, namespace=namespace) for _ in range(3)]
    yield stores
    for store in stores:
        await store.close()


def notes(count: int, event: str = "ev") -> list[Notification]:
    return [Notification(f"{event}-{n // 3}", f"person-{n}", "assignment.created") for n in range(count)]


async def test_three_instances_send_each_notification_exactly_once(instances: list[PostgresStore]) -> None:
    clock = ManualClock()
    outboxes = [Outbox(store, clock) for store in instances]
    assert await outboxes[0].enqueue(notes(60)) == 60
    senders = [RecordingSender() for _ in instances]
    workers = [make_worker(outbox, sender, clock) for outbox, sender in zip(outboxes, senders, strict=True)]
    for store in instances:
        await store.refresh()
    await asyncio.gather(*(worker.drain() for worker in workers))
    sent = [conv for sender in senders for conv, _ in sender.sent]
    assert sorted(sent) == sorted(f"a:person-{n}" for n in range(60))  # every one, none twice
    assert sum(1 for sender in senders if sender.sent) >= 2  # the work was shared, not done by one
    await instances[2].refresh()
    assert outboxes[2].counts()[DELIVERED] == 60


async def test_the_same_notification_produced_by_two_instances_at_once_is_stored_once(
        instances: list[PostgresStore]) -> None:
    clock = ManualClock()
    first, second = Outbox(instances[0], clock), Outbox(instances[1], clock)
    created = await asyncio.gather(first.enqueue(notes(9, "reminder")), second.enqueue(notes(9, "reminder")))
    assert sorted(created) == [0, 9]
    sender = RecordingSender()
    await make_worker(first, sender, clock).drain()
    await instances[1].refresh()
    assert await second.enqueue(notes(9, "reminder")) == 0  # delivered ones are never reset to pending
    assert len(sender.sent) == 9


async def test_a_killed_senders_claim_is_taken_over_after_its_lease(instances: list[PostgresStore]) -> None:
    clock = ManualClock()
    outbox, other = Outbox(instances[0], clock), Outbox(instances[1], clock)
    await outbox.enqueue(notes(1))
    doc_id = notes(1)[0].id
    claimed = await outbox.claim(doc_id, "instance-killed-mid-send", lease_seconds=60)
    assert claimed is not None and claimed["state"] == SENDING
    await instances[1].refresh()
    sender = RecordingSender()
    worker = make_worker(other, sender, clock)
    await worker.drain()
    assert sender.sent == []  # the lease still holds: the other instance may yet be sending it
    assert await other.claim(doc_id, "someone-else", lease_seconds=60) is None
    clock.advance(61)
    await worker.drain()
    assert [conv for conv, _ in sender.sent] == ["a:person-0"]
    done = other.get(doc_id)
    assert done is not None and done["state"] == DELIVERED and done["ambiguous"] is True


async def test_instances_count_each_other_and_share_the_per_app_rate(pg_cluster: PgCluster) -> None:
    from services.notifications import RateLimiter

    namespace = unique_namespace()
    config = PostgresConfig(pg_cluster.dsn(), pool_min=1, pool_max=3, poll_seconds=0.05)
    one = await PostgresStore.open(config, INDEXES, namespace=namespace)
    two = await PostgresStore.open(config, INDEXES, namespace=namespace)
    try:
        for _ in range(100):
            if one.instances() == two.instances() == 2:
                break
            await asyncio.sleep(0.02)
        assert one.instances() == two.instances() == 2
        now = [0.0]
        limiter = RateLimiter(per_app_rps=50, clock=lambda: now[0], share=one.instances)
        admitted = 0
        while limiter.app_wait() == 0:  # one second's worth, all at once
            limiter.record_app()
            admitted += 1
        assert admitted == 25  # half of Teams' per-app limit: the other instance sends the other half
        await two.close()
        for _ in range(100):
            if one.instances() == 1:
                break
            await asyncio.sleep(0.02)
        assert one.instances() == 1
        now[0] += 1.0  # the window has passed
        while limiter.app_wait() == 0:
            limiter.record_app()
            admitted += 1
        assert admitted == 25 + 50  # alone again: the whole limit
    finally:
        await one.close()
        await two.close()


async def test_the_reminder_scan_is_claimed_by_one_instance_per_interval(instances: list[PostgresStore]) -> None:
    from services.benefits import BenefitsService
    from services.notifications.scheduler import ReminderScheduler

    clock = ManualClock()
    schedulers = [ReminderScheduler(BenefitsService(store, clock=clock), Outbox(store, clock), interval=900)
                  for store in instances]
    first = await asyncio.gather(*(s.claim_tick() for s in schedulers))
    assert sorted(first) == [False, False, True]  # three instances ticking at once: one scans
    clock.advance(600)
    assert not any([await s.claim_tick() for s in schedulers])  # not due yet for anyone
    clock.advance(300)
    assert [await s.claim_tick() for s in schedulers] == [True, False, False]
    from services.restore import plan_restore
    from services.storage.backup import export_data

    assert plan_restore({}, export_data(instances[0])).after == {"ticks": 1}  # a backup of it restores


async def test_a_claim_skips_a_notification_being_claimed_elsewhere_and_leaves_the_change_sequence_alone(
        instances: list[PostgresStore], pg_cluster: PgCluster) -> None:
    import psycopg

    clock = ManualClock()
    outbox = Outbox(instances[0], clock)
    await outbox.enqueue(notes(2))
    busy, free = (note.id for note in notes(2))
    namespace = instances[0].namespace
    head = f"SELECT seq FROM {namespace}.store_head"
    before = pg_cluster.psql(head)
    async with await psycopg.AsyncConnection.connect(pg_cluster.dsn()) as other, other.transaction():
        # another instance in the middle of claiming ``busy``: its row is locked
        await other.execute(f"SELECT 1 FROM {namespace}.store_documents WHERE tbl = 'outbox' AND id = %s FOR UPDATE",
                            (busy,))
        assert await asyncio.wait_for(outbox.claim(busy, "me", 60), 5) is None  # skipped, not waited for
        claimed = await asyncio.wait_for(outbox.claim(free, "me", 60), 5)
        assert claimed is not None and claimed["owner"] == "me"
    assert pg_cluster.psql(head) == before  # claims take no number of the change sequence (nor its lock)
    assert pg_cluster.psql(f"SELECT owner FROM {namespace}.store_claims WHERE id = '{free}'") == "me"
    assert (await outbox.claim(busy, "me", 60)) is not None  # free again once the other is done
    assert await Outbox(instances[1], clock).claim(free, "you", 60) is None  # held, though not in the document
    await outbox.record({free: {"state": DELIVERED}})
    assert await Outbox(instances[1], clock).claim(free, "you", 60) is None  # the outcome settles it


def test_each_instance_keeps_to_its_share_of_a_chats_limits_too() -> None:
    from services.notifications import RateLimiter

    now = [0.0]
    instances = [3]
    limiter = RateLimiter(per_app_rps=50, clock=lambda: now[0], share=lambda: instances[0])

    def burst() -> int:
        sent = 0
        while limiter.conversation_wait("a:lee") == 0 and sent < 100:
            limiter.record_conversation("a:lee")
            sent += 1
        return sent

    assert burst() == 2  # 7 a second for the chat, three instances: two each (never past 7 together)
    instances[0] = 1
    now[0] += 2.0  # the windows have passed
    assert burst() == 7  # alone again: the whole limit
    instances[0] = 10
    now[0] += 60.0
    assert burst() == 1 and limiter.conversation_wait("a:lee") > 1.0  # under one a second: a wider window
