"""The production storage engine: TinyDB tables in memory, an fsynced journal, atomic snapshots.

Why: stock TinyDB re-reads and rewrites the whole JSON file on every operation, so each costs time
in proportion to all the data, and rewrites it in place, so a crash can leave a file that does not
open. This engine keeps TinyDB's data model and file format but:

* holds the tables in memory (the ``{table: {doc_id: doc}}`` dict TinyDB itself works on) with a
  secondary index per declared field, so a lookup never scans (:class:`services.storage.memory.MemoryTables`,
  the reads' half of the engine, also keeps each document decoded once per version);
* makes a write durable with one append to a journal and one ``fsync``; writers that arrive while
  the disk is busy share the next ``fsync`` (group commit);
* frames every journal record with a length and a CRC, so a torn tail is recognised and dropped
  (a record is acknowledged only after its ``fsync``, so a torn one never was);
* compacts the journal into a snapshot (a plain TinyDB JSON file) written to a temp file, fsynced,
  renamed, with the directory fsynced.

Files, for ``path = data/benefits.json``::

    data/benefits.g00000007.json      snapshot of generation 7: the state when journal 7 began
    data/benefits.g00000007.journal   batches applied after that snapshot
    data/benefits.g00000007.index     the indexes of snapshot 7's documents (``snapshot_index``: a start
                                      that finds it matching decodes no document; never needed)
    data/benefits.lock                flock held by the one store object that has the files open

Invariant: snapshot ``g + 1`` equals snapshot ``g`` plus journal ``g``. Compaction therefore first
starts journal ``g + 1`` (writers go on at once), then writes snapshot ``g + 1`` in the background
from a frozen copy of the tables, then deletes the generations below the previous snapshot. Recovery
loads the newest snapshot that parses and replays every journal from its generation up, so a crash
at any instant of compaction loses nothing: before snapshot ``g + 1`` is renamed into place,
snapshot ``g`` + journals ``g``, ``g + 1`` hold everything; after, snapshot ``g + 1`` + journal
``g + 1`` do. The previous generation is kept until the next compaction has succeeded, so a
snapshot that later fails to parse is quarantined and the store falls back to it without loss.

Reads and writes, and what a reader sees: ``submit`` (and ``apply``, which awaits it) validates and
encodes the batch on the caller's task and queues it; if no commit is in flight, every queued record
is handed at once to the store's own writer thread, which writes them and fsyncs once (the event
loop never waits for the disk). The thread's completion is one callback on the loop that applies the
batches to memory, resolves the writers' futures and starts the next commit with whatever queued
meanwhile. No task sits in between: under load every extra hop through the event loop's ready queue
costs a turn the length of a whole loop iteration, so a write makes as few hops as it can. Readers see
a batch only once it is durable, and never half of one (memory is updated without an ``await`` in
between). Compaction and close pause commits while they switch or close the journal. One store is
used by one event loop of one process.

The engine is three modules, one class each building on the one before: ``memory`` (the tables,
their indexes, versions and decoded reads), ``recovery`` (the files, the writer's lock and how
opening rebuilds the newest good state) and this one (commits, compaction, and retrying after a disk
error). Callers import the engine's names from here or from ``services.storage``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.storage._common import (
    normalize_batch,
)
from services.storage.base import Op, StoreHealth
from services.storage.errors import StoreDamagedError, StoreLockedError, StoreUnavailableError
from services.storage.journal import (
    HEADER_SIZE,
    JournalWriter,
    create_journal,
    frame_record,
    fsync_dir,
)
from services.storage.memory import StoreStats
from services.storage.recovery import JournalFiles

#: the engine's public names, wherever they are defined (callers import them from here)
__all__ = [
    "JournaledTinyStore",
    "StoreDamagedError",
    "StoreLockedError",
    "StoreStats",
    "StoreUnavailableError",
]

logger = logging.getLogger(__name__)

ERR_CLOSED = "the store is closed"
ERR_FAILED = ("the store refuses writes after a disk error; it retries by itself and accepts writes again "
              "once the disk does")
ERR_WRITE_FAILED = "the batch could not be written to the journal"
ERR_NOT_TEXT = "a document holds a lone surrogate (\\ud800-\\udfff), which cannot be stored as UTF-8"


DEFAULT_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0

DEFAULT_COMPACT_BYTES = 4 << 20
COMPACT_RATIO = 0.5
"""Compact once the journal is half the snapshot's size: a start then replays at most that much."""


def _os_reason(exc: OSError) -> str:
    """An ``OSError`` as one line naming the file, without a traceback."""
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


@dataclass
class _Pending:
    """A batch waiting for the disk."""

    record: bytes
    ops: list[list[Any]]
    done: asyncio.Future[None]


