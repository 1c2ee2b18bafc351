"""The index file beside a snapshot: the secondary indexes the snapshot's documents make, saved with it.

Why: building the indexes at start means decoding every document of the snapshot, which at the size of
a large organization is most of a start. The indexes are already in memory when a snapshot is written,
so they are written beside it (``benefits.g00000007.index`` for ``benefits.g00000007.json``), and a start
whose index file matches its snapshot adopts the documents' texts as they are and loads the indexes,
decoding no document.

The index file names the one snapshot it was made from: its generation, size and CRC-32. A start
trusts it only when the snapshot file read back has exactly that size and checksum, and only when it
was made for the fields this code indexes; the file also carries the checksum of its own body. Anything
else (missing, stale, damaged, another layout, a crash between the snapshot's write and the index's)
sends the start down the path that decodes every document, which detects a damaged snapshot as always
and writes the index file again for the next start. The index file is never needed: deleting it costs
one slow start.

Layout: a header line ``{"format", "generation", "snapshot_size", "snapshot_crc32", "fields", "documents",
"segments", "body_size", "body_crc32"}`` (``documents``: how many each table holds), then the body: one
segment per table that holds documents, one after the other. ``segments`` says where each table's segment is
in the body and where its documents are in the snapshot (``{table: [body start, body end, snapshot start,
snapshot end]}``), so that a start reads only the tables it needs at once and leaves the others (the audit
trail) for later (:func:`table_steps`).

A segment is lines of JSON, each of at most :data:`STEP_ITEMS` items (so that each is read, and written, in
a short call that lets the event loop run between two):

* ``["ids", [id, ...]]``: the table's documents, in order (as many such lines as it takes);
* ``["spans", spans]``: where each document's text is in the snapshot
  (``services.storage.snapshot.TableLayout``: unsigned 32-bit little-endian numbers in base64), so that a
  start cuts the texts out of the file's bytes;
* for each indexed field, ``["s", field, [value, ...], places]`` (the values that are strings naming one
  document each; ``places``: where each of those documents is, as numbers in base64), ``["m", field,
  {value: [n, ...]}]`` (those naming several), then one ``["o", field, [[value, n or [n, ...]], ...]]``
  (the values of other types: numbers, booleans, null, and ``["\\u0000json", text]`` for a list or
  object), which closes the field.

A document is named by its place in its table in the snapshot (``n``), so that a start shares each id with
the table rather than holding it twice, and reads the places of most without making a number of each.
"""

from __future__ import annotations

import array
import base64
import json
import sys
import zlib
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from services.storage.journal import write_atomically
from services.storage.snapshot import snapshot_layout
from services.storage.snapshot_texts import Buffer, SnapshotTexts

FORMAT = "partner-benefits-bot/snapshot-index-2"

#: ``{value: id, or {id: None, ...} for several}``: one field's index, as the store holds it
Entries = dict[Any, "str | dict[str, None]"]
#: ``{table: {field: entries}}``: every index, each copied (see ``MemoryTables._frozen_index``)
FrozenIndex = dict[str, dict[str, Entries]]
#: a table's texts as a start adopts them: each cut out of the snapshot at once, or when first read
Texts = dict[str, str] | SnapshotTexts
#: reads one table a step at a time, then returns its texts and indexes (see :func:`table_steps`)
TableSteps = Generator[None, None, tuple[Texts, dict[str, Entries]]]

#: the most items a line of a segment holds, and one step of :func:`table_steps` reads
STEP_ITEMS = 5_000

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class IndexFileMismatch(ValueError):
    """The index file does not describe this snapshot for this code (stale, damaged, other fields)."""


