"""Child process of the crash test: writes to a journaled store in a loop until it is killed.

Run as ``python -m tests._common.crash_writer DIR SEED COMPACT_BYTES``. It prints ``READY`` once the
store is open, then for every batch ``TRY <ops JSON>`` before ``apply`` and ``ACK <ops JSON>`` after
``apply`` returned (flushed each time), so the parent knows which batches were acknowledged and which
one at most was in flight when it sent SIGKILL. Batches mix inserts, growing and shrinking updates and
removes; a small ``COMPACT_BYTES`` makes compactions frequent, so kills land inside them too.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
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


async def run(directory: Path, seed: int, compact_bytes: int) -> None:
    store = JournaledTinyStore(directory / "benefits.json", INDEXES, compact_bytes=compact_bytes)
    ids = {t: {d["id"] for d in store.all(t)} for t in TABLES}
    rng = random.Random(seed)
    out = sys.stdout
    out.write("READY\n")
    out.flush()
    counter = 0
    while True:
        counter += 1
        batch = make_batch(rng, ids, str(seed), counter)
        line = json.dumps(ops_to_json(batch))
        out.write(f"TRY {line}\n")
        out.flush()
        await store.apply(batch)
        out.write(f"ACK {line}\n")
        out.flush()


if __name__ == "__main__":
    asyncio.run(run(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
