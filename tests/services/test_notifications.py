"""The outbox, the rate limiter, the worker's retries and the expiry reminders, on an injected clock."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from domain.models import Status
from services.benefits import BenefitsService
from services.notifications import (
    DELIVERED,
    GIVEN_UP,
    PENDING,
    UNDELIVERABLE,
    DeliveryError,
    Notification,
    Outbox,
    RateLimiter,
    RetryPolicy,
    SlidingWindow,
)
from services.notifications.events import NotificationListener
from services.notifications.scheduler import ReminderScheduler
from services.repository import INDEXES
from tests._common.memory_store import SimpleStore
from tests.services._notify_fakes import ManualClock, RecordingSender, make_worker, seeded_service

ALEX = "00000000-0000-0000-0000-0000000000a1"
LEE = "00000000-0000-0000-0000-0000000000a3"
NESTOR = "00000000-0000-0000-0000-0000000000a4"


def outbox_with(*recipients: str, event: str = "e1", store: SimpleStore | None = None,
                clock: ManualClock | None = None) -> Outbox:
    return Outbox(store or SimpleStore(None, INDEXES), clock or ManualClock())


# --- rate limiter ------------------------------------------------------------------------------------
def test_sliding_window_admits_limit_then_waits_for_the_oldest() -> None:
    window = SlidingWindow(7, 1.0)
    for i in range(7):
        assert window.wait_time(100.0 + i * 0.01) == 0
        window.record(100.0 + i * 0.01)
    assert window.wait_time(100.5) == pytest.approx(0.5)
    assert window.wait_time(101.0) == 0


def test_conversation_limits_are_teams_published_ones() -> None:
    now = [0.0]
    limiter = RateLimiter(per_app_rps=1000, clock=lambda: now[0])
    for _ in range(7):
        assert limiter.conversation_wait("c") == 0
        limiter.record("c")
    assert limiter.conversation_wait("c") == pytest.approx(1.0)  # 7 per 1 s
    now[0] = 1.0
    limiter.record("c")
    now[0] = 1.5
    assert limiter.conversation_wait("c") == pytest.approx(0.5)  # 8 per 2 s
    assert limiter.conversation_wait("other") == 0
    for i in range(52):  # fill the 30 s window: 60 in total
        now[0] = 2.0 + i * 0.5
        limiter.record("c")
    now[0] = 28.0
    assert limiter.conversation_wait("c") == pytest.approx(2.0)  # 60 per 30 s: the first send ages out at 30 s


def test_app_window_and_hold() -> None:
    now = [0.0]
    limiter = RateLimiter(per_app_rps=3, clock=lambda: now[0])
    for conv in ("a", "b", "c"):
        limiter.record(conv)
    assert limiter.app_wait() == pytest.approx(1.0)
    limiter.hold("a", 5)
    assert limiter.conversation_wait("a") == pytest.approx(5.0)


# --- worker --------------------------------------------------------------------------------------------
async def test_each_recipient_once_and_outcomes_recorded() -> None:
    clock = ManualClock()
    outbox = outbox_with(clock=clock)
    notes = [Notification("e1", p, "activated", {}) for p in ("p1", "p2", "p3")]
    assert await outbox.enqueue(notes) == 3
    assert await outbox.enqueue(notes) == 0  # same ids: nothing new
    sender = RecordingSender()
    worker = make_worker(outbox, sender, clock, known={"p1", "p2"})
    await worker.drain()
    assert sorted(k for k, _ in sender.sent) == ["a:p1", "a:p2"]
    assert outbox.get("e1|p1")["state"] == DELIVERED
    assert outbox.get("e1|p3")["state"] == UNDELIVERABLE and outbox.get("e1|p3")["reason"] == "no_conversation"
    await worker.drain()
    assert len(sender.sent) == 2


async def test_blocked_user_is_undeliverable_with_the_reason() -> None:
    clock = ManualClock()
    outbox = outbox_with(clock=clock)
    await outbox.enqueue([Notification("e1", "p1", "activated")])
    sender = RecordingSender(fail={"a:p1": [DeliveryError(403, "ConversationBlockedByUser")]})
    await make_worker(outbox, sender, clock).drain()
    doc = outbox.get("e1|p1")
    assert (doc["state"], doc["status"], doc["reason"]) == (UNDELIVERABLE, 403, "ConversationBlockedByUser")
    assert outbox.problems()[0]["id"] == "e1|p1"


async def test_429_waits_exactly_retry_after_then_delivers() -> None:
    clock = ManualClock()
    outbox = outbox_with(clock=clock)
    await outbox.enqueue([Notification("e1", "p1", "activated")])
    sender = RecordingSender(fail={"a:p1": [DeliveryError(429, "TooManyRequests", retry_after=12)]})
    worker = make_worker(outbox, sender, clock)
    wait = await worker.drain()
    doc = outbox.get("e1|p1")
    assert doc["state"] == PENDING and doc["attempts"] == 1
    assert wait == pytest.approx(12)
    assert worker.limiter.conversation_wait("a:p1") == pytest.approx(12)
    clock.advance(11)
    await worker.drain()
    assert sender.sent == []  # not before Retry-After
    clock.advance(1)
    await worker.drain()
    assert len(sender.sent) == 1 and outbox.get("e1|p1")["state"] == DELIVERED


async def test_transient_errors_back_off_exponentially_with_jitter_then_give_up() -> None:
    clock = ManualClock()
    outbox = outbox_with(clock=clock)
    await outbox.enqueue([Notification("e1", "p1", "activated")])
    errors = [DeliveryError(s) for s in (503, 502, 504, 412)]
    sender = RecordingSender(fail={"a:p1": errors})
    worker = make_worker(outbox, sender, clock, policy=RetryPolicy(max_attempts=4, base_delay=2.0))
    waits = []
    for _ in range(4):
        wait = await worker.drain()
        if wait is None:
            break
        waits.append(wait)
        clock.advance(wait)
    # equal jitter with rng=0.5: 3/4 of 2, 4, 8 seconds
    assert waits == [pytest.approx(1.5), pytest.approx(3.0), pytest.approx(6.0)]
    doc = outbox.get("e1|p1")
    assert (doc["state"], doc["attempts"], doc["status"]) == (GIVEN_UP, 4, 412)
    assert sender.sent == []


async def test_a_permanent_error_is_given_up_at_once() -> None:
    clock = ManualClock()
    outbox = outbox_with(clock=clock)
    await outbox.enqueue([Notification("e1", "p1", "activated")])
    sender = RecordingSender(fail={"a:p1": [DeliveryError(413, "MessageSizeTooBig")]})
    await make_worker(outbox, sender, clock).drain()
    assert outbox.get("e1|p1")["state"] == GIVEN_UP and outbox.get("e1|p1")["attempts"] == 1


async def test_conversation_limit_defers_one_chat_without_blocking_others() -> None:
    clock = ManualClock()
    outbox = outbox_with(clock=clock)
    await outbox.enqueue([Notification(f"e{i}", "admin", "activated") for i in range(9)]
                         + [Notification("e0", "p2", "activated")])
    sender = RecordingSender()
    await make_worker(outbox, sender, clock).drain()
    assert len(sender.to("a:admin")) == 9 and len(sender.to("a:p2")) == 1
    assert clock.slept and sum(clock.slept) >= 1.0  # the 8th message to one chat waited for its window
    assert [k for k, _ in sender.sent].index("a:p2") < 8  # the other chat did not wait behind it


async def test_restart_mid_fan_out_resumes_and_nobody_is_told_twice(tmp_path) -> None:
    path = tmp_path / "benefits.json"
    clock = ManualClock()
    store = SimpleStore(path, INDEXES)
    outbox = Outbox(store, clock)
    people = [f"p{i}" for i in range(6)]
    await outbox.enqueue([Notification("act", p, "activated") for p in people])
    first = RecordingSender(block={"a:p3"})  # the connector hangs on p3: the process is stopped there
    worker = make_worker(outbox, first, clock)
    task = asyncio.create_task(worker.drain())
    for _ in range(200):
        await asyncio.sleep(0.01)
        if sum(d["state"] == DELIVERED for d in SimpleStore(path, INDEXES).all("outbox")) >= 5:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # restart: a new store from the file, a new worker; the producer re-runs too
    store2 = SimpleStore(path, INDEXES)
    outbox2 = Outbox(store2, clock)
    assert await outbox2.enqueue([Notification("act", p, "activated") for p in people]) == 0
    second = RecordingSender()
    await make_worker(outbox2, second, clock).drain()
    received = [k for k, _ in first.sent] + [k for k, _ in second.sent]
    assert sorted(received) == sorted(f"a:{p}" for p in people)
    assert [k for k, _ in second.sent] == ["a:p3"]


# --- events and reminders ------------------------------------------------------------------------
async def test_activation_notifies_assignee_and_assigner_once_even_when_reported_twice() -> None:
    clock = ManualClock()
    service = await seeded_service(clock=clock)
    outbox = Outbox(service.store, clock)
    NotificationListener(service, outbox).subscribe()
    alex = service.repo.person(ALEX)
    assignment = await service.assign(alex, "tech-support", LEE, "lee.alt@example.com")
    first = await service.mark_activated(alex, assignment.id, clock().date(), date(2027, 11, 22))
    again = await service.mark_activated(None, assignment.id, clock().date(), date(2027, 11, 22), "ext-42")
    assert first.changed and not again.changed
    docs = [d for d in outbox.pending() if d["kind"] == "activated"]
    assert sorted(d["recipient"] for d in docs) == sorted([LEE, ALEX])
    roles = {d["recipient"]: d["params"]["role"] for d in docs}
    assert roles == {LEE: "assignee", ALEX: "assigned_by"}


async def test_request_events_reach_admins_then_the_employee() -> None:
    clock = ManualClock()
    service = await seeded_service(clock=clock)
    outbox = Outbox(service.store, clock)
    NotificationListener(service, outbox).subscribe()
    lee = service.repo.person(LEE)
    request = await service.request_benefit(lee, "vs-enterprise", "for the new project")
    await service._emit("request.submitted", {"request": request})
    assert [d["recipient"] for d in outbox.pending()] == [ALEX]  # the Global admins
    decided, _ = await service.decide_request(service.repo.person(ALEX), request.id, approve=False)
    await service._emit("request.decided", {"request_id": decided.id})
    told = [d for d in outbox.pending() if d["kind"] == "request_decided"]
    assert [(d["recipient"], d["params"]["status"]) for d in told] == [(LEE, "declined")]


async def activated_seat(assignee: str, alternate: str) -> tuple[ManualClock, BenefitsService, Outbox, str, date]:
    """The demo organization with a technical benefit seat of ``assignee`` (its id is returned),
    activated today and expiring in 60 days (the date returned)."""
    clock = ManualClock()
    service = await seeded_service(clock=clock)
    outbox = Outbox(service.store, clock)
    alex = service.repo.person(ALEX)
    expires = clock().date() + timedelta(days=60)
    assignment = await service.assign(alex, "tech-support", assignee, alternate)
    await service.mark_activated(alex, assignment.id, clock().date(), expires)
    return clock, service, outbox, assignment.id, expires


async def test_expiry_reminders_30_and_7_days_once_each() -> None:
    _, service, outbox, _, expires = await activated_seat(LEE, "lee.alt@example.com")
    scheduler = ReminderScheduler(service, outbox)

    def reminders() -> list[tuple[str, int]]:
        return sorted((d["recipient"], d["params"]["days"]) for d in service.store.all("outbox")
                      if d["kind"] == "expiry_reminder")

    assert await scheduler.tick(expires - timedelta(days=31)) == 0
    assert await scheduler.tick(expires - timedelta(days=30)) == 2
    assert await scheduler.tick(expires - timedelta(days=30)) == 0  # a second tick the same day
    assert await scheduler.tick(expires - timedelta(days=20)) == 0
    assert await scheduler.tick(expires - timedelta(days=7)) == 2
    assert await scheduler.tick(expires - timedelta(days=3)) == 0
    assert await scheduler.tick(expires) == 0
    assert reminders() == sorted([(LEE, 30), (ALEX, 30), (LEE, 7), (ALEX, 7)])


async def test_a_late_first_check_sends_only_the_nearest_reminder() -> None:
    _, service, outbox, _, expires = await activated_seat(NESTOR, "nestor.alt@example.com")
    await ReminderScheduler(service, outbox).tick(expires - timedelta(days=5))
    days = {d["params"]["days"] for d in service.store.all("outbox") if d["kind"] == "expiry_reminder"}
    assert days == {7}


async def test_benefit_level_expiry_reminds_the_global_admins() -> None:
    clock = ManualClock()
    service = await seeded_service(clock=clock)
    outbox = Outbox(service.store, clock)
    benefit = service.repo.benefit("gtm-gold-core")
    from dataclasses import replace
    await service.store.apply([service.repo.put_benefit(replace(benefit, status=Status.ACTIVE,
                                                                 expires_on=clock().date() + timedelta(days=7)))])
    await ReminderScheduler(service, outbox).tick(clock().date())
    assert [d["recipient"] for d in service.store.all("outbox")] == [ALEX]


async def test_people_who_install_later_get_what_could_not_reach_them() -> None:
    """Lee had not installed the bot when his benefit was activated and its 30-day reminder came; a
    tick after he installs sends the activation (still true) and not the 30-day reminder (the 7-day
    one is due by then). Someone who blocked the bot is not asked again."""
    clock, service, outbox, seat, expires = await activated_seat(LEE, "lee.alt@example.com")
    await outbox.enqueue([Notification(f"activated:{seat}", LEE, "activated", {}),
                          Notification("blocked-event", NESTOR, "activated", {})])
    reachable = {ALEX}
    scheduler = ReminderScheduler(service, outbox, reachable=lambda person_id: person_id in reachable)
    await scheduler.tick(expires - timedelta(days=30))
    sender = RecordingSender(fail={f"a:{NESTOR}": [DeliveryError(403, "ConversationBlockedByUser")]})
    worker = make_worker(outbox, sender, clock, known={ALEX, NESTOR})
    await worker.drain()
    states = {d["id"]: (d["state"], d["reason"]) for d in service.store.all("outbox")}
    lee_docs = [i for i in states if i.endswith(f"|{LEE}")]
    assert len(lee_docs) == 2 and all(states[i] == (UNDELIVERABLE, "no_conversation") for i in lee_docs)
    assert states[f"blocked-event|{NESTOR}"][0] == UNDELIVERABLE

    reachable.update({LEE, NESTOR})  # Lee installs the app (and Nestor is reachable again, but blocked us)
    await scheduler.tick(expires - timedelta(days=6))  # by now the 7-day reminder is the one due
    worker = make_worker(outbox, sender, clock, known={ALEX, LEE, NESTOR})
    await worker.drain()
    after = {d["id"]: d for d in service.store.all("outbox")}
    assert after[f"activated:{seat}|{LEE}"]["state"] == DELIVERED
    stale = next(d for d in after.values() if d["recipient"] == LEE and d["params"].get("days") == 30)
    assert (stale["state"], stale["reason"]) == (UNDELIVERABLE, "no_conversation")
    fresh = next(d for d in after.values() if d["recipient"] == LEE and d["params"].get("days") == 7)
    assert fresh["state"] == DELIVERED
    assert after[f"blocked-event|{NESTOR}"]["state"] == UNDELIVERABLE
    assert [k for k, _ in sender.sent].count(f"a:{LEE}") == 2  # the activation and the 7-day reminder, once each


async def test_a_reminder_tick_reads_only_the_seats_with_an_expires_date(tmp_path, monkeypatch) -> None:
    """A tick costs what may be due, not the size of the organization: seats without an Expires date are
    not even decoded."""
    import services.repository
    from services.storage import JournaledTinyStore, Put

    calls: list[str] = []
    original = services.repository.expiring_seat_key

    def counting(doc):
        calls.append(doc["id"])
        return original(doc)

    monkeypatch.setattr(services.repository, "expiring_seat_key", counting)
    clock = ManualClock()
    store = JournaledTinyStore(tmp_path / "benefits.json", INDEXES)
    try:
        service = BenefitsService(store, clock=clock)
        from services.inventory import demo_inventory, import_inventory, parse_inventory
        await import_inventory(store, parse_inventory(demo_inventory(clock().date())))
        alex = service.repo.person(ALEX)
        expires = clock().date() + timedelta(days=60)
        seat = await service.assign(alex, "tech-support", LEE, "lee.alt@example.com")
        await service.mark_activated(alex, seat.id, clock().date(), expires)
        undated = {"benefit_id": "tech-support", "assigned_by": ALEX, "assigned_at": "2026-01-01T00:00:00+00:00",
                   "status": "active", "expires_on": None}
        await store.apply([Put("assignments", f"crowd-{i}", {**undated, "person_id": f"x{i}"}) for i in range(300)])
        with_dates = [a.id for a in service.repo.all_assignments() if a.expires_on is not None]
        outbox = Outbox(store, clock)
        assert await ReminderScheduler(service, outbox).tick(expires - timedelta(days=30)) == 2
        assert sorted(calls) == sorted(with_dates) and seat.id in calls
    finally:
        await store.close()
