"""Users and permissions: the directory with each person's roles, and the form to add someone.

Seed: only a Global admin assigns benefits (purchasing needs no admin role), and people missing
from the list are added in *Account settings*. Roles use Partner Center's official names.
"""

from __future__ import annotations

from typing import Any

from cards.base import Card, card, execute, heading, notice, subheading, text, toggle
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


def users_card(t: Translator, people: list[Person], outcome: dict[str, Any] | None = None) -> Card:
    body: list[dict[str, Any]] = [heading(t("users.title"))]
    if outcome:
        body.append(notice(t, outcome["key"], outcome.get("style", "good"), **outcome.get("params", {})))
    body.append(text(t("users.intro")))
    body.append(text(t("users.rules"), isSubtle=True, size="Small"))
    for index, person in enumerate(people):
        edit_id = f"user-edit-{index}"
        body.append({"type": "ColumnSet", "separator": True, "columns": [
            {"type": "Column", "width": "stretch", "items": [
                text(person.name, weight="Bolder"),
                text(person.email, isSubtle=True, spacing="None"),
            ]},
            {"type": "Column", "width": "stretch", "items": [text(roles_label(t, person))]},
            {"type": "Column", "width": "auto", "verticalContentAlignment": "Center", "items": [
                {"type": "ActionSet", "actions": [toggle(t("users.edit"), edit_id)]},
            ]},
        ]})
        body.append({"type": "Container", "id": edit_id, "isVisible": False, "items": [
            {"type": "Input.ChoiceSet", "id": roles_input_id(index), "isMultiSelect": True,
             "label": t("users.roles_of", name=person.name), "style": "expanded", "choices": role_choices(t),
             "value": ",".join(r.value for r in ROLE_ORDER if r in person.roles)},
            {"type": "ActionSet", "actions": [
                execute(t("users.save_roles"), "set_roles", {"person_id": person.id,
                                                            "input": roles_input_id(index)}),
                execute(t("users.changes"), "recent_changes", {"subject_id": person.id}),
            ]},
        ]})
    body.append(subheading(t("users.add_title")))
    body.append(text(t("users.add_intro"), isSubtle=True))
    body.append({"type": "Input.Text", "id": "new_name", "label": t("users.name"), "isRequired": True,
                 "errorMessage": t("users.name_error"), "maxLength": 120})
    body.append({"type": "Input.Text", "id": "new_email", "label": t("users.email"), "style": "email",
                 "isRequired": True, "regex": rules.EMAIL_PATTERN, "errorMessage": t("users.email_error"),
                 "maxLength": 254})
    body.append({"type": "Input.ChoiceSet", "id": "new_roles", "isMultiSelect": True, "label": t("users.roles"),
                 "style": "expanded", "choices": role_choices(t)})
    body.append({"type": "ActionSet", "actions": [execute(t("users.add_button"), "add_user")]})
    return card(body)
