"""Expiry reminders, 30 and 7 days before a benefit's or a seat's Expires date.

A tick looks at everything active with an Expires date and enqueues the nearest reminder that is
due (``domain.rules.reminders_due``). The reminder's event id names the target, the expiry and the
day count, and the outbox never writes an id twice: ticks may repeat, overlap a restart or run late,
and each reminder still reaches each person once. The clock is injected; ``run`` ticks every
``interval`` seconds. On a store several instances share, each tick is claimed first (``claim_tick``:
the ``ticks`` document says when the next one is due), so one instance scans per interval.

Each tick also sends again what could not reach someone because they had not installed the bot yet,
once they have (``Outbox.reopen_reached``), unless it is a reminder whose moment has passed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any

from domain import rules
from domain.models import Assignment, Status
from services.benefits import BenefitsService
from services.notifications.events import EXPIRY_REMINDER, benefit_params
from services.notifications.outbox import Notification, Outbox
from services.repository import TICKS
from services.storage.base import Document

log = logging.getLogger(__name__)

REMINDER_TICK = "reminders"
#: a claimed tick holds for this share of the interval, so instances whose timers drift still scan once
TICK_SLACK = 0.9


class ReminderScheduler:
    def __init__(self, service: BenefitsService, outbox: Outbox, interval: float = 900.0,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
                 reachable: Callable[[str], bool] | None = None) -> None:
        self.service = service
        self.outbox = outbox
        self.interval = interval
        self.sleep = sleep
        #: whether the bot can now reach a person (has their conversation): see ``tick``
        self.reachable = reachable

    def due(self, today: date) -> list[Notification]:
        """The reminders due ``today``, benefit by benefit (by kind and name). Only the seats expiring
        within the reminders' reach are read, and the admins once a reminder names them, so a tick costs
        what is due, not the size of the organization."""
        repo = self.service.repo
        admin_ids: list[str] | None = None

        def admins() -> list[str]:
            nonlocal admin_ids
            if admin_ids is None:
                admin_ids = [p.id for p in self.service.admins()]
            return admin_ids

        expiring: dict[str, list[Assignment]] = {}
        for seat in repo.seats_expiring(today, max(rules.EXPIRY_REMINDER_DAYS)):
            expiring.setdefault(seat.benefit_id, []).append(seat)
        notes: list[Notification] = []
        for benefit in repo.benefits():
            if benefit.status is Status.CANCELLED:
                continue
            for a in expiring.get(benefit.id, ()):
                for days in rules.reminders_due(a.expires_on, today):
                    event = f"reminder:{a.id}:{a.expires_on}:{days}"
                    params = {**benefit_params(benefit, a, repo.person(a.person_id)), "days": days}
                    for person_id in dict.fromkeys([a.person_id, *admins()]):
                        role = "assignee" if person_id == a.person_id else "admin"
                        notes.append(Notification(event, person_id, EXPIRY_REMINDER, {**params, "role": role}))
            if benefit.status is not Status.ACTIVE or benefit.expires_on is None:
                continue
            reminders = rules.reminders_due(benefit.expires_on, today)
            if reminders and not any(a.is_current and a.status is Status.ACTIVE and a.expires_on is not None
                                     for a in repo.assignments_of_benefit(benefit.id)):
                for days in reminders:
                    event = f"reminder:{benefit.id}:{benefit.expires_on}:{days}"
                    params = {**benefit_params(benefit, None, None), "days": days, "role": "admin"}
                    notes.extend(Notification(event, admin, EXPIRY_REMINDER, params) for admin in admins())
        return notes

    async def tick(self, today: date | None = None) -> int:
        """Enqueue the reminders due ``today`` (returns how many were new) and reopen what can now
        reach people who had not installed the bot."""
        today = today or self.service.today()
        new = await self.outbox.enqueue(self.due(today))
        if self.reachable is not None:
            await self.outbox.reopen_reached(self.reachable, lambda doc: still_relevant(doc, today))
        return new

    async def claim_tick(self) -> bool:
        """Whether this instance runs the tick due now: decided once across the instances sharing the store
        (the first to move the ``ticks`` document's ``next_at`` past now wins)."""
        now = self.service.clock()

        def take(_: str, current: Document | None) -> Document | None:
            if current is not None and datetime.fromisoformat(current["next_at"]) > now:
                return None
            return {"next_at": (now + timedelta(seconds=self.interval * TICK_SLACK)).isoformat()}

        return bool(await self.service.store.update_each(TICKS, [REMINDER_TICK], take))

    async def run(self) -> None:
        while True:
            try:
                if not self.service.store.shared or await self.claim_tick():
                    await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("expiry reminder tick failed")
            await self.sleep(self.interval)


def still_relevant(doc: Document, today: date) -> bool:
    """Whether a notification that could not be delivered is still worth sending ``today``: a
    reminder only while it is still the one due (``rules.reminders_due``), anything else always."""
    if doc.get("kind") != EXPIRY_REMINDER:
        return True
    params = doc.get("params") or {}
    try:
        expires_on = date.fromisoformat(str(params.get("expires_on")))
    except ValueError:
        return False
    return params.get("days") in rules.reminders_due(expires_on, today)
