"""Users and permissions: Global admins add people and set their roles (``set_roles`` is gated by SSO).

The acting person is ``turn.person``; the person being changed comes from card data, and the
service refuses anyone but a Global admin and never removes the last Global admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cards.paging import PAGE_SIZE, Page, clamp
from cards.users import add_user_card, confirm_roles_card, users_card
from dialogs import payloads
from dialogs.actions import GLOBAL_ADMINS, ActionResult, Menu, Phrases, action
from dialogs.paging import SearchClick, asked, search_inputs
from dialogs.turn import Turn
from domain import errors
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


def _page(turn: Turn, outcome: dict[str, Any] | None = None, click: SearchClick | None = None) -> ActionResult:
    """The page of the directory the click asked for (the same page and search after a change)."""
    number, query = asked(click or SearchClick())
    repo = turn.service.repo
    people, total = repo.people_page(query, number * PAGE_SIZE, PAGE_SIZE, turn.locale)
    if not people and number:  # past the end (people went away): the last page
        number = clamp(number, total)
        people, total = repo.people_page(query, number * PAGE_SIZE, PAGE_SIZE, turn.locale)
    return ActionResult(users_card(turn.t, Page(people, total, number, query), outcome,
                                   turn.may))


def _refused(turn: Turn, violation: RuleViolation, click: SearchClick) -> ActionResult:
    """The directory again, with why nothing changed on top (a stale or forged click)."""
    if turn.workflows.is_role_refusal(violation.code):
        raise violation
    return _page(turn, {"key": "users.refused", "style": "attention",
                        "params": {"reason": turn.t(violation.code, **violation.params)}}, click)


@action("users", roles=GLOBAL_ADMINS, inputs=search_inputs, payload=SearchClick, menu=Menu("menu.users", 110),
        phrases=Phrases(en_US=("users", "roles", "permissions"), zh_CN=("用户", "角色", "权限"),
                        zh_TW=("使用者", "角色", "權限")))
async def users(turn: Turn, click: SearchClick) -> ActionResult:
    return _page(turn, click=click)


@dataclass(frozen=True)
class RolesForm(SearchClick):
    """Each person's row holds its own roles input, whose id the button carries (``input``); the
    confirmation's button carries the roles themselves. The search and page come back to the list."""

    person_id: str = payloads.text("person_id", 254)
    roles: str = payloads.text("roles", 200, key=("{input}", "roles"))
    confirm: str = payloads.carried("confirm")


@action("set_roles", roles=GLOBAL_ADMINS, inputs=("{input}",), fresh_sign_in=True, payload=RolesForm)
async def set_roles(turn: Turn, form: RolesForm) -> ActionResult:
    """Removing a role asks first (it can lock someone out); adding one does not."""
    person_id = form.person_id
    try:
        wanted = parse_roles(form.roles)
        current = turn.service.repo.person(person_id)
        if current is None:
            raise RuleViolation(errors.UNKNOWN_PERSON, id=person_id)
        if current.roles - wanted and form.confirm != "yes":
            return ActionResult(confirm_roles_card(turn.t, current, wanted))
        person = await turn.service.set_roles(turn.person, person_id, wanted)
    except RuleViolation as violation:
        return _refused(turn, violation, form)
    roles = ", ".join(turn.t(f"roles.{r.value}") for r in sorted(person.roles)) or turn.t("roles.employee")
    return _page(turn, {"key": "users.roles_saved", "params": {"name": person.name, "roles": roles}}, form)


#: Which field of the add-a-user form a refusal is about, and what to say under it.
_FIELD_ERRORS = {"name": ("new_name", "users.name_error"), "email": ("new_email", "users.email_error")}


@dataclass(frozen=True)
class NewUserForm:
    """What was typed, as much of it as the form's inputs hold (a pasted essay is not sent back)."""

    new_name: str = payloads.text("name", 120, keep=True)
    new_email: str = payloads.text("email", 254, keep=True)
    new_roles: str = payloads.text("roles", 200, keep=True)


@action("add_user", roles=GLOBAL_ADMINS, inputs=("new_name", "new_email", "new_roles"), payload=NewUserForm)
async def add_user(turn: Turn, form: NewUserForm) -> ActionResult:
    values = {"new_name": form.new_name, "new_email": form.new_email, "new_roles": form.new_roles}
    try:
        person = await turn.service.add_person(turn.person, values["new_name"], values["new_email"],
                                               parse_roles(values["new_roles"]))
    except RuleViolation as violation:
        if turn.workflows.is_role_refusal(violation.code):
            raise
        field = "email" if violation.code == errors.INVALID_EMAIL else str(violation.params.get("field") or "")
        input_id, key = _FIELD_ERRORS.get(field, ("new_roles", ""))
        message = turn.t(key) if key else turn.t(violation.code, **violation.params)
        return ActionResult(add_user_card(turn.t, values, {input_id: message}))
    return _page(turn, {"key": "users.added", "params": {"name": person.name, "email": person.email}},
                 SearchClick(query=person.email))
