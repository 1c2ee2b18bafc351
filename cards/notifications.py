"""Cards of proactive notifications (activation, expiry reminder, request submitted/decided) and the
admin cards of this feature (pending activations to mark, notifications that could not be delivered).

Pure functions: a notification's JSON parameters (a snapshot taken when it happened) and a
translator in the recipient's language in, an Adaptive Card 1.5 out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from cards.base import Card, card, execute, facts, heading, named, notice, open_url, subheading, text
from cards.paging import Page, pager
from services.i18n import Translator

KINDS = ("activated", "expiry_reminder", "request_submitted", "request_decided", "assigned", "unassigned",
         "marketing_contact", "marketing_contact_replaced")


def _date(t: Translator, value: str | None) -> str:
    return t.date(date.fromisoformat(value)) if value else ""


def _name(params: dict[str, Any], t: Translator) -> str:
    """The benefit's name in the recipient's language (the inventory's per-locale wording, if any)."""
    wording = params.get("benefit_i18n") or {}

    def pick(field: str, own: str) -> str:
        return str((wording.get(field) or {}).get(t.locale) or own) if isinstance(wording, dict) else own

    name = pick("name", str(params.get("benefit", "")))
    offer = pick("offer_type", str(params.get("offer_type") or ""))
    return f"{name} · {offer}" if offer else name


def _benefit_facts(params: dict[str, Any], t: Translator) -> dict[str, Any]:
    return facts([
        (t("notify.fact_benefit"), _name(params, t)),
        (t("notify.fact_assignee"), params.get("assignee") or ""),
        (t("notify.fact_status"), t(f"status.{params.get('status', 'active')}")),
        (t("notify.fact_activated_on"), _date(t, params.get("activated_on"))),
        (t("notify.fact_expires"), _date(t, params.get("expires_on")) or t("notify.no_expiry")),
    ])


def activated_card(params: dict[str, Any], t: Translator) -> Card:
    """What was activated, its status, its expiry and how to start using it."""
    role = params.get("role", "assignee")
    name = _name(params, t)
    title = {
        "assignee": t("notify.activated_title_yours", benefit=name),
        "assigned_by": t("notify.activated_title_assigned", benefit=name, person=params.get("assignee") or ""),
        "marketing_contact": t("notify.activated_title_offer", benefit=name),
    }.get(role, t("notify.activated_title", benefit=name))
    body = [heading(title), _benefit_facts(params, t), subheading(t("notify.how_to_start")),
            text(t(f"notify.start_{params.get('category', 'software')}"))]
    if params.get("expires_on"):
        body.append(text(t("notify.use_until", date=date.fromisoformat(params["expires_on"])), isSubtle=True))
    actions = [execute(t("notify.open_my_benefits"), "my_benefits")]
    if params.get("portal_url"):
        actions.insert(0, open_url(t("notify.open_portal"), params["portal_url"]))
    return card(body, actions)


def expiry_reminder_card(params: dict[str, Any], t: Translator) -> Card:
    name = _name(params, t)
    body = [heading(t("notify.reminder_title", benefit=name, days=params.get("days", 0))),
            text(t("notify.reminder_text", date=date.fromisoformat(params["expires_on"]))),
            _benefit_facts(params, t)]
    return card(body, [execute(t("notify.open_my_benefits"), "my_benefits")])


def request_submitted_card(params: dict[str, Any], t: Translator) -> Card:
    body = [heading(t("notify.request_submitted_title", person=params.get("requester", ""),
                      benefit=_name(params, t))),
            facts([(t("notify.fact_reference"), params.get("reference", "")),
                   (t("notify.fact_benefit"), _name(params, t)),
                   (t("notify.fact_requester"), params.get("requester", "")),
                   (t("notify.fact_note"), params.get("note") or "")])]
    return card(body, [execute(t("notify.open_requests"), "requests")])


def request_decided_card(params: dict[str, Any], t: Translator) -> Card:
    approved = params.get("status") == "approved"
    key = "notify.request_approved_title" if approved else "notify.request_declined_title"
    body = [heading(t(key, benefit=_name(params, t), reference=params.get("reference", ""))),
            facts([(t("notify.fact_reference"), params.get("reference", "")),
                   (t("notify.fact_status"), t(f"status.{params.get('status', 'submitted')}")),
                   (t("notify.fact_decided_by"), params.get("decided_by") or "")])]
    if approved:
        body.append(text(t("notify.request_approved_next")))
    return card(body, [execute(t("notify.open_my_benefits"), "my_benefits")])


def _how_to_start(params: dict[str, Any], t: Translator) -> list[str]:
    """The seeds' "how to start" for the kind of seat: the Visual Studio portal, the Azure portal, or
    (technical benefits) the days that activation and the emailed instructions take."""
    kind = params.get("kind")
    if kind == "visual_studio":
        return [t("notify.assigned_start_visual_studio")]
    if kind == "cloud_usage_based":
        return [t("notify.assigned_start_azure")]
    lines: list[str] = [t("notify.assigned_start_pending")]
    if params.get("alternate_email"):
        lines.append(t("notify.assigned_instructions_to", email=params["alternate_email"]))
    return lines


def assigned_card(params: dict[str, Any], t: Translator) -> Card:
    """Sent to the person who got a seat: what, from whom, and how to start."""
    body = [heading(t("notify.assigned_title", benefit=_name(params, t))),
            facts([(t("notify.fact_benefit"), _name(params, t)),
                   (t("notify.fact_status"), t(f"status.{params.get('status', 'active')}")),
                   (t("notify.fact_assigned_by"), params.get("by") or ""),
                   (t("notify.fact_alternate_email"), params.get("alternate_email") or ""),
                   (t("notify.fact_expires"), _date(t, params.get("expires_on")))]),
            subheading(t("notify.how_to_start")),
            *(text(line) for line in _how_to_start(params, t))]
    if params.get("status") == "pending_activation":
        body.append(text(t("notify.assigned_will_tell"), isSubtle=True))
    actions = [execute(t("notify.open_my_benefits"), "my_benefits")]
    if params.get("portal_url"):
        actions.insert(0, open_url(t("notify.open_portal_of", benefit=_name(params, t)), params["portal_url"]))
    return card(body, actions)


def unassigned_card(params: dict[str, Any], t: Translator) -> Card:
    body = [heading(t("notify.unassigned_title", benefit=_name(params, t))),
            text(t("notify.unassigned_text", benefit=_name(params, t), person=params.get("by") or "")),
            text(t("notify.unassigned_next"), isSubtle=True)]
    return card(body, [execute(t("notify.open_my_benefits"), "my_benefits")])


def marketing_contact_card(params: dict[str, Any], t: Translator) -> Card:
    """Sent to the new company marketing contact: what the role means, in the seeds' words."""
    body = [heading(t("notify.contact_title")),
            facts([(t("notify.fact_assigned_by"), params.get("by") or ""),
                   (t("notify.fact_alternate_email"), params.get("alternate_email") or ""),
                   (t("notify.fact_phone"), params.get("phone") or "")]),
            subheading(t("notify.how_to_start")),
            text(t("notify.contact_receives")),
            text(t("notify.contact_several_days"))]
    return card(body, [execute(t("notify.open_my_benefits"), "my_benefits")])


def marketing_contact_replaced_card(params: dict[str, Any], t: Translator) -> Card:
    body = [heading(t("notify.contact_replaced_title")),
            text(t("notify.contact_replaced_text", person=params.get("successor") or "", by=params.get("by") or ""))]
    return card(body, [execute(t("notify.open_my_benefits"), "my_benefits")])


_RENDERERS = {
    "assigned": assigned_card,
    "unassigned": unassigned_card,
    "marketing_contact": marketing_contact_card,
    "marketing_contact_replaced": marketing_contact_replaced_card,
    "activated": activated_card,
    "expiry_reminder": expiry_reminder_card,
    "request_submitted": request_submitted_card,
    "request_decided": request_decided_card,
}


def notification_card(kind: str, params: dict[str, Any], t: Translator) -> Card:
    """The card of one outbox entry (``KeyError`` for an unknown kind: the worker gives it up)."""
    return _RENDERERS[kind](params, t)


# --- admin cards -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PendingRow:
    """Something waiting for activation: a benefit (offer) or one person's seat of a benefit."""

    target_id: str
    benefit: str
    assignee: str
    status: str
    expires_on: date | None


def activate_card(rows: Page[PendingRow], t: Translator, outcome: dict[str, Any] | None = None) -> Card:
    """A page of the pending benefits and seats, each with an Expires date input and a *Mark activated*
    button (which carries the page, so the same page comes back)."""
    body: list[dict[str, Any]] = []
    if outcome:
        body.append(notice(t, outcome["key"], outcome.get("style", "good"), **outcome.get("params", {})))
    body += [heading(t("activate.title")), text(t("activate.intro"), isSubtle=True)]
    if not rows.rows:
        body.append(text(t("activate.none")))
    for i, row in enumerate(rows.rows):
        field = f"expires_{i}"
        label = row.benefit if not row.assignee else t("activate.row_for", benefit=row.benefit, person=row.assignee)
        body.append({"type": "Container", "separator": True, "id": f"row_{i}", "items": [
            text(label, weight="Bolder"),
            text(t(f"status.{row.status}"), isSubtle=True, spacing="None"),
            {"type": "Input.Date", "id": field, "label": t("activate.expires_label"),
             "value": row.expires_on.isoformat() if row.expires_on else "",
             "errorMessage": t("activate.expires_error")},
            {"type": "ActionSet", "id": f"actions_{i}", "actions": [
                named(t, execute(t("activate.mark"), "mark_activated",
                                 {"target": row.target_id, "field": field, "page": rows.number}), label)]},
        ]})
    line, buttons = pager(t, rows, "activate", t("paging.pending"))
    return card(body + line, [execute(t("activate.refresh"), "activate", {"page": rows.number}), *buttons])


def notifications_card(counts: dict[str, int], problems: Page[dict[str, Any]], t: Translator) -> Card:
    """Admins: how many notifications wait, and a page of who could not be reached and why."""
    body: list[dict[str, Any]] = [
        heading(t("notify.admin_title")),
        facts([(t("notify.count_pending"), str(counts.get("pending", 0))),
               (t("notify.count_delivered"), str(counts.get("delivered", 0))),
               (t("notify.count_undeliverable"), str(counts.get("undeliverable", 0))),
               (t("notify.count_given_up"), str(counts.get("given_up", 0)))]),
    ]
    if not problems.rows:
        body.append(text(t("notify.admin_no_problems")))
    else:
        body.append(subheading(t("notify.admin_problems")))
    for i, p in enumerate(problems.rows):
        state_key = "notify.state_undeliverable" if p["state"] == "undeliverable" else "notify.state_given_up"
        reason = p.get("reason") or ""
        reason_text = t(f"notify.reason_{reason}") if t.has(f"notify.reason_{reason}") else reason
        body.append({"type": "Container", "separator": True, "id": f"problem_{i}", "items": [
            text(f"{p['person']} · {t('notify.kind_' + str(p['kind']))}", weight="Bolder"),
            text(t(state_key, reason=reason_text, attempts=p.get("attempts", 0),
                   date=_date(t, (p.get("updated_at") or "")[:10] or None)), isSubtle=True, spacing="None"),
        ]})
    line, buttons = pager(t, problems, "notifications", t("paging.problems"))
    return card(body + line, [execute(t("notify.refresh"), "notifications", {"page": problems.number}), *buttons])
