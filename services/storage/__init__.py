"""Document storage of the bot: the contract, its engines and backup helpers.

Use :func:`open_store`; it returns the journaled engine, the only one fit for the bot's data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from services.storage.backup import export_data, import_data
from services.storage.base import Delete, Document, DocumentStore, Op, Put, StoreHealth
from services.storage.journaled import (
    JournaledTinyStore,
    StoreLockedError,
    StoreStats,
    StoreUnavailableError,
)
from services.storage.stock import StockTinyStore

__all__ = [
    "Delete",
    "Document",
    "DocumentStore",
    "JournaledTinyStore",
    "Op",
    "Put",
    "StockTinyStore",
    "StoreHealth",
    "StoreLockedError",
    "StoreStats",
    "StoreUnavailableError",
    "export_data",
    "import_data",
    "open_store",
]


def open_store(path: Path, indexes: Mapping[str, Sequence[str]]) -> DocumentStore:
    """Open (creating or recovering) the bot's store at ``path``.

    Synchronous on purpose: it only reads and repairs files, so it works the same from the CLI, a
    test or ``cleanup_ctx`` (there, ``await asyncio.to_thread(open_store, path, indexes)`` keeps a
    large load off the event loop). Close the store with ``await store.close()``.

    Args:
        path: the database, e.g. ``data/benefits.json`` (the engine's files sit beside it).
        indexes: ``{table: [field, ...]}`` answered by :meth:`DocumentStore.find` without a scan.

    Returns:
        A :class:`JournaledTinyStore`.
    """
    return JournaledTinyStore(path, indexes)