def _entry_lines(name: str, entries: Entries, place: Mapping[str, int]) -> Iterator[list[Any]]:
    """One field's index as lines of a segment, each id as its document's place in the table."""
    single = [(k, v) for k, v in entries.items() if type(k) is str and type(v) is str]
    for at in range(0, len(single), STEP_ITEMS):
        chunk = single[at:at + STEP_ITEMS]
        yield ["s", name, [k for k, _ in chunk], _numbers(array.array("I", [place[v] for _, v in chunk]))]
    several = [(k, v) for k, v in entries.items() if type(k) is str and type(v) is not str]
    for at in range(0, len(several), STEP_ITEMS):
        yield ["m", name, {k: [place[i] for i in v] for k, v in several[at:at + STEP_ITEMS]}]
    yield ["o", name, [[list(k) if type(k) is tuple else k, place[v] if type(v) is str else [place[i] for i in v]]
                       for k, v in entries.items() if type(k) is not str]]


def _segment_lines(ids: list[str], spans: array.array[int], fields: Mapping[str, Entries]) -> Iterator[bytes]:
    place = {doc_id: n for n, doc_id in enumerate(ids)}
    for at in range(0, len(ids), STEP_ITEMS):
        yield _line(["ids", ids[at:at + STEP_ITEMS]])
    yield _line(["spans", _numbers(spans)])
    for name, entries in fields.items():
        for line in _entry_lines(name, entries, place):
            yield _line(line)


def _line(value: list[Any]) -> bytes:
    return (_dumps(value) + "\n").encode()


def _several(places: Any, ids: list[str]) -> dict[str, None]:
    if type(places) is not list or len(places) < 2:
        raise IndexFileMismatch("an index entry does not list several documents")
    return dict.fromkeys(map(ids.__getitem__, places))


