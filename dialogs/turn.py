"""What a command or card action knows about its turn: who acts, in which language, with what."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from botbuilder.core import TurnContext

from cards.base import Card
from cards.help import MenuEntry
from domain.models import Person
from services.benefits import BenefitsService
from services.conversations import ConversationBook
from services.i18n import Translator
from services.identity.directory import Directory

#: renders a card that is a pure function of the translator and a hashable key: ``memo(t, key, build)``
CardCache = Callable[[Translator, tuple[Any, ...], Callable[[], Card]], Card]


def build_now(t: Translator, key: tuple[Any, ...], build: Callable[[], Card]) -> Card:
    """No memo: every card is built afresh."""
    return build()


class Offers(Protocol):
    """What a turn may ask of the app's workflows (``dialogs.registry.Workflows``): who may run
    which verb, so that cards offer only what the person may do."""

    @property
    def fresh_sign_in(self) -> frozenset[str]: ...

    def may(self, person: Person, verb: str) -> bool: ...

    def allowed_verbs(self, person: Person) -> frozenset[str]: ...

    def require(self, person: Person, verb: str) -> None: ...

    def is_role_refusal(self, code: str) -> bool: ...

    def menu_for(self, person: Person) -> list[MenuEntry]: ...


@dataclass
class Turn:
    """One turn, resolved: the acting person comes from the activity, never from card data."""

    context: TurnContext
    person: Person
    locale: str
    t: Translator
    service: BenefitsService
    #: the app's workflows: who may run what
    workflows: Offers
    #: a key unique to this delivery (activity id) for idempotent writes
    op_key: str | None = None
    #: each person's 1:1 chat and preferences (the language they chose)
    conversations: ConversationBook = field(kw_only=True)
    #: who is in the organization beyond the people table (Microsoft Graph), when configured
    directory: Directory | None = None
    #: where cards that are the same for everyone with the same data come from (the bot's memo)
    memo: CardCache = build_now

    def may(self, verb: str) -> bool:
        """Whether the acting person may run ``verb`` (what a card may offer them)."""
        return self.workflows.may(self.person, verb)
