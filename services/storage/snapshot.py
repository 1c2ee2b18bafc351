"""Snapshot files of the journaled engine: plain TinyDB JSON, written so that a crash cannot tear them.

A snapshot is the whole database as ``{table: {doc_id: doc}}``, exactly what TinyDB's ``JSONStorage``
reads (open one with ``StrIdTinyDB(path)`` to inspect it). :class:`SnapshotStorage` is a TinyDB
``Storage`` that reads and validates such a file and writes it the safe way: temp file, ``fsync``,
``os.replace``, ``fsync`` of the directory. So a snapshot on disk is always whole: an old one or a new
one, never a mix, unlike stock ``JSONStorage`` which rewrites the file in place.
"""

from __future__ import annotations

import array
import io
import json
import json.scanner
import os
from collections.abc import Iterable, Iterator, Mapping
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

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


_scan_name = json.decoder.scanstring  # type: ignore[attr-defined]  # the C scanner, not in the stubs
#: The JSON decoder's own scanner: ``(value, end)`` of the value at an index (what ``json.loads`` calls)
_scan_value = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]  # as json.decoder calls it


def _table_header(rest: str) -> str:
    """The table named by ``"name":{`` (the rest of a line that opens a table)."""
    if not rest.startswith('"') or not rest.endswith(":{"):
        raise ValueError("expected a table")
    name, end = _scan_name(rest, 1)
    if end != len(rest) - 2:
        raise ValueError("expected a table")
    return name  # type: ignore[no-any-return]


def _laid_out(lines: Iterable[bytes]) -> Iterator[tuple[str, str, str, int, int]]:
    """``(table, doc_id, the document's text, where its bytes start and end in the file)`` of each
    document of a snapshot laid out as :func:`snapshot_chunks` writes it: a line per document, a line
    per change of table. The one reader of that layout: :func:`snapshot_documents` decodes the texts it
    gives, :func:`snapshot_layout` notes where they are. The texts are not checked to be JSON here.

    Raises:
        ValueError: the lines are not laid out so (or not UTF-8).
    """
    lines = iter(lines)
    first = next(lines, b"").rstrip(b"\n")
    if first == b"{}":
        if any(line.strip() for line in lines):
            raise ValueError("extra data")
        return
    if not first.startswith(b"{"):
        raise ValueError("expected an object")
    table = _table_header(first[1:].decode())
    names = {table}
    at = len(first) + 1
    comma = opened = True  # a document may follow: the table was just opened, or a comma ended the line before
    for raw in lines:
        size = len(raw)
        raw = raw.rstrip(b"\n")
        line = raw.decode()
        if line.startswith('"'):
            if not comma:
                raise ValueError("expected a comma between two documents")
            doc_id, end = _scan_name(line, 1)
            if line[end:end + 2] != ":{":
                raise ValueError("expected a document")
            comma, opened = line.endswith(","), False
            text = line[end + 1:-1] if comma else line[end + 1:]
            start = end + 1 if len(line) == len(raw) else len(line[:end + 1].encode())  # an id not all ASCII
            yield table, doc_id, text, at + start, at + len(raw) - comma
        elif comma or opened:
            raise ValueError("expected a document")
        elif line.startswith("},"):
            table = _table_header(line[2:])
            if table in names:
                raise ValueError("a table listed twice")
            names.add(table)
            comma = opened = True
        elif line == "}}":
            if any(rest.strip() for rest in lines):
                raise ValueError("extra data")
            return
        else:
            raise ValueError("expected a document or the end of a table")
        at += size
    raise ValueError("the snapshot ends early")


