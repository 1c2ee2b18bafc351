"""The audit trail's retention: changes older than the retention period leave the store for an archive.

Why: the store keeps every document in memory (or a database row each), and a large organization
writes a million changes over the years; the "recent changes" cards only ever show the latest ones.
So the entries older than ``AUDIT_RETENTION_DAYS`` are moved to gzip-compressed JSON-lines files in
the archive folder (``data/audit-archive/``), oldest first, and deleted from the store.

Each run writes new files and never rewrites one: a file is written whole to a temp file, fsynced and
renamed into place (:func:`services.storage.journal.write_atomically`), and only then are its entries
deleted from the store. A crash before the rename leaves the entries in the store (the next run
archives them again); a crash after it leaves them in both, so an entry may appear in two files:
:func:`read_archive` gives each id once.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.repository import AUDIT, AUDIT_BY_TIME, audit_time_key, audit_time_keys
from services.storage.base import Delete, Document, DocumentStore
from services.storage.journal import write_atomically

log = logging.getLogger(__name__)

DEFAULT_RETENTION_DAYS = 400
ARCHIVE_FOLDER = "audit-archive"
#: Entries per archive file (one run writes as many files as it needs).
FILE_ENTRIES = 20_000
#: Entries encoded between two turns of the event loop.
CHUNK = 1_000
#: Entries deleted from the store per batch (the event loop serves turns between batches).
DELETE_BATCH = 2_000
#: Entries looked at per page of the trail's time ordering (the event loop serves turns between pages).
PAGE = 1_000
SUFFIX = ".jsonl.gz"


def _gzip(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """``chunks`` as one gzip member, compressed as they are written."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)  # wbits 31: the gzip format
    for chunk in chunks:
        yield packer.compress(chunk)
    yield packer.flush()


async def _lines(store: DocumentStore, ids: list[str]) -> list[bytes]:
    """The entries ``ids`` as JSON lines, a chunk at a time (the event loop serves turns in between)."""
    chunks = []
    for start in range(0, len(ids), CHUNK):
        docs = (store.get(AUDIT, i) for i in ids[start:start + CHUNK])
        text = "".join(json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n" for d in docs if d)
        chunks.append(text.encode())
        await asyncio.sleep(0)
    return chunks


async def _old_ids(store: DocumentStore, cutoff: str, limit: int) -> list[str]:
    """Up to ``limit`` ids of the oldest entries, all older than ``cutoff`` (a time key), a page at a
    time (the event loop serves turns in between)."""
    found: list[str] = []
    offset = 0
    while len(found) < limit:
        if offset:
            await asyncio.sleep(0)
        ids, _ = store.ordered(AUDIT, AUDIT_BY_TIME, "", offset, min(PAGE, limit - len(found)))
        if not ids:
            break
        for doc_id in ids:
            doc = store.get(AUDIT, doc_id)
            if doc is None:
                continue
            if audit_time_key(doc) >= cutoff:
                return found
            found.append(doc_id)
        offset += len(ids)
    return found


def _file_name(now: datetime, number: int) -> str:
    return f"audit-{now.strftime('%Y%m%dT%H%M%S')}-{number:04d}{SUFFIX}"


async def archive_audit(store: DocumentStore, folder: Path, retention_days: float,
                        now: datetime | None = None) -> int:
    """Move the entries older than ``retention_days`` to new files in ``folder``; how many moved."""
    now = now or datetime.now(UTC)
    store.order_by(AUDIT, AUDIT_BY_TIME, audit_time_keys)
    await store.prepare_ordering(AUDIT, AUDIT_BY_TIME)  # the first run sorts the whole trail: off the loop
    cutoff = (now - timedelta(days=retention_days)).astimezone(UTC).isoformat()
    moved = 0
    number = 0
    while True:
        ids = await _old_ids(store, cutoff, FILE_ENTRIES)
        if not ids:
            break
        folder.mkdir(parents=True, exist_ok=True)
        number += 1
        target = folder / _file_name(now, number)
        while target.exists():
            number += 1
            target = folder / _file_name(now, number)
        lines = await _lines(store, ids)
        await asyncio.to_thread(write_atomically, target, _gzip(lines))
        for start in range(0, len(ids), DELETE_BATCH):
            await store.apply([Delete(AUDIT, i) for i in ids[start:start + DELETE_BATCH]])
        moved += len(ids)
        log.info("archived audit entries", extra={"event": "audit.archived", "entries": len(ids),
                                                   "file": str(target)})
    return moved


def read_archive(folder: Path) -> Iterator[Document]:
    """Every archived entry, oldest file first, each id once (a file may repeat an earlier one's entries
    when a run was cut short after writing it)."""
    seen: set[str] = set()
    for path in sorted(folder.glob(f"*{SUFFIX}")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                doc = json.loads(line)
                if doc["id"] not in seen:
                    seen.add(doc["id"])
                    yield doc


#: How often a running bot moves what has grown older than the retention period.
EVERY_SECONDS = 24 * 3600.0
#: The first run waits this long after the start: it sorts the trail by time once (O(n log n), in a
#: worker thread, which still shares the CPU with the first turns after a start).
FIRST_DELAY_SECONDS = 600.0


async def archive_periodically(store: DocumentStore, folder: Path, retention_days: float,
                               every_seconds: float = EVERY_SECONDS,
                               first_delay_seconds: float = FIRST_DELAY_SECONDS) -> None:
    """Archive after ``first_delay_seconds``, then once every ``every_seconds``; a failed run is logged
    and retried next time."""
    await asyncio.sleep(first_delay_seconds)
    while True:
        try:
            await archive_audit(store, folder, retention_days)
        except Exception as exc:  # the entries stay in the store: nothing is lost, the next run retries
            log.error("archiving the audit trail failed; the entries stay in the store",
                      extra={"event": "audit.archive_failed", "reason": f"{type(exc).__name__}: {exc}"})
        await asyncio.sleep(every_seconds)
