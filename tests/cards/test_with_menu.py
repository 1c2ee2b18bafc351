"""Every card leads back to the menu: ``with_menu`` adds the menu button only where none is reachable."""

from __future__ import annotations

import json
from typing import Any

from bot.sdk.frozen import freeze_json
from cards.base import card, execute, leads_to, text, with_menu
from services.i18n import Translator

T = Translator("en-US")


def _menu_buttons(shown: dict[str, Any]) -> int:
    return sum(1 for a in shown.get("actions") or [] if a.get("verb") == "help")


def test_a_card_without_a_way_to_the_menu_gets_one() -> None:
    shown = card([text("hello")], [execute("Refresh", "overview")])
    led = with_menu(T, shown)
    assert _menu_buttons(led) == 1 and leads_to(led, "help")
    assert [a["verb"] for a in led["actions"]] == ["overview", "help"]
    assert "help" not in [a.get("verb") for a in shown["actions"]]  # the card given is left as it was


def test_a_menu_button_deep_in_the_body_counts() -> None:
    nested = {"type": "ColumnSet", "columns": [{"type": "Column", "items": [
        {"type": "Container", "items": [{"type": "ActionSet", "actions": [execute("Menu", "help")]}]}]}]}
    shown = card([text("a"), nested], [execute("Refresh", "overview")])
    assert with_menu(T, shown) is shown


def test_a_menu_button_only_inside_a_show_card_does_not_count() -> None:
    inner = card([text("more")], [execute("Menu", "help")])
    shown = card([text("a")], [{"type": "Action.ShowCard", "title": "More", "card": inner}])
    led = with_menu(T, shown)
    assert led is not shown and _menu_buttons(led) == 1


def test_a_submit_named_help_is_not_the_menu_button() -> None:
    shown = card([text("a")], [{"type": "Action.Submit", "title": "Help", "data": {"action": "help"}}])
    assert _menu_buttons(with_menu(T, shown)) == 1


def test_a_shared_read_only_card_that_leads_to_the_menu_is_handed_on_as_it_is() -> None:
    frozen = freeze_json(json.dumps(card([text("a")], [execute("Menu", "help")])))
    assert with_menu(T, frozen) is frozen
