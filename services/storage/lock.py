"""One writer per data folder: the bot and the CLI never write the same files at once.

TinyDB files are not safe for two processes (TinyDB's own docs say so). The server holds an
exclusive ``flock`` on ``DATA_DIR/.lock`` while it runs; CLI commands that write take the same
lock and refuse, with a clear message, when the bot is running.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_NAME = ".lock"


class DataFolderBusy(RuntimeError):
    """Another process (normally the running bot) holds the data folder."""


@contextmanager
def data_folder_lock(data_dir: Path) -> Iterator[None]:
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(data_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DataFolderBusy(f"{data_dir} is in use by another process (is the bot running?)") from None
        yield
    finally:
        os.close(fd)
