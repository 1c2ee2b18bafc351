"""What every area of the benefits service shares: the store, the lock, the audit trail, replays.

Every mutating method takes the acting person (resolved by the bot from the Teams activity, never
from card data), checks the rules in ``domain.rules`` on the current state, and writes its changes
with an audit entry in a single batch. Mutations run under one lock, so two admins taking the
last seat at the same moment give exactly one assignment. An optional ``op_key`` (the activity id
or a card's nonce) makes a redelivered activity or a double click have one effect.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from domain import errors
from domain.errors import RuleViolation
from domain.models import AuditEntry, Benefit, Person
from services.repository import PROCESSED, Repository
from services.storage.base import DocumentStore, Op

T = TypeVar("T")
Clock = Callable[[], datetime]
log = logging.getLogger("services.benefits")


def utc_now() -> datetime:
    return datetime.now(UTC)


class ServiceCore:
    """The state and the steps every area of the service shares (each area is a subclass)."""

    def __init__(self, store: DocumentStore, clock: Clock = utc_now) -> None:
        self.store = store
        self.repo = Repository(store)
        self.clock = clock
        self._lock = store.mutation_lock()
        self.listeners: list[Callable[[str, dict[str, Any]], Any]] = []

    def today(self) -> date:
        return self.clock().date()

    def _audit(self, actor: Person | None, action: str, subject_id: str, before: Any, after: Any, *,
               language: str = "", os: str = "", source: str = "") -> Op:
        entry = AuditEntry(
            id=uuid.uuid4().hex, at=self.clock(), actor_id=actor.id if actor else "system", action=action,
            subject_id=subject_id, before=_public(before), after=_public(after), language=language, os=os,
            source=source,
        )
        return self.repo.put_audit(entry)

    async def _commit(self, ops: list[Op], op_key: str | None = None, result: dict[str, Any] | None = None) -> None:
        if op_key:
            ops = [*ops, self.repo.mark_processed(op_key, result)]
        await self.store.apply(ops)

    def _replayed(self, op_key: str | None, field: str, load: Callable[[Any], T | None]) -> T | None:
        """The stored outcome of an operation already done under ``op_key`` (a double click or a
        redelivery), whatever the replay carries: a second click that chose someone else is answered
        with what the first click did, never with what the second one asked for."""
        done = self._processed(op_key)
        return load(done[field]) if done and done.get(field) else None

    def _processed(self, op_key: str | None) -> dict[str, Any] | None:
        if not op_key:
            return None
        doc = self.store.get(PROCESSED, op_key)
        return doc.get("result", {}) if doc else None

    async def _emit(self, event: str, payload: dict[str, Any]) -> None:
        """Tell every listener (e.g. the notifications outbox) what happened; a failing listener
        is logged and never undoes a committed change."""
        for listener in list(self.listeners):
            try:
                result = listener(event, payload)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("listener failed", extra={"event": event})

    def _benefit(self, benefit_id: str) -> Benefit:
        benefit = self.repo.benefit(benefit_id)
        if benefit is None:
            raise RuleViolation(errors.UNKNOWN_BENEFIT, id=benefit_id)
        return benefit

    def _person(self, person_id: str) -> Person:
        person = self.repo.person(person_id)
        if person is None:
            raise RuleViolation(errors.UNKNOWN_PERSON, id=person_id)
        return person

    def _account_email(self) -> str:
        org = self.repo.organization()
        return org.account_email if org else ""

    def admins(self, locale: str | None = None) -> list[Person]:
        """The Global admins, by name (in ``locale``'s order, for a viewer), read from their own index:
        the directory may be large."""
        return self.repo.global_admins(locale)


_SECRET_FIELDS = ("keys",)


def _public(value: Any) -> dict[str, Any] | None:
    """A record without its secrets, for the audit trail (keys never leave their table)."""
    if value is None:
        return None
    doc: dict[str, Any] = value.to_doc() if hasattr(value, "to_doc") else dict(value)
    for name in _SECRET_FIELDS:
        doc.pop(name, None)
    return doc
