"""Memoized rendering of cards that are pure functions of hashable inputs (the Benefits overview).

Why: the overview is the most used admin card and, between two writes to the benefits, every admin
asking in the same language gets the same card; building it (twenty catalog lookups, dates, ~60
dicts) was a tenth of a turn. The memo is keyed by everything the card is made of: the locale, the
(frozen, hashable) summaries and packages and the registered verbs, so a change to the data gives a
new key and a stale card cannot be served; there is nothing to invalidate. Callers get a fresh copy
each time, so no caller can change the card another one gets. Translators with their own catalogs
(tests) bypass the memo.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from cards.base import Card
from services.i18n import Translator, load_catalogs

#: distinct cards kept (locales x data versions); the oldest is dropped first
MAX_CARDS = 64


class CardMemo:
    """An LRU of rendered cards by key; hands out copies."""

    def __init__(self, size: int = MAX_CARDS) -> None:
        self.size = size
        self._cards: OrderedDict[Hashable, Card] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, t: Translator, key: tuple[Any, ...], build: Callable[[], Card]) -> Card:
        if type(t) is not Translator or t.catalogs is not load_catalogs():
            return build()
        full = (t.locale, *key)
        try:
            found = self._cards.get(full)
        except TypeError:  # an unhashable input: nothing to memoize on
            return build()
        if found is None:
            self.misses += 1
            found = build()
            self._cards[full] = found
            if len(self._cards) > self.size:
                self._cards.popitem(last=False)
        else:
            self.hits += 1
            self._cards.move_to_end(full)
        return copy_json(found)

    def clear(self) -> None:
        self._cards.clear()


def copy_json(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """A deep copy of card JSON (dicts, lists, scalars), keeping shared parts shared as ``deepcopy``
    does (an action's ``data`` is also its fallback's)."""
    if memo is None:
        memo = {}
    kind = type(value)
    if kind is dict:
        found = memo.get(id(value))
        if found is None:
            found = memo[id(value)] = {}
            for k, v in value.items():
                found[k] = copy_json(v, memo) if type(v) in (dict, list) else v
        return found
    if kind is list:
        found = memo.get(id(value))
        if found is None:
            found = memo[id(value)] = []
            found.extend([copy_json(v, memo) if type(v) in (dict, list) else v for v in value])
        return found
    return value


OVERVIEW = CardMemo()
