"""Shared test helpers (fakes, storage helpers, the crash-test writer)."""
