"""Run every benchmark module ``bench/*_bench.py`` (or the ones named on the command line).

Each module exposes ``main(argv: list[str]) -> int`` and prints its own figures. ``make bench`` runs
them all in one go, so a reader compares figures measured on the same machine in the same run.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench


def main(argv: list[str]) -> int:
    names = argv or sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.endswith("_bench"))
    status = 0
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"\n=== {name} ===", flush=True)
        status |= module.main([])
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
