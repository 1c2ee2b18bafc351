"""The production storage engine: TinyDB tables in memory, an fsynced journal, atomic snapshots.

Why: stock TinyDB re-reads and rewrites the whole JSON file on every operation (90 ms a search and
246 ms an insert at 50k records) and rewrites it in place, so a crash can leave a file that no longer
opens. This engine keeps TinyDB's data model and file format but:

* holds the tables in memory (the ``{table: {doc_id: doc}}`` dict TinyDB itself works on) with a
  secondary index per declared field, so a lookup costs microseconds and never scans;
* makes a write durable with one append to a journal and one ``fsync``; writers that arrive while
  the disk is busy share the next ``fsync`` (group commit);
* frames every journal record with a length and a CRC, so a torn tail is recognised and dropped
  (a record is acknowledged only after its ``fsync``, so a torn one never was);
* compacts the journal into a snapshot (a plain TinyDB JSON file) written to a temp file, fsynced,
  renamed, with the directory fsynced.

Files, for ``path = data/benefits.json``::

    data/benefits.g00000007.json      snapshot of generation 7: the state when journal 7 began
    data/benefits.g00000007.journal   batches applied after that snapshot
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
costs a turn the length of a whole loop iteration, and a write used to take six of them. Readers see
a batch only once it is durable, and never half of one (memory is updated without an ``await`` in
between). Compaction and close pause commits while they switch or close the journal. One store is
used by one event loop of one process.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.storage._common import (
    normalize_batch,
)
from services.storage.base import Op, StoreHealth, StoreUnavailableError  # noqa: F401 (re-exported)
from services.storage.journal import (
    HEADER_SIZE,
    JournalCorruptError,
    JournalWriter,
    create_journal,
    frame_record,
    fsync_dir,
    read_journal,
    write_atomically,
)
from services.storage.memory import MemoryTables, StoreStats  # noqa: F401 (re-exported)
from services.storage.snapshot import (
    SnapshotCorruptError,
    SnapshotStorage,
    Tables,
    encode_snapshot,
    parse_snapshot,
)

logger = logging.getLogger(__name__)

ERR_CLOSED = "the store is closed"
ERR_LOCKED = "another process (or store object) has this store open; one writer at a time"
ERR_FAILED = ("the store refuses writes after a disk error; it retries by itself and accepts writes again "
              "once the disk does")
ERR_WRITE_FAILED = "the batch could not be written to the journal"
ERR_NOT_TEXT = "a document holds a lone surrogate (\\ud800-\\udfff), which cannot be stored as UTF-8"
DETAIL_OK = "loaded cleanly"
DETAIL_QUARANTINED = "files that failed to load were moved aside; started from the last good state"
DETAIL_LOST = "nothing readable was left: started empty (loss accepted); the unreadable files were moved aside"
DETAIL_SKIPPED = ("journal records that failed their checksum were skipped and every later one recovered (the log "
                  "names their bytes); the damaged journal was copied aside")
DETAIL_ACCEPTED = "acknowledged writes were lost (accepted): started from what was readable"
MARKER_FORMAT = "partner-benefits-bot/journaled-store"

DEFAULT_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0

DEFAULT_COMPACT_BYTES = 4 << 20
COMPACT_RATIO = 0.5
"""Compact once the journal is half the snapshot's size: a start then replays at most that much."""


def _os_reason(exc: OSError) -> str:
    """An ``OSError`` as one line naming the file, without a traceback."""
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"


class StoreLockedError(StoreUnavailableError):
    """Another store object (in this or another process) has the files open."""


class StoreDamagedError(StoreUnavailableError):
    """Opening would lose acknowledged writes (a generation is missing or empty, no snapshot is
    readable...): refused, nothing was changed. ``losses`` says what, file by file."""

    def __init__(self, path: Path, losses: Sequence[str]) -> None:
        super().__init__(f"{path} cannot be opened without losing data: " + "; ".join(losses))
        self.path = path
        self.losses = tuple(losses)


@dataclass
class _Pending:
    """A batch waiting for the disk."""

    record: bytes
    ops: list[list[Any]]
    done: asyncio.Future[None]


