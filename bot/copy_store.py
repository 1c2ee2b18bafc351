"""``python -m bot copy-store --from data/ --to postgresql://...`` (and back): move an organization between
the embedded engine and PostgreSQL.

Why a command of its own: a partner that outgrows one process moves its data once, and may move back.
Both stores (domain data and bot state) are copied, each in one atomic batch, and checked against the
source afterwards; a target that holds anything is refused before a single write, so a mistyped target
can never mix two organizations. Every bot instance must be stopped first: a folder in use is refused
by its lock; writes made to a database during the copy would not be in the target.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.settings import DOMAIN_FILE, STATE_FILE, Settings
from services.repository import INDEXES
from services.storage import DocumentStore, open_engine
from services.storage.backup import export_data, import_data
from services.storage.lock import data_folder_lock
from services.storage.postgres_config import URL_SCHEMES, PostgresConfig

STORES: tuple[tuple[str, Mapping[str, Sequence[str]]], ...] = ((DOMAIN_FILE, INDEXES), (STATE_FILE, {}))


def add_cli(sub: Any) -> None:
    cmd = sub.add_parser("copy-store", help="copy every store from a data folder to PostgreSQL, or back "
                                            "(stop the bot first; the target must be empty)")
    cmd.add_argument("--from", dest="source", required=True, metavar="FOLDER_OR_URL",
                     help="a data folder (data/) or a postgresql:// URL")
    cmd.add_argument("--to", dest="target", required=True, metavar="FOLDER_OR_URL",
                     help="a data folder or a postgresql:// URL that holds nothing yet")


class CopyRefused(Exception):
    """Why nothing was copied."""


@contextlib.asynccontextmanager
async def _stores(where: str, *, source: bool) -> AsyncIterator[list[DocumentStore]]:
    """The bot's stores at ``where`` (a URL or a folder), opened; a source must hold a store already."""
    opened: list[DocumentStore] = []
    try:
        if where.startswith(URL_SCHEMES):
            from services.storage.postgres import PostgresStore  # the driver, only when a database is named

            config = PostgresConfig(where, pool_min=1, pool_max=3)
            for name, indexes in STORES:
                store = await PostgresStore.open(config, indexes, namespace=Path(name).stem, poll=False)
                opened.append(store)
                if source and store.created and Path(name).stem == Path(DOMAIN_FILE).stem:
                    raise CopyRefused(f"{config.safe_target} holds no store of the bot")
            yield opened
            return
        folder = Path(where)
        if source and not any(folder.glob(f"{Path(DOMAIN_FILE).stem}.*")):
            raise CopyRefused(f"{folder} holds no store of the bot")
        with data_folder_lock(folder):
            for name, indexes in STORES:
                opened.append(await open_engine(None, folder / name, indexes))
            yield opened
    finally:
        for each in opened:
            await each.close()


async def copy_stores(source: str, target: str) -> list[tuple[str, int]]:
    """Copy every store from ``source`` to ``target``; the documents copied per store.

    Raises:
        CopyRefused: the source holds no store, or the target holds data (nothing was written).
        StoreUnavailableError, DataFolderBusy: a store cannot be opened (a bot is running on it...).
    """
    async with _stores(source, source=True) as sources, _stores(target, source=False) as targets:
        full = [(name, t.table_names()) for (name, _), t in zip(STORES, targets, strict=True) if t.table_names()]
        if full:
            held = "; ".join(f"{name}: {', '.join(tables)}" for name, tables in full)
            raise CopyRefused(f"the target already holds data ({held}); nothing was copied")
        counts: list[tuple[str, int]] = []
        for (name, _), src, dst in zip(STORES, sources, targets, strict=True):
            counts.append((name, await import_data(dst, export_data(src))))
            if dst.dump() != src.dump():
                raise CopyRefused(f"{name}: the copy differs from its source")
        return counts


async def cmd_copy_store(settings: Settings, args: argparse.Namespace) -> int:
    try:
        counts = await copy_stores(args.source, args.target)
    except CopyRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for name, count in counts:
        print(f"{Path(name).stem}: copied {count} records")
    print(f"copied from {_safe(args.source)} to {_safe(args.target)}")
    return 0


def _safe(where: str) -> str:
    return PostgresConfig(where).safe_target if where.startswith(URL_SCHEMES) else where
