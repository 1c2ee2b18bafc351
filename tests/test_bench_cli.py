"""``python -m bench``: each benchmark named on the command line gets the options that follow its name."""

from __future__ import annotations

from bench.__main__ import plan


def test_options_after_a_benchmark_name_are_that_benchmarks() -> None:
    assert plan(["turns_bench", "--variants", "floor,ours", "--runs", "5", "growth_bench", "--sizes", "1000"]) == [
        ("turns_bench", ["--variants", "floor,ours", "--runs", "5"]), ("growth_bench", ["--sizes", "1000"])]
    assert plan(["sdk_bench"]) == [("sdk_bench", [])]


def test_no_name_runs_every_benchmark_without_options() -> None:
    runs = plan([])
    assert ("turns_bench", []) in runs and ("growth_bench", []) in runs
    assert all(name.endswith("_bench") and not options for name, options in runs)
