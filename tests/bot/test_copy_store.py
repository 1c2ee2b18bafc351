"""``python -m bot copy-store``: an organization moves from a data folder to PostgreSQL and back with nothing
lost, and a target that holds anything is refused before a single write."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from bot.copy_store import CopyRefused, copy_stores
from services.inventory import demo_inventory, import_inventory, parse_inventory
from services.repository import INDEXES
from services.storage import Put, open_store
from services.storage.lock import DataFolderBusy, data_folder_lock
from services.storage.postgres import PostgresConfig, PostgresStore
from tests._common.postgres import PgCluster

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    environ = {"LOG_LEVEL": "ERROR", "PATH": "/usr/bin:/bin", "PORT": "0"}
    return subprocess.run([sys.executable, "-m", "bot", "copy-store", *args], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=60)


async def organization(folder: Path) -> dict[str, dict]:
    """A data folder with the demo organization and some bot state; what it holds, per store."""
    domain = open_store(folder / "benefits.json", INDEXES)
    state = open_store(folder / "state.json", {})
    await import_inventory(domain, parse_inventory(demo_inventory(date(2026, 11, 22))))
    await state.apply([Put("state", "conv-1", {"value": "{\"dialog\": [1, \"二\"]}", "e_tag": "e1"})])
    held = {"benefits": domain.dump(), "state": state.dump()}
    await domain.close()
    await state.close()
    return held


async def held_by(url: str) -> dict[str, dict]:
    out = {}
    for namespace, indexes in (("benefits", INDEXES), ("state", {})):
        store = await PostgresStore.open(PostgresConfig(url, pool_min=1, pool_max=3), indexes, namespace=namespace,
                                         poll=False)
        out[namespace] = store.dump()
        await store.close()
    return out


async def test_an_organization_moves_to_postgresql_and_back(pg_cluster: PgCluster, tmp_path: Path) -> None:
    before = await organization(tmp_path / "data")
    url = pg_cluster.new_database()
    done = run("--from", str(tmp_path / "data"), "--to", url)
    assert done.returncode == 0, done.stderr
    assert "benefits: copied" in done.stdout and "state: copied 1 records" in done.stdout
    assert await held_by(url) == before
    again = run("--from", str(tmp_path / "data"), "--to", url)  # the target now holds data
    assert again.returncode == 1 and "already holds data" in again.stderr and "nothing was copied" in again.stderr
    assert await held_by(url) == before
    # and back, into a new folder; the original folder (not empty) is refused
    counts = await copy_stores(url, str(tmp_path / "back"))
    assert dict(counts)["state.json"] == 1
    for folder in (tmp_path / "back", tmp_path / "data"):
        stores = {stem: open_store(folder / f"{stem}.json", INDEXES if stem == "benefits" else {})
                  for stem in ("benefits", "state")}
        assert {stem: s.dump() for stem, s in stores.items()} == before
        for store in stores.values():
            await store.close()
    with pytest.raises(CopyRefused, match="already holds data"):
        await copy_stores(url, str(tmp_path / "data"))


async def test_a_source_that_holds_no_store_or_is_in_use_is_refused(pg_cluster: PgCluster, tmp_path: Path) -> None:
    url = pg_cluster.new_database()
    with pytest.raises(CopyRefused, match="holds no store"):
        await copy_stores(str(tmp_path / "typo"), url)
    with pytest.raises(CopyRefused, match="holds no store"):
        await copy_stores(url, str(tmp_path / "out"))
    await organization(tmp_path / "data")
    with data_folder_lock(tmp_path / "data"), pytest.raises(DataFolderBusy):  # the bot is running on it
        await copy_stores(str(tmp_path / "data"), url)
    assert await held_by(url) == {"benefits": {}, "state": {}}


def test_seed_and_export_work_on_the_database_that_storage_url_names(pg_cluster: PgCluster, tmp_path: Path) -> None:
    url = pg_cluster.new_database()
    env = {"LOG_LEVEL": "ERROR", "PATH": "/usr/bin:/bin", "STORAGE_URL": url, "DATA_DIR": str(tmp_path / "data")}

    def bot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=60)

    seeded = bot("seed", "--demo")
    assert seeded.returncode == 0 and "demo data loaded" in seeded.stdout, seeded.stderr
    assert bot("seed", "--demo").returncode == 1  # it holds data now
    exported = bot("export", str(tmp_path / "backup.json"))
    assert exported.returncode == 0, exported.stderr
    assert '"people"' in (tmp_path / "backup.json").read_text(encoding="utf-8")
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").glob("benefits.*"))
