"""Growth: what the listed turns cost as the organization grows (1k, 10k, 150k people by default).

For each size, in one run on one machine:

* **import**: ``python -m bot import`` of an inventory of the demo organization plus that many people
  (its own process: wall time and peak RSS from ``wait4``);
* the rest of the crowd (``tests/_common/crowd.py``: Visual Studio seats, changes, requests, undelivered
  notifications, growing with the people) is written to the same store; the changes older than the
  retention period are archived (``services.audit_archive``, as a running bot does daily), and the
  store is compacted;
* **start**: ``python -m bot serve`` on that data folder, from the process start to the first ``200`` of
  ``/readyz`` (the store's recovery included), and its RSS once ready. The audit trail is read after that,
  between turns (``services.repository.LATER``), so the bench then sends at once the turn that needs it
  (*recent changes* of a person): **first turn** is the time to its answer, which waits for the audit trail
  to be read, and **start to first turn** the time from the process start to it. A restarted bot finds its modules
  compiled (Python caches their bytecode on the first start), so the bench compiles them once before it
  measures, into a cache of its own (``PYTHONPYCACHEPREFIX``: the checkout is left alone), whatever
  ``PYTHONDONTWRITEBYTECODE`` says; ``--cold`` measures a start that compiles every module as well;
* **turns**: each listed turn (an ``Action.Execute`` over HTTP on loopback, authentication off, a
  fake Bot Connector for anything the bot sends), one at a time, ``--turns`` times: p50 and p99 of
  the time to the HTTP response, and the bot's RSS (and peak) after them all. A p99 needs enough turns
  to mean something: of 200, it is the second slowest, which one pause of a busy machine decides.

``python -m bench.growth_bench [--sizes 1000,10000,150000] [--turns 1000] [--changes 6] [--retention-days 400]``.
``--keep DIR``: make each size's data in ``DIR`` once and serve it again on later runs (the import and
crowd figures are those of the run that made it). ``--changes``: audit entries about each person (6
gives about a million at 150,000 people, spread over five years); ``--retention-days``: the bot's
``AUDIT_RETENTION_DAYS``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import ClientSession

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.import_bench import run_import  # noqa: E402
from services.audit_archive import ARCHIVE_FOLDER, archive_audit  # noqa: E402
from services.inventory import demo_inventory  # noqa: E402
from services.repository import INDEXES  # noqa: E402
from services.storage import open_store  # noqa: E402
from tests._common.crowd import benefit_id, crowd_ops, crowd_person, person_id  # noqa: E402
from tests._common.fake_connector import FakeConnector  # noqa: E402
from tests._common.harness import ALEX, LEE, BotClient  # noqa: E402
from tests._common.loopback import free_port, rss_mb, stop_process, wait_ready  # noqa: E402

DOMAIN_FILE = "benefits.json"
#: How long a start may take before the bench gives up (150k people and a million changes load slowly).
READY_SECONDS = 600.0


@dataclass
class Figures:
    people: int
    import_s: float = 0.0
    import_rss_mb: float = 0.0
    crowd_s: float = 0.0
    documents: int = 0
    archived: int = 0
    start_s: float = 0.0
    first_turn_s: float = 0.0
    start_to_first_turn_s: float = 0.0
    start_cpu_s: float = 0.0
    start_rss_mb: float = 0.0
    rss_mb: float = 0.0
    peak_rss_mb: float = 0.0
    turns: dict[str, tuple[float, float]] = field(default_factory=dict)


#: the activity's locale of a turn a Chinese viewer takes (the people listed in their language's order)
ZH_CN, ZH_TW = {"locale": "zh-CN"}, {"locale": "zh-TW"}


#: (who, verb, data) of a turn, or (who, verb, data, activity fields)
MeasuredTurn = tuple[dict[str, Any], str, dict[str, Any]] | tuple[dict[str, Any], str, dict[str, Any], dict[str, str]]


def turns_of(n: int) -> dict[str, MeasuredTurn]:
    """(who, verb, data, and the activity's locale if not English) of each measured turn."""
    return {
        "users": (ALEX, "users", {}),
        "users, middle page": (ALEX, "users", {"page": n // 20}),
        "users middle, zh-CN": (ALEX, "users", {"page": n // 20}, ZH_CN),
        "users middle, zh-TW": (ALEX, "users", {"page": n // 20}, ZH_TW),
        # a word start that more than a page of people share at every size (every Avery)
        "users, search": (ALEX, "users", {"query": crowd_person(0).name.split()[0][:4]}),
        "visual studio list": (ALEX, "list_visual_studio", {}),
        "assignees of a benefit": (ALEX, "assignees", {"benefit_id": benefit_id(0)}),
        "recent changes, person": (ALEX, "recent_changes", {"subject_id": person_id(n // 2)}),
        "recent changes, benefit": (ALEX, "recent_changes", {"subject_id": benefit_id(0)}),
        "requests": (ALEX, "requests", {}),
        "notifications": (ALEX, "notifications", {}),
        "my benefits": (LEE, "my_benefits", {}),
    }


def _cpu_s(pid: int) -> float:
    """CPU time (user + system) a running process has used, in seconds: what a start costs whatever
    else the machine is doing meanwhile."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


#: where the served bot caches its compiled modules (see the module docstring); None: as the caller's environment says
PYCACHE: Path | None = None


def _env(data_dir: Path, port: int = 0, retention_days: float = 400.0) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MicrosoftApp", "SSO_"))}
    if PYCACHE is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env.update({"PYTHONPATH": str(ROOT), "DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING", "SEED_DEMO": "false",
                "PORT": str(port), "HOST": "127.0.0.1",
                "AUDIT_RETENTION_DAYS": str(retention_days)})
    return env


def measure_import(n: int, folder: Path, data_dir: Path) -> tuple[float, float]:
    """Import the demo organization plus ``n`` people with the bot's CLI; (seconds, peak RSS MB)."""
    inventory = demo_inventory(datetime.now(UTC).date())
    inventory["people"] += [{"id": p.id, "name": p.name, "email": p.email}
                            for p in (crowd_person(i) for i in range(n))]
    path = folder / "inventory.json"
    path.write_text(json.dumps(inventory, ensure_ascii=False), encoding="utf-8")
    del inventory
    elapsed, peak_rss_mb, status = run_import(ROOT, path, data_dir)  # started from a small process
    if status != 0:
        raise SystemExit(f"import of {n} people failed ({status})")
    return elapsed, peak_rss_mb


async def write_crowd(n: int, data_dir: Path, changes: int, retention_days: float) -> tuple[float, int, int]:
    """Everything of the crowd but its people (imported already); then the archiving of old changes and
    a compaction, as a bot that has run a while would have. (seconds, documents written, archived)"""
    started = time.perf_counter()
    store = await asyncio.to_thread(open_store, data_dir / DOMAIN_FILE, INDEXES)
    written = 0
    try:
        alex = store.find("people", "aad_object_id", ALEX["aadObjectId"])[0]["id"]
        today = datetime.now(UTC).date()
        for batch in crowd_ops(n, today, alex, changes, people=False):
            await store.apply(batch)
            written += len(batch)
        archived = await archive_audit(store, data_dir / ARCHIVE_FOLDER, retention_days)
        await store.compact()
    finally:
        await store.close()
    return time.perf_counter() - started, written, archived


async def _wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    async with ClientSession() as session:
        await wait_ready(session, url, proc, within=READY_SECONDS, interval=0.02, failure=SystemExit)


def compile_once(folder: Path, data_dir: Path) -> None:
    """Import what ``python -m bot serve`` imports, so that its modules' bytecode is cached for the start."""
    subprocess.run([sys.executable, "-c", "import bot.cli"], cwd=folder, env=_env(data_dir), check=True)


def _serve(folder: Path, data_dir: Path, port: int, retention_days: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=folder,
                            env=_env(data_dir, port, retention_days),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def serve_and_measure(figures: Figures, folder: Path, data_dir: Path, count: int,
                            retention_days: float) -> None:
    if PYCACHE is not None:
        compile_once(folder, data_dir)
    port = free_port()
    started = time.perf_counter()
    proc = _serve(folder, data_dir, port, retention_days)
    url = f"http://127.0.0.1:{port}"
    connector = FakeConnector().start()
    try:
        await _wait_ready(url, proc)
        figures.start_s = time.perf_counter() - started
        figures.start_cpu_s = _cpu_s(proc.pid)
        figures.start_rss_mb, _ = rss_mb(proc.pid)
        async with ClientSession() as session:
            client = BotClient(url, connector, session)
            t0 = time.perf_counter()
            first = {"subject_id": person_id(figures.people // 2)}
            status, body, _ = await client.execute(ALEX, "recent_changes", first)
            figures.start_to_first_turn_s = time.perf_counter() - started
            figures.first_turn_s = time.perf_counter() - t0
            if status != 200 or not isinstance(body, dict):
                raise SystemExit(f"first turn: {status} {str(body)[:200]}")
            for name, (user, verb, data, *locale) in turns_of(figures.people).items():
                fields = locale[0] if locale else {}
                status, body, _ = await client.execute(user, verb, data, **fields)  # the first one warms caches
                if status != 200 or not isinstance(body, dict) or not isinstance(body.get("value"), dict):
                    raise SystemExit(f"{name}: {status} {str(body)[:200]}")
                times = []
                for _ in range(count):
                    t0 = time.perf_counter()
                    status, _, _ = await client.execute(user, verb, data, **fields)
                    times.append((time.perf_counter() - t0) * 1000)
                    assert status == 200
                    connector.sent.clear()
                times.sort()
                figures.turns[name] = (statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))])
        figures.rss_mb, figures.peak_rss_mb = rss_mb(proc.pid)
    finally:
        connector.stop()
        stop_process(proc)


async def one_size(n: int, count: int, changes: int, retention_days: float, keep: Path | None) -> Figures:
    """Import, write the crowd, serve and measure; with ``keep``, in ``keep/<n>`` (made once, measured
    again on later runs: the serving figures of several runs of the same data)."""
    figures = Figures(n)
    with tempfile.TemporaryDirectory(prefix=f"growth-{n}-") as tmp:
        folder = Path(tmp) if keep is None else keep / str(n)
        data_dir = folder / "data"
        if not (folder / "made").exists():
            folder.mkdir(parents=True, exist_ok=True)
            figures.import_s, figures.import_rss_mb = measure_import(n, folder, data_dir)
            figures.crowd_s, figures.documents, figures.archived = await write_crowd(
                n, data_dir, changes, retention_days)
            (folder / "made").write_text(json.dumps([figures.import_s, figures.import_rss_mb, figures.crowd_s,
                                                     figures.documents, figures.archived]))
        else:
            (figures.import_s, figures.import_rss_mb, figures.crowd_s, figures.documents,
             figures.archived) = json.loads((folder / "made").read_text())
        await serve_and_measure(figures, folder, data_dir, count, retention_days)
    return figures


def report(all_figures: list[Figures]) -> None:
    sizes = [f.people for f in all_figures]
    head = f"{'':34}" + "".join(f"{n:>16,}" for n in sizes)
    print(head)

    def row(label: str, values: list[str]) -> None:
        print(f"{label:34}" + "".join(f"{v:>16}" for v in values))

    row("documents written besides people", [f"{f.documents:,}" for f in all_figures])
    row("changes archived", [f"{f.archived:,}" for f in all_figures])
    row("import (s)", [f"{f.import_s:.2f}" for f in all_figures])
    row("import peak RSS (MB)", [f"{f.import_rss_mb:.0f}" for f in all_figures])
    row("start to /readyz (s)", [f"{f.start_s:.2f}" for f in all_figures])
    row("start: CPU time of the bot (s)", [f"{f.start_cpu_s:.2f}" for f in all_figures])
    row("first turn, recent changes (s)", [f"{f.first_turn_s:.2f}" for f in all_figures])
    row("start to first turn answered (s)", [f"{f.start_to_first_turn_s:.2f}" for f in all_figures])
    row("RSS when ready (MB)", [f"{f.start_rss_mb:.0f}" for f in all_figures])
    row("RSS after the turns (MB)", [f"{f.rss_mb:.0f}" for f in all_figures])
    row("peak RSS of the bot (MB)", [f"{f.peak_rss_mb:.0f}" for f in all_figures])
    for name in all_figures[0].turns:
        row(f"{name} p50/p99 (ms)", [f"{f.turns[name][0]:.1f}/{f.turns[name][1]:.1f}" for f in all_figures])
    first = min(all_figures, key=lambda f: f.people)
    for f in (f for f in all_figures if f is not first):
        worst = max(f.turns[name][1] / first.turns[name][1] for name in first.turns)
        print(f"largest p99 ratio {f.people:,} vs {first.people:,} people: {worst:.2f}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.growth_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,150000", help="numbers of people, comma-separated")
    parser.add_argument("--turns", type=int, default=1000, help="measured turns of each kind per size")
    parser.add_argument("--changes", type=int, default=6, help="audit entries about each person")
    parser.add_argument("--retention-days", type=float, default=400.0, help="the bot's AUDIT_RETENTION_DAYS")
    parser.add_argument("--keep", type=Path, help="make each size's data in this folder once, and reuse it")
    parser.add_argument("--cold", action="store_true",
                        help="measure a start that compiles the modules too (as the environment says)")
    args = parser.parse_args(argv)
    global PYCACHE
    cache = None if args.cold else tempfile.TemporaryDirectory(prefix="growth-pycache-")
    PYCACHE = None if cache is None else Path(cache.name)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    results = []
    for n in sizes:
        figures = asyncio.run(one_size(n, args.turns, args.changes, args.retention_days, args.keep))
        print(f"{n:,} people: done (crowd written in {figures.crowd_s:.1f} s)", flush=True)
        results.append(figures)
    report(results)
    if cache is not None:
        cache.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
