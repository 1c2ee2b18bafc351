"""Inventory files: a required date is refused when missing, not read as "no date"."""

from __future__ import annotations

from datetime import date

import pytest

from services.inventory import InventoryError, demo_inventory, parse_inventory


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
