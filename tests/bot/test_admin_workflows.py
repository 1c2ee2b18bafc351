"""Protocol tests of the admin workflows: overview, lists, Get keys, assignments, assistance requests.

Real activities over HTTP to the aiohttp app on loopback with the demo inventory; the service behind
the app is read directly only to check what was stored.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from datetime import date, timedelta
from typing import Any

import pytest

from services.benefits import BenefitsService
from tests._common.harness import (
    ALEX,
    DIEGO,
    ISAIAH,
    LEE,
    MEGAN,
    NESTOR,
    App,
    all_text,
    cards_in,
    texts_in,
)

LEE_ID = LEE["aadObjectId"]
NESTOR_ID = NESTOR["aadObjectId"]
DIEGO_ID = DIEGO["aadObjectId"]
ALEX_ID = ALEX["aadObjectId"]
MEGAN_ID = MEGAN["aadObjectId"]


def card_of(body: Any) -> dict[str, Any]:
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive", body
    return body["value"]


def current(service: BenefitsService, benefit_id: str) -> list[Any]:
    return [a for a in service.repo.assignments_of_benefit(benefit_id) if a.is_current]


def _parse(text_date: str) -> date:
    from datetime import datetime

    return datetime.strptime(text_date, "%b %d, %Y").date()


# --- overview ------------------------------------------------------------------------------------
async def test_overview_counts_per_category(app: App) -> None:
    await app.service.assign(app.service.repo.person(ALEX_ID), "vs-enterprise", LEE_ID)
    await app.service.assign(app.service.repo.person(ALEX_ID), "tech-support", NESTOR_ID,
                             "nestor.alt@example.com")
    card = cards_in(await app.client.say(ALEX, "overview"))[0]
    rows = {c["id"]: all_text(c) for c in card["body"] if c.get("id", "").startswith("category-")}
    # software: 2 benefits, 10 + 4 licences (used through keys, never assigned)
    assert "2 benefits · Not activated: 2" in rows["category-software"]
    assert "14 licenses" in rows["category-software"] and "assigned" not in rows["category-software"]
    # Visual Studio: 3 + 5 subscriptions, Lee holds one (active at once)
    assert "2 benefits · Active: 1 · Not activated: 1" in rows["category-visual_studio"]
    assert "8 subscriptions (1 assigned, 7 available)" in rows["category-visual_studio"]
    # technical: incidents, hours and services stay apart; Nestor's seat makes support pending
    assert "3 benefits · Pending activation: 1 · Not activated: 2" in rows["category-technical"]
    assert "20 support incidents · 50 advisory hours · 1 service · 1 person assigned" in rows["category-technical"]
    assert "71" not in rows["category-technical"]
    text_ = all_text(card)
    assert "Microsoft Action Pack" in text_ and "Action Pack" in text_ and "Gold competency" in text_
    verbs = json.dumps(card)
    for verb in ("list_software", "list_cloud", "list_visual_studio", "list_technical"):
        assert f'"verb": "{verb}"' in verbs


async def test_overview_is_for_admins_only(app: App) -> None:
    replies = await app.client.say(LEE, "overview")
    assert not cards_in(replies)
    assert "Only admins can do this" in texts_in(replies)[0] and "Alex Wilber" in texts_in(replies)[0]


async def test_overview_and_refusal_in_chinese(app: App) -> None:
    app.client.locale = "zh-CN"
    card = cards_in(await app.client.say(ALEX, "权益概览"))[0]
    text_ = all_text(card)
    assert "权益概览" in text_ and "软件" in text_ and "Visual Studio 订阅" in text_ and "技术权益" in text_
    assert "未激活：2" in text_ and "14 个许可证" in text_  # status per benefit, quantity per unit
    status, body, _ = await app.client.execute(ALEX, "assign_user", {"benefit_id": "cloud-azure-credit",
                                                                    "person_id": LEE_ID})
    assert "若要激活基于 Microsoft Azure 用量的订阅，请将你自己指定为用户" in all_text(card_of(body))
    app.client.locale = "zh-TW"
    card = cards_in(await app.client.say(ALEX, "權益概覽"))[0]
    text_ = all_text(card)
    assert "權益概覽" in text_ and "軟體" in text_ and "雲端" in text_ and "技術權益" in text_
    replies = await app.client.say(LEE, "overview")
    assert "只有系統管理員才能執行此操作" in texts_in(replies)[0]


# --- lists ---------------------------------------------------------------------------------------
async def test_software_list_rows_expand_with_a_chevron(app: App) -> None:
    status, body, _ = await app.client.execute(ALEX, "list_software")
    card = card_of(body)
    dump = json.dumps(card, ensure_ascii=False)
    assert "Microsoft 365 Apps for enterprise" in dump and "Windows Server 2025 Standard" in dump
    assert '"targetElements": ["details-sw-office"]' in dump and "⌄" in dump
    details = [c for c in card["body"] if c.get("id") == "details-sw-office"][0]
    assert details["isVisible"] is False
    assert "Get keys" in all_text(details) and "Not activated" in all_text(card)


# --- keys ----------------------------------------------------------------------------------------
async def test_get_keys_reveals_records_and_activates(app: App, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    data = {"benefit_id": "sw-office", "language-sw-office": "Chinese (Simplified)", "os-sw-office": "64-bit"}
    status, body, _ = await app.client.execute(ALEX, "reveal_keys", data)
    card = card_of(body)
    secret = [k.key for k in app.service.repo.benefit("sw-office").keys
              if k.language == "Chinese (Simplified)" and k.os == "64-bit"][0]
    text_ = all_text(card)
    assert secret in text_ and "Recorded: Alex Wilber revealed these keys" in text_
    assert "https://my.visualstudio.com/Downloads?q=office" in json.dumps(card)
    assert "Office Deployment Tool" in text_  # special instructions
    benefit = app.service.repo.benefit("sw-office")
    assert benefit is not None and benefit.status.value == "active"
    reveals = app.service.repo.key_reveals(["sw-office"])
    assert [(r.person_id, r.language, r.os) for r in reveals] == [(ALEX_ID, "Chinese (Simplified)", "64-bit")]
    assert all(secret not in r.getMessage() and secret not in str(r.__dict__) for r in caplog.records)


async def test_forged_reveal_by_an_employee_changes_nothing(app: App) -> None:
    data = {"benefit_id": "sw-office", "language": "English", "os": "64-bit"}
    status, body, sent = await app.client.execute(LEE, "reveal_keys", data)
    assert status == 200 and sent == []  # the refusal replaces the clicked card: no message stays behind
    refusal = all_text(card_of(body))
    assert "Only admins can do this" in refusal and "Alex Wilber" in refusal
    assert app.service.repo.key_reveals(["sw-office"]) == []
    assert app.service.repo.benefit("sw-office").status.value == "not_activated"
    app.client.locale = "zh-TW"
    _, body, sent = await app.client.execute(DIEGO, "reveal_keys", data)
    assert "只有系統管理員才能執行此操作" in all_text(card_of(body))
    assert not any("KEY00" in json.dumps(a) for a in sent)


async def test_license_based_cloud_keys_with_instructions(app: App) -> None:
    status, body, _ = await app.client.execute(MEGAN, "reveal_keys", {
        "benefit_id": "cloud-dynamics", "language": "English"})  # a SaaS licence has no OS type to choose
    text_ = all_text(card_of(body))
    assert "Redeem the key in the Microsoft 365 admin center" in text_ and "DYN36-00000" in text_
    assert app.service.repo.benefit("cloud-dynamics").status.value == "active"


async def test_double_click_reveal_is_recorded_once(app: App) -> None:
    data = {"benefit_id": "sw-windows-server", "language": "English", "os": "64-bit", "nonce": "n-1"}
    await app.client.execute(ALEX, "reveal_keys", data)
    await app.client.execute(ALEX, "reveal_keys", data)
    assert len(app.service.repo.key_reveals(["sw-windows-server"])) == 1


# --- cloud usage-based -------------------------------------------------------------------------
async def test_usage_based_subscription_only_to_yourself(app: App) -> None:
    status, body, _ = await app.client.execute(ALEX, "assign_user", {"benefit_id": "cloud-azure-credit",
                                                                    "person_id": LEE_ID})
    card = card_of(body)
    assert "assign yourself as a user" in all_text(card["body"][0])
    assert current(app.service, "cloud-azure-credit") == []
    status, body, _ = await app.client.execute(ALEX, "assign_user", {"benefit_id": "cloud-azure-credit",
                                                                    "person_id": ALEX_ID})
    card = card_of(body)
    assert "is active and assigned to you" in all_text(card["body"][0])
    assert "https://portal.azure.com/#home" in json.dumps(card)
    assert [a.person_id for a in current(app.service, "cloud-azure-credit")] == [ALEX_ID]


# --- Visual Studio ------------------------------------------------------------------------------
async def test_assign_list_offers_directory_and_people_picker(app: App) -> None:
    status, body, _ = await app.client.execute(ALEX, "list_visual_studio")
    dump = json.dumps(card_of(body))
    assert '"dataset": "graph.microsoft.com/users"' in dump
    assert f'"value": "{LEE_ID}"' in dump and "Lee Gu (leeg@contoso.com)" in dump
    assert "https://my.visualstudio.com" in dump and '"verb": "add_person"' in dump


async def test_seat_limit_and_ninety_day_lock(app: App) -> None:
    for person in (LEE_ID, NESTOR_ID, DIEGO_ID):
        status, body, _ = await app.client.execute(ALEX, "assign_user", {"benefit_id": "vs-enterprise",
                                                                        "person-vs-enterprise": person})
        assert "is assigned to" in all_text(card_of(body)["body"][0])
    status, body, _ = await app.client.execute(ALEX, "assign_user", {"benefit_id": "vs-enterprise",
                                                                    "person_id": MEGAN_ID})
    refused = all_text(card_of(body)["body"][0])
    assert "Every seat of Visual Studio Enterprise subscription is assigned (3 of 3)" in refused
    # removal is locked too: the refusal says until when, never "remove an assigned user first"
    assert "remove an assigned user" not in refused.lower() and "until" in refused
    assert len(current(app.service, "vs-enterprise")) == 3
    lee = [a for a in current(app.service, "vs-enterprise") if a.person_id == LEE_ID][0]
    status, body, _ = await app.client.execute(ALEX, "remove_assignment", {"assignment_id": lee.id,
                                                                          "confirm": "yes"})
    card = card_of(body)
    message = all_text(card["body"][0])
    until = re.search(r"you can remove a user from (\w{3} \d{1,2}, \d{4})", message)
    assert until is not None, message
    since = re.search(r"since (\w{3} \d{1,2}, \d{4})", all_text(card))
    assert since is not None
    assert _parse(until.group(1)) - _parse(since.group(1)) == timedelta(days=90)
    assert len(current(app.service, "vs-enterprise")) == 3


async def test_reassign_removes_then_assigns(app: App) -> None:
    status, body, _ = await app.client.execute(ALEX, "assign_user", {"benefit_id": "vs-professional",
                                                                    "person_id": LEE_ID})
    lee = current(app.service, "vs-professional")[0]
    status, body, _ = await app.client.execute(ALEX, "remove_assignment", {"assignment_id": lee.id, "nonce": "n1"})
    asked = card_of(body)  # removing a seat asks first, and changes nothing yet
    assert asked["body"][0]["text"] == "Remove Lee Gu from Visual Studio Professional subscription?"
    assert len(current(app.service, "vs-professional")) == 1
    [yes] = [a for a in asked["actions"] if a["title"] == "Remove Lee Gu"]
    assert yes["data"]["confirm"] == "yes" and yes["data"]["nonce"] == "n1:confirm"
    [keep] = [a for a in asked["actions"] if a["title"] == "Keep Lee Gu"]
    assert keep["verb"] == "list_visual_studio"
    status, body, _ = await app.client.execute(ALEX, "remove_assignment", yes["data"])
    assert "Lee Gu no longer has" in all_text(card_of(body)["body"][0])
    status, body, _ = await app.client.execute(ALEX, "remove_assignment", {"assignment_id": lee.id,
                                                                          "confirm": "yes"})
    assert "That assignment no longer exists" in all_text(card_of(body)["body"][0])  # stale card
    await app.client.execute(ALEX, "assign_user", {"benefit_id": "vs-professional", "person_id": NESTOR_ID})
    assert [a.person_id for a in current(app.service, "vs-professional")] == [NESTOR_ID]


async def test_stale_card_answers_with_the_current_state(app: App) -> None:
    await app.client.execute(ALEX, "assign_user", {"benefit_id": "vs-professional", "person_id": LEE_ID})
    _, body, _ = await app.client.execute(ALEX, "assign_user", {"benefit_id": "vs-professional",
                                                               "person_id": LEE_ID, "nonce": "other-card"})
    card = card_of(body)
    assert "Lee Gu already has Visual Studio Professional subscription" in all_text(card["body"][0])
    assert card["body"][0]["style"] == "attention" and "5 subscriptions: 1 assigned, 4 available" in all_text(card)
    assert len(current(app.service, "vs-professional")) == 1


async def test_assign_needs_global_admin(app: App) -> None:
    status, body, sent = await app.client.execute(MEGAN, "assign_user", {"benefit_id": "vs-professional",
                                                                        "person_id": LEE_ID})
    assert sent == [] and "global admin" in all_text(card_of(body))
    status, body, sent = await app.client.execute(ISAIAH, "add_person", {"new_person_name": "Pat",
                                                                        "new_person_email": "pat@contoso.com"})
    assert app.service.repo.person_by_email("pat@contoso.com") is None
    assert current(app.service, "vs-professional") == []


async def test_add_user_then_assign(app: App) -> None:
    status, body, _ = await app.client.execute(ALEX, "add_person", {
        "category": "visual_studio", "new_person_name": "Pat Kim", "new_person_email": "patk@contoso.com"})
    card = card_of(body)
    assert "Pat Kim was added" in all_text(card["body"][0]) and "patk@contoso.com" in json.dumps(card)
    pat = app.service.repo.person_by_email("patk@contoso.com")
    assert pat is not None
    await app.client.execute(ALEX, "assign_user", {"benefit_id": "vs-professional", "person_id": pat.id})
    assert [a.person_id for a in current(app.service, "vs-professional")] == [pat.id]


async def test_double_click_assigns_once(app: App) -> None:
    data = {"benefit_id": "vs-professional", "person_id": LEE_ID, "nonce": "card-1:assign_user:vs-professional"}
    _, first, _ = await app.client.execute(ALEX, "assign_user", data)
    _, second, _ = await app.client.execute(ALEX, "assign_user", data)
    assert len(current(app.service, "vs-professional")) == 1
    assert "is assigned to Lee Gu" in all_text(card_of(second)["body"][0])
    # a redelivered activity (same id) too
    activity = app.client.activity(ALEX, type="invoke", name="adaptiveCard/action", value={
        "action": {"type": "Action.Execute", "verb": "assign_user",
                   "data": {"action": "assign_user", "benefit_id": "vs-professional", "person_id": NESTOR_ID}}})
    await app.client.post(activity)
    await app.client.post(activity)
    assert sorted(a.person_id for a in current(app.service, "vs-professional")) == sorted([LEE_ID, NESTOR_ID])


async def test_two_admins_race_for_the_last_seat(app: App) -> None:
    second_admin = {**ISAIAH}
    alex = app.service.repo.person(ALEX_ID)
    assert alex is not None
    isaiah = app.service.repo.person(ISAIAH["aadObjectId"])
    assert isaiah is not None
    from domain.models import Role

    await app.service.set_roles(alex, isaiah.id, frozenset({Role.GLOBAL_ADMIN}))
    await app.service.assign(alex, "vs-enterprise", LEE_ID)
    await app.service.assign(alex, "vs-enterprise", NESTOR_ID)
    results = await asyncio.gather(
        app.client.execute(ALEX, "assign_user", {"benefit_id": "vs-enterprise", "person_id": DIEGO_ID}),
        app.client.execute(second_admin, "assign_user", {"benefit_id": "vs-enterprise", "person_id": MEGAN_ID}),
    )
    assert len(current(app.service, "vs-enterprise")) == 3
    notices = [all_text(card_of(body)["body"][0]) for _, body, _ in results]
    assert sum("is assigned to" in n for n in notices) == 1
    assert sum("Every seat" in n for n in notices) == 1


# --- technical ----------------------------------------------------------------------------------
async def test_technical_assignment_needs_a_different_alternate_email(app: App) -> None:
    base = {"benefit_id": "tech-support", "person-tech-support": LEE_ID}
    _, body, _ = await app.client.execute(ALEX, "assign_user", {**base, "alternate-tech-support": "leeg@contoso.com"})
    assert "different from the email address associated with your company's Partner Center account" in all_text(
        card_of(body))  # the refused form again, the reason under the alternate email
    _, body, _ = await app.client.execute(ALEX, "assign_user", {
        **base, "alternate-tech-support": "PartnerCenter@contoso.com"})
    assert "different from the email address" in all_text(card_of(body))
    _, body, _ = await app.client.execute(ALEX, "assign_user", {**base, "alternate-tech-support": "not-an-email"})
    assert "not-an-email is not a valid email address" in all_text(card_of(body))
    assert current(app.service, "tech-support") == []
    _, body, _ = await app.client.execute(ALEX, "assign_user", {**base, "alternate-tech-support": "lee@outlook.com"})
    card = card_of(body)
    assert "Note that it can take several days to activate this benefit" in all_text(card["body"][0])
    assert "Pending activation" in all_text(card)
    [a] = current(app.service, "tech-support")
    assert a.alternate_email == "lee@outlook.com" and a.status.value == "pending_activation"


async def test_technical_list_has_alternate_email_validation_in_the_card(app: App) -> None:
    _, body, _ = await app.client.execute(ALEX, "list_technical")
    dump = json.dumps(card_of(body))
    assert '"id": "alternate-tech-support"' in dump and '"regex"' in dump and "partnercenter@contoso.com" in dump
    assert '"verb": "request_assistance"' in dump


async def test_assistance_request_is_prepared_for_partner_center(app: App) -> None:
    _, body, _ = await app.client.execute(ALEX, "request_assistance", {"benefit_id": "tech-advisory"})
    form = card_of(body)
    dump = json.dumps(form)
    assert '"verb": "submit_assistance"' in dump and "app_development" in dump and "Submit request" in dump
    _, body, _ = await app.client.execute(ALEX, "submit_assistance", {
        "benefit_id": "tech-advisory", "phase": "design", "topic": "", "description": "x"})
    assert "Please fill in the topic" in all_text(card_of(body)["body"][0])
    _, body, _ = await app.client.execute(ALEX, "submit_assistance", {
        "benefit_id": "tech-advisory", "phase": "design", "topic": "Landing zone", "description": "Hub and spoke"})
    prepared = all_text(card_of(body))
    assert "Assistance request: Partner advisory hours" in prepared
    assert "Nothing has been sent to Microsoft yet" in prepared
    assert re.search(r"\b[A-Z]{2}-\d{8}-", prepared) is None  # no made-up reference number
    [request] = app.service.repo.requests()
    assert request.reference == "" and request.status.value == "prepared" and request.phase is not None
    assert request.phase.value == "design" and request.requested_by == ALEX_ID


async def test_text_commands_and_submit_fallback(app: App) -> None:
    app.client.locale = "zh-CN"
    card = cards_in(await app.client.say(ALEX, "获取密钥"))[0]
    assert "获取密钥" in all_text(card) and "软件" in all_text(card)
    app.client.locale = "en-US"
    replies = await app.client.submit(ALEX, {"action": "assign_user", "benefit_id": "vs-professional",
                                             "person-vs-professional": DIEGO_ID, "nonce": "fallback-1"})
    assert "is assigned to Diego Siciliani" in all_text(cards_in(replies)[0])
    assert [a.person_id for a in current(app.service, "vs-professional")] == [DIEGO_ID]
    for verb in ("visual studio", "cloud", "technical"):
        assert cards_in(await app.client.say(ALEX, verb))
