"""Go-to-market offers: the marketing contact at the top, then one expandable row per offer.

The seeds describe the Partner Center page this mirrors: *Add* / *Update* / *Change* the company
marketing contact at the top, then rows showing the offer type below the benefit name with
*Status* and *Expires* columns, expanded with the arrow at the far right to *Activate*. Pure
functions: domain objects and a translator in, Adaptive Card 1.5 JSON out.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from cards.base import Card, card, execute, facts, heading, named, notice, row_toggle, subheading, text
from domain import rules
from domain.models import Benefit, BenefitPackage, MarketingContact, Person, Status
from services.i18n import Translator

#: Preferred languages offered for the marketing contact (value stored, catalog key for the title).
CONTACT_LANGUAGES = ("en-US", "zh-CN", "zh-TW", "ja-JP", "ko-KR", "fr-FR", "de-DE", "es-ES")
PEOPLE_PICKER = {"type": "Data.Query", "dataset": "graph.microsoft.com/users"}


def status_text(t: Translator, status: Status) -> str:
    return t(f"status.{status.value}")


def language_title(t: Translator, code: str) -> str:
    key = f"gtm.language.{code}"
    return t(key) if t.has(key) else code


def offer_status(offer: Benefit, today: date, package: BenefitPackage | None = None) -> Status:
    """The offer's status from the one status model (the same the overview counts)."""
    return rules.benefit_status(offer, (), today, package)


def gtm_card(t: Translator, offers: list[Benefit], contact: MarketingContact | None,
             contact_person: Person | None, today: date, outcome: dict[str, Any] | None = None,
             packages: dict[str, BenefitPackage] | None = None) -> Card:
    """The go-to-market page. ``outcome`` = ``{"key": ..., "style": ..., "params": {...}}`` shown on top."""
    packages = packages or {}
    body: list[dict[str, Any]] = [heading(t("gtm.title"))]
    if outcome:
        body.append(notice(t, outcome["key"], outcome.get("style", "good"), **outcome.get("params", {})))
    body.append(text(t("gtm.intro"), isSubtle=True))
    body.append(subheading(t("gtm.contact.title")))
    if contact is None:
        body.append(text(t("gtm.contact.none")))
        contact_actions = [execute(t("gtm.contact.add"), "marketing_contact", {"mode": "add"})]
    else:
        body.append(facts([
            (t("gtm.contact.user"), contact_person.name if contact_person else contact.person_id),
            (t("gtm.contact.alternate_email"), contact.alternate_email),
            (t("gtm.contact.phone"), contact.phone),
            (t("gtm.contact.language"), language_title(t, contact.preferred_language)),
        ]))
        body.append(text(t("gtm.contact.receives"), isSubtle=True, size="Small"))
        contact_actions = [execute(t("gtm.contact.update"), "marketing_contact", {"mode": "update"}),
                           execute(t("gtm.contact.change"), "marketing_contact", {"mode": "change"})]
    body.append({"type": "ActionSet", "id": "contact-actions", "actions": contact_actions})
    body.append(subheading(t("gtm.offers")))
    if not offers:
        body.append(text(t("gtm.no_offers")))
    else:
        body.append(_header_row(t))
        for index, offer in enumerate(offers):
            body.extend(_offer_row(t, offer, index, contact is not None, today, packages.get(offer.package_id)))
    # opened from the menu or from the overview's go-to-market row: a way back to either, as every list has
    return card(body, [execute(t("gtm.refresh"), "list_go_to_market"), execute(t("benefits.overview"), "overview")])


#: The toggle column fits the ⌄ button; a weighted column there squeezed a worded button until it
#: was cut off ("细信息") in a chat-width card.
TOGGLE_WIDTH = "48px"


def _header_row(t: Translator) -> dict[str, Any]:
    return {"type": "ColumnSet", "columns": [
        {"type": "Column", "width": 4, "items": [text(t("gtm.col.benefit"), weight="Bolder")]},
        {"type": "Column", "width": 3, "items": [text(t("gtm.col.status"), weight="Bolder")]},
        {"type": "Column", "width": 3, "items": [text(t("gtm.col.expires"), weight="Bolder")]},
        {"type": "Column", "width": TOGGLE_WIDTH, "items": []},
    ]}


