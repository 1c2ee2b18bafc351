"""The audit trail's retention: old changes leave the store for the archive; recent ones stay and page."""

from __future__ import annotations

import asyncio
import gzip
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.models import AuditEntry
from services import audit_archive
from services.audit_archive import archive_audit, read_archive
from services.repository import AUDIT, INDEXES, Repository, audit_time_keys
from services.storage import open_store
from services.storage.base import Delete

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def entry(i: int, days_ago: float, subject: str = "p-1") -> AuditEntry:
    return AuditEntry(f"a-{i:04d}", NOW - timedelta(days=days_ago), "admin", "person.roles_set", subject,
                      {"roles": []}, {"roles": ["user_admin"]})


async def test_entries_older_than_the_retention_move_to_the_archive(store: Any, tmp_path: Path) -> None:
    repo = Repository(store)
    await store.apply([Repository.put_audit(entry(i, 1000 - i * 100)) for i in range(10)])
    folder = tmp_path / "audit-archive"

    moved = await archive_audit(store, folder, retention_days=400, now=NOW)

    assert moved == 6  # 1000, 900, ..., 500 days old
    assert sorted(d["id"] for d in read_archive(folder)) == [f"a-{i:04d}" for i in range(6)]
    assert sorted(d["id"] for d in store.all(AUDIT)) == [f"a-{i:04d}" for i in range(6, 10)]
    archived = next(d for d in read_archive(folder) if d["id"] == "a-0000")
    assert AuditEntry.from_doc(archived) == entry(0, 1000)
    # the recent-changes card pages over what is kept, newest first
    assert [e.id for e in repo.audit_of("p-1", limit=3)] == ["a-0009", "a-0008", "a-0007"]
    assert [e.id for e in repo.audit_of("p-1", limit=3, offset=3)] == ["a-0006"]
    assert repo.audit_count("p-1") == 4
    # a second run has nothing to move and writes no file
    files = sorted(folder.iterdir())
    assert await archive_audit(store, folder, retention_days=400, now=NOW) == 0
    assert sorted(folder.iterdir()) == files
    assert all(gzip.open(f).read().count(b"\n") == 6 for f in files)


