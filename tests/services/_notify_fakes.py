"""Fakes for the notification tests: a manual clock, a recording sender, a seeded service."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from services.benefits import BenefitsService
from services.inventory import demo_inventory, import_inventory, parse_inventory
from services.notifications import DeliveryError, Outbox, RateLimiter, RetryPolicy, Worker
from services.repository import INDEXES
from tests._common.memory_store import SimpleStore

TODAY = date(2026, 11, 22)


@dataclass
class ManualClock:
    """Wall clock and monotonic clock in one; ``sleep`` advances it instead of waiting."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 22, 9, 0, tzinfo=UTC))
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.now.timestamp()

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class RecordingSender:
    """Records (conversation, card); ``fail`` maps a conversation to a list of errors to raise in turn."""

    sent: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fail: dict[str, list[DeliveryError]] = field(default_factory=dict)
    block: set[str] = field(default_factory=set)
    before_send: Callable[[str], None] | None = None

    async def send(self, reference: dict[str, Any], card: dict[str, Any]) -> None:
        conv = reference["conversation"]["id"]
        if conv in self.block:
            await asyncio.Event().wait()  # hangs until cancelled, like a connector that never answers
        if self.fail.get(conv):
            raise self.fail[conv].pop(0)
        self.sent.append((conv, card))

    def to(self, conv: str) -> list[dict[str, Any]]:
        return [c for k, c in self.sent if k == conv]


def reference(person_id: str) -> dict[str, Any]:
    return {"conversation": {"id": f"a:{person_id}"}, "serviceUrl": "http://127.0.0.1:1/"}


def make_worker(outbox: Outbox, sender: RecordingSender, clock: ManualClock, known: set[str] | None = None,
                policy: RetryPolicy | None = None, rps: float = 50.0, concurrency: int = 16,
                max_in_flight: int = 8) -> Worker:
    def reference_of(person_id: str) -> dict[str, Any] | None:
        return reference(person_id) if known is None or person_id in known else None

    return Worker(outbox, sender, reference_of, lambda doc: {"kind": doc["kind"], "to": doc["recipient"]},
                  RateLimiter(per_app_rps=rps, clock=clock.monotonic), policy or RetryPolicy(),
                  clock=clock, monotonic=clock.monotonic, sleep=clock.sleep, rng=lambda: 0.5,
                  concurrency=concurrency, max_in_flight=max_in_flight)


async def seeded_service(path: Path | None = None, clock: ManualClock | None = None) -> BenefitsService:
    store = SimpleStore(path, INDEXES)
    service = BenefitsService(store, clock=clock or ManualClock())
    if service.repo.organization() is None:
        await import_inventory(store, parse_inventory(demo_inventory(TODAY)))
    return service
