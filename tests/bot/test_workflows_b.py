"""Protocol tests of the go-to-market, cancel, users, my benefits, request and recent-changes workflows.

Real activities over HTTP to the app on loopback; the service is reached directly only to arrange a
state (a key reveal, an activation by Microsoft) or to check what changed.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from domain.models import Role, Status
from services.benefits import BenefitsService
from tests._common.harness import (
    ALEX,
    DIEGO,
    ISAIAH,
    LEE,
    MEGAN,
    NESTOR,
    BotClient,
    all_text,
    cards_in,
    texts_in,
)
from tests.bot.test_notify import until


class Env:
    def __init__(self, client: BotClient, service: BenefitsService) -> None:
        self.client = client
        self.service = service
        self.events: list[tuple[str, dict[str, Any]]] = []
        service.listeners.append(lambda name, payload: self.events.append((name, payload)))

    def person(self, user: dict[str, Any]) -> Any:
        found = self.service.repo.person(user["aadObjectId"])
        assert found is not None
        return found


@pytest.fixture
def env(bot: BotClient) -> Env:
    """The shared ``bot`` fixture (real app over HTTP), recording the service's events."""
    return Env(bot, bot.service)


def seen(result: tuple[int, Any, list[dict[str, Any]]]) -> str:
    """Everything a person sees after an Action.Execute click: the new card and any messages."""
    status, body, sent = result
    assert status == 200
    card = body.get("value") if isinstance(body, dict) and isinstance(body.get("value"), dict) else {}
    return " ".join([all_text(card), *texts_in(sent), *(all_text(c) for c in cards_in(sent))])


def said(activities: list[dict[str, Any]]) -> str:
    return " ".join([*texts_in(activities), *(all_text(c) for c in cards_in(activities))])


def card_of(result: tuple[int, Any, list[dict[str, Any]]]) -> dict[str, Any]:
    return result[1]["value"]


CONTACT = {"person_id": "00000000-0000-0000-0000-0000000000a2", "alternate_email": "megan.marketing@outlook.com",
           "phone": "+1 425 555 0100", "preferred_language": "en-US"}


# --- go-to-market ---------------------------------------------------------------------------------
async def test_go_to_market_is_for_global_and_mpn_partner_admins_only(env: Env) -> None:
    for user in (LEE, ISAIAH):
        text = said(await env.client.say(user, "go-to-market"))
        assert "Global admin or MPN Partner admin" in text and "Alex Wilber" in text
        assert "Gold Core" not in text
    page = cards_in(await env.client.say(MEGAN, "go-to-market"))[0]
    text = all_text(page)
    assert "Gold Core" in text and "ISV Co-sell ready" in text and "Add" in text
    assert '"Action.ToggleVisibility"' in json.dumps(page)


async def test_activation_without_marketing_contact_is_refused_with_the_way_forward(env: Env) -> None:
    text = seen(await env.client.execute(MEGAN, "activate_offer", {"benefit_id": "gtm-gold-core"}))
    assert "you must first assign a company marketing contact" in text and "**Add**" in text
    assert env.service.repo.benefit("gtm-gold-core").status is Status.NOT_ACTIVATED


@pytest.mark.parametrize("address", ["meganb@contoso.com", "PartnerCenter@contoso.com"])
async def test_contact_alternate_email_must_differ_from_the_company_email(env: Env, address: str) -> None:
    text = seen(await env.client.execute(MEGAN, "set_marketing_contact", {**CONTACT, "alternate_email": address}))
    assert "different from the email address associated with your company's Partner Center account" in text
    assert env.service.repo.marketing_contact() is None


async def test_contact_with_a_bad_phone_is_refused(env: Env) -> None:
    text = seen(await env.client.execute(MEGAN, "set_marketing_contact", {**CONTACT, "phone": "call me"}))
    assert "not a valid phone number" in text
    assert env.service.repo.marketing_contact() is None


