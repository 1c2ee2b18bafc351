"""Snapshot files of the journaled engine: plain TinyDB JSON, written so that a crash cannot tear them.

A snapshot is the whole database as ``{table: {doc_id: doc}}``, exactly what TinyDB's ``JSONStorage``
reads (open one with ``StrIdTinyDB(path)`` to inspect it). :class:`SnapshotStorage` is a TinyDB
``Storage`` that reads and validates such a file and writes it the safe way: temp file, ``fsync``,
``os.replace``, ``fsync`` of the directory. So a snapshot on disk is always whole: an old one or a new
one, never a mix, unlike stock ``JSONStorage`` which rewrites the file in place.
"""

from __future__ import annotations

import json
import json.scanner
import os
import re
import zlib
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


def _line_documents(lines: Iterator[bytes]) -> Iterator[tuple[str, str, dict[str, Any], str]]:
    """``(table, doc_id, doc, the doc's text)`` of a snapshot laid out as :func:`snapshot_chunks` writes
    it: a line per document, a line per change of table.

    Raises:
        ValueError: the lines are not laid out so (or not JSON).
    """
    first = next(lines, b"").rstrip(b"\n").decode()
    if first == "{}":
        if any(line.strip() for line in lines):
            raise ValueError("extra data")
        return
    if not first.startswith("{"):
        raise ValueError("expected an object")
    table, more = _table_header(first[1:]), False
    for raw in lines:
        line = raw.rstrip(b"\n").decode()
        if line.startswith('"'):
            doc_id, end = _scan_name(line, 1)
            if line[end:end + 1] != ":":
                raise ValueError("expected a document")
            more = line.endswith(",")
            text = line[end + 1:-1] if more else line[end + 1:]
            try:
                doc, end = _scan_value(text, 0)
            except StopIteration:  # what the scanner raises for text that is not JSON
                raise ValueError(ERR_BAD_DOC) from None
            if type(doc) is not dict or end != len(text):
                raise ValueError(ERR_BAD_DOC)
            yield table, doc_id, doc, text
            continue
        if more:
            raise ValueError("expected a document after a comma")
        if line.startswith("},"):
            table = _table_header(line[2:])
        elif line == "}}":
            if any(rest.strip() for rest in lines):
                raise ValueError("extra data")
            return
        else:
            raise ValueError("expected a document or the end of a table")
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
            yield from _line_documents(iter(file))
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        # the precise reason, as a whole-file parse gives it; a file that parses whole after all is
        # read whole (the documents already given are given again, unchanged)
        for table, docs in parse_snapshot(path.read_bytes()).items():
            for doc_id, doc in docs.items():
                yield table, doc_id, doc, None


#: a document's line whose id needs no unescaping, with the newline before it: ``(id, text)`` (the text
#: is a JSON object, so it ends with ``}``; a comma may follow)
_DOC_LINE = re.compile(r'\n"([^"\\\n]*+)":([^\n]*})')


def snapshot_texts(path: Path, *, by_line: bool = False,
                   chunk_size: int = 4 << 20) -> tuple[dict[str, dict[str, str]], int, int]:
    """The text of every document of a snapshot laid out as :func:`snapshot_chunks` writes it, by table,
    without decoding any; and the file's size and CRC-32, of the very bytes the texts were cut from.

    Only for a file whose checksum the caller knows (``services.storage.snapshot_index``): the texts are
    cut where the layout says, not validated as JSON, so a file that does not match is not to be used.
    The cutting is done by the regular expression engine a few megabytes at a time (a Python loop over
    the lines costs as much as decoding them would), and leaves out the rare document whose id holds an
    escape (a quote, a backslash, a control character): a caller that finds fewer documents than it
    expects reads the file again ``by_line``, each line scanned.

    Raises:
        ValueError: the file is not laid out so.
        OSError: it cannot be read.
    """
    tables: dict[str, dict[str, str]] = {}
    with path.open("rb") as file:
        first = file.readline()
        size, crc = len(first), zlib.crc32(first)
        docs: dict[str, str] | None = None
        if first.startswith(b"{") and first.endswith(b":{\n"):
            docs = tables.setdefault(_table_header(first[1:-1].decode()), {})
        elif first != b"{}":
            raise ValueError("the file is not laid out as the engine writes snapshots")
        rest = b""
        while chunk := file.read(chunk_size):
            size += len(chunk)
            crc = zlib.crc32(chunk, crc)
            data = rest + chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                rest = data
                continue
            if docs is None:
                raise ValueError("extra data")
            docs = _cut_texts("\n" + data[:cut].decode(), docs, tables, by_line)
            rest = data[cut:]
    if docs is not None and rest != b"\n}}":
        raise ValueError("the snapshot does not end as the engine ends one")
    return tables, size, crc


def _cut_texts(text: str, docs: dict[str, str], tables: dict[str, dict[str, str]], by_line: bool) -> dict[str, str]:
    """Add the documents of ``text`` (whole lines, a newline before each) to ``docs``, and to the tables
    its lines that change table open; return the table its last line is in."""
    segments: list[tuple[dict[str, str], int, int]] = []
    start = 0
    while True:
        at = text.find('\n},"', start)
        segments.append((docs, start, len(text) if at < 0 else at))
        if at < 0:
            break
        start = text.find("\n", at + 1)
        if start < 0:
            raise ValueError("expected a table")
        docs = tables.setdefault(_table_header(text[at + 3:start]), {})
    if by_line:
        found = [_line_texts(text[start:end]) for _, start, end in segments]
    else:
        found = [_DOC_LINE.findall(text, start, end) for _, start, end in segments]
    for (table, _, _), pairs in zip(segments, found, strict=True):
        table.update(pairs)
    return docs


def _line_texts(part: str) -> list[tuple[str, str]]:
    """``(id, text)`` of each document's line of ``part``, the id unescaped."""
    pairs = []
    for line in part.split("\n"):
        if line[:1] != '"':
            if line.strip():
                raise ValueError("expected a document")
            continue
        doc_id, end = _scan_name(line, 1)
        if line[end:end + 1] != ":":
            raise ValueError("expected a document")
        pairs.append((doc_id, line[end + 1:-1] if line[-1:] == "," else line[end + 1:]))
    return pairs


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
