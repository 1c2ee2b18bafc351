"""The bot on PostgreSQL (``STORAGE_URL``): two bot apps on one database act as one bot over HTTP, and a
database that goes away is reported by ``/readyz``, answered with "try again", and recovered from alone."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import ClientSession

from bot import keys
from bot.settings import Settings
from domain.models import Role
from tests._common.fake_connector import FakeConnector
from tests._common.harness import (
    ALEX,
    DIEGO,
    ISAIAH,
    LEE,
    MEGAN,
    NESTOR,
    BotClient,
    all_text,
    bot_settings,
    cards_in,
    running_bot,
    texts_in,
)
from tests._common.postgres import PgCluster

LEE_ID, NESTOR_ID, DIEGO_ID, MEGAN_ID = (p["aadObjectId"] for p in (LEE, NESTOR, DIEGO, MEGAN))


@pytest.fixture
async def two_bots(pg_cluster: PgCluster, connector: FakeConnector, tmp_path: Path
                   ) -> AsyncIterator[tuple[BotClient, BotClient]]:
    """Two bot apps (two instances) on one fresh database, each with its own (unused) data folder."""
    url = pg_cluster.new_database()

    def settings(n: int) -> Settings:
        return bot_settings(tmp_path / f"data{n}", STORAGE_URL=url, PG_POLL_SECONDS="30")

    async with ClientSession() as session, running_bot(settings(1), connector, session) as first, \
            running_bot(settings(2), connector, session) as second:
        yield first, second


def card_text(body: dict) -> str:
    assert body["statusCode"] == 200, body
    return all_text(body["value"]["body"][0])


async def test_two_instances_are_one_bot(two_bots: tuple[BotClient, BotClient], tmp_path: Path) -> None:
    one, two = two_bots
    assert not [p for n in (1, 2) for p in (tmp_path / f"data{n}").glob("*.json")]  # nothing went to files
    async with one.session.get(f"{one.base}/readyz") as resp:
        body = await resp.json()
        assert resp.status == 200 and body["status"] == "ready"
        assert [s["path"].rsplit("#", 1)[1] for s in body["stores"]] == ["benefits", "state"]
    assert len(one.service.repo.people()) == len(two.service.repo.people()) > 0  # seeded once, seen by both
    alex = one.service.repo.person(ALEX["aadObjectId"])
    isaiah = one.service.repo.person(ISAIAH["aadObjectId"])
    assert alex is not None and isaiah is not None
    await one.service.set_roles(alex, isaiah.id, frozenset({Role.GLOBAL_ADMIN}))
    await one.service.assign(alex, "vs-enterprise", LEE_ID)
    await one.service.assign(alex, "vs-enterprise", NESTOR_ID)
    # two admins, each on another instance, click for the last seat at the same moment
    results = await asyncio.gather(
        one.execute(ALEX, "assign_user", {"benefit_id": "vs-enterprise", "person_id": DIEGO_ID}),
        two.execute(ISAIAH, "assign_user", {"benefit_id": "vs-enterprise", "person_id": MEGAN_ID}),
    )
    notices = [card_text(body) for _, body, _ in results]
    assert sum("is assigned to" in n for n in notices) == 1, notices
    assert sum("Every seat" in n for n in notices) == 1, notices
    for client in (one, two):
        await client.service.store.refresh()
        held = [a for a in client.service.repo.assignments_of_benefit("vs-enterprise") if a.is_current]
        assert len(held) == 3
    # a redelivered click arrives at the other instance: one effect
    activity = one.activity(ALEX, type="invoke", name="adaptiveCard/action", value={
        "action": {"type": "Action.Execute", "verb": "assign_user",
                   "data": {"action": "assign_user", "benefit_id": "vs-professional", "person_id": LEE_ID}}})
    assert (await one.post(activity))[0] == 200
    assert (await two.post(activity))[0] == 200
    held = [a for a in two.service.repo.assignments_of_benefit("vs-professional") if a.is_current]
    assert [a.person_id for a in held].count(LEE_ID) == 1
    # a person's language chosen on one instance is spoken by the other on the next turn
    assert "简体中文" in " ".join(texts_in(await one.say(LEE, "language zh-CN")))
    assert "我能为你做什么" in all_text(cards_in(await two.say(LEE, "help"))[0])


async def test_a_lost_database_is_reported_and_recovered_from(pg_cluster: PgCluster, connector: FakeConnector,
                                                             tmp_path: Path) -> None:
    url = pg_cluster.new_database()
    settings = bot_settings(tmp_path / "data", STORAGE_URL=url, PG_POLL_SECONDS="0.1", PG_CONNECT_TIMEOUT_SECONDS="1")
    async with running_bot(settings, connector) as bot:
        session, base = bot.session, bot.base
        assert (await bot.say(ALEX, "help"))
        pg_cluster.stop("immediate")
        try:
            for _ in range(100):  # the background catch-up notices within a connect timeout
                async with session.get(f"{base}/readyz") as resp:
                    body = await resp.json()
                if resp.status == 503:
                    break
                await asyncio.sleep(0.1)
            assert resp.status == 503 and body["status"] == "not ready", body
            assert any("database" in store["detail"] and not store["ready"] for store in body["stores"]), body
            before = len(connector.sent)
            status, _ = await bot.post(bot.activity(ALEX, text="help"))
            assert status < 500
            replies = texts_in(connector.sent[before:])
            assert any("can't reach the bot's data" in t and "try again in a moment" in t for t in replies), replies
            before = len(connector.sent)
            status, _ = await bot.post(bot.activity(LEE, text="help", locale="zh-CN"))
            assert status < 500
            assert any("暂时无法访问机器人的数据" in t for t in texts_in(connector.sent[before:]))
            # a card click (an invoke) is answered in place, in the person's language; nothing is written
            click = {"action": {"type": "Action.Execute", "verb": "assign_user", "data": {
                "action": "assign_user", "benefit_id": "vs-enterprise", "person_id": LEE["aadObjectId"]}},
                "trigger": "manual"}
            status, body = await bot.post(bot.activity(ALEX, type="invoke", name="adaptiveCard/action",
                                                       value=click, locale="zh-TW"))
            assert status == 200 and "目前無法存取機器人的資料" in str(body.get("value")), body
        finally:
            pg_cluster.start()
        for _ in range(100):
            async with session.get(f"{base}/readyz") as resp:
                if resp.status == 200:
                    break
            await asyncio.sleep(0.1)
        assert resp.status == 200
        assert "What I can do for you" in all_text(cards_in(await bot.say(ALEX, "help"))[0])
        assignments = bot.app[keys.SERVICE].store.find("assignments", "benefit_id", "vs-enterprise")
        assert LEE["aadObjectId"] not in {a["person_id"] for a in assignments}  # the refused click wrote nothing


async def test_bot_state_e_tags_hold_across_instances(pg_cluster: PgCluster) -> None:
    from bot.state_storage import ETagConflictError, TinyDBStateStorage
    from services.storage.postgres import PostgresConfig, PostgresStore
    from tests._common.postgres import unique_namespace

    namespace = unique_namespace()
    config = PostgresConfig(pg_cluster.dsn(), pool_min=1, pool_max=3, poll_seconds=60)
    stores = [await PostgresStore.open(config, {}, namespace=namespace) for _ in range(2)]
    try:
        one, two = (TinyDBStateStorage(store) for store in stores)
        await one.write({"conv-1": {"turns": 1}})
        first, second = (await one.read(["conv-1"]))["conv-1"], (await two.read(["conv-1"]))["conv-1"]
        assert first["e_tag"] == second["e_tag"]  # both instances read the same version
        await one.write({"conv-1": {**first, "turns": 2}})
        with pytest.raises(ETagConflictError):  # the other instance's copy is stale now
            await two.write({"conv-1": {**second, "turns": 3}})
        assert (await two.read(["conv-1"]))["conv-1"]["turns"] == 2
    finally:
        for store in stores:
            await store.close()


def test_the_pool_timeouts_and_retries_are_settings(tmp_path: Path) -> None:
    from bot.stores import storage_config

    url = "postgresql://bot:secret@db.example.com:5432/benefits?sslmode=require"
    config = storage_config(bot_settings(tmp_path / "data", STORAGE_URL=url, PG_POOL_MIN="3", PG_POOL_MAX="20",
                                         PG_CONNECT_TIMEOUT_SECONDS="2.5", PG_STATEMENT_TIMEOUT_SECONDS="30",
                                         PG_POLL_SECONDS="0.5", PG_RETRIES="4"))
    assert config is not None and config.conninfo == url
    assert (config.pool_min, config.pool_max, config.connect_timeout, config.statement_timeout,
            config.poll_seconds, config.retries) == (3, 20, 2.5, 30.0, 0.5, 4)
    assert config.safe_target == "postgresql://bot@db.example.com:5432/benefits"  # no password in logs
    typo = storage_config(bot_settings(tmp_path / "data", STORAGE_URL=url, PG_RETRIES="many", PG_POOL_MAX="-1"))
    assert typo is not None and (typo.retries, typo.pool_max) == (1, 10)  # a typo falls back to the default
    assert storage_config(bot_settings(tmp_path / "data", PG_RETRIES="4")) is None  # no database: the data folder


async def test_repair_checks_the_database_and_tidies_its_bookkeeping(pg_cluster: PgCluster, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    from bot.cli import cmd_repair
    from services.notifications import DELIVERED, Notification, Outbox
    from services.repository import INDEXES
    from services.storage.postgres import PostgresConfig, PostgresStore

    url = pg_cluster.new_database()
    dbname = url.rsplit("/", 1)[1]
    store = await PostgresStore.open(PostgresConfig(url, pool_min=1, pool_max=2), INDEXES, poll=False)
    outbox = Outbox(store)
    await outbox.enqueue([Notification("ev", "p1", "assigned")])
    await outbox.claim("ev|p1", "someone", 60)
    await outbox.record({"ev|p1": {"state": DELIVERED}})  # the claim is settled
    await store.close()
    pg_cluster.psql("INSERT INTO benefits.store_instances (id, seen_at) VALUES ('gone', now() - interval '2 days')",
                    dbname)
    settings = bot_settings(tmp_path / "data", STORAGE_URL=url)
    assert await cmd_repair(settings, argparse.Namespace(accept_loss=False)) == 0
    out = capsys.readouterr().out
    assert "benefits: schema version 4" in out and "1 documents" in out and "0 claims held" in out, out
    assert "removed 1 heartbeats" in out and "damaged" not in out, out
    assert pg_cluster.psql("SELECT count(*) FROM benefits.store_claims", dbname) == "0"
    pg_cluster.psql("UPDATE benefits.store_head SET seq = 0", dbname)  # the head no longer covers a document
    assert await cmd_repair(settings, argparse.Namespace(accept_loss=False)) == 1
    assert "damaged: a document carries change number" in capsys.readouterr().out
