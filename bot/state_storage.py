"""botbuilder ``Storage`` over a :class:`DocumentStore`: dialog stacks, user and conversation state.

Bot state lives in its own file (``state.json``), so a dialog step never rewrites the inventory.
Values are arbitrary objects (``DialogState`` and friends), so they are encoded with jsonpickle, as
botbuilder's own Blob and Cosmos storages do. Writes honour ``e_tag`` optimistic concurrency: a change
carrying an ``e_tag`` other than ``*`` must match the stored one, otherwise the write is refused and
nothing of the batch is written.
"""

from __future__ import annotations

import uuid
from typing import Any

import jsonpickle
from botbuilder.core import Storage

from services.storage.base import Delete, DocumentStore, Put

STATE_TABLE = "state"


class ETagConflictError(KeyError):
    """Another turn changed this state since it was read (a ``KeyError``, like MemoryStorage's)."""


class TinyDBStateStorage(Storage):
    """Bot state in TinyDB (through the journaled document store)."""

    def __init__(self, store: DocumentStore) -> None:
        super().__init__()
        self.store = store
        #: e_tag checks and the write they allow, as one step across every instance sharing the store
        self._lock = store.mutation_lock()

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
        async with self._lock:
            ops = []
            new_etags: dict[str, str] = {}
            for key, change in changes.items():
                if not key:
                    raise ValueError("Storage.write(): empty key")
                wanted = _get_etag(change)
                if wanted == "":
                    raise ValueError("Storage.write(): e_tag is empty")
                old = self.store.get(STATE_TABLE, key)
                if old is not None and wanted not in (None, "*") and wanted != old["e_tag"]:
                    raise ETagConflictError(f"e_tag conflict on {key!r}")
                etag = uuid.uuid4().hex
                new_etags[key] = etag
                ops.append(Put(STATE_TABLE, key, {"value": jsonpickle.encode(_without_etag(change)), "e_tag": etag}))
            await self.store.apply(ops)
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
