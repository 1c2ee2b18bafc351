"""A large table's texts as a start adopts them through an index file: each cut out of the snapshot's
bytes when it is first read.

Why: at the size of a large organization, making a string of every person's text is a third of what a
start spends on the store, and a first turn reads a handful of them. A start through an index file has
checked the snapshot against the index file's size and CRC-32 (``IndexFile.check``) and knows where
each document's text is in it (the segment's spans), so it keeps the table's bytes and each document's
place, and cuts a text out when a read first asks for it. The store then cuts the rest between turns
(:meth:`SnapshotTexts.cut_some`, from ``MemoryTables.load_later``) and holds the table as a plain dict
again, so that the table costs what it did once the start is over.

A :class:`SnapshotTexts` is the store's table in the meantime: a mapping of every document's id to its
text, which writes change as they change a dict (a new text replaces the place of an uncut one, a new
id comes last), in the same order a dict would keep. Whatever reads every text (``values``, ``items``,
a copy) cuts the rest first.
"""

from __future__ import annotations

import array
import mmap
from collections.abc import ItemsView, Iterator, KeysView, MutableMapping, ValuesView
from typing import Any, cast

from services.storage.errors import StoreUnavailableError

#: a snapshot's bytes as read (``bytes``) or mapped (``mmap``: a start maps it rather than copying it in)
Buffer = bytes | mmap.mmap

_NOTHING: Any = object()


class SnapshotTexts(MutableMapping[str, str]):
    """``{doc_id: text}`` over the bytes of a table's documents in a snapshot; see the module's docstring.

    Each value is held as the text itself once it is cut (or written), else as the document's place in
    the segment's spans (an ``int``, never handed out).
    """

    __slots__ = ("_docs", "_ids", "_spans", "_data", "_uncut", "_cursor")

    def __init__(self, ids: list[str], spans: array.array[int], data: Buffer) -> None:
        """``ids``: the table's documents in order; ``spans``: where each one's text is in ``data``, the
        snapshot's bytes (start and end of the first, of the second, ...)."""
        self._docs: dict[str, str | int] = dict(zip(ids, range(len(ids)), strict=True))
        self._ids = ids
        self._spans = spans
        self._data: Buffer = data
        self._uncut = len(self._docs)
        self._cursor = 0

    def _text_at(self, doc_id: str, place: int) -> str:
        """The text at ``place`` (of ``doc_id``) in the bytes."""
        at = 2 * place
        try:
            return self._data[self._spans[at]:self._spans[at + 1]].decode()
        except UnicodeDecodeError as exc:  # the snapshot matched its index file's CRC-32: only a defect gets here
            raise StoreUnavailableError(f"the text of {doc_id!r} in the snapshot is not UTF-8") from exc

    def _cut(self, doc_id: str, place: int) -> str:
        """The text of ``doc_id`` (at ``place``), cut out of the bytes and held from now on."""
        text = self._docs[doc_id] = self._text_at(doc_id, place)
        self._one_cut()
        return text

    def _one_cut(self) -> None:
        self._uncut -= 1
        if not self._uncut:  # every text is held: the bytes are let go
            self._data = b""
            self._spans = array.array("I")
            self._ids = []

    @property
    def uncut(self) -> int:
        """How many texts are still only in the bytes."""
        return self._uncut

    def cut_some(self, count: int) -> bool:
        """Cut up to ``count`` of the texts not read yet, in the table's order; True once every text is
        held (then :meth:`as_dict` is the table)."""
        ids, docs, end = self._ids, self._docs, min(len(self._ids), self._cursor + count)
        for at in range(self._cursor, end):
            doc_id = ids[at]
            place = docs.get(doc_id)
            if type(place) is int:  # a place is only ever the document's own: written texts are str
                self._cut(doc_id, place)
        self._cursor = end
        if self._uncut and end >= len(ids):  # never: every place is the place of an id in ids
            raise StoreUnavailableError("a text of the snapshot was left uncut")
        return not self._uncut

    def as_dict(self) -> dict[str, str]:
        """The table as a plain dict, every text cut (the mapping itself: later writes change both)."""
        if self._uncut:
            self.cut_some(len(self._ids))
        return cast(dict[str, str], self._docs)

    # -- the mapping

    def __getitem__(self, doc_id: str) -> str:
        value = self._docs[doc_id]
        return self._cut(doc_id, value) if type(value) is int else cast(str, value)

    def get(self, doc_id: str, default: Any = None) -> Any:
        value = self._docs.get(doc_id, _NOTHING)
        if value is _NOTHING:
            return default
        return self._cut(doc_id, value) if type(value) is int else value

    def __setitem__(self, doc_id: str, text: str) -> None:
        if self._uncut and type(self._docs.get(doc_id)) is int:
            self._one_cut()
        self._docs[doc_id] = text

    def __delitem__(self, doc_id: str) -> None:
        self.pop(doc_id)

    def pop(self, doc_id: str, default: Any = _NOTHING) -> Any:
        """The text of ``doc_id`` (cut if it was not yet), removed."""
        value = self._docs.pop(doc_id, _NOTHING)
        if value is _NOTHING:
            if default is _NOTHING:
                raise KeyError(doc_id)
            return default
        if type(value) is int:
            text = self._text_at(doc_id, value)
            self._one_cut()
            return text
        return value

    def __contains__(self, doc_id: object) -> bool:
        return doc_id in self._docs

    def __iter__(self) -> Iterator[str]:
        return iter(self._docs)

    def __len__(self) -> int:
        return len(self._docs)

    def keys(self) -> KeysView[str]:
        return self._docs.keys()

    def values(self) -> ValuesView[str]:
        return self.as_dict().values()

    def items(self) -> ItemsView[str, str]:
        return self.as_dict().items()

    def copy(self) -> dict[str, str]:
        """A plain dict of every text (cut first)."""
        return self.as_dict().copy()
