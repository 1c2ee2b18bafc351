"""Structured logs: one JSON object a line, and never a secret.

Secrets are kept out at the source (we never pass keys or tokens to a logger), and a redacting
filter is the second line of defence: values of known secret names and strings that look like
bearer tokens or product keys are masked before a record is written.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}
_SECRET_KEYS = re.compile(r"(password|secret|token|authorization|key|assertion)", re.I)
_SECRET_VALUES = [
    re.compile(r"(?i)bearer\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),  # JWTs
    re.compile(r"\b[A-Z0-9]{5}(?:-[A-Z0-9]{5}){4}\b"),  # product keys XXXXX-XXXXX-XXXXX-XXXXX-XXXXX
]
REDACTED = "[redacted]"


def redact_text(text: str) -> str:
    for pattern in _SECRET_VALUES:
        text = pattern.sub(REDACTED, text)
    return text


def _redact(key: str, value: Any) -> Any:
    if _SECRET_KEYS.search(key) and not key.endswith(("_set", "_id", "_count")):
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _redact(str(k), v) for k, v in value.items()}
    return value


class JsonFormatter(logging.Formatter):
    """Format a record as one JSON line with its ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact_text(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = _redact(key, value)
        if record.exc_info:
            entry["exc"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(entry, default=str, ensure_ascii=False)


def configure_logging(level: str = "INFO") -> None:
    """Send every logger to stderr as JSON lines (idempotent: safe to call twice)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("urllib3", "msal", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # msrest warns about every Teams-only field it does not model ("trigger is not a known attribute")
    logging.getLogger("msrest").setLevel(logging.ERROR)


class RateLimitedLog:
    """Counts events and writes them as one line per interval: a flood costs one line, not one per event.

    The first event of a quiet period is written at once; later ones are added up and written when
    the interval since the last line has passed (``details`` adds context, e.g. open connections).
    """

    def __init__(self, logger: logging.Logger, message: str, *, interval_s: float = 10.0,
                 level: int = logging.WARNING, details: Callable[[], dict[str, Any]] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.logger = logger
        self.message = message
        self.interval_s = interval_s
        self.level = level
        self.details = details
        self.clock = clock
        self.counts: Counter[str] = Counter()
        self.lines = 0
        self._last: float | None = None
        self._pending: asyncio.TimerHandle | None = None

    def count(self, event: str) -> None:
        self.counts[event] += 1
        if self._pending is not None:
            return
        now = self.clock()
        wait = 0.0 if self._last is None else self._last + self.interval_s - now
        if wait <= 0:
            self.flush()
            return
        try:
            self._pending = asyncio.get_running_loop().call_later(wait, self.flush)
        except RuntimeError:  # no loop (a script, a test): the next count or flush writes it
            pass

    def flush(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        if not self.counts:
            return
        extra: dict[str, Any] = {"events": dict(self.counts), "interval_s": self.interval_s}
        if self.details is not None:
            extra.update(self.details())
        self.counts.clear()
        self._last = self.clock()
        self.lines += 1
        self.logger.log(self.level, self.message, extra=extra)
