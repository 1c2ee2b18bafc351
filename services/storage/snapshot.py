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
import re
from collections.abc import Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from services.storage.journal import write_atomically

ERR_NOT_OBJECT = "snapshot is not a JSON object of tables"
ERR_BAD_TABLE = "snapshot table is not an object of documents"
ERR_BAD_DOC = "snapshot document is not a JSON object"

Tables = dict[str, dict[str, dict[str, Any]]]
#: Tables as they are written: decoded documents, or :class:`DocumentTexts`.
TablesView = Mapping[str, Mapping[str, dict[str, Any]]]
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


class DocumentTexts(Mapping[str, dict[str, Any]]):
    """A table held as the JSON text of each document: read as a mapping of decoded documents, and
    written by :func:`snapshot_chunks` as the texts are, without decoding them."""

    __slots__ = ("texts",)

    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts

    def __getitem__(self, doc_id: str) -> dict[str, Any]:
        return json.loads(self.texts[doc_id])  # type: ignore[no-any-return]

    def __iter__(self) -> Iterator[str]:
        return iter(self.texts)

    def __len__(self) -> int:
        return len(self.texts)


_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _documents(text: str) -> Iterator[tuple[str, str, dict[str, Any], str]]:
    """``(table, doc_id, doc, the doc's text)`` of each document of a snapshot, in file order.

    Raises:
        ValueError: not the JSON of an object of objects of objects.
    """
    decode = _DECODER.raw_decode

    def space(at: int) -> int:
        return _SPACE.match(text, at).end()  # type: ignore[union-attr]  # matches everywhere

    def expect(at: int, char: str) -> int:
        at = space(at)
        if text[at:at + 1] != char:
            raise ValueError(f"expected {char!r} at {at}")
        return space(at + 1)

    def key(at: int) -> tuple[str, int]:
        name, at = decode(text, at)
        if type(name) is not str:
            raise ValueError(f"expected a name at {at}")
        return name, expect(at, ":")

    def closes(at: int) -> bool:
        return text[at:at + 1] == "}"

    def after(at: int) -> int:
        """Past the comma between two members (at the closing brace if there is none)."""
        if closes(at):
            return at
        at = expect(at, ",")
        if closes(at):
            raise ValueError(f"a comma before the end at {at}")
        return at

    at = expect(0, "{")
    while not closes(at):
        table, at = key(at)
        at = expect(at, "{")
        while not closes(at):
            doc_id, at = key(at)
            doc, end = decode(text, at)
            if type(doc) is not dict:
                raise ValueError(ERR_BAD_DOC)
            yield table, doc_id, doc, text[at:end]
            at = after(space(end))
        at = after(space(at + 1))
    if space(at + 1) != len(text):
        raise ValueError(f"extra data at {at + 1}")


def snapshot_documents(data: bytes) -> Iterator[tuple[str, str, dict[str, Any], str | None]]:
    """``(table, doc_id, doc, its JSON text)`` of every document of a snapshot's bytes, decoded one
    at a time, so a large snapshot is never held decoded whole.

    Raises:
        SnapshotCorruptError: as :func:`parse_snapshot` does (its message), before or while yielding.
    """
    try:
        yield from _documents(data.decode("utf-8"))
    except ValueError:
        # the precise reason, as a whole-file parse gives it; a file this reader failed on that still
        # parses whole is read whole (the documents already given are given again, unchanged)
        for table, docs in parse_snapshot(data).items():
            for doc_id, doc in docs.items():
                yield table, doc_id, doc, None


def snapshot_chunks(tables: TablesView) -> Iterator[bytes]:
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
        if isinstance(docs, DocumentTexts):
            texts = iter(docs.texts.items())
            sep = ""
            while chunk := list(islice(texts, SNAPSHOT_CHUNK)):
                yield (sep + ",".join(f"{json.dumps(i, ensure_ascii=False)}:{t}" for i, t in chunk)).encode()
                sep = ","
            yield b"}"
            continue
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


def encode_snapshot(tables: TablesView) -> bytes:
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
