"""Where each person can be reached (Teams conversation references) and their preferences.

Proactive messages need the conversation reference of every user; it is recorded on install and on
every message, but written only when it changed, so a turn does not cost a disk write. A reference
being written is what readers get already (the turn that records it goes on while the write is
fsynced, and is answered only once it is durable; see ``bot.handler``). Writes of one person's
reference are coalesced: the newest wins, and one write at a time is on its way to the disk.
References are plain dicts here (serialized by the bot layer), keeping this module free of botbuilder.

Only what a proactive message needs is kept of a reference (ids, names, the chat and where to send),
each a bounded string: an incoming activity can carry anything in its accounts (``properties``
nested hundreds deep), and what is stored is read back on every turn of that person. A stored
reference that cannot be read is treated as absent, so the next turn replaces it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from services.repository import CONVERSATIONS, PREFERENCES
from services.storage.base import DocumentStore, Put

log = logging.getLogger(__name__)

#: longest id or service URL kept; a longer one is not a Teams reference
MAX_ID = 1024
#: names are display text: cut to this many characters
MAX_NAME = 256
_SURROGATE = re.compile("[\ud800-\udfff]")
_ACCOUNT_FIELDS = ("id", "name", "aadObjectId", "role")
_CONVERSATION_FIELDS = ("id", "name", "conversationType", "tenantId")


def _id(value: Any) -> str | None:
    if type(value) is not str or not value or len(value) > MAX_ID or _SURROGATE.search(value):
        return None
    return value


def _name(value: Any) -> str | None:
    if type(value) is not str:
        return None
    return _SURROGATE.sub("\ufffd", value[:MAX_NAME])


def _account(value: Any, fields: tuple[str, ...]) -> dict[str, Any] | None:
    if type(value) is not dict:
        return None
    account: dict[str, Any] = {}
    for key in fields:
        text = _id(value.get(key)) if key != "name" else _name(value.get(key))
        if text is not None:
            account[key] = text
    return account if "id" in account else None


def bounded_reference(reference: Any) -> dict[str, Any] | None:
    """The parts of a serialized conversation reference that the bot uses; None if it is unusable.

    Kept: the user and bot accounts (id, name, Entra object id, role), the chat (id, name, type,
    tenant, whether it is a group), the channel, locale and service URL. A reference without a user
    id, chat id or service URL cannot reach anyone and is dropped.
    """
    if type(reference) is not dict:
        return None
    user = _account(reference.get("user"), _ACCOUNT_FIELDS)
    conversation = _account(reference.get("conversation"), _CONVERSATION_FIELDS)
    service_url = _id(reference.get("serviceUrl"))
    if user is None or conversation is None or service_url is None:
        return None
    is_group = (reference.get("conversation") or {}).get("isGroup")
    if type(is_group) is bool:
        conversation["isGroup"] = is_group
    bounded: dict[str, Any] = {"user": user, "conversation": conversation, "serviceUrl": service_url}
    bot = _account(reference.get("bot"), _ACCOUNT_FIELDS)
    if bot is not None:
        bounded["bot"] = bot
    for key in ("channelId", "locale"):
        text = _id(reference.get(key))
        if text is not None:
            bounded[key] = text
    return bounded


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
        try:
            doc = self.store.get(CONVERSATIONS, person_id)
        except (RecursionError, MemoryError, ValueError, TypeError) as exc:  # stored before references were bounded
            log.warning("a stored conversation reference cannot be read; it will be replaced",
                        extra={"reason": type(exc).__name__})
            return None
        return bounded_reference(doc.get("reference")) if isinstance(doc, dict) else None

    def all_references(self) -> dict[str, dict[str, Any]]:
        try:
            docs = self.store.frozen_tables().get(CONVERSATIONS, {})
        except (RecursionError, MemoryError, ValueError, TypeError) as exc:
            log.warning("stored conversation references cannot be read", extra={"reason": type(exc).__name__})
            docs = {}
        stored = {person_id: bounded_reference(doc.get("reference")) for person_id, doc in docs.items()}
        return {**{k: v for k, v in stored.items() if v is not None}, **self._writing}

    def remember(self, person_id: str, reference: dict[str, Any]) -> asyncio.Future[None] | None:
        """Start storing the personal-chat reference of ``person_id``; None if it is already known.

        Readers get the new reference at once. The future resolves once this reference, or a newer
        one of the same person, is durable (it fails if that write fails): await it before
        acknowledging anything that depends on it. Cancelling it cancels no write.

        Only :func:`bounded_reference` of ``reference`` is kept; an unusable one is not stored.

        Raises:
            StoreUnavailableError: the store refuses writes (nothing changes).
        """
        bounded = bounded_reference(reference)
        if bounded is None:
            log.warning("a conversation reference without user, chat or service URL was not stored")
            return None
        reference = bounded
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
            try:  # whatever happens here, the turns waiting for the follow-up write get an answer
                if newest == self._stored(person_id):  # the chats went back to the one just written
                    waiting.set_result(None)
                    return
                follow = self._write(person_id, newest)
            except Exception as exc:  # e.g. the store refuses writes now: so does the write they wait for
                if not waiting.done():
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
    elif (error := outcome.exception()) is not None:
        waiting.set_exception(error)
    else:
        waiting.set_result(None)
