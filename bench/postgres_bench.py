"""The PostgreSQL engine beside the journaled engine and SQLite, on the same workload in one run.

Why: ``STORAGE_URL`` trades the embedded engine's microseconds for a store several instances share;
this says what that costs a turn. Figures, each engine on the same data and disk:

* lookup p50/p99: the benefits of one person (a find on an indexed field); both bot engines answer
  from memory, SQLite (stdlib, WAL) with an indexed ``SELECT``;
* durable write p50/p99: one document written and durable (journal fsync; PostgreSQL commit with
  ``fsync=on``, ``synchronous_commit=on``; SQLite ``synchronous=FULL``), one writer at a time, the
  three engines taking turns write by write (a stall of the shared machine falls on all alike);
* writes/s with 50 writers at once (group commit in both bot engines);
* a guarded mutation (``mutation_lock`` + catch-up + write, what a seat assignment does) on PostgreSQL,
  alone and with a second instance taking turns;
* a notification fan-out by three instances (real workers, a fake channel answering in 5 ms), as a
  share of Teams' per-app limit that they split between them, and how many were sent twice.

The PostgreSQL server is a throw-away one started here (``tests/_common/postgres.py``) on this disk.
Run: ``python -m bench postgres_bench``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.storage_bench import pct
from services.storage import JournaledTinyStore, Put
from services.storage.postgres import PostgresConfig, PostgresStore

PEOPLE = 2_000
ASSIGNMENTS = 10_000
LOOKUPS = 2_000
WRITES = 1000
WRITERS = 50
INDEXES = {"assignments": ["person_id", "benefit_id"]}


def docs(rng: random.Random) -> list[Put]:
    return [Put("assignments", f"a{i}", {"person_id": f"p{rng.randrange(PEOPLE)}", "benefit_id": f"b{i % 40}",
                                         "status": "assigned"}) for i in range(ASSIGNMENTS)]


def ms(samples: list[float]) -> str:
    return f"p50 {pct(samples, 50) * 1e3:7.3f} ms  p99 {pct(samples, 99) * 1e3:7.3f} ms"


async def engine_figures(store: object, rng: random.Random) -> dict[str, list[float] | float]:
    find = []
    for _ in range(LOOKUPS):
        person = f"p{rng.randrange(PEOPLE)}"
        start = time.perf_counter()
        store.find("assignments", "person_id", person)
        find.append(time.perf_counter() - start)
    start = time.perf_counter()
    await asyncio.gather(*(store.apply([Put("people", f"w{w}-{i}", {"n": i})])
                           for w in range(WRITERS) for i in range(4)))
    return {"find": find, "rate": WRITERS * 4 / (time.perf_counter() - start)}


async def durable_writes(journaled: JournaledTinyStore, pg: PostgresStore, db: sqlite3.Connection
                         ) -> dict[str, list[float]]:
    """One document written and durable, by each engine in turn (the order rotating), so that a stall of
    the shared machine or its disk falls on all three alike and the ratios compare the same moments."""
    samples: dict[str, list[float]] = {"journaled": [], "postgres": [], "sqlite": []}

    async def one(name: str, i: int) -> None:
        start = time.perf_counter()
        if name == "sqlite":
            db.execute("INSERT OR REPLACE INTO docs VALUES ('people', ?, NULL, ?)", (f"p{i}", f"N{i}"))
        else:
            await (journaled if name == "journaled" else pg).apply([Put("people", f"p{i}", {"name": f"N{i}"})])
        samples[name].append(time.perf_counter() - start)

    names = list(samples)
    for i in range(WRITES):
        for name in names[i % 3:] + names[:i % 3]:
            await one(name, i)
    return samples


def sqlite_figures(path: Path, batch: list[Put], rng: random.Random) -> tuple[sqlite3.Connection, list[float]]:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE docs (tbl TEXT, id TEXT, person_id TEXT, doc TEXT, PRIMARY KEY (tbl, id))")
    db.execute("CREATE INDEX docs_person ON docs (person_id)")
    db.execute("BEGIN")
    db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?)",
                   [(p.table, p.doc_id, p.doc["person_id"], str(p.doc)) for p in batch])
    db.execute("COMMIT")
    find = []
    for _ in range(LOOKUPS):
        person = f"p{rng.randrange(PEOPLE)}"
        start = time.perf_counter()
        db.execute("SELECT doc FROM docs WHERE person_id = ?", (person,)).fetchall()
        find.append(time.perf_counter() - start)
    return db, find


async def guarded(stores: list[PostgresStore], rounds: int) -> list[float]:
    """Seconds per guarded mutation, the instances taking turns."""
    samples = []
    for i in range(rounds):
        store = stores[i % len(stores)]
        start = time.perf_counter()
        async with store.mutation_lock():
            seat = store.get("seats", "vs") or {"left": 0}
            await store.apply([Put("seats", "vs", {"left": int(seat["left"]) + 1})])
        samples.append(time.perf_counter() - start)
    return samples


FANOUT = 300
APP_RPS = 50.0


class FakeChannel:
    """Answers every send after 5 ms, like a near Bot Connector; records when each one was answered."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, float]] = []

    async def send(self, reference: dict[str, object], card: dict[str, object]) -> None:
        await asyncio.sleep(0.005)
        self.sent.append((str(reference["conversation"]["id"]), time.perf_counter()))


