"""Notification cards: every kind renders in every locale, Adaptive Card 1.5, small, unique ids."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from cards.notifications import (
    KINDS,
    PendingRow,
    activate_card,
    notification_card,
    notifications_card,
)
from cards.paging import Page
from services.i18n import LOCALES, Translator, load_catalogs

PARAMS: dict[str, Any] = {
    "benefit": "Product support incidents", "offer_type": "", "kind": "support_incidents", "category": "technical",
    "status": "active", "activated_on": "2026-11-22", "expires_on": "2027-11-22", "portal_url": "https://example.com",
    "assignee": "Lee Gu", "role": "assignee", "days": 7, "reference": "BR-20261122-ABC123", "requester": "Lee Gu",
    "note": "for a project", "decided_by": "Alex Wilber",
}


def _ids(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["id"]] if isinstance(node.get("id"), str) else []
        return own + [i for v in node.values() for i in _ids(v)]
    if isinstance(node, list):
        return [i for v in node for i in _ids(v)]
    return []


def _check(card: dict[str, Any]) -> None:
    assert card["version"] == "1.5" and card["type"] == "AdaptiveCard"
    assert len(json.dumps(card).encode()) < 80_000
    ids = _ids(card)
    assert len(ids) == len(set(ids))
    assert '"style": "positive"' not in json.dumps(card) and '"style": "destructive"' not in json.dumps(card)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("kind", KINDS)
def test_every_notification_renders_in_every_locale(kind: str, locale: str) -> None:
    for role in ("assignee", "assigned_by", "marketing_contact", "admin"):
        for status in ("approved", "declined"):
            params = {**PARAMS, "role": role, "status": status if kind == "request_decided" else "active"}
            _check(notification_card(kind, params, Translator(locale)))


def test_activation_card_says_what_status_expiry_and_how_to_start() -> None:
    text = json.dumps(notification_card("activated", PARAMS, Translator("zh-TW")), ensure_ascii=False)
    assert "現已啟用" in text and "作用中" in text and "2027年11月22日" in text and "支援要求" in text


def test_admin_cards() -> None:
    t = Translator("en-US")
    rows = [PendingRow("a1", "Support", "Lee Gu", "pending_activation", date(2027, 1, 1)),
            PendingRow("b1", "Go-to-market benefits (Gold Core)", "", "pending_activation", None)]
    card = activate_card(Page(rows, len(rows)), t,
                         {"key": "activate.done", "params": {"benefit": "Support", "count": 2}})
    _check(card)
    dates = [e for c in card["body"] for e in c.get("items", []) if e.get("type") == "Input.Date"]
    assert [d["value"] for d in dates] == ["2027-01-01", ""] and all(d["label"] for d in dates)
    problems = [{"state": "undeliverable", "reason": "ConversationBlockedByUser", "kind": "activated",
                 "person": "Lee Gu", "attempts": 1, "updated_at": "2026-11-22T10:00:00+00:00"},
                {"state": "given_up", "reason": "http_503", "kind": "expiry_reminder",
                 "person": "Alex Wilber", "attempts": 6, "updated_at": "2026-11-22T10:00:00+00:00"}]
    card = notifications_card({"pending": 1, "delivered": 5, "undeliverable": 1, "given_up": 1},
                              Page(problems, len(problems)), t)
    _check(card)
    assert "blocked the bot" in json.dumps(card) and "Given up after 6 tries" in json.dumps(card)


def test_my_catalog_keys_exist_in_every_locale() -> None:
    catalogs = load_catalogs()
    mine = {k for k in catalogs["en-US"] if k.startswith(("notify.", "activate."))}
    assert mine
    for locale in LOCALES:
        assert mine <= set(catalogs[locale]), locale
