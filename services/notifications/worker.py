"""The worker that drains the outbox: rate-limited, retried, recorded, never on a user's turn.

It runs as an asyncio task beside the web server, woken when notifications are enqueued. Sends run
concurrently (at most ``concurrency`` at a time) within the rate limiter. Each send is bracketed by
two durable writes: ``sending`` before the request leaves, its outcome (``delivered``...) as soon as
the answer is read. Both go through the store's group commit, so the writes of concurrent sends
share one fsync and per-send durability costs about a millisecond of latency, no throughput.

What a crash (SIGKILL, power loss) can do, exactly:
* nothing is lost: a notification leaves ``pending``/``sending`` only once its outcome is durable;
* a notification in ``sending`` at the crash is *in doubt*: the request may have reached Teams, and
  Teams has no idempotency key for new messages nor (in the Bot Connector API) a way to list what a
  conversation received. On start the worker sends these again and marks them ``ambiguous``
  (at-least-once). Only they can reach someone twice, and only those the channel had accepted in the
  instants between its answer and our write: at most ``max_in_flight`` (requests that left and whose
  outcome is not durable yet; a stalling disk therefore pauses sending instead of piling up doubt).

Several instances on one shared store (PostgreSQL): the ``sending`` write is a claim decided on the
newest state (``Outbox.claim``; the database holds it beside the notification, its row locked ``FOR
UPDATE SKIP LOCKED``), so of all instances exactly one sends a notification; the claim carries the
instance's id and a lease, and a claim whose lease ran out (its sender died mid-send) is taken over by
another instance, sent again and flagged ``ambiguous``. The others look at a notification claimed
elsewhere again after ``HOLD_OFF_SECONDS``. On such a store a start does not reset ``sending`` (it may
be a live instance's send).

Failures (Microsoft Learn, "Rate limiting" and the proactive-messaging errors):
* 403/404 (blocked by the user, app not installed, conversation gone) and no stored conversation:
  ``undeliverable`` with the reason, not retried;
* 429: retried after ``Retry-After`` (the conversation is held that long), else backoff;
* 412, 502, 503, 504 and network errors: exponential backoff with jitter;
* anything else, or the retry budget spent: ``given_up`` with the reason.
Time, sleeping and randomness are injected so that tests never wait on the wall clock.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from services.notifications.outbox import (
    DELIVERED,
    GIVEN_UP,
    INSTALL_REQUESTED,
    NO_CONVERSATION,
    PENDING,
    SENDING,
    UNDELIVERABLE,
    Outbox,
    not_before,
)
from services.notifications.ratelimit import RateLimiter
from services.notifications.sender import DeliveryError, Sender
from services.storage.base import Document
from services.storage.errors import StoreUnavailableError
from services.waiting import wait_set

log = logging.getLogger(__name__)

Render = Callable[[Document], dict[str, Any]]
ReferenceOf = Callable[[str], dict[str, Any] | None]
#: how long a notification claimed by another instance (or whose claim failed) waits to be looked at again
HOLD_OFF_SECONDS = 5.0
#: tries to record an outcome while the store is away (backing off up to HOLD_OFF_SECONDS: about a minute)
RECORD_ATTEMPTS = 16


class Installer(Protocol):
    """Installs the app for a person who has none (``installer.AppInstaller``); returns an outcome."""

    async def install(self, person_id: str) -> str: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failing send is retried."""

    max_attempts: int = 6
    base_delay: float = 1.0
    max_delay: float = 300.0
    retryable: frozenset[int] = field(default_factory=lambda: frozenset({0, 412, 429, 502, 503, 504}))
    unreachable: frozenset[int] = field(default_factory=lambda: frozenset({403, 404}))

    def backoff(self, attempts: int, rng: Callable[[], float]) -> float:
        """Exponential backoff with "equal jitter": half the step fixed, half random."""
        step: float = min(self.max_delay, self.base_delay * (2 ** max(0, attempts - 1)))
        return step / 2 + rng() * step / 2


