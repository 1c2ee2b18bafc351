"""Inventory files: a required date is refused when missing, not read as "no date"; a file is read a record at
a time, checked whole before anything is written, and written in batches."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from domain.models import Organization, Person
from services import inventory as inventory_module
from services.inventory import (
    InventoryChanged,
    InventoryError,
    PackageRecord,
    check_inventory_file,
    demo_inventory,
    import_inventory,
    import_inventory_file,
    parse_inventory,
    read_inventory,
)
from services.repository import BENEFITS, PEOPLE
from services.storage import JournaledTinyStore


def _demo() -> dict[str, Any]:
    return demo_inventory(date(2026, 11, 30))


@pytest.fixture
def batches_of_4(monkeypatch: pytest.MonkeyPatch) -> None:
    """Imports write at most four documents a batch."""
    monkeypatch.setattr(inventory_module, "IMPORT_BATCH", 4)


def _written(tmp_path: Path, raw: dict[str, Any]) -> Path:
    """``raw`` as an inventory file on disk (see :func:`_file`)."""
    path = tmp_path / "inventory.json"
    path.write_bytes(_file(raw).getvalue())
    return path


@pytest.mark.parametrize("blank", ["", "   ", None])
def test_a_package_without_a_purchase_date_is_refused_naming_the_field(blank: str | None) -> None:
    inventory = _demo()
    inventory["packages"][0]["purchased_on"] = blank
    with pytest.raises(InventoryError) as refused:
        parse_inventory(inventory)
    assert refused.value.where == "packages[0].purchased_on"
    assert refused.value.problem == "is required"


def test_optional_dates_may_be_blank() -> None:
    inventory = _demo()
    inventory["packages"][0]["expires_on"] = "  "
    assert parse_inventory(inventory).packages[0].expires_on is None


async def test_a_large_inventory_is_written_in_batches_and_whole(store: JournaledTinyStore, batches_of_4: None) -> None:
    inventory = parse_inventory(_crowd(10))
    written = await import_inventory(store, inventory)
    documents = 1 + len(inventory.people) + len(inventory.packages) + len(inventory.benefits)
    assert written == documents
    assert store.stats.batches == -(-documents // 4)  # no batch holds more than IMPORT_BATCH documents
    assert {p["id"] for p in store.all(PEOPLE)} == {p.id for p in inventory.people}
    assert len(store.all(BENEFITS)) == len(inventory.benefits)


def _file(raw: dict[str, Any], order: tuple[str, ...] = ("organization", "people", "packages")) -> io.BytesIO:
    """The inventory as a file, its members in ``order``, one person a line."""
    parts = []
    for key in order:
        if key == "people":
            parts.append('"people": [\n' + ",\n".join(json.dumps(p, ensure_ascii=False) for p in raw["people"]) + "\n]")
        else:
            parts.append(f"{json.dumps(key)}: {json.dumps(raw[key], ensure_ascii=False)}")
    return io.BytesIO(("{\n" + ",\n".join(parts) + "\n}\n").encode())


def _crowd(n: int) -> dict[str, Any]:
    """The demo inventory with ``n`` more people."""
    raw = _demo()
    raw["people"] += [{"id": f"p-{i}", "name": f"王 {i}", "email": f"p{i}@contoso.com"} for i in range(n)]
    return raw


@pytest.mark.parametrize("order", [("organization", "people", "packages"), ("packages", "people", "organization")])
def test_a_file_read_a_record_at_a_time_gives_the_inventory(order: tuple[str, ...]) -> None:
    raw = _crowd(30)
    whole = parse_inventory(raw)
    records = list(read_inventory(_file(raw, order)))
    assert [r for r in records if isinstance(r, Organization)] == [whole.organization]
    assert [r for r in records if isinstance(r, Person)] == whole.people
    assert [r.package for r in records if isinstance(r, PackageRecord)] == whole.packages
    assert [b for r in records if isinstance(r, PackageRecord) for b in r.benefits] == whole.benefits
    checked = check_inventory_file(_file(raw, order))
    assert (checked.packages, checked.benefits, checked.people) == (2, len(whole.benefits), 36)


def _second_package_at(raw: dict[str, Any]) -> str:
    line = _file(raw).getvalue().decode().splitlines()[40]
    return f"line 41, column {line.index(json.dumps({'id': 'pkg-gold-cloud'})[:-1]) + 1}"


@pytest.mark.parametrize(("mutate", "where"), [
    (lambda raw: raw["people"][9].update(email="nope"),
     lambda raw: "people[9].email (the record at line 13, column 1)"),
    (lambda raw: raw["people"][20].update(id=raw["people"][3]["id"]),
     lambda raw: "people[20].id (the record at line 24, column 1)"),
    (lambda raw: raw["packages"][1]["benefits"][0].update(id="sw-office"),
     lambda raw: f"packages[1].benefits[0].id (the record at {_second_package_at(raw)})"),
])
def test_the_record_at_fault_is_named_with_its_line_and_column(mutate: Any, where: Any) -> None:
    raw = _crowd(30)
    mutate(raw)
    with pytest.raises(InventoryError) as refused:
        check_inventory_file(_file(raw))
    assert refused.value.where == where(raw)


@pytest.mark.parametrize(("data", "where"), [
    (b'{"people": [], "packages": []}', "organization"),
    (b'{"organization": {"name": "C", "account_email": "a@c.com"}, "people": []}', "packages"),
    (b'{"organization": {"name": "C", "account_email": "a@c.com"},\n "people": {}, "packages": []}',
     "people (the record at line 2, column 12)"),
])
def test_what_the_file_as_a_whole_lacks_is_named(data: bytes, where: str) -> None:
    with pytest.raises(InventoryError) as refused:
        check_inventory_file(io.BytesIO(data))
    assert refused.value.where == where


async def test_a_file_is_written_in_batches_after_it_is_checked_whole(tmp_path: Path, store: JournaledTinyStore,
                                                                      batches_of_4: None) -> None:
    raw = _crowd(30)
    with _written(tmp_path, raw).open("rb") as file:
        checked = check_inventory_file(file)
        file.seek(0)
        written = await import_inventory_file(store, file, checked)
    documents = 1 + 36 + 2 + checked.benefits
    assert written == documents and store.stats.batches == -(-documents // 4)
    assert {p["id"] for p in store.all(PEOPLE)} == {p["id"] for p in raw["people"]}


@pytest.mark.parametrize("change", ["still valid", "now at fault"])
async def test_a_file_changed_between_its_check_and_its_writing_is_refused(tmp_path: Path, store: JournaledTinyStore,
                                                                           change: str) -> None:
    """The second reading is of the file that was checked, or the import says it is not."""
    raw = _crowd(5)
    path = _written(tmp_path, raw)
    with path.open("rb") as file:
        checked = check_inventory_file(file)
        file.seek(0)
        raw["people"][-1]["email"] = "changed@contoso.com" if change == "still valid" else "changed"
        with path.open("r+b") as rewrite:  # the same file, written over in place
            rewrite.write(_file(raw).getvalue())
        with pytest.raises(InventoryChanged) as refused:
            await import_inventory_file(store, file, checked)
    assert "changed since it was checked" in refused.value.problem
