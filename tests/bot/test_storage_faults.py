"""Faults of the data folder as the operator meets them: the bot, ``import`` and ``repair`` refuse loudly
and change nothing, and never seed the demo organization over a real one."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from aiohttp import ClientSession

from services.inventory import demo_inventory, import_inventory, parse_inventory
from services.repository import INDEXES, Repository
from services.storage import open_store
from tests._common.harness import bot_settings, start_bot

ROOT = Path(__file__).resolve().parents[2]


def run(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {"DATA_DIR": str(data_dir), "LOG_LEVEL": "ERROR", "PATH": "/usr/bin:/bin", "PORT": "0", **env}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=environ, capture_output=True,
                          text=True, timeout=60)


def fabrikam() -> dict[str, object]:
    inventory = demo_inventory(date(2026, 11, 22))
    inventory["organization"]["name"] = "Fabrikam"
    for n, person in enumerate(inventory["people"]):
        person.update(name=f"Fabrikam Person {n}", email=f"person{n}@fabrikam.com")
    return inventory


async def real_organization(data_dir: Path) -> None:
    """Fabrikam's data, compacted twice so that the newest snapshot holds it and a fallback exists."""
    store = open_store(data_dir / "benefits.json", INDEXES)
    await import_inventory(store, parse_inventory(fabrikam()))
    await store.compact()
    await store.compact()
    await store.close()


def files_of(data_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in data_dir.iterdir() if not p.name.endswith(".lock")}


async def test_demo_data_is_never_seeded_over_a_store_that_lost_its_newest_snapshot(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    await real_organization(data_dir)
    newest = sorted(data_dir.glob("benefits.g*.json"))[-1]
    newest.write_bytes(b"")
    runner, _ = await start_bot(bot_settings(data_dir, SEED_DEMO="true"))
    await runner.cleanup()
    store = open_store(data_dir / "benefits.json", INDEXES)
    repo = Repository(store)
    assert repo.organization().name == "Fabrikam"
    assert {p.email for p in repo.people()} == {f"person{n}@fabrikam.com" for n in range(6)}
    await store.close()


async def test_demo_data_goes_only_into_a_new_store(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    runner, base = await start_bot(bot_settings(data_dir, SEED_DEMO="false"))
    await runner.cleanup()
    runner, base = await start_bot(bot_settings(data_dir, SEED_DEMO="true"))  # the store exists: no demo
    async with ClientSession() as session, session.get(f"{base}/readyz") as resp:
        assert resp.status == 200
    await runner.cleanup()
    store = open_store(data_dir / "benefits.json", INDEXES)
    assert Repository(store).organization() is None
    await store.close()


async def test_the_bot_refuses_to_start_on_a_deleted_journal_and_repair_accepts_the_loss(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    await real_organization(data_dir)
    store = open_store(data_dir / "benefits.json", INDEXES)
    await store.apply([Repository.put_organization(Repository(store).organization().__class__(
        id="default", name="Fabrikam Ltd", account_email="pc@fabrikam.com"))])
    await store.close()
    newest = sorted(data_dir.glob("benefits.g*.journal"))[-1]
    newest.unlink()
    before = files_of(data_dir)
    result = run(data_dir, "serve", SEED_DEMO="true")
    assert result.returncode == 4
    assert newest.name in result.stderr and "repair --accept-loss" in result.stderr and "--replace" in result.stderr
    assert "Traceback" not in result.stderr
    assert files_of(data_dir) == before
    result = run(data_dir, "repair")
    assert result.returncode == 1 and "damaged" in result.stdout and files_of(data_dir) == before
    result = run(data_dir, "repair", "--accept-loss")
    assert result.returncode == 0, result.stderr
    store = open_store(data_dir / "benefits.json", INDEXES)
    assert Repository(store).organization().name == "Fabrikam"  # the snapshot's
    await store.close()


def test_a_restore_shows_what_it_replaces_and_needs_replace(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert run(data_dir, "seed", "--demo").returncode == 0
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"format": "partner-benefits-bot/storage", "version": 1,
                                 "tables": {"people": {}, "benefits": {}}}))
    before = files_of(data_dir)
    result = run(data_dir, "import", str(empty))
    assert result.returncode == 1 and "--replace" in result.stderr and "nothing changed" in result.stderr
    assert "people: 6 -> 0" in result.stdout and "benefits: 11 -> 0" in result.stdout
    assert files_of(data_dir) == before
    result = run(data_dir, "import", str(empty), "--replace")
    assert result.returncode == 0 and "restored 0 records" in result.stdout


def test_a_restore_with_a_junk_document_changes_nothing_and_the_bot_still_starts(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    assert run(data_dir, "seed", "--demo").returncode == 0
    backup = tmp_path / "backup.json"
    assert run(data_dir, "export", str(backup)).returncode == 0
    dump = json.loads(backup.read_text())
    dump["tables"]["organization"]["default"]["name"] = {"$junk": True}
    backup.write_text(json.dumps(dump))
    before = files_of(data_dir)
    result = run(data_dir, "import", str(backup), "--replace")
    assert result.returncode == 2
    assert "tables.organization['default'].name: must be a string" in result.stderr
    assert files_of(data_dir) == before


def test_hostile_import_files_end_in_a_clear_error(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    cases = {
        "latin1.json": (b'{"organization": {"name": "Caf\xe9"}}', "line 1, column 31", "not UTF-8"),
        "surrogate.json": (b'{"organization": {"name": "\\ud800", "account_email": "a@b.c"}, "packages": []}',
                           "organization.name", "lone surrogate"),
        "deep.json": (b'{"a": ' + b"[" * 100_000, "line 1, column 70, in a", "nested deeper"),
        "digits.json": (b'{"n": ' + b"1" * 5000 + b"}", "line 1, column 7, in n", "5000 digits"),
        "list.json": (b"[" * 100_000, "line 1, column 1", "expecting an object"),
    }
    for name, (data, where, problem) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        result = run(data_dir, "import", str(path))
        assert result.returncode == 2, (name, result.stderr)
        assert f"{path}: {where}: " in result.stderr and problem in result.stderr, (name, result.stderr)
        assert "Traceback" not in result.stderr and "nothing changed" in result.stderr
