"""``get_decoded`` / ``all_decoded`` / ``find_decoded``: the same answers as decoding ``get``/``all``/``find``
on both engines, and the journaled engine's per-version cache never serves a stale object."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from services.storage import Delete, DocumentStore, JournaledTinyStore, Put
from tests._common.storage import ENGINES

INDEXES = {"people": ["email"]}
CALLS: list[str] = []


def decode(doc: dict[str, Any]) -> tuple[str, str, int]:
    """A stable decoder returning an immutable value; counts its calls."""
    CALLS.append(doc["id"])
    return (doc["id"], doc.get("email", ""), doc.get("n", 0))


@pytest.fixture(params=sorted(ENGINES))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[DocumentStore]:
    opened = ENGINES[request.param](tmp_path / "benefits.json", INDEXES)
    CALLS.clear()
    yield opened
    await opened.close()


async def test_decoded_reads_match_plain_reads(store: DocumentStore) -> None:
    await store.apply([Put("people", "a", {"email": "x@c.com", "n": 1}), Put("people", "b", {"email": "x@c.com"}),
                       Put("people", "c", {"email": "y@c.com", "n": 3})])
    assert store.get_decoded("people", "a", decode) == decode(store.get("people", "a"))
    assert store.get_decoded("people", "zz", decode) is None
    assert store.all_decoded("people", decode) == [decode(d) for d in store.all("people")]
    assert store.find_decoded("people", "email", "x@c.com", decode) == [
        decode(d) for d in store.find("people", "email", "x@c.com")]
    assert store.find_decoded("people", "n", 3, decode) == [("c", "y@c.com", 3)]  # not indexed: a scan
    assert store.find_decoded("people", "id", "b", decode) == [("b", "x@c.com", 0)]
    assert store.find_decoded("nothing", "email", "x@c.com", decode) == []


async def test_a_write_is_seen_at_once_by_every_decoded_read(store: DocumentStore) -> None:
    await store.apply([Put("people", "a", {"email": "x@c.com", "n": 1})])
    assert store.get_decoded("people", "a", decode) == ("a", "x@c.com", 1)
    assert store.find_decoded("people", "email", "x@c.com", decode) == [("a", "x@c.com", 1)]
    await store.apply([Put("people", "a", {"email": "z@c.com", "n": 2})])
    assert store.get_decoded("people", "a", decode) == ("a", "z@c.com", 2)
    assert store.all_decoded("people", decode) == [("a", "z@c.com", 2)]
    assert store.find_decoded("people", "email", "x@c.com", decode) == []
    assert store.find_decoded("people", "email", "z@c.com", decode) == [("a", "z@c.com", 2)]
    await store.apply([Delete("people", "a")])
    assert store.get_decoded("people", "a", decode) is None
    assert store.all_decoded("people", decode) == []
    assert store.find_decoded("people", "email", "z@c.com", decode) == []
    await store.apply([Put("people", "a", {"email": "x@c.com", "n": 1})])  # same content again
    assert store.get_decoded("people", "a", decode) == ("a", "x@c.com", 1)


async def test_journaled_engine_decodes_once_per_version(tmp_path: Path) -> None:
    store = JournaledTinyStore(tmp_path / "benefits.json", INDEXES)
    try:
        CALLS.clear()
        await store.apply([Put("people", "a", {"email": "x@c.com", "n": 1})])
        first = store.get_decoded("people", "a", decode)
        assert store.get_decoded("people", "a", decode) is first
        assert store.all_decoded("people", decode)[0] is first
        assert store.find_decoded("people", "email", "x@c.com", decode)[0] is first
        assert CALLS == ["a"]
        await store.apply([Put("people", "a", {"email": "x@c.com", "n": 1})])  # a new version, same content
        again = store.get_decoded("people", "a", decode)
        assert again == first and CALLS == ["a", "a"]
    finally:
        await store.close()


async def test_journaled_decoder_gets_a_copy_it_cannot_use_to_change_the_store(tmp_path: Path) -> None:
    store = JournaledTinyStore(tmp_path / "benefits.json", INDEXES)

    def vandal(doc: dict[str, Any]) -> str:
        doc["email"] = "changed@c.com"
        return str(doc["id"])

    try:
        await store.apply([Put("people", "a", {"email": "x@c.com"})])
        assert store.get_decoded("people", "a", vandal) == "a"
        assert store.get("people", "a") == {"id": "a", "email": "x@c.com"}
        assert [d["id"] for d in store.find("people", "email", "x@c.com")] == ["a"]
    finally:
        await store.close()
