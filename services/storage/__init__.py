"""Document storage of the bot: the contract, its engines and backup helpers.

Use :func:`open_store` for the journaled engine (the embedded default, one process), or
:func:`open_engine` for the engine the settings select: PostgreSQL when ``STORAGE_URL`` names one (several
instances sharing a database, see ``services.storage.postgres``), the journaled engine otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from services.storage.backup import export_data, import_data
from services.storage.base import Delete, Document, DocumentStore, Op, Put, StoreHealth
from services.storage.journaled import (
    JournaledTinyStore,
    StoreDamagedError,
    StoreLockedError,
    StoreStats,
    StoreUnavailableError,
)
from services.storage.schema_versions import check_version, upgrade, upgrade_shared

if TYPE_CHECKING:
    from services.storage.postgres_config import PostgresConfig

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
    "open_engine",
    "open_store",
]


def open_store(path: Path, indexes: Mapping[str, Sequence[str]], *, accept_loss: bool = False,
               later: Sequence[str] = ()) -> JournaledTinyStore:
    """Open (creating or recovering) the bot's store at ``path``.

    Synchronous on purpose: it only reads and repairs files, so it works the same from the CLI, a
    test or ``cleanup_ctx`` (there, ``await asyncio.to_thread(open_store, path, indexes)`` keeps a
    large load off the event loop). Close the store with ``await store.close()``.

    Args:
        path: the database, e.g. ``data/benefits.json`` (the engine's files sit beside it).
        indexes: ``{table: [field, ...]}`` answered by :meth:`DocumentStore.find` without a scan.
        accept_loss: open even when acknowledged writes are lost (``python -m bot repair --accept-loss``).
        later: tables a start may leave unread until they are used or ``store.load_later()`` reads them
            (see :class:`JournaledTinyStore`).

    Returns:
        A :class:`JournaledTinyStore`.

    Raises:
        StoreDamagedError: the files are damaged in a way that loses acknowledged writes.
        StoreUnavailableError: the files cannot be opened (held by another process, unreadable), or hold
            data of a version newer than this code knows.
    """
    check_version(Path(path))
    return JournaledTinyStore(path, indexes, accept_loss=accept_loss, later=later)


async def open_engine(config: PostgresConfig | None, path: Path, indexes: Mapping[str, Sequence[str]], *,
                      accept_loss: bool = False, later: Sequence[str] = ()) -> DocumentStore:
    """Open the store the settings select for the data that the journaled engine keeps at ``path``.

    With a PostgreSQL ``config`` (``PostgresConfig.from_settings``: ``STORAGE_URL=postgresql://...``) the
    data lives in the database's schema named after the file (``benefits``, ``state``); without one it is
    :func:`open_store` (run in a thread), its data upgraded to the newest version (``schema_versions``).
    Both kinds have ``created`` (this open made the store). ``later``: tables the journaled engine may read
    after the open (``DocumentStore.load_later``); the PostgreSQL engine reads none at open.

    Raises:
        StoreDamagedError: the files are damaged (journaled engine; see ``accept_loss``).
        StoreUnavailableError: the files or the database cannot be opened.
    """
    if config is None:
        plain_file = Path(path).is_file()  # a plain TinyDB file an older bot wrote: imported, then upgraded
        store = await asyncio.to_thread(open_store, path, indexes, accept_loss=accept_loss, later=later)
        try:
            await upgrade(store, Path(path), created=store.created and not plain_file, after_writes=store.compact)
        except BaseException:
            await store.close()
            raise
        return store
    from services.storage.postgres import PostgresStore  # the driver, only when a database is named

    shared = await PostgresStore.open(config, indexes, namespace=Path(path).stem)
    try:
        await upgrade_shared(shared, Path(path).stem)
    except BaseException:
        await shared.close()
        raise
    return shared
