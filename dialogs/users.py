"""Users and permissions: Global admins add people and set their roles (``set_roles`` is gated by SSO).

The acting person is ``turn.person``; the person being changed comes from card data, and the
service refuses anyone but a Global admin and never removes the last Global admin.
"""

from __future__ import annotations

from typing import Any

from cards.users import users_card
from dialogs.actions import ActionResult, action
from dialogs.turn import Turn
from domain import errors, rules
from domain.errors import RuleViolation
from domain.models import Role


def parse_roles(value: Any) -> frozenset[Role]:
    """A multi-select ChoiceSet answers ``"a,b"``; a list is accepted too. Unknown names are refused."""
    items = value if isinstance(value, list) else str(value or "").split(",")
    out = set()
    for item in items:
        name = str(item).strip()
        if not name:
            continue
        try:
            out.add(Role(name))
        except ValueError:
            raise RuleViolation(errors.MISSING_FIELD, field="roles") from None
    return frozenset(out)


def _page(turn: Turn, outcome: dict[str, Any] | None = None) -> ActionResult:
    return ActionResult(users_card(turn.t, turn.service.repo.people(), outcome))


@action("users")
async def users(turn: Turn, data: dict[str, Any]) -> ActionResult:
    rules.require_can_manage_roles(turn.person)
    return _page(turn)


@action("set_roles")
async def set_roles(turn: Turn, data: dict[str, Any]) -> ActionResult:
    rules.require_can_manage_roles(turn.person)
    person_id = str(data.get("person_id") or "")
    field = str(data.get("input") or "roles")
    wanted = parse_roles(data.get(field) if field in data else data.get("roles"))
    person = await turn.service.set_roles(turn.person, person_id, wanted)
    roles = ", ".join(turn.t(f"roles.{r.value}") for r in sorted(person.roles)) or turn.t("roles.employee")
    return _page(turn, {"key": "users.roles_saved", "params": {"name": person.name, "roles": roles}})


@action("add_user")
async def add_user(turn: Turn, data: dict[str, Any]) -> ActionResult:
    rules.require_can_manage_roles(turn.person)
    person = await turn.service.add_person(turn.person, str(data.get("new_name") or ""),
                                           str(data.get("new_email") or ""), parse_roles(data.get("new_roles")))
    return _page(turn, {"key": "users.added", "params": {"name": person.name, "email": person.email}})
