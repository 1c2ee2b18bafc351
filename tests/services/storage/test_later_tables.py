"""Tables read after the start (``later``): a store opened so must answer every read and write exactly as
one that read everything at open, keep what it acknowledged through ``kill -9``, and still refuse a damaged
snapshot at open.

Each test opens a store through its index file with ``later=["audit"]`` and compares it with a store opened
from a copy of the same files that reads every table at open.
"""

from __future__ import annotations

import asyncio
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

import services.storage.snapshot_index as snapshot_index
from services.storage import Delete, JournaledTinyStore, Put
from services.storage.snapshot_index import IndexFileMismatch
from tests._common.storage import contents
from tests.services.storage.test_snapshot_index import INDEXES, batches, index_file, snapshot_file

pytestmark = pytest.mark.usefixtures("both_ways_of_cutting")  # see the fixture

ROOT = Path(__file__).resolve().parents[3]
LATER = ["audit"]


async def compacted_store(path: Path) -> None:
    """A snapshot with its index file holding every batch, then a journal that writes the audit trail too."""
    store = JournaledTinyStore(path, INDEXES)
    for batch in batches():
        await store.apply(batch)
    await store.compact()
    await store.apply([Put("audit", "a9000", {"subject_id": "p001", "note": "after the snapshot"}),
                       Delete("audit", "a0007"), Put("people", "late", {"email": "p1@contoso.com"})])
    await store.apply([Put("audit", "a0008", {"subject_id": "p003", "note": "changed after the snapshot"})])
    await store.close()


def state(store: JournaledTinyStore) -> dict[str, Any]:
    """What a reader of the audit trail sees (each read reads the table first if it was left for later)."""
    return {"subject p001": store.find_ids("audit", "subject_id", "p001"),
            "count p003": store.count("audit", "subject_id", "p003"),
            "a0008": store.get("audit", "a0008"), "a0007": store.get("audit", "a0007"),
            "all": sorted(d["id"] for d in store.all("audit")), "dump": contents(store)}


def eager_copy(path: Path, target: Path) -> dict[str, Any]:
    shutil.copytree(path.parent, target)
    store = JournaledTinyStore(target / path.name, INDEXES)
    try:
        assert store.loading() == ()
        return state(store)
    finally:
        store._unlock()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "benefits.json"


async def test_a_table_left_for_later_is_not_read_at_open_and_reads_the_same(path: Path, tmp_path: Path) -> None:
    await compacted_store(path)
    expected = eager_copy(path, tmp_path / "copy")
    store = JournaledTinyStore(path, INDEXES, later=LATER)
    try:
        assert store.loading() == ("audit",) and "audit" not in store._tables
        assert "reading audit" in store.health().detail
        assert store.get("people", "late") is not None and store.loading() == ("audit",)  # other tables: at once
        assert store.find_ids("audit", "subject_id", "p001")[-1] == "a9000"  # the first read reads it
        assert store.loading() == () and "reading" not in store.health().detail
        assert state(store) == expected
    finally:
        await store.close()


@pytest.mark.parametrize("read", ["get", "all", "find", "find_ids", "count", "ordered", "dump", "table_names"])
async def test_every_read_waits_for_the_table(path: Path, tmp_path: Path, read: str) -> None:
    await compacted_store(path)
    expected = eager_copy(path, tmp_path / "copy")
    store = JournaledTinyStore(path, INDEXES, later=LATER)
    try:
        store.order_by("audit", "by_id", lambda doc: [doc["id"]])
        calls = {"get": lambda: store.get("audit", "a0008"), "all": lambda: len(store.all("audit")),
                 "find": lambda: [d["id"] for d in store.find("audit", "subject_id", "p001")],
                 "find_ids": lambda: store.find_ids("audit", "subject_id", "p001"),
                 "count": lambda: store.count("audit", "subject_id", "p001"),
                 "ordered": lambda: store.ordered("audit", "by_id", "a9", 0, 5),
                 "dump": lambda: sorted(store.dump()["audit"]), "table_names": lambda: store.table_names()}
        answer = calls[read]()
        assert store.loading() == ()
        assert answer == calls[read]()  # the same once read
        assert state(store) == expected
    finally:
        await store.close()


