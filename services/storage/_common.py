"""What every storage engine shares: op validation, JSON copies and the TinyDB flavour we use.

Both engines must refuse the same bad input with the same errors and hand out documents that callers
cannot use to reach into the store, so those rules live here once. TinyDB keys documents by ``int``
ids; the bot's ids are strings (``"person-42"``), so :class:`StrIdTinyDB` is TinyDB with a
``Table`` whose ``document_id_class`` is ``str``: it opens the stock engine's file and every snapshot
of the journaled engine.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from tinydb import TinyDB
from tinydb.table import Table

from services.storage.base import Delete, Op, Put

ERR_TABLE_NAME = "table name must be a non-empty string"
ERR_DOC_ID = "document id must be a non-empty string"
ERR_NOT_MAPPING = "document must be a mapping"
ERR_NOT_JSON = "document is not JSON-serializable"
ERR_ID_MISMATCH = 'document carries an "id" that differs from its doc_id'
ERR_NOT_OP = "a batch holds only Put and Delete operations"
ERR_NOT_SEQUENCE = "ops must be a sequence of Put and Delete"
ERR_FIELD_NAME = "field name must be a non-empty string"

ID_FIELD = "id"


class StrIdTable(Table):
    """A TinyDB table whose document ids are strings, as the bot's ids are."""

    document_id_class = str  # type: ignore[assignment]  # TinyDB declares int, and takes any hashable id class


class StrIdTinyDB(TinyDB):
    """TinyDB whose tables key documents by string ids (see :class:`StrIdTable`)."""

    table_class = StrIdTable


def check_name(name: object, error: str) -> str:
    """Return ``name`` when it is a non-empty string.

    Raises:
        ValueError: ``error``, when it is not.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(error)
    return name


def check_table(table: object) -> str:
    """Return ``table`` when it is a valid table name, else raise ``ValueError``."""
    return check_name(table, ERR_TABLE_NAME)


def check_doc_id(doc_id: object) -> str:
    """Return ``doc_id`` when it is a valid document id, else raise ``ValueError``."""
    return check_name(doc_id, ERR_DOC_ID)


#: the JSON form of a batch in the journal: compact UTF-8, and no NaN or Infinity (not JSON). One
#: encoder object for every write (``json.dumps`` with options builds a new one per call).
_BATCH_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def normalize_ops(ops: Sequence[Op]) -> list[list[Any]]:
    """Validate a batch and turn it into plain JSON values (the journal's wire form).

    A ``Put`` becomes ``["put", table, doc_id, doc]`` where ``doc`` is a fresh JSON copy carrying
    its id under ``"id"``; a ``Delete`` becomes ``["del", table, doc_id]``. Round-tripping through
    JSON here means the store keeps exactly what a reload would read back (tuples become lists,
    keys become strings) and never aliases an object of the caller.

    Raises:
        ValueError: an empty table name or id, a document that is not a JSON object, an ``"id"``
            that contradicts ``doc_id``, or something else than ``Put``/``Delete`` in the batch.
    """
    return normalize_batch(ops)[0]


def normalize_batch(ops: Sequence[Op]) -> tuple[list[list[Any]], str]:
    """:func:`normalize_ops` and the JSON text of its result (compact UTF-8, what the journal holds),
    for a writer that journals the batch: each document is encoded once, for its copy and the journal
    alike."""
    if isinstance(ops, (str, bytes, Mapping)) or not isinstance(ops, Sequence):
        raise ValueError(ERR_NOT_SEQUENCE)
    out: list[list[Any]] = []
    texts: list[str] = []
    encode = _BATCH_JSON.encode
    for op in ops:
        if isinstance(op, Put):
            table, doc_id = check_table(op.table), check_doc_id(op.doc_id)
            if not isinstance(op.doc, Mapping):
                raise ValueError(ERR_NOT_MAPPING)
            if ID_FIELD in op.doc and op.doc[ID_FIELD] != doc_id:
                raise ValueError(ERR_ID_MISMATCH)
            doc = dict(op.doc)
            doc[ID_FIELD] = doc_id  # where a copy made first and given its id would hold it
            try:
                text = encode(doc)
            except (TypeError, ValueError) as exc:
                raise ValueError(ERR_NOT_JSON) from exc
            out.append(["put", table, doc_id, json.loads(text)])
            texts.append(f'["put",{encode(table)},{encode(doc_id)},{text}]')
        elif isinstance(op, Delete):
            table, doc_id = check_table(op.table), check_doc_id(op.doc_id)
            out.append(["del", table, doc_id])
            texts.append(f'["del",{encode(table)},{encode(doc_id)}]')
        else:
            raise ValueError(ERR_NOT_OP)
    return out, "[" + ",".join(texts) + "]"


def clone(value: Any) -> Any:
    """Deep-copy a JSON value (dicts, lists, scalars), without ``copy.deepcopy``'s memo and dispatch."""
    kind = type(value)
    if kind is dict:
        return {k: clone(v) for k, v in value.items()}
    if kind is list:
        return [clone(v) for v in value]
    return value

