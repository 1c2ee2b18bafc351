"""Damage that no crash leaves: files emptied, deleted or with a byte flipped by the disk or a person.

A crash can only tear the tail of a journal or leave a temp file; the engine repairs that silently.
Anything else either loses nothing (a fallback generation holds it all: repaired, files moved aside,
reported) or loses acknowledged writes: then the store refuses to open, names the files and changes
nothing, unless it is opened accepting the loss. A damaged record is skipped alone: every record
after it whose frame checks is recovered.
"""

from __future__ import annotations

import logging
import os
import struct
from pathlib import Path

import pytest

from services.storage import JournaledTinyStore, Put, StoreDamagedError
from services.storage.journal import HEADER_SIZE, RECORD_HEAD, read_journal
from tests._common.storage import Model, contents, replay
from tests.services.storage.test_journaled_recovery import (
    BATCH_A,
    BATCH_B,
    BATCH_C,
    INDEXES,
    journal_file,
    model_of,
    open_store,
    record_of,
    snapshot_file,
    write_batches,
)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "benefits.json"


def people_batches(n: int) -> list[list[Put]]:
    return [[Put("people", f"p{i}", {"name": f"Person {i}"}), Put("assignments", f"a{i}", {"person_id": f"p{i}"})]
            for i in range(n)]


async def two_generations(path: Path) -> Model:
    """A store after two compactions with writes in every journal: snapshots 2 and 3, journals 2 and 3."""
    batches = people_batches(30)
    store = open_store(path)
    for i, batch in enumerate(batches):
        await store.apply(batch)
        if i in (9, 19):
            await store.compact()
    await store.close()
    assert snapshot_file(path, 3).exists() and snapshot_file(path, 2).exists()
    assert not snapshot_file(path, 1).exists()
    return model_of(*batches)


def files_of(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in path.parent.iterdir() if p.name != "benefits.lock"}