async def test_contact_then_activate_goes_pending_then_active_with_expiry(env: Env) -> None:
    form = card_of(await env.client.execute(MEGAN, "marketing_contact", {"mode": "add"}))
    picker = next(e for e in form["body"] if e.get("id") == "person_id")
    assert picker["choices.data"]["dataset"] == "graph.microsoft.com/users"
    assert any(c["value"] == CONTACT["person_id"] for c in picker["choices"])  # static choices work offline
    text = seen(await env.client.execute(MEGAN, "set_marketing_contact", CONTACT))
    assert "Megan Bowen is now the company marketing contact" in text and "Update" in text and "Change" in text
    text = seen(await env.client.execute(MEGAN, "activate_offer", {"benefit_id": "gtm-gold-core"}))
    assert "Pending activation" in text and "It can take several days" in text
    assert env.service.repo.benefit("gtm-gold-core").status is Status.PENDING_ACTIVATION
    # the same stale click again answers with the current state, not an error page
    again = seen(await env.client.execute(MEGAN, "activate_offer", {"benefit_id": "gtm-gold-core"}))
    assert "already Pending activation" in again
    today = env.service.today()
    await env.service.mark_activated(None, "gtm-gold-core", today, today + timedelta(days=365))
    page = cards_in(await env.client.say(ALEX, "gtm"))[0]
    assert "Active" in all_text(page)
    assert env.service.repo.benefit("gtm-gold-core").expires_on == today + timedelta(days=365)
    expires = today + timedelta(days=365)
    assert f"{expires:%b} {expires.day}, {expires.year}" in all_text(page)
    # the marketing contact now holds the offer under "my benefits"
    mine = all_text(cards_in(await env.client.say(MEGAN, "my benefits"))[0])
    assert "Gold Core" in mine and "designated marketing contact" in mine


async def test_forged_activate_offer_by_an_employee_changes_nothing(env: Env) -> None:
    await env.client.execute(MEGAN, "set_marketing_contact", CONTACT)
    text = seen(await env.client.execute(LEE, "activate_offer", {"benefit_id": "gtm-isv-cosell"}))
    assert "Global admin or MPN Partner admin" in text
    assert env.service.repo.benefit("gtm-isv-cosell").status is Status.NOT_ACTIVATED
    text = seen(await env.client.execute(LEE, "set_marketing_contact", {**CONTACT, "person_id": LEE["aadObjectId"]}))
    assert env.service.repo.marketing_contact().person_id == CONTACT["person_id"]


# --- cancel a benefit -------------------------------------------------------------------------------
async def test_cancel_list_shows_deadlines_and_who_can_be_refunded(env: Env) -> None:
    page = cards_in(await env.client.say(ALEX, "cancel"))[0]
    text = all_text(page)
    assert "Microsoft Action Pack" in text and "Refund deadline" in text
    assert "The refund window has passed" in text  # Gold Cloud, bought 200 days ago
    dumped = json.dumps(page)
    assert '"package_id": "pkg-action-pack"' in dumped and '"package_id": "pkg-gold-cloud"' not in dumped


async def test_refund_outside_30_days_is_refused_with_the_reason(env: Env) -> None:
    status, body, sent = await env.client.execute(ALEX, "cancel_package", {"package_id": "pkg-gold-cloud",
                                                                            "confirm": "yes"})
    assert sent == []  # the refusal is in the card that replaces the clicked one
    reasons = [b["text"] for b in card_of((status, body, sent))["body"][1]["items"]]
    assert len(reasons) == 1 and "within 30 days of purchase" in reasons[0]
    assert env.service.repo.package("pkg-gold-cloud").status is Status.ACTIVE


async def test_refund_is_refused_after_a_key_was_viewed(env: Env) -> None:
    await env.service.reveal_keys(env.person(ALEX), "sw-office", "English", "64-bit")
    status, body, sent = await env.client.execute(ALEX, "cancel_package", {"package_id": "pkg-action-pack",
                                                                            "confirm": "yes"})
    reasons = seen((status, body, sent))
    assert "have been viewed" in reasons and "Microsoft 365 Apps for enterprise" in reasons
    assert "software benefit of this package is already activated" in reasons
    assert "30 days" not in reasons  # still inside the window: only the real reasons
    assert env.service.repo.package("pkg-action-pack").status is Status.ACTIVE


