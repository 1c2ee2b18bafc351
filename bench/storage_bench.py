"""Storage engines side by side on the same data: stock TinyDB (``JSONStorage``) and the journaled one.

Why: the journaled engine exists to be fast at scale without giving up durability, so this measures,
in one run on one disk, what an admin's chat turn waits for: the benefits of one person (a find on
an indexed field), one durable write, and the start of the bot. It also measures the disk's own
floor (append a small record and fsync it) because no durable write can beat that.

Data: 10,000 people and 50,000 assignments (``assignments`` indexed by ``person_id`` and
``benefit_id``). Stock TinyDB inserts cost a full rewrite each, so its file is written directly as
JSON and only a few operations are timed on it; the journaled store is filled through its own API.

Run: ``python -m bench storage_bench`` (or ``make bench``); ``--dir`` puts the files elsewhere
(default: ``bench/out/storage``, on the disk the bot's ``data/`` would use).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from services.storage import JournaledTinyStore, Put
from services.storage.journal import sync_data
from tests._common.stock_store import StockTinyStore

PEOPLE = 10_000
ASSIGNMENTS = 50_000
BENEFITS = 40
INDEXES = {"assignments": ["person_id", "benefit_id"]}
GOAL_LOOKUP_P99_MS = 0.5
GOAL_WRITE_P99_MS = 2.0
GOAL_START_S = 1.0
DEFAULT_DIR = Path(__file__).resolve().parent / "out" / "storage"


def make_data(seed: int = 7) -> dict[str, dict[str, dict[str, object]]]:
    """The benchmark's tables, as TinyDB JSON ``{table: {id: doc}}`` (docs carry their id)."""
    rng = random.Random(seed)
    people = {
        f"person-{i}": {
            "id": f"person-{i}",
            "name": f"Person {i}",
            "email": f"p{i}@contoso.example",
            "role": "user",
        }
        for i in range(PEOPLE)
    }
    assignments = {}
    for i in range(ASSIGNMENTS):
        doc_id = f"assignment-{i}"
        assignments[doc_id] = {
            "id": doc_id,
            "person_id": f"person-{rng.randrange(PEOPLE)}",
            "benefit_id": f"benefit-{rng.randrange(BENEFITS)}",
            "product_key": f"XXXXX-{rng.randrange(10**5):05d}-{rng.randrange(10**5):05d}",
            "status": rng.choice(("assigned", "activated", "revoked")),
            "assigned_at": "2026-11-01T10:00:00Z",
        }
    return {"people": people, "assignments": assignments}


