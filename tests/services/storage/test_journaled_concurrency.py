"""Concurrent writers on one event loop: every batch lands, they share fsyncs, the loop never waits.

The engine's ``before_fsync`` hook runs in the thread that fsyncs; the tests use it to count fsyncs,
to see which thread does the disk work and to hold a commit in flight while they look around.
Behaviour only, no wall-clock figures.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.storage import JournaledTinyStore, Put
from tests._common.storage import contents

INDEXES = {"assignments": ["person_id"]}


class FsyncProbe:
    """``before_fsync`` hook: counts calls, records threads, and can hold the fsync until released."""

    def __init__(self) -> None:
        self.calls = 0
        self.threads: set[int] = set()
        self.entered = threading.Event()
        self.release = threading.Event()
        self.release.set()

    def __call__(self) -> None:
        self.calls += 1
        self.threads.add(threading.get_ident())
        self.entered.set()
        assert self.release.wait(10), "test never released the fsync"

    async def wait_entered(self) -> None:
        assert await asyncio.to_thread(self.entered.wait, 10)


@pytest.fixture
def probe() -> Iterator[FsyncProbe]:
    p = FsyncProbe()
    yield p
    p.release.set()


@pytest.fixture
async def store(tmp_path: Path, probe: FsyncProbe):
    s = JournaledTinyStore(tmp_path / "benefits.json", INDEXES, before_fsync=probe)
    yield s
    probe.release.set()
    await s.close()


async def test_many_concurrent_writers_all_land_with_few_fsyncs(
    store: JournaledTinyStore, probe: FsyncProbe
) -> None:
    await asyncio.gather(
        *(store.apply([Put("assignments", f"a{i}", {"person_id": f"p{i % 10}"})]) for i in range(300))
    )
    assert len(store.all("assignments")) == 300
    assert len(store.find("assignments", "person_id", "p3")) == 30
    assert store.stats.batches == 300
    assert store.stats.fsyncs == probe.calls
    assert probe.calls <= 3  # all 300 were queued before the first commit: they share its fsync


async def test_writers_arriving_during_an_fsync_share_the_next_one(
    store: JournaledTinyStore, probe: FsyncProbe
) -> None:
    probe.release.clear()
    first = asyncio.create_task(store.apply([Put("people", "first", {})]))
    await probe.wait_entered()  # the first commit is now inside its fsync, in a worker thread

    later = [asyncio.create_task(store.apply([Put("people", f"p{i}", {"i": i})])) for i in range(50)]
    for _ in range(5):
        await asyncio.sleep(0)  # the loop keeps running while the disk is busy
    assert not first.done() and not any(t.done() for t in later)
    assert store.get("people", "first") is None  # not durable yet, so not visible
    assert probe.calls == 1

    probe.release.set()
    await asyncio.gather(first, *later)
    assert probe.calls == 2  # one fsync for the first batch, one shared by the 50 that queued behind it
    assert len(store.all("people")) == 51


async def test_fsync_runs_off_the_event_loop_thread(store: JournaledTinyStore, probe: FsyncProbe) -> None:
    for i in range(3):
        await store.apply([Put("people", f"p{i}", {})])
    await store.compact()
    await store.apply([Put("people", "after", {})])
    assert probe.threads and threading.get_ident() not in probe.threads


async def test_reads_during_a_commit_see_whole_batches_only(
    store: JournaledTinyStore, probe: FsyncProbe
) -> None:
    await store.apply([Put("assignments", "a1", {"person_id": "p1"})])
    probe.release.clear()
    probe.entered.clear()
    moving = asyncio.create_task(
        store.apply(
            [Put("assignments", "a1", {"person_id": "p2"}), Put("assignments", "a2", {"person_id": "p2"})]
        )
    )
    await probe.wait_entered()
    assert [d["id"] for d in store.find("assignments", "person_id", "p1")] == ["a1"]
    assert store.find("assignments", "person_id", "p2") == []
    probe.release.set()
    await moving
    assert store.find("assignments", "person_id", "p1") == []
    assert sorted(d["id"] for d in store.find("assignments", "person_id", "p2")) == ["a1", "a2"]


async def test_cancelled_writer_does_not_undo_a_started_commit(
    tmp_path: Path, store: JournaledTinyStore, probe: FsyncProbe
) -> None:
    probe.release.clear()
    task = asyncio.create_task(store.apply([Put("people", "p1", {})]))
    await probe.wait_entered()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    probe.release.set()
    await store.apply([Put("people", "p2", {})])
    assert {d["id"] for d in store.all("people")} == {"p1", "p2"}
    await store.close()
    reopened = JournaledTinyStore(tmp_path / "benefits.json", INDEXES)
    assert set(contents(reopened)["people"]) == {"p1", "p2"}
    await reopened.close()


async def test_writes_continue_during_compaction(store: JournaledTinyStore) -> None:
    for i in range(50):
        await store.apply([Put("people", f"p{i}", {"pad": "x" * 100})])
    compaction = asyncio.create_task(store.compact())
    writes = [asyncio.create_task(store.apply([Put("people", f"q{i}", {})])) for i in range(20)]
    await asyncio.gather(compaction, *writes)
    assert len(store.all("people")) == 70


async def test_indexed_find_does_not_scan(store: JournaledTinyStore) -> None:
    await store.apply(
        [Put("assignments", f"a{i}", {"person_id": f"p{i % 4}", "seats": i}) for i in range(40)]
    )
    assert len(store.find("assignments", "person_id", "p1")) == 10
    assert store.stats.scans == 0
    assert len(store.find("assignments", "seats", 3)) == 1
    assert store.stats.scans == 1


async def test_submit_queues_the_batch_before_returning(store: JournaledTinyStore, probe: FsyncProbe) -> None:
    """``submit`` hands the batch to the writer thread at once: no task has to start first."""
    probe.release.clear()
    written = store.submit([Put("people", "p1", {"n": 1})])
    assert isinstance(written, asyncio.Future) and not written.done()
    await probe.wait_entered()  # the thread is already in the fsync of that very batch
    assert store.get("people", "p1") is None
    probe.release.set()
    await written
    assert store.get("people", "p1") == {"id": "p1", "n": 1}


async def test_a_cancelled_submit_still_lands(tmp_path: Path, store: JournaledTinyStore, probe: FsyncProbe) -> None:
    probe.release.clear()
    written = store.submit([Put("people", "p1", {})])
    await probe.wait_entered()
    written.cancel()
    probe.release.set()
    await store.apply([Put("people", "p2", {})])
    await store.close()
    reopened = JournaledTinyStore(tmp_path / "benefits.json", INDEXES)
    assert set(contents(reopened)["people"]) == {"p1", "p2"}
    await reopened.close()


async def test_close_lands_writes_queued_behind_a_compaction(
    tmp_path: Path, store: JournaledTinyStore, probe: FsyncProbe
) -> None:
    """Batches queued while compaction pauses commits are written, in order, before close returns."""
    for i in range(20):
        await store.apply([Put("people", f"p{i}", {"pad": "x" * 100})])
    probe.release.clear()
    probe.entered.clear()
    busy = store.submit([Put("people", "busy", {})])
    await probe.wait_entered()  # a commit is in flight: the compaction below must wait for it
    compaction = asyncio.create_task(store.compact())
    await asyncio.sleep(0)
    queued = [store.submit([Put("people", "last", {"n": n})]) for n in range(5)]
    closing = asyncio.create_task(store.close())
    probe.release.set()
    await asyncio.gather(busy, compaction, closing, *queued)
    reopened = JournaledTinyStore(tmp_path / "benefits.json", INDEXES)
    assert contents(reopened)["people"]["last"] == {"id": "last", "n": 4}
    assert "busy" in contents(reopened)["people"] and len(contents(reopened)["people"]) == 22
    await reopened.close()


async def test_submitting_to_a_closed_store_fails_at_once(store: JournaledTinyStore) -> None:
    from services.storage.journaled import StoreUnavailableError

    await store.close()
    with pytest.raises(StoreUnavailableError):
        store.submit([Put("people", "p1", {})])
