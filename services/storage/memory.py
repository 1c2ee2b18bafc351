"""The in-memory half of the journaled engine: TinyDB tables, secondary indexes and decoded reads.

Why its own module: how documents are held, indexed and decoded for readers does not depend on how
they reach the disk (``services.storage.journaled``: the journal, recovery and compaction). A store
built on :class:`MemoryTables` answers every read from memory, never scanning for an indexed field,
and changes its tables only through :meth:`MemoryTables._apply_in_memory` once a batch is durable.

Each document is held as its compact JSON text, not as the dicts it decodes to: a dict of strings
costs four to seven times its text (a directory of people, a long audit trail), and every read hands
out a copy anyway, which decoding the text makes as cheaply as copying the dicts did. The indexes
and orderings hold what they need of each document, so no lookup decodes more than it returns.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.storage._common import ERR_FIELD_NAME, ID_FIELD, check_doc_id, check_name, check_table
from services.storage.base import Decoder, Document, DocumentStore, Ordering, SortedEntries, T
from services.storage.snapshot import DocumentTexts, Tables, snapshot_documents
from services.storage.snapshot_index import STEP_ITEMS, Entries, FrozenIndex, TableSteps, Texts
from services.storage.snapshot_texts import SnapshotTexts

_MISSING = object()
#: A document as it is held: compact JSON (what the journal and the snapshot hold of it too).
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode
_decode = json.loads


@dataclass
class StoreStats:
    """Counters that tests and the benchmark read."""

    fsyncs: int = 0
    """Journal fsyncs (one per group commit)."""
    batches: int = 0
    """Batches made durable."""
    scans: int = 0
    """``find`` calls that had to scan a table (field not indexed)."""
    compactions: int = 0
    """Snapshots written by compaction."""


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _index_key(value: Any) -> Any:
    """A dict key with Python ``==`` semantics for JSON values (lists and objects by their JSON)."""
    if type(value) in _SCALARS:
        return value
    try:
        hash(value)
    except TypeError:
        return ("\0json", json.dumps(value, sort_keys=True))
    return value


class Several(dict[str, None]):
    """The ids an index lists under a value that names several documents, as keys (in indexing order).

    A copy of the indexes (:meth:`MemoryTables._frozen_index`, encoded into an index file in another
    thread) copies each field's mapping, not these: one that was copied is copied before it changes
    (``epoch``: the copy of the indexes it was made after).
    """

    __slots__ = ("epoch",)

    def __init__(self, ids: Iterable[str], epoch: int) -> None:
        super().__init__(dict.fromkeys(ids))
        self.epoch = epoch


#: The ids an index lists under one value: the id itself while there is one (most values, such as an
#: email, name one document, and a dict per value would cost more than the document), else a dict.
Ids = str | dict[str, None]


@dataclass
class _Later:
    """A table left unread at open: how to read it, and the writes to apply to it once read, in order."""

    steps: TableSteps
    pending: list[list[Any]]
    failure: BaseException | None = None
    """Why reading it failed for good (every use of the table raises it again)."""


def _entries(texts: Mapping[str, str], keys: Ordering, needs: str) -> Iterator[tuple[str, str]]:
    """The ``(key, doc_id)`` entries of an ordering over documents' texts (see ``order_by``'s ``needs``)."""
    for doc_id, text in texts.items():
        if needs in text:
            for key in dict.fromkeys(keys(_decode(text))):
                yield key, doc_id


#: entries sorted by one call of the C sort in a worker thread (see :func:`_sorted_in_pieces`)
SORT_PIECE = 10_000


def _sorted_in_pieces(texts: Mapping[str, str], keys: Ordering, needs: str) -> SortedEntries:
    """An ordering's entries sorted in a worker thread, a piece at a time, the pieces then merged.

    Why pieces: one ``list.sort`` of a whole long table is a single C call that keeps the GIL for its
    whole length, stalling the event loop it was meant to spare; the decoding and the merge are Python,
    which hands the GIL back to the loop every few milliseconds.
    """
    pairs = list(_entries(texts, keys, needs))
    pieces = []
    for start in range(0, len(pairs), SORT_PIECE):
        piece = pairs[start:start + SORT_PIECE]
        piece.sort()
        pieces.append(piece)
    return SortedEntries.in_order(heapq.merge(*pieces))


class _MovesMeanwhile(SortedEntries):
    """Stands in for an ordering while a worker thread sorts it: the writes' moves, in their order."""

    __slots__ = ("moves",)

    def __init__(self) -> None:
        super().__init__()
        self.moves: list[tuple[list[tuple[str, str]], list[tuple[str, str]]]] = []

    def update(self, removed: Sequence[tuple[str, str]], added: Sequence[tuple[str, str]]) -> None:
        self.moves.append((list(removed), list(added)))

    def add(self, key: str, doc_id: str) -> None:
        self.update([], [(key, doc_id)])

    def remove(self, key: str, doc_id: str) -> None:
        self.update([(key, doc_id)], [])


