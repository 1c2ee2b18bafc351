"""What a person meets on a card, computed the way the Adaptive Cards renderer does it.

``associated_inputs``: an ``Action.Execute``/``Action.Submit`` with the default
``associatedInputs: "auto"`` validates and sends every input of its own card and of the cards that
enclose it (an ``Action.ShowCard``'s card inside its parent), but none of a sibling ShowCard's
card; visibility does not matter (the renderer's ``internalGetReferencedInputs``). A required input
of another form among them blocks the button. ``accessible_names``: a button's accessible name is
its title (the renderer makes the tooltip the ``aria-label`` only for a button without a title).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

SENDING = ("Action.Execute", "Action.Submit")
#: Keys under which an element holds other elements (not actions, not a ShowCard's card).
_ELEMENT_KEYS = ("body", "items", "columns", "facts", "inlineAction")


def inputs_of(node: Any) -> dict[str, dict[str, Any]]:
    """The inputs in ``node``'s elements, by id, without descending into any action."""
    found: dict[str, dict[str, Any]] = {}
    if isinstance(node, list):
        for item in node:
            found.update(inputs_of(item))
    elif isinstance(node, dict):
        if str(node.get("type", "")).startswith("Input.") and node.get("id"):
            found[node["id"]] = node
        for key in _ELEMENT_KEYS:
            if key in node and key != "inlineAction":
                found.update(inputs_of(node[key]))
    return found


def _actions_in(node: Any) -> Iterator[dict[str, Any]]:
    """Every action of one card (in ActionSets, the card's actions, select actions), not of its ShowCards."""
    if isinstance(node, list):
        for item in node:
            yield from _actions_in(item)
    elif isinstance(node, dict):
        if node.get("type") == "ActionSet" or node.get("type") == "AdaptiveCard":
            for action in node.get("actions") or []:
                yield action
        if isinstance(node.get("selectAction"), dict):
            yield node["selectAction"]
        for key in _ELEMENT_KEYS:
            if key in node:
                yield from _actions_in(node[key])


def cards_within(card: dict[str, Any]) -> Iterator[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """The card and each ShowCard's card, each with the chain of cards enclosing it (outermost first)."""
    def walk(current: dict[str, Any], chain: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any],
                                                                                   list[dict[str, Any]]]]:
        yield current, chain
        for action in _actions_in(current):
            if action.get("type") == "Action.ShowCard" and isinstance(action.get("card"), dict):
                yield from walk(action["card"], [*chain, current])
    yield from walk(card, [])


def associated_inputs(card: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, dict[str, Any]]]]:
    """Each sending action of ``card`` with the inputs it validates and sends."""
    out = []
    for current, chain in cards_within(card):
        scope: dict[str, dict[str, Any]] = {}
        for enclosing in [*chain, current]:
            scope.update(inputs_of(enclosing.get("body")))
        for action in _actions_in(current):
            if action.get("type") in SENDING:
                out.append((action, {} if action.get("associatedInputs") == "none" else scope))
    return out


def all_inputs(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for current, _ in cards_within(card):
        found.update(inputs_of(current.get("body")))
    return found


def verb_and_data(action: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    data = action.get("data") if isinstance(action.get("data"), dict) else {}
    return str(action.get("verb") or data.get("action") or ""), data


def accessible_name(action: dict[str, Any]) -> str:
    """What a screen reader says for the button, as the Adaptive Cards renderer labels it: its title, and
    its tooltip only when it has no title (a select action has none)."""
    return str(action.get("title") or action.get("tooltip") or "")


def same_named_actions(card: dict[str, Any]) -> list[str]:
    """Accessible names used by more than one action shown together on one card or ShowCard."""
    clashes = []
    for current, _ in cards_within(card):
        seen: set[str] = set()
        for action in _actions_in(current):
            key = accessible_name(action)
            if key in seen:
                clashes.append(key)
            seen.add(key)
    return clashes
