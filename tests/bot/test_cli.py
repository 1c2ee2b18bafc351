"""``python -m bot``: subcommands, inventory import (refusing bad files whole), export and restore."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import time
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


def test_a_malformed_record_is_reported_before_the_rest_of_the_file_is_read(tmp_path: Path) -> None:
    """The file is a pipe whose writer sends a malformed second person and then holds the pipe open (what
    follows is never sent): the import names the record and its place without waiting for the rest."""
    fifo = tmp_path / "inventory.json"
    os.mkfifo(fifo)
    organization = json.dumps(demo_inventory(__import__("datetime").date(2026, 11, 22))["organization"])
    head = (f'{{"organization": {organization},\n "people": [\n'
            '  {"id": "p-1", "name": "Ada", "email": "ada@contoso.com"},\n'
            '  {"id": "p-2", "name": "Bo", "email": "not an email"},\n').encode() + b" " * 200
    env = {"DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "ERROR", "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "import", str(fifo)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    writer = None
    try:
        deadline = time.monotonic() + 30
        while writer is None:  # the pipe opens for writing once the import has opened it for reading
            try:
                writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:
                if exc.errno != errno.ENXIO or time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.02)
        os.write(writer, head)
        _, err = proc.communicate(timeout=45)  # a reader of the whole file would wait for the writer forever
    finally:
        if writer is not None:
            os.close(writer)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 2
    assert "people[1].email (the record at line 4, column 3): not an email address" in err
    assert "nothing changed" in err and not (tmp_path / "data" / "benefits.json").exists()


def test_a_valid_inventory_from_a_pipe_is_refused_unwritten(tmp_path: Path) -> None:
    """An inventory is read twice (checked, then written), which a pipe cannot give."""
    fifo = tmp_path / "inventory.json"
    os.mkfifo(fifo)
    data = json.dumps(demo_inventory(__import__("datetime").date(2026, 11, 22))).encode()
    env = {"DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "ERROR", "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen([sys.executable, "-m", "bot", "import", str(fifo)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with fifo.open("wb") as writer:
        writer.write(data)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "not a pipe" in err and "nothing changed" in err
    assert not (tmp_path / "data" / "benefits.json").exists()
