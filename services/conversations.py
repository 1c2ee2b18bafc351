"""Where each person can be reached (Teams conversation references) and their preferences.

Proactive messages need the conversation reference of every user; it is recorded on install and on
every message, but written only when it changed, so a turn does not cost a disk write. A reference
being written is what readers get already (the turn that records it goes on while the write is
fsynced, and is answered only once it is durable; see ``bot.handler``).
References are plain dicts here (serialized by the bot layer), keeping this module free of botbuilder.
"""

from __future__ import annotations

import asyncio
from typing import Any

from services.repository import CONVERSATIONS, PREFERENCES
from services.storage.base import DocumentStore, Put


class ConversationBook:
    def __init__(self, store: DocumentStore) -> None:
        self.store = store
        self._writing: dict[str, dict[str, Any]] = {}

    def reference(self, person_id: str) -> dict[str, Any] | None:
        writing = self._writing.get(person_id)
        if writing is not None:
            return writing
        doc = self.store.get(CONVERSATIONS, person_id)
        return doc.get("reference") if doc else None

    def all_references(self) -> dict[str, dict[str, Any]]:
        return {**{d["id"]: d["reference"] for d in self.store.all(CONVERSATIONS)}, **self._writing}

    def remember(self, person_id: str, reference: dict[str, Any]) -> asyncio.Future[None] | None:
        """Start storing the personal-chat reference of ``person_id``; None if it is already known.

        The write is queued before this returns and readers get the new reference at once; await
        the future before acknowledging anything that depends on it being durable.
        """
        if self.reference(person_id) == reference:
            return None
        self._writing[person_id] = reference
        write = self.store.submit([Put(CONVERSATIONS, person_id, {"reference": reference})])

        def written(_: asyncio.Future[None]) -> None:
            if self._writing.get(person_id) is reference:
                del self._writing[person_id]

        write.add_done_callback(written)
        return write

    def preferences(self, person_id: str) -> dict[str, Any]:
        return self.store.get(PREFERENCES, person_id) or {}

    async def set_preference(self, person_id: str, **values: Any) -> dict[str, Any]:
        prefs = {k: v for k, v in self.preferences(person_id).items() if k != "id"}
        prefs.update(values)
        await self.store.apply([Put(PREFERENCES, person_id, prefs)])
        return prefs
