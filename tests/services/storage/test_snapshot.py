"""Snapshot encoding (``services.storage.snapshot``): chunked output is the same TinyDB JSON as one
``json.dumps``, and writing it streams the chunks into one atomically replaced file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.storage.snapshot import (
    SNAPSHOT_CHUNK,
    SnapshotStorage,
    encode_snapshot,
    parse_snapshot,
    snapshot_chunks,
    write_atomically,
)


def tables(people: int) -> dict[str, dict[str, dict[str, object]]]:
    return {
        "people": {f"p{i}": {"id": f"p{i}", "name": f"權益 {i}", "n": i, "tags": ["a", {"b": None}]}
                   for i in range(people)},
        "empty": {},
        "benefits": {"b1": {"id": "b1", "ok": True, "x": 1.5}},
    }


@pytest.mark.parametrize("people", [0, 1, SNAPSHOT_CHUNK, SNAPSHOT_CHUNK + 1, 3 * SNAPSHOT_CHUNK + 7])
def test_chunks_are_the_tables_as_json(people: int) -> None:
    data = tables(people)
    expected = {name: docs for name, docs in data.items() if docs}
    assert json.loads(encode_snapshot(data)) == expected == parse_snapshot(b"".join(snapshot_chunks(data)))
    assert len(list(snapshot_chunks(data))) > (people // SNAPSHOT_CHUNK)  # several chunks for a big table


def test_no_tables_is_an_empty_object() -> None:
    assert encode_snapshot({}) == b"{}" and encode_snapshot({"empty": {}}) == b"{}"


def test_storage_writes_the_chunks_into_one_file(tmp_path: Path) -> None:
    storage = SnapshotStorage(tmp_path / "snap.json")
    storage.write(tables(2 * SNAPSHOT_CHUNK + 3))
    assert storage.read() == {k: v for k, v in tables(2 * SNAPSHOT_CHUNK + 3).items() if v}
    assert not (tmp_path / "snap.json.tmp").exists()


def test_write_atomically_takes_bytes_or_chunks(tmp_path: Path) -> None:
    write_atomically(tmp_path / "a", b"whole")
    write_atomically(tmp_path / "b", iter([b"in ", b"", b"chunks"]))
    assert (tmp_path / "a").read_bytes() == b"whole" and (tmp_path / "b").read_bytes() == b"in chunks"