class JournaledTinyStore(MemoryTables):
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
    ) -> None:
        super().__init__(indexes)
        self._accept_loss = accept_loss
        self.retry_seconds = retry_seconds
        self.created = False
        """Whether this open created the store in a folder that never held it (demo data may go there)."""
        self._recovery: asyncio.Task[None] | None = None
        self.path = Path(path)
        self.compact_bytes = compact_bytes
        self._before_fsync = before_fsync
        self._quarantined: list[str] = []
        self._detail = DETAIL_OK
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
        self._snapshot_bytes = 0
        self._retry_at = 0
        self._gen = 0
        self._base_gen = 0
        self._writer: JournalWriter
        self._lock_fd = -1
        try:
            self._lock()
            try:
                self._open()
            except BaseException:
                self._unlock()
                raise
        except OSError as exc:
            raise StoreUnavailableError(f"cannot open {self.path}: {_os_reason(exc)}") from exc

    # ----------------------------------------------------------------------------------- files

    def _name(self, gen: int, kind: str) -> Path:
        return self.path.with_name(f"{self.path.stem}.g{gen:08d}.{kind}")

    def _snapshot_path(self, gen: int) -> Path:
        return self._name(gen, "json")

    def _journal_path(self, gen: int) -> Path:
        return self._name(gen, "journal")

    def _scan_files(self) -> tuple[dict[int, Path], dict[int, Path]]:
        """Snapshots and journals beside ``path`` by generation; leftover temp files are removed."""
        pattern = re.compile(rf"^{re.escape(self.path.stem)}\.g(\d{{8,}})\.(json|journal)(\.tmp)?$")
        snaps: dict[int, Path] = {}
        journals: dict[int, Path] = {}
        for entry in self.path.parent.iterdir():
            match = pattern.match(entry.name)
            if not match:
                continue
            if match.group(3):  # a temp file is never part of the state: its rename did not happen
                entry.unlink()
                continue
            (snaps if match.group(2) == "json" else journals)[int(match.group(1))] = entry
        return snaps, journals

    def _quarantine(self, path: Path, reason: str, *, copy: bool = False) -> None:
        """Move (or copy) a file that failed to load aside, log it loudly and report it in health."""
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        target = path.with_name(f"{path.name}.corrupt-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        if copy:
            shutil.copy2(path, target)
        else:
            os.replace(path, target)
        fsync_dir(path.parent)
        self._quarantined.append(str(target))
        logger.error(
            "storage file failed to load and was moved aside",
            extra={
                "event": "storage.quarantine",
                "file": str(path),
                "moved_to": str(target),
                "reason": reason,
            },
        )

    # -------------------------------------------------------------------------------- recovery

    def _lock(self) -> None:
        """Take the single-writer lock (``<stem>.lock``, ``flock``; the kernel drops it if we die).

        Two writers would corrupt the journal, and recovery (cutting a torn tail, removing temp files)
        is only safe when nobody else is writing: e.g. ``python -m bot export`` while the bot runs.

        Raises:
            StoreLockedError: the lock is held.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path.with_name(f"{self.path.stem}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise StoreLockedError(ERR_LOCKED) from None
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd >= 0:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = -1

    def _open(self) -> None:
        """Load the newest good state, repairing what a crash left behind (see module docstring).

        Damage that a crash cannot leave and that loses acknowledged writes (a generation missing or
        empty, no readable snapshot, a journal header gone) is refused with :class:`StoreDamagedError`
        before any file is touched, unless the store was opened with ``accept_loss``. Damage that
        loses nothing, or only the records whose checksum fails, is repaired: the bad files are moved
        or copied aside, logged, and listed in :meth:`health`.
        """
        snaps, journals = self._scan_files()
        recorded = self._recorded_generation()
        if not snaps and not journals:
            if recorded is None:
                self.created = True
                self._start_fresh()
                return
            self._refuse_unless_accepted([f"every snapshot and journal of {self.path.name} is missing (the "
                                          f"store had reached generation {recorded})"])
            self._detail = DETAIL_LOST
            self._gen = recorded
            self._start_fresh(import_legacy=False)
            return
        if self.path.is_file():
            logger.warning(
                "plain TinyDB file beside the journaled store is ignored",
                extra={"event": "storage.legacy_ignored", "file": str(self.path)},
            )
        top = max([*snaps, *journals])
        aside: list[tuple[Path, str, bool]] = []  # (file, reason, copy rather than move)
        losses: list[str] = []
        base: int | None = None
        for gen in sorted(snaps, reverse=True):
            try:
                tables = SnapshotStorage(snaps[gen]).read() or {}
            except SnapshotCorruptError as exc:
                aside.append((snaps[gen], str(exc), False))
                continue
            base = gen
            self._snapshot_bytes = snaps[gen].stat().st_size
            self._load_tables(tables)
            break
        if base is None:
            if not snaps and recorded is None and self._only_empty_journals(journals):
                self.created = True  # a first start cut short before its snapshot: nothing was written
                self._gen = top
                self._start_fresh()
                return
            damaged = ", ".join(f"{p.name} ({why})" for p, why, _ in aside) or "none is left"
            losses.append(f"no readable snapshot of {self.path.name}: {damaged}; its journals cannot be "
                          "replayed without one")
            aside.extend((journals[g], "no readable snapshot to replay this journal onto", False)
                         for g in sorted(journals))
            self._refuse_unless_accepted(losses)
            self._set_aside(aside, losses)
            self._detail = DETAIL_LOST
            self._gen = max(top, recorded or 0)
            self._start_fresh(import_legacy=False)
            return
        anomaly = bool(aside)
        skipped_any = False
        end = HEADER_SIZE
        for gen in range(base, top + 1):
            journal = journals.get(gen)
            if journal is None:
                losses.append(f"{self._journal_path(gen).name} is missing: the writes made after snapshot "
                              f"{gen} are lost")
                aside.extend(self._journals_after(journals, gen, "an earlier journal of its chain is missing"))
                break
            try:
                scan = read_journal(journal, gen)
            except JournalCorruptError as exc:
                losses.append(f"{journal.name} is damaged ({exc}): its writes are lost")
                aside.append((journal, str(exc), False))
                aside.extend(self._journals_after(journals, gen, "an earlier journal of its chain is damaged"))
                break
            for ops in scan.batches:
                self._apply_in_memory(ops)
            end = scan.good_end
            if scan.skipped:
                anomaly = skipped_any = True
                skipped = "; ".join(r.describe() for r in scan.skipped)
                aside.append((journal, f"damaged records skipped: {skipped}", True))
                logger.error(
                    "journal records failed their checksum and were skipped; every record after them "
                    "was recovered",
                    extra={"event": "storage.records_skipped", "file": str(journal), "skipped": skipped,
                           "recovered_records": len(scan.batches)},
                )
            if scan.tail == "torn" or (scan.skipped and scan.good_end < scan.size):
                logger.warning(
                    "dropped the torn tail of the journal (a write that was never acknowledged)",
                    extra={"event": "storage.torn_tail", "file": str(journal), "bytes": scan.size - end},
                )
        if recorded is not None and recorded > top:
            missing = ", ".join(self._journal_path(g).name for g in range(top + 1, recorded + 1))
            losses.append(f"{missing} missing: the newest writes are lost")
        self._refuse_unless_accepted(losses)
        self._set_aside(aside, losses)
        anomaly = anomaly or bool(losses)
        self._base_gen = base
        self._gen = max(top, recorded or 0)
        if self._quarantined:
            self._detail = DETAIL_SKIPPED if skipped_any else DETAIL_QUARANTINED
        if losses:
            self._detail = DETAIL_ACCEPTED
        if anomaly:
            # Start a new generation from the state just rebuilt, so that nothing later depends on
            # the damaged chain; the old files stay as the fallback until the next compaction.
            self._gen += 1
            self._write_generation(self._gen)
            return
        if recorded is None:
            self._record_generation(top)  # a store made before the marker existed
        self._writer = JournalWriter(self._journal_path(top), end, self._before_fsync)

    def _refuse_unless_accepted(self, losses: list[str]) -> None:
        """Raise :class:`StoreDamagedError` for ``losses`` unless the store was opened accepting them."""
        if losses and not self._accept_loss:
            raise StoreDamagedError(self.path, losses)

    def _set_aside(self, aside: list[tuple[Path, str, bool]], losses: list[str]) -> None:
        """Quarantine what failed to load, and log an accepted loss."""
        for file, reason, copy in aside:
            self._quarantine(file, reason, copy=copy)
        if losses:
            logger.error(
                "started from what was readable: acknowledged writes were lost (accepted)",
                extra={"event": "storage.loss_accepted", "file": str(self.path), "losses": losses},
            )

    @staticmethod
    def _journals_after(journals: Mapping[int, Path], gen: int, reason: str) -> list[tuple[Path, str, bool]]:
        """The journals after a break in the chain: they build on a state that is lost."""
        return [(journals[later], reason, False) for later in sorted(g for g in journals if g > gen)]

    @staticmethod
    def _only_empty_journals(journals: Mapping[int, Path]) -> bool:
        """Whether every journal is whole and holds no record (what a first start leaves if cut short)."""
        try:
            return all(not read_journal(path, gen).batches for gen, path in journals.items())
        except JournalCorruptError:
            return False

    # ---------------------------------------------------------------------------- the marker

    def _marker_path(self) -> Path:
        return self.path.with_name(f"{self.path.stem}.store")

    def _recorded_generation(self) -> int | None:
        """The newest generation the marker file names, 0 when it is unreadable, None when there is none.

        The marker is written when the store is first created and each time a new journal is
        started, so that a deleted newest journal, or a data folder emptied of its files, is told
        apart from a store that never held data.
        """
        try:
            raw = json.loads(self._marker_path().read_bytes())
            return int(raw["generation"])
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning(
                "the store's marker file is unreadable; it is rewritten",
                extra={"event": "storage.marker_unreadable", "file": str(self._marker_path()),
                       "reason": f"{type(exc).__name__}: {exc}"},
            )
            return 0

    def _record_generation(self, gen: int) -> None:
        """Name ``gen`` as the newest generation in the marker file (atomically, durably)."""
        body = {"format": MARKER_FORMAT, "generation": gen,
                "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        write_atomically(self._marker_path(), json.dumps(body).encode())

    def _start_fresh(self, *, import_legacy: bool = True) -> None:
        """First start (or nothing readable): import a plain TinyDB file at ``path`` if there is one."""
        legacy = self.path if import_legacy and self.path.is_file() else None
        if legacy is not None:
            try:
                self._load_tables(parse_snapshot(legacy.read_bytes(), allow_empty=True))
            except SnapshotCorruptError as exc:
                self._quarantine(legacy, str(exc))
                self._detail = DETAIL_QUARANTINED
                legacy = None
        self._gen += 1
        self._write_generation(self._gen)
        self._base_gen = self._gen
        if self.created and legacy is None:
            logger.warning(
                "created a new, empty store",
                extra={"event": "storage.created", "file": str(self.path)},
            )
        if legacy is not None:
            stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
            os.replace(legacy, legacy.with_name(f"{legacy.name}.imported-{stamp}"))
            fsync_dir(legacy.parent)
            logger.warning(
                "imported a plain TinyDB file into the journaled store",
                extra={"event": "storage.imported", "file": str(legacy)},
            )

    def _write_generation(self, gen: int) -> None:
        """Start generation ``gen`` from the current tables and append to its journal (blocking)."""
        self._writer, self._snapshot_bytes = self._new_generation(gen, self._tables)

    def _new_generation(self, gen: int, tables: Tables) -> tuple[JournalWriter, int]:
        """Create journal ``gen``, snapshot ``gen`` of ``tables`` and name ``gen`` in the marker;
        return the journal's writer and the snapshot's size.

        The journal comes first: a snapshot without its journal is then always damage (its writes
        were deleted), never what a crash left; an empty journal without its snapshot replays as
        nothing.
        """
        create_journal(self._journal_path(gen), gen)
        data = encode_snapshot(tables)
        write_atomically(self._snapshot_path(gen), data)
        self._record_generation(gen)
        return JournalWriter(self._journal_path(gen), HEADER_SIZE, self._before_fsync), len(data)

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
            frozen = self.frozen_tables()
        await asyncio.to_thread(old.close)
        try:
            size = await asyncio.to_thread(self._write_snapshot, gen, frozen)
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
        async with self._compact_lock, self._exclusive():
            if self._closed or not self._failure:
                return
            gen = self._gen + 1
            writer, size = await asyncio.to_thread(self._new_generation, gen, self.frozen_tables())
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

    def _write_snapshot(self, gen: int, frozen: Tables) -> int:
        path = self._snapshot_path(gen)
        SnapshotStorage(path).write(frozen)
        return path.stat().st_size

    def _remove_generations_below(self, gen: int) -> None:
        """Delete snapshots first, then journals, of generations below ``gen`` (any order is safe)."""
        snaps, journals = self._scan_files()
        for files in (snaps, journals):
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