async def test_cancellation_asks_to_confirm_then_prepares_the_service_request(env: Env) -> None:
    confirm = seen(await env.client.execute(ALEX, "cancel_package", {"package_id": "pkg-action-pack"}))
    assert "Cancel Microsoft Action Pack?" in confirm
    assert env.service.repo.package("pkg-action-pack").status is Status.ACTIVE
    done = seen(await env.client.execute(ALEX, "cancel_package", {"package_id": "pkg-action-pack", "confirm": "yes"}))
    request = next(r for r in env.service.repo.requests() if r.package_id == "pkg-action-pack")
    assert request.status.value == "prepared" and request.reference == ""
    assert "Cancellation request: Microsoft Action Pack" in done and "can't file this request for you" in done
    # nothing is cancelled until Microsoft cancels it
    assert env.service.repo.package("pkg-action-pack").status is Status.ACTIVE
    assert env.service.repo.benefit("vs-enterprise").status is not Status.CANCELLED


async def test_cancellation_needs_the_global_admin(env: Env) -> None:
    text = seen(await env.client.execute(ISAIAH, "cancel_package", {"package_id": "pkg-action-pack",
                                                                     "confirm": "yes"}))
    assert "global admin" in text and "Alex Wilber" in text
    assert env.service.repo.package("pkg-action-pack").status is Status.ACTIVE


# --- users and roles --------------------------------------------------------------------------------
async def test_global_admin_sets_roles_and_adds_people(env: Env) -> None:
    text = seen(await env.client.execute(ALEX, "set_roles", {"person_id": LEE["aadObjectId"], "input": "roles_x",
                                                             "roles_x": "user_admin,admin_agent"}))
    assert "Roles of Lee Gu: Admin agent, User admin" in text or "Roles of Lee Gu: User admin, Admin agent" in text
    assert env.person(LEE).roles == {Role.USER_ADMIN, Role.ADMIN_AGENT}
    adele_form = {"new_name": "Adele Vance", "new_email": "adelev@contoso.com", "new_roles": "mpn_partner_admin"}
    text = seen(await env.client.execute(ALEX, "add_user", adele_form))
    assert "Adele Vance" in text
    adele = env.service.repo.person_by_email("adelev@contoso.com")
    assert adele is not None and adele.roles == {Role.MPN_PARTNER_ADMIN}


async def test_set_roles_by_a_non_global_admin_is_refused(env: Env) -> None:
    for user in (ISAIAH, LEE):  # Isaiah is a User admin; Lee forges the invoke
        text = seen(await env.client.execute(user, "set_roles", {"person_id": user["aadObjectId"],
                                                                 "roles": "global_admin"}))
        assert "global admin" in text and "Alex Wilber" in text
        assert Role.GLOBAL_ADMIN not in env.person(user).roles
    assert "Alex Wilber" in said(await env.client.say(ISAIAH, "users"))


async def test_the_last_global_admin_cannot_be_removed(env: Env) -> None:
    text = seen(await env.client.execute(ALEX, "set_roles", {"person_id": ALEX["aadObjectId"], "roles": "",
                                                             "confirm": "yes"}))
    assert "at least one global admin" in text
    assert env.person(ALEX).has(Role.GLOBAL_ADMIN)
    await env.client.execute(ALEX, "set_roles", {"person_id": MEGAN["aadObjectId"],
                                                 "roles": "global_admin,mpn_partner_admin"})
    asked = seen(await env.client.execute(ALEX, "set_roles", {"person_id": ALEX["aadObjectId"], "roles": ""}))
    assert "Remove roles from Alex Wilber?" in asked and env.person(ALEX).has(Role.GLOBAL_ADMIN)
    await env.client.execute(ALEX, "set_roles", {"person_id": ALEX["aadObjectId"], "roles": "", "confirm": "yes"})
    assert not env.person(ALEX).has(Role.GLOBAL_ADMIN)  # allowed once someone else is a Global admin


