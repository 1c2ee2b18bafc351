"""The files of a journaled store, and how opening it recovers from what a crash (or worse) left.

Why its own module: what is on the disk and how the newest good state is rebuilt from it at open
(generations of snapshot + journal, the single-writer lock, the marker naming the newest generation,
quarantine of damaged files, refusing to lose acknowledged writes) is read at every start and when
something went wrong, apart from the commit pipeline that runs on every write
(``services.storage.journaled``). The design is told in that module's docstring.
"""

from __future__ import annotations

import fcntl
import json
import logging
import mmap
import os
import re
import shutil
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from services.storage.errors import StoreDamagedError, StoreLockedError, StoreUnavailableError
from services.storage.journal import (
    HEADER_SIZE,
    JournalCorruptError,
    JournalWriter,
    create_journal,
    fsync_dir,
    read_journal,
    write_atomically,
)
from services.storage.memory import MemoryTables, read_documents
from services.storage.snapshot import (
    SnapshotCorruptError,
    TablesView,
    parse_snapshot,
    snapshot_chunks,
    snapshot_documents,
)
from services.storage.snapshot_index import (
    STEP_ITEMS,
    Entries,
    FrozenIndex,
    IndexFile,
    IndexFileMismatch,
    Texts,
    read_index_file,
    table_steps,
    write_index_file,
)
from services.storage.snapshot_texts import Buffer

logger = logging.getLogger("services.storage.journaled")  # one logger for the engine, whichever file logs

ERR_LOCKED = "another process (or store object) has this store open; one writer at a time"
DETAIL_OK = "loaded cleanly"
DETAIL_QUARANTINED = "files that failed to load were moved aside; started from the last good state"
DETAIL_LOST = "nothing readable was left: started empty (loss accepted); the unreadable files were moved aside"
DETAIL_SKIPPED = ("journal records that failed their checksum were skipped and every later one recovered (the log "
                  "names their bytes); the damaged journal was copied aside")
DETAIL_ACCEPTED = "acknowledged writes were lost (accepted): started from what was readable"
MARKER_FORMAT = "partner-benefits-bot/journaled-store"


