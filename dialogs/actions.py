"""What a workflow declares about each of its verbs, in one place beside its handler.

A card's ``Action.Execute`` verb (or an ``Action.Submit``'s ``data.action``) names a verb; text
commands in any of the three languages start the same verbs. A verb's handler returns the card to
show: in place of the card that was clicked for an invoke, as a new message otherwise. Handlers
never trust card data for *who* acts: that is ``turn.person``.

``@action`` only attaches the declaration to its handler: nothing is registered at import. The app
builds one ``dialogs.registry.Workflows`` from the declarations it finds, and the phrase table, the
menu, the fresh-sign-in gate, the refusals about who acts and the buttons a card offers are all
derived from it, so a new workflow is one module (plus its catalog keys and tests).

Who may run a verb (``roles``) is checked by the bot before the handler runs, and cards show a
button only when the registry's ``may`` allows it, so a person never fills in a form they would be
refused. ``inputs`` is what a button's form must hold and validate, and nothing else
(``tests/cards/test_card_actions.py`` checks every card).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from dialogs import payloads
from dialogs.turn import Turn
from domain import errors, rules
from domain.models import Person

Card = dict[str, Any]


@dataclass(frozen=True)
class FileResult:
    """A file for the person, offered through Teams' file consent (1:1 chats only): the bot uploads
    ``content`` once the person accepts, to the place Teams names in the ``fileConsent/invoke``."""

    name: str
    content: bytes
    description: str = ""


@dataclass(frozen=True)
class ActionResult:
    """``card`` replaces the clicked card (or is sent); ``messages`` are extra texts/cards to send;
    ``file`` is offered for download."""

    card: Card | None = None
    messages: tuple[str | Card, ...] = ()
    file: FileResult | None = None


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

#: A verb's handler: the turn, and the click's data (a ``dict``, or the verb's declared payload)
ActionHandler = Callable[[Turn, Any], Awaitable[ActionResult]]
#: The card inputs an action reads: id patterns whose ``{name}`` is filled from the button's data
#: (``person-{benefit_id}``), or a function of that data when it depends on which button was clicked.
Inputs = tuple[str, ...] | Callable[[dict[str, Any]], Iterable[str]]


@dataclass(frozen=True)
class Phrases:
    """What a person may type to start a verb, in each language the bot speaks (lower case; a
    phrase may be followed by an argument, ``language zh-TW``)."""

    en_US: tuple[str, ...] = ()
    zh_CN: tuple[str, ...] = ()
    zh_TW: tuple[str, ...] = ()
    #: catalog key of the phrase suggested in the person's language ("did you mean ..."); empty:
    #: ``commands.<verb>``
    hint: str = ""

    def all(self) -> tuple[str, ...]:
        return (*self.en_US, *self.zh_CN, *self.zh_TW)


@dataclass(frozen=True)
class Menu:
    """The verb's entry in the menu: catalog keys ``<key>.title`` and ``<key>.description``
    (``menu.users``, or the workflow's own area), and its place (ascending ``order``)."""

    key: str
    order: int


@dataclass(frozen=True)
class Workflow:
    """Everything the bot needs to know about one verb, declared by the module that handles it."""

    verb: str
    handler: ActionHandler
    roles: Who = ANYONE
    inputs: Inputs = ()
    phrases: Phrases = field(default_factory=Phrases)
    menu: Menu | None = None
    #: needs a sign-in within the last few minutes when SSO is configured (secrets, roles)
    fresh_sign_in: bool = False
    #: its answer holds nothing private and may be shown in a group chat or channel
    shared: bool = False
    #: answered only in the person's 1:1 chat (files); elsewhere refused, nothing runs
    personal_only: bool = False
    #: the dataclass the handler gets the click's data as (``dialogs.payloads``); None: the raw dict
    payload: type | None = None

    async def run(self, turn: Turn, data: dict[str, Any]) -> ActionResult:
        """The handler, given the data as it declared it (a bad field is refused before it runs)."""
        return await self.handler(turn, payloads.parse(self.payload, data) if self.payload else data)


#: the attribute of a handler that holds its declaration
DECLARATION = "__workflow__"


def action(verb: str, roles: Who = ANYONE, inputs: Inputs = (), *, phrases: Phrases | None = None,
           menu: Menu | None = None, fresh_sign_in: bool = False, shared: bool = False,
           personal_only: bool = False, payload: type | None = None) -> Callable[[ActionHandler], ActionHandler]:
    """Declare ``fn`` as the handler of ``verb`` (see :class:`Workflow` for the rest)."""

    def declare(fn: ActionHandler) -> ActionHandler:
        setattr(fn, DECLARATION, Workflow(verb, fn, roles, inputs, phrases or Phrases(), menu, fresh_sign_in,
                                          shared, personal_only, payload))
        return fn

    return declare


def declared(value: object) -> Workflow | None:
    """The declaration ``@action`` attached to ``value``, if any."""
    found = getattr(value, DECLARATION, None)
    return found if isinstance(found, Workflow) else None
