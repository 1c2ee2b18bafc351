"""Shared fixtures of the services' tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.repository import INDEXES
from services.storage import JournaledTinyStore, open_store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[JournaledTinyStore]:
    """The app's store (the embedded engine, the repository's indexes) in a fresh folder, closed after the test."""
    opened = open_store(tmp_path / "benefits.json", INDEXES)
    try:
        yield opened
    finally:
        await opened.close()