def snapshot_documents(path: Path) -> Iterator[tuple[str, str, dict[str, Any], str | None]]:
    """``(table, doc_id, doc, its JSON text)`` of every document of a snapshot file, read and decoded
    a line at a time, so a large snapshot is never held whole, as bytes or decoded.

    A file not laid out as :func:`snapshot_chunks` writes it (a plain TinyDB file) is read whole.

    Raises:
        SnapshotCorruptError: as :func:`parse_snapshot` does (its message), before or while yielding.
        OSError: the file cannot be read.
    """
    try:
        with path.open("rb") as file:
            for table, doc_id, text, _, _ in _laid_out(file):
                try:
                    doc, end = _scan_value(text, 0)
                except StopIteration:  # what the scanner raises for text that is not JSON
                    raise ValueError(ERR_BAD_DOC) from None
                if type(doc) is not dict or end != len(text):
                    raise ValueError(ERR_BAD_DOC)
                yield table, doc_id, doc, text
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        # the precise reason, as a whole-file parse gives it; a file that parses whole after all is
        # read whole (the documents already given are given again, unchanged)
        for table, docs in parse_snapshot(path.read_bytes()).items():
            for doc_id, doc in docs.items():
                yield table, doc_id, doc, None


class TableLayout(NamedTuple):
    """A table's documents and where their texts are in the bytes of a snapshot (see :func:`snapshot_layout`)."""

    name: str
    ids: list[str]
    """The documents' ids, in the table's order."""
    spans: array.array[int]
    """Where each document's text starts and ends, two numbers a document."""


def snapshot_layout(data: bytes) -> list[TableLayout]:
    """Where each table's documents are in ``data``, a snapshot laid out as :func:`snapshot_chunks`
    writes it: what :func:`cut_texts` needs to take the documents' texts out again without decoding them.

    Raises:
        ValueError: ``data`` is not laid out so.
    """
    tables: list[TableLayout] = []
    ids: list[str] = []
    spans: array.array[int] = array.array("I")
    for table, doc_id, _, start, end in _laid_out(io.BytesIO(data)):
        if not tables or tables[-1].name != table:
            tables.append(TableLayout(table, [], array.array("I")))
            ids, spans = tables[-1].ids, tables[-1].spans
        ids.append(doc_id)
        spans.extend((start, end))
    return tables


def cut_texts(data: bytes, layout: list[TableLayout]) -> dict[str, dict[str, str]]:
    """The text of every document of snapshot ``data`` by table, cut where ``layout`` says, none decoded.

    Only with the layout of these very bytes (``services.storage.snapshot_index`` checks the file's size
    and checksum): the texts are not validated as JSON.

    Raises:
        ValueError: the layout does not fit ``data`` (an id or a text is not UTF-8).
    """
    tables: dict[str, dict[str, str]] = {}
    for table in layout:
        spans = table.spans
        texts = map(bytes.decode, map(data.__getitem__, map(slice, spans[0::2], spans[1::2])))
        tables[table.name] = dict(zip(table.ids, texts, strict=True))
    return tables


def snapshot_chunks(tables: TablesView) -> Iterator[bytes]:
    """Tables as TinyDB JSON (empty tables are left out), a few hundred documents per chunk, each
    document on a line of its own (so that :func:`snapshot_documents` reads it a line at a time).

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
        yield f"{'' if first else chr(10) + '},'}{json.dumps(name, ensure_ascii=False)}:{{".encode()
        first = False
        # islice, not a list of every (id, doc) pair: tens of thousands of live tuples would set off
        # the garbage collector's full passes, which stall the loop far longer than the encoding
        pairs: Iterator[tuple[str, Any]] = iter(docs.texts.items() if isinstance(docs, DocumentTexts) else docs.items())
        sep = "\n"
        while chunk := list(islice(pairs, SNAPSHOT_CHUNK)):
            yield (sep + ",\n".join(f"{json.dumps(i, ensure_ascii=False)}:{_text(d)}" for i, d in chunk)).encode()
            sep = ",\n"
    yield b"}" if first else b"\n}}"


def _text(doc: str | dict[str, Any]) -> str:
    return doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


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

    def write(self, data: TablesView) -> None:
        """Replace the snapshot atomically and durably."""
        write_atomically(self.path, snapshot_chunks(data))
