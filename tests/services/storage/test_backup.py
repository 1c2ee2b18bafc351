"""Backup and restore: ``export_data`` / ``import_data`` between and within engines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.storage import JournaledTinyStore, Put, export_data, import_data
from services.storage.backup import RestoreRefused
from tests._common.stock_store import StockTinyStore
from tests._common.storage import contents

INDEXES = {"assignments": ["person_id"]}


async def test_round_trip_from_stock_to_journaled(tmp_path: Path) -> None:
    stock = StockTinyStore(tmp_path / "stock.json", INDEXES)
    await stock.apply([Put("people", "p1", {"name": "Ada"}), Put("assignments", "a1", {"person_id": "p1"})])
    dump = json.loads(json.dumps(export_data(stock)))  # through a file's worth of JSON
    await stock.close()

    store = JournaledTinyStore(tmp_path / "benefits.json", INDEXES)
    await store.apply([Put("people", "old", {"name": "gone after restore"})])
    batches = store.stats.batches
    assert await import_data(store, dump, replace=True) == 2
    assert store.stats.batches == batches + 1  # the whole restore is one atomic batch
    assert contents(store) == dump["tables"]
    assert [d["id"] for d in store.find("assignments", "person_id", "p1")] == ["a1"]
    await store.close()
    reopened = JournaledTinyStore(tmp_path / "benefits.json", INDEXES)
    assert contents(reopened) == dump["tables"]
    await reopened.close()


async def test_export_shape(tmp_path: Path) -> None:
    store = JournaledTinyStore(tmp_path / "benefits.json", INDEXES)
    await store.apply([Put("people", "p1", {"name": "Ada"})])
    dump = export_data(store)
    assert dump["format"] == "partner-benefits-bot/storage" and dump["version"] == 1
    assert dump["tables"] == {"people": {"p1": {"id": "p1", "name": "Ada"}}}
    await store.close()


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"people": {}},
        {"format": "partner-benefits-bot/storage", "version": 99, "tables": {}},
        {"format": "partner-benefits-bot/storage", "version": 1, "tables": {"people": []}},
        {
            "format": "partner-benefits-bot/storage",
            "version": 1,
            "tables": {"people": {"p1": {"x": float("nan")}}},
        },
        {"format": "partner-benefits-bot/storage", "version": 1, "tables": {"people": {"": {}}}},
    ],
)
async def test_bad_dump_changes_nothing(tmp_path: Path, bad: dict[str, object]) -> None:
    store = JournaledTinyStore(tmp_path / "benefits.json", INDEXES)
    await store.apply([Put("people", "p1", {"name": "Ada"})])
    with pytest.raises(ValueError):
        await import_data(store, bad, replace=True)
    assert contents(store) == {"people": {"p1": {"id": "p1", "name": "Ada"}}}
    await store.close()


async def test_restoring_over_data_must_be_asked_for(tmp_path: Path) -> None:
    store = JournaledTinyStore(tmp_path / "benefits.json", INDEXES)
    await store.apply([Put("people", "p1", {"name": "Ada"})])
    empty = {"format": "partner-benefits-bot/storage", "version": 1, "tables": {"people": {}}}
    with pytest.raises(RestoreRefused):
        await import_data(store, empty)
    assert contents(store) == {"people": {"p1": {"id": "p1", "name": "Ada"}}}
    assert await import_data(store, empty, replace=True) == 0
    assert contents(store) == {}
    await store.close()
