"""Recent changes: the audit trail of one benefit, package, person or the marketing contact.

Each entry says who, what, when, and a short before/after summary of the fields that changed.
Audit records never hold product keys (the service strips them), so nothing secret reaches here.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from cards.base import Card, card, execute, heading, nav, text
from cards.paging import Page, pager
from domain.models import AuditEntry
from services.i18n import Translator

#: Fields worth showing in a before/after summary (ids and timestamps are noise to a reader).
SHOWN_FIELDS = ("status", "roles", "person_id", "alternate_email", "phone", "preferred_language", "activated_on",
                "expires_on", "removed_at", "decided_by", "reference", "fully_assigned_on", "partner_center_number",
                "outcome")
MAX_CHANGES_PER_ENTRY = 4


def action_text(t: Translator, action: str) -> str:
    key = f"audit.action.{action.replace('.', '_')}"
    return t(key) if t.has(key) else action


def _value(t: Translator, field: str, value: Any, names: dict[str, str]) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if field == "status" and t.has(f"status.{value}"):
        return t(f"status.{value}")
    if field == "outcome" and t.has(f"requests.outcome.{value}"):
        return t(f"requests.outcome.{value}")
    if field == "roles" and isinstance(value, list):
        return ", ".join(t(f"roles.{r}") if t.has(f"roles.{r}") else str(r) for r in value)
    if field in ("person_id", "decided_by"):
        return names.get(str(value), str(value))
    if isinstance(value, str) and len(value) >= 10:
        try:
            return t.date(date.fromisoformat(value[:10]))
        except ValueError:
            pass
    return str(value)


def summary(t: Translator, entry: AuditEntry, names: dict[str, str]) -> list[str]:
    before, after = entry.before or {}, entry.after or {}
    lines: list[str] = []
    for field in SHOWN_FIELDS:
        if field not in before and field not in after:
            continue
        old, new = before.get(field), after.get(field)
        if old == new:
            continue
        if entry.before is None and new in (None, "", []):
            continue  # a new record: only what it was created with
        label = t(f"audit.field.{field}")
        if entry.before is None:
            lines.append(t("audit.set", field=label, new=_value(t, field, new, names)))
        else:
            lines.append(t("audit.changed", field=label, old=_value(t, field, old, names),
                           new=_value(t, field, new, names)))
    for name in AuditEntry.DETAILS:
        value = getattr(entry, name)
        if value and t.has(f"audit.field.{name}"):  # said as the person reads it
            lines.append(t("audit.set", field=t(f"audit.field.{name}"), new=t.choice("choices", value)))
    return lines[:MAX_CHANGES_PER_ENTRY + 2]


def names_in(entries: list[AuditEntry]) -> set[str]:
    """The ids of the people a page of changes names (who acted, whom it was about)."""
    ids = {e.actor_id for e in entries}
    for entry in entries:
        for side in (entry.before or {}, entry.after or {}):
            ids.update(str(side[f]) for f in ("person_id", "decided_by") if side.get(f))
    return ids


def changes_card(t: Translator, subject: str, entries: Page[AuditEntry], names: dict[str, str],
                 back: str | None = None, back_data: dict[str, Any] | None = None,
                 subject_id: str = "") -> Card:
    """A page of one subject's changes, newest first. ``back``: the verb of the card the person came
    from (users, a list, cancel, a service request), ``back_data`` what that verb needs to show the
    same card again (the request's id); the page buttons carry both, so the way back stays."""
    body: list[dict[str, Any]] = [heading(t("audit.title", subject=subject))]
    if not entries.rows:
        body.append(text(t("audit.none")))
    for index, entry in enumerate(entries.rows):
        who = names.get(entry.actor_id) or (t("audit.system") if entry.actor_id == "system" else entry.actor_id)
        items: list[dict[str, Any]] = [
            text(t("audit.entry", when=entry.at, time=t.time(entry.at), who=who,
                   what=action_text(t, entry.action)), weight="Bolder"),
            *(text(f"• {line}", spacing="None", size="Small") for line in summary(t, entry, names)),
        ]
        body.append({"type": "Container", "id": f"change-{index}", "separator": True, "items": items})
    where: dict[str, Any] = {"subject_id": subject_id}
    if back:
        where["back"] = back
    if back_data:
        where["back_data"] = back_data
    line, buttons = pager(t, entries, "recent_changes", t("paging.changes"), where)
    return card(body + line, buttons + nav(t, back, back_data))


def choose_subject_card(t: Translator, subjects: list[tuple[str, str]]) -> Card:
    """No argument: pick a benefit or package from the list."""
    body = [
        heading(t("audit.choose_title")),
        {"type": "Input.ChoiceSet", "id": "subject_id", "label": t("audit.subject"), "isRequired": True,
         "errorMessage": t("audit.subject_error"), "style": "compact",
         "choices": [{"title": title, "value": value} for value, title in subjects]},
    ]
    return card(body, [execute(t("audit.show"), "recent_changes"), *nav(t)])