def pct(samples: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (nearest rank) of ``samples``."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def timed(fn: Callable[[], object]) -> float:
    """Seconds one call of ``fn`` took."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


async def atimed(coro_fn: Callable[[], object]) -> float:
    """Seconds one awaited call took."""
    start = time.perf_counter()
    await coro_fn()
    return time.perf_counter() - start


class DiskProbe:
    """The disk's floor: append a 120-byte record to a file and fsync it (what a journal write must do).

    ``journal_style=True`` appends the way the journal does instead: to a file opened with
    ``O_DSYNC`` where there is one (durable when the write returns), else write + ``fdatasync``.
    """

    def __init__(self, directory: Path, journal_style: bool = False) -> None:
        self.path = directory / "fsync-probe.bin"
        dsync = getattr(os, "O_DSYNC", 0) if journal_style else 0
        self.fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | dsync, 0o600)
        self.sync: Callable[[int], None] | None = os.fsync  # the floor
        if journal_style:
            self.sync = None if dsync else sync_data  # O_DSYNC: durable when the write returns

    def sample(self) -> float:
        """Seconds one append + sync took."""
        start = time.perf_counter()
        os.write(self.fd, b"x" * 120)
        if self.sync is not None:
            self.sync(self.fd)
        return time.perf_counter() - start

    def close(self) -> None:
        os.close(self.fd)
        self.path.unlink()


async def bench_stock(directory: Path, data: dict, rng: random.Random, lookups: int, writes: int) -> dict:
    path = directory / "stock.json"
    path.write_text(json.dumps(data))
    start = time.perf_counter()
    store = StockTinyStore(path, INDEXES)
    store.find("assignments", "person_id", "person-0")  # stock reads the file on every operation
    load = time.perf_counter() - start
    people = [f"person-{rng.randrange(PEOPLE)}" for _ in range(lookups)]
    find = [timed(lambda p=p: store.find("assignments", "person_id", p)) for p in people]
    # Each durable write is paired with a raw append + fsync just before it, so both see the same
    # disk and the same load from whatever else runs on the machine.
    probe = DiskProbe(directory)
    write, floor = [], []
    for i in range(writes):
        floor.append(probe.sample())
        write.append(await atimed(lambda i=i: store.apply([Put("people", f"person-{i}", {"name": "N"})])))
    probe.close()
    await store.close()
    return {"load": load, "find": find, "write": write}


async def loop_stall_during(work: Callable[[], object]) -> tuple[float, float]:
    """Run ``work`` (a coroutine function) and measure the event loop meanwhile.

    Returns:
        (seconds ``work`` took, longest gap between two ticks of a 1 ms ticker minus its 1 ms).
    """
    done = False
    worst = 0.0

    async def ticker() -> None:
        nonlocal worst
        last = time.perf_counter()
        while not done:
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            worst = max(worst, now - last - 0.001)
            last = now

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.005)
    start = time.perf_counter()
    await work()
    took = time.perf_counter() - start
    done = True
    await tick
    return took, worst


async def bench_journaled(directory: Path, data: dict, rng: random.Random, lookups: int, writes: int) -> dict:
    path = directory / "benefits.json"
    store = JournaledTinyStore(path, INDEXES, compact_bytes=1 << 40)
    for table, docs in data.items():
        items = list(docs.items())
        for at in range(0, len(items), 5_000):
            await store.apply([Put(table, i, d) for i, d in items[at : at + 5_000]])
    await store.compact()
    await store.close()

    start = time.perf_counter()
    store = JournaledTinyStore(path, INDEXES)
    load = time.perf_counter() - start
    assert len(store.all("assignments")) == ASSIGNMENTS
    people = [f"person-{rng.randrange(PEOPLE)}" for _ in range(lookups)]
    find = [timed(lambda p=p: store.find("assignments", "person_id", p)) for p in people]
    # Each durable write is paired with a raw append + fsync just before it, so both see the same
    # disk and the same load from whatever else runs on the machine.
    probe = DiskProbe(directory)
    write, floor = [], []
    for i in range(writes):
        floor.append(probe.sample())
        write.append(await atimed(lambda i=i: store.apply([Put("people", f"person-{i}", {"name": "N"})])))
    probe.close()
    fsyncs = store.stats.fsyncs
    concurrent = 1_000
    start = time.perf_counter()
    await asyncio.gather(*(store.apply([Put("people", f"c-{i}", {"n": i})]) for i in range(concurrent)))
    burst = time.perf_counter() - start
    burst_fsyncs = store.stats.fsyncs - fsyncs
    compaction = await loop_stall_during(store.compact)
    scans = store.stats.scans

    # Worst start: the journal as large as the default policy lets it grow before compacting.
    threshold = store.compact_threshold
    store.compact_bytes = 1 << 40
    items = list(data["assignments"].items())
    at = 0
    while store.journal_bytes < threshold:
        batch = items[at % ASSIGNMENTS : at % ASSIGNMENTS + 1_000]
        await store.apply([Put("assignments", i, {**d, "status": "activated"}) for i, d in batch])
        at += 1_000
    journal_mb = store.journal_bytes / 1e6
    await store.close()
    start = time.perf_counter()
    store = JournaledTinyStore(path, INDEXES)
    load_journal = time.perf_counter() - start
    assert all(store.get("assignments", i)["status"] == "activated" for i, _ in items[: min(at, ASSIGNMENTS)])
    await store.close()
    return {
        "load": load,
        "load_journal": load_journal,
        "journal_mb": journal_mb,
        "find": find,
        "write": write,
        "floor": floor,
        "burst": (concurrent, burst, burst_fsyncs),
        "compaction": compaction,
        "scans": scans,
    }


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


async def run(args: argparse.Namespace) -> int:
    directory = Path(args.dir)
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    try:
        data = make_data()
        probe = DiskProbe(directory)
        alone = [probe.sample() for _ in range(args.fsyncs)]
        probe.close()
        probe = DiskProbe(directory, journal_style=True)
        alone_data = [probe.sample() for _ in range(args.fsyncs)]
        probe.close()
        stock = await bench_stock(directory, data, random.Random(1), args.stock_lookups, args.stock_writes)
        ours = await bench_journaled(directory, data, random.Random(1), args.lookups, args.writes)
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)

    ms = 1000.0
    print(f"data: {PEOPLE:,} people, {ASSIGNMENTS:,} assignments; files in {directory}")
    print(
        f"samples: stock {args.stock_lookups} lookups / {args.stock_writes} writes; "
        f"journaled {args.lookups} lookups / {args.writes} writes; disk {args.fsyncs} fsyncs"
    )
    print()
    print(f"{'':40}{'stock TinyDB':>16}{'journaled':>16}{'goal':>10}{'':>7}")
    rows = [
        ("lookup p50 (ms)", pct(stock["find"], 50) * ms, pct(ours["find"], 50) * ms, None),
        ("lookup p99 (ms)", pct(stock["find"], 99) * ms, pct(ours["find"], 99) * ms, GOAL_LOOKUP_P99_MS),
        ("durable write p50 (ms)", pct(stock["write"], 50) * ms, pct(ours["write"], 50) * ms, None),
        (
            "durable write p99 (ms)",
            pct(stock["write"], 99) * ms,
            pct(ours["write"], 99) * ms,
            GOAL_WRITE_P99_MS,
        ),
        ("start / load (s)", stock["load"], ours["load"], GOAL_START_S),
        ("start, journal at compaction size (s)", stock["load"], ours["load_journal"], GOAL_START_S),
    ]
    status = 0
    for name, s_value, o_value, goal in rows:
        goal_text = "" if goal is None else f"<= {goal:g}"
        mark = ""
        if goal is not None:
            ok = o_value <= goal
            status |= 0 if ok else 1
            mark = verdict(ok)
        print(f"{name:40}{s_value:>16.3f}{o_value:>16.3f}{goal_text:>10}{mark:>7}")
    print()
    floor = ours["floor"]
    print(
        "disk floor, append 120 B + fsync (p50 / p99 ms): "
        f"alone {pct(alone, 50) * ms:.3f} / {pct(alone, 99) * ms:.3f}; "
        f"interleaved with the journaled writes {pct(floor, 50) * ms:.3f} / {pct(floor, 99) * ms:.3f}"
    )
    print(
        "the journal appends to an O_DSYNC file (fdatasync's guarantee in the write itself); "
        f"append 120 B that way, alone (p50 / p99 ms): {pct(alone_data, 50) * ms:.3f} / "
        f"{pct(alone_data, 99) * ms:.3f}"
    )
    count, burst, burst_fsyncs = ours["burst"]
    print(
        f"group commit: {count} concurrent single-put batches in {burst * ms:.1f} ms "
        f"with {burst_fsyncs} fsyncs ({count / burst:,.0f} batches/s)"
    )
    took, stall = ours["compaction"]
    print(
        f"compaction of {PEOPLE + ASSIGNMENTS:,} docs: {took * ms:.0f} ms, "
        f"longest event-loop stall meanwhile {stall * ms:.1f} ms"
    )
    print(f"worst start replayed a {ours['journal_mb']:.1f} MB journal on top of the snapshot")
    print(f"journaled finds on indexed fields that scanned a table: {ours['scans']}")
    if pct(ours["write"], 99) > GOAL_WRITE_P99_MS and pct(floor, 99) > GOAL_WRITE_P99_MS * 0.8:
        print("note: this disk's own fsync p99 leaves no room for the durable-write goal on this machine")
    return status if args.strict else 0


def main(argv: list[str]) -> int:
    """Run the benchmark; returns 1 with ``--strict`` when a goal is missed, else 0 (figures, not tests)."""
    parser = argparse.ArgumentParser(
        prog="python -m bench storage_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--dir", default=str(DEFAULT_DIR), help="where to put the files (same disk as data/)")
    parser.add_argument("--lookups", type=int, default=20_000)
    parser.add_argument("--writes", type=int, default=2_000)
    parser.add_argument("--fsyncs", type=int, default=2_000)
    parser.add_argument("--stock-lookups", type=int, default=40)
    parser.add_argument("--stock-writes", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the files after the run")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    return asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
