"""Unit tests of the pure card functions of the go-to-market, cancel, users, my benefits, request and
recent-changes workflows: every card in every locale is JSON, Adaptive Card 1.5, under 80 KB, with
unique ids, labelled inputs, and only Action.Execute verbs that are registered actions."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from cards.audit import changes_card, choose_subject_card
from cards.cancel import cancel_list_card, confirm_card
from cards.gtm import contact_form, gtm_card
from cards.mine import my_benefits_card
from cards.paging import Page
from cards.requests import (
    MAX_REFRESH_USERS,
    ServiceRequestView,
    pending_list_card,
    refresh_section,
    request_card,
    request_form_card,
    service_request_card,
)
from cards.users import users_card
from dialogs.registry import Workflows
from domain import rules
from domain.models import (
    Assignment,
    AuditEntry,
    MarketingContact,
    Person,
    Phase,
    RequestKind,
    RequestOutcome,
    RequestStatus,
    ServiceRequest,
    Status,
)
from services.benefits import Holding
from services.i18n import LOCALES, Translator
from services.inventory import demo_inventory, parse_inventory
from tests._common.card_validation import assert_valid_cards

TODAY = date(2026, 11, 22)
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
OWN_VERBS = {"list_go_to_market", "marketing_contact", "set_marketing_contact", "activate_offer", "cancel_start",
             "cancel_package", "users", "set_roles", "add_user", "my_benefits", "request_benefit",
             "submit_benefit_request", "decide_request", "request_card", "requests", "recent_changes",
             "service_request", "record_request_number", "close_request", "list_technical", "help", "overview"}
INVENTORY = parse_inventory(demo_inventory(TODAY))
BENEFITS = {b.id: b for b in INVENTORY.benefits}
PEOPLE = {p.name.split()[0]: p for p in INVENTORY.people}
PACKAGES = {p.id: p for p in INVENTORY.packages}


def _request(status: RequestStatus = RequestStatus.SUBMITTED, benefit: str = "tech-support") -> ServiceRequest:
    return ServiceRequest(id="r1", reference="BR-20261122-ABC123", kind=RequestKind.BENEFIT,
                          requested_by=PEOPLE["Lee"].id, created_at=NOW, status=status, benefit_id=benefit,
                          description="for the app", decided_by=PEOPLE["Alex"].id if status.value != "submitted"
                          else "", decided_at=NOW if status.value != "submitted" else None)


def _service_request(kind: RequestKind, stage: str) -> ServiceRequestView:
    """A Partner Center service request prepared, submitted (with its number) or closed."""
    request = ServiceRequest(id="s1", reference="", kind=kind, requested_by=PEOPLE["Alex"].id, created_at=NOW,
                             status=RequestStatus.PREPARED, package_id="pkg-action-pack" if kind.value == "cancellation"
                             else "", benefit_id="" if kind.value == "cancellation" else "tech-advisory",
                             phase=Phase.DESIGN if kind.value == "assistance" else None, topic="Landing zone",
                             description="Hub and spoke")
    if stage != "prepared":
        request = replace(request, status=RequestStatus.SUBMITTED, partner_center_number="2611220010001234",
                          submitted_by=PEOPLE["Alex"].id, submitted_at=NOW)
    if stage == "closed":
        outcome = RequestOutcome.CANCELLED if kind.value == "cancellation" else RequestOutcome.COMPLETED
        request = replace(request, status=RequestStatus.CLOSED, closed_by=PEOPLE["Alex"].id, closed_at=NOW,
                          outcome=outcome)
    package = PACKAGES["pkg-action-pack"] if kind.value == "cancellation" else None
    return ServiceRequestView(request, "Microsoft Action Pack" if package else "Advisory hours", INVENTORY.organization,
                              PEOPLE["Alex"], {p.id: p.name for p in INVENTORY.people}, package,
                              ("Visual Studio Enterprise subscription",), True, "n1")


def all_cards(t: Translator) -> dict[str, dict[str, Any]]:
    offers = [BENEFITS["gtm-gold-core"], replace(BENEFITS["gtm-isv-cosell"], status=Status.ACTIVE,
                                                 activated_on=TODAY, expires_on=TODAY + timedelta(days=365))]
    contact = MarketingContact(PEOPLE["Megan"].id, "m@outlook.com", "+1 425 555 0100", "zh-TW", PEOPLE["Alex"].id, NOW)
    people = list(INVENTORY.people)
    lee = PEOPLE["Lee"]
    assignment = Assignment("a1", "tech-support", lee.id, PEOPLE["Alex"].id, NOW, Status.PENDING_ACTIVATION,
                            alternate_email="lee@outlook.com")
    holdings = [
        Holding(BENEFITS["vs-enterprise"], replace(assignment, id="a2", benefit_id="vs-enterprise"), Status.ACTIVE,
                TODAY + timedelta(days=300)),
        Holding(BENEFITS["tech-support"], assignment, Status.PENDING_ACTIVATION, None),
        Holding(BENEFITS["cloud-azure-credit"], replace(assignment, id="a3"), Status.ACTIVE, None),
        Holding(offers[1], None, Status.ACTIVE, TODAY + timedelta(days=365)),
    ]
    action_pack, gold = PACKAGES["pkg-action-pack"], PACKAGES["pkg-gold-cloud"]
    gold_fail = rules.can_cancel_for_refund(gold, INVENTORY.benefits, [], TODAY)
    entry = AuditEntry("e1", NOW, PEOPLE["Megan"].id, "offer.activation_requested", "gtm-gold-core",
                       {"status": "not_activated"}, {"status": "pending_activation"})
    names = {p.id: p.name for p in people}
    admins = [PEOPLE["Alex"]]
    return {
        "gtm_empty": gtm_card(t, offers, None, None, TODAY),
        "gtm_contact": gtm_card(t, offers, contact, PEOPLE["Megan"], TODAY,
                                {"key": "gtm.contact.saved", "params": {"name": "Megan Bowen"}}),
        "contact_form": contact_form(t, people, contact, "partnercenter@contoso.com", "update", error="bad"),
        "cancel_list": cancel_list_card(t, [(action_pack, []), (gold, gold_fail)]),
        "cancel_confirm": confirm_card(t, action_pack, ["Visual Studio Enterprise subscription"]),
        **{f"sr_{kind.value}_{stage}": service_request_card(t, _service_request(kind, stage))
           for kind in (RequestKind.ASSISTANCE, RequestKind.CANCELLATION)
           for stage in ("prepared", "submitted", "closed")},
        "sr_refused": service_request_card(t, _service_request(RequestKind.ASSISTANCE, "prepared"), error="bad",
                                           typed="12"),
        "users": users_card(t, Page(people, len(people)),
                            {"key": "users.added", "params": {"name": "A", "email": "a@b.co"}}),
        "mine": my_benefits_card(t, lee.name, Page(holdings, len(holdings))),
        "mine_empty": my_benefits_card(t, lee.name, Page([], 0)),
        "request_form": request_form_card(t, [(BENEFITS["vs-enterprise"], 3), (BENEFITS["tech-support"], 20)]),
        "request_form_empty": request_form_card(t, []),
        "request_pending": request_card(t, _request(), BENEFITS["tech-support"], lee, None, admins, True),
        "request_decided": request_card(t, _request(RequestStatus.APPROVED), BENEFITS["tech-support"], lee,
                                        PEOPLE["Alex"], admins, True),
        "pending_list": pending_list_card(t, Page([_request()], 1), {"r1": "Lee Gu · Product support incidents"}),
        "changes": changes_card(t, "Go-to-market benefits · Gold Core", Page([entry], 1), names),
        "choose_subject": choose_subject_card(t, [("pkg-action-pack", "Microsoft Action Pack")]),
    }


def walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


CASES = [(locale, name) for locale in LOCALES for name in all_cards(Translator("en-US"))]


@pytest.mark.parametrize(("locale", "name"), CASES)
def test_card_is_valid_teams_adaptive_card(locale: str, name: str) -> None:
    verbs = frozenset(Workflows.load())
    built = all_cards(Translator(locale))[name]
    dumped = json.dumps(built, ensure_ascii=False)
    assert built["type"] == "AdaptiveCard" and built["version"] == "1.5"
    assert len(dumped.encode()) < 80_000
    ids = [n["id"] for n in walk(built) if "id" in n and "type" in n]
    assert len(ids) == len(set(ids)), ids
    for node in walk(built):
        kind = node.get("type", "")
        if kind == "Action.Execute":
            assert node["verb"] in OWN_VERBS and node["verb"] in verbs, node["verb"]
            if node is not built.get("refresh", {}).get("action"):
                assert node["fallback"]["type"] == "Action.Submit"
        if kind.startswith("Input."):
            assert node.get("label"), node["id"]
            if node.get("isRequired"):
                assert node.get("errorMessage"), node["id"]
        if kind.startswith("Action."):
            assert node.get("style") not in ("positive", "destructive")
        assert kind != "Media"


def test_request_card_refreshes_for_the_admins_at_most_60() -> None:
    admins = [Person(id=f"p{i}", name=f"Admin {i}", email=f"a{i}@contoso.com", teams_id=f"29:{i}")
              for i in range(70)]
    section = refresh_section(_request(), admins)
    assert section["action"]["verb"] == "request_card" and section["action"]["data"]["request_id"] == "r1"
    assert len(section["userIds"]) == MAX_REFRESH_USERS


def test_decided_request_card_has_no_decision_buttons() -> None:
    t = Translator("en-US")
    decided = all_cards(t)["request_decided"]
    assert "decide_request" not in json.dumps(decided)
    pending = json.dumps(all_cards(t)["request_pending"])
    assert "decide_request" in pending and '"alternate_email"' in pending


def test_my_benefits_card_never_shows_keys_and_says_how_to_start() -> None:
    text = json.dumps(all_cards(Translator("en-US"))["mine"])
    assert "DEMO0" not in text and '"key"' not in text
    assert "https://my.visualstudio.com" in text and "portal.azure.com" in text and "lee@outlook.com" in text


def test_gtm_rows_show_offer_type_status_and_expires_in_each_locale() -> None:
    expected = {"en-US": ("Gold Core", "Active", "Expires", "Activate"),
                "zh-CN": ("金级核心", "活动", "过期", "激活"),
                "zh-TW": ("金級核心", "作用中", "到期", "啟用")}
    for locale, words in expected.items():
        text = json.dumps(all_cards(Translator(locale))["gtm_contact"], ensure_ascii=False)
        for word in words:
            assert word in text, (locale, word)


@pytest.mark.parametrize("locale", LOCALES)
def test_cards_pass_the_official_1_5_schema_and_parser(locale: str) -> None:
    assert_valid_cards(list(all_cards(Translator(locale)).values()))


def _verbs(shown: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {str(a.get("verb")): a for a in walk(shown) if isinstance(a, dict) and a.get("type") == "Action.Execute"}


def test_request_form_leads_back_to_my_benefits() -> None:
    t = Translator("zh-CN")
    form = request_form_card(t, [(BENEFITS["vs-enterprise"], 3)])
    back = _verbs(form)["my_benefits"]
    assert back["title"] == t("requests.my_benefits")
    assert back["associatedInputs"] == "none"  # leaving the form never waits on what is typed


@pytest.mark.parametrize("contact", [None, "set"])
def test_go_to_market_leads_back_to_the_overview_it_is_opened_from(contact: str | None) -> None:
    """The overview's go-to-market row opens this card, as its other rows open the benefit lists."""
    t = Translator("zh-TW")
    offers = [BENEFITS["gtm-gold-core"]]
    shown = gtm_card(t, offers, None, None, TODAY) if contact is None else \
        gtm_card(t, offers, MarketingContact(PEOPLE["Megan"].id, "m@outlook.com", "+1 425 555 0100", "en-US",
                                             PEOPLE["Alex"].id, NOW), PEOPLE["Megan"], TODAY)
    assert _verbs(shown)["overview"]["title"] == t("benefits.overview")


@pytest.mark.parametrize("kind", [RequestKind.ASSISTANCE, RequestKind.CANCELLATION])
def test_changes_of_a_service_request_lead_back_to_that_request(kind: RequestKind) -> None:
    t = Translator("en-US")
    view = _service_request(kind, "submitted")
    changes = _verbs(service_request_card(t, view))["recent_changes"]["data"]
    assert changes["back"] == "service_request"
    assert changes["back_data"] == {"request_id": view.request.id}
    shown = changes_card(t, "Microsoft Action Pack", Page([], 0), {}, changes["back"], changes["back_data"])
    back = _verbs(shown)["service_request"]
    assert back["data"]["request_id"] == view.request.id
    assert "help" in _verbs(shown)
