"""The welcome card and the help/menu card: what this bot can do *for this user's role*.

Hiding an entry is a courtesy, not a permission check: every action checks the role on the server.
The entries come in as data (each workflow declares its own; ``dialogs.registry.Workflows.menu_for``
keeps those the person may run), so the card stays a pure function.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cards.base import Card, card, execute, heading, nav, text
from domain import rules
from domain.models import Person
from services.i18n import Translator


@dataclass(frozen=True)
class MenuEntry:
    """One thing the bot can do: the action it runs (offered to whoever may run it)."""

    action: str
    key: str  # catalog key prefix: ``<key>.title`` and ``<key>.description`` (``menu.users``)


def role_names(person: Person, t: Translator) -> str:
    if not person.roles:
        return t("roles.employee")
    return ", ".join(t(f"roles.{r.value}") for r in sorted(person.roles))


def help_card(person: Person, t: Translator, entries: Sequence[MenuEntry]) -> Card:
    """The menu: one button per entry (those this person may run), titled with what it opens."""
    body = [heading(t("help.title")), text(t("help.your_roles", roles=role_names(person, t)), isSubtle=True)]
    for e in entries:
        body.append({
            "type": "ColumnSet",
            "columns": [
                {"type": "Column", "width": "auto", "verticalContentAlignment": "Center", "items": [
                    {"type": "ActionSet", "actions": [execute(t(f"{e.key}.title"), e.action)]},
                ]},
                {"type": "Column", "width": "stretch", "verticalContentAlignment": "Center", "items": [
                    text(t(f"{e.key}.description"), isSubtle=True),
                ]},
            ],
        })
    body.append(text(t("help.type_hint"), isSubtle=True, size="Small"))
    return card(body)


def refusal_card(t: Translator, reasons: list[str], back: str | None = None) -> Card:
    """What replaces a clicked card that was refused: why, and the way on (no message left behind)."""
    body = [heading(t("nav.refused_title")),
            {"type": "Container", "style": "attention", "items": [text(r, weight="Bolder") for r in reasons]}]
    return card(body, nav(t, back))


def welcome_card(person: Person, t: Translator, sso_configured: bool) -> Card:
    body = [
        heading(t("welcome.title", name=person.name or "")),
        text(t("welcome.intro")),
        text(t("welcome.admin_intro") if rules.is_admin(person) else t("welcome.employee_intro")),
    ]
    if not sso_configured:
        body.append(text(t("welcome.no_sso"), isSubtle=True, size="Small"))
    return card(body, [execute(t("welcome.show_menu"), "help"), execute(t("menu.language.title"), "language")])


def language_card(current: str, t: Translator) -> Card:
    """Choose 简体中文, 繁體中文 or English; saved as the user's preference."""
    choices = [(code, t(f"language.name.{code}")) for code in ("en-US", "zh-CN", "zh-TW")]
    body = [heading(t("language.title")), text(t("language.current", language=dict(choices)[current]))]
    actions = [execute(label, "set_language", {"locale": code}) for code, label in choices]
    return card(body, actions + nav(t))
