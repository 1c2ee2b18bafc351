"""Where each person can be reached (Teams conversation references) and their preferences.

Proactive messages need the conversation reference of every user; it is recorded on install and on
every message, but written only when it changed, so a turn does not cost a disk write. A reference
being written is what readers get already (the turn that records it goes on while the write is
fsynced, and is answered only once it is durable; see ``bot.handler``). Writes of one person's
reference are coalesced: the newest wins, and one write at a time is on its way to the disk.
References are plain dicts here (serialized by the bot layer), keeping this module free of botbuilder.
"""

from __future__ import annotations

import asyncio
from typing import Any

from services.repository import CONVERSATIONS, PREFERENCES
from services.storage.base import DocumentStore, Put


class ConversationBook:
    """The conversation reference of each person's 1:1 chat, and their preferences.

    The newest reference wins, and writes of one person's reference are coalesced: while one is on
    its way to the disk, later references wait for the next write, which carries only the newest of
    them. A person talking in many chats at once (the Playground, or the turns benchmark's 50 chats)
    then costs one write per commit instead of one per turn, and no reference is written that a
    newer one has already replaced.
    """

    def __init__(self, store: DocumentStore) -> None:
        self.store = store
        #: references not yet durable (newest per person): what readers get
        self._writing: dict[str, dict[str, Any]] = {}
        #: person -> the write on its way to the disk
        self._in_flight: dict[str, asyncio.Future[None]] = {}
        #: person -> what callers wait on for the write after it (it carries the newest reference)
        self._next: dict[str, asyncio.Future[None]] = {}

    def reference(self, person_id: str) -> dict[str, Any] | None:
        writing = self._writing.get(person_id)
        return writing if writing is not None else self._stored(person_id)

    def _stored(self, person_id: str) -> dict[str, Any] | None:
        doc = self.store.get(CONVERSATIONS, person_id)
        return doc.get("reference") if doc else None

    def all_references(self) -> dict[str, dict[str, Any]]:
        return {**{d["id"]: d["reference"] for d in self.store.all(CONVERSATIONS)}, **self._writing}

    def remember(self, person_id: str, reference: dict[str, Any]) -> asyncio.Future[None] | None:
        """Start storing the personal-chat reference of ``person_id``; None if it is already known.

        Readers get the new reference at once. The future resolves once this reference, or a newer
        one of the same person, is durable (it fails if that write fails): await it before
        acknowledging anything that depends on it. Cancelling it cancels no write.

        Raises:
            StoreUnavailableError: the store refuses writes (nothing changes).
        """
        if self.reference(person_id) == reference:
            return None
        if person_id not in self._in_flight:
            return asyncio.shield(self._write(person_id, reference))
        self._writing[person_id] = reference
        waiting = self._next.get(person_id)
        if waiting is None:
            waiting = self._next[person_id] = asyncio.get_running_loop().create_future()
        return asyncio.shield(waiting)

    def _write(self, person_id: str, reference: dict[str, Any]) -> asyncio.Future[None]:
        """Write ``reference``; when it is done, the newest reference that came meanwhile follows."""
        write = self.store.submit([Put(CONVERSATIONS, person_id, {"reference": reference})])
        self._writing[person_id] = reference
        self._in_flight[person_id] = write

        def written(_: asyncio.Future[None]) -> None:
            del self._in_flight[person_id]
            newest = self._writing.pop(person_id)  # durable, or failed: readers go back to the store
            waiting = self._next.pop(person_id, None)
            if waiting is None:
                return
            if newest == self._stored(person_id):  # the chats went back to the one just written
                waiting.set_result(None)
                return
            try:
                follow = self._write(person_id, newest)
            except Exception as exc:  # the store refuses writes now: so does the write they wait for
                waiting.set_exception(exc)
                return
            follow.add_done_callback(lambda outcome: _resolve_as(waiting, outcome))

        write.add_done_callback(written)
        return write

    def preferences(self, person_id: str) -> dict[str, Any]:
        return self.store.get(PREFERENCES, person_id) or {}

    async def set_preference(self, person_id: str, **values: Any) -> dict[str, Any]:
        prefs = {k: v for k, v in self.preferences(person_id).items() if k != "id"}
        prefs.update(values)
        await self.store.apply([Put(PREFERENCES, person_id, prefs)])
        return prefs


def _resolve_as(waiting: asyncio.Future[None], outcome: asyncio.Future[None]) -> None:
    """Resolve ``waiting`` as ``outcome`` resolved."""
    if waiting.done():
        return
    if outcome.cancelled():
        waiting.cancel()
    elif outcome.exception() is not None:
        waiting.set_exception(outcome.exception())  # type: ignore[arg-type]
    else:
        waiting.set_result(None)
