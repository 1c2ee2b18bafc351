"""Workarounds for botbuilder 4.17.1's internals, in one room: what each saves and what replaces it on
the Microsoft 365 Agents SDK is in ``README.md`` beside this file. No production code outside ``bot/``
imports it (``tests/test_architecture.py``)."""