async def fanout(config: PostgresConfig) -> tuple[float, int, int]:
    """Sends per second of three instances draining one fan-out, and (sent, sent twice)."""
    from services.notifications import Notification, Outbox, RateLimiter, RetryPolicy, Worker

    shared = dataclasses.replace(config, poll_seconds=0.2)
    stores = [await PostgresStore.open(shared, INDEXES, namespace="fanout") for _ in range(3)]
    try:
        await asyncio.sleep(0.5)  # heartbeats: each instance counts three
        channel = FakeChannel()
        outboxes = [Outbox(store) for store in stores]
        await outboxes[0].enqueue(Notification("fanout", f"person-{n}", "assignment.created") for n in range(FANOUT))
        for store in stores:
            await store.refresh()
        workers = [Worker(outbox, channel, lambda person: {"conversation": {"id": person}}, lambda doc: {},
                          RateLimiter(per_app_rps=APP_RPS, share=store.instances), RetryPolicy())
                   for outbox, store in zip(outboxes, stores, strict=True)]
        await asyncio.gather(*(worker.drain() for worker in workers))
    finally:
        for store in stores:
            await store.close()
    times = sorted(at for _, at in channel.sent)
    rate = (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0
    twice = len(channel.sent) - len({conv for conv, _ in channel.sent})
    return rate, len(channel.sent), twice


async def run() -> int:
    from tests._common.postgres import PgCluster

    rng = random.Random(7)
    batch = docs(rng)
    cluster = PgCluster(durable=True).start()
    folder = Path(tempfile.mkdtemp(prefix="pgbench-"))
    try:
        journaled = JournaledTinyStore(folder / "benefits.json", INDEXES)
        await journaled.apply(batch)
        config = PostgresConfig(cluster.dsn(), pool_min=2, pool_max=10, poll_seconds=60)
        pg = await PostgresStore.open(config, INDEXES)
        await pg.apply(batch)
        db, sqlite_find = sqlite_figures(folder / "bench.sqlite", batch, random.Random(1))
        writes = await durable_writes(journaled, pg, db)
        db.close()
        s: dict[str, list[float] | float] = {"find": sqlite_find, "write": writes["sqlite"]}
        j = {**await engine_figures(journaled, random.Random(1)), "write": writes["journaled"]}
        await journaled.close()
        p = {**await engine_figures(pg, random.Random(1)), "write": writes["postgres"]}
        other = await PostgresStore.open(config, INDEXES)
        alone = await guarded([pg], 200)
        shared = await guarded([pg, other], 200)
        await other.close()
        await pg.close()
        rate, sent, twice = await fanout(config)
    finally:
        cluster.cleanup()
    print(f"{ASSIGNMENTS:,} assignments, {PEOPLE:,} people; {LOOKUPS} lookups, {WRITES} sequential writes per "
          "engine, the three engines taking turns")
    for name, fig in (("journaled", j), ("postgres", p), ("sqlite", s)):
        print(f"  {name:10} lookup   {ms(fig['find'])}")
        print(f"  {name:10} write    {ms(fig['write'])}")
        if "rate" in fig:
            print(f"  {name:10} {WRITERS} writers: {fig['rate']:,.0f} writes/s")
    sw, jw, pw = (pct(f["write"], 99) for f in (s, j, p))
    print(f"  durable-write p99 ratio to SQLite: journaled {jw / sw:.2f}x, postgres {pw / sw:.2f}x")
    print(f"  guarded mutation (advisory lock + catch-up + write), one instance: {ms(alone)}")
    print(f"  guarded mutation, two instances taking turns:                  {ms(shared)}")
    print(f"  fan-out of {FANOUT} notifications by three instances: {rate:.1f} sends/s = {100 * rate / APP_RPS:.0f} % "
          f"of the per-app limit of {APP_RPS:.0f}/s (goal >= 95 %); {sent} sent, {twice} twice")
    return 0


def main(argv: list[str]) -> int:
    return asyncio.run(run())
