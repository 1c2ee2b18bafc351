"""The conversation book: the newest reference of a person wins, and writes of it are coalesced.

Held with the journal's ``before_fsync`` hook (it runs in the writer thread before each durable
append), so the tests decide when a write reaches the disk.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from services.conversations import ConversationBook, bounded_reference
from services.repository import CONVERSATIONS
from services.storage import StoreUnavailableError
from services.storage.base import Put


def ref(chat: str) -> dict[str, Any]:
    return {"conversation": {"id": chat, "conversationType": "personal"}, "serviceUrl": "http://127.0.0.1:1/",
            "user": {"id": "29:alex"}, "bot": {"id": "28:bot"}, "channelId": "msteams"}


@contextmanager
def held(store: Any) -> Iterator[tuple[threading.Event, threading.Event]]:
    """Every durable append waits for ``release``; ``entered`` is set when one is waiting."""
    entered, release = threading.Event(), threading.Event()

    def hold() -> None:
        entered.set()
        assert release.wait(10), "the test never released the write"

    store._writer._before_fsync = hold
    try:
        yield entered, release
    finally:
        store._writer._before_fsync = None
        release.set()


async def test_references_that_come_while_one_is_written_share_one_write_of_the_newest(store: Any) -> None:
    book = ConversationBook(store)
    with held(store) as (entered, release):
        first = book.remember("alex", ref("a:1"))
        assert first is not None and await asyncio.to_thread(entered.wait, 10)
        later = [book.remember("alex", ref(f"a:{i}")) for i in (2, 3, 4)]
        assert book.reference("alex") == ref("a:4")  # readers get the newest at once
        assert all(f is not None and not f.done() for f in later)
        release.set()
        await first
        await asyncio.gather(*later)  # resolved once the newest (a:4) is durable
    assert store.stats.batches == 2  # a:1, then only a:4
    assert store.get(CONVERSATIONS, "alex")["reference"] == ref("a:4")
    assert book.reference("alex") == ref("a:4") and not book._writing


async def test_nothing_follows_when_the_chats_went_back_to_the_one_being_written(store: Any) -> None:
    book = ConversationBook(store)
    with held(store) as (entered, release):
        first = book.remember("alex", ref("a:1"))
        assert first is not None and await asyncio.to_thread(entered.wait, 10)
        back = [book.remember("alex", ref("a:2")), book.remember("alex", ref("a:1"))]
        release.set()
        await asyncio.gather(first, *back)
    assert store.stats.batches == 1
    assert book.remember("alex", ref("a:1")) is None  # known: no write at all


async def test_a_cancelled_waiter_cancels_neither_the_write_nor_the_others(store: Any) -> None:
    book = ConversationBook(store)
    with held(store) as (entered, release):
        first = book.remember("alex", ref("a:1"))
        assert first is not None and await asyncio.to_thread(entered.wait, 10)
        second, third = book.remember("alex", ref("a:2")), book.remember("alex", ref("a:3"))
        assert first is not None and second is not None and third is not None
        first.cancel()
        second.cancel()
        release.set()
        await third
    assert store.stats.batches == 2
    assert store.get(CONVERSATIONS, "alex")["reference"] == ref("a:3")


async def test_people_are_written_independently(store: Any) -> None:
    book = ConversationBook(store)
    writes = [book.remember(p, ref(f"a:{p}")) for p in ("alex", "megan", "lee")]
    await asyncio.gather(*writes)
    assert {p: book.reference(p)["conversation"]["id"] for p in ("alex", "megan", "lee")} == {
        "alex": "a:alex", "megan": "a:megan", "lee": "a:lee"}


async def test_a_store_that_refuses_writes_fails_the_waiters_and_leaves_the_stored_reference(
        store: Any) -> None:
    book = ConversationBook(store)
    await book.remember("alex", ref("a:1"))

    def broken() -> None:
        raise OSError(5, "Input/output error")

    store._writer._before_fsync = broken
    failing = book.remember("alex", ref("a:2"))
    waiting = book.remember("alex", ref("a:3"))
    assert failing is not None and waiting is not None
    with pytest.raises(StoreUnavailableError):
        await failing
    with pytest.raises(StoreUnavailableError):
        await waiting  # its write could not even start: the store refuses writes now
    assert book.reference("alex") == ref("a:1")  # what is on disk, not what failed
    with pytest.raises(StoreUnavailableError):
        book.remember("alex", ref("a:4"))
    assert book.reference("alex") == ref("a:1")


def deep(levels: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(levels):
        node["a"] = {}
        node = node["a"]
    return root


async def test_only_what_a_proactive_message_needs_is_stored(store: Any) -> None:
    book = ConversationBook(store)
    incoming = ref("a:1")
    incoming["user"] = {"id": "29:alex", "name": "A" * 5000, "properties": deep(600), "role": "user"}
    incoming["conversation"]["tenantId"] = "t1"
    incoming["activityId"] = "x" * 100_000
    await book.remember("alex", incoming)
    stored = store.get(CONVERSATIONS, "alex")["reference"]
    assert stored == {"conversation": {"id": "a:1", "conversationType": "personal", "tenantId": "t1"},
                      "serviceUrl": "http://127.0.0.1:1/", "user": {"id": "29:alex", "name": "A" * 256,
                                                                    "role": "user"},
                      "bot": {"id": "28:bot"}, "channelId": "msteams"}
    assert book.remember("alex", {"user": {"id": ""}, "conversation": {"id": "a:2"}}) is None  # unusable
    assert book.reference("alex") == stored


async def test_a_stored_reference_that_cannot_be_read_is_replaced_not_fatal(store: Any) -> None:
    bad = ref("a:old")
    bad["user"] = {"id": "29:alex", "properties": deep(600)}
    await store.apply([Put(CONVERSATIONS, "alex", {"reference": bad})])  # as the unbounded book stored it
    book = ConversationBook(store)
    # never raised on a turn: the journaled engine holds each document as its JSON text, which decodes
    # at any depth the encoder wrote; the book keeps only the parts of it the bot uses
    assert book.reference("alex") == bounded_reference(bad) != bad
    assert set(book.all_references()) <= {"alex"}  # listing them does not raise either
    write = book.remember("alex", ref("a:new"))
    assert write is not None
    await write
    assert book.reference("alex") == ref("a:new")


async def test_turns_waiting_for_the_follow_up_write_are_answered_when_deciding_it_fails(store: Any) -> None:
    book = ConversationBook(store)
    with held(store) as (entered, release):
        first = book.remember("alex", ref("a:1"))
        assert first is not None and await asyncio.to_thread(entered.wait, 10)
        waiting = book.remember("alex", ref("a:2"))
        assert waiting is not None

        def unreadable(table: str, doc_id: str) -> Any:
            raise RuntimeError("the store cannot read it back")

        store.get = unreadable
        release.set()
        await first
        with pytest.raises(RuntimeError):
            await asyncio.wait_for(waiting, 10)  # an answer (the failure), not a turn left hanging