class TestMissingOrEmptyGenerations:
    async def test_zero_byte_newest_snapshot_recovers_everything_from_the_fallback(
        self, path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        expected = await two_generations(path)
        snapshot_file(path, 3).write_bytes(b"")
        with caplog.at_level(logging.ERROR):
            store = open_store(path)
        assert contents(store) == expected  # snapshot 2 + journals 2 and 3
        health = store.health()
        assert health.ready and len(health.quarantined) == 1 and snapshot_file(path, 3).name in health.quarantined[0]
        assert any(getattr(r, "event", "") == "storage.quarantine" and "empty" in r.reason
                   for r in caplog.records)
        await store.close()

    async def test_every_snapshot_emptied_is_refused_and_nothing_changes(self, path: Path) -> None:
        await two_generations(path)
        snapshot_file(path, 2).write_bytes(b"")
        snapshot_file(path, 3).write_bytes(b"")
        before = files_of(path)
        with pytest.raises(StoreDamagedError) as info:
            open_store(path)
        assert snapshot_file(path, 3).name in str(info.value) and "empty" in str(info.value)
        assert files_of(path) == before
        store = JournaledTinyStore(path, INDEXES, accept_loss=True)  # the operator's explicit choice
        assert contents(store) == {} and len(store.health().quarantined) == 4
        assert not store.created  # never a folder for demo data
        await store.close()

    async def test_deleted_newest_journal_is_refused(self, path: Path) -> None:
        await two_generations(path)
        journal_file(path, 3).unlink()
        before = files_of(path)
        with pytest.raises(StoreDamagedError) as info:
            open_store(path)
        assert journal_file(path, 3).name in str(info.value) and "missing" in str(info.value)
        assert files_of(path) == before

    async def test_accepting_the_loss_of_a_deleted_journal_keeps_the_snapshot_and_says_so(
        self, path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        batches = people_batches(30)
        await two_generations(path)
        journal_file(path, 3).unlink()
        with caplog.at_level(logging.ERROR):
            store = JournaledTinyStore(path, INDEXES, accept_loss=True)
        assert contents(store) == model_of(*batches[:20])  # what snapshot 3 holds
        assert any(getattr(r, "event", "") == "storage.loss_accepted" for r in caplog.records)
        assert "lost" in store.health().detail
        await store.apply(BATCH_A)
        await store.close()
        store = open_store(path)  # the new generation opens cleanly
        assert contents(store) == replay(model_of(*batches[:20]), BATCH_A)
        await store.close()

    async def test_deleted_journal_whose_snapshot_was_not_written_yet_is_refused(self, path: Path) -> None:
        """Compaction starts journal g + 1 before snapshot g + 1: the marker still knows it existed."""
        await write_batches(path, BATCH_A, compact_after=0)  # snapshots 1, 2; journals 1, 2
        snapshot_file(path, 2).unlink()  # as if the crash came before snapshot 2 was renamed in
        journal_file(path, 2).unlink()   # and then its journal was deleted
        with pytest.raises(StoreDamagedError, match=journal_file(path, 2).name):
            open_store(path)

    async def test_a_data_folder_emptied_of_its_store_is_refused(self, path: Path) -> None:
        await write_batches(path, BATCH_A, BATCH_B)
        for name in (snapshot_file(path, 1), journal_file(path, 1)):
            name.unlink()
        with pytest.raises(StoreDamagedError, match="every snapshot and journal"):
            open_store(path)
        store = JournaledTinyStore(path, INDEXES, accept_loss=True)
        assert contents(store) == {} and not store.created
        await store.close()

    async def test_zero_byte_journal_is_refused(self, path: Path) -> None:
        await write_batches(path, BATCH_A, BATCH_B)
        journal_file(path, 1).write_bytes(b"")
        with pytest.raises(StoreDamagedError, match=journal_file(path, 1).name):
            open_store(path)

    async def test_only_a_store_created_now_counts_as_new(self, path: Path) -> None:
        store = open_store(path)
        assert store.created
        await store.close()
        store = open_store(path)
        assert not store.created
        await store.close()

    async def test_a_first_start_cut_short_before_its_snapshot_starts_fresh(self, path: Path) -> None:
        store = open_store(path)
        await store.close()
        snapshot_file(path, 1).unlink()
        (path.parent / "benefits.store").unlink()  # the marker is written after the snapshot
        store = open_store(path)
        assert store.created and contents(store) == {}
        await store.close()


class TestFlippedByte:
    async def test_every_record_after_a_damaged_one_is_recovered(
        self, path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        batches = people_batches(500)
        await write_batches(path, *batches)
        journal = journal_file(path, 1)
        data = bytearray(journal.read_bytes())
        start = HEADER_SIZE + sum(len(record_of(b)) for b in batches[:49])  # record number 50
        length = len(record_of(batches[49]))
        data[start + RECORD_HEAD.size + 7] ^= 0x01
        journal.write_bytes(bytes(data))
        with caplog.at_level(logging.ERROR):
            store = open_store(path)
        assert contents(store) == model_of(*batches[:49], *batches[50:])
        skipped = [r for r in caplog.records if getattr(r, "event", "") == "storage.records_skipped"]
        assert len(skipped) == 1
        assert skipped[0].skipped == f"bytes {start}-{start + length} (1 record after record 49)"
        assert skipped[0].recovered_records == 499
        (copy,) = store.health().quarantined
        assert Path(copy).read_bytes() == bytes(data)  # the damaged bytes are kept
        await store.apply(BATCH_C)
        await store.close()
        store = open_store(path)  # a new generation: opens cleanly
        assert contents(store) == replay(model_of(*batches[:49], *batches[50:]), BATCH_C)
        assert store.health().quarantined == ()
        await store.close()

    async def test_a_damaged_length_is_resynchronized_by_scanning(self, path: Path) -> None:
        batches = people_batches(40)
        await write_batches(path, *batches)
        journal = journal_file(path, 1)
        data = bytearray(journal.read_bytes())
        start = HEADER_SIZE + sum(len(record_of(b)) for b in batches[:10])
        struct.pack_into(">I", data, start + 2, 7)  # the length of record 11 now points inside it
        journal.write_bytes(bytes(data))
        scan = read_journal(journal, 1)
        assert [r.describe().endswith("(one or more records after record 10)") for r in scan.skipped] == [True]
        store = open_store(path)
        assert contents(store) == model_of(*batches[:10], *batches[11:])
        await store.close()

    async def test_two_damaged_records_and_a_torn_tail(self, path: Path) -> None:
        batches = people_batches(20)
        await write_batches(path, *batches)
        journal = journal_file(path, 1)
        data = bytearray(journal.read_bytes())
        offsets = [HEADER_SIZE + sum(len(record_of(b)) for b in batches[:k]) for k in range(21)]
        for k in (3, 12):
            data[offsets[k] + 15] ^= 0xFF
        data += record_of(BATCH_C)[:-4]  # an append cut short: never acknowledged
        journal.write_bytes(bytes(data))
        store = open_store(path)
        kept = [b for k, b in enumerate(batches) if k not in (3, 12)]
        assert contents(store) == model_of(*kept)
        await store.close()


def test_the_journal_reader_never_trusts_a_frame_inside_a_payload(tmp_path: Path) -> None:
    """A document may hold the bytes of a record header (U+00A5 then "Z" encode as A5 5A); the JSON
    around it keeps the length field at 0x20202020 or more, so no frame starts there."""
    journal = tmp_path / "x.g00000001.journal"
    from services.storage.journal import create_journal

    create_journal(journal, 1)
    inner = record_of([Put("people", "evil", {"n": 1})]).decode("latin-1")
    batch = [Put("people", "p1", {"name": "\u00a5Z" + inner})]
    with journal.open("ab") as f:
        f.write(record_of(batch))
    data = bytearray(journal.read_bytes())
    data[HEADER_SIZE + RECORD_HEAD.size + 3] ^= 0x01  # break the outer record
    journal.write_bytes(bytes(data))
    scan = read_journal(journal, 1)
    assert scan.batches == [] and scan.tail == "torn"
    assert os.path.getsize(journal) == len(data)


DISK_FULL_SCRIPT = r'''
import asyncio, json, resource, signal, sys
from pathlib import Path
from services.storage import JournaledTinyStore, Put, StoreUnavailableError

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit, write() fails with EFBIG instead
_, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
path = Path(sys.argv[1])


def limit(size):
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))


async def wait_ready(store, seconds):
    for _ in range(int(seconds / 0.05)):
        if store.health().ready:
            return True
        await asyncio.sleep(0.05)
    return False


async def main():
    out = {"acked": [], "refused": []}
    store = JournaledTinyStore(path, {}, retry_seconds=0.05, compact_bytes=1 << 30)
    n = 0

    async def write():
        nonlocal n
        n += 1
        batch = [Put("people", f"p{n}", {"pad": "x" * 500})]
        try:
            await store.apply(batch)
            out["acked"].append(n)
        except StoreUnavailableError as exc:
            out["refused"].append([n, str(exc), repr(exc.__cause__)])

    for _ in range(20):
        await write()
    limit(store._writer.end + 100)  # the next record is cut short by the kernel
    await write()
    limit(1024)  # and the disk stays full: a new generation cannot be written either
    out["ready_while_full"] = await wait_ready(store, 0.6)
    await write()
    limit(resource.RLIM_INFINITY)  # space is freed
    out["ready_after"] = await wait_ready(store, 10)
    for _ in range(5):
        await write()
    await store.close()
    store = JournaledTinyStore(path, {})
    out["reopened"] = sorted(int(d["id"][1:]) for d in store.all("people"))
    await store.close()
    print(json.dumps(out))


asyncio.run(main())
'''


def test_a_full_disk_refuses_writes_and_recovers_by_itself_once_space_is_freed(path: Path) -> None:
    """The disk is filled for real at the system-call boundary: a subprocess lowers its own file-size
    limit (``RLIMIT_FSIZE``, with ``SIGXFSZ`` ignored), so the kernel cuts the journal append short and
    then fails it with ``EFBIG``, as it does with ``ENOSPC`` on a full disk; raising the limit again is
    freeing space. It works without root and without a small file system."""
    import json
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[3]
    result = subprocess.run([sys.executable, "-c", DISK_FULL_SCRIPT, str(path)], cwd=root, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [r[0] for r in out["refused"]] == [21, 22]  # the write that hit the limit, one while full
    assert "File too large" in out["refused"][0][2]
    assert out["ready_while_full"] is False
    assert out["ready_after"] is True
    assert out["acked"] == [*range(1, 21), *range(23, 28)]
    assert out["reopened"] == out["acked"]  # every acknowledged write, nothing refused


async def test_a_lone_surrogate_is_refused_as_a_malformed_batch(path: Path) -> None:
    store = open_store(path)
    with pytest.raises(ValueError, match="lone surrogate"):
        await store.apply([Put("people", "p1", {"name": "\ud800"})])
    await store.apply(BATCH_A)  # the store goes on
    await store.close()
