"""The welcome card and the help/menu card: what this bot can do *for this user's role*.

Hiding an entry is a courtesy, not a permission check: every action checks the role on the server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cards.base import Card, card, execute, heading, text
from domain import rules
from domain.models import Person
from services.i18n import Translator


@dataclass(frozen=True)
class MenuEntry:
    """One thing the bot can do: the action it runs and who is offered it."""

    action: str
    key: str  # catalog key prefix: ``menu.<key>.title`` and ``menu.<key>.description``
    offered_to: Callable[[Person], bool]


def _anyone(_: Person) -> bool:
    return True


MENU: tuple[MenuEntry, ...] = (
    MenuEntry("my_benefits", "my_benefits", _anyone),
    MenuEntry("request_benefit", "request_benefit", _anyone),
    MenuEntry("overview", "overview", rules.is_admin),
    MenuEntry("list_software", "software", rules.is_admin),
    MenuEntry("list_cloud", "cloud", rules.is_admin),
    MenuEntry("list_visual_studio", "visual_studio", rules.is_admin),
    MenuEntry("list_technical", "technical", rules.is_admin),
    MenuEntry("list_go_to_market", "go_to_market", rules.can_manage_go_to_market),
    MenuEntry("requests", "requests", rules.can_assign_benefits),
    MenuEntry("cancel_start", "cancel", rules.can_assign_benefits),
    MenuEntry("users", "users", rules.can_manage_roles),
    MenuEntry("activate", "activate", rules.is_admin),
    MenuEntry("notifications", "notifications", rules.is_admin),
    MenuEntry("language", "language", _anyone),
)


def entries_for(person: Person) -> list[MenuEntry]:
    return [e for e in MENU if e.offered_to(person)]


def role_names(person: Person, t: Translator) -> str:
    if not person.roles:
        return t("roles.employee")
    return ", ".join(t(f"roles.{r.value}") for r in sorted(person.roles))


def help_card(person: Person, t: Translator, available: set[str] | None = None) -> Card:
    """The menu: one button per action this user may run (``available`` = registered actions)."""
    entries = [e for e in entries_for(person) if available is None or e.action in available]
    body = [heading(t("help.title")), text(t("help.your_roles", roles=role_names(person, t)), isSubtle=True)]
    for e in entries:
        body.append({
            "type": "ColumnSet",
            "columns": [
                {"type": "Column", "width": "stretch", "items": [
                    text(t(f"menu.{e.key}.title"), weight="Bolder"),
                    text(t(f"menu.{e.key}.description"), isSubtle=True, spacing="None"),
                ]},
                {"type": "Column", "width": "auto", "verticalContentAlignment": "Center", "items": [
                    {"type": "ActionSet", "actions": [execute(t("help.open"), e.action)]},
                ]},
            ],
        })
    body.append(text(t("help.type_hint"), isSubtle=True, size="Small"))
    return card(body)


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
    return card(body, actions)
