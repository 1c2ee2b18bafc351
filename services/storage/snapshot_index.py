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

Layout: a header line ``{"format", "generation", "snapshot_size", "snapshot_crc32", "fields",
"body_size", "body_crc32"}``, then the body, the JSON ``{table: {field: entries}}`` where ``entries`` is
``{"s": {value: id}, "m": {value: [ids]}, "o": [[value, id or [ids]], ...]}``: values that are strings
listing one id (most of them: an email names one person) or several, then the values of other types
(numbers, booleans, null, and ``["\\u0000json", text]`` for a list or object).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from services.storage.journal import write_atomically

FORMAT = "partner-benefits-bot/snapshot-index-1"
#: what a start reads of a snapshot at a time (the checksum and the lines are taken from the same bytes)
READ_CHUNK = 1 << 20
#: the key of a list or object value in an index (see ``services.storage.memory``)
JSON_KEY = "\0json"

#: ``{value: id, or {id: None, ...} for several}``: one field's index, as the store holds it
Entries = dict[Any, "str | dict[str, None]"]
#: ``{"s": ..., "m": ..., "o": ...}``: one field's index as the file holds it (see the module docstring)
FrozenEntries = dict[str, Any]
FrozenIndex = dict[str, dict[str, FrozenEntries]]


class IndexFileMismatch(ValueError):
    """The index file does not describe this snapshot for this code (stale, damaged, other fields)."""


def freeze_entries(entries: Entries) -> FrozenEntries:
    """A copy of one field's index in the file's form, safe to encode in another thread while the store
    goes on changing ``entries``."""
    single = {k: v for k, v in entries.items() if type(k) is str and type(v) is str}
    several = {k: list(v) for k, v in entries.items() if type(k) is str and type(v) is not str}
    other = [[list(k) if type(k) is tuple else k, v if type(v) is str else list(v)]
             for k, v in entries.items() if type(k) is not str]
    return {"s": single, "m": several, "o": other}


def thaw_entries(frozen: Mapping[str, Any]) -> Entries:
    """One field's index as the store holds it, from the file's form.

    Raises:
        IndexFileMismatch: ``frozen`` is not shaped as :func:`freeze_entries` makes it.
    """
    single, several, other = frozen.get("s"), frozen.get("m"), frozen.get("o")
    if type(single) is not dict or type(several) is not dict or type(other) is not list:
        raise IndexFileMismatch("an index is not shaped as the engine writes it")
    entries: Entries = single
    for key, ids in several.items():
        entries[key] = _ids(ids)
    for pair in other:
        if type(pair) is not list or len(pair) != 2:
            raise IndexFileMismatch("an index entry is not a pair")
        key, ids = pair
        if type(key) is list:
            key = tuple(key)
        entries[key] = ids if type(ids) is str else _ids(ids)
    return entries


def _ids(ids: Any) -> dict[str, None]:
    if type(ids) is not list or len(ids) < 2:
        raise IndexFileMismatch("an index entry does not list several ids")
    return dict.fromkeys(ids)


def _declared(fields: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    return {table: list(names) for table, names in fields.items()}


def write_index_file(path: Path, generation: int, snapshot_size: int, snapshot_crc: int,
                     fields: Mapping[str, Sequence[str]], index: FrozenIndex) -> None:
    """Write the index file of snapshot ``generation`` atomically and durably (as snapshots are)."""
    body = json.dumps(index, ensure_ascii=False, separators=(",", ":")).encode()
    header = {"format": FORMAT, "generation": generation, "snapshot_size": snapshot_size,
              "snapshot_crc32": snapshot_crc, "fields": _declared(fields), "body_size": len(body),
              "body_crc32": zlib.crc32(body)}
    write_atomically(path, [json.dumps(header).encode(), b"\n", body])


def read_index_file(path: Path, generation: int, fields: Mapping[str, Sequence[str]]) -> tuple[int, int, FrozenIndex]:
    """``(snapshot size, snapshot CRC-32, index)`` of an index file made for snapshot ``generation``
    and for ``fields``; the caller checks the snapshot against the first two.

    Raises:
        FileNotFoundError: there is none.
        IndexFileMismatch: it is damaged, or made for another generation or other fields.
        OSError: it cannot be read.
    """
    data = path.read_bytes()
    head, _, body = data.partition(b"\n")
    try:
        header = json.loads(head)
        ok = (type(header) is dict and header.get("format") == FORMAT and header.get("generation") == generation
              and header.get("fields") == _declared(fields) and header.get("body_size") == len(body)
              and header.get("body_crc32") == zlib.crc32(body))
        if not ok:
            raise IndexFileMismatch("the index file was made for another snapshot or other fields, or is damaged")
        index = json.loads(body)
        size, crc = header["snapshot_size"], header["snapshot_crc32"]
    except (ValueError, KeyError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise IndexFileMismatch(f"the index file is damaged ({type(exc).__name__})") from exc
    if type(index) is not dict or type(size) is not int or type(crc) is not int:
        raise IndexFileMismatch("the index file is not shaped as the engine writes it")
    return size, crc, index


def checksummed(chunks: Iterable[bytes], sums: list[int]) -> Iterator[bytes]:
    """``chunks`` as they are, adding up their size and CRC-32 into ``sums`` (``[size, crc]``) as they go."""
    for chunk in chunks:
        sums[0] += len(chunk)
        sums[1] = zlib.crc32(chunk, sums[1])
        yield chunk


def file_checksum(path: Path) -> tuple[int, int]:
    """``(size, CRC-32)`` of a file."""
    sums = [0, 0]
    with path.open("rb") as file:
        for _ in checksummed(iter(lambda: file.read(READ_CHUNK), b""), sums):
            pass
    return sums[0], sums[1]
