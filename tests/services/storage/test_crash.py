"""Kill -9 a process that writes to the journaled engine, over and over, and check every restart.

The child (``tests._common.crash_writer``, forked from a multiprocessing fork server) prints each
batch before ``apply`` (TRY) and after it returned (ACK). After each SIGKILL the data is opened
again and must equal the replay of every acknowledged batch, plus or minus the one batch that was
in flight. Kills land at random moments, including during startup recovery and during compactions
(the child compacts every few KiB)."""

from __future__ import annotations

import asyncio
import copy
import json
import multiprocessing
import os
import random
import time
from pathlib import Path

import pytest

from services.storage import JournaledTinyStore
from tests._common import crash_writer
from tests._common.crash_writer import INDEXES
from tests._common.storage import Model, contents, engine_files, nonempty, ops_from_json, replay

pytestmark = pytest.mark.usefixtures("both_ways_of_cutting")  # see the fixture

KILLS = int(os.environ.get("STORAGE_CRASH_KILLS", "150"))
SEED = int(os.environ.get("STORAGE_CRASH_SEED", "20261122"))
BUDGET_S = 120.0  # a guard against a hang, not a figure the test checks


def read_log(raw: bytes) -> tuple[list[list[list[object]]], list[list[object]] | None]:
    """Acknowledged batches and the in-flight one, from the child's complete output lines."""
    acked: list[list[list[object]]] = []
    in_flight: list[list[object]] | None = None
    for line in raw.decode().split("\n")[:-1]:  # the last piece is an unfinished line (or "")
        if line.startswith("TRY "):
            in_flight = json.loads(line[4:])
        elif line.startswith("ACK "):
            acked.append(json.loads(line[4:]))
            in_flight = None
    return acked, in_flight


@pytest.mark.slow
async def test_sigkill_at_random_moments_loses_no_acknowledged_write(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["tests._common.crash_writer"])
    data = tmp_path / "data"
    data.mkdir()
    model: Model = {}
    total_acked = in_flight_seen = in_flight_landed = 0
    started = time.monotonic()
    kills = generation = 0
    while kills < KILLS and time.monotonic() - started < BUDGET_S:
        kills += 1
        log = tmp_path / f"child-{kills}.log"
        child = context.Process(
            target=crash_writer.child_main, args=(str(data), SEED * 1000 + kills, 4096, str(log)), daemon=True
        )
        child.start()
        if rng.random() < 0.2:  # often during startup: recovery itself must survive a kill
            await asyncio.sleep(rng.uniform(0.0, 0.03))
        else:
            for _ in range(5000):  # the child opens the store (bounded wait; no timing asserted)
                if log.exists() and log.read_bytes().startswith(b"READY"):
                    break
                await asyncio.sleep(0.002)
            await asyncio.sleep(rng.uniform(0.0, 0.1))
        child.kill()
        child.join()
        out = log.read_bytes() if log.exists() else b""  # killed before it opened its log
        acked, in_flight = read_log(out)
        total_acked += len(acked)
        expected = nonempty(replay(copy.deepcopy(model), (op for b in acked for op in ops_from_json(b))))

        store = JournaledTinyStore(data / "benefits.json", INDEXES)
        actual = contents(store)
        health = store.health()
        generation = store.generation
        await store.close()
        where = f"seed={SEED} kill #{kills} files={engine_files(data / 'benefits.json')}"
        assert health.ready and health.quarantined == (), f"{where}: {health}"
        if in_flight is not None:
            in_flight_seen += 1
        if actual != expected:
            assert in_flight is not None, f"{where}: state differs from the acknowledged writes"
            with_in_flight = nonempty(replay(copy.deepcopy(expected), ops_from_json(in_flight)))
            assert actual == with_in_flight, f"{where}: state is neither acked nor acked + in-flight batch"
            in_flight_landed += 1
        for person in {d.get("person_id") for d in actual.get("assignments", {}).values()}:
            found = {d["id"] for d in store.find("assignments", "person_id", person)}
            assert found == {i for i, d in actual["assignments"].items() if d.get("person_id") == person}, (
                where
            )
        model = actual

    summary = (
        f"seed={SEED} kills={kills} acked={total_acked} in_flight={in_flight_seen} "
        f"landed={in_flight_landed} generations={generation}"
    )
    print(summary)
    assert kills >= min(KILLS, 100), f"only {summary} within {BUDGET_S:.0f} s"
    assert total_acked >= kills, summary  # the children did write between kills
    assert generation >= 10, summary  # and compacted, so kills also hit compactions