async def test_writes_before_the_table_is_read_are_durable_and_applied_once_it_is(path: Path,
                                                                                  tmp_path: Path) -> None:
    await compacted_store(path)
    store = JournaledTinyStore(path, INDEXES, later=LATER)
    try:
        before = store.table_version("audit")
        await store.apply([Put("audit", "a9001", {"subject_id": "p001", "note": "while it was left for later"}),
                           Delete("audit", "a0001"), Put("people", "p001", {"email": "new@contoso.com"})])
        await store.apply([Put("audit", "a0002", {"subject_id": "p002", "note": "rewritten"})])
        assert store.table_version("audit") != before  # a cache of the table sees it changed
        assert store.loading() == ("audit",)  # written without reading the table
        assert store.find("people", "email", "new@contoso.com")[0]["id"] == "p001"
        await store.load_later()
        assert store.find_ids("audit", "subject_id", "p001")[-2:] == ["a9000", "a9001"]
        assert store.get("audit", "a0001") is None
        assert store.get("audit", "a0002")["note"] == "rewritten"
        assert "a0002" not in store.find_ids("audit", "subject_id", "p000")  # moved in the index
        now = state(store)
    finally:
        await store.close()
    again = JournaledTinyStore(path, INDEXES)  # the journal holds them: a start that reads everything
    try:
        assert state(again) == now
    finally:
        await again.close()


