"""``python -m bot``: subcommands, inventory import (refusing bad files whole), export and restore."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from services.inventory import InventoryError, demo_inventory, parse_inventory, parse_inventory_text

ROOT = Path(__file__).resolve().parents[2]


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"DATA_DIR": str(data_dir), "LOG_LEVEL": "ERROR", "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)


def test_help_lists_the_subcommands(tmp_path: Path) -> None:
    out = run(tmp_path, "--help").stdout
    for name in ("serve", "dev", "seed", "import", "export"):
        assert name in out


def test_seed_import_export_restore(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert run(data, "seed", "--demo").returncode == 0
    assert run(data, "seed", "--demo").returncode == 1  # never over existing data
    backup = tmp_path / "backup.json"
    result = run(data, "export", str(backup))
    assert result.returncode == 0, result.stderr
    dump = json.loads(backup.read_text())
    assert dump["format"] == "partner-benefits-bot/storage" and "benefits" in dump["tables"]
    restored = tmp_path / "restored"
    assert run(restored, "import", str(backup)).returncode == 0
    again = tmp_path / "again.json"
    run(restored, "export", str(again))
    assert json.loads(again.read_text())["tables"] == dump["tables"]


def test_a_malformed_inventory_names_the_field_and_changes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    run(data, "seed", "--demo")
    before = {p.name: p.read_bytes() for p in data.iterdir()}
    inventory = demo_inventory(__import__("datetime").date(2026, 11, 22))
    inventory["packages"][0]["benefits"][1]["kind"] = "firmware"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(inventory))
    result = run(data, "import", str(bad))
    assert result.returncode == 2
    assert "packages[0].benefits[1].kind" in result.stderr and "nothing changed" in result.stderr
    assert {p.name: p.read_bytes() for p in data.iterdir()} == before


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "organization": {\n    "name": "Contoso",,\n  }\n}')
    result = run(tmp_path / "data", "import", str(bad))
    assert result.returncode == 2 and "line 3" in result.stderr


def test_example_inventory_file_is_valid() -> None:
    inventory = parse_inventory_text((ROOT / "examples" / "inventory.json").read_text())
    assert inventory.organization.name and inventory.benefits


@pytest.mark.parametrize(("mutate", "where"), [
    (lambda inv: inv["organization"].pop("account_email"), "organization.account_email"),
    (lambda inv: inv["people"][0].update(email="nope"), "people[0].email"),
    (lambda inv: inv["people"][1].update(roles=["king"]), "people[1].roles[0]"),
    (lambda inv: inv["packages"][0].update(purchased_on="yesterday"), "packages[0].purchased_on"),
    (lambda inv: inv["packages"][1]["benefits"][0].update(quantity=0), "packages[1].benefits[0].quantity"),
    (lambda inv: inv["packages"][0]["benefits"][0]["downloads"][0].update(url="http://x"),
     "packages[0].benefits[0].downloads[0].url"),
])
def test_field_errors_name_their_path(mutate, where) -> None:
    from datetime import date

    inventory = demo_inventory(date(2026, 11, 22))
    mutate(inventory)
    with pytest.raises(InventoryError) as info:
        parse_inventory(inventory)
    assert info.value.where == where


def test_the_cli_refuses_to_write_while_the_bot_holds_the_data(tmp_path: Path) -> None:
    from services.storage.lock import data_folder_lock

    data = tmp_path / "data"
    with data_folder_lock(data):
        result = run(data, "seed", "--demo")
    assert result.returncode == 3 and "in use" in result.stderr
