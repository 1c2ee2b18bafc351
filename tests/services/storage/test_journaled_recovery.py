"""Recovery of the journaled engine from what crashes and damaged disks leave behind.

Each test builds the files of one situation (a torn record, garbage, a compaction cut short at each
of its steps, a snapshot that no longer parses) and checks what a restart makes of them: every
acknowledged batch is there, nothing that failed to load is silently replaced, and the store goes on
writing durably afterwards.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from tinydb import where

from services.storage import (
    Delete,
    JournaledTinyStore,
    Put,
    StoreDamagedError,
    StoreLockedError,
    StoreUnavailableError,
)
from services.storage._common import StrIdTinyDB, normalize_batch
from services.storage.journal import (
    HEADER_SIZE,
    JournalWriter,
    create_journal,
    encode_header,
    frame_record,
)
from services.storage.snapshot import SnapshotStorage, encode_snapshot
from tests._common.storage import Model, contents, engine_files, replay

pytestmark = pytest.mark.usefixtures("both_ways_of_cutting")  # see the fixture

INDEXES = {"assignments": ["person_id"]}
SECRET = "PRODUCT-KEY-12345-SECRET"

def record_of(batch: list[Any]) -> bytes:
    """The journal record of ``batch``, framed as the store frames it."""
    return frame_record(normalize_batch(batch)[1])


BATCH_A = [Put("people", "p1", {"name": "Ada", "key": SECRET}), Put("assignments", "a1", {"person_id": "p1"})]
BATCH_B = [
    Put("people", "p2", {"name": "Bo"}),
    Delete("assignments", "a1"),
    Put("assignments", "a2", {"person_id": "p2"}),
]
BATCH_C = [Put("people", "p1", {"name": "Ada L."}), Put("assignments", "a3", {"person_id": "p1"})]
BATCH_D = [Put("people", "p4", {"name": "Di"})]


def snapshot_file(path: Path, gen: int) -> Path:
    return path.with_name(f"{path.stem}.g{gen:08d}.json")


def journal_file(path: Path, gen: int) -> Path:
    return path.with_name(f"{path.stem}.g{gen:08d}.journal")


def index_file(path: Path, gen: int) -> Path:
    return path.with_name(f"{path.stem}.g{gen:08d}.index")


def model_of(*batches: list[Any]) -> Model:
    model: Model = {}
    for batch in batches:
        replay(model, batch)
    return {t: d for t, d in model.items() if d}


def open_store(path: Path) -> JournaledTinyStore:
    return JournaledTinyStore(path, INDEXES)


async def assert_recovers(path: Path, expected: Model, *, quarantined: int = 0) -> JournaledTinyStore:
    """Open, compare with ``expected``, then check a further write survives another restart."""
    store = open_store(path)
    assert contents(store) == expected, engine_files(path)
    assert [d["id"] for d in store.find("assignments", "person_id", "p1")] == sorted(
        i for i, d in expected.get("assignments", {}).items() if d.get("person_id") == "p1"
    )
    health = store.health()
    assert health.ready
    assert len(health.quarantined) == quarantined, health
    for moved in health.quarantined:
        assert Path(moved).exists()
    await store.apply(BATCH_D)
    await store.close()
    store = open_store(path)
    assert contents(store) == replay(json.loads(json.dumps(expected)), BATCH_D)
    assert store.health().quarantined == ()
    await store.close()
    return store


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "benefits.json"


async def write_batches(path: Path, *batches: list[Any], compact_after: int | None = None) -> None:
    store = open_store(path)
    for i, batch in enumerate(batches):
        await store.apply(batch)
        if compact_after == i:
            await store.compact()
    await store.close()


class TestJournalTail:
    async def test_torn_tail_record_ignored(self, path: Path) -> None:
        await write_batches(path, BATCH_A, BATCH_B)
        record = record_of(BATCH_C)
        for cut in (1, 5, 10, len(record) - 1):
            with journal_file(path, 1).open("ab") as f:
                f.write(record[:cut])
            await assert_recovers(path, model_of(BATCH_A, BATCH_B))
            await write_batches(path, [Delete("people", "p4")])

    async def test_garbage_appended(self, path: Path) -> None:
        await write_batches(path, BATCH_A, BATCH_B)
        with journal_file(path, 1).open("ab") as f:
            f.write(b"\0" * 4096 + b"\xa5\x5a garbage \xff" * 50)
        await assert_recovers(path, model_of(BATCH_A, BATCH_B))

    async def test_bad_checksum_at_tail(self, path: Path) -> None:
        await write_batches(path, BATCH_A, BATCH_B)
        journal = journal_file(path, 1)
        data = bytearray(journal.read_bytes())
        data[-3] ^= 0xFF  # inside the payload of the last record (B)
        journal.write_bytes(bytes(data))
        await assert_recovers(path, model_of(BATCH_A))

    async def test_damaged_record_before_good_ones_is_skipped_and_quarantined(
        self, path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        await write_batches(path, BATCH_A, BATCH_B, BATCH_C)
        journal = journal_file(path, 1)
        data = bytearray(journal.read_bytes())
        first = len(record_of(BATCH_A))
        data[HEADER_SIZE + first + 20] ^= 0xFF  # inside B, with C complete after it
        journal.write_bytes(bytes(data))
        with caplog.at_level(logging.ERROR):
            store = open_store(path)
        health = store.health()
        assert contents(store) == model_of(BATCH_A, BATCH_C)
        assert health.ready and len(health.quarantined) == 1
        assert "corrupt" in health.quarantined[0] and Path(health.quarantined[0]).read_bytes() == bytes(data)
        assert any(getattr(r, "event", "") == "storage.quarantine" for r in caplog.records)
        await store.close()

    async def test_damaged_header_is_refused_unless_the_loss_is_accepted(self, path: Path) -> None:
        await write_batches(path, BATCH_A, compact_after=0)
        await write_batches(path, BATCH_B)
        journal = journal_file(path, 2)
        journal.write_bytes(b"XXXX" + journal.read_bytes()[4:])
        with pytest.raises(StoreDamagedError, match=journal.name):
            open_store(path)
        store = JournaledTinyStore(path, INDEXES, accept_loss=True)
        assert contents(store) == model_of(BATCH_A)  # B was in the damaged journal
        assert len(store.health().quarantined) == 1
        await store.close()


class TestCompactionCrash:
    """Compaction of generation g to g + 1, cut at each step (files written as the step leaves them)."""

    async def base(self, path: Path) -> None:
        """Generation 1 (snapshot) + 2 (snapshot of A, journal with B) on disk, store closed."""
        await write_batches(path, BATCH_A, BATCH_B, compact_after=0)
        assert snapshot_file(path, 1).exists() and snapshot_file(path, 2).exists()
        assert journal_file(path, 2).exists()

    async def test_crash_while_creating_the_next_journal(self, path: Path) -> None:
        await self.base(path)
        tmp = journal_file(path, 3).with_name(journal_file(path, 3).name + ".tmp")
        tmp.write_bytes(encode_header(3)[:7])
        await assert_recovers(path, model_of(BATCH_A, BATCH_B))
        assert not tmp.exists()

    async def test_crash_after_the_next_journal_was_created(self, path: Path) -> None:
        await self.base(path)
        create_journal(journal_file(path, 3), 3)
        await assert_recovers(path, model_of(BATCH_A, BATCH_B))

    async def test_crash_with_writes_in_the_next_journal_before_its_snapshot(self, path: Path) -> None:
        await self.base(path)
        create_journal(journal_file(path, 3), 3)
        writer = JournalWriter(journal_file(path, 3), HEADER_SIZE)
        writer.append([record_of(BATCH_C)])
        writer.close()
        await assert_recovers(path, model_of(BATCH_A, BATCH_B, BATCH_C))

    async def test_crash_while_writing_the_snapshot(self, path: Path) -> None:
        await self.base(path)
        create_journal(journal_file(path, 3), 3)
        writer = JournalWriter(journal_file(path, 3), HEADER_SIZE)
        writer.append([record_of(BATCH_C)])
        writer.close()
        snap = encode_snapshot(model_of(BATCH_A, BATCH_B))
        tmp = snapshot_file(path, 3).with_name(snapshot_file(path, 3).name + ".tmp")
        tmp.write_bytes(snap[: len(snap) // 2])
        await assert_recovers(path, model_of(BATCH_A, BATCH_B, BATCH_C))
        assert not tmp.exists()

    async def test_crash_after_the_snapshot_was_renamed(self, path: Path) -> None:
        await self.base(path)
        create_journal(journal_file(path, 3), 3)
        writer = JournalWriter(journal_file(path, 3), HEADER_SIZE)
        writer.append([record_of(BATCH_C)])
        writer.close()
        snapshot_file(path, 3).write_bytes(encode_snapshot(model_of(BATCH_A, BATCH_B)))
        await assert_recovers(path, model_of(BATCH_A, BATCH_B, BATCH_C))

    async def test_crash_while_deleting_old_generations(self, path: Path) -> None:
        await self.base(path)
        create_journal(journal_file(path, 3), 3)
        snapshot_file(path, 3).write_bytes(encode_snapshot(model_of(BATCH_A, BATCH_B)))
        snapshot_file(path, 1).unlink()  # journal 1 is left behind
        await assert_recovers(path, model_of(BATCH_A, BATCH_B))

    async def test_real_compactions_keep_one_fallback_generation(self, path: Path) -> None:
        store = open_store(path)
        for batch in (BATCH_A, BATCH_B, BATCH_C):
            await store.apply(batch)
            await store.compact()
        gen = store.generation
        await store.close()
        names = set(engine_files(path))
        assert names == {
            snapshot_file(path, gen - 1).name,
            journal_file(path, gen - 1).name,
            snapshot_file(path, gen).name,
            journal_file(path, gen).name,
            index_file(path, gen - 1).name,
            index_file(path, gen).name,
            "benefits.lock",
            "benefits.store",
        }
        await assert_recovers(path, model_of(BATCH_A, BATCH_B, BATCH_C))

    async def test_compaction_that_fails_to_write_loses_nothing(
        self, path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store = open_store(path)
        await store.apply(BATCH_A)

        def disk_full(target: Path, data: bytes) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr("services.storage.snapshot.write_atomically", disk_full)
        await store.compact()
        monkeypatch.undo()
        await store.apply(BATCH_B)
        assert store.health().ready
        await store.close()
        await assert_recovers(path, model_of(BATCH_A, BATCH_B))

    async def test_background_compaction_failure_is_logged_and_writes_go_on(
        self, path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        def no_space(target: Path, gen: int) -> None:
            raise OSError(28, "No space left on device")

        store = JournaledTinyStore(path, INDEXES, compact_bytes=100)
        monkeypatch.setattr("services.storage.journaled.create_journal", no_space)
        expected: Model = {}
        with caplog.at_level(logging.ERROR):
            for i in range(5):
                batch = [Put("people", f"p{i}", {"pad": "x" * 200})]
                await store.apply(batch)
                replay(expected, batch)
                await asyncio.sleep(0)
            await store.close()
        assert any(getattr(r, "event", "") == "storage.compaction_failed" for r in caplog.records)
        assert store.stats.compactions == 0
        monkeypatch.undo()
        await assert_recovers(path, expected)

    async def test_concurrent_compactions_take_turns(self, path: Path) -> None:
        store = open_store(path)
        await store.apply(BATCH_A)
        await asyncio.gather(store.compact(), store.compact(), store.apply(BATCH_B), store.compact())
        assert store.stats.compactions == 3
        await store.close()
        await assert_recovers(path, model_of(BATCH_A, BATCH_B))

    async def test_automatic_compaction(self, path: Path) -> None:
        store = JournaledTinyStore(path, INDEXES, compact_bytes=2_000)
        expected: Model = {}
        for i in range(200):
            batch = [Put("people", f"p{i % 37}", {"n": i, "pad": "x" * (i % 50)})]
            await store.apply(batch)
            replay(expected, batch)
        await store.close()
        assert store.stats.compactions >= 3
        assert store.generation > 3
        await assert_recovers(path, expected)


class TestQuarantine:
    async def test_corrupt_snapshot_falls_back_to_previous_generation(
        self, path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        await write_batches(path, BATCH_A, BATCH_B, compact_after=0)
        broken = snapshot_file(path, 2)
        broken.write_bytes(b'{"people": {"p1": {"name": "Ada", "key": "' + SECRET.encode() + b'"')
        with caplog.at_level(logging.ERROR, logger="services.storage.journaled"):
            store = open_store(path)
        health = store.health()
        assert health.ready
        assert len(health.quarantined) == 1 and ".corrupt-" in health.quarantined[0]
        assert Path(health.quarantined[0]).name.startswith(broken.name)
        assert "moved aside" in health.detail
        assert not broken.exists()
        assert contents(store) == model_of(BATCH_A, BATCH_B)  # snapshot 1 + journals 1 and 2
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert errors and errors[0].event == "storage.quarantine"
        assert errors[0].file == str(broken)
        for record in caplog.records:  # logs never hold document contents (product keys)
            assert SECRET not in record.getMessage() and SECRET not in json.dumps(
                record.__dict__, default=str
            )
        await store.close()
        await assert_recovers(path, model_of(BATCH_A, BATCH_B))

    async def test_no_good_snapshot_is_refused_or_starts_empty_when_accepted(self, path: Path) -> None:
        await write_batches(path, BATCH_A)
        snapshot_file(path, 1).write_bytes(b"[1, 2")
        with pytest.raises(StoreDamagedError, match="no readable snapshot"):
            open_store(path)
        store = JournaledTinyStore(path, INDEXES, accept_loss=True)
        health = store.health()
        assert health.ready and contents(store) == {}
        assert len(health.quarantined) == 2  # the snapshot and the journal that needs it
        assert all(Path(q).exists() for q in health.quarantined)
        assert "started empty" in health.detail
        await store.close()

    @pytest.mark.parametrize(
        "payload", [b"{not json", b"[]", b'{"people": [1]}', b'{"people": {"p1": 3}}', b"\xff\xfe"]
    )
    async def test_invalid_snapshot_shapes_are_quarantined(self, path: Path, payload: bytes) -> None:
        await write_batches(path, BATCH_A, compact_after=0)
        await write_batches(path, BATCH_B)
        snapshot_file(path, 2).write_bytes(payload)
        store = open_store(path)
        assert len(store.health().quarantined) == 1
        assert contents(store) == model_of(BATCH_A, BATCH_B)
        await store.close()


class TestFilesAndFailures:
    async def test_snapshot_is_a_tinydb_file(self, path: Path) -> None:
        await write_batches(path, BATCH_A, BATCH_B, compact_after=1)
        expected = model_of(BATCH_A, BATCH_B)
        db = StrIdTinyDB(str(snapshot_file(path, 2)), access_mode="r")  # stock JSONStorage
        try:
            assert {d.doc_id: dict(d) for d in db.table("people").all()} == expected["people"]
        finally:
            db.close()
        ours = StrIdTinyDB(snapshot_file(path, 2), storage=SnapshotStorage)
        assert [d.doc_id for d in ours.table("assignments").search(where("person_id") == "p2")] == ["a2"]

    async def test_indexes_rebuilt_from_a_snapshot(self, path: Path) -> None:
        values: list[Any] = [0, 1.5, True, None, "", "s", [1, "x"], {"k": [1]}]
        store = open_store(path)
        await store.apply([Put("assignments", f"a{i}", {"person_id": v}) for i, v in enumerate(values)])
        await store.apply([Put("assignments", "none", {"other": 1})])
        await store.compact()
        await store.close()
        store = open_store(path)
        for value in values:
            found = {d["id"] for d in store.find("assignments", "person_id", value)}
            assert found == {f"a{j}" for j, v in enumerate(values) if v == value}, value
        assert store.stats.scans == 0
        await store.close()

    async def test_plain_tinydb_file_is_imported_once(self, path: Path) -> None:
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"_default": {}, "people": {"p1": {"name": "Ada"}}}))
        store = open_store(path)
        assert contents(store) == {"people": {"p1": {"id": "p1", "name": "Ada"}}}
        assert not path.exists() and any(".imported-" in n for n in engine_files(path))
        await store.close()

    async def test_corrupt_plain_tinydb_file_is_quarantined(self, path: Path) -> None:
        path.parent.mkdir(parents=True)
        path.write_text('{"people": {"p1": {"name": "Ada"}}}garbage')
        store = open_store(path)
        assert contents(store) == {} and len(store.health().quarantined) == 1
        await store.close()

    async def test_write_failure_stops_writes_and_loses_no_acknowledged_batch(self, path: Path) -> None:
        fail = False

        def before_fsync() -> None:
            if fail:
                raise OSError(5, "Input/output error")

        store = JournaledTinyStore(path, INDEXES, before_fsync=before_fsync, retry_seconds=0.3)
        await store.apply(BATCH_A)
        fail = True
        with pytest.raises(StoreUnavailableError):
            await store.apply(BATCH_B)
        assert contents(store) == model_of(BATCH_A)  # never visible
        assert not store.health().ready and "disk error" in store.health().detail
        fail = False
        with pytest.raises(StoreUnavailableError):  # refused until the store has tried again
            await store.apply(BATCH_C)
        for _ in range(200):
            if store.health().ready:
                break
            await asyncio.sleep(0.05)
        assert store.health().ready
        await store.apply(BATCH_C)
        await store.close()
        await assert_recovers(path, model_of(BATCH_A, BATCH_C))

    async def test_closing_while_the_store_waits_to_retry(self, path: Path) -> None:
        def before_fsync() -> None:
            raise OSError(28, "No space left on device")

        store = JournaledTinyStore(path, INDEXES, before_fsync=before_fsync)
        with pytest.raises(StoreUnavailableError):
            await store.apply(BATCH_A)
        await store.close()  # does not wait for the retry
        await assert_recovers(path, {})

    async def test_one_writer_at_a_time(self, path: Path) -> None:
        store = open_store(path)
        with pytest.raises(StoreLockedError):
            open_store(path)
        await store.close()
        store = open_store(path)  # the lock goes with the store that held it
        await store.close()

    async def test_closed_store_refuses_writes(self, path: Path) -> None:
        store = open_store(path)
        await store.close()
        with pytest.raises(StoreUnavailableError):
            await store.apply(BATCH_A)
        assert not store.health().ready
