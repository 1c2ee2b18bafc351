"""The document store contract that every storage engine of the bot fulfils.

Service code never touches TinyDB directly: it reads documents by id or by an indexed field and
writes batches of operations. A batch is atomic and durable: when ``apply`` returns, every operation
of it is on disk, and a crash at any instant leaves the store with all of the batch or none of it.
Keeping the contract this small lets the engine change (stock TinyDB, the journaled engine, a
database for a scale-out) without touching the services above it.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import itertools
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, TypeVar

Document = dict[str, Any]
T = TypeVar("T")
Decoder = Callable[[Document], T]
Ordering = Callable[[Document], Iterable[str]]
"""The sort keys a document is listed under in an ordering: none (not listed), one, or several (listed
once under each, so that a search by prefix finds the document by any of them)."""
#: Sorts after every character a key holds: ``prefix + PREFIX_END`` bounds the keys starting with ``prefix``.
PREFIX_END = "\U0010ffff"



#: Entries added at once past which :meth:`SortedEntries.update` merges rather than inserts one by one.
MERGE_FROM = 64
#: Entries sorted at once when :class:`SortedEntries` are made (see its ``__init__``).
SORT_PIECE = 10_000


class SortedEntries:
    """An ordering's entries: ``keys`` sorted, ``ids[i]`` the document listed under ``keys[i]``.

    Two parallel lists rather than one list of pairs: a pair costs a tuple per entry, and a directory of
    150,000 people is listed under some 750,000 keys.
    """

    __slots__ = ("ids", "keys")

    def __init__(self, pairs: Iterable[tuple[str, str]] = ()) -> None:
        """``pairs``: ``(key, doc_id)``, each once.

        Sorted a piece at a time, the pieces then merged: holding every pair at once would cost a tuple
        an entry, memory the allocator keeps for the process after the sort (tens of MB for a large
        directory's search); a piece's pairs are dropped once it is sorted into two lists.
        """
        pieces: list[tuple[list[str], list[str]]] = []
        remaining = iter(pairs)
        while piece := list(itertools.islice(remaining, SORT_PIECE)):
            piece.sort()
            pieces.append(([key for key, _ in piece], [doc_id for _, doc_id in piece]))
        if len(pieces) == 1:
            self.keys, self.ids = pieces[0]
            return
        self.keys = []
        self.ids = []
        for key, doc_id in heapq.merge(*(zip(keys, ids, strict=True) for keys, ids in pieces)):
            self.keys.append(key)
            self.ids.append(doc_id)

    @classmethod
    def in_order(cls, pairs: Iterable[tuple[str, str]]) -> SortedEntries:
        """Entries from ``(key, doc_id)`` pairs already sorted, each once."""
        entries = cls()
        for key, doc_id in pairs:
            entries.keys.append(key)
            entries.ids.append(doc_id)
        return entries

    def add(self, key: str, doc_id: str) -> None:
        at = bisect.bisect_left(self.keys, key)
        while at < len(self.keys) and self.keys[at] == key and self.ids[at] < doc_id:
            at += 1  # equal keys (people of the same name) stay ordered by id
        self.keys.insert(at, key)
        self.ids.insert(at, doc_id)

    def remove(self, key: str, doc_id: str) -> None:
        at = self._position(key, doc_id)
        if at is not None:
            del self.keys[at], self.ids[at]

    def _position(self, key: str, doc_id: str) -> int | None:
        at = bisect.bisect_left(self.keys, key)
        while at < len(self.keys) and self.keys[at] == key:
            if self.ids[at] == doc_id:
                return at
            at += 1
        return None

    def update(self, removed: Sequence[tuple[str, str]], added: Sequence[tuple[str, str]]) -> None:
        """Remove the ``(key, doc_id)`` entries ``removed``, then add ``added`` (each once).

        Many at once cost what few do: the removed entries are deleted run by run (the oldest
        thousands of entries are one run: one shift of the lists), and many added ones are merged in
        one pass, where entry by entry each would shift the whole lists.
        """
        positions = sorted(p for p in (self._position(k, i) for k, i in removed) if p is not None)
        runs: list[list[int]] = []
        for at in positions:
            if runs and runs[-1][1] == at:
                runs[-1][1] = at + 1
            else:
                runs.append([at, at + 1])
        for start, end in reversed(runs):
            del self.keys[start:end], self.ids[start:end]
        if len(added) <= MERGE_FROM:
            for key, doc_id in added:
                self.add(key, doc_id)
            return
        merged = list(heapq.merge(zip(self.keys, self.ids, strict=True), sorted(added)))
        self.keys = [key for key, _ in merged]
        self.ids = [doc_id for _, doc_id in merged]

    def prefix_range(self, prefix: str) -> tuple[int, int]:
        """Where the entries whose key starts with ``prefix`` lie."""
        if not prefix:
            return 0, len(self.keys)
        return bisect.bisect_left(self.keys, prefix), bisect.bisect_left(self.keys, prefix + PREFIX_END)


@dataclass(frozen=True)
class Put:
    """Insert or replace the document ``doc_id`` of ``table`` with ``doc``."""

    table: str
    doc_id: str
    doc: Mapping[str, Any]


@dataclass(frozen=True)
class Delete:
    """Remove the document ``doc_id`` of ``table`` (no error when it is absent)."""

    table: str
    doc_id: str


Op = Put | Delete


@dataclass(frozen=True)
class StoreHealth:
    """What ``/readyz`` reports about a store.

    ``quarantined`` lists files that failed to load and were moved aside (never silently replaced);
    a store that had to quarantine a file is still usable but not healthy.
    """

    ready: bool
    path: str
    quarantined: tuple[str, ...] = field(default_factory=tuple)
    detail: str = ""


class DocumentStore(ABC):
    """Tables of JSON documents keyed by string ids, with secondary indexes.

    ``indexes`` maps a table name to the fields looked up with :meth:`find`; a lookup on an indexed
    field must not scan the table. Reads are synchronous (served from memory); writes are async
    because they wait for the disk.
    """

    #: several processes write this store (a shared database): work one process would simply own
    #: (a notification in flight) must be claimed, with a lease, instead
    shared = False
    #: opening made a new, empty store (the bot then loads its demo data or an inventory)
    created = False

    def __init__(self, indexes: Mapping[str, Sequence[str]] | None = None) -> None:
        self.indexes: dict[str, tuple[str, ...]] = {t: tuple(f) for t, f in (indexes or {}).items()}
        self.orderings: dict[str, dict[str, Ordering]] = {}
        #: ``{table: {ordering: text}}``: see ``order_by``'s ``listed_only_with``
        self.ordering_needs: dict[str, dict[str, str]] = {}

    # --- orderings: pages of a sorted table ------------------------------------------------------
    # A card shows a table a page at a time, sorted (people by name) or searched (by a prefix of a
    # name or an email). Reading and sorting the whole table for each page costs O(n log n) a turn,
    # so an engine may keep each declared ordering sorted as it writes and answer a page with two
    # binary searches and a slice. These defaults sort on every call: correct, for small stores.

    def order_by(self, table: str, name: str, keys: Ordering, *, listed_only_with: str = "") -> None:
        """Declare the ordering ``name`` of ``table``: each document is listed under ``keys(doc)``.

        ``keys`` must be a stable function of the document alone (a module-level function) and must
        not change the document. Declaring the same name again replaces the ordering.
        ``listed_only_with``: text that the compact JSON of every document with keys holds (the JSON of
        a value it requires, such as ``"global_admin"``), so that an engine holding documents as text
        sorts a few without decoding the rest; it must never leave out a document ``keys`` lists.
        """
        self.orderings.setdefault(table, {})[name] = keys
        self.ordering_needs.setdefault(table, {})[name] = listed_only_with

    def _ordered_entries(self, table: str, name: str) -> SortedEntries:
        keys = self.orderings[table][name]
        return SortedEntries((key, doc["id"]) for doc in self.all(table) for key in dict.fromkeys(keys(doc)))

    async def prepare_ordering(self, table: str, name: str) -> None:
        """Have ordering ``name`` of ``table`` ready for its pages without holding up the event loop:
        an engine that sorts an ordering when a page is first asked for sorts it here, off the loop,
        while writes go on. These defaults sort on every call: nothing to prepare.

        Raises:
            KeyError: ``name`` was not declared with :meth:`order_by` for ``table``.
        """
        if name not in self.orderings.get(table, {}):
            raise KeyError(name)

    def ordered(self, table: str, name: str, prefix: str = "", offset: int = 0,
                limit: int = 20, *, reverse: bool = False) -> tuple[list[str], int]:
        """A page of ordering ``name``: the ids of the entries whose key starts with ``prefix``, from
        ``offset``, at most ``limit`` of them (a document listed under several matching keys is given
        once per page), and how many entries match in all. ``reverse``: counted from the last key
        (newest first, for keys that are times).

        Raises:
            KeyError: ``name`` was not declared with :meth:`order_by` for ``table``.
        """
        entries = self._ordered_entries(table, name)
        low, high = entries.prefix_range(prefix)
        offset, limit = max(0, offset), max(0, limit)
        if reverse:
            end = max(low, high - offset)
            page = entries.ids[max(low, end - limit):end][::-1]
        else:
            start = min(high, low + offset)
            page = entries.ids[start:min(high, start + limit)]
        return list(dict.fromkeys(page)), high - low

    @abstractmethod
    def get(self, table: str, doc_id: str) -> Document | None:
        """Return a copy of one document, or None."""

    @abstractmethod
    def all(self, table: str) -> list[Document]:
        """Return copies of every document of ``table`` (each carries its id under ``"id"``)."""

    @abstractmethod
    def find(self, table: str, field_name: str, value: Any) -> list[Document]:
        """Return copies of the documents whose ``field_name`` equals ``value``."""

    def find_ids(self, table: str, field_name: str, value: Any) -> list[str]:
        """Ids of the documents whose ``field_name`` equals ``value``, without copying documents.

        Engines with indexes answer from the index (the notification worker polls its queue with
        this); the default goes through :meth:`find`.
        """
        return [doc["id"] for doc in self.find(table, field_name, value)]

    def count(self, table: str, field_name: str, value: Any) -> int:
        """How many documents :meth:`find_ids` would give (engines with indexes: without listing them)."""
        return len(self.find_ids(table, field_name, value))

    @abstractmethod
    async def apply(self, ops: Sequence[Op]) -> None:
        """Apply a batch atomically; durable (fsynced) before returning."""

    def submit(self, ops: Sequence[Op]) -> asyncio.Future[None]:
        """Start :meth:`apply` now; the future resolves once the batch is durable.

        For callers with other work to do while the disk is busy. Engines that can queue the batch
        before returning override this (the default starts ``apply`` as a task).
        """
        return asyncio.ensure_future(self.apply(ops))

    async def update_each(self, table: str, ids: Sequence[str],
                          change: Callable[[str, Document | None], Mapping[str, Any] | None]) -> list[Document]:
        """Read-modify-write of some documents as one atomic batch on their newest versions.

        ``change(doc_id, current)`` gets a copy of the newest stored document (None when absent) and
        returns the document to write, or None to leave it. No other writer's change to these
        documents can land between that read and the write, across every process sharing the store:
        an insert-if-absent or a claim (pending -> sending) is decided once. ``change`` must be quick
        and free of I/O (an engine may call it inside a database transaction). Returns the documents
        written (each with its id).

        Raises:
            ValueError: a bad table name or id, or a document ``change`` returned that is not storable.
        """
        ops: list[Op] = []
        for doc_id in ids:
            new = change(doc_id, self.get(table, doc_id))
            if new is not None:
                ops.append(Put(table, doc_id, new))
        await self.apply(ops)
        return [self.get(table, op.doc_id) or {} for op in ops if isinstance(op, Put)]

    async def claim_each(self, table: str, ids: Sequence[str],
                         change: Callable[[str, Document | None], Mapping[str, Any] | None], *,
                         owner: str = "") -> list[Document]:
        """Take documents for work exactly one process may do (a notification to send), with a lease.

        ``change`` is as for :meth:`update_each`: it gets the document as claimers see it and returns the
        claimed version (state, ``owner``, lease), or None when it is not claimable (held by a live
        lease, no longer due). Returns the claimed documents. An engine one process owns writes the
        claimed version (this default); a shared engine may hold it as a claim beside the document
        instead, so that instances claiming at once do not queue behind each other; the claim then
        holds until the document itself is next written (the work's outcome) or its lease runs out.

        Raises:
            ValueError: a bad table name or id.
        """
        return await self.update_each(table, ids, change)

    def instances(self) -> int:
        """How many processes use this store now (each takes this share of an app-wide limit); 1 for an
        engine that one process owns."""
        return 1

    async def refresh(self) -> None:
        """Catch up with what other instances sharing the store wrote; the bot calls it before a turn.

        Engines owned by one process have nothing to catch up with (the default does nothing).

        Raises:
            StoreUnavailableError: the shared store cannot be reached.
        """
        return None

    async def load_later(self) -> None:
        """Read what the engine left unread at open (tables a first turn does not need), between turns.

        Every read or write of such a table before then is still answered from the whole table (it is
        read at once for it), so calling this only moves the work off the start. The default has none.
        """
        return None

    def loading(self) -> tuple[str, ...]:
        """The tables still left for :meth:`load_later` (none by default)."""
        return ()

    def mutation_lock(self) -> AbstractAsyncContextManager[None]:
        """A lock to hold around read, check the rules, write: two holders never overlap, and inside it
        the reads are the newest state. One process's engine needs only an ``asyncio.Lock``; a shared
        engine serializes across instances. Call once and keep it (it is entered again and again)."""
        return asyncio.Lock()

    @abstractmethod
    def health(self) -> StoreHealth:
        """Report whether the store loaded cleanly."""

    @abstractmethod
    async def close(self) -> None:
        """Flush and release the files."""

    # --- decoded reads -----------------------------------------------------------------------------
    # ``decode`` turns a document (a caller's copy) into an object. It must be a stable callable (a
    # module-level function or a classmethod, not a lambda made per call) returning an IMMUTABLE value
    # (a frozen dataclass of scalars, tuples, frozensets...): an engine may hand the same object to
    # every caller until the document changes. These defaults decode a fresh copy on every read; the
    # journaled engine keeps one decoded object per stored document version.

    def get_decoded(self, table: str, doc_id: str, decode: Decoder[T]) -> T | None:
        """``decode(get(table, doc_id))``, or None when there is no such document."""
        doc = self.get(table, doc_id)
        return None if doc is None else decode(doc)

    def all_decoded(self, table: str, decode: Decoder[T]) -> list[T]:
        """``decode`` of every document of ``table``, in the order of :meth:`all`."""
        return [decode(d) for d in self.all(table)]

    def find_decoded(self, table: str, field_name: str, value: Any, decode: Decoder[T]) -> list[T]:
        """``decode`` of every document :meth:`find` returns, in its order."""
        return [decode(d) for d in self.find(table, field_name, value)]

    def table_version(self, table: str) -> int | None:
        """A number that changes on every write to ``table`` (never back to an earlier value), so a cache
        of something derived from the table can tell it is stale; None: this engine does not count
        (callers then recompute every time)."""
        return None

    def frozen_tables(self) -> dict[str, dict[str, Document]]:
        """A consistent, read-only view of every table that another thread may encode while the
        store goes on serving (backups). The default is :meth:`dump`'s copies; engines whose
        documents are never changed in place hand out a shallow view instead."""
        return self.dump()

    def dump(self) -> dict[str, dict[str, Document]]:
        """Every table as ``{table: {doc_id: doc}}``, for export and backup."""
        return {t: {d["id"]: d for d in self.all(t)} for t in self.table_names()}

    @abstractmethod
    def table_names(self) -> list[str]:
        """Names of the tables that hold at least one document."""
