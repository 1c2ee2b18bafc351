"""Snapshot encoding (``services.storage.snapshot``): chunked output is the same TinyDB JSON as one
``json.dumps``, and writing it streams the chunks into one atomically replaced file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.storage.snapshot import (
    SNAPSHOT_CHUNK,
    SnapshotCorruptError,
    SnapshotStorage,
    cut_texts,
    encode_snapshot,
    parse_snapshot,
    snapshot_chunks,
    snapshot_documents,
    snapshot_layout,
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


def test_the_documents_and_their_layout_are_read_alike(tmp_path: Path) -> None:
    """Both readers of the layout find the same documents: ids not all ASCII or with escapes included."""
    data = tables(3)
    data["people"].update({'權益 "引號"\\': {"name": "權益"}, "tab\there": {"n": 1}})
    path = tmp_path / "snap.json"
    path.write_bytes(encode_snapshot(data))
    read = list(snapshot_documents(path))
    assert all(text is not None for *_, text in read)  # read a line at a time, not whole
    assert {(t, i): doc for t, i, doc, _ in read} == {
        (t, i): doc for t, docs in parse_snapshot(path.read_bytes()).items() for i, doc in docs.items()}
    cut = cut_texts(path.read_bytes(), snapshot_layout(path.read_bytes()))
    assert [(t, i, text) for t, i, _, text in read] == [
        (t, i, text) for t, docs in cut.items() for i, text in docs.items()]


@pytest.mark.parametrize("lines", [
    [b'{"t":{', b'"a":{}', b'"b":{}', b"}}"],  # no comma between two documents
    [b'{"t":{', b'"a":{},', b"}}"],  # a comma before the end of the table
])
def test_lines_that_are_not_json_are_refused_by_both_readers(tmp_path: Path, lines: list[bytes]) -> None:
    path = tmp_path / "snap.json"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(ValueError):
        snapshot_layout(path.read_bytes())
    with pytest.raises(SnapshotCorruptError):
        list(snapshot_documents(path))


def test_a_table_listed_twice_has_no_layout() -> None:
    with pytest.raises(ValueError):
        snapshot_layout(b'{"t":{\n"a":{}\n},"t":{\n"b":{}\n}}')
