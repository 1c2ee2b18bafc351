"""Import: what ``python -m bot import`` of an inventory costs as the organization grows, beside what the
bot holding the imported people costs (the issue's bound: the import's peak RSS at most twice the bot's).

For each size, one inventory file (the demo organization plus that many people, as
``bench.growth_bench`` makes it) and, ``--rounds`` times, in alternation over the code folders given
(``--code``: this checkout by default; another checkout to compare with):

* **import**: into an empty data folder, in its own process: wall time and peak RSS (``wait4``);
* **refused**: the same file with its second person malformed: how long and how much memory it takes
  to be told so;
* **held**: ``python -m bot serve`` on the imported data folder: its RSS once ``/readyz`` answers.

``python -m bench.import_bench [--sizes 150000] [--rounds 3] [--code DIR ...]``. Figures are the median
and the spread (min-max) of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import ClientSession

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from services.inventory import demo_inventory  # noqa: E402
from tests._common.crowd import crowd_person  # noqa: E402
from tests._common.loopback import free_port, rss_mb, stop_process, wait_ready  # noqa: E402


def write_inventory(n: int, folder: Path) -> tuple[Path, Path]:
    """The inventory of ``n`` people, and the same with its second person's email malformed."""
    inventory = demo_inventory(datetime.now(UTC).date())
    inventory["people"] += [{"id": p.id, "name": p.name, "email": p.email}
                            for p in (crowd_person(i) for i in range(n))]
    good = folder / "inventory.json"
    good.write_text(json.dumps(inventory, ensure_ascii=False, indent=1), encoding="utf-8")
    inventory["people"][1]["email"] = "not an email"
    bad = folder / "refused.json"
    bad.write_text(json.dumps(inventory, ensure_ascii=False, indent=1), encoding="utf-8")
    return good, bad


def _env(code: Path, data_dir: Path, port: int = 0) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MicrosoftApp", "SSO_"))}
    env.update({"PYTHONPATH": str(code), "DATA_DIR": str(data_dir), "LOG_LEVEL": "WARNING", "SEED_DEMO": "false",
                "PORT": str(port), "HOST": "127.0.0.1"})
    return env


#: Runs a command and prints its wall time, peak RSS and exit code. A child's peak RSS as ``wait4`` tells it
#: starts from its parent's RSS at the fork, so the command is started from this small process, not from
#: the bench (which holds the inventory it wrote).
_MEASURE = """
import json, os, subprocess, sys, time
started = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(json.dumps([time.perf_counter() - started, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)]))
"""


def run_import(code: Path, path: Path, data_dir: Path) -> tuple[float, float, int]:
    """(seconds, peak RSS MB, exit code) of ``python -m bot import path`` with the code in ``code``."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, sys.executable, "-m", "bot", "import", str(path)],
                         cwd=code, env=_env(code, data_dir), capture_output=True, text=True, check=True).stdout
    seconds, rss, status = json.loads(out)
    return seconds, rss, status


def _serve(code: Path, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "bot", "serve"], cwd=code, env=_env(code, data_dir, port),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def held_rss(code: Path, data_dir: Path) -> float:
    """RSS (MB) of the bot serving ``data_dir`` once it is ready."""
    port = free_port()
    proc = _serve(code, data_dir, port)
    try:
        async with ClientSession() as session:
            await wait_ready(session, f"http://127.0.0.1:{port}", proc, within=600, interval=0.05,
                             failure=SystemExit)
        return rss_mb(proc.pid)[0]
    finally:
        stop_process(proc)


def spread(values: list[float], digits: int) -> str:
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def one_size(n: int, codes: list[Path], rounds: int) -> None:
    figures: dict[Path, dict[str, list[float]]] = {code: {} for code in codes}
    with tempfile.TemporaryDirectory(prefix=f"import-{n}-") as tmp:
        good, bad = write_inventory(n, Path(tmp))
        print(f"{n:,} people: {good.stat().st_size / 1e6:.1f} MB file", flush=True)
        for _ in range(rounds):
            for code in codes:
                data_dir = Path(tmp) / "data"
                shutil.rmtree(data_dir, ignore_errors=True)
                seconds, rss, status = run_import(code, good, data_dir)
                if status != 0:
                    raise SystemExit(f"{code}: import of {n} people failed ({status})")
                held = asyncio.run(held_rss(code, data_dir))
                refused_s, refused_rss, status = run_import(code, bad, Path(tmp) / "untouched")
                if status != 2:
                    raise SystemExit(f"{code}: the malformed file was not refused ({status})")
                for name, value in (("import (s)", seconds), ("import peak RSS (MB)", rss),
                                    ("RSS of the bot holding them (MB)", held),
                                    ("refused at people[1] (s)", refused_s),
                                    ("refused: peak RSS (MB)", refused_rss)):
                    figures[code].setdefault(name, []).append(value)
    for code in codes:
        print(f"  {code}")
        for name, values in figures[code].items():
            print(f"    {name:34}{spread(values, 2 if '(s)' in name else 0)}")
        ratio = [r / h for r, h in zip(figures[code]["import peak RSS (MB)"],
                                       figures[code]["RSS of the bot holding them (MB)"], strict=True)]
        print(f"    {'import peak / bot RSS':34}{spread(ratio, 2)}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.import_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="150000", help="numbers of people, comma-separated")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--code", type=Path, action="append", help="a checkout to run (repeat to compare)")
    args = parser.parse_args(argv)
    codes = [c.resolve() for c in args.code or [ROOT]]
    for n in (int(s) for s in args.sizes.split(",") if s.strip()):
        one_size(n, codes, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
