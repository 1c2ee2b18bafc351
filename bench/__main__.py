"""Run every benchmark module ``bench/*_bench.py`` (or the ones named on the command line).

Each module exposes ``main(argv: list[str]) -> int`` and prints its own figures. ``make bench`` runs
them all in one go, so a reader compares figures measured on the same machine in the same run.
Options after a module's name are that module's (``python -m bench turns_bench --variants floor,ours``).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench


def plan(argv: list[str]) -> list[tuple[str, list[str]]]:
    """The modules to run, each with the options that follow its name on the command line."""
    runs: list[tuple[str, list[str]]] = []
    for arg in argv:
        if runs and (arg.startswith("-") or not arg.endswith("_bench")):
            runs[-1][1].append(arg)
        else:
            runs.append((arg, []))
    return runs or [(m.name, []) for m in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name)
                    if m.name.endswith("_bench")]


def main(argv: list[str]) -> int:
    status = 0
    for name, options in plan(argv):
        module = importlib.import_module(f"bench.{name}")
        print(f"\n=== {name} ===", flush=True)
        status |= module.main(options)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
