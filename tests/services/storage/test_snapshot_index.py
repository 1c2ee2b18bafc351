"""The index file beside a snapshot: a start that trusts it must rebuild exactly what decoding the snapshot
rebuilds, and must trust it only when it was made from that very snapshot for these indexes.

Each test compares a store opened through the index file with one opened from a copy of the same files
without it (every document decoded): the documents, the indexes (the ids under each value, in their
order), which table changed last, and what reads return.
"""

from __future__ import annotations

import json
import logging
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from services.storage import Delete, JournaledTinyStore, Put
from services.storage.memory import MemoryTables
from services.storage.snapshot import cut_texts, snapshot_documents, snapshot_layout
from tests._common.storage import contents

pytestmark = pytest.mark.usefixtures("both_ways_of_cutting")  # see the fixture

ROOT = Path(__file__).resolve().parents[3]
INDEXES = {"people": ["email", "tags", "level"], "audit": ["subject_id"], "empty": ["x"]}
# ids and values that a layout cut by hand could get wrong: quotes, backslashes, newlines, other scripts
ODD_IDS = ['p"quoted"', "p\\back\\slash", "p\nnew:line", "張偉", 'p":{"x":1}']


def batches() -> list[list[Any]]:
    people = [Put("people", f"p{i:03d}", {"name": f"Person {i}", "email": f"p{i % 40}@contoso.com",
                                          "tags": ["a", "b"] if i % 3 else {"k": i % 2}, "level": [1, 2.5, True,
                                          None, "1"][i % 5]})
              for i in range(120)]
    odd = [Put("people", doc_id, {"name": doc_id, "email": "odd@contoso.com", "level": i})
           for i, doc_id in enumerate(ODD_IDS)]
    audit = [Put("audit", f"a{i:04d}", {"subject_id": f"p{i % 7:03d}", "note": "變更 \u2028 line"})
             for i in range(300)]
    return [people, odd, audit, [Delete("people", "p005"), Put("people", "p006", {"email": "moved@contoso.com"})]]


async def compacted_store(path: Path) -> None:
    """A store whose newest snapshot (with its index file) holds every batch, and a journal after it."""
    store = JournaledTinyStore(path, INDEXES)
    for batch in batches():
        await store.apply(batch)
    await store.compact()
    await store.apply([Put("people", "late", {"email": "p1@contoso.com", "tags": ["a", "b"]})])
    await store.close()


def index_file(path: Path, gen: int) -> Path:
    return path.with_name(f"{path.stem}.g{gen:08d}.index")


def snapshot_file(path: Path, gen: int) -> Path:
    return path.with_name(f"{path.stem}.g{gen:08d}.json")


def state(store: JournaledTinyStore) -> dict[str, Any]:
    """Everything a start rebuilds, orders included."""
    index = {table: {field: sorted(([repr(k), [v] if isinstance(v, str) else list(v)] for k, v in entries.items()))
                     for field, entries in by_field.items()}
             for table, by_field in store._index.items()}
    tables = {table: list(docs.items()) for table, docs in store._tables.items()}
    versions = sorted(store._versions, key=store._versions.__getitem__)
    finds = {value: [d["id"] for d in store.find("people", "email", value)]
             for value in ("p1@contoso.com", "odd@contoso.com", "moved@contoso.com")}
    finds["tags"] = [d["id"] for d in store.find("people", "tags", ["a", "b"])]
    finds["object"] = [d["id"] for d in store.find("people", "tags", {"k": 0})]
    finds["true"] = [d["id"] for d in store.find("people", "level", True)]
    finds["none"] = [d["id"] for d in store.find("people", "level", None)]
    return {"tables": tables, "index": index, "versions": versions, "finds": finds, "dump": contents(store)}


def decoded_copy(path: Path, target: Path) -> dict[str, Any]:
    """The state of a copy of the store's files without its index files: every document decoded."""
    shutil.copytree(path.parent, target)
    for found in target.glob("*.index"):
        found.unlink()
    store = JournaledTinyStore(target / path.name, INDEXES)
    try:
        return state(store)
    finally:
        store._unlock()


