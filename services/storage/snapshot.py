"""Snapshot files of the journaled engine: plain TinyDB JSON, written so that a crash cannot tear them.

A snapshot is the whole database as ``{table: {doc_id: doc}}``, exactly what TinyDB's ``JSONStorage``
reads (open one with ``StrIdTinyDB(path)`` to inspect it). :class:`SnapshotStorage` is a TinyDB
``Storage`` that reads and validates such a file and writes it the safe way: temp file, ``fsync``,
``os.replace``, ``fsync`` of the directory. So a snapshot on disk is always whole: an old one or a new
one, never a mix, unlike stock ``JSONStorage`` which rewrites the file in place.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from services.storage.journal import write_atomically

ERR_NOT_OBJECT = "snapshot is not a JSON object of tables"
ERR_BAD_TABLE = "snapshot table is not an object of documents"
ERR_BAD_DOC = "snapshot document is not a JSON object"

Tables = dict[str, dict[str, dict[str, Any]]]
SNAPSHOT_CHUNK = 500


class SnapshotCorruptError(ValueError):
    """The snapshot file is not a valid TinyDB JSON document."""


ERR_EMPTY = "snapshot is empty (0 bytes of JSON): the engine never writes one"


def parse_snapshot(data: bytes, *, allow_empty: bool = False) -> Tables:
    """Decode and validate the bytes of a snapshot.

    Args:
        data: the file's bytes.
        allow_empty: read an empty file as no tables (a plain TinyDB file that was created and never
            written). A snapshot of the engine always holds at least ``{}``, so an empty one is damage.

    Raises:
        SnapshotCorruptError: empty (unless allowed), not JSON, or not shaped ``{table: {doc_id: {...}}}``.
    """
    if not data.strip():
        if allow_empty:
            return {}
        raise SnapshotCorruptError(ERR_EMPTY)
    try:
        tables = json.loads(data)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise SnapshotCorruptError(f"{type(exc).__name__}: {exc}") from exc
    if not isinstance(tables, dict):
        raise SnapshotCorruptError(ERR_NOT_OBJECT)
    for docs in tables.values():
        if type(docs) is not dict:
            raise SnapshotCorruptError(ERR_BAD_TABLE)
        if not all(type(doc) is dict for doc in docs.values()):
            raise SnapshotCorruptError(ERR_BAD_DOC)
    return tables


def snapshot_chunks(tables: Tables) -> Iterator[bytes]:
    """Tables as TinyDB JSON (empty tables are left out), a few hundred documents per chunk.

    Why chunks: a compaction runs this in a worker thread, and a C call (``json.dumps`` of a whole
    table, joining or encoding megabytes) keeps the GIL for its whole length, stalling the event
    loop. Chunks keep each call short, and writing each one to the file (a system call) hands the
    GIL back to the loop between them.
    """
    yield b"{"
    first = True
    for name, docs in tables.items():
        if not docs:
            continue
        yield f"{'' if first else ','}{json.dumps(name, ensure_ascii=False)}:{{".encode()
        first = False
        # islice, not a list of every (id, doc) pair: tens of thousands of live tuples would set off
        # the garbage collector's full passes, which stall the loop far longer than the encoding
        pairs = iter(docs.items())
        sep = ""
        while chunk := dict(islice(pairs, SNAPSHOT_CHUNK)):
            text = json.dumps(chunk, ensure_ascii=False, separators=(",", ":"))
            yield (sep + text[1:-1]).encode()
            sep = ","
        yield b"}"
    yield b"}"


def encode_snapshot(tables: Tables) -> bytes:
    """The whole snapshot of ``tables`` at once (see :func:`snapshot_chunks`)."""
    return b"".join(snapshot_chunks(tables))


class SnapshotStorage(Storage):
    """A TinyDB ``Storage`` over one snapshot file: validated reads, atomic fsynced writes.

    Args:
        path: the snapshot file; it need not exist yet (``read`` then returns None, as TinyDB expects
            of an empty storage).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = Path(path)

    def read(self) -> Tables | None:
        """The whole snapshot, or None when there is no file.

        Raises:
            SnapshotCorruptError: the file is not a valid TinyDB JSON document.
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        return parse_snapshot(data)

    def write(self, data: Tables) -> None:
        """Replace the snapshot atomically and durably."""
        write_atomically(self.path, snapshot_chunks(data))
