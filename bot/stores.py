"""Which stores the bot opens: the data folder's (one process) or a PostgreSQL database (several instances).

Why a module of its own: the app, the command line and the operator's commands all choose the same way,
and none of them may import another for it (``tests/test_architecture.py`` refuses import circles).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from bot.settings import DOMAIN_FILE, Settings, number_setting
from services.repository import INDEXES
from services.storage import DocumentStore, open_engine
from services.storage.lock import data_folder_lock
from services.storage.postgres_config import PostgresConfig


def storage_config(settings: Settings) -> PostgresConfig | None:
    """The shared database ``STORAGE_URL`` (or ``PGHOST``) selects; None: the data folder's stores."""
    return PostgresConfig.from_settings(settings.extra, number_setting)


@contextlib.asynccontextmanager
async def domain_store(settings: Settings, *, accept_loss: bool = False) -> AsyncIterator[DocumentStore]:
    """The domain store the settings select, for a command: PostgreSQL (shared with running instances), or
    the data folder's, under its lock (refused while the bot runs on it)."""
    config = storage_config(settings)
    if config is not None:
        store = await open_engine(config, settings.data_dir / DOMAIN_FILE, INDEXES)
        try:
            yield store
        finally:
            await store.close()
        return
    with data_folder_lock(settings.data_dir):
        store = await open_engine(None, settings.data_dir / DOMAIN_FILE, INDEXES, accept_loss=accept_loss)
        try:
            yield store
        finally:
            await store.close()