# --- my benefits --------------------------------------------------------------------------------------
async def test_my_benefits_shows_only_own_assignments_and_no_keys(env: Env) -> None:
    alex = env.person(ALEX)
    await env.service.reveal_keys(alex, "sw-office", "English", "64-bit")
    await env.service.assign(alex, "vs-enterprise", env.person(LEE).id)
    await env.service.assign(alex, "tech-support", env.person(NESTOR).id, "nestor@outlook.com")
    lee = all_text(cards_in(await env.client.say(LEE, "my benefits"))[0])
    assert "Visual Studio Enterprise subscription" in lee and "https://my.visualstudio.com" in lee
    assert "Product support incidents" not in lee and "DEMO0" not in lee and "Microsoft 365 Apps" not in lee
    nestor = all_text(cards_in(await env.client.say(NESTOR, "my benefits"))[0])
    assert "Product support incidents" in nestor and "nestor@outlook.com" in nestor
    assert "Visual Studio Enterprise" not in nestor


async def test_my_benefits_empty_state_offers_a_request(env: Env) -> None:
    page = cards_in(await env.client.say(DIEGO, "my benefits"))[0]
    assert "don't hold any benefit yet" in all_text(page)
    assert '"verb": "request_benefit"' in json.dumps(page)


async def test_my_benefits_and_a_refusal_in_chinese(env: Env) -> None:
    env.client.locale = "zh-CN"
    assert "我的权益" in all_text(cards_in(await env.client.say(DIEGO, "我的权益"))[0])
    assert "市场投放权益需要全局管理员或 MPN 合作伙伴管理员角色" in said(await env.client.say(LEE, "市场投放"))
    await env.service.assign(env.person(ALEX), "vs-professional", env.person(LEE).id)
    await until(lambda: bool(env.service.store.find("outbox", "state", "delivered")))  # Lee is told of the seat
    env.client.locale = "zh-TW"
    page = all_text(cards_in(await env.client.say(LEE, "我的權益"))[0])
    assert "我的權益" in page and "作用中" in page and "到期" in page
    assert "Alex Wilber" in said(await env.client.say(LEE, "進入市場"))
    assert "進入市場" in said(await env.client.say(LEE, "進入市場"))


# --- request a benefit --------------------------------------------------------------------------------
async def _request(env: Env, user: dict[str, Any], benefit_id: str) -> str:
    form = card_of(await env.client.execute(user, "request_benefit"))
    choices = next(e for e in form["body"] if e.get("id") == "benefit_id")["choices"]
    assert benefit_id in {c["value"] for c in choices}
    text = seen(await env.client.execute(user, "submit_benefit_request", {"benefit_id": benefit_id,
                                                                         "note": "for the Contoso app"}))
    request = next(r for r in env.service.repo.requests() if r.requested_by == env.person(user).id)
    assert request.reference in text
    return request.id


async def test_request_then_approve_assigns_and_refreshes_for_the_admins(env: Env) -> None:
    request_id = await _request(env, LEE, "vs-professional")
    assert env.events[-1][0] == "request.submitted" and env.events[-1][1]["reference"]
    assert env.events[-1][1]["admin_ids"] == [env.person(ALEX).id]
    replies = await env.client.say(ALEX, "requests")
    cards = cards_in(replies)
    request_card = next(c for c in cards if "refresh" in c)
    assert request_card["refresh"]["action"]["verb"] == "request_card"
    assert request_card["refresh"]["action"]["data"]["request_id"] == request_id
    assert request_card["refresh"]["userIds"] == [ALEX["id"]]
    text = seen(await env.client.execute(ALEX, "decide_request", {"request_id": request_id, "decision": "approve"}))
    assert "Approved" in text and "Lee Gu" in text
    assert any(a.benefit_id == "vs-professional" and a.is_current
               for a in env.service.repo.assignments_of_person(env.person(LEE).id))
    name, payload = env.events[-1]
    assert name == "request.decided" and payload["outcome"] == "approved"
    assert payload["decider_id"] == env.person(ALEX).id and payload["requester_id"] == env.person(LEE).id
    refreshed = card_of(await env.client.execute(ALEX, "request_card", {"request_id": request_id}))
    assert "decide_request" not in json.dumps(refreshed) and "Alex Wilber" in all_text(refreshed)
    assert "Visual Studio Professional subscription" in all_text(cards_in(await env.client.say(LEE, "mine"))[0])