async def test_load_later_lets_the_loop_run_between_steps(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    await compacted_store(path)
    monkeypatch.setattr(snapshot_index, "STEP_ITEMS", 10)
    store = JournaledTinyStore(path, INDEXES, later=LATER)
    try:
        turns = 0

        async def turn() -> None:
            nonlocal turns
            while store.loading():
                turns += 1
                assert store.get("people", "p002") is not None  # other tables answer meanwhile
                await asyncio.sleep(0)

        other = asyncio.create_task(turn())
        await store.load_later()
        await other
        assert turns >= 20  # 300 documents, 10 a step: the loop ran between the steps
        assert len(store.all("audit")) == 300
    finally:
        await store.close()


async def test_compaction_writes_the_table_left_for_later(path: Path, tmp_path: Path) -> None:
    await compacted_store(path)
    expected = eager_copy(path, tmp_path / "copy")
    store = JournaledTinyStore(path, INDEXES, later=LATER)
    try:
        await store.compact()
    finally:
        await store.close()
    assert b'"a9000"' in snapshot_file(path, 3).read_bytes()
    store = JournaledTinyStore(path, INDEXES, later=LATER)
    try:
        assert state(store) == expected
    finally:
        await store.close()


async def test_a_damaged_snapshot_is_quarantined_whatever_is_left_for_later(path: Path) -> None:
    """Damage in the part of the snapshot that a start leaves for later is found at open all the same: the
    whole file is checked against the index file before anything is adopted."""
    await compacted_store(path)
    snapshot = snapshot_file(path, 2)
    raw = bytearray(snapshot.read_bytes())
    at = raw.index(b'"a0150"')
    raw[at + 20] = ord("\x01")  # in the audit trail: not JSON
    snapshot.write_bytes(bytes(raw))
    store = JournaledTinyStore(path, INDEXES, later=LATER)  # snapshot 1 and journals 1 and 2
    try:
        assert [Path(q).name.split(".corrupt-")[0] for q in store.health().quarantined] == [snapshot.name]
        assert store.loading() == ()  # decoded: nothing left for later
        assert store.get("audit", "a0150") is not None and store.get("audit", "a9000") is not None
        assert store.get("audit", "a0007") is None
    finally:
        await store.close()


async def test_a_damaged_segment_of_the_index_file_is_found_at_open(path: Path, tmp_path: Path,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    await compacted_store(path)
    expected = eager_copy(path, tmp_path / "copy")
    raw = index_file(path, 2).read_bytes()
    head, _, body = raw.partition(b"\n")
    start = json.loads(head)["segments"]["audit"][0]
    body = body[:start + 5] + bytes([body[start + 5] ^ 0x01]) + body[start + 6:]
    index_file(path, 2).write_bytes(head + b"\n" + body)
    with caplog.at_level(logging.WARNING):
        store = JournaledTinyStore(path, INDEXES, later=LATER)
    try:
        assert any(getattr(r, "event", "") == "storage.index_ignored" for r in caplog.records)
        assert store.loading() == ()
        assert state(store) == expected
    finally:
        await store.close()


async def test_a_table_that_cannot_be_read_through_the_index_file_is_decoded(path: Path, tmp_path: Path,
                                                                             caplog: pytest.LogCaptureFixture) -> None:
    await compacted_store(path)
    expected = eager_copy(path, tmp_path / "copy")
    store = JournaledTinyStore(path, INDEXES, later=LATER)

    def broken() -> Any:
        raise IndexFileMismatch("a defect")
        yield

    try:
        store._later["audit"].steps = broken()
        await store.apply([Put("audit", "a9001", {"subject_id": "p001"})])
        with caplog.at_level(logging.ERROR):
            found = store.find_ids("audit", "subject_id", "p001")
        assert any(getattr(r, "event", "") == "storage.later_reread" for r in caplog.records)
        assert found[-2:] == ["a9000", "a9001"]
        await store.apply([Delete("audit", "a9001")])
        assert state(store) == expected
    finally:
        await store.close()


CHILD = """
import asyncio, json, os, signal, sys
from services.storage import JournaledTinyStore, Put
import services.storage.snapshot_index as snapshot_index

snapshot_index.STEP_ITEMS = 10

async def main():
    store = JournaledTinyStore(sys.argv[1], json.loads(sys.argv[2]), later=["audit"])
    for i in range(3):  # acknowledged before the table is read: set aside for it
        await store.apply([Put("audit", f"new{i}", {"subject_id": "p001"})])
        print("ACK", i, flush=True)
    reading = asyncio.create_task(store.load_later())
    for _ in range(5):
        await asyncio.sleep(0)
    if store.loading() == ("audit",):
        print("KILLED WHILE READING", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main())
"""


async def test_kill_9_while_the_table_is_read_loses_nothing_acknowledged(path: Path, tmp_path: Path) -> None:
    await compacted_store(path)
    expected = eager_copy(path, tmp_path / "copy")
    child = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-c", textwrap.dedent(CHILD), str(path), json.dumps(INDEXES)], cwd=ROOT,
        capture_output=True, text=True, timeout=120, check=False)
    assert child.returncode == -signal.SIGKILL, child.stderr
    acknowledged = [f"new{line.split()[1]}" for line in child.stdout.splitlines() if line.startswith("ACK")]
    assert acknowledged == ["new0", "new1", "new2"] and "KILLED WHILE READING" in child.stdout
    store = JournaledTinyStore(path, INDEXES, later=LATER)
    try:
        ids = store.find_ids("audit", "subject_id", "p001")
        assert ids[-len(acknowledged):] == acknowledged
        await store.apply([Delete("audit", doc_id) for doc_id in ids if doc_id.startswith("new")])
        assert state(store) == expected
    finally:
        await store.close()


async def test_an_ordering_prepared_before_the_table_is_read_holds_every_document(path: Path) -> None:
    """The audit archive prepares its ordering of the trail off the loop: it must sort the whole trail."""
    await compacted_store(path)
    store = JournaledTinyStore(path, INDEXES, later=LATER)
    try:
        store.order_by("audit", "by_id", lambda doc: [doc["id"]])
        await store.prepare_ordering("audit", "by_id")
        assert store.loading() == ()
        ids, total = store.ordered("audit", "by_id", "", 0, 1000)
        assert total == 300 and ids == sorted(d["id"] for d in store.all("audit"))
    finally:
        await store.close()