def _offer_row(t: Translator, offer: Benefit, index: int, has_contact: bool, today: date,
               package: BenefitPackage | None = None) -> list[dict[str, Any]]:
    status = offer_status(offer, today, package)
    expires = rules.expiry_of(offer, package) if status is not Status.NOT_ACTIVATED else None
    details_id = f"offer-details-{index}"
    row = {"type": "ColumnSet", "separator": True, "spacing": "Medium", "columns": [
        {"type": "Column", "width": 4, "items": [
            text(t.pick(offer, "name"), weight="Bolder"),
            text(t.pick(offer, "offer_type"), isSubtle=True, spacing="None"),
        ]},
        {"type": "Column", "width": 3, "items": [text(status_text(t, status))]},
        {"type": "Column", "width": 3, "items": [text(t.date(expires) or "—")]},
        # seeds: "select the down arrow at the far right of the row"; the tooltip names it
        {"type": "Column", "width": TOGGLE_WIDTH, "verticalContentAlignment": "Center",
         "items": [row_toggle(t, details_id, t("gtm.details"), t.label(offer))]},
    ]}
    details: list[dict[str, Any]] = []
    description = t.pick(offer, "description")
    if description:
        details.append(text(description))
    details.append(facts([(t("gtm.col.status"), status_text(t, status)),
                          (t("gtm.activated_on"), t.date(offer.activated_on)),
                          (t("gtm.col.expires"), t.date(expires))]))
    actions: list[dict[str, Any]] = []
    if status is Status.PENDING_ACTIVATION:
        details.append(text(t("gtm.pending_note"), isSubtle=True))
    elif status is Status.ACTIVE:
        details.append(text(t("gtm.active_note"), isSubtle=True))
    elif status in (Status.NOT_ACTIVATED, Status.EXPIRED):
        if not has_contact:
            details.append(text(t("gtm.contact_first"), isSubtle=True))
        actions.append(named(t, execute(t("gtm.activate"), "activate_offer", {"benefit_id": offer.id}),
                             t.label(offer)))
    actions.append(named(t, execute(t("gtm.changes"), "recent_changes", {"subject_id": offer.id,
                                                                                   "back": "list_go_to_market"}),
                         t.label(offer)))
    details.append({"type": "ActionSet", "actions": actions})
    return [row, {"type": "Container", "id": details_id, "isVisible": False, "items": details}]


def contact_form(t: Translator, people: list[Person], contact: MarketingContact | None, account_email: str,
                 mode: str = "add", values: dict[str, Any] | None = None,
                 error: str | None = None, error_field: str = "") -> Card:
    """Seed: choose the user, an alternate email (not the company's), the phone and the language.

    The user list has static choices from our directory (they work offline) and the Teams people
    picker dataset (Teams merges Graph results in when it can).
    """
    values = values or {}
    if mode == "change":  # *Change* = another person: start from an empty form
        contact = None
    current_person = values.get("person_id") or (contact.person_id if contact else "")
    body: list[dict[str, Any]] = [heading(t("gtm.contact.form_title"))]
    if error and not error_field:
        body.append({"type": "Container", "style": "attention", "items": [text(error, weight="Bolder")]})
    body.append(text(t("gtm.contact.form_intro")))
    body.append({
        "type": "Input.ChoiceSet", "id": "person_id", "label": t("gtm.contact.user"), "isRequired": True,
        "errorMessage": t("gtm.contact.user_error"), "style": "compact",
        "choices": [{"title": f"{p.name} ({p.email})" if p.email else p.name, "value": p.id} for p in people],
        "choices.data": PEOPLE_PICKER, "value": current_person,
    })
    if values.get("person_id") and any(c["value"] == current_person for c in body[-1]["choices"]):
        body[-1].pop("choices.data")  # a refused form shows its chosen person in every client
    body.append(text(t("gtm.contact.alternate_hint", account=account_email), isSubtle=True, size="Small"))
    body.append({
        "type": "Input.Text", "id": "alternate_email", "label": t("gtm.contact.alternate_email"), "style": "email",
        "isRequired": True, "regex": rules.EMAIL_PATTERN, "errorMessage": t("gtm.contact.alternate_error"),
        "maxLength": 254, "value": values.get("alternate_email") or (contact.alternate_email if contact else ""),
    })
    body.append({
        "type": "Input.Text", "id": "phone", "label": t("gtm.contact.phone"), "style": "tel", "isRequired": True,
        "regex": rules.PHONE_PATTERN, "errorMessage": t("gtm.contact.phone_error"), "maxLength": 25,
        "value": values.get("phone") or (contact.phone if contact else ""),
    })
    body.append({
        "type": "Input.ChoiceSet", "id": "preferred_language", "label": t("gtm.contact.language"),
        "isRequired": True, "errorMessage": t("gtm.contact.language_error"),
        "choices": [{"title": language_title(t, c), "value": c} for c in CONTACT_LANGUAGES],
        "value": values.get("preferred_language") or (contact.preferred_language if contact else t.locale),
    })
    if error and error_field:  # the reason stands right under the input it is about
        at = next(i for i, e in enumerate(body) if e.get("id") == error_field) + 1
        body.insert(at, text(error, color="Attention", size="Small", spacing="None"))
    actions = [
        execute(t("gtm.contact.assign"), "set_marketing_contact", {"mode": mode}),
        execute(t("gtm.back"), "list_go_to_market", associatedInputs="none"),
    ]
    return card(body, actions)
