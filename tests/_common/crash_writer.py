"""Child process of the crash test: writes to a journaled store in a loop until it is killed.

Run as ``python -m tests._common.crash_writer DIR SEED COMPACT_BYTES``; the test instead forks
:func:`child_main` from a multiprocessing fork server, the same code without Python's start-up for
each of its hundred children. It prints ``READY`` once the store is open, then for every batch
``TRY <ops JSON>`` before ``apply`` and ``ACK <ops JSON>`` after ``apply`` returned (flushed each
time), so the parent knows which batches were acknowledged and which one at most was in flight when
it sent SIGKILL. Batches mix inserts, growing and shrinking updates and removes; a small
``COMPACT_BYTES`` makes compactions frequent, so kills land inside them too."""

from __future__ import annotations

import asyncio
import json
import os
import random
import sys
from collections.abc import Callable
from pathlib import Path

from services.storage import Delete, JournaledTinyStore, Op, Put
from tests._common.storage import ops_to_json

TABLES = ("people", "assignments")
INDEXES = {"assignments": ["person_id"]}


def make_batch(rng: random.Random, ids: dict[str, set[str]], serial: str, counter: int) -> list[Op]:
    """A random batch; ``ids`` is updated to what exists after it."""
    ops: list[Op] = []
    size = rng.choice((1, 1, 1, 2, 3, 5, 20))
    for n in range(size):
        table = rng.choice(TABLES)
        existing = ids[table]
        roll = rng.random()
        if roll < 0.45 or not existing:
            doc_id = f"{serial}-{counter}-{n}"
        else:
            doc_id = rng.choice(sorted(existing))
        if roll >= 0.8 and existing:
            ops.append(Delete(table, doc_id))
            existing.discard(doc_id)
            continue
        pad = "x" * rng.choice((0, 1, 10, 200, 3000))  # shrinking and growing documents
        ops.append(Put(table, doc_id, {"person_id": f"p{rng.randrange(20)}", "n": counter, "pad": pad}))
        existing.add(doc_id)
    return ops


async def run(directory: Path, seed: int, compact_bytes: int, out: Callable[[str], None]) -> None:
    """Open the store, say READY, then write random batches until killed, reporting each one."""
    store = JournaledTinyStore(directory / "benefits.json", INDEXES, compact_bytes=compact_bytes)
    ids = {t: {d["id"] for d in store.all(t)} for t in TABLES}
    rng = random.Random(seed)
    out("READY\n")
    counter = 0
    while True:
        counter += 1
        batch = make_batch(rng, ids, str(seed), counter)
        line = json.dumps(ops_to_json(batch))
        out(f"TRY {line}\n")
        await store.apply(batch)
        out(f"ACK {line}\n")


def child_main(directory: str, seed: int, compact_bytes: int, log_path: str) -> None:
    """Entry point of a forked child: report to ``log_path`` (one ``write`` per line, so a kill
    leaves whole lines) instead of stdout. Forking from a server that has this module imported
    spares each of the hundred children Python's start-up."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    asyncio.run(run(Path(directory), seed, compact_bytes, lambda line: _write_line(fd, line)))


def _write_line(fd: int, line: str) -> None:
    os.write(fd, line.encode())


def _print_line(line: str) -> None:
    sys.stdout.write(line)
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(run(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), _print_line))
