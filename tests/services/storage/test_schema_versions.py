"""The journaled store's data version: a folder an older bot wrote is upgraded once at start, a fresh one is
recorded at the newest version, and a folder a newer bot wrote is refused before anything is written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from services.repository import INDEXES
from services.storage import JournaledTinyStore, Put, StoreUnavailableError, open_engine, open_store
from services.storage.journal import HEADER_SIZE
from services.storage.schema_versions import CURRENT, record_path, upgrade
from tests._common.postgres import PgCluster

OLD_PERSON = {"name": "王小明", "email": "wang@contoso.com", "role": "member",
              "_search": ["王小明", "小明", "明", "wang@contoso.com"], "_skeleton": "王小明"}


def version_of(path: Path) -> int:
    return int(json.loads(record_path(path).read_text())["version"])


async def test_a_folder_an_older_bot_wrote_is_upgraded_once_at_start(tmp_path: Path) -> None:
    path = tmp_path / "benefits.json"
    old = JournaledTinyStore(path, INDEXES)  # as a bot before data versions left it: no record
    await old.apply([Put("people", "p1", OLD_PERSON), Put("people", "p2", {"name": "Lee", "email": "lee@x"}),
                     Put("benefits", "b1", {"name": "Azure", "_search": "not a person's: kept"})])
    await old.close()
    assert not record_path(path).exists()
    store = await open_engine(None, path, INDEXES)
    try:
        assert store.get("people", "p1") == {"id": "p1", "name": "王小明", "email": "wang@contoso.com",
                                             "role": "member"}
        assert store.get("people", "p2") == {"id": "p2", "name": "Lee", "email": "lee@x"}
        assert store.get("benefits", "b1") == {"id": "b1", "name": "Azure", "_search": "not a person's: kept"}
    finally:
        await store.close()
    assert version_of(path) == CURRENT
    store = open_store(path, INDEXES)  # the upgrade was durable, and the next start has nothing to do
    try:
        assert "_search" not in (store.get("people", "p1") or {})
        assert await upgrade(store, path, created=False) == []
    finally:
        await store.close()


async def test_people_s_unknown_ids_an_older_bot_stored_empty_are_left_out_and_out_of_the_indexes(
        tmp_path: Path) -> None:
    path = tmp_path / "benefits.json"
    old = JournaledTinyStore(path, INDEXES)
    await old.apply([Put("people", "p1", {"name": "Lee", "email": "lee@x", "aad_object_id": "", "teams_id": ""}),
                     Put("people", "p2", {"name": "Ana", "email": "ana@x", "aad_object_id": "a2", "teams_id": ""}),
                     Put("people", "p3", {"name": "Bo", "email": "bo@x", "aad_object_id": "a3", "teams_id": "29:3"})])
    await old.close()
    (tmp_path / "benefits.schema.json").write_text('{"version": 2}\n', encoding="utf-8")
    store = await open_engine(None, path, INDEXES)
    try:
        assert store.get("people", "p1") == {"id": "p1", "name": "Lee", "email": "lee@x"}
        assert store.get("people", "p2") == {"id": "p2", "name": "Ana", "email": "ana@x", "aad_object_id": "a2"}
        assert store.get("people", "p3") == {"id": "p3", "name": "Bo", "email": "bo@x", "aad_object_id": "a3",
                                             "teams_id": "29:3"}
        assert store.find_ids("people", "aad_object_id", "") == [] and store.find_ids("people", "teams_id", "") == []
        assert store.find_ids("people", "teams_id", "29:3") == ["p3"]
        newest = max(tmp_path.glob("benefits.g*.journal"))
        assert newest.stat().st_size == HEADER_SIZE  # compacted after the upgrade: no start replays it again
        assert newest.with_suffix(".index").exists()
    finally:
        await store.close()
    assert version_of(path) == CURRENT


async def test_a_plain_tinydb_file_of_an_older_bot_is_imported_and_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "benefits.json"
    path.write_text(json.dumps({"people": {"p1": OLD_PERSON}}), encoding="utf-8")
    store = await open_engine(None, path, INDEXES)
    try:
        assert store.get("people", "p1") == {"id": "p1", "name": "王小明", "email": "wang@contoso.com",
                                             "role": "member"}
    finally:
        await store.close()
    assert version_of(path) == CURRENT


async def test_a_migration_cut_short_before_its_record_runs_again_with_nothing_left_to_do(tmp_path: Path) -> None:
    path = tmp_path / "benefits.json"
    old = JournaledTinyStore(path, INDEXES)
    await old.apply([Put("people", "p1", {"name": "Lee"})])  # already in the new shape, record missing
    await old.close()
    store = open_store(path, INDEXES)
    try:
        assert await upgrade(store, path, created=False) == [2, 3]  # moved on, with no write to make
        assert store.get("people", "p1") == {"id": "p1", "name": "Lee"}
    finally:
        await store.close()
    assert version_of(path) == CURRENT


async def test_a_new_store_is_recorded_at_the_newest_version(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    store = await open_engine(None, path, {})
    await store.close()
    assert version_of(path) == CURRENT


@pytest.mark.parametrize("record", [json.dumps({"version": CURRENT + 1}), "{not json", json.dumps({"version": "2"})])
async def test_a_folder_of_a_newer_bot_or_an_unreadable_record_is_refused_before_anything_is_written(
        tmp_path: Path, record: str) -> None:
    path = tmp_path / "benefits.json"
    record_path(path).write_text(record, encoding="utf-8")
    expected = "newer than this bot knows" if "version\": " + str(CURRENT + 1) in record else "cannot be read"
    with pytest.raises(StoreUnavailableError, match=expected):
        await open_engine(None, path, INDEXES)
    with pytest.raises(StoreUnavailableError, match=expected):
        open_store(path, INDEXES)
    assert sorted(p.name for p in tmp_path.iterdir()) == [record_path(path).name]  # nothing created or changed
    assert record_path(path).read_text(encoding="utf-8") == record


async def test_data_an_older_bot_left_in_postgresql_is_upgraded_once_and_a_newer_version_refused(
        pg_cluster: PgCluster) -> None:
    from services.storage.postgres import PostgresConfig, PostgresStore
    from services.storage.schema_versions import upgrade_shared

    url = pg_cluster.new_database()
    dbname = url.rsplit("/", 1)[1]
    config = PostgresConfig(url, pool_min=1, pool_max=3, poll_seconds=60)
    old = await PostgresStore.open(config, INDEXES, poll=False)  # as a bot before data versions left it
    await old.apply([Put("people", "p1", OLD_PERSON)])
    await old.close()
    assert pg_cluster.psql("SELECT count(*) FROM benefits.store_data_version", dbname) == "0"
    store = await open_engine(config, Path("data/benefits.json"), INDEXES)
    try:
        assert store.get("people", "p1") == {"id": "p1", "name": "王小明", "email": "wang@contoso.com",
                                             "role": "member"}
        assert await upgrade_shared(store, "benefits") == []  # recorded: nothing left to do
    finally:
        await store.close()
    assert pg_cluster.psql("SELECT version FROM benefits.store_data_version", dbname) == str(CURRENT)
    pg_cluster.psql(f"UPDATE benefits.store_data_version SET version = {CURRENT + 1}", dbname)
    with pytest.raises(StoreUnavailableError, match="newer than this bot knows"):
        await open_engine(config, Path("data/benefits.json"), INDEXES)
