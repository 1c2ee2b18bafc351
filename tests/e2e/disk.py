"""What the running bot has stored, read from its journaled store's files (read-only, no lock taken).

The journaled engine keeps, per generation, a snapshot (``benefits.gN.json``) and an append-only
journal of batches (``benefits.gN.journal``); a write is acknowledged only after its journal record
is on disk, so once the bot has answered, what it wrote is here. Replaying the newest generation
gives the tables as the bot holds them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from services.storage.journal import read_journal
from services.storage.snapshot import parse_snapshot

_FILE = re.compile(r"^(?P<name>\w+)\.g(?P<gen>\d+)\.(?P<ext>json|journal)$")


def stored_tables(data_dir: Path, name: str = "benefits") -> dict[str, dict[str, dict[str, Any]]]:
    """Every table of the store ``name`` as it is on disk now: ``{table: {id: document}}``."""
    generations = sorted({int(m.group("gen")) for p in data_dir.iterdir()
                          if (m := _FILE.match(p.name)) and m.group("name") == name})
    assert generations, f"no {name} store in {data_dir}"
    gen = generations[-1]
    snapshot = data_dir / f"{name}.g{gen:08d}.json"
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    if snapshot.exists():
        tables = {t: dict(docs) for t, docs in (parse_snapshot(snapshot.read_bytes()) or {}).items()}
    journal = data_dir / f"{name}.g{gen:08d}.journal"
    if journal.exists():
        for batch in read_journal(journal, gen).batches:
            for op in batch:
                if op[0] == "put":
                    tables.setdefault(op[1], {})[str(op[2])] = op[3]
                elif op[0] == "del":
                    tables.get(op[1], {}).pop(str(op[2]), None)
    return tables


def stored(data_dir: Path, table: str, **fields: Any) -> list[dict[str, Any]]:
    """The documents of ``table`` on disk now whose fields equal ``fields``."""
    docs = stored_tables(data_dir).get(table, {}).values()
    return [d for d in docs if all(d.get(k) == v for k, v in fields.items())]


def find(data_dir: Path, **fields: Any) -> list[dict[str, Any]]:
    """The documents of any table on disk now whose fields equal ``fields``."""
    return [d for docs in stored_tables(data_dir).values() for d in docs.values()
            if all(d.get(k) == v for k, v in fields.items())]


def current_assignments(data_dir: Path, benefit_id: str) -> list[dict[str, Any]]:
    """The seats of a benefit held now (not removed)."""
    return [a for a in stored(data_dir, "assignments", benefit_id=benefit_id) if not a.get("removed_at")]
