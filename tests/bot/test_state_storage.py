"""Bot state storage: botbuilder's Storage contract, e_tag concurrency, and real dialog state."""

from __future__ import annotations

from pathlib import Path

import pytest
from botbuilder.core import ConversationState, MemoryStorage, StoreItem, TurnContext
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import Activity

from bot.state_storage import ETagConflictError, TinyDBStateStorage
from services.storage import open_store


class Note(StoreItem):
    def __init__(self, text: str = "", e_tag: str | None = None) -> None:
        super().__init__(text=text, e_tag=e_tag)


@pytest.fixture(params=["memory", "tinydb"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "memory":
        yield MemoryStorage()
    else:
        store = open_store(tmp_path / "state.json", {})
        yield TinyDBStateStorage(store)
        await store.close()


async def test_write_read_delete_round_trip(storage) -> None:
    await storage.write({"a": {"count": 1}, "b": Note("hello")})
    got = await storage.read(["a", "b", "missing"])
    assert got["a"]["count"] == 1 and got["b"].text == "hello" and "missing" not in got
    await storage.delete(["a"])
    assert "a" not in await storage.read(["a"])


async def test_stale_etag_is_refused(tmp_path: Path) -> None:
    store = open_store(tmp_path / "state.json", {})
    await _stale_etag_is_refused(store)
    await store.close()


async def _stale_etag_is_refused(store) -> None:
    storage = TinyDBStateStorage(store)
    await storage.write({"k": {"n": 1}})
    first = (await storage.read(["k"]))["k"]
    second = (await storage.read(["k"]))["k"]
    first["n"] = 2
    await storage.write({"k": first})
    second["n"] = 3
    with pytest.raises(ETagConflictError):
        await storage.write({"k": second})
    assert (await storage.read(["k"]))["k"]["n"] == 2
    second["e_tag"] = "*"
    await storage.write({"k": second})
    assert (await storage.read(["k"]))["k"]["n"] == 3


async def test_empty_keys_are_rejected(tmp_path: Path) -> None:
    store = open_store(tmp_path / "s.json", {})
    storage = TinyDBStateStorage(store)
    with pytest.raises(ValueError):
        await storage.read([])
    with pytest.raises(ValueError):
        await storage.write({"": {"x": 1}})
    await store.close()


async def test_conversation_state_survives_reopen(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    raw = {"type": "message", "channelId": "test", "conversation": {"id": "c1"}, "from": {"id": "u1"},
           "recipient": {"id": "bot"}, "serviceUrl": "http://127.0.0.1"}
    first = open_store(path, {})
    state = ConversationState(TinyDBStateStorage(first))
    accessor = state.create_property("progress")
    context = TurnContext(TestAdapter(), Activity().deserialize(raw))
    await state.load(context)
    await accessor.set(context, {"step": 2})
    await state.save_changes(context)
    await first.close()
    second = open_store(path, {})
    reopened = ConversationState(TinyDBStateStorage(second))
    context2 = TurnContext(TestAdapter(), Activity().deserialize(raw))
    await reopened.load(context2)
    assert await reopened.create_property("progress").get(context2) == {"step": 2}
    await second.close()
