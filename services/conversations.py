"""Where each person can be reached (Teams conversation references) and their preferences.

Proactive messages need the conversation reference of every user; it is recorded on install and on
every message, but written only when it changed, so a turn does not cost a disk write.
References are plain dicts here (serialized by the bot layer), keeping this module free of botbuilder.
"""

from __future__ import annotations

from typing import Any

from services.repository import CONVERSATIONS, PREFERENCES
from services.storage.base import DocumentStore, Put


class ConversationBook:
    def __init__(self, store: DocumentStore) -> None:
        self.store = store

    def reference(self, person_id: str) -> dict[str, Any] | None:
        doc = self.store.get(CONVERSATIONS, person_id)
        return doc.get("reference") if doc else None

    def all_references(self) -> dict[str, dict[str, Any]]:
        return {d["id"]: d["reference"] for d in self.store.all(CONVERSATIONS)}

    async def remember(self, person_id: str, reference: dict[str, Any]) -> bool:
        """Store the personal-chat reference of ``person_id``; True if it changed."""
        current = self.store.get(CONVERSATIONS, person_id)
        if current is not None and current.get("reference") == reference:
            return False
        await self.store.apply([Put(CONVERSATIONS, person_id, {"reference": reference})])
        return True

    def preferences(self, person_id: str) -> dict[str, Any]:
        return self.store.get(PREFERENCES, person_id) or {}

    async def set_preference(self, person_id: str, **values: Any) -> dict[str, Any]:
        prefs = {k: v for k, v in self.preferences(person_id).items() if k != "id"}
        prefs.update(values)
        await self.store.apply([Put(PREFERENCES, person_id, prefs)])
        return prefs
