"""Fixtures shared by the storage engine's tests."""

from __future__ import annotations

import pytest

from services.storage.recovery import JournalFiles


@pytest.fixture(params=["texts cut at open", "texts cut when read"])
def both_ways_of_cutting(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test twice: once as a start cuts a small table's texts (all at open), once as it holds a large
    one (``SnapshotTexts``: each text cut when first read), whatever the size of the test's tables."""
    if request.param == "texts cut when read":
        monkeypatch.setattr(JournalFiles, "cut_when_read_from", 1)
    return str(request.param)
