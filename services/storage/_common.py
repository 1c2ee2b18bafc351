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

from services.storage.base import Delete, Document, Op, Put

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

    document_id_class = str  # type: ignore[assignment]


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


def normalize_ops(ops: Sequence[Op]) -> list[list[Any]]:
    """Validate a batch and turn it into plain JSON values (the journal's wire form).

    A ``Put`` becomes ``["put", table, doc_id, doc]`` where ``doc`` is a fresh JSON copy carrying
    its id under ``"id"``; a ``Delete`` becomes ``["del", table, doc_id]``. Round-tripping through
    JSON here means the store keeps exactly what a reload would read back (tuples become lists,
    keys become strings) and never aliases an object of the caller.

    Args:
        ops: the batch.

    Returns:
        The batch as JSON-ready lists.

    Raises:
        ValueError: an empty table name or id, a document that is not a JSON object, an ``"id"``
            that contradicts ``doc_id``, or something else than ``Put``/``Delete`` in the batch.
    """
    if isinstance(ops, (str, bytes, Mapping)) or not isinstance(ops, Sequence):
        raise ValueError(ERR_NOT_SEQUENCE)
    out: list[list[Any]] = []
    for op in ops:
        if isinstance(op, Put):
            table, doc_id = check_table(op.table), check_doc_id(op.doc_id)
            if not isinstance(op.doc, Mapping):
                raise ValueError(ERR_NOT_MAPPING)
            if ID_FIELD in op.doc and op.doc[ID_FIELD] != doc_id:
                raise ValueError(ERR_ID_MISMATCH)
            try:
                doc = json.loads(json.dumps(dict(op.doc), allow_nan=False))
            except (TypeError, ValueError) as exc:
                raise ValueError(ERR_NOT_JSON) from exc
            doc[ID_FIELD] = doc_id
            out.append(["put", table, doc_id, doc])
        elif isinstance(op, Delete):
            out.append(["del", check_table(op.table), check_doc_id(op.doc_id)])
        else:
            raise ValueError(ERR_NOT_OP)
    return out


def clone(value: Any) -> Any:
    """Deep-copy a JSON value (dicts, lists, scalars); several times faster than ``copy.deepcopy``."""
    kind = type(value)
    if kind is dict:
        return {k: clone(v) for k, v in value.items()}
    if kind is list:
        return [clone(v) for v in value]
    return value


def to_document(doc_id: str, raw: Mapping[str, Any]) -> Document:
    """A caller's copy of a stored document, with its id under ``"id"``."""
    doc: Document = clone(dict(raw))
    doc[ID_FIELD] = doc_id
    return doc