async def test_a_run_cut_short_after_its_file_loses_nothing_and_repeats_nothing(store: Any, tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    await store.apply([Repository.put_audit(entry(i, 500 + i)) for i in range(5)])
    folder = tmp_path / "audit-archive"
    real_apply = store.apply

    async def crash(ops: Any) -> None:
        raise OSError("killed")

    monkeypatch.setattr(store, "apply", crash)
    with pytest.raises(OSError):
        await archive_audit(store, folder, retention_days=400, now=NOW)
    assert len(store.all(AUDIT)) == 5  # the file was written; the entries were not yet deleted
    monkeypatch.setattr(store, "apply", real_apply)

    assert await archive_audit(store, folder, retention_days=400, now=NOW + timedelta(seconds=1)) == 5
    assert len(list(folder.iterdir())) == 2  # both files hold the five entries
    assert sorted(d["id"] for d in read_archive(folder)) == [f"a-{i:04d}" for i in range(5)]
    assert store.all(AUDIT) == []


async def test_many_entries_go_to_several_files_and_survive_a_restart(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_archive, "FILE_ENTRIES", 7)
    monkeypatch.setattr(audit_archive, "PAGE", 3)
    store = open_store(tmp_path / "benefits.json", INDEXES)
    Repository(store)
    await store.apply([Repository.put_audit(entry(i, 900 - i, subject=f"p-{i % 3}")) for i in range(30)])
    await store.apply([Repository.put_audit(entry(100 + i, 10)) for i in range(3)])
    folder = tmp_path / "audit-archive"
    assert await archive_audit(store, folder, retention_days=400, now=NOW) == 30
    await store.close()
    assert len(list(folder.iterdir())) == 5  # 7 + 7 + 7 + 7 + 2

    reopened = open_store(tmp_path / "benefits.json", INDEXES)
    try:
        assert sorted(d["id"] for d in reopened.all(AUDIT)) == ["a-0100", "a-0101", "a-0102"]
        assert len({d["id"] for d in read_archive(folder)}) == 30
    finally:
        await reopened.close()


async def test_the_bot_archives_after_its_first_delay_and_a_failed_run_is_retried(
        store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    today = datetime.now(UTC)
    await store.apply([Repository.put_audit(AuditEntry("old", today - timedelta(days=500), "admin", "x", "p-1")),
                       Repository.put_audit(AuditEntry("new", today - timedelta(days=5), "admin", "x", "p-1"))])
    folder = tmp_path / "audit-archive"
    runs: list[int] = []
    real = audit_archive.archive_audit

    async def flaky(*args: Any, **kwargs: Any) -> int:
        runs.append(1)
        if len(runs) == 1:
            raise OSError("disk full")
        return await real(*args, **kwargs)

    monkeypatch.setattr(audit_archive, "archive_audit", flaky)
    task = asyncio.create_task(audit_archive.archive_periodically(store, folder, 400, every_seconds=0.01,
                                                                  first_delay_seconds=0.05))
    await asyncio.sleep(0.02)
    assert runs == [] and len(store.all(AUDIT)) == 2  # not during the first delay
    for _ in range(200):
        await asyncio.sleep(0.01)
        if len(store.all(AUDIT)) == 1:
            break
    task.cancel()
    assert len(runs) >= 2 and [d["id"] for d in store.all(AUDIT)] == ["new"]
    assert [d["id"] for d in read_archive(folder)] == ["old"]


async def test_the_event_loop_keeps_answering_while_the_first_run_sorts_the_trail(
        store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first run sorts the whole trail by time. The sort is held at its first document until a write
    made on the event loop meanwhile is durable: the loop answers, and what it wrote is archived as it
    should be (the sort took the trail as it was before the write)."""
    await store.apply([Repository.put_audit(entry(i, 800 - i)) for i in range(600)])  # a-0000 to a-0399 are old
    sorting, answered = threading.Event(), threading.Event()
    waited: list[bool] = []

    def held_keys(doc: dict[str, Any]) -> list[str]:
        if not sorting.is_set():
            sorting.set()
            waited.append(answered.wait(timeout=5))
        return audit_time_keys(doc)

    monkeypatch.setattr(audit_archive, "audit_time_keys", held_keys)
    folder = tmp_path / "audit-archive"
    run = asyncio.create_task(archive_audit(store, folder, retention_days=400, now=NOW))
    assert await asyncio.to_thread(sorting.wait, 5)
    await store.apply([Repository.put_audit(entry(1000, 700)),  # an old one more
                       Delete(AUDIT, "a-0001"),  # an old one fewer
                       Repository.put_audit(entry(2, 10))])  # an old one made recent
    still_running = not run.done()
    answered.set()

    moved = await run
    assert still_running and waited == [True]
    assert moved == 399
    old = {f"a-{i:04d}" for i in range(400)} - {"a-0001", "a-0002"} | {"a-1000"}
    assert {d["id"] for d in read_archive(folder)} == old
    assert {d["id"] for d in store.all(AUDIT)} == {f"a-{i:04d}" for i in range(400, 600)} | {"a-0002"}


async def test_the_run_lets_the_event_loop_in_between_two_pages_of_old_entries(
        store: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_archive, "PAGE", 10)
    await store.apply([Repository.put_audit(entry(i, 800 - i)) for i in range(50)])
    turns = 0

    async def turn_after_turn() -> None:
        nonlocal turns
        while True:
            turns += 1
            await asyncio.sleep(0)

    pages: list[int] = []
    real_ordered = store.ordered

    def ordered(*args: Any, **kwargs: Any) -> Any:
        pages.append(turns)
        return real_ordered(*args, **kwargs)

    monkeypatch.setattr(store, "ordered", ordered)
    other = asyncio.create_task(turn_after_turn())
    try:
        assert await archive_audit(store, tmp_path / "audit-archive", retention_days=400, now=NOW) == 50
    finally:
        other.cancel()
    assert len(pages) >= 5 and len(set(pages)) == len(pages)  # a turn ran before every page
