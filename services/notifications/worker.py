"""The worker that drains the outbox: rate-limited, retried, recorded, never on a user's turn.

It runs as an asyncio task beside the web server, woken when notifications are enqueued. Sends run
concurrently (bounded) within the rate limiter; outcomes are written back in batches (one store
write for many sends, so a fan-out of thousands does not cost thousands of disk writes). A
notification leaves ``pending`` only once its outcome is durable; a restart therefore resumes with
whatever was not recorded. The one unavoidable window: a send the channel accepted whose outcome was
not yet on disk when the process died is sent again after the restart (at-least-once: an
activation notice is never lost). ``max_unrecorded`` bounds how many sends may be ahead of the disk,
hence how many people a crash can make hear something twice.

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
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from services.notifications.outbox import DELIVERED, GIVEN_UP, PENDING, UNDELIVERABLE, Outbox
from services.notifications.ratelimit import RateLimiter
from services.notifications.sender import DeliveryError, Sender
from services.storage.base import Document

log = logging.getLogger(__name__)

Render = Callable[[Document], dict[str, Any]]
ReferenceOf = Callable[[str], dict[str, Any] | None]


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
        step = min(self.max_delay, self.base_delay * (2 ** max(0, attempts - 1)))
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
        max_unrecorded: int = 256,
        flush_interval: float = 0.0,
    ) -> None:
        self.outbox = outbox
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
        #: sends allowed between durable outcome writes: the most a crash can make repeat
        self.max_unrecorded = max(concurrency, max_unrecorded)
        self._recorded = asyncio.Event()
        #: least time between two outcome writes (a whole-file store pays per write, not per outcome)
        self.flush_interval = flush_interval
        self._gate = asyncio.Lock()
        self.stats: Counter[str] = Counter()
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._inflight: set[str] = set()
        self._results: dict[str, dict[str, Any]] = {}
        self._flushing: asyncio.Task[None] | None = None
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
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass

    async def drain(self) -> float | None:
        """Send every due notification; return seconds until the next retry is due (None: nothing left)."""
        queue = deque(self._due())
        deferred: list[tuple[float, Document, dict[str, Any]]] = []
        tasks: set[asyncio.Task[None]] = set()
        while queue or deferred:
            if not queue and not deferred:
                break
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
            reference = self.reference_of(doc["recipient"])
            if reference is None:
                self._record(doc["id"], {"state": UNDELIVERABLE, "reason": "no_conversation", "status": 0})
                self.stats["undeliverable"] += 1
                continue
            conversation = _conversation_of(reference, doc["recipient"])
            mono = self.monotonic()
            wait = self.limiter.conversation_wait(conversation, mono)
            if wait > 0:  # this person's chat is at its limit: others go first
                deferred.append((mono + wait, doc, reference))
                continue
            while len(self._inflight) >= self.max_unrecorded:  # let the outcomes reach the disk first
                self._recorded.clear()
                await self._recorded.wait()
            await self._slots.acquire()
            self.limiter.record_conversation(conversation, self.monotonic())
            self._inflight.add(doc["id"])
            task = asyncio.create_task(self._send(doc, reference, conversation))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            if not queue and not deferred:  # retries that fell due meanwhile join this round
                queued = {d["id"] for _, d, _ in deferred}
                queue.extend(d for d in self._due() if d["id"] not in queued)
        if tasks:
            await asyncio.gather(*tasks)
        await self.flush()
        return self._next_due()

    def _due(self) -> list[Document]:
        now = self.clock()
        return [d for d in self.outbox.pending() if d["id"] not in self._inflight and _not_before(d) <= now]

    def _next_due(self) -> float | None:
        pending = [d for d in self.outbox.pending() if d["id"] not in self._inflight]
        if not pending:
            return None
        now = self.clock()
        return max(0.0, min((_not_before(d) - now).total_seconds() for d in pending))

    # --- one send ---------------------------------------------------------------------------------
    async def _send(self, doc: Document, reference: dict[str, Any], conversation: str) -> None:
        attempts = int(doc.get("attempts", 0)) + 1
        reserved: float | None = None
        try:
            try:
                card = self.render(doc)
            except Exception as exc:  # a notification we cannot render will never render: say so
                log.exception("cannot render notification", extra={"kind": doc.get("kind")})
                self._record(doc["id"], {"state": GIVEN_UP, "attempts": attempts, "status": 0,
                                         "reason": f"render_failed:{type(exc).__name__}"})
                return
            async with self._gate:  # the app-wide slot is taken right before the request leaves
                while (wait := self.limiter.app_wait(self.monotonic())) > 0:
                    await self.sleep(wait)
                self.limiter.reserve_app()
                reserved = self.monotonic()
            try:
                await self.sender.send(reference, card)
            except DeliveryError as exc:
                self._record(doc["id"], self._after_failure(exc, attempts, conversation))
            except Exception as exc:  # a network error on the way: retry like a 503
                self._record(doc["id"], self._after_failure(DeliveryError(0, type(exc).__name__), attempts,
                                                            conversation))
            else:
                self.stats["delivered"] += 1
                self._record(doc["id"], {"state": DELIVERED, "attempts": attempts, "status": 200, "reason": "",
                                         "delivered_at": self.clock().isoformat()})
        finally:
            if reserved is not None:
                self.limiter.complete_app(self.monotonic(), sent_at=reserved)
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

    # --- recording outcomes in batches ------------------------------------------------------------
    def _record(self, doc_id: str, change: dict[str, Any]) -> None:
        self._inflight.add(doc_id)
        self._results[doc_id] = change
        if self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_loop())

    async def _flush_loop(self) -> None:
        while self._results:
            if self.flush_interval > 0 and len(self._inflight) < self.max_unrecorded:
                await asyncio.sleep(self.flush_interval)
            batch, self._results = self._results, {}
            try:
                await self.outbox.record(batch)
            except Exception:
                log.exception("could not record notification outcomes; they will be sent again")
            finally:
                self._inflight.difference_update(batch)
                self._recorded.set()

    async def flush(self) -> None:
        """Wait until every outcome so far is on disk."""
        while self._flushing is not None and not self._flushing.done():
            await asyncio.shield(self._flushing)
        if self._results:
            self._flushing = asyncio.create_task(self._flush_loop())
            await self._flushing


def _not_before(doc: Document) -> datetime:
    value = doc.get("not_before") or ""
    return datetime.fromisoformat(value) if value else datetime.min.replace(tzinfo=UTC)


def _conversation_of(reference: dict[str, Any], fallback: str) -> str:
    conversation = reference.get("conversation") or {}
    return str(conversation.get("id") or fallback)
