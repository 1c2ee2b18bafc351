"""Go-to-market offers: the marketing contact and offer activation (Global admin or MPN partner admin).

Every verb checks the role on the server first, so a forged card payload from anyone else changes
nothing and is answered with the localized refusal (naming the admins). Validation problems keep
the person on the form with what they typed; a stale click answers with the current state.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cards.gtm import CONTACT_LANGUAGES, contact_form, gtm_card
from dialogs import payloads
from dialogs.actions import GO_TO_MARKET_ADMINS, ActionResult, Menu, Phrases, action
from dialogs.payloads import NoData
from dialogs.people import known_person, resolve_person
from dialogs.turn import Turn
from domain import errors, rules
from domain.errors import RuleViolation
from domain.models import Category


def page(turn: Turn, outcome: dict[str, Any] | None = None) -> dict[str, Any]:
    repo = turn.service.repo
    offers = repo.benefits(Category.GO_TO_MARKET)
    contact = repo.marketing_contact()
    person = repo.person(contact.person_id) if contact else None
    packages = {p.id: p for p in turn.service.repo.packages()}
    return gtm_card(turn.t, offers, contact, person, turn.service.today(), outcome, packages)


@action("list_go_to_market", roles=GO_TO_MARKET_ADMINS, payload=NoData, menu=Menu("menu.go_to_market", 80),
        phrases=Phrases(en_US=("go-to-market", "go to market", "gtm", "offers"), zh_CN=("市场投放", "市场投放权益"),
                        zh_TW=("進入市場", "進入市場供應項目")))
async def list_go_to_market(turn: Turn, _: NoData) -> ActionResult:
    rules.require_can_manage_go_to_market(turn.person)
    return ActionResult(page(turn))


@dataclass(frozen=True)
class ContactClick:
    """``add`` or ``update``, as the button that opens the form says; else as the contact stands."""

    mode: str = payloads.carried("mode")


@action("marketing_contact", roles=GO_TO_MARKET_ADMINS, payload=ContactClick, phrases=Phrases(
    en_US=("marketing contact",), zh_CN=("营销联系人",), zh_TW=("行銷連絡人",)))
async def marketing_contact(turn: Turn, click: ContactClick) -> ActionResult:
    rules.require_can_manage_go_to_market(turn.person)
    repo = turn.service.repo
    contact = repo.marketing_contact()
    mode = click.mode or ("update" if contact else "add")
    people = repo.picker_people([contact.person_id] if contact else [], locale=turn.locale)
    return ActionResult(contact_form(turn.t, people, contact, account_email(turn), mode))


@dataclass(frozen=True)
class ContactForm:
    person_id: str = payloads.text("person_id", 254)
    alternate_email: str = payloads.text("alternate_email", 254)
    phone: str = payloads.text("phone", 40)
    preferred_language: str = payloads.text("preferred_language", 40)
    mode: str = payloads.carried("mode")


@action("set_marketing_contact", roles=GO_TO_MARKET_ADMINS,
        inputs=("person_id", "alternate_email", "phone", "preferred_language"), payload=ContactForm)
async def set_marketing_contact(turn: Turn, form: ContactForm) -> ActionResult:
    rules.require_can_manage_go_to_market(turn.person)
    repo = turn.service.repo
    values = {"person_id": form.person_id, "alternate_email": form.alternate_email, "phone": form.phone,
              "preferred_language": form.preferred_language}
    mode = form.mode or "add"
    try:
        person = await resolve_person(turn, values["person_id"])
        if person is None:
            raise RuleViolation(errors.UNKNOWN_PERSON, id=values["person_id"])
        if values["preferred_language"] and values["preferred_language"] not in CONTACT_LANGUAGES:
            raise RuleViolation(errors.INVALID_LANGUAGE)
        contact = await turn.service.set_marketing_contact(
            turn.person, person.id, values["alternate_email"], values["phone"], values["preferred_language"],
            op_key=turn.op_key)
    except RuleViolation as violation:
        if turn.workflows.is_role_refusal(violation.code):
            raise
        chosen = known_person(turn, values["person_id"])
        if chosen is not None:  # the picker's value (an Entra id, an email) as the form's choices name it
            values["person_id"] = chosen.id
        stored = repo.marketing_contact()
        shown = [values["person_id"], *([stored.person_id] if stored else [])]
        refused = contact_form(turn.t, repo.picker_people(shown, locale=turn.locale), stored, account_email(turn), mode,
                               values, error=turn.t(violation.code, **violation.params),
                               error_field=_CONTACT_FIELDS.get(violation.code, ""))
        return ActionResult(refused)
    name = (repo.person(contact.person_id) or person).name
    return ActionResult(page(turn, {"key": "gtm.contact.saved", "params": {"name": name}}))


#: The contact form's input a refusal is about (shown under it; anything else on top of the form).
_CONTACT_FIELDS = {errors.INVALID_EMAIL: "alternate_email", errors.ALTERNATE_EMAIL_SAME_AS_ACCOUNT: "alternate_email",
                   errors.INVALID_PHONE: "phone", errors.INVALID_LANGUAGE: "preferred_language",
                   errors.UNKNOWN_PERSON: "person_id"}


def account_email(turn: Turn) -> str:
    org = turn.service.repo.organization()
    return org.account_email if org else ""


@dataclass(frozen=True)
class OfferClick:
    benefit_id: str = payloads.text("benefit", 200)


@action("activate_offer", roles=GO_TO_MARKET_ADMINS, payload=OfferClick)
async def activate_offer(turn: Turn, click: OfferClick) -> ActionResult:
    """Seed: *Activate* an offer; it goes to pending (it can take several days)."""
    rules.require_can_manage_go_to_market(turn.person)
    benefit_id = click.benefit_id
    try:
        offer = await turn.service.request_offer_activation(turn.person, benefit_id, op_key=turn.op_key)
    except RuleViolation as violation:
        if turn.workflows.is_role_refusal(violation.code):
            raise
        message = turn.t(violation.code, **violation.params)
        return ActionResult(page(turn, {"key": "gtm.refused", "style": "attention", "params": {"reason": message}}))
    label = turn.t.label(offer)
    return ActionResult(page(turn, {"key": "gtm.activation_requested", "params": {"offer": label}}))
