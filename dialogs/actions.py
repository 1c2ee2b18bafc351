"""The registry of card actions and text commands.

A card's ``Action.Execute`` verb (or an ``Action.Submit``'s ``data.action``) names an action here;
text commands in any of the three languages map to the same names (``dialogs.commands``). An action
returns the card to show: in place of the card that was clicked for an invoke, as a new message
otherwise. Actions never trust card data for *who* acts: that is ``turn.person``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from dialogs.turn import Turn

Card = dict[str, Any]


@dataclass(frozen=True)
class ActionResult:
    """``card`` replaces the clicked card (or is sent); ``messages`` are extra texts/cards to send."""

    card: Card | None = None
    messages: tuple[str | Card, ...] = ()


ActionHandler = Callable[[Turn, dict[str, Any]], Awaitable[ActionResult]]

ACTIONS: dict[str, ActionHandler] = {}


def action(name: str) -> Callable[[ActionHandler], ActionHandler]:
    """Register ``fn`` as the handler of the card action / command ``name``."""

    def register(fn: ActionHandler) -> ActionHandler:
        if name in ACTIONS:
            raise ValueError(f"action {name!r} registered twice")
        ACTIONS[name] = fn
        return fn

    return register
