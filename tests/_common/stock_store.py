"""Stock TinyDB behind the store contract: a second engine for the tests and the storage bench's baseline.

It lives with the tests because the bot must never open it.

Deliberately naive: TinyDB's default ``JSONStorage`` re-reads the whole file for every read and
rewrites it in place for every batch, and ``find`` scans with a TinyDB query whatever ``indexes``
says. It is not crash-safe (a kill during a rewrite that shrinks the file leaves trailing bytes and
the next open fails): never use it for the bot's data. Running the conformance tests against it
shows that the journaled engine behaves exactly like TinyDB.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tinydb import where
from tinydb.storages import JSONStorage

from services.storage._common import (
    ERR_FIELD_NAME,
    StrIdTinyDB,
    check_doc_id,
    check_name,
    check_table,
    clone,
    normalize_ops,
)
from services.storage.base import Document, DocumentStore, Op, StoreHealth

DETAIL_OK = "stock TinyDB JSONStorage (not crash-safe)"
DETAIL_CLOSED = "the store is closed"


class StockTinyStore(DocumentStore):
    """Plain TinyDB (``JSONStorage``) implementing :class:`DocumentStore` the straightforward way.

    Args:
        path: the TinyDB JSON file (created with its folders if missing).
        indexes: accepted for the contract; stock TinyDB has no indexes, ``find`` always scans.
    """

    def __init__(self, path: Path | str, indexes: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(indexes)
        self.path = Path(path)
        self._db = StrIdTinyDB(str(self.path), storage=JSONStorage, create_dirs=True)
        self._closed = False

    def get(self, table: str, doc_id: str) -> Document | None:
        """Return a copy of one document, or None (reads the whole file)."""
        doc = self._db.table(check_table(table)).get(doc_id=check_doc_id(doc_id))
        return None if doc is None else clone(dict(doc))

    def all(self, table: str) -> list[Document]:
        """Return copies of every document of ``table`` (reads the whole file)."""
        return [clone(dict(doc)) for doc in self._db.table(check_table(table)).all()]

    def find(self, table: str, field_name: str, value: Any) -> list[Document]:
        """Return copies of the matching documents (a TinyDB query: reads and scans the whole file)."""
        check_name(field_name, ERR_FIELD_NAME)
        found = self._db.table(check_table(table)).search(where(field_name) == value)
        return [clone(dict(doc)) for doc in found]

    async def apply(self, ops: Sequence[Op]) -> None:
        """Apply a batch with one read and one in-place rewrite of the file (JSONStorage fsyncs it).

        The rewrite runs on the event loop thread: ``JSONStorage`` is not thread-safe and this engine
        is a baseline, not something to serve from.
        """
        normalized = normalize_ops(ops)
        if not normalized:
            return
        storage = self._db.storage
        data = storage.read() or {}
        for op in normalized:
            docs = data.setdefault(op[1], {})
            if op[0] == "put":
                docs[op[2]] = op[3]
            else:
                docs.pop(op[2], None)
        storage.write(data)
        for name in {op[1] for op in normalized}:
            self._db.table(name).clear_cache()

    def table_names(self) -> list[str]:
        """Names of the tables that hold at least one document."""
        data = self._db.storage.read() or {}
        return sorted(name for name, docs in data.items() if docs)

    def health(self) -> StoreHealth:
        """Ready while open; stock TinyDB has nothing to quarantine (it fails to open instead)."""
        return StoreHealth(
            ready=not self._closed, path=str(self.path), detail=DETAIL_CLOSED if self._closed else DETAIL_OK
        )

    async def close(self) -> None:
        """Close the file."""
        if not self._closed:
            self._closed = True
            self._db.close()
