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
    StoreDamagedError,
    StoreLockedError,
    StoreStats,
    StoreUnavailableError,
)

__all__ = [
    "Delete",
    "Document",
    "DocumentStore",
    "JournaledTinyStore",
    "Op",
    "Put",
    "StoreDamagedError",
    "StoreHealth",
    "StoreLockedError",
    "StoreStats",
    "StoreUnavailableError",
    "export_data",
    "import_data",
    "open_store",
]


def open_store(path: Path, indexes: Mapping[str, Sequence[str]], *, accept_loss: bool = False) -> JournaledTinyStore:
    """Open (creating or recovering) the bot's store at ``path``.

    Synchronous on purpose: it only reads and repairs files, so it works the same from the CLI, a
    test or ``cleanup_ctx`` (there, ``await asyncio.to_thread(open_store, path, indexes)`` keeps a
    large load off the event loop). Close the store with ``await store.close()``.

    Args:
        path: the database, e.g. ``data/benefits.json`` (the engine's files sit beside it).
        indexes: ``{table: [field, ...]}`` answered by :meth:`DocumentStore.find` without a scan.
        accept_loss: open even when acknowledged writes are lost (``python -m bot repair --accept-loss``).

    Returns:
        A :class:`JournaledTinyStore`.

    Raises:
        StoreDamagedError: the files are damaged in a way that loses acknowledged writes.
        StoreUnavailableError: the files cannot be opened (held by another process, unreadable).
    """
    return JournaledTinyStore(path, indexes, accept_loss=accept_loss)
