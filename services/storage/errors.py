"""Why a store refuses: the errors every engine raises, so callers handle them without knowing the engine."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


class StoreUnavailableError(RuntimeError):
    """The store refuses writes: it is closed, a disk error left the journal in doubt, or the database
    cannot be reached."""


class StoreLockedError(StoreUnavailableError):
    """Another store object (in this or another process) has the files open."""


class StoreDamagedError(StoreUnavailableError):
    """Opening would lose acknowledged writes (a generation is missing or empty, no snapshot is
    readable...): refused, nothing was changed. ``losses`` says what, file by file."""

    def __init__(self, path: Path, losses: Sequence[str]) -> None:
        super().__init__(f"{path} cannot be opened without losing data: " + "; ".join(losses))
        self.path = path
        self.losses = tuple(losses)
