"""Building blocks shared by every card: the 1.5 envelope, actions with fallbacks, text blocks.

Text shown as markdown (``text``, ``facts``) goes through :func:`cards.text.markdown`: catalog
markup is kept, names and inventory text are escaped. Inputs, choices and titles are plain text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cards.text import markdown, plain
from services.i18n import Translator

Card = dict[str, Any]
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"


def card(body: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None, **extra: Any) -> Card:
    """A Teams-wide Adaptive Card 1.5."""
    result: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body,
                    "msteams": {"width": "Full"}}
    if actions:
        result["actions"] = actions
    result.update(extra)
    cleaned: Card = plain(result)
    return cleaned


def text(value: str, **props: Any) -> dict[str, Any]:
    """A TextBlock; ``value`` is a catalog message or untrusted text (see :mod:`cards.text`)."""
    return {"type": "TextBlock", "text": markdown(value), "wrap": True, **props}


def heading(value: str) -> dict[str, Any]:
    return text(value, size="Large", weight="Bolder", style="heading")


def subheading(value: str) -> dict[str, Any]:
    return text(value, size="Medium", weight="Bolder")


def facts(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {"type": "FactSet", "facts": [{"title": markdown(k), "value": markdown(v)} for k, v in pairs if v != ""]}


def execute(title: str, verb: str, data: dict[str, Any] | None = None, **props: Any) -> dict[str, Any]:
    """``Action.Execute`` (updates the card in place) with an ``Action.Submit`` fallback for old clients."""
    payload = {"action": verb, **(data or {})}
    return {
        "type": "Action.Execute", "title": title, "verb": verb, "data": payload,
        "fallback": {"type": "Action.Submit", "title": title, "data": payload}, **props,
    }


def open_url(title: str, url: str) -> dict[str, Any]:
    return {"type": "Action.OpenUrl", "title": title, "url": url}


def toggle(title: str, target_id: str) -> dict[str, Any]:
    return {"type": "Action.ToggleVisibility", "title": title, "targetElements": [target_id]}


def nav(t: Translator, back: str | None = None, back_data: dict[str, Any] | None = None,
        back_title: str | None = None) -> list[dict[str, Any]]:
    """The way out of every card: back to where the person came from (if not the menu), and the menu."""
    actions: list[dict[str, Any]] = []
    if back and back != "help":
        actions.append(leave(back_title or t("nav.back"), back, back_data))
    actions.append(leave(t("nav.menu"), "help"))
    return actions


def with_menu(t: Translator, shown: Card) -> Card:
    """``shown`` with a way to the menu, unless it has one (every card leads somewhere)."""
    if leads_to(shown, "help"):
        return shown
    return {**shown, "actions": [*(shown.get("actions") or []), leave(t("nav.menu"), "help")]}


_NESTED = ("body", "items", "columns", "actions")


def leads_to(shown: Any, verb: str) -> bool:
    """Whether a button of ``shown`` outside any ``Action.ShowCard`` runs ``verb``.

    Stops at the first such button and looks at a node's actions before its body: a card's way out
    is usually its last action, so the common answer costs a few steps, not a walk of the card.
    """
    stack = [shown]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        kind = node.get("type")
        if kind == "Action.ShowCard":
            continue
        if kind == "Action.Execute" and "verb" in node and str(node["verb"]) == verb:
            return True
        stack.extend(child for child in map(node.get, _NESTED) if child)
    return False


def about(t: Translator, button: dict[str, Any], subject: str, action: str | None = None) -> dict[str, Any]:
    """``button`` with a tooltip naming what it does (``action``, else its title) and what it is about,
    so that buttons repeated once per row differ."""
    return {**button, "tooltip": t("nav.about", action=action or button.get("title", ""), subject=subject)}


def named(t: Translator, button: dict[str, Any], subject: str) -> dict[str, Any]:
    """``button`` titled with what it does and the row it is about: the renderer reads the title, not the
    tooltip, to a screen reader, so buttons repeated once per row need titles that differ."""
    title = t("nav.about", action=button.get("title", ""), subject=subject)
    named_button = {**button, "title": title, "tooltip": title}
    if isinstance(button.get("fallback"), dict):
        named_button["fallback"] = {**button["fallback"], "title": title}
    return named_button


#: The ⌄ drawn as an image, a grey chevron PNG in a data URI (SVG is not rendered by every Teams client):
#: an image's alternative text is what a screen reader says for it.
DOWN_ARROW = ("data:image/png;base64,"
              "iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAAc0lEQVR42u2UwQ2AMAwD3W6ayTIqLFCIHajg4XvX8amRAhhjjPk7"
              "EXHszE8m3JVg8pM1VyXY/KVAZo7uOlbvVvPKFXQklPJSQJVQyykBVqJTTgtUEt1yABg77gJbLv0AO1wpbwnclajlr53pp+faGGM+"
              "5QQA6k0klmtx3QAAAABJRU5ErkJggg==")


def row_toggle(t: Translator, target_id: str, what: str, subject: str) -> dict[str, Any]:
    """The ⌄ at the end of a list row that shows its details. The renderer reads a button's title, or a
    select action's content, to a screen reader; a ⌄ title on every row would be read alike, so the ⌄ is
    an image named after what it opens (its alternative text), selecting it toggles the details."""
    name = t("nav.about", action=what, subject=subject)
    return {"type": "Image", "url": DOWN_ARROW, "altText": name, "width": "20px", "horizontalAlignment": "Center",
            "selectAction": {"type": "Action.ToggleVisibility", "targetElements": [target_id], "tooltip": name}}


def leave(title: str, verb: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """A button that leaves a form: it sends none of the form's inputs, so nothing typed can block it."""
    button = execute(title, verb, data, associatedInputs="none")
    button["fallback"]["associatedInputs"] = "none"
    return button


def confirm(t: Translator, title: str, lines: Sequence[str], yes: dict[str, Any], no: dict[str, Any]) -> Card:
    """Ask before a destructive action: what will happen, the button that does it, and the way back."""
    return card([heading(title), *(text(line) for line in lines)], [yes, no])


def notice(t: Translator, key: str, style: str = "good", **params: Any) -> dict[str, Any]:
    """A coloured one-line outcome at the top of a card (e.g. "Assigned", or a refusal)."""
    return {"type": "Container", "style": style, "items": [text(t(key, **params), weight="Bolder")]}
