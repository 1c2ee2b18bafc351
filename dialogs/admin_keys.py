"""*Get keys*: reveal a product's license keys for one language and OS type (admins only).

The verb is ``reveal_keys`` because the SSO workflow asks for a fresh sign-in before it. The
service records who revealed what and when, and a first reveal activates the benefit (which bars a
refund of its package). Keys go only into the card returned to the admin, never into a log line.
"""

from __future__ import annotations

from dataclasses import dataclass

from cards.keys import keys_card
from dialogs import payloads
from dialogs.actions import ADMINS, ActionResult, action
from dialogs.admin_view import refusal, render_list
from dialogs.turn import Turn
from domain import errors, rules
from domain.errors import RuleViolation
from domain.models import Category


@dataclass(frozen=True)
class KeysForm:
    """Each product's row holds its own choice of language and OS type, named after it. The choices
    are the inventory's own words, which no form bounds: the rules refuse anything but one of them."""

    benefit_id: str = payloads.text("benefit", 200)
    language: str = payloads.text("key_language", 1000, key=("language", "language-{benefit_id}"))
    os: str = payloads.text("key_os", 1000, key=("os", "os-{benefit_id}"))
    page: int = payloads.page()


@action("reveal_keys", roles=ADMINS, inputs=("language-{benefit_id}", "os-{benefit_id}", "language", "os"),
        fresh_sign_in=True, payload=KeysForm)
async def reveal_keys(turn: Turn, form: KeysForm) -> ActionResult:
    rules.require_can_reveal_keys(turn.person)  # a forged invoke from an employee stops here
    benefit_id = form.benefit_id
    page = form.page
    benefit = turn.service.repo.benefit(benefit_id)
    category = benefit.category if benefit else Category.SOFTWARE
    try:
        if benefit is None:
            raise RuleViolation(errors.UNKNOWN_BENEFIT, id=benefit_id)
        # only what the keys vary by was asked: a dimension with one value is that value
        language = rules.resolve_key_choice(benefit, "language", form.language.strip())
        os_type = rules.resolve_key_choice(benefit, "os", form.os.strip())
        # one click with one choice is one record; the same card used again for another language is another
        op_key = f"{turn.op_key}:{language}:{os_type}" if turn.op_key else None
        keys = await turn.service.reveal_keys(turn.person, benefit.id, language, os_type, op_key=op_key)
    except RuleViolation as violation:
        if category not in (Category.SOFTWARE, Category.CLOUD):
            category = Category.SOFTWARE
        return ActionResult(render_list(turn, category, page, refusal(turn, violation)))
    return ActionResult(keys_card(benefit, keys, language, os_type, turn.person, turn.service.clock(), turn.t, page))
