"""Backup and restore of a whole store (``python -m bot export FILE`` / ``import FILE``).

The dump is a JSON object with a format marker and a version, so that a file of something else is
refused instead of wiping the data. Import replaces the whole content in ONE batch: the journaled
engine makes it atomic and durable, so a crash during a restore leaves the old data or the new data,
never a mix. Replacing a store that holds data must be asked for (``replace``), and the caller can
check every document first (``services.restore`` checks them against the domain models).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from services.storage.base import Delete, DocumentStore, Op, Put
from services.storage.snapshot import snapshot_chunks

DUMP_FORMAT = "partner-benefits-bot/storage"
DUMP_VERSION = 1

ERR_NOT_DUMP = "not a storage dump: expected an object with format, version and tables"
ERR_VERSION = "unsupported storage dump version"
ERR_TABLES = "the dump's tables must be an object of {doc_id: document} objects"
ERR_NOT_EMPTY = "the store holds data: a restore would replace it, which must be asked for (replace)"


class RestoreRefused(ValueError):
    """The store holds data and the restore was not asked to replace it."""


def dump_header() -> dict[str, Any]:
    """What a dump says about itself: its format, version and when it was made."""
    return {
        "format": DUMP_FORMAT,
        "version": DUMP_VERSION,
        "exported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def export_data(store: DocumentStore) -> dict[str, Any]:
    """Every document of ``store`` as a JSON-ready dump.

    Returns:
        ``{"format": ..., "version": 1, "exported_at": <UTC ISO time>, "tables": {table: {id: doc}}}``.
    """
    return {**dump_header(), "tables": store.dump()}


def dump_tables(data: Any) -> Mapping[str, Mapping[str, Mapping[str, Any]]]:
    """The tables of a dump, once its format, version and shape are checked.

    Raises:
        ValueError: not a dump, another version, or tables that are not objects of objects.
    """
    if not isinstance(data, Mapping) or data.get("format") != DUMP_FORMAT or "tables" not in data:
        raise ValueError(ERR_NOT_DUMP)
    if data.get("version") != DUMP_VERSION:
        raise ValueError(ERR_VERSION)
    tables = data["tables"]
    if not isinstance(tables, Mapping) or not all(
        isinstance(docs, Mapping) and all(isinstance(doc, Mapping) for doc in docs.values())
        for docs in tables.values()
    ):
        raise ValueError(ERR_TABLES)
    return tables


async def encode_export(store: DocumentStore) -> bytes:
    """``export_data(store)`` as UTF-8 JSON, for a store that keeps serving meanwhile.

    The store hands out a consistent view of its tables at once (``frozen_tables``) and the JSON is
    encoded in a worker thread, a few hundred documents at a time (``snapshot_chunks``), so a backup
    of a large store does not stall the event loop.
    """
    head = dump_header()
    tables = store.frozen_tables()

    def encode() -> bytes:
        return b"".join([json.dumps(head, ensure_ascii=False)[:-1].encode(), b', "tables": ',
                         *snapshot_chunks(tables), b"}"])

    return await asyncio.to_thread(encode)


async def import_data(
    store: DocumentStore,
    data: Mapping[str, Any],
    *,
    replace: bool = False,
    check: Callable[[str, str, Mapping[str, Any]], None] | None = None,
) -> int:
    """Replace the whole content of ``store`` with a dump, atomically (one batch).

    Documents absent from the dump are deleted; the others are written as they are in the dump.

    Args:
        store: the store to restore into.
        data: a dump made by :func:`export_data`.
        replace: allow overwriting a store that holds documents.
        check: called with ``(table, doc_id, doc)`` for every document before anything is written;
            raises ``ValueError`` for one that must not go in.

    Returns:
        The number of documents imported.

    Raises:
        RestoreRefused: the store holds data and ``replace`` is false (nothing is changed).
        ValueError: ``data`` is not a dump of a supported version, or holds an invalid document
            (then nothing is changed).
    """
    tables = dump_tables(data)
    if check is not None:
        for name, docs in tables.items():
            for doc_id, doc in docs.items():
                check(name, doc_id, doc)
    if not replace and store.table_names():
        raise RestoreRefused(ERR_NOT_EMPTY)
    ops: list[Op] = []
    for name in store.table_names():
        keep = tables.get(name, {})
        ops.extend(Delete(name, doc["id"]) for doc in store.all(name) if doc["id"] not in keep)
    count = 0
    for name, docs in tables.items():
        for doc_id, doc in docs.items():
            ops.append(Put(name, doc_id, {**doc, "id": doc_id}))
            count += 1
    await store.apply(ops)
    return count
