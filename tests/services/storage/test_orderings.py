"""The journaled engine keeps an ordering sorted as it writes: a page never reads the table again.

A page of the directory must cost the same with 1,000 or 150,000 people, so after the ordering is
declared the engine looks at a document's keys only when that document is written.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from services.storage import Delete, JournaledTinyStore, Put, memory


class CountingKeys:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, doc: dict[str, Any]) -> list[str]:
        self.calls += 1
        return [str(doc["name"])]


async def test_a_page_reads_no_document_and_a_write_reads_only_its_own(tmp_path: Path) -> None:
    store = JournaledTinyStore(tmp_path / "benefits.json", {})
    try:
        await store.apply([Put("people", f"p{i:04d}", {"name": f"n{i:04d}"}) for i in range(1_000)])
        keys = CountingKeys()
        store.order_by("people", "name", keys)
        assert keys.calls == 0  # sorted when first asked for
        store.ordered("people", "name", "", 0, 1)
        assert keys.calls == 1_000
        store.order_by("people", "name", keys)  # declared again by another repository: nothing to do
        for offset in range(0, 1_000, 100):
            ids, count = store.ordered("people", "name", "", offset, 10)
            assert count == 1_000 and ids[0] == f"p{offset:04d}"
        assert store.ordered("people", "name", "n05", 0, 3) == (["p0500", "p0501", "p0502"], 100)
        assert keys.calls == 1_000
        await store.apply([Put("people", "p0001", {"name": "zz"}), Delete("people", "p0002")])
        assert keys.calls == 1_000 + 3  # the rewritten document before and after, the deleted one
        assert store.ordered("people", "name", "", 997, 5) == (["p0999", "p0001"], 999)
    finally:
        await store.close()


async def test_a_bulk_batch_leaves_the_ordering_as_writing_one_by_one_would(tmp_path: Path) -> None:
    store = JournaledTinyStore(tmp_path / "benefits.json", {})
    try:
        store.order_by("people", "name", CountingKeys())
        store.ordered("people", "name")
        await store.apply([Put("people", f"p{i:04d}", {"name": f"n{(i * 7919) % 3000:04d}"}) for i in range(3_000)]
                          + [Delete("people", "p0005"), Put("people", "p0006", {"name": "a"})])
        ids, count = store.ordered("people", "name", "", 0, 3_000)
        expected = sorted((f"n{(i * 7919) % 3000:04d}", f"p{i:04d}") for i in range(3_000) if i not in (5, 6))
        assert count == 2_999 and ids == ["p0006", *(doc_id for _, doc_id in expected)]
        await store.apply([Put("people", "p0007", {"name": "b"})])  # one by one again
        assert store.ordered("people", "name", "", 0, 2) == (["p0006", "p0007"], 2_999)
    finally:
        await store.close()


async def test_a_batch_deleting_the_oldest_thousands_reads_only_the_documents_it_writes(tmp_path: Path) -> None:
    """What the audit archive does each day: the oldest entries of a long ordering go, a few are added."""
    store = JournaledTinyStore(tmp_path / "benefits.json", {})
    try:
        await store.apply([Put("audit", f"a{i:05d}", {"name": f"t{i:05d}"}) for i in range(5_000)])
        keys = CountingKeys()
        store.order_by("audit", "time", keys)
        store.ordered("audit", "time")
        assert keys.calls == 5_000
        await store.apply([Delete("audit", f"a{i:05d}") for i in range(2_000)]
                          + [Delete("audit", "a03000"), Put("audit", "a03001", {"name": "t99999"})]
                          + [Put("audit", f"b{i:05d}", {"name": f"t{i:05d}"}) for i in range(100)])
        assert keys.calls == 5_000 + 2_001 + 2 + 100  # the deleted, the rewritten before and after, the new
        ids, count = store.ordered("audit", "time", "", 0, 10_000)
        expected = sorted([(f"t{i:05d}", f"a{i:05d}") for i in range(2_000, 5_000) if i not in (3_000, 3_001)]
                          + [(f"t{i:05d}", f"b{i:05d}") for i in range(100)] + [("t99999", "a03001")])
        assert count == len(expected) == 3_099 and ids == [doc_id for _, doc_id in expected]
    finally:
        await store.close()


class AdminKeys(CountingKeys):
    def __call__(self, doc: dict[str, Any]) -> list[str]:
        self.calls += 1
        return [str(doc["name"])] if "admin" in doc.get("roles", []) else []


async def test_an_ordering_listed_only_with_a_text_decodes_only_the_documents_holding_it(tmp_path: Path) -> None:
    """The Global admins among a large directory: the first page decodes the admins, not everyone."""
    store = JournaledTinyStore(tmp_path / "benefits.json", {})
    try:
        await store.apply([Put("people", f"p{i:04d}", {"name": f"n{i:04d}", "roles": ["admin"] if i % 100 == 7 else []})
                           for i in range(1_000)]
                          + [Put("people", "x", {"name": "admin", "roles": ["administrator"]})])  # holds the text
        keys = AdminKeys()
        store.order_by("people", "admins", keys, listed_only_with='"admin"')
        assert store.ordered("people", "admins", "", 0, 100) == ([f"p{i:04d}" for i in range(7, 1_000, 100)], 10)
        assert keys.calls == 11
        await store.apply([Put("people", "p0008", {"name": "a", "roles": ["admin"]}), Delete("people", "p0007")])
        assert store.ordered("people", "admins", "", 0, 2) == (["p0008", "p0107"], 10)
    finally:
        await store.close()


class HeldKeys:
    """Keys by name; the first document a worker thread asks about holds it until ``release`` is set."""

    def __init__(self) -> None:
        self.held, self.release = threading.Event(), threading.Event()
        self.on_the_loop = 0

    def __call__(self, doc: dict[str, Any]) -> list[str]:
        if threading.current_thread() is threading.main_thread():
            self.on_the_loop += 1
        elif not self.held.is_set():
            self.held.set()
            self.release.wait(timeout=5)
        return [str(doc["name"])] if "admin" in doc.get("roles", []) or "roles" not in doc else []


def _name(i: int) -> str:
    return f"n{(i * 7919) % 3000:04d}"


async def test_an_ordering_sorted_off_the_loop_takes_in_the_writes_made_meanwhile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "SORT_PIECE", 7)  # many pieces to merge
    store = JournaledTinyStore(tmp_path / "benefits.json", {})
    try:
        await store.apply([Put("people", f"p{i:04d}", {"name": _name(i)}) for i in range(3_000)])
        keys = HeldKeys()
        store.order_by("people", "name", keys)
        sorting = asyncio.create_task(store.prepare_ordering("people", "name"))
        assert await asyncio.to_thread(keys.held.wait, 5)
        await store.apply([Delete("people", "p0005"), Put("people", "p0006", {"name": "a"}),
                           Put("people", "p3000", {"name": "b"})])
        await store.apply([Put("people", "p0006", {"name": "c"})])
        keys.release.set()
        await sorting
        ids, count = store.ordered("people", "name", "", 0, 4_000)
        expected = sorted((_name(i), f"p{i:04d}") for i in range(3_000) if i not in (5, 6))
        assert count == 3_000 and ids == ["p3000", "p0006", *(doc_id for _, doc_id in expected)]
        assert keys.on_the_loop == 1 + 2 + 1 + 2  # the writes' documents only: the page was ready
        await store.prepare_ordering("people", "name")  # ready: nothing to do
        with pytest.raises(KeyError):
            await store.prepare_ordering("people", "undeclared")
    finally:
        await store.close()


async def test_a_page_asked_for_while_the_thread_sorts_is_answered_on_the_loop(tmp_path: Path) -> None:
    store = JournaledTinyStore(tmp_path / "benefits.json", {})
    try:
        await store.apply([Put("people", f"p{i:04d}", {"name": f"n{i:04d}", "roles": ["admin"] if i % 100 == 7 else []})
                           for i in range(1_000)])
        keys = HeldKeys()
        store.order_by("people", "admins", keys, listed_only_with='"admin"')
        sorting = asyncio.create_task(store.prepare_ordering("people", "admins"))
        assert await asyncio.to_thread(keys.held.wait, 5)
        assert store.ordered("people", "admins", "", 0, 2) == (["p0007", "p0107"], 10)
        await store.apply([Put("people", "p0008", {"name": "a", "roles": ["admin"]})])
        keys.release.set()
        await sorting  # what it sorted is dropped: the loop's ordering has the write
        assert store.ordered("people", "admins", "", 0, 2) == (["p0008", "p0007"], 11)
    finally:
        await store.close()
