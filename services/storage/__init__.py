"""Document storage: the contract (``base``) and its engines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from services.storage.base import Delete, Document, DocumentStore, Op, Put, StoreHealth
from services.storage.simple import SimpleStore

__all__ = ["Delete", "Document", "DocumentStore", "Op", "Put", "StoreHealth", "open_store"]


def open_store(path: Path, indexes: Mapping[str, Sequence[str]]) -> DocumentStore:
    return SimpleStore(path, indexes)
