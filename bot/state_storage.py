"""botbuilder ``Storage`` over a :class:`DocumentStore`: dialog stacks, user and conversation state.

Bot state lives in its own file (``state.json``), so a dialog step never rewrites the inventory.
Values are arbitrary objects (``DialogState`` and friends), so they are encoded with jsonpickle, as
botbuilder's own Blob and Cosmos storages do. Writes honour ``e_tag`` optimistic concurrency: a change
carrying an ``e_tag`` other than ``*`` must match the stored one, otherwise the write is refused and
nothing of the batch is written.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import jsonpickle
from botbuilder.core import Storage

from services.storage.base import Delete, DocumentStore

STATE_TABLE = "state"


class ETagConflictError(KeyError):
    """Another turn changed this state since it was read (a ``KeyError``, like MemoryStorage's)."""


class TinyDBStateStorage(Storage):
    """Bot state in TinyDB (through the journaled document store)."""

    def __init__(self, store: DocumentStore) -> None:
        super().__init__()
        self.store = store
        #: one e_tag check and write at a time in this process (``update_each`` decides it across processes)
        self._lock = asyncio.Lock()

    async def read(self, keys: list[str]) -> dict[str, Any]:
        if not keys:
            raise ValueError("Storage.read(): keys are required")
        result: dict[str, Any] = {}
        await self.store.refresh()  # what another instance wrote for this conversation
        for key in keys:
            if not key:
                raise ValueError("Storage.read(): empty key")
            doc = self.store.get(STATE_TABLE, key)
            if doc is not None:
                value = jsonpickle.decode(doc["value"])
                _set_etag(value, doc["e_tag"])
                result[key] = value
        return result

    async def write(self, changes: dict[str, Any]) -> None:
        if changes is None:
            raise ValueError("Storage.write(): changes are required")
        if not changes:
            return
        for key in changes:
            if not key:
                raise ValueError("Storage.write(): empty key")
            if _get_etag(changes[key]) == "":
                raise ValueError("Storage.write(): e_tag is empty")
        new_etags = {key: uuid.uuid4().hex for key in changes}

        def checked(key: str, old: dict[str, Any] | None) -> dict[str, Any]:
            wanted = _get_etag(changes[key])
            if old is not None and wanted not in (None, "*") and wanted != old["e_tag"]:
                raise ETagConflictError(f"e_tag conflict on {key!r}")
            return {"value": jsonpickle.encode(_without_etag(changes[key])), "e_tag": new_etags[key]}

        async with self._lock:  # checked on the newest state: by this process, and by the store across processes
            await self.store.update_each(STATE_TABLE, list(changes), checked)
        for key, change in changes.items():
            _set_etag(change, new_etags[key])

    async def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        await self.store.apply([Delete(STATE_TABLE, k) for k in keys if k])


def _get_etag(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("e_tag")
    return getattr(value, "e_tag", None)


def _set_etag(value: Any, etag: str) -> None:
    if isinstance(value, dict):
        value["e_tag"] = etag
    elif hasattr(value, "__dict__"):
        value.e_tag = etag


def _without_etag(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k != "e_tag"}
    return value
