"""The welcome card and the help/menu card: what this bot can do *for this user's role*.

Hiding an entry is a courtesy, not a permission check: every action checks the role on the server;
who may run what comes in as ``may`` (``dialogs.actions.may``), so the card stays a pure function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cards.base import Card, card, execute, heading, nav, text
from domain import rules
from domain.models import Person
from services.i18n import Translator


@dataclass(frozen=True)
class MenuEntry:
    """One thing the bot can do: the action it runs (offered to whoever may run it)."""

    action: str
    key: str  # catalog key prefix: ``menu.<key>.title`` and ``menu.<key>.description``


MENU: tuple[MenuEntry, ...] = (
    MenuEntry("my_benefits", "my_benefits"),
    MenuEntry("request_benefit", "request_benefit"),
    MenuEntry("overview", "overview"),
    MenuEntry("list_software", "software"),
    MenuEntry("list_cloud", "cloud"),
    MenuEntry("list_visual_studio", "visual_studio"),
    MenuEntry("list_technical", "technical"),
    MenuEntry("list_go_to_market", "go_to_market"),
    MenuEntry("requests", "requests"),
    MenuEntry("cancel_start", "cancel"),
    MenuEntry("users", "users"),
    MenuEntry("activate", "activate"),
    MenuEntry("notifications", "notifications"),
    MenuEntry("language", "language"),
)


def entries_for(may: Callable[[str], bool]) -> list[MenuEntry]:
    return [e for e in MENU if may(e.action)]


def role_names(person: Person, t: Translator) -> str:
    if not person.roles:
        return t("roles.employee")
    return ", ".join(t(f"roles.{r.value}") for r in sorted(person.roles))


def help_card(person: Person, t: Translator, may: Callable[[str], bool]) -> Card:
    """The menu: one button per action this person may run, titled with what it opens."""
    body = [heading(t("help.title")), text(t("help.your_roles", roles=role_names(person, t)), isSubtle=True)]
    for e in entries_for(may):
        body.append({
            "type": "ColumnSet",
            "columns": [
                {"type": "Column", "width": "auto", "verticalContentAlignment": "Center", "items": [
                    {"type": "ActionSet", "actions": [execute(t(f"menu.{e.key}.title"), e.action)]},
                ]},
                {"type": "Column", "width": "stretch", "verticalContentAlignment": "Center", "items": [
                    text(t(f"menu.{e.key}.description"), isSubtle=True),
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
