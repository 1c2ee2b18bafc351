"""``export`` while the bot runs: ``GET /api/backup`` (loopback, bearer secret) and the CLI that uses it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession, web

from bot import keys
from bot.cli import main as cli_main
from services.storage.backup import export_data
from tests._common.harness import bot_settings, start_bot

SECRET = "backup-secret-for-tests-only"


@pytest.fixture
async def running(data_dir: Path) -> AsyncIterator[tuple[web.AppRunner, str]]:
    runner, base = await start_bot(bot_settings(data_dir, BACKUP_SECRET=SECRET))
    yield runner, base
    await runner.cleanup()


async def test_the_running_bot_serves_a_consistent_backup(running: tuple[web.AppRunner, str]) -> None:
    runner, base = running
    store = runner.app[keys.DOMAIN_STORE]
    async with ClientSession() as session:
        async with session.get(f"{base}/api/backup", headers={"Authorization": f"Bearer {SECRET}"}) as resp:
            assert resp.status == 200 and resp.headers["Cache-Control"] == "no-store"
            dump = json.loads(await resp.read())
    assert dump["format"] == "partner-benefits-bot/storage" and dump["version"] == 1
    assert dump["tables"] == export_data(store)["tables"] and "benefits" in dump["tables"]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {SECRET}", "Bearer"])
async def test_no_backup_without_the_secret(running: tuple[web.AppRunner, str], authorization: str | None) -> None:
    _, base = running
    headers = {"Authorization": authorization} if authorization else {}
    async with ClientSession() as session, session.get(f"{base}/api/backup", headers=headers) as resp:
        assert resp.status == 401 and "tables" not in await resp.text()


async def test_no_backup_endpoint_without_a_configured_secret(data_dir: Path) -> None:
    runner, base = await start_bot(bot_settings(data_dir))
    try:
        async with ClientSession() as session, session.get(
                f"{base}/api/backup", headers={"Authorization": "Bearer "}) as resp:
            assert resp.status == 503 and "BACKUP_SECRET" in await resp.text()
    finally:
        await runner.cleanup()


async def test_only_loopback_callers_get_a_backup(running: tuple[web.AppRunner, str]) -> None:
    from aiohttp.test_utils import make_mocked_request

    from bot.operator.backup import get_backup

    runner, _ = running
    request = make_mocked_request("GET", "/api/backup", headers={"Authorization": f"Bearer {SECRET}"},
                                  app=runner.app)
    object.__setattr__(request, "_cache", {**request._cache, "remote": "10.0.0.7"})  # as a remote peer would be
    assert (await get_backup(request)).status == 403


async def test_export_while_the_bot_runs_asks_it(running: tuple[web.AppRunner, str], data_dir: Path,
                                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner, base = running
    monkeypatch.setenv("DATA_DIR", str(data_dir))
    monkeypatch.setenv("PORT", base.rsplit(":", 1)[1])
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    target = tmp_path / "backup.json"
    monkeypatch.setenv("BACKUP_SECRET", SECRET)
    assert await asyncio.to_thread(cli_main, ["export", str(target)]) == 0
    assert json.loads(target.read_text())["tables"] == export_data(runner.app[keys.DOMAIN_STORE])["tables"]
    monkeypatch.setenv("BACKUP_SECRET", "")
    assert await asyncio.to_thread(cli_main, ["export", str(tmp_path / "other.json")]) == 3
    assert not (tmp_path / "other.json").exists()
