"""``reminders_due``: only the nearest due reminder, none before 30 days or once expired."""

from __future__ import annotations

from datetime import date, timedelta

from domain.rules import reminders_due

EXPIRES = date(2027, 1, 31)


def test_nearest_reminder_only() -> None:
    assert reminders_due(EXPIRES, EXPIRES - timedelta(days=31)) == []
    assert reminders_due(EXPIRES, EXPIRES - timedelta(days=30)) == [30]
    assert reminders_due(EXPIRES, EXPIRES - timedelta(days=8)) == [30]
    assert reminders_due(EXPIRES, EXPIRES - timedelta(days=7)) == [7]
    assert reminders_due(EXPIRES, EXPIRES - timedelta(days=1)) == [7]
    assert reminders_due(EXPIRES, EXPIRES) == []
    assert reminders_due(None, EXPIRES) == []