class JournaledTinyStore(JournalFiles):
    """TinyDB tables in memory, made durable by a checksummed journal and atomic snapshots.

    Opening is synchronous (it reads and, if needed, repairs the files); run it in a thread from
    async code if the data is large. See the module docstring for the design.

    Args:
        path: the database, e.g. ``data/benefits.json``; the engine's files sit beside it (a plain
            TinyDB file at ``path`` itself is imported once and renamed ``*.imported-<time>``).
        indexes: ``{table: [field, ...]}`` looked up with :meth:`find` without scanning.
        compact_bytes: compact once the current journal is larger than this and than
            ``COMPACT_RATIO`` times the snapshot (see :attr:`compact_threshold`).
        before_fsync: called in the writer thread before each journal fsync (tests count with it).
        accept_loss: open even when that loses acknowledged writes (the damaged files are moved
            aside and the loss is logged); without it such damage raises :class:`StoreDamagedError`.
        retry_seconds: after a failed write, the first wait before the store tries to write again
            (doubling up to ``MAX_RETRY_SECONDS``).
        later: tables that an open through the snapshot's index file leaves unread (checked, not read):
            read by :meth:`load_later` a step at a time between turns, or at once by the first read of
            them; a write to one meanwhile is durable at once and applied to it once it is read.

    Raises:
        StoreDamagedError: opening would lose acknowledged writes (see ``accept_loss``).
        StoreLockedError: another store object has the files open.
        StoreUnavailableError: the files cannot be read or written (the reason is in the message).
    """

    def __init__(
        self,
        path: Path | str,
        indexes: Mapping[str, Sequence[str]] | None = None,
        *,
        compact_bytes: int = DEFAULT_COMPACT_BYTES,
        before_fsync: Callable[[], None] | None = None,
        accept_loss: bool = False,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
        later: Sequence[str] = (),
    ) -> None:
        super().__init__(path, indexes, before_fsync=before_fsync, accept_loss=accept_loss, later=later)
        self.retry_seconds = retry_seconds
        self._recovery: asyncio.Task[None] | None = None
        self.compact_bytes = compact_bytes
        self._failure = ""
        self._closed = False
        self._queue: list[_Pending] = []
        #: one thread, so commits reach the disk in order and never wait behind other threads' work
        self._disk = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self._committing = False
        self._paused = False
        self._idle_waiters: list[asyncio.Future[None]] = []
        self._compaction: asyncio.Task[None] | None = None
        self._write_lock = asyncio.Lock()
        self._compact_lock = asyncio.Lock()
        self._retry_at = 0
        try:
            self._lock()
            try:
                self._open()
            except BaseException:
                self._unlock()
                raise
        except OSError as exc:
            raise StoreUnavailableError(f"cannot open {self.path}: {_os_reason(exc)}") from exc

    # --------------------------------------------------------------------------------- writes

    def _check_writable(self) -> None:
        if self._closed:
            raise StoreUnavailableError(ERR_CLOSED)
        if self._failure:
            raise StoreUnavailableError(ERR_FAILED)

    async def apply(self, ops: Sequence[Op]) -> None:
        """Apply a batch atomically; it is fsynced before this returns (see :meth:`submit`).

        A caller cancelled while waiting does not cancel the commit: the batch may still land.
        """
        await self.submit(ops)

    def submit(self, ops: Sequence[Op]) -> asyncio.Future[None]:
        """Queue a batch for the disk now; the future resolves once it is durable and visible.

        For a caller with other work to do meanwhile (a turn sends its reply while the write is
        fsynced) and no need to wait for a task to start. Cancelling the future does not cancel the
        commit.

        Raises:
            ValueError: the batch is malformed (nothing is written).
            StoreUnavailableError: the store is closed or failed. The future fails with it too when
                the disk refuses the batch: the journal is then cut back to its previous end, so the
                batch is normally absent after a restart; if even that failed, its outcome is
                unknown, as with any write whose fsync failed.
        """
        normalized, text = normalize_batch(ops)
        try:
            record = frame_record(text)
        except UnicodeEncodeError:  # a lone surrogate: no file can hold it
            raise ValueError(ERR_NOT_TEXT) from None
        self._check_writable()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not normalized:
            done.set_result(None)
            return done
        self._queue.append(_Pending(record, normalized, done))
        self._commit_next()
        return done

    def _commit_next(self) -> None:
        """Hand every queued batch to the writer thread (one write, one fsync), unless a commit is in
        flight (its completion calls this again) or compaction/close paused commits."""
        if self._committing or self._paused or not self._queue:
            return
        group, self._queue = self._queue, []
        if self._failure or self._closed:
            self._fail(group, StoreUnavailableError(ERR_FAILED if self._failure else ERR_CLOSED))
            return
        self._committing = True
        loop = asyncio.get_running_loop()
        job = self._disk.submit(self._writer.append, [p.record for p in group])
        job.add_done_callback(lambda done: loop.call_soon_threadsafe(self._committed, group, done))

    def _committed(self, group: list[_Pending], job: concurrent.futures.Future[None]) -> None:
        """On the loop, once the writer thread is done with ``group``: publish it, or fail the store."""
        self._committing = False
        self._wake_idle()
        exc = job.exception()
        if exc is not None:
            # The journal's end is in doubt (a failed fsync may have lost pages): refuse writes
            # until a new generation, written from memory (which holds exactly the acknowledged
            # batches), has reached the disk; _recover_in_background retries that.
            self._failure = f"{type(exc).__name__}: {exc}"
            logger.error(
                "journal write failed; the store refuses writes and retries until the disk accepts them",
                extra={"event": "storage.write_failed", "file": str(self._writer.path), "reason": self._failure},
            )
            error = StoreUnavailableError(ERR_WRITE_FAILED)
            error.__cause__ = exc
            self._fail(group + self._queue, error)
            self._queue = []
            if self._recovery is None or self._recovery.done():
                self._recovery = asyncio.create_task(self._recover_in_background())
            return
        self.stats.fsyncs += 1
        for pending in group:
            self._apply_in_memory(pending.ops)
            self.stats.batches += 1
        for pending in group:
            if not pending.done.done():
                pending.done.set_result(None)
        self._maybe_compact()
        self._commit_next()

    def _wake_idle(self) -> None:
        waiters, self._idle_waiters = self._idle_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _commit_finished(self) -> None:
        """Wait until the commit in flight (if any) is over."""
        if self._committing:
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._idle_waiters.append(waiter)
            await waiter

    @contextlib.asynccontextmanager
    async def _exclusive(self) -> AsyncIterator[None]:
        """No commit runs inside (compaction switches the journal, close closes it); batches queued
        meanwhile are committed right after, in order."""
        async with self._write_lock:
            self._paused = True
            try:
                while self._committing:
                    await self._commit_finished()
                yield
            finally:
                self._paused = False
                self._commit_next()

    @staticmethod
    def _fail(group: list[_Pending], error: BaseException) -> None:
        for pending in group:
            if not pending.done.done():
                pending.done.set_exception(error)

    def _maybe_compact(self) -> None:
        if self.journal_bytes > self.compact_threshold and (
            self._compaction is None or self._compaction.done()
        ):
            self._compaction = asyncio.create_task(self._compact_in_background())

    async def _compact_in_background(self) -> None:
        """Compaction started by a write: its failure is logged, never raised into nobody's hands."""
        try:
            await self.compact()
        except Exception as exc:  # the store stays correct: say why it did not compact
            logger.error(
                "compaction failed; the journals still hold every write",
                extra={"event": "storage.compaction_failed", "reason": f"{type(exc).__name__}: {exc}"},
            )

    async def compact(self) -> None:
        """Fold the journal into a new snapshot generation without stopping writers for long.

        Under the writer lock: create journal ``g + 1``, switch appends to it and freeze a shallow
        copy of the tables (documents are replaced, never mutated, so the copy is consistent).
        Then, with writers going on: write snapshot ``g + 1`` atomically, and delete the generations
        older than the previous snapshot (which stays as the fallback). One compaction at a time.

        Raises:
            StoreUnavailableError: the store is closed or failed.
            OSError: the next journal could not be created (nothing changed then).
        """
        async with self._compact_lock:
            await self.load_later()  # the snapshot is written from every table
            await self._compact()

    async def _compact(self) -> None:
        async with self._exclusive():
            self._check_writable()
            gen = self._gen + 1
            journal = self._journal_path(gen)
            await asyncio.to_thread(create_journal, journal, gen)
            await asyncio.to_thread(self._record_generation, gen)
            writer = await asyncio.to_thread(JournalWriter, journal, HEADER_SIZE, self._before_fsync)
            old, self._writer, self._gen = self._writer, writer, gen
            frozen, index = self.frozen_tables(), self._frozen_index()
        await asyncio.to_thread(old.close)
        try:
            size = await asyncio.to_thread(self._write_snapshot, gen, frozen, index)
        except OSError as exc:
            logger.error(
                "compaction could not write its snapshot; the journals still hold every write",
                extra={
                    "event": "storage.compaction_failed",
                    "file": str(self._snapshot_path(gen)),
                    "reason": f"{type(exc).__name__}: {exc}",
                },
            )
            self._retry_at = 2 * self.journal_bytes  # retry once the journal has doubled
            return
        previous, self._base_gen, self._snapshot_bytes, self._retry_at = self._base_gen, gen, size, 0
        self.stats.compactions += 1
        await asyncio.to_thread(self._remove_generations_below, previous)

    async def _recover_in_background(self) -> None:
        """After a failed write: try to start a new generation, waiting longer after each failure,
        until one reaches the disk (then writes are accepted again) or the store is closed."""
        delay = self.retry_seconds
        while self._failure and not self._closed:
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_SECONDS)
            # shielded: close() cancels this loop, but a generation half switched must finish first
            # (close waits for it through the writer lock, then closes the journal it opened)
            await asyncio.shield(self._try_recover(delay))

    async def _try_recover(self, next_delay: float) -> None:
        try:
            await self._recover()
        except Exception as exc:  # the disk still refuses: say so, wait longer
            logger.warning(
                "the store still cannot write; it will try again",
                extra={"event": "storage.retry_failed", "reason": f"{type(exc).__name__}: {exc}",
                       "retry_in_seconds": next_delay},
            )

    async def _recover(self) -> None:
        """Write snapshot and journal ``g + 1`` from memory and append there from now on.

        Memory holds exactly the acknowledged batches, so the new snapshot is the true state whatever
        the failed write left in the old journal; recovery replays from the newest snapshot, so the
        old journal is read again only if that snapshot is later found damaged.
        """
        await self.load_later()  # the new generation is written from every table
        async with self._compact_lock, self._exclusive():
            if self._closed or not self._failure:
                return
            gen = self._gen + 1
            writer, size = await asyncio.to_thread(self._new_generation, gen, self.frozen_tables(),
                                                   self._frozen_index())
            old, self._writer, self._gen = self._writer, writer, gen
            previous, self._base_gen, self._snapshot_bytes, self._retry_at = self._base_gen, gen, size, 0
            reason, self._failure = self._failure, ""
        logger.warning(
            "the store writes again after a disk error",
            extra={"event": "storage.recovered", "file": str(self.path), "generation": gen, "after": reason},
        )
        await asyncio.to_thread(old.close)
        with contextlib.suppress(OSError):  # best effort: the next compaction removes them too
            await asyncio.to_thread(self._remove_generations_below, previous)

    def _remove_generations_below(self, gen: int) -> None:
        """Delete snapshots first, then journals and index files, of generations below ``gen`` (any order
        is safe)."""
        snaps, journals, index_files = self._scan_files()
        for files in (snaps, journals, index_files):
            for old in sorted(g for g in files if g < gen):
                files[old].unlink(missing_ok=True)
        fsync_dir(self.path.parent)

    # -------------------------------------------------------------------------------- lifecycle

    def health(self) -> StoreHealth:
        """Ready unless closed or failed; lists the files moved aside at startup."""
        if self._failure:
            detail = f"{ERR_FAILED} ({self._failure})"
        elif self._closed:
            detail = ERR_CLOSED
        else:
            detail = self._detail
        if self._later:
            detail += f"; reading {', '.join(self._later)} (a read of it waits until it is read)"
        return StoreHealth(
            ready=not self._closed and not self._failure,
            path=str(self.path),
            quarantined=tuple(self._quarantined),
            detail=detail,
        )

    async def close(self) -> None:
        """Wait for queued writes and a running compaction, then close the journal."""
        if self._closed:
            return
        while self._queue or self._committing:  # queued writes land first (failures fail them)
            self._commit_next()
            if self._committing:
                await self._commit_finished()
            elif self._queue:  # paused by a compaction, which restarts commits as it ends
                async with self._write_lock:
                    pass
        if self._compaction is not None and not self._compaction.done():
            # Its failure was already logged.
            await asyncio.gather(asyncio.shield(self._compaction), return_exceptions=True)
        if self._recovery is not None and not self._recovery.done():
            self._recovery.cancel()
            await asyncio.gather(self._recovery, return_exceptions=True)
        async with self._exclusive():
            self._closed = True
            await asyncio.to_thread(self._writer.close)
            self._unlock()
        self._disk.shutdown(wait=False)

    @property
    def journal_bytes(self) -> int:
        """Bytes of records in the journal being appended to."""
        return self._writer.end - HEADER_SIZE

    @property
    def compact_threshold(self) -> int:
        """Journal size past which a write starts a background compaction."""
        return max(self.compact_bytes, int(self._snapshot_bytes * COMPACT_RATIO), self._retry_at)

    @property
    def generation(self) -> int:
        """The generation of the journal being appended to."""
        return self._gen
