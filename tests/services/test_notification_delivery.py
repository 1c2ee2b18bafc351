"""Delivered once and never lost: the durable ``sending`` mark, per-send outcomes, crash recovery,
the bound on sends in flight, the limiter's accounting (counted like the channel counts) and its
rebuild after a restart. Time is a manual clock; nothing waits on the wall clock.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from services.notifications import DELIVERED, PENDING, SENDING, DeliveryError, Notification, Outbox, RateLimiter
from services.repository import INDEXES, OUTBOX
from services.storage import open_store
from tests._common.memory_store import SimpleStore
from tests.services._notify_fakes import ManualClock, RecordingSender, make_worker


async def fan_out(outbox: Outbox, count: int, event: str = "act") -> list[Notification]:
    notes = [Notification(event, f"p{i}", "activated", {}) for i in range(count)]
    await outbox.enqueue(notes)
    return notes


class StoreWatchingSender(RecordingSender):
    """Records, at each send, the durable state of the notification being sent and of earlier ones."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self.seen: list[tuple[str, dict[str, str]]] = []

    async def send(self, reference: dict[str, Any], card: dict[str, Any]) -> None:
        on_disk = {d["id"]: d["state"] for d in SimpleStore(self.path, INDEXES).all(OUTBOX)}
        self.seen.append((f"act|{reference['conversation']['id'][2:]}", on_disk))
        await super().send(reference, card)


async def test_sending_is_durable_before_the_request_and_delivered_right_after_it(tmp_path: Path) -> None:
    path = tmp_path / "benefits.json"
    clock = ManualClock()
    outbox = Outbox(SimpleStore(path, INDEXES), clock)
    await fan_out(outbox, 3)
    sender = StoreWatchingSender(path)
    worker = make_worker(outbox, sender, clock, concurrency=1)  # each send sees the previous outcome on disk
    await worker.drain()
    assert len(sender.seen) == 3
    for n, (doc_id, on_disk) in enumerate(sender.seen):
        assert on_disk[doc_id] == SENDING  # a crash now would leave it visibly in doubt
        delivered = sorted(i for i, state in on_disk.items() if state == DELIVERED)
        assert len(delivered) == n  # every earlier send is already recorded: no timer, no batch to wait for
    assert {d["state"] for d in outbox.store.all(OUTBOX)} == {DELIVERED}


async def test_a_crash_leaves_only_the_sends_in_flight_in_doubt_and_they_are_resent_flagged(tmp_path: Path) -> None:
    path = tmp_path / "benefits.json"
    clock = ManualClock()
    outbox = Outbox(SimpleStore(path, INDEXES), clock)
    await fan_out(outbox, 8)
    first = RecordingSender(block={"a:p5", "a:p6"})  # the process dies while these two are on the wire
    worker = make_worker(outbox, first, clock)
    task = asyncio.create_task(worker.drain())
    for _ in range(300):  # until the store file shows 6 delivered and 2 on the wire (writes run in a thread)
        await asyncio.sleep(0.01)
        states = [d["state"] for d in SimpleStore(path, INDEXES).all(OUTBOX)]
        if states.count(DELIVERED) == 6 and states.count(SENDING) == 2:
            break
    task.cancel()  # like SIGKILL for what is on disk: the store file is all the next process gets
    with pytest.raises(asyncio.CancelledError):
        await task
    on_disk = {d["id"]: d["state"] for d in SimpleStore(path, INDEXES).all(OUTBOX)}
    assert on_disk["act|p5"] == on_disk["act|p6"] == SENDING
    assert list(on_disk.values()).count(DELIVERED) == 6

    outbox2 = Outbox(SimpleStore(path, INDEXES), clock)
    second = RecordingSender()
    worker2 = make_worker(outbox2, second, clock)
    await worker2.drain()
    assert sorted(k for k, _ in second.sent) == ["a:p5", "a:p6"]  # in doubt: sent again, nobody else
    assert worker2.stats["ambiguous"] == 2
    for doc in outbox2.store.all(OUTBOX):
        assert doc["state"] == DELIVERED  # nothing lost
        assert bool(doc.get("ambiguous")) is (doc["id"] in ("act|p5", "act|p6"))


async def test_a_send_that_never_left_is_resent_like_any_in_doubt_one() -> None:
    clock = ManualClock()
    outbox = Outbox(SimpleStore(None, INDEXES), clock)
    await fan_out(outbox, 2)
    await outbox.record({"act|p0": {"state": SENDING, "attempts": 1}})  # what a crash leaves
    sender = RecordingSender()
    worker = make_worker(outbox, sender, clock)
    await worker.drain()
    await worker.drain()  # recovery happens once per process
    assert sorted(k for k, _ in sender.sent) == ["a:p0", "a:p1"]
    assert outbox.get("act|p0")["attempts"] == 2 and outbox.get("act|p1")["attempts"] == 1


async def test_sends_in_flight_are_bounded_by_the_concurrency() -> None:
    clock = ManualClock()
    outbox = Outbox(SimpleStore(None, INDEXES), clock)
    await fan_out(outbox, 20)
    release = asyncio.Event()
    in_flight = peak = 0

    class Slow(RecordingSender):
        async def send(self, reference: dict[str, Any], card: dict[str, Any]) -> None:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await release.wait()
            in_flight -= 1
            await super().send(reference, card)

    sender = Slow()
    worker = make_worker(outbox, sender, clock, rps=1000, concurrency=4)
    task = asyncio.create_task(worker.drain())
    for _ in range(200):
        await asyncio.sleep(0)
    assert peak == 4
    assert len(outbox.in_doubt()) <= 4  # the most a crash at this instant could leave in doubt
    release.set()
    await task
    assert len(sender.sent) == 20 and outbox.counts()[DELIVERED] == 20


