"""My benefits: any user sees their own holdings, never anyone else's and never keys."""

from __future__ import annotations

from typing import Any

from cards.mine import my_benefits_card
from dialogs.actions import ActionResult, action
from dialogs.turn import Turn


@action("my_benefits")
async def my_benefits(turn: Turn, data: dict[str, Any]) -> ActionResult:
    holdings = turn.service.holdings(turn.person)
    return ActionResult(my_benefits_card(turn.t, turn.person.name, holdings))
