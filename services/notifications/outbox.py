"""The durable outbox: every notification is a document before it is sent.

The document id is the dedupe key ``<event id>|<recipient>``. Enqueueing never overwrites an
existing document, so whatever produces notifications may run again (after a crash, a redelivered
request, a second scheduler tick) and re-create the same ids without resending anything. A
document moves from ``pending`` to ``sending`` (written durably BEFORE the request leaves), then to
``delivered`` (the channel accepted it; durable as soon as the answer is read), ``undeliverable``
(the person cannot be reached: no conversation, blocked, not installed) or ``given_up`` (still
failing after the retry budget); the last two are what admins see in the bot.

``sending`` is what makes a crash honest: after a restart, the documents still in ``sending`` are
exactly the sends whose fate is unknown (the channel may have accepted them, the answer never reached
our disk). Teams has no idempotency key for new messages, so they are sent again (nobody loses a
notice) and flagged ``ambiguous``: these, and only these, may reach someone twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from services.repository import OUTBOX
from services.storage.base import Document, DocumentStore, Op, Put

PENDING = "pending"
SENDING = "sending"
DELIVERED = "delivered"
UNDELIVERABLE = "undeliverable"
GIVEN_UP = "given_up"
STATES = (PENDING, SENDING, DELIVERED, UNDELIVERABLE, GIVEN_UP)
#: The ordering of the notifications that did not arrive, by when they last changed (see problem_key).
PROBLEMS = "problems"
#: undeliverable because the bot had no conversation with the person (they had not installed it)
NO_CONVERSATION = "no_conversation"
#: the bot installed itself for the person through Graph and waits for Teams to confirm (installer.py)
INSTALL_REQUESTED = "install_requested"
#: the bot may not install itself (Graph permission not granted)
INSTALL_NOT_PERMITTED = "install_not_permitted"
#: the bot could not install itself (not an Entra user, app not in the org catalog, Graph failed)
INSTALL_UNAVAILABLE = "install_unavailable"
#: reasons that mean "not installed for them yet": sent again once the person can be reached
NOT_INSTALLED_YET = frozenset({NO_CONVERSATION, INSTALL_REQUESTED, INSTALL_NOT_PERMITTED, INSTALL_UNAVAILABLE})


def utc_now() -> datetime:
    return datetime.now(UTC)


def not_before(doc: Document) -> datetime:
    """When a notification may be sent (at once when it names no moment)."""
    value = doc.get("not_before") or ""
    return datetime.fromisoformat(value) if value else datetime.min.replace(tzinfo=UTC)


def lease_expired(doc: Document, now: datetime) -> bool:
    """Whether the instance sending ``doc`` held it past its lease (a claim without a lease never expires:
    only a restart of the one process that owns the store settles it)."""
    value = doc.get("lease_until") or ""
    return bool(value) and datetime.fromisoformat(value) <= now


def dedupe_key(event_id: str, recipient: str) -> str:
    """The outbox id of one notification: the same event never reaches the same person twice."""
    return f"{event_id}|{recipient}"


@dataclass(frozen=True)
class Notification:
    """What to tell whom: ``kind`` picks the card, ``params`` (JSON) fill it in."""

    event_id: str
    recipient: str
    kind: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return dedupe_key(self.event_id, self.recipient)


def problem_key(doc: Document) -> list[str]:
    """Notifications admins are shown as problems, listed by when they last changed."""
    return [str(doc.get("updated_at") or "")] if doc.get("state") in (UNDELIVERABLE, GIVEN_UP) else []


class Outbox:
    """The ``outbox`` table of the domain store, through the document-store contract."""

    def __init__(self, store: DocumentStore, clock: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.clock = clock
        store.order_by(OUTBOX, PROBLEMS, problem_key)
        #: called after new notifications are durable (the worker's wake-up)
        self.on_enqueue: list[Callable[[], None]] = []

    # --- writing --------------------------------------------------------------------------------
    def enqueue_ops(self, notes: Iterable[Notification]) -> list[Op]:
        """Put operations for the notifications not already in the outbox (to batch with other writes)."""
        now = self.clock().isoformat()
        ops: list[Op] = []
        seen: set[str] = set()
        for note in notes:
            if not note.recipient or note.id in seen or self.store.get(OUTBOX, note.id) is not None:
                continue
            seen.add(note.id)
            ops.append(Put(OUTBOX, note.id, {
                "event_id": note.event_id, "recipient": note.recipient, "kind": note.kind,
                "params": dict(note.params), "state": PENDING, "attempts": 0, "not_before": "",
                "created_at": now, "updated_at": now, "reason": "", "status": 0,
            }))
        return ops

    async def enqueue(self, notes: Iterable[Notification]) -> int:
        """Write the new notifications durably, then wake the worker; returns how many were new.

        Insert-if-absent on the newest state of the store (``update_each``): instances that produce the
        same notification at once (a reminder tick on each, a redelivery) write it once.
        """
        new = {op.doc_id: op.doc for op in self.enqueue_ops(notes) if isinstance(op, Put)}
        if not new:
            return 0
        written = await self.store.update_each(OUTBOX, list(new), lambda doc_id, current: (
            new[doc_id] if current is None else None))
        if written:
            self.wake()
        return len(written)

    async def claim(self, doc_id: str, owner: str, lease_seconds: float) -> Document | None:
        """Take a due notification for sending (``pending`` -> ``sending``), or one whose sender's lease ran
        out (it died mid-send: taken over, flagged ``ambiguous``); None when it is not claimable (another
        instance has it, or it is no longer due). Decided on the newest state, once across instances; on a
        shared store the claim is held beside the document until the outcome is recorded (``claim_each``)."""
        now = self.clock()

        def take(_: str, current: Document | None) -> Document | None:
            if current is None:
                return None
            taken_over = current.get("state") == SENDING and lease_expired(current, now)
            if not taken_over and (current.get("state") != PENDING or not_before(current) > now):
                return None
            current.update(state=SENDING, attempts=int(current.get("attempts", 0)) + 1, owner=owner,
                           lease_until=(now + timedelta(seconds=lease_seconds)).isoformat(),
                           updated_at=now.isoformat())
            if taken_over:
                current.update(ambiguous=True, reason="lease_expired")
            return current

        written = await self.store.claim_each(OUTBOX, [doc_id], take, owner=owner)
        return written[0] if written else None

    def wake(self) -> None:
        for callback in list(self.on_enqueue):
            callback()

    async def record(self, changes: Mapping[str, Mapping[str, Any]]) -> None:
        """Apply changes to several notifications in one durable batch (``{id: {field: value}}``).

        Concurrent calls share the store's group commit (one fsync for all of them), so the worker
        records every outcome as soon as it is known instead of batching on a timer.
        """
        if not changes:
            return
        now = self.clock().isoformat()

        def merge(doc_id: str, current: Document | None) -> Document | None:
            if current is None:
                return None
            current.update(changes[doc_id])
            current["updated_at"] = now
            return current

        await self.store.update_each(OUTBOX, list(changes), merge)

    async def reopen_reached(self, reachable: Callable[[str], bool], still_relevant: Callable[[Document], bool]
                             ) -> int:
        """Send again what could not reach someone who had not installed the bot, once they have.

        Only "not installed yet" is reopened (``NOT_INSTALLED_YET``): a person who blocked the bot
        (403) or left (404) is not asked again. ``still_relevant`` drops what would now be wrong (a
        reminder whose moment passed). Returns how many went back to ``pending``; the worker is woken for them.
        """
        changes = {
            doc["id"]: {"state": PENDING, "attempts": 0, "not_before": "", "reason": "reached_later", "status": 0}
            for doc in self.store.find(OUTBOX, "state", UNDELIVERABLE)
            if doc.get("reason") in NOT_INSTALLED_YET and reachable(doc["recipient"]) and still_relevant(doc)
        }
        await self.record(changes)
        if changes:
            self.wake()
        return len(changes)

    # --- reading --------------------------------------------------------------------------------
    def get(self, doc_id: str) -> Document | None:
        return self.store.get(OUTBOX, doc_id)

    def pending(self) -> list[Document]:
        """Pending notifications, oldest first (indexed lookup on ``state``)."""
        return sorted(self.store.find(OUTBOX, "state", PENDING), key=lambda d: (d["created_at"], d["id"]))

    def pending_ids(self) -> list[str]:
        """Ids of the pending notifications in the order they became pending, from the index (no copies)."""
        return self.store.find_ids(OUTBOX, "state", PENDING)

    def in_doubt(self) -> list[Document]:
        """Notifications left in ``sending`` (only meaningful before a worker starts: a crash left them)."""
        return self.store.find(OUTBOX, "state", SENDING)

    def recent_sends(self, since: datetime) -> list[Document]:
        """Notifications whose last request counted at or after ``since`` (to rebuild the rate windows).

        Reads the whole table once; called once per worker start.
        """
        cutoff = since.isoformat()
        return [d for d in self.store.all(OUTBOX) if (d.get("counted_at") or "") >= cutoff]

    def expired_claims(self) -> list[Document]:
        """Notifications in ``sending`` whose sender's lease ran out (it was killed mid-send)."""
        now = self.clock()
        return [d for d in self.store.find(OUTBOX, "state", SENDING) if lease_expired(d, now)]

    def of_event(self, event_id: str) -> list[Document]:
        return self.store.find(OUTBOX, "event_id", event_id)

    def counts(self) -> dict[str, int]:
        """How many notifications are in each state (counted from the index, no document read)."""
        return {state: self.store.count(OUTBOX, "state", state) for state in STATES}

    def problems(self, limit: int = 30, offset: int = 0) -> list[Document]:
        """Undeliverable and given-up notifications, newest first (what admins are shown)."""
        return self.problems_page(offset, limit)[0]

    def problems_page(self, offset: int = 0, limit: int = 30) -> tuple[list[Document], int]:
        """A page of :meth:`problems` and how many there are: O(log n + limit) however many were sent."""
        ids, total = self.store.ordered(OUTBOX, PROBLEMS, "", offset, limit, reverse=True)
        docs = (self.store.get(OUTBOX, i) for i in ids)
        return [d for d in docs if d is not None], total
