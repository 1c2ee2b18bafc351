"""Frozen cards (``bot.sdk.frozen``): the same JSON as the text they came from, read-only all the way
down, and plain changeable cards again when copied."""

from __future__ import annotations

import copy
import json
import pickle
from typing import Any

import pytest

from bot.sdk.frozen import FrozenCard, FrozenDict, FrozenList, freeze_json, thaw

CARD: dict[str, Any] = {
    "type": "AdaptiveCard", "version": "1.5", "body": [
        {"type": "TextBlock", "text": "權益概覽 \u2028 \"quoted\"", "wrap": True, "size": 1.5, "n": 10**20},
        {"type": "ColumnSet", "columns": [], "matrix": [[1, {"a": [None, False]}], []]},
    ], "actions": [{"type": "Action.Execute", "data": {"action": "overview"}}], "msteams": {"width": "Full"},
}


def frozen() -> FrozenCard:
    return freeze_json(json.dumps(CARD, ensure_ascii=False))


def test_a_frozen_card_equals_its_text_and_encodes_the_same() -> None:
    card = frozen()
    assert card == CARD and json.loads(card.text) == CARD
    assert json.dumps(card) == json.dumps(CARD) and json.dumps(card, ensure_ascii=False) == card.text
    assert isinstance(card, dict) and isinstance(card["body"], list)


def _containers(value: Any) -> list[Any]:
    found = [value] if isinstance(value, (dict, list)) else []
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        found += _containers(child)
    return found


def test_every_object_and_array_is_frozen() -> None:
    kinds = {type(c) for c in _containers(frozen())[1:]}
    assert kinds == {FrozenDict, FrozenList}  # arrays inside arrays too


@pytest.mark.parametrize("change", [
    lambda c: c.__setitem__("type", "x"), lambda c: c.pop("type"), lambda c: c.update(a=1),
    lambda c: c.setdefault("z", 1), lambda c: c.popitem(), lambda c: c.clear(), lambda c: c.__delitem__("type"),
    lambda c: c.__ior__({"a": 1}),
    lambda c: c["body"].append(1), lambda c: c["body"].extend([1]), lambda c: c["body"].insert(0, 1),
    lambda c: c["body"].pop(), lambda c: c["body"].remove(c["body"][0]), lambda c: c["body"].sort(),
    lambda c: c["body"].reverse(), lambda c: c["body"].clear(), lambda c: c["body"].__setitem__(0, 1),
    lambda c: c["body"].__delitem__(0), lambda c: c["body"].__iadd__([1]), lambda c: c["body"].__imul__(2),
    lambda c: c["body"][1]["matrix"][0].append(2), lambda c: c["actions"][0]["data"].__setitem__("action", "x"),
])
def test_no_change_is_possible(change: Any) -> None:
    card = frozen()
    with pytest.raises(TypeError, match="shared"):
        change(card)
    assert card == CARD


@pytest.mark.parametrize("copier", [copy.deepcopy, thaw, lambda c: pickle.loads(pickle.dumps(c))])
def test_copies_are_plain_and_changeable(copier: Any) -> None:
    card = frozen()
    mine = copier(card)
    assert mine == CARD
    assert {type(c) for c in _containers(mine)} == {dict, list}
    mine["body"][1]["matrix"][0].append(2)
    mine["type"] = "changed"
    assert card == CARD


def test_shallow_copies_are_plain_at_the_top() -> None:
    card = frozen()
    mine = copy.copy(card)
    mine["type"] = "changed"
    assert type(mine) is dict and card["type"] == "AdaptiveCard"


@pytest.mark.parametrize("text", ["[1, 2]", "\"card\"", "3"])
def test_only_objects_are_cards(text: str) -> None:
    with pytest.raises(ValueError):
        freeze_json(text)