def _declared(fields: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    return {table: list(names) for table, names in fields.items()}


def _numbers(numbers: array.array[int]) -> str:
    if sys.byteorder == "big":
        numbers = array.array(numbers.typecode, numbers)
        numbers.byteswap()
    return base64.b64encode(numbers.tobytes()).decode()


def _read_numbers(text: Any) -> array.array[int]:
    """Raises ValueError (``binascii.Error`` is one) or TypeError when ``text`` is not such numbers."""
    numbers = array.array("I", base64.b64decode(text, validate=True))
    if sys.byteorder == "big":
        numbers.byteswap()
    return numbers


def write_index_file(path: Path, generation: int, snapshot: bytes, fields: Mapping[str, Sequence[str]],
                     tables: Mapping[str, Iterable[str]], index: FrozenIndex) -> bool:
    """Write the index file of ``snapshot`` (the bytes of snapshot ``generation``) atomically and durably,
    as snapshots are; False: the snapshot's documents are not those of ``tables``, and nothing is written.

    ``tables``: the ids of each table, in the order the snapshot holds them; ``index``: the indexes of
    exactly those documents, which nothing changes meanwhile (they are encoded here, in any thread, a line
    at a time: one call of the JSON encoder over a whole index would keep the GIL long enough to stall the
    event loop).

    Raises:
        ValueError: the snapshot is not laid out as the engine writes one.
        OSError: the file cannot be written.
    """
    layout = snapshot_layout(snapshot)
    counts: dict[str, int] = {}
    for name, ids in tables.items():
        listed = ids if isinstance(ids, Sequence) else list(ids)
        if listed:  # the snapshot leaves empty tables out
            counts[name] = len(listed)
    if ({table.name: len(table.ids) for table in layout} != counts
            or any(table.ids != list(tables[table.name]) for table in layout)
            or (layout and layout[-1].spans[-1] != len(snapshot) - 3)
            or any(entries for name, by_field in index.items() if name not in counts for entries in by_field.values())):
        return False
    body: list[bytes] = []
    segments: dict[str, list[int]] = {}
    size = 0
    for table in layout:
        start = size
        for line in _segment_lines(table.ids, table.spans, index.get(table.name, {})):
            body.append(line)
            size += len(line)
        segments[table.name] = [start, size, table.spans[0], table.spans[-1]]
    crc = 0
    for chunk in body:
        crc = zlib.crc32(chunk, crc)
    header = {"format": FORMAT, "generation": generation, "snapshot_size": len(snapshot),
              "snapshot_crc32": zlib.crc32(snapshot), "fields": _declared(fields), "documents": counts,
              "segments": segments, "body_size": size, "body_crc32": crc}
    write_atomically(path, [json.dumps(header, ensure_ascii=False).encode(), b"\n", *body])
    return True


class IndexFile(NamedTuple):
    """What an index file says of its snapshot, and where each table's part of it is (see :meth:`part`)."""

    snapshot_size: int
    snapshot_crc: int
    documents: dict[str, int]
    segments: dict[str, tuple[int, int, int, int]]
    data: bytes
    """The whole file."""
    body_start: int

    def check(self, snapshot: Buffer) -> None:
        """Raises IndexFileMismatch unless ``snapshot`` is the very file the index file was made from."""
        if (len(snapshot), zlib.crc32(snapshot)) != (self.snapshot_size, self.snapshot_crc):
            raise IndexFileMismatch("the snapshot is not the one the index file was made from")

    def part(self, table: str, snapshot: Buffer) -> TablePart:
        """What :func:`table_steps` needs to read ``table`` from the index file and ``snapshot`` (checked with
        :meth:`check`): the segment's lines, copied, so that the index file's bytes need not be kept for a
        table read later, and the snapshot (mapped, at a start: see ``recovery._mapped``).

        Raises:
            IndexFileMismatch: the segments do not fit the files.
        """
        count = self.documents.get(table, 0)
        segment = self.segments.get(table)
        if segment is None:
            if count:
                raise IndexFileMismatch(f"the index file lists no segment for {table!r}")
            return TablePart(table, 0, [], b"")
        body_start, body_end, start, end = segment
        first, last = self.body_start + body_start, self.body_start + body_end
        if not (self.body_start <= first <= last <= len(self.data) and 0 <= start <= end <= len(snapshot)):
            raise IndexFileMismatch(f"the segment of {table!r} does not fit the files")
        lines = []
        at = first
        while at < last:
            end_of_line = self.data.find(b"\n", at, last)
            if end_of_line < 0:
                raise IndexFileMismatch(f"the segment of {table!r} does not end a line")
            lines.append(self.data[at:end_of_line])
            at = end_of_line + 1
        return TablePart(table, count, lines, snapshot)


class TablePart(NamedTuple):
    """One table's segment of an index file (its lines) and the snapshot its spans point into."""

    name: str
    documents: int
    lines: list[bytes]
    texts: Buffer


def table_steps(part: TablePart, fields: Sequence[str], *, lazy: bool = False) -> TableSteps:
    """Read one table: its documents' texts and the indexes of ``fields`` over them, as the store holds them.

    A generator that pauses (``yield``) after each line of the segment and every :data:`STEP_ITEMS`
    documents cut, then returns the table: a table read after the start (the audit trail) is read on the
    event loop between turns, a few milliseconds at a time; a table read at the start is read at once.
    With ``lazy``, no text is cut yet: the texts are a :class:`SnapshotTexts` over ``part.texts`` (which
    it keeps until every text is cut).

    Raises:
        IndexFileMismatch: the part is damaged or does not describe the snapshot's documents.
    """
    ids: list[str] = []
    spans: array.array[int] | None = None
    entries: dict[str, Entries] = {}
    closed: set[str] = set()
    lines = iter(part.lines)
    try:
        for raw in lines:
            line = json.loads(raw)
            kind = line[0]
            if kind == "ids" and spans is None:
                ids.extend(line[1])
            elif kind == "spans" and spans is None:
                spans = _read_numbers(line[1])
                break
            else:
                raise IndexFileMismatch(f"the segment of {part.name!r} is not laid out as the engine writes it")
            yield
    except (IndexError, TypeError, ValueError) as exc:
        if isinstance(exc, IndexFileMismatch):
            raise
        raise IndexFileMismatch(f"the segment of {part.name!r} is damaged ({type(exc).__name__})") from exc
    if spans is None or len(ids) != part.documents or len(spans) != 2 * len(ids):
        if part.documents or part.lines:
            raise IndexFileMismatch(f"the segment of {part.name!r} does not list the documents the file counts")
        spans = array.array("I")
    texts: Texts = {}
    data = part.texts
    if lazy and ids:
        texts = SnapshotTexts(ids, spans, data)
    try:
        for at in range(0, 0 if lazy else len(ids), STEP_ITEMS):
            cut = spans[2 * at:2 * (at + STEP_ITEMS)]
            texts.update(zip(ids[at:at + STEP_ITEMS], map(bytes.decode, map(data.__getitem__, map(
                slice, cut[0::2], cut[1::2]))), strict=True))
            yield
    except (TypeError, ValueError) as exc:  # an id not a string, a text not UTF-8
        raise IndexFileMismatch(f"the layout of {part.name!r} is damaged ({type(exc).__name__})") from exc
    if len(texts) != part.documents:
        raise IndexFileMismatch(f"the snapshot's {part.name!r} does not hold the documents the index file counts")
    try:
        for raw in lines:
            kind, name, *rest = json.loads(raw)
            if name not in fields or name in closed:
                raise IndexFileMismatch(f"the segment of {part.name!r} indexes {name!r} where it should not")
            found = entries.setdefault(name, {})
            if kind == "s":
                values, places = rest
                numbers = _read_numbers(places)
                if type(values) is not list or len(numbers) != len(values):
                    raise IndexFileMismatch("an index lists more values than places, or fewer")
                found.update(zip(values, map(ids.__getitem__, numbers), strict=True))
            elif kind == "m":
                for key, places in rest[0].items():
                    found[key] = _several(places, ids)
            elif kind == "o":
                for key, places in rest[0]:
                    found[tuple(key) if type(key) is list else key] = (
                        ids[places] if type(places) is int else _several(places, ids))
                closed.add(name)
            else:
                raise IndexFileMismatch(f"the segment of {part.name!r} is not laid out as the engine writes it")
            yield
    except (IndexError, TypeError, ValueError, AttributeError) as exc:  # a place out of the table, bad base64
        if isinstance(exc, IndexFileMismatch):
            raise
        raise IndexFileMismatch(f"an index names a document the snapshot does not hold ({exc})") from exc
    if closed != set(fields) and (part.documents or part.lines):
        raise IndexFileMismatch(f"an index of {part.name!r} is missing from the index file")
    return texts, {name: entries.get(name, {}) for name in fields}


def read_index_file(path: Path, generation: int, fields: Mapping[str, Sequence[str]]) -> IndexFile:
    """The index file made for snapshot ``generation`` and for ``fields``; the caller checks the snapshot
    against its size and checksum (:meth:`IndexFile.check`) before it uses the indexes.

    Raises:
        FileNotFoundError: there is none.
        IndexFileMismatch: it is damaged, or made for another generation or other fields.
        OSError: it cannot be read.
    """
    data = path.read_bytes()
    body_start = data.find(b"\n") + 1
    try:
        header = json.loads(data[:body_start] if body_start else data)
        ok = (body_start and type(header) is dict and header.get("format") == FORMAT
              and header.get("generation") == generation and header.get("fields") == _declared(fields)
              and header.get("body_size") == len(data) - body_start
              and header.get("body_crc32") == zlib.crc32(memoryview(data)[body_start:]))
        if not ok:
            raise IndexFileMismatch("the index file was made for another snapshot or other fields, or is damaged")
        documents, segments = header["documents"], header["segments"]
        if type(documents) is not dict or type(segments) is not dict:
            raise IndexFileMismatch("the index file is not shaped as the engine writes it")
        return IndexFile(int(header["snapshot_size"]), int(header["snapshot_crc32"]),
                         {str(k): int(v) for k, v in documents.items()},
                         {str(k): (int(a), int(b), int(c), int(d)) for k, (a, b, c, d) in segments.items()},
                         data, body_start)
    except (ValueError, KeyError, TypeError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        if isinstance(exc, IndexFileMismatch):
            raise
        raise IndexFileMismatch(f"the index file is damaged ({type(exc).__name__})") from exc