class CountingLoads:
    """Counts the snapshots a start decodes document by document."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = MemoryTables._load_snapshot

        def load(store: MemoryTables, snapshot: Path) -> bool:
            self.calls += 1
            return original(store, snapshot)

        monkeypatch.setattr(MemoryTables, "_load_snapshot", load)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "benefits.json"


async def test_a_matching_index_file_rebuilds_what_decoding_does(path: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    await compacted_store(path)
    assert index_file(path, 2).is_file()
    loads = CountingLoads(monkeypatch)
    store = JournaledTinyStore(path, INDEXES)
    try:
        assert loads.calls == 0  # no document decoded
        fast = state(store)
    finally:
        await store.close()
    slow = decoded_copy(path, tmp_path / "copy")
    assert loads.calls == 1
    assert fast == slow
    assert fast["finds"]["odd@contoso.com"] == ODD_IDS
    assert fast["finds"]["p1@contoso.com"] == ["p001", "p041", "p081", "late"]


async def test_the_cut_texts_are_the_documents_texts(path: Path) -> None:
    await compacted_store(path)
    snapshot = snapshot_file(path, 2)
    expected = decoded_texts(snapshot)
    data = snapshot.read_bytes()
    layout = snapshot_layout(data)
    tables = cut_texts(data, layout)
    assert {t: {i: json.loads(text) for i, text in docs.items()} for t, docs in tables.items()} == expected
    assert [list(docs) for docs in tables.values()] == [list(docs) for docs in expected.values()]  # in order
    assert set(ODD_IDS) <= set(tables["people"])
    assert snapshot_layout(b"{}") == []


def decoded_texts(snapshot: Path) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for table, doc_id, doc, _ in snapshot_documents(snapshot):
        found.setdefault(table, {})[doc_id] = doc
    return found


async def test_a_start_without_an_index_file_decodes_and_writes_one(path: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    await compacted_store(path)
    index_file(path, 2).unlink()
    loads = CountingLoads(monkeypatch)
    store = JournaledTinyStore(path, INDEXES)
    first = state(store)
    await store.close()
    assert loads.calls == 1 and index_file(path, 2).is_file()
    store = JournaledTinyStore(path, INDEXES)
    try:
        assert loads.calls == 1  # the next start uses it
        assert state(store) == first
    finally:
        await store.close()


def damage(raw: bytes) -> list[bytes]:
    """Ways an index file can be wrong: torn, a flipped byte in its body, a document changed into another
    (still JSON), garbage, empty, a header naming another snapshot or generation."""
    head, _, body = raw.partition(b"\n")
    listed = b'"p1@contoso.com":[1,40,80]'  # the people of one email, by their place in the table
    assert listed in body
    middle = len(body) // 2
    flipped = body[:middle] + bytes([body[middle] ^ 0x01]) + body[middle + 1:]
    header = json.loads(head)
    moved = body.replace(listed, listed.replace(b"40", b"41"))
    return [raw[: len(raw) // 2], head + b"\n" + flipped, head + b"\n" + moved,
            b"garbage", b"",
            json.dumps({**header, "snapshot_crc32": header["snapshot_crc32"] ^ 1}).encode() + b"\n" + body,
            json.dumps({**header, "generation": 1}).encode() + b"\n" + body]


@pytest.mark.parametrize("case", range(7))
async def test_a_damaged_index_file_is_ignored(path: Path, tmp_path: Path, case: int,
                                               caplog: pytest.LogCaptureFixture,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    await compacted_store(path)
    expected = decoded_copy(path, tmp_path / "copy")
    good = index_file(path, 2).read_bytes()
    index_file(path, 2).write_bytes(damage(good)[case])
    with caplog.at_level(logging.WARNING):
        store = JournaledTinyStore(path, INDEXES)
    try:
        assert state(store) == expected
        assert store.health().quarantined == ()  # the snapshot is fine: nothing is moved aside
    finally:
        await store.close()
    assert any(getattr(r, "event", "") == "storage.index_ignored" for r in caplog.records)
    loads = CountingLoads(monkeypatch)  # written again from the decoded snapshot, for the next start
    store = JournaledTinyStore(path, INDEXES)
    try:
        assert state(store) == expected and loads.calls == 0
    finally:
        await store.close()


async def test_an_index_file_of_another_snapshot_is_ignored(path: Path, tmp_path: Path) -> None:
    """A snapshot replaced under the same name (a restored copy, a hand edit) keeps the old index file."""
    await compacted_store(path)
    stale = index_file(path, 2).read_bytes()
    other = tmp_path / "other" / "benefits.json"
    store = JournaledTinyStore(other, INDEXES)
    await store.apply([Put("people", "p001", {"email": "someone.else@contoso.com"})])
    await store.compact()
    await store.close()
    shutil.copy(snapshot_file(other, 2), snapshot_file(path, 2))
    index_file(path, 2).write_bytes(stale)
    expected = decoded_copy(path, tmp_path / "copy")
    store = JournaledTinyStore(path, INDEXES)
    try:
        assert state(store) == expected
        assert [d["id"] for d in store.find("people", "email", "p1@contoso.com")] == ["late"]
        assert store.find("people", "email", "someone.else@contoso.com")[0]["id"] == "p001"
    finally:
        await store.close()


async def test_an_index_file_made_for_other_indexes_is_ignored(path: Path) -> None:
    await compacted_store(path)
    indexes = {**INDEXES, "audit": ["subject_id", "note"]}
    store = JournaledTinyStore(path, indexes)
    try:
        assert [d["id"] for d in store.find("audit", "note", "變更 \u2028 line")][:2] == ["a0000", "a0001"]
        assert store.stats.scans == 0
    finally:
        await store.close()


@pytest.mark.parametrize("damage", ["control-character", "emptied"])
async def test_a_damaged_snapshot_is_still_found_whatever_its_index_file_says(path: Path, damage: str) -> None:
    await compacted_store(path)
    snapshot = snapshot_file(path, 2)
    raw = bytearray(snapshot.read_bytes())
    raw[len(raw) // 2] = ord("\x01")  # a control character: not JSON
    snapshot.write_bytes(bytes(raw) if damage == "control-character" else b"")  # an empty file cannot be mapped
    store = JournaledTinyStore(path, INDEXES)  # falls back to snapshot 1 and replays journals 1 and 2
    try:
        assert [Path(q).name.split(".corrupt-")[0] for q in store.health().quarantined] == [snapshot.name]
        assert store.get("people", "late") is not None and store.get("people", "p005") is None
    finally:
        await store.close()


CHILD = """
import asyncio, os, signal, sys
from services.storage import JournaledTinyStore, Put
import services.storage.recovery as recovery

