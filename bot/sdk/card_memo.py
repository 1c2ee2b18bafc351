"""Memoized rendering of cards that are pure functions of hashable inputs (the Benefits overview).

Why: the overview is the most used admin card and, between two writes to the benefits, every admin
asking in the same language gets the same card, so building it again (catalog lookups, dates, dozens
of dicts) is wasted work on the turn's hot path. The memo is keyed by everything the card is made of:
the locale, the catalogs the translator reads, the (frozen, hashable) summaries and packages and the
verbs the person may use, so a change to the data gives a new key and a stale card cannot be served;
there is nothing to invalidate. From the second request on, every caller gets one shared, read-only
:class:`~bot.sdk.frozen.FrozenCard` that carries its JSON text: no caller can change the card
another one gets (changing it raises), and the connector sends the text as it is instead of copying
and encoding the card again.

The bot owns one memo (``BenefitsBot.card_memo``) and hands its :meth:`CardMemo.get` to the dialogs
as ``Turn.memo``; dialogs never import this module (it belongs to the SDK's room, see README.md).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from bot.sdk.frozen import FrozenCard, freeze_json
from cards.base import Card
from services.i18n import Translator

#: distinct cards kept (locales x data versions); the oldest is dropped first
MAX_CARDS = 64


class CardMemo:
    """An LRU of rendered cards by key, kept read-only with their JSON text."""

    def __init__(self, size: int = MAX_CARDS) -> None:
        self.size = size
        #: each card with the catalogs it was translated from (kept, so their ``id`` in the key stays theirs)
        self._cards: OrderedDict[Hashable, tuple[Mapping[str, Any], FrozenCard]] = OrderedDict()
        #: per locale, the last card handed out and the key it was asked with: asked again with the
        #: very same objects (the data unchanged), it is found without hashing the key's data
        self._last: dict[str, tuple[Mapping[str, Any], tuple[Any, ...], FrozenCard]] = {}
        self.hits = 0
        self.misses = 0

    def get(self, t: Translator, key: tuple[Any, ...], build: Callable[[], Card]) -> Card:
        catalogs = t.catalogs
        last = self._last.get(t.locale)
        if last is not None and last[0] is catalogs and _same_objects(last[1], key):
            self.hits += 1
            return last[2]
        full = (t.locale, id(catalogs), *key)
        try:
            found = self._cards.get(full)
        except TypeError:  # an unhashable input: nothing to memoize on
            return build()
        if found is not None and found[0] is catalogs:
            self.hits += 1
            self._cards.move_to_end(full)
            self._last[t.locale] = (catalogs, key, found[1])
            return found[1]
        self.misses += 1
        card = build()
        text = _as_json(card)
        if text is not None:
            self._cards[full] = (catalogs, freeze_json(text))
            if len(self._cards) > self.size:
                self._cards.popitem(last=False)
        return card  # freshly built and the caller's own: the memo keeps its frozen twin

    def clear(self) -> None:
        self._cards.clear()
        self._last.clear()


def _same_objects(old: tuple[Any, ...], new: tuple[Any, ...]) -> bool:
    """Whether two keys hold the same objects, or tuples of the same objects, part by part (the
    same objects are equal values: the memo's data are immutable)."""
    if len(old) != len(new):
        return False
    for a, b in zip(old, new, strict=True):
        if a is b:
            continue
        if type(a) is not tuple or type(b) is not tuple or len(a) != len(b):
            return False
        if not all(x is y for x, y in zip(a, b, strict=True)):
            return False
    return True


def _as_json(card: Card) -> str | None:
    """The card's JSON text if reading it back gives an equal card of the same types, else None (then
    the card is not memoized: e.g. a tuple would come back a list)."""
    if not _plain_json(card):
        return None
    try:
        return json.dumps(card, ensure_ascii=False, allow_nan=False)
    except ValueError:
        return None


def _plain_json(value: Any) -> bool:
    kind = type(value)
    if kind is dict:
        return all(type(k) is str and _plain_json(v) for k, v in value.items())
    if kind is list:
        return all(_plain_json(v) for v in value)
    return kind in (str, int, float, bool, type(None))