def _ids(entries: dict[Any, Ids], value: Any) -> tuple[str] | dict[str, None] | tuple[()]:
    ids = entries.get(_index_key(value))
    if ids is None:
        return ()
    return (ids,) if isinstance(ids, str) else ids


def read_documents(indexes: Mapping[str, Sequence[str]], documents: Iterable[tuple[str, str, Document, str | None]],
                   ) -> tuple[dict[str, dict[str, str]], FrozenIndex, bool]:
    """The texts by table of ``(table, doc_id, doc, its JSON text or None)`` and the indexes of ``indexes``
    over them, built in bulk; and whether every text was kept as given (see
    :meth:`MemoryTables._load_documents`)."""
    tables: dict[str, dict[str, str]] = {}
    index: dict[str, dict[str, dict[Any, Ids]]] = {t: {f: {} for f in fields} for t, fields in indexes.items()}
    table: str | None = None
    docs: dict[str, str] = {}
    fields: list[tuple[str, dict[Any, Ids]]] = []
    verbatim = True
    for name, doc_id, doc, text in documents:
        if name != table:
            table, docs = name, tables.setdefault(name, {})
            fields = list(index.get(name, {}).items())
        if doc.get(ID_FIELD, _MISSING) != doc_id:
            doc[ID_FIELD] = doc_id
            text = None
        if text is None:
            verbatim = False
            text = _encode(doc)
        docs[doc_id] = text
        for field_name, entries in fields:
            value = doc.get(field_name, _MISSING)
            if value is _MISSING:
                continue
            try:
                ids = entries.get(value)
            except TypeError:  # a list or an object: keyed by its JSON
                value = _index_key(value)
                ids = entries.get(value)
            if ids is None:
                entries[value] = doc_id
            elif isinstance(ids, str):
                entries[value] = {ids: None, doc_id: None}
            else:
                ids[doc_id] = None
    return tables, index, verbatim