async def test_decline_and_deciding_twice_answers_with_the_current_state(env: Env) -> None:
    request_id = await _request(env, NESTOR, "vs-enterprise")
    text = seen(await env.client.execute(ALEX, "decide_request", {"request_id": request_id, "decision": "decline"}))
    assert "Declined" in text
    assert not env.service.repo.assignments_of_person(env.person(NESTOR).id)
    status, body, sent = await env.client.execute(ALEX, "decide_request", {"request_id": request_id,
                                                                           "decision": "approve"})
    assert sent == [] and "was already decided (Declined)" in all_text(body["value"])  # in the card
    assert "decide_request" not in json.dumps(body["value"]) and "Declined" in all_text(body["value"])
    assert not env.service.repo.assignments_of_person(env.person(NESTOR).id)


async def test_technical_approval_asks_for_the_alternate_email(env: Env) -> None:
    request_id = await _request(env, DIEGO, "tech-support")
    card = card_of(await env.client.execute(ALEX, "request_card", {"request_id": request_id}))
    assert any(e.get("id") == "alternate_email" for e in card["body"])
    text = seen(await env.client.execute(ALEX, "decide_request", {"request_id": request_id, "decision": "approve",
                                                                  "alternate_email": "diegos@contoso.com"}))
    assert "different from the email address" in text
    assert env.service.repo.request(request_id).status.value == "submitted"
    await env.client.execute(ALEX, "decide_request", {"request_id": request_id, "decision": "approve",
                                                      "alternate_email": "diego@outlook.com"})
    held = env.service.repo.assignments_of_person(env.person(DIEGO).id)
    assert [a.alternate_email for a in held] == ["diego@outlook.com"]


async def test_an_employee_cannot_decide_a_request(env: Env) -> None:
    request_id = await _request(env, LEE, "vs-enterprise")
    text = seen(await env.client.execute(LEE, "decide_request", {"request_id": request_id, "decision": "approve"}))
    assert "Alex Wilber" in text
    assert env.service.repo.request(request_id).status.value == "submitted"
    assert not env.service.repo.assignments_of_person(env.person(LEE).id)


# --- recent changes --------------------------------------------------------------------------------------
async def test_recent_changes_of_an_offer_by_name(env: Env) -> None:
    await env.client.execute(MEGAN, "set_marketing_contact", CONTACT)
    await env.client.execute(MEGAN, "activate_offer", {"benefit_id": "gtm-isv-cosell"})
    text = said(await env.client.say(ALEX, "changes ISV Co-sell ready"))
    assert "Megan Bowen" in text and "requested activation" in text
    assert "Not activated → Pending activation" in text
    assert "Only admins" in said(await env.client.say(LEE, "changes gtm-isv-cosell"))


async def test_action_submit_fallback_runs_the_same_checks(env: Env) -> None:
    """Older clients send the Action.Submit fallback: same verbs, same server-side role checks."""
    forged = await env.client.submit(LEE, {"action": "set_roles", "person_id": LEE["aadObjectId"],
                                           "roles": "global_admin"})
    assert "Alex Wilber" in said(forged) and not env.person(LEE).roles
    replies = await env.client.submit(MEGAN, {"action": "set_marketing_contact", **CONTACT})
    assert "Megan Bowen is now the company marketing contact" in said(replies)
    assert env.service.repo.marketing_contact().phone == CONTACT["phone"]


async def test_recent_changes_lead_back_to_the_service_request_they_were_opened_from(env: Env) -> None:
    data = {"subject_id": "pkg-action-pack", "back": "service_request", "back_data": {"request_id": "sr-1"}}
    shown = card_of(await env.client.execute(ALEX, "recent_changes", data))
    back = [a for a in shown["actions"] if a.get("verb") == "service_request"]
    assert back and back[0]["data"]["request_id"] == "sr-1"
    # only what a verb may carry goes back, and only to a card the person may open
    forged = {**data, "back_data": {"request_id": "sr-1", "nested": {"x": 1}}}
    back = [a for a in card_of(await env.client.execute(ALEX, "recent_changes", forged))["actions"]
            if a.get("verb") == "service_request"]
    assert "nested" not in back[0]["data"]