class JournalFiles(MemoryTables):
    """The tables of :class:`MemoryTables`, loaded at open from the newest good generation of files."""

    #: a table of at least this many documents, adopted through an index file at the start, is held as a
    #: :class:`~services.storage.snapshot_texts.SnapshotTexts` (each text cut out when first read, the rest
    #: between turns); a smaller one is cut at once, which costs less than holding it so
    cut_when_read_from: int = STEP_ITEMS

    def __init__(self, path: Path | str, indexes: Mapping[str, Sequence[str]] | None = None, *,
                 before_fsync: Callable[[], None] | None = None, accept_loss: bool = False,
                 later: Sequence[str] = ()) -> None:
        super().__init__(indexes)
        #: tables a start through an index file leaves unread until used or ``load_later``
        self._later_tables = frozenset(later)
        #: the snapshot those tables are read from: (file, size, CRC-32), to read them again if need be
        self._later_source: tuple[Path, int, int] | None = None
        self.path = Path(path)
        self._accept_loss = accept_loss
        self._before_fsync = before_fsync
        self.created = False
        """Whether this open created the store in a folder that never held it (demo data may go there)."""
        self._quarantined: list[str] = []
        self._detail = DETAIL_OK
        self._snapshot_bytes = 0
        self._gen = 0
        self._base_gen = 0
        self._writer: JournalWriter
        self._lock_fd = -1

    # ----------------------------------------------------------------------------------- files

    def _name(self, gen: int, kind: str) -> Path:
        return self.path.with_name(f"{self.path.stem}.g{gen:08d}.{kind}")

    def _snapshot_path(self, gen: int) -> Path:
        return self._name(gen, "json")

    def _journal_path(self, gen: int) -> Path:
        return self._name(gen, "journal")

    def _index_path(self, gen: int) -> Path:
        return self._name(gen, "index")

    def _scan_files(self) -> tuple[dict[int, Path], dict[int, Path], dict[int, Path]]:
        """Snapshots, journals and index files beside ``path`` by generation; leftover temp files are
        removed."""
        pattern = re.compile(rf"^{re.escape(self.path.stem)}\.g(\d{{8,}})\.(json|journal|index)(\.tmp)?$")
        found: dict[str, dict[int, Path]] = {"json": {}, "journal": {}, "index": {}}
        for entry in self.path.parent.iterdir():
            match = pattern.match(entry.name)
            if not match:
                continue
            if match.group(3):  # a temp file is never part of the state: its rename did not happen
                entry.unlink()
                continue
            found[match.group(2)][int(match.group(1))] = entry
        return found["json"], found["journal"], found["index"]

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
        snaps, journals, _ = self._scan_files()
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
                self._load_generation(gen, snaps[gen])
            except SnapshotCorruptError as exc:
                aside.append((snaps[gen], str(exc), False))
                continue
            base = gen
            self._snapshot_bytes = snaps[gen].stat().st_size
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

    def _load_generation(self, gen: int, snapshot: Path) -> None:
        """Adopt snapshot ``gen``: through its index file when that matches it (no document decoded),
        else decoding every document, and then writing the index file for the next start.

        Raises:
            SnapshotCorruptError: the snapshot is damaged (nothing is adopted).
        """
        index_path = self._index_path(gen)
        try:
            found = read_index_file(index_path, gen, self.indexes)
        except FileNotFoundError:
            pass
        except (OSError, IndexFileMismatch) as exc:
            self._index_ignored(index_path, exc)
        else:
            try:
                self._load_through(found, snapshot)
                return
            except IndexFileMismatch as exc:
                self._index_ignored(index_path, exc)
        if not self._load_snapshot(snapshot):
            return  # texts were rewritten as they were loaded: an index file could not describe the file
        try:
            write_index_file(index_path, gen, snapshot.read_bytes(), self.indexes, self._tables, self._frozen_index())
        except (OSError, ValueError, OverflowError) as exc:  # OverflowError: a snapshot of 4 GB or more
            logger.warning(
                "could not write the index file of the snapshot; the next start decodes it again",
                extra={"event": "storage.index_unwritten", "file": str(index_path), "reason": str(exc)},
            )

    def _load_through(self, found: IndexFile, snapshot: Path) -> None:
        """Adopt snapshot ``snapshot`` through its index file ``found``: every table read now but those
        opened to be read later (which are checked with the rest of the file, then left unread).

        Raises:
            IndexFileMismatch: the index file does not describe the snapshot (nothing is adopted).
        """
        with snapshot.open("rb") as file:
            data = _mapped(file)
        self._adopt_through(found, data, snapshot)

    def _adopt_through(self, found: IndexFile, data: Buffer, snapshot: Path) -> None:
        found.check(data)
        tables: dict[str, Texts] = {}
        index: dict[str, dict[str, Entries]] = {}
        later = []
        for table in dict.fromkeys([*found.documents, *self.indexes]):
            if table in self._later_tables and table in found.documents:  # read from the mapped snapshot later
                later.append((table, table_steps(found.part(table, data), self.indexes.get(table, ()))))
                continue
            lazy = found.documents.get(table, 0) >= self.cut_when_read_from
            steps = table_steps(found.part(table, data), self.indexes.get(table, ()), lazy=lazy)
            try:
                while True:
                    next(steps)
            except StopIteration as done:
                tables[table], index[table] = done.value
        self._adopt(tables, {name: by_field for name, by_field in index.items() if name in self.indexes})
        for table, steps in later:
            self._read_later(table, steps)
        if later:
            self._later_source = (snapshot, found.snapshot_size, found.snapshot_crc)

    def _read_later_again(self, table: str) -> tuple[dict[str, str], dict[str, Entries]]:
        """Read a table whose reading through the index file failed after open from its snapshot, decoding
        every document (the snapshot is still on the disk: no compaction runs before every table is read).

        Raises:
            StoreUnavailableError: the snapshot is no longer the file that was checked at open.
        """
        logger.error(
            "a table left for later could not be read through the index file; it is decoded from the snapshot",
            extra={"event": "storage.later_reread", "table": table},
        )
        assert self._later_source is not None
        path, size, crc = self._later_source
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise StoreUnavailableError(f"cannot read {path.name} again: {exc.strerror or exc}") from exc
        if (len(data), zlib.crc32(data)) != (size, crc):
            raise StoreUnavailableError(f"{path.name} changed after the store was opened")
        del data
        tables, index, _ = read_documents({table: self.indexes.get(table, ())},
                                          (document for document in snapshot_documents(path) if document[0] == table))
        return tables.get(table, {}), index.get(table, {})

    @staticmethod
    def _index_ignored(path: Path, exc: Exception) -> None:
        logger.warning(
            "the snapshot's index file does not match it and was ignored; the snapshot is decoded instead",
            extra={"event": "storage.index_ignored", "file": str(path), "reason": f"{type(exc).__name__}: {exc}"},
        )

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
        self._writer, self._snapshot_bytes = self._new_generation(gen, self.frozen_tables(), self._frozen_index())

    def _new_generation(self, gen: int, tables: TablesView, index: FrozenIndex) -> tuple[JournalWriter, int]:
        """Create journal ``gen``, snapshot ``gen`` of ``tables`` (whose indexes are ``index``) and name
        ``gen`` in the marker; return the journal's writer and the snapshot's size.

        The journal comes first: a snapshot without its journal is then always damage (its writes
        were deleted), never what a crash left; an empty journal without its snapshot replays as
        nothing.
        """
        create_journal(self._journal_path(gen), gen)
        size = self._write_snapshot(gen, tables, index)
        self._record_generation(gen)
        return JournalWriter(self._journal_path(gen), HEADER_SIZE, self._before_fsync), size

    def _write_snapshot(self, gen: int, tables: TablesView, index: FrozenIndex) -> int:
        """Write snapshot ``gen`` of ``tables``, then its index file (``index``: the indexes of exactly
        those tables); return the snapshot's size. The index file only speeds the next start up: when
        it cannot be written, that start decodes the snapshot (and writes it then)."""
        path = self._snapshot_path(gen)
        write_atomically(path, snapshot_chunks(tables))
        size = path.stat().st_size
        try:
            write_index_file(self._index_path(gen), gen, path.read_bytes(), self.indexes, tables, index)
        except (OSError, ValueError, OverflowError) as exc:  # OverflowError: a snapshot of 4 GB or more
            logger.warning(
                "could not write the index file of the snapshot; the next start decodes it instead",
                extra={"event": "storage.index_unwritten", "file": str(self._index_path(gen)), "reason": str(exc)},
            )
        return size


def _mapped(file: BinaryIO) -> Buffer:
    """``file``'s bytes mapped read-only, for a start that reads a snapshot through its index file: the page
    cache's own pages, where reading would first fault in and zero as much new memory and then copy into
    it. The tables read after the open (the audit trail, the texts of a large table not cut yet) read from
    the mapping too, which is unmapped when the last of them lets it go. A snapshot file is never changed in
    place (a new one is written beside it and renamed; an old one is unlinked, which leaves a mapping
    whole). An empty file, which cannot be mapped, is ``b""``."""
    if os.fstat(file.fileno()).st_size == 0:
        return b""
    return mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
