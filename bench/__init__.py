"""Benchmarks: scripts that measure and print figures (run with ``make bench``); never tests."""