class Worker:
    def __init__(
        self,
        outbox: Outbox,
        sender: Sender,
        reference_of: ReferenceOf,
        render: Render,
        limiter: RateLimiter | None = None,
        policy: RetryPolicy | None = None,
        *,
        clock: Callable[[], datetime] = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
        concurrency: int = 16,
        idle_interval: float = 60.0,
        max_in_flight: int = 8,
        installer: Installer | None = None,
        install_wait: float = 30.0,
        install_checks: int = 20,
        owner: str = "",
        lease_seconds: float = 120.0,
    ) -> None:
        self.outbox = outbox
        #: who claims notifications (one id per process) and for how long a claim holds: past it, another
        #: instance takes a notification over (its sender died mid-send); longer than any send + record
        self.owner = owner or uuid.uuid4().hex
        self.lease_seconds = lease_seconds
        self.installer = installer
        #: after installing the app for someone, how long to wait for Teams' installationUpdate, how often
        self.install_wait = install_wait
        self.install_checks = install_checks
        self.sender = sender
        self.reference_of = reference_of
        self.render = render
        self.monotonic = monotonic
        self.limiter = limiter or RateLimiter(clock=monotonic)
        self.policy = policy or RetryPolicy()
        self.clock = clock
        self.sleep = sleep
        self.rng = rng
        self.idle_interval = idle_interval
        #: notifications being worked on at once (marked ``sending``): the most a crash leaves in doubt
        self.concurrency = concurrency
        #: requests that left and whose outcome is not durable yet: the most a crash can make repeat.
        #: At the limit it must cover the rate times (round trip + one group commit): 8 is 32 ms at 250/s.
        self.max_in_flight = min(max_in_flight, concurrency)
        self._on_wire = asyncio.Semaphore(self.max_in_flight)
        self._gate = asyncio.Lock()
        self.stats: Counter[str] = Counter()
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._inflight: set[str] = set()
        #: notifications not to try before a moment (monotonic): claimed by another instance, or the store
        #: failed; looked at again then (the claim's lease may have run out, the database may be back)
        self._held_off: dict[str, float] = {}
        self._spread = random.Random(self.owner)
        self._recovered = False
        outbox.on_enqueue.append(self.wake)

    def wake(self) -> None:
        self._wake.set()

    # --- the loop ---------------------------------------------------------------------------------
    async def run(self) -> None:
        """Drain, then wait for new notifications or the next retry; forever (cancel to stop)."""
        while True:
            self._wake.clear()
            try:
                wait = await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("notification worker failed; retrying")
                wait = 5.0
            timeout = self.idle_interval if wait is None else min(wait, self.idle_interval)
            if timeout <= 0:
                continue
            await wait_set(self._wake, timeout)

    async def recover(self) -> int:
        """Once per process, before the first send: settle what an earlier process left behind.

        * Notifications still ``sending`` are in doubt (see the module docstring): back to
          ``pending``, flagged ``ambiguous``, so they are sent again. Returns how many.
        * The app-wide and per-chat windows are rebuilt from the requests sent in the last period, so
          a restart does not burst into limits the channel still counts. A request in doubt counts
          from now (it arrived, if at all, before now).
        """
        if self._recovered:
            return 0
        now, mono = self.clock(), self.monotonic()
        # A store shared by several instances: what is in ``sending`` may be another live instance's send;
        # only an expired lease says its sender died, and ``_due`` takes those over by claiming them.
        in_doubt = [] if self.outbox.store.shared else self.outbox.in_doubt()
        horizon = max([self.limiter.app.period, *(p for _, p in self.limiter.per_conversation if p <= 60)])
        since = now - timedelta(seconds=horizon)
        recent = sorted((d for d in self.outbox.recent_sends(since) if d["state"] != SENDING),
                        key=lambda d: d["counted_at"])
        instants: list[float] = []
        for doc, at in [*((d, mono - (now - datetime.fromisoformat(d["counted_at"])).total_seconds()) for d in recent),
                        *((d, mono) for d in in_doubt)]:
            if at > mono - self.limiter.app.period:
                instants.append(at)
            reference = self.reference_of(doc["recipient"])
            if reference is not None:
                self.limiter.record_conversation(_conversation_of(reference, doc["recipient"]), at)
        if in_doubt:
            await self.outbox.record({d["id"]: {"state": PENDING, "ambiguous": True, "reason": "in_doubt_after_restart"}
                                      for d in in_doubt})
            self.stats["ambiguous"] += len(in_doubt)
            log.warning("notifications in doubt after a restart are sent again", extra={"count": len(in_doubt)})
        self.limiter.seed_app(instants)
        self._recovered = True
        return len(in_doubt)

    async def drain(self) -> float | None:
        """Send every due notification; return seconds until the next retry is due (None: nothing left)."""
        await self.recover()
        queue = deque(self._due())
        deferred: list[tuple[float, Document, dict[str, Any]]] = []
        tasks: set[asyncio.Task[None]] = set()
        while queue or deferred:
            if not queue:
                wake_at = min(t for t, _, _ in deferred)
                delay = wake_at - self.monotonic()
                if delay > 0:
                    await self.sleep(delay)
                mono = self.monotonic()
                queue.extend(d for t, d, _ in deferred if t <= mono)
                deferred = [x for x in deferred if x[0] > mono]
                continue
            doc = queue.popleft()
            if doc["id"] in self._inflight or self._settled_elsewhere(doc["id"]):
                continue
            reference = self.reference_of(doc["recipient"])
            if reference is None:
                if self.installer is None:
                    await self.outbox.record({doc["id"]: {"state": UNDELIVERABLE, "reason": NO_CONVERSATION,
                                                          "status": 0}})
                    self.stats["undeliverable"] += 1
                    continue
                await self._slots.acquire()
                self._inflight.add(doc["id"])
                task = asyncio.create_task(self._install(doc))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                continue
            conversation = _conversation_of(reference, doc["recipient"])
            mono = self.monotonic()
            wait = self.limiter.conversation_wait(conversation, mono)
            if wait > 0:  # this person's chat is at its limit: others go first
                deferred.append((mono + wait, doc, reference))
                continue
            await self._slots.acquire()
            self.limiter.record_conversation(conversation, self.monotonic())
            self._inflight.add(doc["id"])
            task = asyncio.create_task(self._send(doc, reference, conversation))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            if not queue and not deferred:  # retries that fell due meanwhile join this round
                queue.extend(self._due())
        if tasks:
            await asyncio.gather(*tasks)
        return self._next_due()

    def _due(self) -> list[Document]:
        """Pending notifications due now, read through the ``state`` index (one copy per due one)."""
        now, mono = self.clock(), self.monotonic()
        self._held_off = {doc_id: at for doc_id, at in self._held_off.items() if at > mono}
        due = []
        for doc_id in self.outbox.pending_ids():
            if doc_id in self._inflight or doc_id in self._held_off:
                continue
            doc = self.outbox.get(doc_id)
            if doc is not None and doc["state"] == PENDING and _not_before(doc) <= now:
                due.append(doc)
        due.extend(d for d in self.outbox.expired_claims() if d["id"] not in self._inflight)
        if self.outbox.store.shared:  # instances draining the same notifications in the same order would
            self._spread.shuffle(due)  # mostly try to claim what another one just took
        return due

    def _settled_elsewhere(self, doc_id: str) -> bool:
        """Whether another instance sent (or is known to hold) a notification since this round began: the
        store's view catches up meanwhile, and trying to claim it would cost a round trip for nothing."""
        if not self.outbox.store.shared:
            return False
        current = self.outbox.get(doc_id)
        return current is None or current["state"] not in (PENDING, SENDING) or doc_id in self._held_off

    def _next_due(self) -> float | None:
        skip = self._inflight | self._held_off.keys()
        pending = [d for d in (self.outbox.get(i) for i in self.outbox.pending_ids() if i not in skip)
                   if d is not None]
        claims = [datetime.fromisoformat(d["lease_until"]) for d in self.outbox.in_doubt()
                  if d.get("lease_until") and d["id"] not in self._inflight]
        if not pending and not claims and not self._held_off:
            return None
        now, mono = self.clock(), self.monotonic()
        return max(0.0, min([(_not_before(d) - now).total_seconds() for d in pending] +
                            [(at - now).total_seconds() for at in claims] +
                            [at - mono for at in self._held_off.values()]))

    # --- one send ---------------------------------------------------------------------------------
    async def _send(self, doc: Document, reference: dict[str, Any], conversation: str) -> None:
        doc_id = doc["id"]
        on_wire = False
        try:
            # Durable BEFORE the request leaves: a crash from here on leaves it visibly in doubt. The
            # claim is decided on the newest state, so of several instances exactly one sends it.
            shared = self.outbox.store.shared
            claimed = None if shared else await self._claim(doc_id)
            if not shared and claimed is None:
                return
            async with self._gate:  # the app-wide slot is taken right before the request leaves
                await self._on_wire.acquire()  # a disk that stalls stops new requests, not just their records
                on_wire = True
                if shared:  # several instances: claim only when this one sends next, so none hoards the work
                    claimed = await self._claim(doc_id)
                if claimed is None:
                    return
                while (wait := self.limiter.app_wait(self.monotonic())) > 0:
                    await self.sleep(wait)
                self.limiter.reserve_app()
                sent_at = self.monotonic()
            attempts = int(claimed["attempts"])
            try:
                card = self.render(claimed)
            except Exception as exc:  # a notification we cannot render will never render: say so
                self.limiter.release_app()
                log.exception("cannot render notification", extra={"kind": doc.get("kind")})
                await self.outbox.record({doc_id: {"state": GIVEN_UP, "attempts": attempts, "status": 0,
                                                   "reason": f"render_failed:{type(exc).__name__}"}})
                return
            try:
                await self.sender.send(reference, card)
            except DeliveryError as exc:
                change = self._after_failure(exc, attempts, conversation)
            except Exception as exc:  # a network error on the way: retry like a 503
                change = self._after_failure(DeliveryError(0, type(exc).__name__), attempts, conversation)
            else:
                self.stats["delivered"] += 1
                change = {"state": DELIVERED, "attempts": attempts, "status": 200, "reason": "",
                          "delivered_at": self.clock().isoformat()}
            # A 429 too: the channel did not count it, but un-counting it would let the next request
            # straight into the same full window (a storm of 429s); one slot for one period is cheaper.
            at = self.limiter.complete_app(self.monotonic(), sent_at=sent_at)
            # until when the channel's window may count this request (for a restarted limiter)
            change["counted_at"] = (self.clock() - timedelta(seconds=self.monotonic() - at)).isoformat()
            if claimed.get("ambiguous"):  # taken over: the claim said so (a shared store keeps it beside the doc)
                change["ambiguous"] = True
            # Durable as soon as the answer is read: the in-doubt window is one group commit wide.
            await self._record_outcome(doc_id, change)
        except Exception:
            log.exception("could not record a notification's state; a restart settles it")
        finally:
            if on_wire:
                self._on_wire.release()
            self._inflight.discard(doc_id)
            self._slots.release()

    async def _claim(self, doc_id: str) -> Document | None:
        """Claim a notification for sending; None when it is not this instance's to send now (claimed
        elsewhere, no longer due, or the store failed: then it is looked at again after a hold-off)."""
        try:
            claimed = await self.outbox.claim(doc_id, self.owner, self.lease_seconds)
        except StoreUnavailableError:
            self._held_off[doc_id] = self.monotonic() + HOLD_OFF_SECONDS
            self.stats["claim_failed"] += 1
            return None
        if claimed is None:
            self.stats["claimed_elsewhere"] += 1
            if self.outbox.store.shared:  # another instance sends it: look again when its lease may be over
                self._held_off[doc_id] = self.monotonic() + min(HOLD_OFF_SECONDS, self.lease_seconds)
        return claimed

    async def _record_outcome(self, doc_id: str, change: dict[str, Any]) -> None:
        """Record a send's outcome, waiting out a store that is briefly away (a database restart): the
        outcome is known only here, and a claim left unsettled would be sent again after its lease."""
        for attempt in range(RECORD_ATTEMPTS):
            try:
                await self.outbox.record({doc_id: change})
                return
            except StoreUnavailableError:
                if attempt == RECORD_ATTEMPTS - 1:
                    raise
                await self.sleep(min(HOLD_OFF_SECONDS, 0.25 * 2 ** attempt))

    async def _install(self, doc: Document) -> None:
        """Someone without the app: install it for them once, then look for their chat every
        ``install_wait`` seconds (Teams' installationUpdate stores it) up to ``install_checks`` times."""
        assert self.installer is not None
        try:
            if doc.get("install") == INSTALL_REQUESTED:
                checks = int(doc.get("install_checks", 0)) + 1
                if checks < self.install_checks:
                    change = {"state": PENDING, "install_checks": checks, "reason": INSTALL_REQUESTED,
                              "not_before": (self.clock() + timedelta(seconds=self.install_wait)).isoformat()}
                else:  # the scheduler's tick sends it once Teams has told us about the chat
                    change = {"state": UNDELIVERABLE, "reason": INSTALL_REQUESTED, "status": 0}
                    self.stats["undeliverable"] += 1
            else:
                outcome = await self.installer.install(doc["recipient"])
                self.stats[outcome] += 1
                if outcome == INSTALL_REQUESTED:
                    change = {"state": PENDING, "install": outcome, "install_checks": 0, "reason": outcome,
                              "not_before": (self.clock() + timedelta(seconds=self.install_wait)).isoformat()}
                else:
                    change = {"state": UNDELIVERABLE, "install": outcome, "reason": outcome, "status": 0}
                    self.stats["undeliverable"] += 1
            await self.outbox.record({doc["id"]: change})
        except Exception:
            log.exception("could not install the app for a notification's recipient; a restart settles it")
        finally:
            self._inflight.discard(doc["id"])
            self._slots.release()

    def _after_failure(self, exc: DeliveryError, attempts: int, conversation: str) -> dict[str, Any]:
        reason = exc.code or f"http_{exc.status}"
        policy = self.policy
        if exc.status in policy.unreachable:
            self.stats["undeliverable"] += 1
            return {"state": UNDELIVERABLE, "attempts": attempts, "status": exc.status, "reason": reason}
        if exc.status not in policy.retryable or attempts >= policy.max_attempts:
            self.stats["given_up"] += 1
            log.warning("notification given up", extra={"status": exc.status, "code": exc.code, "attempts": attempts})
            return {"state": GIVEN_UP, "attempts": attempts, "status": exc.status, "reason": reason}
        if exc.status == 429 and exc.retry_after is not None:
            delay = max(0.0, exc.retry_after)
        else:
            delay = policy.backoff(attempts, self.rng)
        if exc.status == 429:
            self.limiter.hold(conversation, delay, self.monotonic())
        self.stats[f"retry_{exc.status}"] += 1
        not_before = self.clock() + timedelta(seconds=delay)
        return {"state": PENDING, "attempts": attempts, "status": exc.status, "reason": reason,
                "not_before": not_before.isoformat()}

    async def flush(self) -> None:
        """Kept for callers that stop the worker: every outcome is already durable when its send ends."""
        return None


_not_before = not_before


def _conversation_of(reference: dict[str, Any], fallback: str) -> str:
    conversation = reference.get("conversation") or {}
    return str(conversation.get("id") or fallback)
