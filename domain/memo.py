"""A bounded memory of results that are worked out again and again on the event loop.

Why "start over when full" rather than least-recently-used: a hit must cost one dictionary lookup (it
sits on every turn's path), and the working set (the menu words people type, the people active at
once) is far smaller than the bound, so starting over is rare and costs one round of misses.
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedMemo(dict[K, V]):
    """A dict read as any dict (``memo[key]``, ``memo.get(key)``) and written through :meth:`remember`,
    which forgets everything once ``limit`` entries are held."""

    __slots__ = ("limit",)

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def remember(self, key: K, value: V) -> V:
        """Hold ``value`` for ``key`` and hand it back."""
        if len(self) >= self.limit:
            self.clear()
        self[key] = value
        return value
