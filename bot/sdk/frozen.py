"""Read-only cards that carry the JSON text they were parsed from.

Why: between two writes to the benefits, every admin asking for the overview in one language gets the
same card (``bot.sdk.card_memo``). Handing every caller one shared read-only object, together with its
JSON text, lets the Bot Connector client splice that text into the outgoing activity instead of
parsing a private copy, checking it and encoding it again on every turn: three walks over a large
card, each of them on the event loop of every turn that shows it.

Read-only all the way down: changing a shared card raises ``TypeError`` instead of silently changing
what the next admin is shown. ``copy.deepcopy`` (and ``thaw``) give a plain card that can be changed.
They are ``dict`` and ``list`` subclasses, so everything that reads a card (``json.dumps``, schema
validators, equality with plain cards, ``isinstance(card, dict)``) works unchanged.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

ERR_READ_ONLY = "this card is shared by every caller of the card memo: thaw() or copy.deepcopy() it to change it"


def _read_only(*_: Any, **__: Any) -> NoReturn:
    raise TypeError(ERR_READ_ONLY)


class FrozenDict(dict[str, Any]):
    """A JSON object of a shared card: every mutating method raises."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _read_only

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        copied: dict[str, Any] = thaw(self)
        return copied

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (and copies by reduce) as a plain, changeable dict
        return (dict, (thaw(self),))


class FrozenList(list[Any]):
    """A JSON array of a shared card: every mutating method raises."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _read_only
    append = extend = insert = remove = pop = clear = sort = reverse = _read_only

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        copied: list[Any] = thaw(self)
        return copied

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (thaw(self),))


class FrozenCard(FrozenDict):
    """A whole shared card and ``text``, its JSON encoding (``json.loads(card.text) == card``), also
    as UTF-8 bytes (``utf8``): what goes on the wire, encoded once instead of on every send."""

    __slots__ = ("text", "utf8")
    text: str
    utf8: bytes


def freeze_json(text: str) -> FrozenCard:
    """The card encoded by ``text`` (a JSON object), read-only, remembering ``text``."""
    card = json.loads(text, object_hook=_frozen_object)
    if not isinstance(card, FrozenDict):
        raise ValueError("a card is a JSON object")
    frozen = FrozenCard()
    dict.update(frozen, card)
    frozen.text = text
    frozen.utf8 = text.encode()
    return frozen


def _frozen_object(pairs: dict[str, Any]) -> FrozenDict:
    out = FrozenDict()
    for key, value in pairs.items():
        dict.__setitem__(out, key, _frozen_list(value) if type(value) is list else value)
    return out


def _frozen_list(items: list[Any]) -> FrozenList:
    """Objects inside were frozen already (``object_hook`` runs bottom-up); arrays are frozen here."""
    return FrozenList(_frozen_list(v) if type(v) is list else v for v in items)


def thaw(value: Any) -> Any:
    """A plain, changeable copy of ``value`` (frozen or not): dicts and lists all the way down."""
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list):
        return [thaw(v) for v in value]
    return value
