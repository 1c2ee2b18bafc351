"""Users and permissions: the directory with each person's roles, and the form to add someone.

Seed: only a Global admin assigns benefits (purchasing needs no admin role), and people missing
from the list are added in *Account settings*. Roles use Partner Center's official names.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cards.base import Card, card, confirm, execute, heading, nav, notice, text
from cards.paging import Page, page_data, pager, search_action, search_lines
from domain import rules
from domain.models import Person, Role
from services.i18n import Translator

ROLE_ORDER = (Role.GLOBAL_ADMIN, Role.USER_ADMIN, Role.ADMIN_AGENT, Role.MPN_PARTNER_ADMIN)


def role_choices(t: Translator) -> list[dict[str, str]]:
    return [{"title": t(f"roles.{r.value}"), "value": r.value} for r in ROLE_ORDER]


def roles_label(t: Translator, person: Person) -> str:
    if not person.roles:
        return t("roles.employee")
    return ", ".join(t(f"roles.{r.value}") for r in ROLE_ORDER if r in person.roles)


def roles_input_id(index: int) -> str:
    return f"roles_{index}"


def _subcard(body: list[dict[str, Any]], actions: list[dict[str, Any]]) -> Card:
    """The card of an ``Action.ShowCard``: its inputs are validated only by its own buttons."""
    sub = card(body, actions)
    sub.pop("msteams", None)
    sub.pop("$schema", None)
    return sub


def _roles_form(t: Translator, index: int, person: Person, where: dict[str, Any]) -> dict[str, Any]:
    form = _subcard([
        {"type": "Input.ChoiceSet", "id": roles_input_id(index), "isMultiSelect": True,
         "label": t("users.roles_of", name=person.name), "style": "expanded", "choices": role_choices(t),
         "value": ",".join(r.value for r in ROLE_ORDER if r in person.roles)},
    ], [execute(t("users.save_roles_of", name=person.name), "set_roles",
                {**where, "person_id": person.id, "input": roles_input_id(index)})])
    return {"type": "Action.ShowCard", "title": t("users.edit_of", name=person.name), "card": form}


def add_user_fields(t: Translator, values: dict[str, str] | None = None,
                    errors_: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The add-a-user inputs, with what was typed and, under a refused field, why."""
    values = values or {}
    errors_ = errors_ or {}
    fields: list[dict[str, Any]] = [
        {"type": "Input.Text", "id": "new_name", "label": t("users.name"), "isRequired": True,
         "errorMessage": t("users.name_error"), "maxLength": 120},
        {"type": "Input.Text", "id": "new_email", "label": t("users.email"), "style": "email", "isRequired": True,
         "regex": rules.EMAIL_PATTERN, "errorMessage": t("users.email_error"), "maxLength": 254},
        {"type": "Input.ChoiceSet", "id": "new_roles", "isMultiSelect": True, "label": t("users.roles"),
         "style": "expanded", "choices": role_choices(t)},
    ]
    out: list[dict[str, Any]] = [text(t("users.add_intro"), isSubtle=True)]
    for field in fields:
        if values.get(field["id"]):
            field["value"] = values[field["id"]]
        out.append(field)
        if errors_.get(field["id"]):
            out.append(text(errors_[field["id"]], color="Attention", size="Small", spacing="None"))
    return out


def users_card(t: Translator, people: Page[Person], outcome: dict[str, Any] | None = None,
               may: Callable[[str], bool] = lambda verb: True) -> Card:
    """A page of the directory (or of a search in it); each person's roles, the search and the
    add-a-user form open as separate forms.

    Each form sits in its own ``Action.ShowCard`` so that a button validates and sends only the
    inputs of its own form (a hidden form elsewhere on the card would otherwise block it). The
    role buttons carry the page they were on, so saving shows the same page again.
    """
    body: list[dict[str, Any]] = [heading(t("users.title"))]
    if outcome:
        body.append(notice(t, outcome["key"], outcome.get("style", "good"), **outcome.get("params", {})))
    body.append(text(t("users.intro")))
    body.append(text(t("users.rules"), isSubtle=True, size="Small"))
    body += search_lines(t, people)
    where = page_data(people, people.number)
    for index, person in enumerate(people.rows):
        actions: list[dict[str, Any]] = []
        if may("set_roles"):
            actions.append(_roles_form(t, index, person, where))
        if may("recent_changes"):
            actions.append(execute(t("users.changes_of", name=person.name), "recent_changes",
                                   {"subject_id": person.id, "back": "users"}))
        body.append({"type": "ColumnSet", "separator": True, "columns": [
            {"type": "Column", "width": "stretch", "items": [
                text(person.name, weight="Bolder"),
                text(person.email, isSubtle=True, spacing="None"),
            ]},
            {"type": "Column", "width": "stretch", "items": [text(roles_label(t, person))]},
        ]})
        if actions:
            body.append({"type": "ActionSet", "actions": actions})
    what = t("paging.people")
    line, actions = pager(t, people, "users", what)
    body += line
    actions += search_action(t, people, "users", what)
    if may("add_user"):
        actions.append({"type": "Action.ShowCard", "title": t("users.add_title"), "card": _subcard(
            add_user_fields(t), [execute(t("users.add_button"), "add_user")])})
    return card(body, actions + nav(t))


def add_user_card(t: Translator, values: dict[str, str], errors_: dict[str, str]) -> Card:
    """A refused add-a-user form: what was typed stays, the reason stands under its field."""
    body = [heading(t("users.add_title")), *add_user_fields(t, values, errors_)]
    return card(body, [execute(t("users.add_button"), "add_user"),
                       *nav(t, "users", back_title=t("users.back"))])


def confirm_roles_card(t: Translator, person: Person, wanted: frozenset[Role]) -> Card:
    """Removing a role takes a second click: what is removed and what is kept, and the way back."""
    removed = [t(f"roles.{r.value}") for r in ROLE_ORDER if r in person.roles and r not in wanted]
    kept = [t(f"roles.{r.value}") for r in ROLE_ORDER if r in wanted] or [t("roles.employee")]
    lines = [t("users.confirm_removed", name=person.name, roles=", ".join(removed)),
             t("users.confirm_after", roles=", ".join(kept))]
    yes = execute(t("users.confirm_button"), "set_roles", {
        "person_id": person.id, "roles": ",".join(r.value for r in ROLE_ORDER if r in wanted), "confirm": "yes"})
    return confirm(t, t("users.confirm_title", name=person.name), lines, yes,
                   execute(t("users.keep_button"), "users"))
