"""Three bot processes on one PostgreSQL database, driven round-robin over HTTP as Teams would: the seat
races give exactly the seats there are, a redelivered click has one effect, every assignee notice is sent
once by one of them, and after one process is killed (``kill -9``) and the database restarted, the
others go on by themselves."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientSession

from services.notifications import DELIVERED, Notification, Outbox
from services.repository import CONVERSATIONS, INDEXES, OUTBOX
from services.storage import Put
from services.storage.postgres import PostgresConfig, PostgresStore
from tests._common.fake_connector import FakeConnector
from tests._common.harness import ALEX, BOT, DIEGO, ISAIAH, LEE, MEGAN, NESTOR
from tests._common.loopback import free_port, wait_ready
from tests._common.postgres import PgCluster

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = (LEE, MEGAN, NESTOR, DIEGO, ISAIAH)
#: a claim's lease: longer than a send plus a database restart, short enough to wait for in a test
LEASE = 8
FANOUT = 240
#: sends one worker works on at once (``Worker.concurrency``): the most a killed instance can leave in doubt
CONCURRENCY = 16


class Instance:
    """``python -m bot serve`` on a free loopback port, its store in PostgreSQL."""

    def __init__(self, folder: Path, url: str) -> None:
        self.port = free_port()
        folder.mkdir(parents=True)
        self.log = folder / "bot.log"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DATA_DIR": str(folder / "data"), "PORT": str(self.port),
               "HOST": "127.0.0.1", "SEED_DEMO": "true", "LOG_LEVEL": "WARNING", "MicrosoftAppId": "",
               "STORAGE_URL": url, "PG_POLL_SECONDS": "0.2", "PG_CONNECT_TIMEOUT_SECONDS": "2",
               "NOTIFY_BACKOFF_SECONDS": "0.2", "NOTIFY_LEASE_SECONDS": str(LEASE), "NOTIFY_IDLE_SECONDS": "0.2",
               "NOTIFY_APP_RPS": "60"}
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=ROOT, env=env, stdout=log,
                                         stderr=subprocess.STDOUT)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def cluster_url(pg_cluster: PgCluster) -> str:
    return pg_cluster.new_database()


@pytest.fixture
async def instances(cluster_url: str, tmp_path: Path, session: ClientSession) -> AsyncIterator[list[Instance]]:
    first = Instance(tmp_path / "i1", cluster_url)  # the first creates the schema and the demo organization
    await ready(session, first)
    started = [first, Instance(tmp_path / "i2", cluster_url), Instance(tmp_path / "i3", cluster_url)]
    try:
        for instance in started[1:]:
            await ready(session, instance)
        yield started
    finally:
        for instance in started:
            instance.stop()


@pytest.fixture
async def session() -> AsyncIterator[ClientSession]:
    async with ClientSession() as http:
        yield http


async def ready(session: ClientSession, instance: Instance) -> None:
    await wait_ready(session, instance.base, instance.proc, log=instance.log)


def activity(connector: FakeConnector, user: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"type": "message", "id": uuid.uuid4().hex, "channelId": "msteams", "serviceUrl": connector.url,
            "from": user, "recipient": BOT, "locale": "en-US",
            "conversation": {"id": f"a:personal-{user['id']}", "conversationType": "personal", "tenantId": "t1"},
            "channelData": {"tenant": {"id": "t1"}}, **fields}


def assign(connector: FakeConnector, benefit_id: str, person: dict[str, Any]) -> dict[str, Any]:
    data = {"action": "assign_user", "benefit_id": benefit_id, "person_id": person["aadObjectId"]}
    return activity(connector, ALEX, type="invoke", name="adaptiveCard/action",
                    value={"action": {"type": "Action.Execute", "verb": "assign_user", "data": data},
                           "trigger": "manual"})


async def post(session: ClientSession, instance: Instance, body: dict[str, Any]) -> tuple[int, Any]:
    async with session.post(f"{instance.base}/api/messages", json=body) as resp:
        return resp.status, (await resp.json() if resp.content_type == "application/json" else None)


async def current_holders(url: str, benefit_id: str) -> Counter[str]:
    store = await PostgresStore.open(PostgresConfig(url, pool_min=1, pool_max=2), INDEXES, poll=False)
    try:
        return Counter(d["person_id"] for d in store.find("assignments", "benefit_id", benefit_id)
                       if not d.get("removed_at"))
    finally:
        await store.close()


def notices(connector: FakeConnector) -> Counter[str]:
    """Proactive messages per conversation (only Alex acts, by invokes answered in the HTTP response)."""
    return Counter(a["_conversation"] for a in list(connector.sent) if a["_conversation"] != f"a:personal-{ALEX['id']}")


async def settle(connector: FakeConnector, expected: Counter[str]) -> None:
    deadline = time.monotonic() + 20
    for _ in range(400):
        if notices(connector) == expected or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # a duplicate would arrive meanwhile
    assert notices(connector) == expected


@pytest.mark.slow
async def test_three_processes_on_one_database_are_one_bot(instances: list[Instance], connector: FakeConnector,
                                                           session: ClientSession, cluster_url: str,
                                                           pg_cluster: PgCluster) -> None:
    for n, person in enumerate((ALEX, *PEOPLE)):  # each person's chat is recorded by another instance
        status, _ = await post(session, instances[n % 3], activity(connector, person, text="help"))
        assert status in (200, 201)
    connector.clear()
    # Alex clicks five assign buttons (stale cards) for the three seats, round-robin over the instances
    results = await asyncio.gather(*(post(session, instances[n % 3], assign(connector, "vs-enterprise", person))
                                     for n, person in enumerate(PEOPLE)))
    texts = [json.dumps(body["value"]["body"][0], ensure_ascii=False) for _, body in results]
    assert sum("is assigned to" in t for t in texts) == 3, texts
    assert sum("Every seat of" in t for t in texts) == 2, texts  # the refusal, in the card
    holders = await current_holders(cluster_url, "vs-enterprise")
    assert sum(holders.values()) == 3 and set(holders.values()) == {1}
    # one click redelivered to every instance at once: one assignment
    click = assign(connector, "vs-professional", LEE)
    await asyncio.gather(*(post(session, instance, click) for instance in instances))
    assert (await current_holders(cluster_url, "vs-professional"))[LEE["aadObjectId"]] == 1
    expected = Counter(f"a:personal-{p['id']}" for p in PEOPLE if p["aadObjectId"] in holders)
    expected[f"a:personal-{LEE['id']}"] += 1
    await settle(connector, expected)  # every assignee told once, by one of the three
    # one instance dies without a word, the database restarts; the others go on by themselves
    instances[2].proc.send_signal(signal.SIGKILL)
    instances[2].proc.wait(10)
    pg_cluster.restart("immediate")
    for instance in instances[:2]:
        await ready(session, instance)
    status, body = await post(session, instances[1], assign(connector, "vs-professional", NESTOR))
    assert status == 200 and "is assigned to" in json.dumps(body["value"]["body"][0]), body
    expected[f"a:personal-{NESTOR['id']}"] += 1
    await settle(connector, expected)
    assert (await current_holders(cluster_url, "vs-professional"))[NESTOR["aadObjectId"]] == 1


def fan_out_received(connector: FakeConnector) -> Counter[str]:
    return Counter(a["_conversation"] for a in list(connector.sent) if a["_conversation"].startswith("a:fan-"))


async def outbox_of(url: str, event_id: str) -> list[dict[str, Any]]:
    store = await PostgresStore.open(PostgresConfig(url, pool_min=1, pool_max=2), INDEXES, poll=False)
    try:
        return store.find(OUTBOX, "event_id", event_id)
    finally:
        await store.close()


@pytest.mark.slow
async def test_an_instance_killed_mid_fan_out_and_a_database_restart_lose_nothing(
        instances: list[Instance], connector: FakeConnector, session: ClientSession, cluster_url: str,
        pg_cluster: PgCluster) -> None:
    """240 notices drained by three instances; one is ``kill -9``ed mid-send while two admins race for seats,
    then the database restarts: every notice arrives, no seat is given twice, and only what the killed
    instance had claimed and not settled (its sends in flight) may arrive twice."""
    connector.delay = 0.4  # a send stays in flight this long after the channel took it
    dbname = cluster_url.rsplit("/", 1)[1]
    writer = await PostgresStore.open(PostgresConfig(cluster_url, pool_min=1, pool_max=2), INDEXES, poll=False)
    try:  # a fourth process writes the people's chats and the fan-out; the instances see it at a catch-up
        await writer.apply([Put(CONVERSATIONS, f"fan-{n}", {"reference": {
            "user": {"id": f"29:fan-{n}"}, "bot": BOT, "conversation": {"id": f"a:fan-{n}"},
            "serviceUrl": connector.url, "channelId": "msteams"}}) for n in range(FANOUT)])
        await Outbox(writer).enqueue(Notification("fan-out", f"fan-{n}", "assigned", {"benefit": "Azure credits"})
                                     for n in range(FANOUT))
    finally:
        await writer.close()
    deadline = time.monotonic() + 60
    while sum(fan_out_received(connector).values()) < FANOUT // 6:
        assert time.monotonic() < deadline, "the fan-out did not start"
        await asyncio.sleep(0.02)
    victim = instances[2]
    race = asyncio.gather(*(post(session, instances[n % 2], assign(connector, "vs-enterprise", person))
                            for n, person in enumerate(PEOPLE)))
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait(10)
    # what the killed instance had claimed and not settled: the sends that were in flight when it died
    in_flight = int(pg_cluster.psql(
        "SELECT count(*) FROM benefits.store_claims c JOIN benefits.store_documents d USING (tbl, id) "
        f"WHERE c.tbl = 'outbox' AND c.owner LIKE '%:{victim.proc.pid}:%' AND d.seq <= c.base_seq", dbname))
    received_at_kill = sum(fan_out_received(connector).values())
    results = await race
    assert received_at_kill < FANOUT  # the kill came mid fan-out
    assert 1 <= in_flight <= CONCURRENCY
    pg_cluster.restart("immediate")
    for instance in instances[:2]:
        await ready(session, instance)
    delivered = ("SELECT count(*) FROM benefits.store_documents WHERE tbl = 'outbox' "
                 "AND doc->>'event_id' = 'fan-out' AND doc->>'state' = 'delivered'")
    for _ in range(900):  # the killed instance's claims are taken over once their lease runs out
        if int(pg_cluster.psql(delivered, dbname)) == FANOUT:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1.5)  # a duplicate would arrive meanwhile
    received = fan_out_received(connector)
    assert set(received) == {f"a:fan-{n}" for n in range(FANOUT)}  # nothing lost
    twice = {conv: count for conv, count in received.items() if count > 1}
    assert sum(count - 1 for count in twice.values()) <= in_flight, (twice, in_flight)
    docs = await outbox_of(cluster_url, "fan-out")
    assert len(docs) == FANOUT and {d["state"] for d in docs} == {DELIVERED}
    ambiguous = {f"a:{d['recipient']}" for d in docs if d.get("ambiguous")}
    assert set(twice) <= ambiguous and len(ambiguous) <= in_flight  # only taken-over claims, each flagged
    texts = [json.dumps(body["value"]["body"][0], ensure_ascii=False) for status, body in results if status == 200]
    holders = await current_holders(cluster_url, "vs-enterprise")
    assert sum(holders.values()) == 3 and set(holders.values()) == {1}  # no seat given twice
    assert sum("is assigned to" in t for t in texts) == 3, texts
