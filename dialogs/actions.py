"""The registry of card actions and text commands, and who may run each.

A card's ``Action.Execute`` verb (or an ``Action.Submit``'s ``data.action``) names an action here;
text commands in any of the three languages map to the same names (``dialogs.commands``). An action
returns the card to show: in place of the card that was clicked for an invoke, as a new message
otherwise. Actions never trust card data for *who* acts: that is ``turn.person``.

Each action declares who may run it (``roles``) and which card inputs it reads (``inputs``). The
bot checks ``roles`` before the handler runs, and cards show a button only when ``may`` allows it,
so a person never fills in a form they would be refused. ``inputs`` is what a button's form must
hold and validate, and nothing else (``tests/cards/test_card_actions.py`` checks every card).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from dialogs.turn import Turn
from domain import errors, rules
from domain.errors import RuleViolation
from domain.models import Person

Card = dict[str, Any]


@dataclass(frozen=True)
class ActionResult:
    """``card`` replaces the clicked card (or is sent); ``messages`` are extra texts/cards to send."""

    card: Card | None = None
    messages: tuple[str | Card, ...] = ()


@dataclass(frozen=True)
class Who:
    """Who may run an action: the seed's rule about roles, and the refusal that names it."""

    allows: Callable[[Person], bool]
    refusal: str = ""


def _anyone(_: Person) -> bool:
    return True


ANYONE = Who(_anyone)
ADMINS = Who(rules.is_admin, errors.NOT_AN_ADMIN)
GLOBAL_ADMINS = Who(rules.can_assign_benefits, errors.NEEDS_GLOBAL_ADMIN)
GO_TO_MARKET_ADMINS = Who(rules.can_manage_go_to_market, errors.NEEDS_GTM_ROLE)
#: Refusals about *who* acts (not about what was asked): the bot answers them and names the admins.
ROLE_REFUSALS = frozenset(w.refusal for w in (ADMINS, GLOBAL_ADMINS, GO_TO_MARKET_ADMINS))

ActionHandler = Callable[[Turn, dict[str, Any]], Awaitable[ActionResult]]

ACTIONS: dict[str, ActionHandler] = {}
#: Who may run each action (``ANYONE`` when not declared).
PERMITS: dict[str, Who] = {}
#: The card inputs an action reads: id patterns whose ``{name}`` is filled from the button's data
#: (``person-{benefit_id}``), or a function of that data when it depends on which button was clicked.
Inputs = tuple[str, ...] | Callable[[dict[str, Any]], Iterable[str]]
INPUTS: dict[str, Inputs] = {}


def action(name: str, roles: Who = ANYONE, inputs: Inputs = ()) -> Callable[[ActionHandler], ActionHandler]:
    """Register ``fn`` as the handler of the card action / command ``name``."""

    def register(fn: ActionHandler) -> ActionHandler:
        if name in ACTIONS:
            raise ValueError(f"action {name!r} registered twice")
        ACTIONS[name] = fn
        PERMITS[name] = roles
        INPUTS[name] = inputs
        return fn

    return register


def may(person: Person, verb: str) -> bool:
    """Whether ``person`` may run ``verb`` (an unknown verb: no)."""
    return verb in ACTIONS and PERMITS.get(verb, ANYONE).allows(person)


def allowed_verbs(person: Person) -> frozenset[str]:
    """The verbs ``person`` may run: what a card may offer them (cards take this as data)."""
    return frozenset(verb for verb in ACTIONS if may(person, verb))


def require(person: Person, verb: str) -> None:
    """The server's check of an action's declared roles, before its handler runs."""
    who = PERMITS.get(verb, ANYONE)
    if not who.allows(person):
        raise RuleViolation(who.refusal)


def inputs_read(verb: str, data: dict[str, Any]) -> frozenset[str]:
    """The input ids ``verb`` reads when its button carries ``data``."""
    declared = INPUTS.get(verb, ())
    patterns = declared if isinstance(declared, tuple) else tuple(declared(data))
    out = set()
    for pattern in patterns:
        try:
            out.add(pattern.format(**{k: v for k, v in data.items() if isinstance(k, str)}))
        except (KeyError, IndexError, ValueError):
            continue
    return frozenset(out)
