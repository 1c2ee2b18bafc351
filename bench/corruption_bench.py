"""The corruption matrix: each kind of damage to a data folder, what a restart recovers and what it reports.

The store holds 3,000 people in its newest snapshot and 300 more (one batch each) in its newest
journal, after two compactions (so one fallback generation exists), as a real organization would.
Each row damages a fresh copy, opens it as the bot does and prints what came back and what was said
(refusals, log events, ``/readyz`` detail). Not a test: the assertions live in
``tests/services/storage/test_damage.py``; this prints the figures for a reader.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from services.storage import JournaledTinyStore, Put, StoreDamagedError, StoreUnavailableError
from services.storage.journal import HEADER_SIZE, RECORD_HEAD

SNAPSHOT_PEOPLE = 3_000
JOURNAL_PEOPLE = 300


class Events(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "event", "")
        if event and record.levelno >= logging.WARNING:
            self.events.append(event)


async def build(folder: Path) -> None:
    store = JournaledTinyStore(folder / "benefits.json", {}, compact_bytes=1 << 30)
    await store.apply([Put("people", f"p{i}", {"name": f"Person {i}"}) for i in range(SNAPSHOT_PEOPLE // 2)])
    await store.compact()
    await store.apply([Put("people", f"p{i}", {"name": f"Person {i}"})
                       for i in range(SNAPSHOT_PEOPLE // 2, SNAPSHOT_PEOPLE)])
    await store.compact()
    for i in range(SNAPSHOT_PEOPLE, SNAPSHOT_PEOPLE + JOURNAL_PEOPLE):
        await store.apply([Put("people", f"p{i}", {"name": f"Person {i}"})])
    await store.close()


def newest(folder: Path, kind: str) -> Path:
    return sorted(folder.glob(f"benefits.g*.{kind}"))[-1]


def flip_record(folder: Path, number: int) -> None:
    journal = newest(folder, "journal")
    data = bytearray(journal.read_bytes())
    offset = HEADER_SIZE
    for _ in range(number - 1):
        offset += RECORD_HEAD.size + RECORD_HEAD.unpack_from(data, offset)[1]
    data[offset + RECORD_HEAD.size + 5] ^= 0x01
    journal.write_bytes(bytes(data))


def append(folder: Path, data: bytes) -> None:
    with newest(folder, "journal").open("ab") as f:
        f.write(data)


DAMAGES: dict[str, Callable[[Path], None]] = {
    "truncated newest snapshot (half)": lambda f: newest(f, "json").write_bytes(
        newest(f, "json").read_bytes()[: newest(f, "json").stat().st_size // 2]),
    "zero-byte newest snapshot": lambda f: newest(f, "json").write_bytes(b""),
    "every snapshot zero bytes": lambda f: [p.write_bytes(b"") for p in f.glob("benefits.g*.json")] and None,
    "deleted newest journal": lambda f: newest(f, "journal").unlink(),
    "zero-byte newest journal": lambda f: newest(f, "journal").write_bytes(b""),
    "flipped byte in journal record 50 of 300": lambda f: flip_record(f, 50),
    "truncated tail record": lambda f: newest(f, "journal").write_bytes(newest(f, "journal").read_bytes()[:-7]),
    "junk appended to the journal": lambda f: append(f, os.urandom(4096)),
    "every store file deleted (folder kept)": lambda f: [p.unlink() for p in f.glob("benefits.g*")] and None,
    "missing folder": lambda f: shutil.rmtree(f),
}


def open_once(folder: Path) -> str:
    handler = Events()
    logging.getLogger("services.storage").addHandler(handler)
    logging.getLogger("services.storage").setLevel(logging.WARNING)
    logging.getLogger("services.storage").propagate = False
    try:
        store = JournaledTinyStore(folder / "benefits.json", {})
    except StoreDamagedError as exc:
        return f"refused to open, nothing changed: {'; '.join(exc.losses)}"
    except StoreUnavailableError as exc:
        return f"refused to open: {exc}"
    finally:
        logging.getLogger("services.storage").removeHandler(handler)
    people = len(store.all("people"))
    health = store.health()
    asyncio.run(store.close())
    total = SNAPSHOT_PEOPLE + JOURNAL_PEOPLE
    return (f"opened: {people:,} of {total:,} people; readyz {'degraded' if health.quarantined else 'ready'}"
            f" ({health.detail}); {len(health.quarantined)} file(s) set aside; created={store.created}; "
            f"events: {', '.join(dict.fromkeys(handler.events)) or 'none'}")


READ_ONLY = r"""
import sys
from services.storage import JournaledTinyStore, StoreUnavailableError
try:
    store = JournaledTinyStore(sys.argv[1] + "/benefits.json", {})
    print("opened", len(store.all("people")))
except StoreUnavailableError as exc:
    print("refused to open:", exc)
"""


def read_only(folder: Path) -> str:
    """The folder and its files made read-only; run as an unprivileged user (root ignores modes)."""
    for path in [folder, *folder.iterdir()]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    prefix: list[str] = []
    if os.geteuid() == 0:
        if not shutil.which("setpriv"):
            return "not measured (root, and no setpriv to drop privileges)"
        folder.parent.chmod(0o755)
        for path in [folder, *folder.iterdir()]:
            os.chown(path, 0, 0)
            path.chmod(path.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if path.is_dir() else 0))
        prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    result = subprocess.run([*prefix, sys.executable, "-c", READ_ONLY, str(folder)], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parents[1], timeout=60)
    return (result.stdout.strip() or result.stderr.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    logging.basicConfig(level=logging.CRITICAL)
    with tempfile.TemporaryDirectory() as tmp:
        pristine = Path(tmp) / "pristine"
        asyncio.run(build(pristine))
        print("| damage | what a restart does |\n|---|---|")
        print(f"| none | {open_once(copy_of(pristine, Path(tmp) / 'none'))} |")
        for name, damage in DAMAGES.items():
            folder = copy_of(pristine, Path(tmp) / name.replace(" ", "_"))
            damage(folder)
            print(f"| {name} | {open_once(folder)} |")
        folder = copy_of(pristine, Path(tmp) / "read_only")
        print(f"| read-only folder | {read_only(folder)} |")
    return 0


def copy_of(pristine: Path, target: Path) -> Path:
    shutil.copytree(pristine, target)
    (target / "benefits.lock").unlink(missing_ok=True)
    return target


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
