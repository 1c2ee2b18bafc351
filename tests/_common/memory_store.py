"""A small in-memory document store for unit tests (optionally persisted by whole-file replace).

Not for the bot's data: the journaled engine (services/storage/journaled.py) is. Tests of services
that only need the DocumentStore contract use this one to stay fast and independent of the engine.
"""

from __future__ import annotations

import asyncio
import copy
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from services.storage.base import Delete, Document, DocumentStore, Op, Put, StoreHealth


class SimpleStore(DocumentStore):
    def __init__(self, path: Path | None, indexes: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(indexes)
        self.path = path
        self._tables: dict[str, dict[str, Document]] = {}
        self._lock = asyncio.Lock()
        if path is not None and path.exists():
            self._tables = json.loads(path.read_text(encoding="utf-8"))

    def get(self, table: str, doc_id: str) -> Document | None:
        doc = self._tables.get(table, {}).get(doc_id)
        return copy.deepcopy(doc) if doc is not None else None

    def all(self, table: str) -> list[Document]:
        return [copy.deepcopy(d) for d in self._tables.get(table, {}).values()]

    def find(self, table: str, field_name: str, value: Any) -> list[Document]:
        return [copy.deepcopy(d) for d in self._tables.get(table, {}).values() if d.get(field_name) == value]

    def table_names(self) -> list[str]:
        return [t for t, docs in self._tables.items() if docs]

    async def apply(self, ops: Sequence[Op]) -> None:
        async with self._lock:
            staged = {t: dict(docs) for t, docs in self._tables.items()}
            for op in ops:
                if not op.table or not op.doc_id:
                    raise ValueError("table and doc_id must not be empty")
                if isinstance(op, Put):
                    staged.setdefault(op.table, {})[op.doc_id] = {**copy.deepcopy(dict(op.doc)), "id": op.doc_id}
                elif isinstance(op, Delete):
                    staged.get(op.table, {}).pop(op.doc_id, None)
            if self.path is not None:
                await asyncio.to_thread(self._write, staged)
            self._tables = staged

    def _write(self, tables: dict[str, dict[str, Document]]) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(tables, ensure_ascii=False))  # one C-encoder call: ~3x faster than json.dump
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def health(self) -> StoreHealth:
        return StoreHealth(ready=True, path=str(self.path))

    async def close(self) -> None:
        return None
