"""Summarize a sampling profile written by ``turns_bench --sample``: the share of samples each
function is running in (inclusive) and at the top of (its own code).

``python -m bench.stacks FILE [--top 40] [--under FUNCTION]``: ``--under`` keeps only the samples whose
stack passes through FUNCTION (a ``file:function`` name, or its end), to see where one step spends.
"""

from __future__ import annotations

import argparse
import collections
import sys


def read(path: str) -> list[tuple[list[str], int]]:
    samples = []
    with open(path) as lines:
        for line in lines:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            samples.append((stack.split(";"), int(count)))
    return samples


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stacks", description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--under", default="", help="only samples whose stack passes through this function")
    args = parser.parse_args(argv)
    samples = read(args.file)
    if args.under:
        samples = [(s, n) for s, n in samples if any(f.endswith(args.under) for f in s)]
    total = sum(n for _, n in samples) or 1
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    for stack, n in samples:
        for name in set(stack):
            inclusive[name] += n
        own[stack[-1]] += n
    print(f"{total} samples{' under ' + args.under if args.under else ''}")
    print(f"{'inclusive':>9} {'own':>6}  function")
    for name, n in inclusive.most_common(args.top):
        print(f"{100 * n / total:8.1f}% {100 * own[name] / total:5.1f}%  {name}")
    print("\nown time:")
    for name, n in own.most_common(args.top // 2):
        print(f"{100 * n / total:8.1f}%  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
