"""Helpers shared by the storage tests: opening either engine, and a dict model of the contract.

The model is the baseline every engine is compared with (as Agents-for-python's ``CRUDStorageTests``
compare each backend with a dict): ``replay`` applies batches to ``{table: {id: doc}}`` the way the
contract says.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from services.storage import Delete, DocumentStore, JournaledTinyStore, Op, Put
from tests._common.stock_store import StockTinyStore

Model = dict[str, dict[str, dict[str, Any]]]

ENGINES: dict[str, Callable[..., DocumentStore]] = {
    "stock": lambda path, indexes, **kw: StockTinyStore(path, indexes),
    "journaled": lambda path, indexes, **kw: JournaledTinyStore(path, indexes, **kw),
}


def replay(model: Model, ops: Iterable[Op]) -> Model:
    """Apply ``ops`` to ``model`` in place (documents carry their id) and return it."""
    for op in ops:
        if isinstance(op, Put):
            model.setdefault(op.table, {})[op.doc_id] = json.loads(json.dumps({**op.doc, "id": op.doc_id}))
        else:
            docs = model.get(op.table, {})
            docs.pop(op.doc_id, None)
    return model


def contents(store: DocumentStore) -> Model:
    """Everything in ``store`` as ``{table: {id: doc}}`` (empty tables left out)."""
    return {t: d for t, d in store.dump().items() if d}


def nonempty(model: Model) -> Model:
    """``model`` without empty tables (stores do not report them)."""
    return {t: d for t, d in model.items() if d}


def ops_to_json(ops: Sequence[Op]) -> list[list[Any]]:
    """Batch to a JSON line (the crash writer prints what it applied)."""
    return [
        ["put", o.table, o.doc_id, dict(o.doc)] if isinstance(o, Put) else ["del", o.table, o.doc_id]
        for o in ops
    ]


def ops_from_json(raw: Sequence[Sequence[Any]]) -> list[Op]:
    """Inverse of :func:`ops_to_json`."""
    return [Put(r[1], r[2], r[3]) if r[0] == "put" else Delete(r[1], r[2]) for r in raw]


def by_id(docs: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Documents sorted by id (engines do not promise an order)."""
    return sorted(docs, key=lambda d: d["id"])


def engine_files(path: Path) -> list[str]:
    """Names of the files beside ``path`` (for assertion messages)."""
    return sorted(p.name for p in path.parent.iterdir())