async def test_pending_ids_come_from_the_index_without_a_scan(tmp_path: Path) -> None:
    store = open_store(tmp_path / "benefits.json", INDEXES)
    try:
        outbox = Outbox(store, ManualClock())
        await fan_out(outbox, 5)
        await outbox.record({"act|p2": {"state": DELIVERED}})
        scans = store.stats.scans
        assert outbox.pending_ids() == ["act|p0", "act|p1", "act|p3", "act|p4"]
        assert store.stats.scans == scans
        assert store.find_ids(OUTBOX, "recipient", "p1") == ["act|p1"]  # unindexed field: still right
    finally:
        await store.close()


# --- the limiter counts requests as the channel does --------------------------------------------------
def test_a_request_counts_from_its_answer_capped_after_it_left() -> None:
    now = [0.0]
    limiter = RateLimiter(per_app_rps=2, clock=lambda: now[0], answer_slack=0.1)
    limiter.reserve_app()
    assert limiter.app_wait() == 0  # one slot left
    limiter.reserve_app()
    assert limiter.app_wait() > 0  # both slots held while the requests are on the way
    assert limiter.complete_app(now=0.03, sent_at=0.0) == pytest.approx(0.03)  # answered: counted from then
    assert limiter.complete_app(now=0.5, sent_at=0.0) == pytest.approx(0.1)  # a late read: capped
    assert limiter.app_wait(now=1.0) == pytest.approx(0.03)
    assert limiter.app_wait(now=1.03) == 0  # the fake's window drops an arrival at exactly +1 s


async def test_a_restarted_worker_rebuilds_the_app_window_from_the_outbox() -> None:
    clock = ManualClock()
    outbox = Outbox(SimpleStore(None, INDEXES), clock)
    await fan_out(outbox, 3, event="old")
    counted = (clock() - timedelta(seconds=0.4)).isoformat()
    await outbox.record({f"old|p{i}": {"state": DELIVERED, "counted_at": counted} for i in range(3)})
    await fan_out(outbox, 1, event="new")
    sender = RecordingSender()
    worker = make_worker(outbox, sender, clock, rps=3)  # the previous process used the whole window
    await worker.drain()
    assert [k for k, _ in sender.sent] == ["a:p0"]
    assert clock.slept and sum(clock.slept) == pytest.approx(0.6)  # waited for the first of them to age out


async def test_a_429_does_not_lose_the_notification_and_keeps_its_slot_counted() -> None:
    clock = ManualClock()
    outbox = Outbox(SimpleStore(None, INDEXES), clock)
    await fan_out(outbox, 1)
    sender = RecordingSender(fail={"a:p0": [DeliveryError(429, "TooManyRequests", retry_after=1)]})
    worker = make_worker(outbox, sender, clock, rps=5)
    wait = await worker.drain()
    assert outbox.get("act|p0")["state"] == PENDING and wait == pytest.approx(1)
    assert len(worker.limiter.app._events) == 1 and worker.limiter.app.reserved == 0
    clock.advance(1)
    await worker.drain()
    assert outbox.get("act|p0")["state"] == DELIVERED


async def test_a_restarted_worker_rebuilds_each_chats_window_too() -> None:
    clock = ManualClock()
    outbox = Outbox(SimpleStore(None, INDEXES), clock)
    await outbox.enqueue([Notification(f"old{i}", "p0", "activated", {}) for i in range(7)])
    counted = (clock() - timedelta(seconds=0.5)).isoformat()
    await outbox.record({f"old{i}|p0": {"state": DELIVERED, "counted_at": counted} for i in range(7)})
    await outbox.enqueue([Notification("new", "p0", "activated", {})])
    sender = RecordingSender()
    await make_worker(outbox, sender, clock, rps=1000).drain()
    assert len(sender.sent) == 1
    assert sum(clock.slept) == pytest.approx(0.5)  # Teams' 7 per second per chat still counted the old ones


class StallingStore(SimpleStore):
    """A store whose outcome writes hang until released (a disk that stalls)."""

    def __init__(self) -> None:
        super().__init__(None, INDEXES)
        self.disk_back = asyncio.Event()

    async def apply(self, ops: Any) -> None:
        if any(getattr(op, "doc", {}).get("state") == DELIVERED for op in ops):
            await self.disk_back.wait()
        await super().apply(ops)


async def test_requests_sent_but_not_yet_recorded_are_bounded() -> None:
    clock = ManualClock()
    store = StallingStore()
    outbox = Outbox(store, clock)
    await fan_out(outbox, 10)
    sender = RecordingSender()
    worker = make_worker(outbox, sender, clock, rps=1000, concurrency=10, max_in_flight=2)
    task = asyncio.create_task(worker.drain())
    for _ in range(200):
        await asyncio.sleep(0)
    assert len(sender.sent) == 2  # the disk stalls: no third request leaves, so a crash repeats at most 2
    store.disk_back.set()
    await task
    assert len(sender.sent) == 10 and outbox.counts()[DELIVERED] == 10
