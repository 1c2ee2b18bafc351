"""Row layout of the list cards, as a person sees them (found by looking at the cards in a browser).

Header and rows are separate ColumnSets: only equal column widths put each header above its values
(``auto`` widths drifted apart), and the toggle column must fit its button (a 24px or weighted column
cut the ⌄ or the worded "Details" button off in a chat-width card).
"""

from __future__ import annotations

from typing import Any

import pytest

from cards.benefit_list import list_card
from cards.gtm import gtm_card
from domain.models import Category
from services.i18n import LOCALES, Translator
from tests.cards.test_admin_cards import TODAY, benefits, view
from tests.cards.test_workflow_cards import INVENTORY


def column_sets(card: dict[str, Any]) -> list[list[Any]]:
    return [[c["width"] for c in e["columns"]] for e in card["body"] if e.get("type") == "ColumnSet"]


def toggles(card: dict[str, Any]) -> list[dict[str, Any]]:
    """Each row's ⌄: an image in the last column, named (alternative text) as its select action's tooltip."""
    found = []
    for e in card["body"]:
        if e.get("type") == "ColumnSet" and e["columns"][-1]["items"][:1] and \
                e["columns"][-1]["items"][0].get("type") == "Image":
            arrow = e["columns"][-1]["items"][0]
            assert "title" not in arrow["selectAction"] and arrow["altText"] == arrow["selectAction"]["tooltip"]
            found.append(arrow["selectAction"])
    return [a for a in found if a["type"] == "Action.ToggleVisibility"]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("category", [Category.SOFTWARE, Category.CLOUD, Category.VISUAL_STUDIO, Category.TECHNICAL])
def test_list_header_and_rows_share_column_widths(category: Category, locale: str) -> None:
    t = Translator(locale)
    card = list_card(view(category, benefits()[category]), t)
    widths = column_sets(card)
    assert len(widths) >= 2 and all(w == widths[0] for w in widths), widths
    assert "auto" not in widths[0] and widths[0][-1].endswith("px") and int(widths[0][-1][:-2]) >= 40
    assert toggles(card)
    assert all(a["tooltip"].startswith(t("benefits.details")) for a in toggles(card))
    assert len({a["tooltip"] for a in toggles(card)}) == len(toggles(card))


@pytest.mark.parametrize("locale", LOCALES)
def test_go_to_market_rows_use_the_down_arrow_in_a_column_that_fits_it(locale: str) -> None:
    t = Translator(locale)
    offers = [b for b in INVENTORY.benefits if b.category is Category.GO_TO_MARKET]
    card = gtm_card(t, offers, None, None, TODAY)
    widths = column_sets(card)
    assert len(widths) == 1 + len(offers) and all(w == widths[0] for w in widths), widths
    assert widths[0][-1].endswith("px") and int(widths[0][-1][:-2]) >= 40
    assert len({a["tooltip"] for a in toggles(card)}) == len(offers)
    assert all(a["tooltip"].startswith(t("gtm.details")) for a in toggles(card))
