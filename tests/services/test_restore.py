"""A backup is restored only if the bot can read every document of it, named by place when not."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.inventory import demo_inventory, import_inventory, parse_inventory
from services.repository import INDEXES
from services.restore import RestoreError, plan_restore
from services.storage import export_data, open_store


@pytest.fixture
async def demo_dump(tmp_path: Path) -> dict[str, Any]:
    store = open_store(tmp_path / "benefits.json", INDEXES)
    await import_inventory(store, parse_inventory(demo_inventory(date(2026, 11, 22))))
    dump = export_data(store)
    await store.close()
    return dump


def test_a_backup_of_the_demo_is_accepted_and_counted(demo_dump: dict[str, Any]) -> None:
    plan = plan_restore({"people": 3000, "audit": 5}, demo_dump)
    assert plan.replaces_data
    assert "people: 3000 -> 6" in plan.lines() and "audit: 5 -> 0" in plan.lines()


def first(dump: dict[str, Any], table: str) -> dict[str, Any]:
    return next(iter(dump["tables"][table].values()))


Mutation = Callable[[dict[str, Any]], None]


@pytest.mark.parametrize(("mutate", "where"), [
    (lambda d: first(d, "people").update(roles=["king"]), "].roles[0]"),
    (lambda d: first(d, "people").pop("name"), "].name"),
    (lambda d: first(d, "people").update(name=None), "].name"),
    (lambda d: first(d, "people").update(email=42), "].email"),
    (lambda d: first(d, "benefits").update(quantity="ten"), "].quantity"),
    (lambda d: first(d, "benefits").update(quantity=True), "].quantity"),
    (lambda d: first(d, "benefits").update(kind="firmware"), "].kind"),
    (lambda d: first(d, "benefits").update(category="software") if first(d, "benefits")["kind"] != "software"
     else first(d, "benefits").update(category="cloud"), "].category"),
    (lambda d: first(d, "benefits")["keys"].append({"id": "k", "language": "en"}), "].keys[6].os"),
    (lambda d: first(d, "packages").update(purchased_on="yesterday"), "].purchased_on"),
    (lambda d: first(d, "organization").update(id="other"), "].id"),
    (lambda d: d["tables"]["organization"].update(other={"name": "x", "account_email": "a@b.c"}),
     "tables.organization['other']"),
    (lambda d: d["tables"].update(junk={"x": {"a": 1}}), "tables.junk"),
    (lambda d: d["tables"].update(conversations={"p1": {"reference": "x"}}), "tables.conversations['p1'].reference"),
    (lambda d: d["tables"].update(outbox={"n1": {"state": "lost", "recipient": "p", "kind": "k", "created_at": "",
                                                  "attempts": 0, "params": {}}}), "tables.outbox['n1'].state"),
])
def test_junk_documents_are_refused_by_place(demo_dump: dict[str, Any], mutate: Mutation, where: str) -> None:
    dump = copy.deepcopy(demo_dump)
    mutate(dump)
    with pytest.raises(RestoreError) as info:
        plan_restore({}, dump)
    assert info.value.where.endswith(where) or info.value.where == where, info.value