class MemoryTables(DocumentStore):
    """Every table in memory with an index per declared field, a version per table and a cache of
    decoded documents; the reads of the :class:`DocumentStore` contract. Writing is the subclass's."""

    def __init__(self, indexes: Mapping[str, Sequence[str]] | None = None) -> None:
        super().__init__(indexes)
        self.stats = StoreStats()
        #: ``{table: {doc_id: the document's JSON text}}`` (a large table adopted at the start through an
        #: index file: cut out of the snapshot's bytes as read, until :meth:`load_later` has cut the rest)
        self._tables: dict[str, Texts] = {}
        #: ``{table: {field: {value: ids}}}``, see :data:`Ids`
        self._index: dict[str, dict[str, dict[Any, Ids]]] = {
            t: {f: {} for f in fields} for t, fields in self.indexes.items()
        }
        #: ``{table: {ordering: entries}}``, kept sorted by every write (see order_by)
        self._sorted: dict[str, dict[str, SortedEntries]] = {}
        #: while a batch is applied: ``{(table, ordering): {(key, doc_id): +1 added / -1 removed}}``
        self._moves: dict[tuple[str, str], dict[tuple[str, str], int]] | None = None
        #: ``{table: {decode: {doc_id: (stored doc, decoded object)}}}``: see :meth:`get_decoded`
        self._decoded: dict[str, dict[Decoder[Any], dict[str, tuple[str, Any]]]] = {}
        #: how many copies of the indexes were taken (see :class:`Several`)
        self._epoch = 0
        #: ``{table: version}``, bumped from one store-wide counter on every change (see table_version)
        self._versions: dict[str, int] = {}
        self._version_counter = itertools.count(1)
        #: tables read after open (see :meth:`load_later`); every access to one reads it first
        self._later: dict[str, _Later] = {}

    # ------------------------------------------------------------------------------- changes

    def _load_tables(self, tables: Tables) -> None:
        """Adopt decoded tables (a plain TinyDB file) into the empty store."""
        self._load_documents((name, doc_id, doc, None) for name, docs in tables.items()
                             for doc_id, doc in docs.items())

    def _load_snapshot(self, path: Path) -> bool:
        """Adopt a snapshot file into the empty store, one document decoded at a time (the decoded
        snapshot is never held whole). Returns whether every document's text was adopted as the file
        holds it (see :meth:`_load_documents`).

        Raises:
            SnapshotCorruptError: the file is not a snapshot (nothing is adopted).
        """
        return self._load_documents(snapshot_documents(path))

    def _load_documents(self, documents: Iterable[tuple[str, str, Document, str | None]]) -> bool:
        """Adopt ``(table, doc_id, doc, its JSON text or None)`` into the empty store, building the
        indexes in bulk; nothing is adopted when ``documents`` raises. Returns whether every text was
        adopted as given (none was missing, none lacked its id): then the texts alone, with the
        indexes, make this very state again (:meth:`_adopt_texts`)."""
        tables, index, verbatim = read_documents(self.indexes, documents)
        self._adopt(tables, index)
        return verbatim

    def _adopt(self, tables: Mapping[str, Texts], index: FrozenIndex) -> None:
        """Adopt documents' texts and the indexes they make (of every declared field) into the empty
        store: what a start read from a snapshot, decoded (:meth:`_load_documents`) or not."""
        for name, docs in tables.items():
            if docs:
                self._tables[name] = docs
                self._versions[name] = next(self._version_counter)
        for name, by_field in index.items():
            self._index[name] = by_field
        self._sorted.clear()  # sorted again from what was loaded when next asked

    def _frozen_index(self) -> FrozenIndex:
        """A copy of every index that later writes leave as it is (see :class:`Several`), taken with
        :meth:`frozen_tables` so that both describe the same state, for an index file
        (``services.storage.snapshot_index``) encoded in another thread."""
        self._ready_all()
        self._epoch += 1
        return {table: {name: dict(entries) for name, entries in by_field.items()}
                for table, by_field in self._index.items()}

    def _apply_in_memory(self, ops: list[list[Any]]) -> None:
        """Apply a durable batch to memory. The moves within each ordering are gathered over the batch
        and made once after it (:meth:`SortedEntries.update`): a batch that deletes the oldest
        thousands of a long ordering shifts it once, and an import merges its documents in at once,
        rather than shifting the whole list once per document."""
        if self._later and any(op[1] in self._later for op in ops):
            ops = self._set_aside_for_later(ops)
        self._moves = {}
        try:
            for op in ops:
                if op[0] == "put":
                    self._put(op[1], op[2], op[3])
                else:
                    self._delete(op[1], op[2])
        finally:
            moves, self._moves = self._moves, None
            for (table, name), delta in moves.items():
                entries = self._sorted.get(table, {}).get(name)
                if entries is not None:
                    entries.update([pair for pair, n in delta.items() if n < 0],
                                   [pair for pair, n in delta.items() if n > 0])

    def _set_aside_for_later(self, ops: list[list[Any]]) -> list[list[Any]]:
        """Keep the operations on tables not read yet for when they are (each table's own operations stay
        in order, and operations on different tables never depend on each other); the rest are applied
        now. The table's version changes now all the same."""
        now = []
        for op in ops:
            later = self._later.get(op[1])
            if later is None:
                now.append(op)
            else:
                later.pending.append(op)
                self._versions[op[1]] = next(self._version_counter)
        return now

    def _read_later(self, table: str, steps: TableSteps) -> None:
        """Leave ``table`` unread until it is first used or :meth:`load_later` reads it (``steps``)."""
        self._later[table] = _Later(steps, [])

    def _step_later(self, table: str) -> bool:
        """One step of reading ``table``; True once it is in memory with every write set aside for it."""
        later = self._later.get(table)
        if later is None:
            return True
        if later.failure is not None:
            raise later.failure
        try:
            next(later.steps)
            return False
        except StopIteration as done:
            texts, index = done.value
        except Exception:  # the index file's part was checked at open: only a defect gets here
            try:
                texts, index = self._read_later_again(table)
            except BaseException as exc:
                later.failure = exc
                raise
        del self._later[table]
        if texts:
            self._tables[table] = texts
        self._versions[table] = next(self._version_counter)
        if table in self.indexes:
            self._index[table] = {name: index.get(name, {}) for name in self.indexes[table]}
        self._sorted.pop(table, None)
        self._decoded.pop(table, None)
        if later.pending:
            self._apply_in_memory(later.pending)
        return True

    def _read_later_again(self, table: str) -> tuple[Texts, dict[str, Entries]]:
        """A table whose reading failed after open: read it the slow way (the engine's; it raises what
        makes the store unusable)."""
        raise NotImplementedError

    def _ready(self, table: str) -> None:
        """Read ``table`` now if it was left for later (a read of it must see the whole table)."""
        if isinstance(table, str) and table in self._later:  # a bad name is refused by the read itself
            while not self._step_later(table):
                pass

    def _ready_all(self) -> None:
        for table in list(self._later):
            self._ready(table)

    async def load_later(self) -> None:
        """Read the tables left for later a step at a time, letting the event loop run between steps (a
        step is a few thousand documents), so that turns go on meanwhile; then cut the texts of the tables
        held as :class:`SnapshotTexts` that no read has cut yet, and hold those tables as plain dicts."""
        for table in list(self._later):
            for _ in iter(functools.partial(self._step_later, table), True):
                await asyncio.sleep(0)
        for table, texts in list(self._tables.items()):
            if type(texts) is SnapshotTexts:
                for _ in iter(functools.partial(texts.cut_some, STEP_ITEMS), True):
                    await asyncio.sleep(0)
                if self._tables.get(table) is texts:  # not loaded again meanwhile
                    self._tables[table] = texts.as_dict()

    def loading(self) -> tuple[str, ...]:
        return tuple(self._later)

    def _put(self, table: str, doc_id: str, doc: dict[str, Any]) -> None:
        docs = self._tables.get(table)
        if docs is None:
            docs = self._tables[table] = {}
        old_text = docs.get(doc_id)
        docs[doc_id] = _encode(doc)
        self._versions[table] = next(self._version_counter)
        self._forget_decoded(table, doc_id)
        index = self._index.get(table)
        reorder = table in self._sorted
        old = _decode(old_text) if old_text is not None and (index or reorder) else None
        if reorder:
            self._reorder(table, doc_id, old, doc)
        if not index:
            return
        for field_name, entries in index.items():
            new_value = doc.get(field_name, _MISSING)
            new_key = _MISSING if new_value is _MISSING else _index_key(new_value)
            if old is not None:
                old_value = old.get(field_name, _MISSING)
                if old_value is not _MISSING:
                    old_key = _index_key(old_value)
                    if new_key is not _MISSING and old_key == new_key:
                        continue
                    self._unindex(entries, old_key, doc_id)
            if new_key is not _MISSING:
                self._add_id(entries, new_key, doc_id)

    def _delete(self, table: str, doc_id: str) -> None:
        docs = self._tables.get(table)
        old_text = docs.pop(doc_id, None) if docs is not None else None
        if old_text is None:
            return
        old = _decode(old_text)
        self._versions[table] = next(self._version_counter)
        self._forget_decoded(table, doc_id)
        if table in self._sorted:
            self._reorder(table, doc_id, old, None)
        for field_name, entries in self._index.get(table, {}).items():
            if field_name in old:
                self._unindex(entries, _index_key(old[field_name]), doc_id)

    def _reorder(self, table: str, doc_id: str, old: Document | None, new: Document | None) -> None:
        """Move ``doc_id`` within each ordering of ``table`` (at the end of the batch being applied)."""
        for name, entries in self._sorted[table].items():
            keys = self.orderings[table][name]
            before = sorted(set(keys(old))) if old is not None else []
            after = sorted(set(keys(new))) if new is not None else []
            if before == after:
                continue
            if self._moves is None:  # a change outside a batch (another instance's, read back)
                entries.update([(key, doc_id) for key in before], [(key, doc_id) for key in after])
                continue
            delta = self._moves.setdefault((table, name), {})
            for key in before:
                delta[key, doc_id] = delta.get((key, doc_id), 0) - 1
            for key in after:
                delta[key, doc_id] = delta.get((key, doc_id), 0) + 1

    def _add_id(self, entries: dict[Any, Ids], key: Any, doc_id: str) -> None:
        ids = entries.get(key)
        if ids is None:
            entries[key] = doc_id
        elif isinstance(ids, str):
            if ids != doc_id:
                entries[key] = Several((ids, doc_id), self._epoch)
        elif doc_id not in ids:
            self._changeable(entries, key, ids)[doc_id] = None

    def _unindex(self, entries: dict[Any, Ids], key: Any, doc_id: str) -> None:
        ids = entries.get(key)
        if ids is None:
            return
        if isinstance(ids, str):
            if ids == doc_id:
                del entries[key]
            return
        if doc_id not in ids:
            return
        if len(ids) > 2:
            del self._changeable(entries, key, ids)[doc_id]
            return
        rest = [i for i in ids if i != doc_id]
        if rest:
            entries[key] = rest[0]
        else:
            del entries[key]

    def _changeable(self, entries: dict[Any, Ids], key: Any, ids: dict[str, None]) -> dict[str, None]:
        """``ids``, or a copy of it put in its place when a copy of the indexes may hold it."""
        if type(ids) is Several and ids.epoch == self._epoch:
            return ids
        own = entries[key] = Several(ids, self._epoch)
        return own

    # ---------------------------------------------------------------------------------- reads

    def get(self, table: str, doc_id: str) -> Document | None:
        """Return a copy of one document, or None."""
        if self._later:
            self._ready(table)
        raw = self._tables.get(check_table(table), {}).get(check_doc_id(doc_id))
        return None if raw is None else _decode(raw)

    def all(self, table: str) -> list[Document]:
        """Return copies of every document of ``table``."""
        if self._later:
            self._ready(table)
        return [_decode(doc) for doc in self._tables.get(check_table(table), {}).values()]

    def find(self, table: str, field_name: str, value: Any) -> list[Document]:
        """Return copies of the documents whose ``field_name`` equals ``value``.

        An indexed field (or ``"id"``) is answered from the index; any other field is scanned, as
        TinyDB's ``where(field) == value`` would (counted in ``stats.scans``).
        """
        if self._later:
            self._ready(table)
        check_table(table)
        check_name(field_name, ERR_FIELD_NAME)
        docs = self._tables.get(table, {})
        if field_name == ID_FIELD:
            found = docs.get(value) if isinstance(value, str) else None
            return [] if found is None else [_decode(found)]
        entries = self._index.get(table, {}).get(field_name)
        if entries is not None:
            return [_decode(docs[i]) for i in _ids(entries, value)]
        self.stats.scans += 1
        found_docs = []
        for text in docs.values():
            doc = _decode(text)
            if field_name in doc and doc[field_name] == value:
                found_docs.append(doc)
        return found_docs

    def find_ids(self, table: str, field_name: str, value: Any) -> list[str]:
        """Ids matching ``field_name == value``: straight from the index (in indexing order), no copies."""
        if self._later:
            self._ready(table)
        entries = self._index.get(check_table(table), {}).get(check_name(field_name, ERR_FIELD_NAME))
        if entries is None:
            return super().find_ids(table, field_name, value)
        return list(_ids(entries, value))

    def count(self, table: str, field_name: str, value: Any) -> int:
        """How many documents match ``field_name == value``: the size of an index entry, O(1)."""
        if self._later:
            self._ready(table)
        entries = self._index.get(check_table(table), {}).get(check_name(field_name, ERR_FIELD_NAME))
        if entries is None:
            return super().count(table, field_name, value)
        return len(_ids(entries, value))

    # ------------------------------------------------------------------------- decoded reads

    def _forget_decoded(self, table: str, doc_id: str) -> None:
        cached = self._decoded.get(table)
        if cached:
            for entries in cached.values():
                entries.pop(doc_id, None)

    def _decoded_of(self, table: str, decode: Decoder[T], doc_id: str, raw: str) -> T:
        """The decoded object of stored document ``raw``, decoded once per version of the document.

        A write stores a new text, so the cache entry is valid exactly while it was made from the very
        text now stored (``is``); writes also drop it.
        """
        by_decoder = self._decoded.get(table)
        if by_decoder is None:
            by_decoder = self._decoded[table] = {}
        entries = by_decoder.get(decode)
        if entries is None:
            entries = by_decoder[decode] = {}
        entry = entries.get(doc_id)
        if entry is not None and entry[0] is raw:
            return entry[1]  # type: ignore[no-any-return]  # what ``decode`` (keyed above) returned: a T
        value = decode(_decode(raw))
        entries[doc_id] = (raw, value)
        return value

    def get_decoded(self, table: str, doc_id: str, decode: Decoder[T]) -> T | None:
        """``decode`` of one document, decoded once per version of it (``decode`` must return an
        immutable value: every reader gets the same object until the document changes)."""
        if self._later:
            self._ready(table)
        raw = self._tables.get(check_table(table), {}).get(check_doc_id(doc_id))
        return None if raw is None else self._decoded_of(table, decode, doc_id, raw)

    def all_decoded(self, table: str, decode: Decoder[T]) -> list[T]:
        """``decode`` of every document of ``table`` (cached per document version)."""
        if self._later:
            self._ready(table)
        docs = self._tables.get(check_table(table), {})
        return [self._decoded_of(table, decode, i, raw) for i, raw in docs.items()]

    def find_decoded(self, table: str, field_name: str, value: Any, decode: Decoder[T]) -> list[T]:
        """``decode`` of the documents :meth:`find` returns, in its order (cached per document version
        when the field is indexed; a scan decodes what it finds)."""
        if self._later:
            self._ready(table)
        check_table(table)
        check_name(field_name, ERR_FIELD_NAME)
        docs = self._tables.get(table, {})
        if field_name == ID_FIELD:
            found = docs.get(value) if isinstance(value, str) else None
            return [] if found is None else [self._decoded_of(table, decode, value, found)]
        entries = self._index.get(table, {}).get(field_name)
        if entries is None:
            return super().find_decoded(table, field_name, value, decode)
        return [self._decoded_of(table, decode, i, docs[i]) for i in _ids(entries, value)]

    def order_by(self, table: str, name: str, keys: Ordering, *, listed_only_with: str = "") -> None:
        """Declare an ordering. It is sorted when a page of it is first asked for (O(n log n): a process
        that never shows a page, such as an import, never pays for it); from then on every write keeps
        it sorted, so a page costs two binary searches and a slice. With ``listed_only_with``, that
        first sort decodes only the documents whose text holds it."""
        declared = self.orderings.get(check_table(table), {}).get(name)
        if declared is keys and self.ordering_needs.get(table, {}).get(name) == listed_only_with:
            return  # already declared
        super().order_by(table, name, keys, listed_only_with=listed_only_with)
        self._sorted.get(table, {}).pop(name, None)  # a new key function: sorted again when next asked

    def _sort(self, table: str, name: str, keys: Ordering) -> None:
        needs = self.ordering_needs.get(table, {}).get(name, "")
        self._sorted.setdefault(table, {})[name] = SortedEntries(_entries(self._tables.get(table, {}), keys, needs))

    def _ordered_entries(self, table: str, name: str) -> SortedEntries:
        if self._later:
            self._ready(table)
        entries = self._sorted.get(table, {}).get(name)
        if entries is None or type(entries) is _MovesMeanwhile:  # a page cannot wait for the worker thread
            self._sort(table, name, self.orderings[table][name])
            entries = self._sorted[table][name]
        return entries

    async def prepare_ordering(self, table: str, name: str) -> None:
        """Sort the ordering in a worker thread (see :meth:`order_by`), from a copy of the table's
        texts, as compaction encodes one: memory is only ever touched on the event loop. The writes
        that land meanwhile are recorded in its place (:class:`_MovesMeanwhile`) and replayed on the
        sorted entries once they are in; a page asked for meanwhile sorts on the loop as before, and
        what the thread sorted is then dropped, as it is when the ordering is declared again or the
        store reloads its tables."""
        await super().prepare_ordering(table, name)
        if table in self._later:  # read first, between turns as load_later reads it
            for _ in iter(functools.partial(self._step_later, table), True):
                await asyncio.sleep(0)
        if self._sorted.get(table, {}).get(name) is not None:
            return  # sorted, or being sorted
        keys = self.orderings[table][name]
        needs = self.ordering_needs.get(table, {}).get(name, "")
        moves = self._sorted.setdefault(table, {})[name] = _MovesMeanwhile()
        try:
            entries = await asyncio.to_thread(_sorted_in_pieces, self._tables.get(table, {}).copy(), keys, needs)
        except BaseException:
            if self._sorted.get(table, {}).get(name) is moves:
                del self._sorted[table][name]
            raise
        if self._sorted.get(table, {}).get(name) is not moves:
            return  # sorted on the loop meanwhile, declared again, or the tables were loaded again
        for removed, added in moves.moves:
            entries.update(removed, added)
        self._sorted[table][name] = entries

    def table_names(self) -> list[str]:
        """Names of the tables that hold at least one document."""
        self._ready_all()
        return sorted(name for name, docs in self._tables.items() if docs)

    def table_version(self, table: str) -> int:
        """Changes on every put or delete in ``table`` (a store-wide counter: never repeats)."""
        return self._versions.get(table, 0)

    def frozen_tables(self) -> dict[str, DocumentTexts]:  # type: ignore[override]
        """A consistent view of every table, for encoding in another thread (backup, compaction).

        Each table is a mapping over a copy of its texts, decoded as they are read (the snapshot's
        encoder writes the texts as they are); writers going on meanwhile do not change it.
        """
        self._ready_all()
        return {name: DocumentTexts(docs.copy()) for name, docs in self._tables.items() if docs}

    def dump(self) -> dict[str, dict[str, Document]]:
        """Every table as ``{table: {doc_id: doc}}`` (copies)."""
        self._ready_all()
        return {name: {i: _decode(d) for i, d in docs.items()} for name, docs in self._tables.items() if docs}
