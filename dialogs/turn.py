"""What a command or card action knows about its turn: who acts, in which language, with what."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from botbuilder.core import TurnContext

from domain.models import Person
from services.benefits import BenefitsService
from services.i18n import Translator


@dataclass
class Turn:
    """One turn, resolved: the acting person comes from the activity, never from card data."""

    context: TurnContext
    person: Person
    locale: str
    t: Translator
    service: BenefitsService
    #: a key unique to this delivery (activity id) for idempotent writes
    op_key: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
