"""The append-only journal of the journaled engine: its on-disk format, its reader and its writer.

Why a journal: a durable write then costs one small append and one ``fsync`` instead of rewriting the
whole database, and an append can only ever damage its own tail. Every record is framed so that a
reader can tell a complete record from a torn one without trusting anything else in the file::

    file    = header record*
    header  = b"PBBJRNL1" | generation (u64 BE) | crc32(previous 16 bytes) (u32 BE)     20 bytes
    record  = b"\\xa5\\x5a" | length (u32 BE) | crc32(length bytes + payload) (u32 BE) | payload
    payload = UTF-8 JSON list of ops: ["put", table, id, doc] | ["del", table, id]

One record is one batch: either its checksum holds and the whole batch is replayed, or the record is
ignored. A record is acknowledged only after the ``fsync`` that follows it, so a torn record at the
tail (a crash during the append) was never acknowledged and is dropped. A bad record followed by good
ones is different: acknowledged data was damaged. The reader then resynchronizes on the next frame
that checks (where the bad record's length points, else the next magic that starts a whole record)
and goes on, reporting each skipped byte range so the engine can quarantine a copy and say exactly
what was lost. Replaying the later records is sound because a record never holds a difference: each
op writes or deletes a whole document, so a later record sets each document it touches to exactly
the value it had when that record was acknowledged; only documents that the skipped batch alone
wrote keep their earlier value. A frame cannot hide inside a record's JSON payload: JSON escapes
bytes below 0x20, so a length field made of payload bytes would be at least 0x20202020 (over 500 MB),
longer than any journal the engine keeps.

The functions here block; the engine runs them in a worker thread.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

HEADER_MAGIC = b"PBBJRNL1"
HEADER = struct.Struct(">8sQ")
HEADER_SIZE = HEADER.size + 4
RECORD_MAGIC = b"\xa5\x5a"
RECORD_HEAD = struct.Struct(">2sII")
MAX_RECORD = 1 << 31

ERR_BAD_HEADER = "journal header is missing or damaged"
ERR_EMPTY = "journal is empty (0 bytes): the engine never leaves one without its header"
ERR_BAD_GENERATION = "journal header names another generation than its file name"
ERR_SHORT_WRITE = "the disk accepted no bytes of a journal write"

TailState = Literal["clean", "torn", "corrupt"]


def sync_data(fd: int) -> None:
    """Make an append durable where the file was not opened with ``O_DSYNC``: ``fdatasync`` where
    there is one (Linux), else ``fsync``.

    An append changes the file's size, which ``fdatasync`` flushes with the data (the size is needed
    to read the data back); it skips only the timestamps, one metadata write fewer per commit (what
    PostgreSQL's WAL and SQLite do too). New files and renames still get ``fsync`` and
    :func:`fsync_dir`.
    """
    getattr(os, "fdatasync", os.fsync)(fd)


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in ``directory`` durable (POSIX needs the directory fsynced)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def encode_header(generation: int) -> bytes:
    """The 20-byte header of the journal of ``generation``."""
    head = HEADER.pack(HEADER_MAGIC, generation)
    return head + struct.pack(">I", zlib.crc32(head))


def frame_record(text: str) -> bytes:
    """Frame the JSON text of one batch (see :func:`services.storage._common.normalize_batch`)."""
    payload = text.encode()
    length = struct.pack(">I", len(payload))
    return RECORD_MAGIC + length + struct.pack(">I", zlib.crc32(payload, zlib.crc32(length))) + payload


def _valid_ops(ops: Any) -> bool:
    """Whether a decoded payload has the shape the writer produces."""
    if not isinstance(ops, list):
        return False
    for op in ops:
        if not isinstance(op, list) or len(op) < 3 or not isinstance(op[1], str):
            return False
        is_put = op[0] == "put" and len(op) == 4 and isinstance(op[3], dict)
        if not isinstance(op[2], str) or not (is_put or (op[0] == "del" and len(op) == 3)):
            return False
    return True


def _record_at(data: bytes, offset: int) -> tuple[list[list[Any]], int] | None:
    """Decode the record starting at ``offset``; return (ops, end offset) or None if it is not whole."""
    if offset + RECORD_HEAD.size > len(data):
        return None
    magic, length, crc = RECORD_HEAD.unpack_from(data, offset)
    start = offset + RECORD_HEAD.size
    end = start + length
    if magic != RECORD_MAGIC or length == 0 or end > len(data):
        return None
    payload = data[start:end]
    if zlib.crc32(payload, zlib.crc32(struct.pack(">I", length))) != crc:
        return None
    try:
        ops = json.loads(payload)
    except ValueError:
        return None
    return (ops, end) if _valid_ops(ops) else None


@dataclass(frozen=True)
class SkippedRange:
    """Damaged bytes between two records that check: one bad record when ``records`` is 1 (its length
    led to the next good record), else an unknown number of them (found by scanning)."""

    start: int
    end: int
    after_record: int
    """How many good records precede the range (the damage lies after record number ``after_record``)."""
    records: int | None

    def describe(self) -> str:
        what = "1 record" if self.records == 1 else "one or more records"
        return f"bytes {self.start}-{self.end} ({what} after record {self.after_record})"


@dataclass
class JournalScan:
    """What reading one journal file found."""

    generation: int
    """The generation named in the header."""
    batches: list[list[list[Any]]] = field(default_factory=list)
    """The complete batches, in order."""
    good_end: int = HEADER_SIZE
    """Offset just after the last complete record: where the next append goes."""
    size: int = HEADER_SIZE
    """Size of the file when it was read."""
    tail: TailState = "clean"
    """``clean``: nothing after ``good_end``; ``torn``: an incomplete last record (never
    acknowledged); ``corrupt``: damaged bytes followed by complete records (acknowledged data lost;
    the records after the damage are in ``batches`` all the same, see ``skipped``)."""
    skipped: list[SkippedRange] = field(default_factory=list)
    """Damaged ranges that good records follow, in file order."""


class JournalCorruptError(Exception):
    """The journal's header cannot be trusted, so none of the file can."""


def read_journal(path: Path, generation: int) -> JournalScan:
    """Read every complete batch of a journal file.

    Args:
        path: the journal file.
        generation: the generation its file name says it holds.

    Returns:
        The batches and where the valid part ends.

    Raises:
        JournalCorruptError: the header is damaged or names another generation.
        OSError: the file cannot be read.
    """
    data = path.read_bytes()
    if not data:
        raise JournalCorruptError(ERR_EMPTY)
    if len(data) < HEADER_SIZE:
        raise JournalCorruptError(ERR_BAD_HEADER)
    magic, gen = HEADER.unpack_from(data, 0)
    (crc,) = struct.unpack_from(">I", data, HEADER.size)
    if magic != HEADER_MAGIC or crc != zlib.crc32(data[: HEADER.size]):
        raise JournalCorruptError(ERR_BAD_HEADER)
    if gen != generation:
        raise JournalCorruptError(ERR_BAD_GENERATION)
    scan = JournalScan(generation=gen, size=len(data))
    offset = HEADER_SIZE
    while offset < len(data):
        found = _record_at(data, offset)
        if found is None:
            resumed = _next_record(data, offset)
            if resumed is None:
                break  # nothing whole after it: a torn tail, never acknowledged
            at, records = resumed
            scan.skipped.append(SkippedRange(offset, at, len(scan.batches), records))
            scan.tail = "corrupt"
            offset = at
            continue
        ops, offset = found
        scan.batches.append(ops)
        scan.good_end = offset
    if scan.good_end < len(data) and scan.tail == "clean":
        scan.tail = "torn"
    return scan


def _next_record(data: bytes, bad: int) -> tuple[int, int | None] | None:
    """Where the first whole record after the bad one at ``bad`` starts, and how many records were
    skipped (1 when the bad record's own length leads there, None when found by scanning); None when
    no whole record follows."""
    if bad + RECORD_HEAD.size <= len(data):
        magic, length, _ = RECORD_HEAD.unpack_from(data, bad)
        after = bad + RECORD_HEAD.size + length
        if magic == RECORD_MAGIC and after < len(data) and _record_at(data, after) is not None:
            return after, 1
    at = data.find(RECORD_MAGIC, bad + 1)
    while at != -1:
        if _record_at(data, at) is not None:
            return at, None
        at = data.find(RECORD_MAGIC, at + 1)
    return None


def create_journal(path: Path, generation: int) -> None:
    """Create an empty journal atomically (see :func:`write_atomically`).

    A crash leaves either no journal or a whole header, never a half-written one.
    """
    write_atomically(path, encode_header(generation))


def write_atomically(path: Path, data: bytes | Iterable[bytes]) -> None:
    """Replace ``path`` with ``data`` (bytes, or chunks of them) so that a crash leaves the old or the
    new file, whole: temp file, fsync, rename, fsync of the directory."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        offset = 0
        for chunk in [data] if isinstance(data, bytes) else data:
            offset = write_all(fd, chunk, offset)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def write_all(fd: int, data: bytes, offset: int) -> int:
    """``os.pwrite`` at ``offset`` until every byte is written; returns the offset after them."""
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        if written <= 0:
            raise OSError(ERR_SHORT_WRITE)
        view = view[written:]
        offset += written
    return offset


#: journals are opened with ``O_DSYNC`` where the platform has it: an append is durable when its
#: ``pwrite`` returns (``fdatasync``'s guarantee, in the same system call). One call per commit
#: instead of three (seek, write, sync), so the writer thread takes the GIL back once, not three
#: times: under load each hand-off costs the event loop a thread switch.
_DSYNC = getattr(os, "O_DSYNC", 0)


class JournalWriter:
    """Appends framed records to one journal file, made durable once per call of :meth:`append`.

    Args:
        path: an existing journal (see :func:`create_journal`).
        end: where the valid part ends; anything after it (a torn tail) is cut off first, so that new
            records never follow garbage a reader would stop at.
        before_fsync: called in the writing thread just before each durable append (tests use it to
            count them, to see which thread runs them and to hold a commit in flight).
    """

    def __init__(self, path: Path, end: int, before_fsync: Callable[[], None] | None = None) -> None:
        self.path = path
        self.end = end
        self.fsyncs = 0
        self._before_fsync = before_fsync
        self._fd = os.open(path, os.O_RDWR | _DSYNC)
        try:
            if os.fstat(self._fd).st_size != end:
                os.ftruncate(self._fd, end)
                os.fsync(self._fd)
        except BaseException:
            os.close(self._fd)
            raise

    def append(self, records: Sequence[bytes]) -> None:
        """Write ``records`` at the end, durably, in one go (group commit).

        On failure the file is cut back to its previous end so that no partial record stays in front
        of later ones, and the error is raised: the records were not written.
        """
        data = b"".join(records)
        try:
            if self._before_fsync is not None:
                self._before_fsync()
            write_all(self._fd, data, self.end)
            if not _DSYNC:
                sync_data(self._fd)
        except BaseException:
            try:
                os.ftruncate(self._fd, self.end)
            except OSError:
                pass
            raise
        self.fsyncs += 1
        self.end += len(data)

    def close(self) -> None:
        """Close the file (every append was already fsynced)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