def killed(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

async def main():
    store = JournaledTinyStore(sys.argv[1], {"people": ["email"]})
    for i in range(50):
        await store.apply([Put("people", f"p{i}", {"email": f"e{i % 5}"})])
        print("ACK", i, flush=True)
    recovery.write_index_file = killed  # the snapshot is in place: die before its index file is
    await store.compact()

asyncio.run(main())
"""


def test_a_kill_between_the_snapshot_and_its_index_file_loses_nothing(path: Path) -> None:
    path.parent.mkdir(parents=True)
    child = subprocess.run([sys.executable, "-c", textwrap.dedent(CHILD), str(path)], cwd=ROOT,
                           capture_output=True, text=True, timeout=120, check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert child.stdout.count("ACK") == 50
    assert snapshot_file(path, 2).is_file() and not index_file(path, 2).exists()
    for _ in range(2):  # decoded (and the index file written), then through the index file
        store = JournaledTinyStore(path, {"people": ["email"]})
        assert len(store.all("people")) == 50
        assert [d["id"] for d in store.find("people", "email", "e3")] == [f"p{i}" for i in range(3, 50, 5)]
        store._unlock()
        assert index_file(path, 2).is_file()


async def test_writes_after_the_indexes_were_copied_leave_the_copy_alone(path: Path) -> None:
    """Compaction encodes its copy of the indexes in another thread while writes go on."""
    store = JournaledTinyStore(path, INDEXES)
    try:
        for batch in batches():
            await store.apply(batch)
        frozen = store._frozen_index()
        before = json.loads(json.dumps({t: {f: {repr(k): v if isinstance(v, str) else list(v) for k, v in e.items()}
                                            for f, e in by_field.items()} for t, by_field in frozen.items()}))
        await store.apply([Put("people", "new", {"email": "p1@contoso.com"}), Delete("people", "p041"),
                           Delete("audit", "a0000"), Put("audit", "a9999", {"subject_id": "p000"})])
        after = {t: {f: {repr(k): v if isinstance(v, str) else list(v) for k, v in e.items()}
                     for f, e in by_field.items()} for t, by_field in frozen.items()}
        assert after == before
        assert [d["id"] for d in store.find("people", "email", "p1@contoso.com")] == ["p001", "p081", "new"]
        assert store.find_ids("audit", "subject_id", "p000")[-1] == "a9999"
    finally:
        await store.close()


async def test_the_index_file_is_written_in_short_lines(path: Path) -> None:
    """Each line of the index file is one short call of the JSON encoder (compaction writes it in a thread
    while the loop serves turns) and one short step of a start that reads it later."""
    from services.storage.snapshot_index import STEP_ITEMS

    store = JournaledTinyStore(path, INDEXES)
    try:
        await store.apply([Put("people", f"p{i:05d}", {"email": f"p{i % 9000}@contoso.com", "level": i % 3})
                           for i in range(2 * STEP_ITEMS + 1)])
        await store.compact()
    finally:
        await store.close()
    lines = index_file(path, 2).read_bytes().split(b"\n")
    assert len(lines) > 8 and max(map(len, lines)) < 40 * STEP_ITEMS
    store = JournaledTinyStore(path, INDEXES)  # read back through it
    try:
        assert [d["id"] for d in store.find("people", "email", "p1@contoso.com")] == ["p00001", "p09001"]
        assert len(store.find_ids("people", "level", 2)) == (2 * STEP_ITEMS + 1) // 3
    finally:
        await store.close()
