"""Inventory files: a required date is refused when missing, not read as "no date"; a large one is written in
batches."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from services import inventory as inventory_module
from services.inventory import InventoryError, demo_inventory, import_inventory, parse_inventory
from services.repository import BENEFITS, INDEXES, PEOPLE
from services.storage import open_store


@pytest.mark.parametrize("blank", ["", "   ", None])
def test_a_package_without_a_purchase_date_is_refused_naming_the_field(blank: str | None) -> None:
    inventory = demo_inventory(date(2026, 11, 30))
    inventory["packages"][0]["purchased_on"] = blank
    with pytest.raises(InventoryError) as refused:
        parse_inventory(inventory)
    assert refused.value.where == "packages[0].purchased_on"
    assert refused.value.problem == "is required"


def test_optional_dates_may_be_blank() -> None:
    inventory = demo_inventory(date(2026, 11, 30))
    inventory["packages"][0]["expires_on"] = "  "
    assert parse_inventory(inventory).packages[0].expires_on is None


async def test_a_large_inventory_is_written_in_batches_and_whole(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(inventory_module, "IMPORT_BATCH", 4)
    raw = demo_inventory(date(2026, 11, 30))
    raw["people"] += [{"id": f"p-{i}", "name": f"Person {i}", "email": f"p{i}@contoso.com"} for i in range(10)]
    inventory = parse_inventory(raw)
    store = open_store(tmp_path / "benefits.json", INDEXES)
    try:
        written = await import_inventory(store, inventory)
        documents = 1 + len(inventory.people) + len(inventory.packages) + len(inventory.benefits)
        assert written == documents
        assert store.stats.batches == -(-documents // 4)  # no batch holds more than IMPORT_BATCH documents
        assert {p["id"] for p in store.all(PEOPLE)} == {p.id for p in inventory.people}
        assert len(store.all(BENEFITS)) == len(inventory.benefits)
    finally:
        await store.close()
