"""A journaled batch is encoded once: the text written to the journal is the JSON of the very ops the
store applies, in the journal's form (compact UTF-8), whatever the documents hold."""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any

import pytest

from services.storage import Delete, Put
from services.storage._common import ERR_NOT_JSON, normalize_batch, normalize_ops
from services.storage.journal import _record_at, frame_record

BATCHES: list[list[Any]] = [
    [Put("people", "p1", {"name": "Ada"})],
    [Put("people", "p1", {"id": "p1", "name": "Ada"})],  # an id of its own stays where it was
    [Put("people", "p1", {"name": "Ada", "id": "p1", "tags": ("x", 1)})],  # tuples become lists
    [Put("合作伙伴", "人-1", {"名称": "权益 \u2028 \"q\" \\ \n", "n": 1.5, "big": 10**30, "ok": True, "no": None})],
    [Put("t", "a", OrderedDict([("b", {"c": [1, {"d": []}]}), ("e", {})])), Delete("t", "z")],
    [Delete("people", "p1"), Delete("t", "x\"y")],
    [Put("t", "a", {1: "int keys become strings", "ж": "b"})],
    [],
]


@pytest.mark.parametrize("ops", BATCHES)
def test_the_batch_text_is_the_json_of_the_normalized_ops(ops: list[Any]) -> None:
    normalized, text = normalize_batch(ops)
    assert normalized == normalize_ops(ops)
    # byte for byte what encoding the ops afterwards in the journal's form gives
    assert text == json.dumps(normalized, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    assert json.loads(text) == normalized
    framed = frame_record(text)
    assert _record_at(framed, 0) == (normalized, len(framed))  # the journal reads the batch back


def test_the_stored_copy_shares_nothing_with_the_callers_document() -> None:
    doc = {"name": "Ada", "nested": {"list": [1, 2]}}
    normalized, _ = normalize_batch([Put("people", "p1", doc)])
    stored = normalized[0][3]
    assert stored == {"name": "Ada", "nested": {"list": [1, 2]}, "id": "p1"}
    assert stored["nested"] is not doc["nested"] and stored["nested"]["list"] is not doc["nested"]["list"]
    assert "id" not in doc  # the caller's document is not changed


@pytest.mark.parametrize("doc", [{"x": float("nan")}, {"x": float("inf")}, {"x": object()}, {"x": {1, 2}}])
def test_what_json_cannot_hold_is_refused(doc: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=ERR_NOT_JSON):
        normalize_batch([Put("t", "a", doc)])
